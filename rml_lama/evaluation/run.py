"""The evaluation run: localize knowledge neurons with each localizer and score them, fact by fact.

    rml-lama evaluate --model M --localizers matrice,amig,kn,random --langs en,fr,... --facts 200 --out DIR
    torchrun --nproc-per-node 2 -m rml_lama.evaluate --out DIR ...      (same arguments; gloo on CPU)

Rank R of W takes the facts at positions i with i % W == R of the seeded fact order. A killed run resumes:
every (fact, localizer) already in any shard is skipped, and a truncated last line is dropped first.
Attributions are computed once per fact and baseline, and shared by every localizer that reads them.
The folder's layout is rml_lama.evaluation.store's.
"""
from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Optional

import pandas as pd

from ..dataset.release import read_release, release_checksum, release_languages
from ..errors import RmlLamaError
from ..models import load_model
from ..models.bundle import check_model_path, config_layers, model_config
from ..paths import DEFAULT_MODEL_DIR, MODEL_CONFIG_FILE, SHIPPED_RELEASE, TRUTH_FILE, shard_path
from .localize import LocalizerSet
from .options import EvalOptions, check_langs, check_layers, options_from_args, run_config
from .protocol import ORACLE, evaluate_fact
from .report import write_report
from .sampling import plan_run
from .store import (
    ShardWriter,
    check_config,
    model_facts,
    read_all_records,
    read_truth,
    run_folder,
    write_or_check_config,
    write_plan,
)


def run_evaluation(bundle, frame: pd.DataFrame, options: EvalOptions, out: Path, config: dict,
                   model_facts: Optional[Sequence[str]] = None, truth: Optional[dict] = None,
                   rank: int = 0, world: int = 1, progress: bool = True) -> int:
    """Evaluate every (fact, localizer) of this rank not yet in `out`; returns the number of lines written."""
    from tqdm.auto import tqdm

    out = Path(out)
    write_or_check_config(out, config)
    plan = plan_run(bundle, frame, options, model_facts, truth)
    write_plan(out, [fact.fact_id for fact in plan.facts])
    mine = [fact for index, fact in enumerate(plan.facts) if index % world == rank]
    done = {(r["fact_id"], r["localizer"]) for r in read_all_records(out)}
    names = options.localizers + ((ORACLE,) if options.oracle else ())
    todo = [fact for fact in mine if any((fact.fact_id, name) not in done for name in names)]
    localizers = LocalizerSet.create(options.localizers, options.seed)
    written = 0
    writer = ShardWriter(shard_path(out, rank))
    bar = tqdm(total=len(mine), initial=len(mine) - len(todo), unit="fact", disable=not progress,
               desc=f"evaluate (rank {rank}/{world})" if world > 1 else "evaluate", dynamic_ncols=True)
    try:
        for fact in todo:
            for record in evaluate_fact(bundle, fact, plan, localizers, options, done, rank):
                writer.write(record)
                written += 1
            bar.update(1)
    finally:
        bar.close()
        writer.close()
    return written


def _distributed() -> tuple[int, int]:
    """(rank, world size) from torchrun's environment; initialises a gloo/nccl group when world > 1."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    if world > 1:
        import torch.distributed as dist

        if not dist.is_initialized():
            dist.init_process_group("gloo")
    return rank, world


def _barrier(world: int) -> None:
    if world > 1:
        import torch.distributed as dist

        dist.barrier()


@dataclass
class RunInputs:
    """What `rml-lama evaluate` resolved from its arguments, before loading the model."""

    options: EvalOptions
    release_dir: Path
    model_id: str
    truth_path: Optional[Path]
    truth: Optional[dict]


def resolve_inputs(args: argparse.Namespace) -> RunInputs:
    """Options, release, model and planted truth from the arguments, each checked (one clear error each)."""

    options = options_from_args(args)
    if not options.langs:
        raise RmlLamaError("--langs: give at least one language")
    overlap = set(options.langs) & set(options.holdout_langs)
    if overlap:
        raise RmlLamaError(f"--holdout-langs {', '.join(sorted(overlap))} also in --langs; held-out means not used")
    release_dir = Path(args.release) if args.release else SHIPPED_RELEASE
    available = release_languages(release_dir)
    check_langs(options.langs, available, "--langs")
    check_langs(options.holdout_langs, available, "--holdout-langs")
    if getattr(args, "threads", None) is not None and args.threads < 1:
        raise RmlLamaError(f"--threads {args.threads}: must be at least 1")
    if args.model:
        check_model_path(args.model)  # a mistyped local path: one line now, not a Hub lookup with retries
        model_id = args.model
    else:
        model_id = str(DEFAULT_MODEL_DIR)
        if not Path(model_id, MODEL_CONFIG_FILE).is_file():
            raise RmlLamaError(f"no default model at {model_id}; train it (`rml-lama train-model`) or pass --model")
    truth_path = Path(args.planted) if args.planted else (Path(model_id) / TRUTH_FILE)
    if args.planted and not truth_path.is_file():
        raise RmlLamaError(f"--planted {args.planted}: no such file")
    truth = read_truth(truth_path) if truth_path.is_file() else None
    if truth and args.facts is None:  # a planted model: by default its planted facts, the ones with a truth
        options = replace(options, facts=max(1, len({plant["fact_id"] for plant in truth["plants"]})))
    return RunInputs(options, release_dir, model_id, truth_path if truth else None, truth)


def known_facts(model_id: str, truth: Optional[dict]) -> Optional[list[str]]:
    """The facts the model was taught (its fact list; a planted model without one: its base model's)."""
    model_dir = Path(model_id)
    facts = model_facts(model_dir) if model_dir.is_dir() else None
    base = Path(str((truth or {}).get("base_model") or ""))
    if facts is None and truth and base.is_dir():
        facts = model_facts(base)
    return facts


def cmd_evaluate(args: argparse.Namespace) -> int:
    """`rml-lama evaluate`: resolve model, release and options, run this rank's share, report at the end."""

    inputs = resolve_inputs(args)
    options = inputs.options
    config = run_config(options, inputs.model_id, release_checksum(inputs.release_dir),
                        str(inputs.truth_path) if inputs.truth_path else None)
    out = Path(args.out)
    check_config(out, config)  # a folder of another run: refused before loading anything (nothing written)
    check_layers(options.layers, config_layers(model_config(inputs.model_id)), args.layers)
    rank, world = _distributed()
    with run_folder(out, rank) as lock:  # one writer per shard; config.json only once the model has loaded
        if lock.took_over:
            print(f"note: took over the lock of process {lock.took_over}, which is gone", file=sys.stderr)
        if args.threads:
            import torch

            torch.set_num_threads(args.threads)
        bundle = load_model(inputs.model_id, device=args.device)
        check_layers(options.layers, bundle.n_layers, args.layers)
        frame = read_release(inputs.release_dir, langs=list(options.langs + options.holdout_langs))
        written = run_evaluation(bundle, frame, options, out, config, known_facts(inputs.model_id, inputs.truth),
                                 inputs.truth, rank, world)
        print(f"rank {rank}: wrote {written} result lines to {shard_path(out, rank)}", file=sys.stderr)
        _barrier(world)
        if rank == 0:
            write_report(out, print_table=True)
    return 0


def main(argv: Optional[Sequence[str]] = None) -> int:
    """`python -m rml_lama.evaluate ARGS` (for torchrun): the same arguments as `rml-lama evaluate`."""
    from ..cli import build_parser  # cli maps commands to this module by name; imported here, no cycle

    args = build_parser().parse_args(["evaluate", *(sys.argv[1:] if argv is None else argv)])
    try:
        return cmd_evaluate(args)
    except RmlLamaError as error:
        print(f"rml-lama evaluate: error: {error}", file=sys.stderr)
        return 2
    finally:
        if int(os.environ.get("WORLD_SIZE", "1")) > 1:
            import torch.distributed as dist

            if dist.is_initialized():
                dist.destroy_process_group()


if __name__ == "__main__":
    sys.exit(main())
