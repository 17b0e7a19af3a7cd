"""The GPU benchmark's code path, on the CPU at tiny shapes: it runs, checks against float32 CPU results and
writes its JSON to $OUT."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_bench_cuda_runs_on_cpu_at_a_tiny_shape(tmp_path):
    command = [sys.executable, str(ROOT / "benchmarks" / "bench_cuda.py"), "--device", "cpu", "--tiny",
               "--queries", "2", "--steps", "2", "--pool", "8"]
    done = subprocess.run(command, cwd=tmp_path, env={"OUT": str(tmp_path / "out"), "PATH": "/usr/bin:/bin",
                                                      "OMP_NUM_THREADS": "1"},
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    report = json.loads((tmp_path / "out" / "bench_cuda.json").read_text())
    check = report["check_against_cpu"]
    assert check["float32"]["engine_rel_err"] < 1e-5 and check["float32"]["oracle_rel_err"] < 1e-5
    assert check["bf16"]["engine_rel_err"] < 0.1  # bf16 weights, float32 accumulation
    assert [row["model"] for row in report["models"]] == ["qwen2-0.5b", "llama-7b"]
    assert all(row["facts_per_hour"] > 0 and row["oracle_pool_neurons"] <= 2 * 8 + 8 for row in report["models"])
