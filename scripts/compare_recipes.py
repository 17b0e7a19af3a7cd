#!/usr/bin/env python
"""Train the default model once per sharing recipe and write every training report to one JSON file.

The recipes are options of rml_lama.testbeds.train.TrainConfig (see rml_lama/testbeds/transfer.py). Each
recipe is one process; they run in parallel, so use a GPU or many cores:

    python scripts/compare_recipes.py --steps 8000 --device cuda --out recipes.json [--release R.parquet]

The shipped comparison (docs/models.md, docs/results/recipes_c44ee7ab.json) was run this way
on one H200 (13 processes at once); GPU runs are not bit-identical to CPU ones.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

RECIPE_OFF = {"align_weight": 0.0, "code_switch_share": 0.0, "dictionary_per_entity": 0, "translation_per_fact_lang": 0}
RECIPES = {
    "plain": {"code_switch_share": 0.0},
    "align": {"code_switch_share": 0.0, "align_weight": 1.0},
    "align_b0": {"code_switch_share": 0.0, "align_weight": 1.0, "align_after_block": 0},
    "cs": {"code_switch_share": 0.5},  # the shipped default before align_cs
    "trans": {"code_switch_share": 0.0, "translation_per_fact_lang": 1},
    "dict": {"code_switch_share": 0.0, "dictionary_per_entity": 6},
    "align_cs": {"align_weight": 1.0, "code_switch_share": 0.5},
    "align_dict": {"code_switch_share": 0.0, "align_weight": 1.0, "dictionary_per_entity": 6},
    "dict_cs": {"dictionary_per_entity": 6, "code_switch_share": 0.5},
    "cs_trans": {"code_switch_share": 0.5, "translation_per_fact_lang": 1},
    "align_cs_dict": {"align_weight": 1.0, "code_switch_share": 0.5, "dictionary_per_entity": 6},
    "all": {"align_weight": 1.0, "code_switch_share": 0.5, "translation_per_fact_lang": 1, "dictionary_per_entity": 6},
    "all_cs1": {"align_weight": 1.0, "code_switch_share": 1.0, "translation_per_fact_lang": 1,
                "dictionary_per_entity": 6},
}


def run_one(name: str, steps: int, device: str, release: str, out: str) -> None:
    from rml_lama.testbeds.facts import read_facts_frame
    from rml_lama.testbeds.train import TrainConfig, train_default_model

    # every recipe names all of its switches: the defaults (the shipped recipe) do not leak into the others
    config = TrainConfig(max_steps=steps, device=device, **{**RECIPE_OFF, **RECIPES[name]})
    frame = read_facts_frame(release or None, config.langs)
    result = train_default_model(frame, config, progress=False)
    Path(out).write_text(json.dumps(result.report), encoding="utf-8")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=8000)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--release", default="", help="release folder or .parquet (default: the shipped release)")
    parser.add_argument("--recipes", default=",".join(RECIPES))
    parser.add_argument("--out", required=True)
    parser.add_argument("--one", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--one-out", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        run_one(args.one, args.steps, args.device, args.release, args.one_out)
        return 0
    names = [n for n in args.recipes.split(",") if n]
    tmp = Path(tempfile.mkdtemp(prefix="recipes-"))
    started = time.time()
    procs = {n: subprocess.Popen([sys.executable, __file__, "--one", n, "--one-out", str(tmp / f"{n}.json"),
                                  "--steps", str(args.steps), "--device", args.device, "--release", args.release],
                                 stdout=open(tmp / f"{n}.log", "w"), stderr=subprocess.STDOUT) for n in names}
    reports = {}
    for name, proc in procs.items():
        proc.wait()
        path = tmp / f"{name}.json"
        reports[name] = (json.loads(path.read_text()) if path.exists()
                         else {"error": (tmp / f"{name}.log").read_text()[-3000:]})
        print(f"{name} done after {time.time() - started:.0f} s", flush=True)
    Path(args.out).write_text(json.dumps(reports), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
