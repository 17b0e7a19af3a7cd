"""How one fact is evaluated (the protocol a reviewer can believe):

1. held-out split: each localization language's rephrasings split by seed into a localization half and a
   scoring half (evaluation/heldout.py); the attributions of both halves are computed once (interleaved, so a
   localizer reading its first query per language finds the localization half's first query), localizers
   localize on the localization half, and stability compares that with the scoring half's localization;
2. the oracle: single-neuron ablation effects on the scoring queries (evaluation/oracle.py); its top-k sets;
3. every localizer's ranking cut at each budget k (exactly k neurons per language and k agnostic neurons),
   random drawn `random_draws` times per k, and each localizer's own threshold set, all scored on the
   scoring half (per-language sets), on the held-out languages (agnostic sets) and on unrelated queries of
   the same languages, in shared batched passes (evaluation/effects.py);
4. one result line per localizer (and one for the oracle): threshold-set figures as before, `budgets[k]`
   with effects, precision@k against the oracle's top-k, and the oracle's effects at k for recovery; on a
   planted fact `budgets[k].planted`: precision@k, recall@k, kind accuracy and decoys avoided of its plants
   (metrics.planted_at_budget; random averaged over its draws), for the oracle's top-k too.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Optional

from ..localizers import Localization
from ..localizers.base import seeded_rng
from ..localizers.budget import Ranking, budgeted
from ..probing.targets import encode_probes, probes_of
from .effects import InterventionScorer
from .heldout import split_queries
from .localize import LocalizerSet, fact_attributions, localize_all
from .metrics import INTERVENTIONS, accuracy, planted_at_budget
from .options import EvalOptions
from .oracle import candidate_pool, oracle_effects
from .sampling import FactQueries, RunPlan, candidates_for, unrelated_queries
from .scoring import (
    FactProbes,
    FactScorer,
    average_effects,
    fact_record,
    precision_vs_oracle,
    request_effects,
    scoring_queries,
    set_effects,
)
from .store import rounded

ORACLE = "oracle"  # the result line of the causal oracle (not a registered localizer: it reads the model)


def interleaved(first: list, second: list) -> list:
    """[a0, b0, a1, b1, ...] then the rest: even positions are `first`, odd positions are `second` (while both
    last); FactAttributions.half(0) / half(1) recover the halves when len(first) - len(second) is 0 or 1."""
    merged = []
    for index in range(max(len(first), len(second))):
        merged += first[index : index + 1] + second[index : index + 1]
    return merged


@dataclass
class _Halves:
    """A fact's rephrasings per localization language: what localizers read and what is scored."""

    localize: dict[str, list]
    score: dict[str, list]
    ordered: FactQueries  # the queries attributed (both halves, interleaved; everything in-sample)
    part: int  # which of localize_all's (all, half 0, half 1) localizations is the one scored


def _halves(fact: FactQueries, options: EvalOptions) -> _Halves:
    langs = list(options.langs)
    own = {lang: fact.by_lang[lang] for lang in langs}
    if not options.heldout:  # the old, in-sample protocol: localize and score on everything
        return _Halves(own, own, fact, 0)
    localize_half, score_half = split_queries(own, options.seed, fact.fact_id)
    ordered = FactQueries(fact.fact_id, fact.relation, fact.obj_uri,
                          {lang: interleaved(localize_half[lang], score_half[lang]) for lang in langs})
    return _Halves(localize_half, score_half, ordered, 1)


def _localize_and_rank(localizers: LocalizerSet, attributions, halves: _Halves, fact_id: str,
                       options: EvalOptions, done: set[tuple[str, str]]):
    """Each localizer not yet done: its scored localization with the two stability halves, and its rankings
    (random: `random_draws` seeded draws)."""
    references = localizers.reference_results(attributions)
    base = attributions.half(0) if options.heldout else attributions
    localized: dict[str, tuple[Localization, tuple[Localization, Localization]]] = {}
    rankings: dict[str, list[Ranking]] = {}
    for localizer in localizers.localizers:
        if (fact_id, localizer.name) in done:
            continue
        results = localize_all(localizer, attributions, references.get(localizer.reference_localizer))
        localized[localizer.name] = (results[halves.part], (results[1], results[2]))
        draws = options.random_draws if localizer.name.startswith("random") else 1
        rankings[localizer.name] = [localizer.rank(base, salt=f"draw{d}") if draws > 1 else localizer.rank(base)
                                    for d in range(draws)]
    return localized, rankings


def _budget_entry(scorer, queries, chosen_sets, oracle_set, min_prob: float, plants: Optional[list[dict]]) -> dict:
    """Effects of one localizer's sets at one budget (averaged over random draws), precision against the
    oracle's set of that budget, and on a planted fact the scores against its plants."""
    effects = [set_effects(scorer, queries, chosen, min_prob) for chosen in chosen_sets]
    entry = average_effects(effects) if len(effects) > 1 else effects[0]
    if oracle_set is not None:
        entry["precision"] = average_effects([precision_vs_oracle(chosen, oracle_set) for chosen in chosen_sets])
    if plants:
        entry["planted"] = average_effects([planted_at_budget(chosen, plants) for chosen in chosen_sets])
    entry["draws"] = len(chosen_sets)
    return entry


def _oracle_record(fact: FactQueries, ablations, oracle_budgets: dict, counts: dict, langs: list[str],
                   options: EvalOptions, rank: int) -> dict:
    agnostic = ablations.agnostic_by_oracle(langs, options.oracle_hurt)
    return rounded({
        "fact_id": fact.fact_id, "relation": fact.relation, "localizer": ORACLE, "rank": rank,
        "budgets": oracle_budgets, "queries": counts,
        "oracle": {"hurt": options.oracle_hurt, "agnostic": [list(n) for n in agnostic],
                   "langs": sorted(ablations.by_lang),
                   "n_queries": ablations.n_queries, "exhaustive": options.oracle_pool is None,
                   "top": ablations.to_json(top=10)},
    })


def evaluate_fact(bundle, fact: FactQueries, plan: RunPlan, localizers: LocalizerSet, options: EvalOptions,
                  done: set[tuple[str, str]], rank: int):
    """Yield the result line of every localizer (and the oracle) not yet done for this fact: split, attribute,
    localize and rank, the oracle, every set's effects in shared batches, then one line per localizer."""
    langs, holdout_langs = list(options.langs), list(options.holdout_langs)
    halves = _halves(fact, options)
    attributions = fact_attributions(bundle, halves.ordered, langs, localizers.baselines(), options)
    localized, rankings = _localize_and_rank(localizers, attributions, halves, fact.fact_id, options, done)

    held_out = {lang: fact.by_lang[lang] for lang in holdout_langs}
    scored = FactQueries(fact.fact_id, fact.relation, fact.obj_uri, {**halves.score, **held_out})
    unrelated = unrelated_queries(scored, plan.pool, sorted(plan.pool), langs + holdout_langs, options.seed,
                                  plan.probe_filter.ok)
    probes, queries = scoring_queries(halves.score, held_out, unrelated)
    scorer = InterventionScorer(bundle, encode_probes(bundle, probes), batch_size=options.internal_batch_size)
    ablations = _oracle(bundle, fact, halves.score, attributions, rankings, options)
    oracle_sets = ({k: budgeted(_oracle_ranking(ablations, langs), k) for k in options.budgets}
                   if ablations is not None else {})

    # queue every row, run them in shared batches, then read
    sets = {name: {k: [budgeted(r, k, langs) for r in ranks] for k in options.budgets} for name, ranks in rankings.items()}
    for name, (localization, _) in localized.items():
        request_effects(scorer, queries, localization)
        for k_sets in sets[name].values():
            for chosen in k_sets:
                request_effects(scorer, queries, chosen)
    for chosen in oracle_sets.values():
        request_effects(scorer, queries, chosen)
    scorer.run()

    accuracy_scorer = FactScorer(bundle, FactProbes(
        {lang: _probes(halves.score[lang]) for lang in langs}, {lang: [] for lang in langs},
        {lang: _candidates(fact, lang, halves.score[lang], plan, options) for lang in langs}), langs)
    plants = plan.plants.get(fact.fact_id)
    oracle_budgets = {str(k): {**set_effects(scorer, queries, chosen, options.min_prob),
                               **({"planted": planted_at_budget(chosen, plants)} if plants else {}),
                               "neurons": chosen.to_json()} for k, chosen in oracle_sets.items()}
    counts = queries.counts()
    for name, (localization, stability_halves) in localized.items():
        scores = set_effects(scorer, queries, localization, options.min_prob)
        scores["accuracy"] = _accuracy(accuracy_scorer, localization, langs)
        budgets = {str(k): _budget_entry(scorer, queries, chosen_sets, oracle_sets.get(k), options.min_prob, plants)
                   for k, chosen_sets in sets[name].items()}
        record = fact_record(fact, name, localization, stability_halves, {"threshold": scores}, plants, rank)
        record.update(rounded({"budgets": budgets, "queries": counts, "oracle_budgets": _brief(oracle_budgets)}))
        yield record
    if ablations is not None and (fact.fact_id, ORACLE) not in done:
        yield _oracle_record(fact, ablations, oracle_budgets, counts, langs, options, rank)


def _probes(pairs):

    return probes_of(pairs)


def _candidates(fact: FactQueries, lang: str, pairs, plan: RunPlan, options: EvalOptions):

    rng = seeded_rng(options.seed, fact.fact_id, "candidates", lang)
    return [candidates_for(plan.candidate_sets.get((fact.relation, lang), [answer]), answer, options.max_candidates, rng)
            for _, answer in pairs]


def _accuracy(scorer, localization: Localization, langs: Sequence[str]) -> dict:
    """Share of scoring queries whose gold object ranks first among the candidates, before and with the
    per-language sets suppressed / enhanced."""
    import numpy as np


    ranked = [lang for lang in langs if scorer.probes.own[lang]]
    result: dict = {"by_lang": {}}
    for name, factor in {"before": None, **INTERVENTIONS}.items():
        ranks = (scorer.ranks([], 1.0, ranked) if factor is None else
                 scorer.by_neuron_set(lambda lang: localization.per_lang.get(lang, []), ranked, scorer.ranks, factor))
        for lang in ranked:
            result["by_lang"].setdefault(lang, {})[name] = accuracy(ranks[lang])
        result[name] = accuracy(np.concatenate([np.asarray(ranks[lang]) for lang in ranked])) if ranked else None
    return result


def _brief(oracle_budgets: dict) -> dict:
    """The oracle's primary figures at each k, copied into every localizer's line (recovery per fact)."""
    keys = ("own_suppress", "own_enhance", "holdout_suppress", "holdout_enhance")
    return {k: {key: entry.get(key) for key in keys} for k, entry in oracle_budgets.items()}


def _oracle_ranking(effects, langs: Sequence[str]) -> Ranking:
    present = [lang for lang in langs if lang in effects.by_lang]
    return Ranking(effects.layers, {lang: effects.ranking(lang) for lang in present},
                   effects.agnostic_ranking(present) if present else None)


def _oracle(bundle, fact: FactQueries, score_half: dict, attributions, rankings: dict[str, list[Ranking]],
            options: EvalOptions):
    """The oracle's single-ablation effects on the scoring half of every localization language (the held-out
    languages are not ablated neuron by neuron: the oracle's agnostic top-k, chosen on the localization
    languages like every localizer's, is scored there by joint ablation); None when the oracle is off."""
    if not options.oracle:
        return None

    candidates: Optional[dict[int, list[int]]] = None
    if options.oracle_pool is not None:
        scores = [array for ranks in rankings.values() for ranking in ranks[:1]
                  for array in [*ranking.per_lang.values(), ranking.agnostic] if array is not None]
        candidates = candidate_pool(scores, attributions.layers, attributions.d_ff, options.oracle_pool,
                                    options.oracle_pool, options.seed, fact.fact_id)
    encoded = {lang: encode_probes(bundle, probes_of(pairs)) for lang, pairs in score_half.items() if pairs}
    return oracle_effects(bundle, encoded, attributions.layers, candidates)
