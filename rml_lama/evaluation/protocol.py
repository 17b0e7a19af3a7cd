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
   with effects, precision@k against the oracle's top-k, and the oracle's effects at k for recovery.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Optional

from ..localizers import Localization
from ..localizers.budget import Ranking, budgeted
from .heldout import split_queries
from .localize import LocalizerSet, fact_attributions, localize_all
from .options import EvalOptions
from .sampling import FactQueries, RunPlan, unrelated_queries
from .store import rounded

ORACLE = "oracle"  # the result line of the causal oracle (not a registered localizer: it reads the model)


def interleaved(first: list, second: list) -> list:
    """[a0, b0, a1, b1, ...] then the rest: even positions are `first`, odd positions are `second` (while both
    last); FactAttributions.half(0) / half(1) recover the halves when len(first) - len(second) is 0 or 1."""
    merged = []
    for index in range(max(len(first), len(second))):
        merged += first[index : index + 1] + second[index : index + 1]
    return merged


def evaluate_fact(bundle, fact: FactQueries, plan: RunPlan, localizers: LocalizerSet, options: EvalOptions,
                  done: set[tuple[str, str]], rank: int):
    """Yield the result line of every localizer (and the oracle) not yet done for this fact."""
    from ..probing.targets import encode_probes
    from .effects import InterventionScorer
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

    langs, holdout_langs = list(options.langs), list(options.holdout_langs)
    own = {lang: fact.by_lang[lang] for lang in langs}
    if options.heldout:
        localize_half, score_half = split_queries(own, options.seed, fact.fact_id)
        ordered = FactQueries(fact.fact_id, fact.relation, fact.obj_uri,
                              {lang: interleaved(localize_half[lang], score_half[lang]) for lang in langs})
    else:  # the old, in-sample protocol: localize and score on everything
        localize_half, score_half, ordered = own, own, fact
    attributions = fact_attributions(bundle, ordered, langs, localizers.baselines(), options)
    references = localizers.reference_results(attributions)
    part = 1 if options.heldout else 0  # localize_all: (all, even = localization half, odd = scoring half)

    scored = FactQueries(fact.fact_id, fact.relation, fact.obj_uri,
                         {**score_half, **{lang: fact.by_lang[lang] for lang in holdout_langs}})
    unrelated = unrelated_queries(scored, plan.pool, sorted(plan.pool), langs + holdout_langs, options.seed,
                                  plan.probe_filter.ok)
    probes, queries = scoring_queries(score_half, {lang: fact.by_lang[lang] for lang in holdout_langs}, unrelated)
    scorer = InterventionScorer(bundle, encode_probes(bundle, probes), batch_size=options.internal_batch_size)

    localized: dict[str, tuple[Localization, tuple[Localization, Localization]]] = {}
    rankings: dict[str, list[Ranking]] = {}
    for localizer in localizers.localizers:
        if (fact.fact_id, localizer.name) in done:
            continue
        results = localize_all(localizer, attributions, references.get(localizer.reference_localizer))
        localized[localizer.name] = (results[part], (results[1], results[2]))
        base = attributions.half(0) if options.heldout else attributions
        draws = options.random_draws if localizer.name.startswith("random") else 1
        rankings[localizer.name] = [localizer.rank(base, salt=f"draw{d}") if draws > 1 else localizer.rank(base)
                                    for d in range(draws)]
    oracle_effects = _oracle(bundle, fact, score_half, attributions, rankings, options)
    oracle_sets = ({k: budgeted(_oracle_ranking(oracle_effects, langs), k) for k in options.budgets}
                   if oracle_effects is not None else {})

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
        {lang: _probes(score_half[lang]) for lang in langs}, {lang: [] for lang in langs},
        {lang: _candidates(fact, lang, score_half[lang], plan, options) for lang in langs}), langs)
    oracle_budgets = {str(k): {**set_effects(scorer, queries, chosen, options.min_prob),
                               "neurons": chosen.to_json()} for k, chosen in oracle_sets.items()}
    counts = queries.counts()
    for localizer in localizers.localizers:
        if localizer.name not in localized:
            continue
        localization, halves = localized[localizer.name]
        scores = set_effects(scorer, queries, localization, options.min_prob)
        scores["accuracy"] = _accuracy(accuracy_scorer, localization, langs)
        budgets = {}
        for k, chosen_sets in sets[localizer.name].items():
            effects = [set_effects(scorer, queries, chosen, options.min_prob) for chosen in chosen_sets]
            entry = average_effects(effects) if len(effects) > 1 else effects[0]
            if k in oracle_sets:
                entry["precision"] = average_effects(
                    [precision_vs_oracle(chosen, oracle_sets[k]) for chosen in chosen_sets])
            entry["draws"] = len(chosen_sets)
            budgets[str(k)] = entry
        record = fact_record(fact, localizer.name, localization, halves, {"threshold": scores},
                             plan.plants.get(fact.fact_id), rank)
        record.update(rounded({"budgets": budgets, "queries": counts,
                               "oracle_budgets": _brief(oracle_budgets)}))
        yield record
    if oracle_effects is not None and (fact.fact_id, ORACLE) not in done:
        agnostic = oracle_effects.agnostic_by_oracle(langs, options.oracle_hurt)
        yield rounded({
            "fact_id": fact.fact_id, "relation": fact.relation, "localizer": ORACLE, "rank": rank,
            "budgets": oracle_budgets, "queries": counts,
            "oracle": {"hurt": options.oracle_hurt, "agnostic": [list(n) for n in agnostic],
                       "langs": sorted(oracle_effects.by_lang),
                       "n_queries": oracle_effects.n_queries, "exhaustive": options.oracle_pool is None,
                       "top": oracle_effects.to_json(top=10)},
        })


def _probes(pairs):
    from ..probing.targets import probes_of

    return probes_of(pairs)


def _candidates(fact: FactQueries, lang: str, pairs, plan: RunPlan, options: EvalOptions):
    from ..localizers.base import seeded_rng
    from .sampling import candidates_for

    rng = seeded_rng(options.seed, fact.fact_id, "candidates", lang)
    return [candidates_for(plan.candidate_sets.get((fact.relation, lang), [answer]), answer, options.max_candidates, rng)
            for _, answer in pairs]


def _accuracy(scorer, localization: Localization, langs: Sequence[str]) -> dict:
    """Share of scoring queries whose gold object ranks first among the candidates, before and with the
    per-language sets suppressed / enhanced."""
    import numpy as np

    from .metrics import INTERVENTIONS, accuracy

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
    from ..probing.targets import encode_probes, probes_of
    from .oracle import candidate_pool, oracle_effects

    candidates: Optional[dict[int, list[int]]] = None
    if options.oracle_pool is not None:
        scores = [array for ranks in rankings.values() for ranking in ranks[:1]
                  for array in [*ranking.per_lang.values(), ranking.agnostic] if array is not None]
        candidates = candidate_pool(scores, attributions.layers, attributions.d_ff, options.oracle_pool,
                                    options.oracle_pool, options.seed, fact.fact_id)
    encoded = {lang: encode_probes(bundle, probes_of(pairs)) for lang, pairs in score_half.items() if pairs}
    return oracle_effects(bundle, encoded, attributions.layers, candidates)
