"""Budgeted selection (top-k of a ranking) and the seeded held-out split, with hand-computed expectations."""
from __future__ import annotations

import numpy as np

from rml_lama.evaluation.heldout import split_indices, split_queries
from rml_lama.localizers.budget import Ranking, budgeted, min_over_langs, precision_at_k, top_k


def test_top_k_takes_the_highest_scores_and_breaks_ties_by_layer_then_index():
    scores = np.array([[0.5, 0.9, np.nan, 0.5],
                       [0.9, -1.0, 0.2, 0.5]])
    layers = (4, 7)
    # by hand: 0.9 at (4,1) and (7,0) tie -> layer 4 first; then 0.5 at (4,0), (4,3), (7,3) in that order
    assert top_k(scores, layers, 3) == [(4, 1), (7, 0), (4, 0)]
    assert top_k(scores, layers, 5) == [(4, 1), (7, 0), (4, 0), (4, 3), (7, 3)]
    assert len(top_k(scores, layers, 100)) == 7  # NaN (not ranked) is never chosen
    assert top_k(scores, layers, 0) == []


def test_budgeted_gives_every_language_and_the_agnostic_set_exactly_k():
    en = np.array([[3.0, 2.0, 1.0, 0.0]])
    fr = np.array([[0.0, 1.0, 2.0, 3.0]])
    ranking = Ranking((2,), {"en": en, "fr": fr}, min_over_langs({"en": en, "fr": fr}))
    chosen = budgeted(ranking, 2)
    assert chosen.per_lang == {"en": [(2, 0), (2, 1)], "fr": [(2, 2), (2, 3)]}
    # min over languages: [0, 1, 1, 0] -> ties at 1 broken by index: (2,1), (2,2)
    assert chosen.agnostic == [(2, 1), (2, 2)]
    assert budgeted(ranking, 1, langs=["fr"]).per_lang == {"fr": [(2, 3)]}


def test_precision_at_k_against_the_oracle_set():
    assert precision_at_k([(0, 1), (0, 2), (1, 5)], [(0, 2), (1, 5), (1, 6)]) == 2 / 3
    assert precision_at_k([(0, 1)], []) is None


def test_split_halves_are_disjoint_cover_everything_and_depend_on_the_seed():
    for n in range(1, 9):
        first, second = split_indices(n, seed=0, fact_id="P1:Q1:Q2", lang="en")
        assert sorted(first + second) == list(range(n))
        assert len(first) == (n + 1) // 2 and len(second) == n // 2  # ceil to localization, floor to scoring
    assert split_indices(1, 0, "f", "en") == ([0], [])  # one rephrasing: localization only
    assert split_indices(6, 0, "f", "en") == split_indices(6, 0, "f", "en")  # deterministic
    draws = {tuple(split_indices(6, seed, "f", "en")[0]) for seed in range(20)}
    assert len(draws) > 1  # the seed (and the fact, the language) choose the halves


def test_split_queries_keeps_the_fixed_order_within_each_half():
    queries = {"en": ["a", "b", "c", "d"], "fr": ["x"]}
    localize, score = split_queries(queries, seed=3, fact_id="f")
    first, second = split_indices(4, 3, "f", "en")
    assert localize["en"] == [queries["en"][i] for i in first] and score["en"] == [queries["en"][i] for i in second]
    assert localize["en"] == sorted(localize["en"]) and score["en"] == sorted(score["en"])
    assert localize["fr"] == ["x"] and score["fr"] == []
