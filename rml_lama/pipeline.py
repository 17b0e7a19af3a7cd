"""The main job, end to end on the embedded defaults: build the release, validate it, evaluate the localizers
on the shipped default model for a sample of facts in the core languages, and report.

Each step is the same `rml-lama` command a user would type, so the pipeline is the documentation."""
from __future__ import annotations

import argparse
import time
from pathlib import Path

from .cli import main
from .errors import RmlLamaError
from .schema import CORE_LANGUAGES


def steps(out: Path, facts: int, seed: int, max_rephrasings: int, threads: int) -> list[tuple[str, list[str]]]:
    release, results = out / "rml-lama", out / "results"
    return [
        ("build the release", ["build", "--out", str(release)]),
        ("validate it", ["validate", str(release), "--report-dir", str(out / "validation")]),
        ("evaluate the localizers on the default model", [
            "evaluate", "--release", str(release), "--localizers", "matrice,amig,kn,random",
            "--langs", ",".join(CORE_LANGUAGES), "--facts", str(facts), "--split", "test",
            "--max-rephrasings", str(max_rephrasings), "--threads", str(threads),
            "--out", str(results), "--seed", str(seed),
        ]),
        ("report", ["report", str(results)]),
    ]


def cmd_pipeline(args: argparse.Namespace) -> int:

    out = Path(args.out)
    started = time.perf_counter()
    for number, (title, argv) in enumerate(steps(out, args.facts, args.seed, args.max_rephrasings, args.threads), start=1):
        print(f"\n== step {number}: {title}: rml-lama {' '.join(argv)}", flush=True)
        step_started = time.perf_counter()
        code = main(argv)
        print(f"== step {number} finished in {time.perf_counter() - step_started:.0f} s (exit {code})", flush=True)
        if code != 0:
            raise RmlLamaError(f"step {number} ({title}) failed with exit code {code}")
    print(f"\npipeline done in {time.perf_counter() - started:.0f} s; everything is under {out}/")
    return 0
