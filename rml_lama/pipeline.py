"""The main job, end to end on the embedded defaults: build the release, validate it, evaluate the localizers
on the shipped default model, and report.

The evaluation localizes on five core languages (en fr fi ja ko) and holds out one Latin-script and one
other-script language (hu, zh), scores at equal budgets on held-out rephrasings with the causal oracle as the
reference, on 100 facts of the test split, in two gloo worker processes (one thread each) when `--workers 2`.
Each step is the same `rml-lama` command a user would type, so the pipeline is the documentation. The full test
split: `rml-lama evaluate --langs en,fr,fi,ja,ko --holdout-langs hu,zh --facts 100000 --max-rephrasings 4
--out runs/full` (every eligible fact; resumable, and `torchrun --nproc-per-node N -m rml_lama.evaluation.run`
shares it across N processes).
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

from .cli import main
from .errors import RmlLamaError

LOCALIZATION_LANGS = ("en", "fr", "fi", "ja", "ko")
HOLDOUT_LANGS = ("hu", "zh")  # one Latin-script, one other-script language, never used to localize
LOCALIZERS = ("matrice", "amig", "kn", "activation", "random")


def steps(out: Path, facts: int, seed: int, max_rephrasings: int, threads: int) -> list[tuple[str, list[str]]]:
    release, results = out / "rml-lama", out / "results"
    return [
        ("build the release", ["build", "--out", str(release)]),
        ("validate it", ["validate", str(release), "--report-dir", str(out / "validation")]),
        ("evaluate the localizers on the default model", [
            "evaluate", "--release", str(release), "--localizers", ",".join(LOCALIZERS),
            "--langs", ",".join(LOCALIZATION_LANGS), "--holdout-langs", ",".join(HOLDOUT_LANGS),
            "--facts", str(facts), "--split", "test", "--max-rephrasings", str(max_rephrasings),
            "--threads", str(threads), "--out", str(results), "--seed", str(seed),
        ]),  # the evaluation writes and prints the report once (`rml-lama report DIR` rewrites it)
    ]


def _run_distributed(argv: list[str], workers: int) -> int:
    """`torchrun --standalone --nproc-per-node workers -m rml_lama.evaluation.run ARGS` (gloo on CPU)."""
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", str(workers),
               "-m", "rml_lama.evaluation.run", *argv[1:]]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    return subprocess.run(command, env=env).returncode


def cmd_pipeline(args: argparse.Namespace) -> int:

    out = Path(args.out)
    workers = max(1, int(getattr(args, "workers", 1) or 1))
    started = time.perf_counter()
    for number, (title, argv) in enumerate(steps(out, args.facts, args.seed, args.max_rephrasings, args.threads), start=1):
        distributed = argv[0] == "evaluate" and workers > 1
        shown = (f"torchrun --nproc-per-node {workers} -m rml_lama.evaluation.run {' '.join(argv[1:])}"
                 if distributed else f"rml-lama {' '.join(argv)}")
        print(f"\n== step {number}: {title}: {shown}", flush=True)
        step_started = time.perf_counter()
        code = _run_distributed(argv, workers) if distributed else main(argv)
        print(f"== step {number} finished in {time.perf_counter() - step_started:.0f} s (exit {code})", flush=True)
        if code != 0:
            raise RmlLamaError(f"step {number} ({title}) failed with exit code {code}")
    print(f"\npipeline done in {time.perf_counter() - started:.0f} s; everything is under {out}/")
    return 0
