"""`torchrun --nproc-per-node 2 -m rml_lama.evaluate`: two gloo processes share the facts, each writes its
shard, rank 0 merges them into the report; together they equal one single-process run."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from rml_lama.dataset.release import write_release
from rml_lama.evaluation.store import read_all_records
from rml_lama.paths import shard_path
from rml_lama.testbeds.tiny import tiny_tokenizer
from tests.support.planted import planted_bundle, records

ROOT = Path(__file__).resolve().parents[1]


def evaluate_args(model: Path, release: Path, out: Path) -> list[str]:
    return ["--model", str(model), "--release", str(release), "--langs", "en,fr,fi", "--localizers", "kn,random",
            "--facts", "3", "--steps", "2", "--threads", "1", "--out", str(out)]


@pytest.mark.slow
def test_two_gloo_ranks_write_disjoint_shards_that_merge_into_one_run(tmp_path):
    model = tmp_path / "model"
    planted_bundle().model.save_pretrained(model)
    tiny_tokenizer().save_pretrained(model)
    release = write_release(records(), tmp_path / "release")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2",
               "-m", "rml_lama.evaluation.run", *evaluate_args(model, release, tmp_path / "dist")]
    done = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    dist = tmp_path / "dist"
    facts = [{json.loads(line)["fact_id"] for line in shard_path(dist, rank).read_text().splitlines()} for rank in (0, 1)]
    assert facts[0] and facts[1] and not facts[0] & facts[1]
    assert json.loads((dist / "summary.json").read_text())["localizers"]["kn"]["facts"] == 3
    assert "| kn |" in done.stdout

    single = subprocess.run([sys.executable, "-m", "rml_lama.evaluation.run", *evaluate_args(model, release, tmp_path / "one")],
                            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert single.returncode == 0, single.stderr[-3000:]
    strip = lambda out: {(r["fact_id"], r["localizer"]): {k: v for k, v in r.items() if k != "rank"}
                         for r in read_all_records(out)}
    assert strip(dist) == strip(tmp_path / "one")
