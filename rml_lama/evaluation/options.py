"""The options of an evaluation run: what determines its results (recorded in and compared with config.json),
parsed from the command line and checked before anything is loaded."""
from __future__ import annotations

import argparse
from collections.abc import Sequence
from dataclasses import dataclass, fields
from typing import Optional

from .._version import __version__
from ..errors import RmlLamaError
from ..localizers import LOCALIZERS
from ..localizers.budget import BUDGETS
from ..schema import LANGUAGES


@dataclass(frozen=True)
class EvalOptions:
    """Everything that determines the results of a run (what config.json records and compares)."""

    localizers: tuple[str, ...]
    langs: tuple[str, ...]
    holdout_langs: tuple[str, ...] = ()
    facts: int = 200
    facts_per_relation: Optional[int] = None
    max_rephrasings: Optional[int] = None
    max_candidates: Optional[int] = None
    min_prob: float = 1e-4  # queries with a smaller gold probability are left out of relative changes
    split: Optional[str] = "test"
    steps: int = 20
    layers: Optional[tuple[int, ...]] = None
    seed: int = 0
    budgets: tuple[int, ...] = BUDGETS  # equal budgets: neurons per (fact, language) and per fact (agnostic)
    random_draws: int = 3  # random draws per fact and budget
    oracle: bool = True  # the causal oracle (single-neuron ablations on the scoring queries)
    oracle_pool: Optional[int] = None  # None: every neuron; N: each ranking's top N plus N random (large models)
    oracle_hurt: float = 0.01  # nats per token, in every language: language-agnostic by the oracle
    heldout: bool = True  # localize on one seeded half of the rephrasings, score on the other
    internal_batch_size: int = 64  # budget only: not part of the run's identity

    def identity(self) -> dict:
        return run_identity(self)


BUDGET_ONLY = ("internal_batch_size",)  # fields that change how fast a run goes, never what it finds


def run_identity(options) -> dict:
    """Options as config.json records and compares them: tuples as lists, budget-only fields left out."""
    data = {key: (list(value) if isinstance(value, tuple) else value) for key, value in vars(options).items()}
    for name in BUDGET_ONLY:
        data.pop(name, None)
    return data


def eval_options_from(options, **overrides) -> EvalOptions:
    """The EvalOptions of another study's options: every field of the same name (fact sampling, attribution
    budget), the rest at EvalOptions' defaults, then `overrides`."""
    names = {f.name for f in fields(EvalOptions)}
    return EvalOptions(**{**{k: v for k, v in vars(options).items() if k in names}, **overrides})


def parse_list(text: Optional[str]) -> tuple[str, ...]:
    return tuple(part.strip() for part in (text or "").split(",") if part.strip())


def parse_layers(text: Optional[str]) -> Optional[tuple[int, ...]]:
    """"0-5" -> (0, ..., 5); "2,4,6" -> (2, 4, 6); None -> all layers."""
    if not text:
        return None
    layers: list[int] = []
    try:
        for part in parse_list(text):
            if "-" in part:
                first, last = (int(x) for x in part.split("-", 1))
                if last < first:
                    raise RmlLamaError(f"--layers {text!r}: the range {part} is empty (write low-high)")
                layers.extend(range(first, last + 1))
            else:
                layers.append(int(part))
    except ValueError:
        raise RmlLamaError(f"--layers {text!r}: expected a range like 0-5 or a list like 2,4,6") from None
    return tuple(sorted(set(layers)))


def check_localizers(names: Sequence[str]) -> tuple[str, ...]:
    unknown = [name for name in names if name not in LOCALIZERS]
    if unknown or not names:
        raise RmlLamaError(
            f"unknown localizer(s) {', '.join(map(repr, unknown)) or '(none given)'}; known: {', '.join(LOCALIZERS)}"
        )
    return tuple(dict.fromkeys(names))


def check_langs(langs: Sequence[str], available: Sequence[str], what: str) -> None:
    unknown = [lang for lang in langs if lang not in LANGUAGES]
    if unknown:
        raise RmlLamaError(f"{what}: unknown language(s) {', '.join(unknown)}; known: {', '.join(LANGUAGES)}")
    missing = [lang for lang in langs if lang not in available]
    if missing:
        raise RmlLamaError(f"{what}: language(s) {', '.join(missing)} not in the release; it has {', '.join(available)}")


DEFAULT_FACTS = 200  # without --facts: this many, or a planted model's planted facts


def check_budget(options: EvalOptions) -> None:
    """The numeric options, checked before anything is loaded (one line each)."""
    at_least = {"--facts": (options.facts, 1), "--steps": (options.steps, 1),
                "--facts-per-relation": (options.facts_per_relation, 1),
                "--max-rephrasings": (options.max_rephrasings, 1), "--max-candidates": (options.max_candidates, 2),
                "--internal-batch-size": (options.internal_batch_size, 1)}
    for flag, (value, low) in at_least.items():
        if value is not None and value < low:
            raise RmlLamaError(f"{flag} {value}: must be at least {low}")
    if not 0 <= options.min_prob < 1:
        raise RmlLamaError(f"--min-prob {options.min_prob}: must be in [0, 1)")
    if options.layers is not None and min(options.layers) < 0:
        raise RmlLamaError(f"--layers: layer {min(options.layers)} is negative; layers count from 0")


def check_layers(layers: Optional[tuple[int, ...]], n_layers: Optional[int], text: Optional[str]) -> None:
    if layers and n_layers is not None and max(layers) >= n_layers:
        raise RmlLamaError(f"--layers {text}: the model has {n_layers} layers, 0-{n_layers - 1}")


def options_from_args(args: argparse.Namespace) -> EvalOptions:
    """The run's options from the command line, checked (localizer names, numbers) before anything loads."""
    options = _options_from_args(args)
    check_budget(options)
    return options


def _options_from_args(args: argparse.Namespace) -> EvalOptions:
    return EvalOptions(
        localizers=check_localizers(parse_list(args.localizers)),
        langs=parse_list(args.langs),
        holdout_langs=parse_list(args.holdout_langs),
        facts=DEFAULT_FACTS if args.facts is None else args.facts,
        facts_per_relation=args.facts_per_relation,
        max_rephrasings=args.max_rephrasings,
        max_candidates=getattr(args, "max_candidates", None),
        min_prob=getattr(args, "min_prob", 1e-4),
        split=args.split,
        steps=args.steps,
        layers=parse_layers(args.layers),
        seed=args.seed,
        budgets=parse_budgets(getattr(args, "budgets", None)),
        random_draws=getattr(args, "random_draws", 3),
        oracle=not getattr(args, "no_oracle", False),
        oracle_pool=getattr(args, "oracle_pool", None),
        oracle_hurt=getattr(args, "oracle_hurt", 0.01),
        heldout=not getattr(args, "in_sample", False),
        internal_batch_size=args.internal_batch_size,
    )


def parse_budgets(text: Optional[str]) -> tuple[int, ...]:
    """"1,3,5" -> (1, 3, 5); None -> the default budgets."""
    if not text:
        return BUDGETS
    try:
        budgets = tuple(sorted({int(part) for part in parse_list(text)}))
    except ValueError:
        budgets = ()
    if not budgets or budgets[0] < 1:
        raise RmlLamaError(f"--budgets {text!r}: expected positive integers like 1,3,5,10,20")
    return budgets


def run_config(options: EvalOptions, model_id: str, release_checksum: str, truth_path: Optional[str]) -> dict:
    return {
        "options": options.identity(),
        "localizer_params": {name: LOCALIZERS[name].create(seed=options.seed).params() for name in options.localizers},
        "model": model_id,
        "release_checksum": release_checksum,
        "planted": truth_path,
        "package_version": __version__,
    }


