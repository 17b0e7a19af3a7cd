"""`rml-lama enhance`: knowledge enhancement through the language-agnostic neurons found from the languages a model
gets right.

A fact is eligible when the model answers it in some languages and not in others: a language is *right* when
the gold object is ranked first among the relation's candidates on at least half of the fact's rephrasings in
that language, *wrong* otherwise. The localizer runs on the right languages' rephrasings at even positions;
its language-agnostic neurons (with a single right language: that language's neurons; arm `found`) and, as a
second arm, every neuron it found for any right language (`union`) are amplified by each factor k of
`--factors`, in two modes:

    activation   the neurons' activations x k at the answer positions (Dai et al.'s enhancement, k = 2)
    weight       the neurons' value vectors x k (a weight edit: acts at every position, undone after)

and compared with as many random neurons (uniform over the attributed layers; arms `random`, `union-random`),
and on planted models with the planted neurons (`planted`). Measured per language, before
and after: accuracy (gold ranked first), mean relative change of P(gold) (queries with P >= --min-prob), and
the same on one unrelated fact's query per measured query (the cost). Right languages are measured on their
held-out rephrasings (odd positions), wrong languages on all of theirs (never seen by the localizer).
"""
from __future__ import annotations

import argparse
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import numpy as np

from ..errors import RmlLamaError
from ..evaluation.metrics import accuracy, mean_relative_change
from ..evaluation.options import eval_options_from, parse_layers, parse_list, run_identity
from ..evaluation.sampling import candidates_for, plan_run, unrelated_queries
from ..localizers.base import seeded_rng
from ..models import scale_neurons
from ..probing.ranking import CandidateRanker, ProbeSet, neuron_map
from ..probing.targets import Probe
from .common import (
    Loop,
    StudyInputs,
    attribute_fact,
    check_study_localizers,
    halves,
    localize,
    localizer_objects,
    parse_floats,
    planted_neurons,
    random_like,
    run_study,
)
from .weights import scaled_value_vectors

STUDY = "enhance"
MODES = ("activation", "weight")
ENHANCE_ARMS = ("found", "random", "union", "union-random", "planted")
RIGHT_SHARE = 0.5  # a language is right when the gold ranks first on at least this share of its rephrasings


@dataclass(frozen=True)
class EnhanceOptions:
    localizers: tuple[str, ...]
    langs: tuple[str, ...]
    facts: int = 100
    factors: tuple[float, ...] = (1.5, 2.0, 4.0)
    modes: tuple[str, ...] = MODES
    facts_per_relation: Optional[int] = None
    max_rephrasings: Optional[int] = None
    max_candidates: Optional[int] = None
    min_prob: float = 1e-4
    split: Optional[str] = "test"
    steps: int = 20
    layers: Optional[tuple[int, ...]] = None
    seed: int = 0
    internal_batch_size: int = 64  # budget only

    def identity(self) -> dict:
        return run_identity(self)

    def eval_options(self, facts: Optional[int] = None):
        return eval_options_from(self, facts=facts or self.facts)


class Measure:
    """A fact's measured queries and their unrelated partners, encoded once (the project's ranker and gold
    probabilities), measured under whatever intervention is active."""

    def __init__(self, bundle, pairs: dict[str, list[tuple[str, str]]], unrelated: dict[str, list[tuple[str, str]]],
                 candidate_sets: dict, relation_of: dict[tuple[str, str], str], cap: Optional[int], rng):
        self.langs = list(pairs)
        self.rows: dict[tuple[str, str], list[int]] = {}
        probes, candidates = [], []
        for lang in self.langs:
            for part, items in (("own", pairs[lang]), ("unrelated", unrelated.get(lang, []))):
                self.rows[(lang, part)] = list(range(len(probes), len(probes) + len(items)))
                for query, answer in items:
                    probes.append(Probe(query, answer))
                    relation = relation_of[(query, answer)]
                    candidates.append(candidates_for(candidate_sets.get((relation, lang), [answer]), answer, cap, rng))
        self.probes = ProbeSet(bundle, probes)
        self.ranker = CandidateRanker(bundle, probes, candidates)

    def measure(self) -> dict[str, dict[str, tuple[np.ndarray, np.ndarray]]]:
        """lang -> part ("own" / "unrelated") -> (gold probabilities, gold ranks)."""
        probs = self.probes.probs_with([], 1.0)
        ranks = self.ranker.ranks()
        return {lang: {part: (probs[self.rows[(lang, part)]], ranks[self.rows[(lang, part)]])
                       for part in ("own", "unrelated")} for lang in self.langs}


def right_languages(bundle, fact, candidate_sets: dict, options: EnhanceOptions) -> dict[str, float]:
    """lang -> accuracy of the unedited model over all of the fact's rephrasings in that language."""
    rng = seeded_rng(options.seed, fact.fact_id, "eligibility")
    probes, candidates, owner = [], [], []
    for lang in options.langs:
        for query, answer in fact.by_lang[lang]:
            probes.append(Probe(query, answer))
            candidates.append(candidates_for(candidate_sets.get((fact.relation, lang), [answer]), answer,
                                             options.max_candidates, rng))
            owner.append(lang)
    ranks = CandidateRanker(bundle, probes, candidates).ranks()
    return {lang: float(np.mean([r == 0 for r, o in zip(ranks, owner) if o == lang])) for lang in options.langs}


def eligible_facts(bundle, plan, options: EnhanceOptions, progress: bool = True) -> list[tuple[object, dict]]:
    """The first `options.facts` facts of the seeded order answered right in some languages and wrong in others,
    with each language's accuracy."""
    from tqdm.auto import tqdm  # imported when a study runs (progress bars only)

    chosen = []
    bar = tqdm(total=options.facts, desc="enhance: eligible facts", unit="fact", disable=not progress)
    try:
        for fact in plan.facts:
            accuracy = right_languages(bundle, fact, plan.candidate_sets, options)
            right = [lang for lang, acc in accuracy.items() if acc >= RIGHT_SHARE]
            if right and len(right) < len(options.langs):
                chosen.append((fact, accuracy))
                bar.update(1)
                if len(chosen) >= options.facts:
                    break
    finally:
        bar.close()
    return chosen


def _mode_context(bundle, mode: str, neurons, factor: float):
    if not neurons:
        return nullcontext()
    if mode == "activation":
        return scale_neurons(bundle, neuron_map(neurons), factor)
    return scaled_value_vectors(bundle, neurons, factor)


def _figures(before: dict, after: dict, min_prob: float) -> dict[str, dict]:
    out = {}
    for lang in before:
        (p0, r0), (p1, r1) = before[lang]["own"], after[lang]["own"]
        (u0, s0), (u1, s1) = before[lang]["unrelated"], after[lang]["unrelated"]
        out[lang] = {"accuracy": accuracy(r1), "accuracy_before": accuracy(r0),
                     "rel_change": mean_relative_change(p0, p1, min_prob),
                     "unrelated_accuracy": accuracy(s1), "unrelated_accuracy_before": accuracy(s0),
                     "unrelated_rel_change": mean_relative_change(u0, u1, min_prob)}
    return out


def run_enhance(inputs: StudyInputs, options: EnhanceOptions, out: Path, config: dict, progress: bool = True,
                rank: int = 0, world: int = 1) -> int:
    bundle = inputs.bundle
    plan = plan_run(bundle, inputs.frame, options.eval_options(facts=10 ** 9), inputs.model_facts, inputs.truth)
    chosen = eligible_facts(bundle, plan, options, progress)
    if not chosen:
        raise RmlLamaError("no fact is answered right in some of the languages and wrong in others "
                           f"({len(plan.facts)} facts checked in {', '.join(options.langs)})")
    by_id = {fact.fact_id: (fact, accuracy) for fact, accuracy in chosen}
    relation_of = {pair: f.relation for f in plan.pool.values() for pairs in f.by_lang.values() for pair in pairs}
    pool_ids = sorted(plan.pool)
    localizers = {loc.name: loc for loc in localizer_objects(options.localizers, options.seed)}
    loop = Loop(out, config, options.localizers, rank, world)
    loop.start()

    def work(fact_id: str, missing: list[str]) -> list[dict]:
        fact, accuracy = by_id[fact_id]
        right = [lang for lang in options.langs if accuracy[lang] >= RIGHT_SHARE]
        wrong = [lang for lang in options.langs if lang not in right]
        used = {lang: halves(fact.by_lang[lang])[0] for lang in right}
        measured = {lang: (halves(fact.by_lang[lang])[1] if lang in right else list(fact.by_lang[lang]))
                    for lang in options.langs}
        measured_fact = type(fact)(fact.fact_id, fact.relation, fact.obj_uri, measured)
        unrelated = unrelated_queries(measured_fact, plan.pool, pool_ids, options.langs, options.seed,
                                      plan.probe_filter.ok)
        measure = Measure(bundle, measured, unrelated, plan.candidate_sets, relation_of, options.max_candidates,
                          seeded_rng(options.seed, fact_id, "candidates"))
        before = measure.measure()
        used_fact = type(fact)(fact.fact_id, fact.relation, fact.obj_uri, used)
        attributions = attribute_fact(bundle, used_fact, right, [localizers[n] for n in missing],
                                      options.eval_options())
        plants = planted_neurons(inputs.truth, fact_id)
        cache: dict[tuple, dict] = {}
        records = []
        for name in missing:
            localization = localize(localizers[name], attributions, right)
            found = sorted(set(localization.agnostic) if len(right) > 1 else
                           set(localization.per_lang.get(right[0], [])) | set(localization.agnostic))
            union = sorted(set(found).union(*(localization.per_lang.get(lang, []) for lang in right)))
            arms = {"found": found,
                    "random": random_like(found, attributions.layers, attributions.d_ff,
                                          seeded_rng(options.seed, fact_id, name, "random"), same_layers=False),
                    "union": union,
                    "union-random": random_like(union, attributions.layers, attributions.d_ff,
                                                seeded_rng(options.seed, fact_id, name, "union-random"),
                                                same_layers=False)}
            if plants:
                arms["planted"] = sorted({tuple(n) for _, _, ns in plants for n in ns})
            results: dict = {}
            for mode in options.modes:
                for factor in options.factors:
                    for arm, neurons in arms.items():
                        key = (mode, factor, frozenset(neurons))
                        if key not in cache:
                            with _mode_context(bundle, mode, neurons, factor):
                                cache[key] = _figures(before, measure.measure(), options.min_prob)
                        results.setdefault(mode, {}).setdefault(str(factor), {})[arm] = {
                            "no_neurons": not neurons, "langs": cache[key]}
            records.append({"fact_id": fact_id, "relation": fact.relation, "localizer": name, "study": STUDY,
                            "outcome": "enhanced" if found else "no_neurons", "right_langs": right,
                            "wrong_langs": wrong, "accuracy_all_queries": accuracy,
                            "neurons": {arm: [list(n) for n in ns] for arm, ns in arms.items()},
                            "results": results})
        return records

    return loop.run(list(by_id), work, "enhance", progress)


def options_from_args(args: argparse.Namespace) -> EnhanceOptions:
    modes = parse_list(args.modes) or MODES
    unknown = [m for m in modes if m not in MODES]
    if unknown:
        raise RmlLamaError(f"--modes: unknown mode(s) {', '.join(unknown)}; known: {', '.join(MODES)}")
    factors = parse_floats(args.factors, "--factors")
    if any(k < 0 for k in factors):
        raise RmlLamaError(f"--factors {args.factors}: factors must be >= 0")
    langs = parse_list(args.langs)
    if len(langs) < 2:
        raise RmlLamaError("--langs: enhancement needs at least two languages (right ones and wrong ones)")
    if args.facts < 1:
        raise RmlLamaError("--facts must be at least 1")
    return EnhanceOptions(
        localizers=check_study_localizers(parse_list(args.localizer)), langs=langs, facts=args.facts,
        factors=factors, modes=tuple(m for m in MODES if m in modes), facts_per_relation=args.facts_per_relation,
        max_rephrasings=args.max_rephrasings, max_candidates=args.max_candidates, min_prob=args.min_prob,
        split=args.split, steps=args.steps, layers=parse_layers(args.layers), seed=args.seed,
        internal_batch_size=args.internal_batch_size)


def cmd_enhance(args: argparse.Namespace) -> int:
    options = options_from_args(args)
    return run_study(args, STUDY, options, lambda loaded, config: run_enhance(loaded, options, Path(args.out), config))
