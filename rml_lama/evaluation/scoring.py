"""Scoring one localization of one fact: interventions on its own and unrelated queries, in and across
languages, accuracy by candidate ranking, and the result line written for it."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Optional

import numpy as np

from ..localizers import Localization
from ..localizers.base import seeded_rng
from ..probing.ranking import CandidateRanker, ProbeSet
from ..probing.targets import probes_of
from .metrics import (
    INTERVENTIONS,
    accuracy,
    ground_truth_scores,
    language_overlap,
    layer_distribution,
    mean_relative_change,
    nan_mean,
    neuron_counts,
    stability,
)
from .options import EvalOptions
from .sampling import FactQueries, candidates_for
from .store import rounded


@dataclass
class FactProbes:
    """The probes a fact is scored on (own and unrelated, per language) and the candidates for accuracy."""

    own: dict[str, list]
    unrelated: dict[str, list]
    candidates: dict[str, list[list[str]]]


def prepare_probes(fact: FactQueries, unrelated: dict[str, list[tuple[str, str]]], all_langs: Sequence[str],
                   candidate_sets: dict[tuple[str, str], list[str]], options: EvalOptions) -> FactProbes:
    own = {lang: probes_of(fact.by_lang[lang]) for lang in all_langs}
    rng = seeded_rng(options.seed, fact.fact_id, "candidates")
    candidates = {
        lang: [candidates_for(candidate_sets.get((fact.relation, lang), [p.answer]), p.answer, options.max_candidates,
                              rng) for p in own[lang]]
        for lang in all_langs
    }
    return FactProbes(own, {lang: probes_of(unrelated.get(lang, [])) for lang in all_langs}, candidates)


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


def _effects(scorer: FactScorer, neurons_of_lang, langs: Sequence[str], min_prob: float) -> dict[str, dict]:
    """Mean relative change of the gold probability per intervention, on own and on unrelated queries,
    per language and over all queries."""
    before = scorer.probs([], 1.0, langs)
    result: dict[str, dict] = {"own": {"by_lang": {}}, "unrelated": {"by_lang": {}}}
    for name, factor in INTERVENTIONS.items():
        after = scorer.by_neuron_set(neurons_of_lang, langs, scorer.probs, factor)
        for which, part in (("own", 0), ("unrelated", 1)):
            for lang in langs:
                result[which]["by_lang"].setdefault(lang, {})[name] = mean_relative_change(
                    before[lang][part], after[lang][part], min_prob)
            result[which][name] = mean_relative_change(
                np.concatenate([before[lang][part] for lang in langs]),
                np.concatenate([after[lang][part] for lang in langs]), min_prob)
    return result


def score_localization(scorer: FactScorer, localization: Localization, options: EvalOptions) -> dict:
    """Interventions (own / unrelated), cross-language effects of the LAKNs and accuracy of one localization."""
    langs, all_langs = options.langs, options.langs + options.holdout_langs
    in_lang = _effects(scorer, lambda lang: localization.per_lang.get(lang, []), langs, options.min_prob)
    cross = _effects(scorer, lambda lang: localization.agnostic, all_langs, options.min_prob)
    for name in INTERVENTIONS:
        cross["own"][f"holdout_{name}"] = nan_mean(cross["own"]["by_lang"][lang][name] for lang in options.holdout_langs)
    acc: dict[str, Any] = {"by_lang": {}}
    per_lang = lambda lang: localization.per_lang.get(lang, [])
    for name, factor in {"before": None, **INTERVENTIONS}.items():
        ranks = (scorer.ranks([], 1.0, langs) if factor is None else
                 scorer.by_neuron_set(per_lang, langs, scorer.ranks, factor))
        for lang in langs:
            acc["by_lang"].setdefault(lang, {})[name] = accuracy(ranks[lang])
        acc[name] = accuracy(np.concatenate([np.asarray(ranks[lang]) for lang in langs]))
    return {
        "own": in_lang["own"],
        "unrelated": in_lang["unrelated"],
        "cross": cross["own"],
        "cross_unrelated": cross["unrelated"],
        "accuracy": acc,
    }


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
