"""Scoring neuron sets of one fact: effects on the held-out (scoring) queries, on the held-out languages and on
unrelated queries (batched through evaluation/effects.py), precision against the oracle, accuracy by candidate
ranking (FactScorer), and the result line written for a localizer."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Optional

import numpy as np

from ..localizers import Localization
from ..probing.ranking import CandidateRanker, ProbeSet
from ..probing.targets import probes_of
from .metrics import (
    INTERVENTIONS,
    ground_truth_scores,
    language_overlap,
    layer_distribution,
    nan_mean,
    neuron_counts,
    stability,
)
from .sampling import FactQueries
from .store import rounded


@dataclass
class FactProbes:
    """The probes a fact is scored on (own and unrelated, per language) and the candidates for accuracy."""

    own: dict[str, list]
    unrelated: dict[str, list]
    candidates: dict[str, list[list[str]]]


class FactScorer:
    """Gold probabilities and ranks of one fact's probes under interventions, computed once per
    (neuron set, factor, language) and shared by every localizer that found the same set; the languages that
    share a neuron set are run in one batched call."""

    def __init__(self, bundle, probes: FactProbes, ranked_langs: Sequence[str]):
        self.bundle, self.probes = bundle, probes
        self._probs: dict[tuple, tuple[np.ndarray, np.ndarray]] = {}
        self._ranks: dict[tuple, np.ndarray] = {}
        self._rank_rows: dict[str, list[int]] = {}
        flat_probes, flat_candidates = [], []
        for lang in ranked_langs:
            self._rank_rows[lang] = list(range(len(flat_probes), len(flat_probes) + len(probes.own[lang])))
            flat_probes += probes.own[lang]
            flat_candidates += probes.candidates[lang]
        self.ranker = CandidateRanker(bundle, flat_probes, flat_candidates)
        self._prob_rows: dict[str, tuple[list[int], list[int]]] = {}
        scored = []
        for lang in probes.own:
            own = list(range(len(scored), len(scored) + len(probes.own[lang])))
            scored += probes.own[lang]
            unrelated = list(range(len(scored), len(scored) + len(probes.unrelated[lang])))
            scored += probes.unrelated[lang]
            self._prob_rows[lang] = (own, unrelated)
        self.probe_set = ProbeSet(bundle, scored)

    def probs(self, neurons: Sequence, factor: float, langs: Sequence[str]) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """lang -> (own, unrelated) gold probabilities with `neurons` scaled by `factor` (empty set: unmodified)."""
        key = (frozenset(map(tuple, neurons)), factor) if neurons else (frozenset(), 1.0)
        missing = [lang for lang in langs if key + (lang,) not in self._probs]
        if missing:
            rows = [row for lang in missing for part in self._prob_rows[lang] for row in part]
            values = dict(zip(rows, self.probe_set.probs_with(list(key[0]), key[1], rows)))
            for lang in missing:
                own, unrelated = self._prob_rows[lang]
                self._probs[key + (lang,)] = (np.array([values[r] for r in own]), np.array([values[r] for r in unrelated]))
        return {lang: self._probs[key + (lang,)] for lang in langs}

    def ranks(self, neurons: Sequence, factor: float, langs: Sequence[str]) -> dict[str, np.ndarray]:
        """lang -> gold ranks among the candidates of the own probes, with `neurons` scaled by `factor`."""
        key = (frozenset(map(tuple, neurons)), factor) if neurons else (frozenset(), 1.0)
        missing = [lang for lang in langs if key + (lang,) not in self._ranks]
        if missing:
            rows = [row for lang in missing for row in self._rank_rows[lang]]
            values = np.asarray(self.ranker.ranks_with(list(key[0]), key[1], rows))
            start = 0
            for lang in missing:
                count = len(self.probes.own[lang])
                self._ranks[key + (lang,)] = values[start : start + count]
                start += count
        return {lang: self._ranks[key + (lang,)] for lang in langs}

    def by_neuron_set(self, neurons_of_lang, langs: Sequence[str], compute, factor: float) -> dict:
        """Run `compute(neurons, factor, langs)` once per distinct neuron set among the languages."""
        groups: dict[frozenset, list[str]] = {}
        for lang in langs:
            groups.setdefault(frozenset(map(tuple, neurons_of_lang(lang))), []).append(lang)
        result = {}
        for neurons, group in groups.items():
            result.update(compute(sorted(neurons), factor, group))
        return result


def fact_record(fact: FactQueries, name: str, localization: Localization, halves: tuple[Localization, Localization],
                scores: dict, plants: Optional[list[dict]], rank: int) -> dict:
    record = {
        "fact_id": fact.fact_id,
        "relation": fact.relation,
        "localizer": name,
        "rank": rank,
        "neurons": localization.to_json(),
        "counts": neuron_counts(localization),
        "layers": layer_distribution(localization.all_neurons()),
        "overlap": language_overlap(localization.per_lang),
        "stability": stability(*halves),
        **scores,
    }
    if plants:  # only planted facts are scored against the truth
        record["planted"] = ground_truth_scores(localization, plants)
    return rounded(record)


# ------------------------------------------------------------------- held-out, equal-budget scoring (issue 12)
@dataclass
class ScoringQueries:
    """Where one fact is scored, as indices into its InterventionScorer's probes: per localization language its
    scoring half (`own`), per held-out language all its queries (`holdout`), and one unrelated query (another
    fact, another object, same language) per scoring query (`own_unrelated`, `holdout_unrelated`)."""

    own: dict[str, list[int]]
    own_unrelated: dict[str, list[int]]
    holdout: dict[str, list[int]]
    holdout_unrelated: dict[str, list[int]]

    def counts(self) -> dict:
        return {part: {lang: len(idx) for lang, idx in getattr(self, part).items()}
                for part in ("own", "own_unrelated", "holdout", "holdout_unrelated")}


def scoring_queries(score_half: dict[str, list[tuple[str, str]]], holdout: dict[str, list[tuple[str, str]]],
                    unrelated: dict[str, list[tuple[str, str]]]) -> tuple[list, ScoringQueries]:
    """The probes to encode (in order) and where each part of the scoring finds them. `unrelated[lang]` holds
    one pair per scoring query of that language: the own ones first, then those of the held-out languages."""
    probes: list = []

    def add(pairs) -> list[int]:
        start = len(probes)
        probes.extend(probes_of(pairs))
        return list(range(start, len(probes)))

    own = {lang: add(pairs) for lang, pairs in score_half.items()}
    held = {lang: add(pairs) for lang, pairs in holdout.items()}
    own_unrelated = {lang: add(unrelated.get(lang, [])[: len(score_half[lang])]) for lang in score_half}
    holdout_unrelated = {lang: add(unrelated.get(lang, [])[: len(holdout[lang])]) for lang in holdout}
    return probes, ScoringQueries(own, own_unrelated, held, holdout_unrelated)


def _parts(queries: ScoringQueries, localization: Localization):
    """(part, language, probe indices, neurons) for every scored part of a localization: per-language sets on
    the language's own and unrelated queries, the agnostic set on the held-out languages'."""
    for part, source, pick in (("own", queries.own, None), ("unrelated", queries.own_unrelated, None),
                               ("holdout", queries.holdout, "agnostic"),
                               ("holdout_unrelated", queries.holdout_unrelated, "agnostic")):
        for lang, idx in source.items():
            neurons = localization.agnostic if pick else localization.per_lang.get(lang, [])
            if idx:
                yield part, lang, idx, neurons


def request_effects(scorer, queries: ScoringQueries, localization: Localization) -> None:
    """Queue the rows `set_effects` will read (so that every set of a fact runs in shared batches)."""
    for _, _, idx, neurons in _parts(queries, localization):
        scorer.request(idx, [], 1.0)
        for factor in INTERVENTIONS.values():
            scorer.request(idx, neurons, factor)


def set_effects(scorer, queries: ScoringQueries, localization: Localization, min_prob: float) -> dict:
    """Effects of one neuron set per part and intervention: the mean change of the gold answer's mean per-token
    log-probability (`<part>_<intervention>`, the primary effect; per language under `by_lang`), Dai's relative
    change of the per-token probability exp(mean log p) over the queries whose per-token probability before is
    at least `min_prob` (`dai_<part>_<intervention>`), and how many queries fell below it (`below_min_prob`).
    A language without scoring queries contributes nothing; a part without any is None. The gap own minus
    unrelated is `gap_<intervention>`."""
    from .metrics import log_prob_changes

    per_lang: dict[str, dict[str, dict[str, float]]] = {}
    pooled: dict[str, list[float]] = {}
    below: dict[str, int] = {}
    for part, lang, idx, neurons in _parts(queries, localization):
        before = scorer.values(idx, [], 1.0)
        below[part] = below.get(part, 0) + int(np.sum(np.exp(before) < min_prob))
        for name, factor in INTERVENTIONS.items():
            changes = log_prob_changes(before, scorer.values(idx, neurons, factor))
            per_lang.setdefault(part, {}).setdefault(lang, {})[name] = float(changes.mean())
            dai = np.exp(changes[np.exp(before) >= min_prob]) - 1.0
            pooled.setdefault(f"dai_{part}_{name}", []).extend(dai.tolist())
    result: dict[str, Any] = {"by_lang": per_lang, "below_min_prob": below}
    for part in ("own", "unrelated", "holdout", "holdout_unrelated"):
        for name in INTERVENTIONS:
            result[f"{part}_{name}"] = nan_mean(v[name] for v in per_lang.get(part, {}).values())
            result[f"dai_{part}_{name}"] = nan_mean(pooled.get(f"dai_{part}_{name}", []))
    for name in INTERVENTIONS:
        own, unrelated = result[f"own_{name}"], result[f"unrelated_{name}"]
        result[f"gap_{name}"] = None if own is None or unrelated is None else own - unrelated
    return result


def precision_vs_oracle(localization: Localization, oracle: Localization) -> dict:
    """precision@k of a budgeted set against the oracle's top-k: mean over languages, and of the agnostic set."""
    from ..localizers.budget import precision_at_k

    return {
        "per_lang": nan_mean(precision_at_k(localization.per_lang.get(lang, []), neurons)
                             for lang, neurons in oracle.per_lang.items()),
        "agnostic": precision_at_k(localization.agnostic, oracle.agnostic),
    }


def average_effects(draws: Sequence[dict]) -> dict:
    """The mean over random draws of every top-level figure (by_lang averaged per language and part)."""
    result: dict[str, Any] = {}
    for key in draws[0]:
        if key == "by_lang":
            merged: dict = {}
            for draw in draws:
                for part, langs in draw["by_lang"].items():
                    for lang, values in langs.items():
                        for name, value in values.items():
                            merged.setdefault(part, {}).setdefault(lang, {}).setdefault(name, []).append(value)
            result[key] = {part: {lang: {name: nan_mean(vs) for name, vs in values.items()}
                                  for lang, values in langs.items()} for part, langs in merged.items()}
        elif isinstance(draws[0][key], dict):
            result[key] = average_effects([draw[key] for draw in draws]) if any(
                isinstance(v, dict) for v in draws[0][key].values()) else {
                k: nan_mean(draw[key].get(k) for draw in draws) for k in draws[0][key]}
        else:
            result[key] = nan_mean(draw[key] for draw in draws)
    return result
