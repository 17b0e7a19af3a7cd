"""Localizer math on hand-made attribution arrays: every expected neuron set is computed by hand below."""
from __future__ import annotations

import numpy as np
import pytest

from rml_lama.errors import RmlLamaError
from rml_lama.localizers import (
    ACTIVATION,
    AMIG_AUTHORS,
    AMIG_BASELINE,
    LOCALIZERS,
    ZERO_BASELINE,
    FactAttributions,
    Localization,
    QueryScores,
    get_localizer,
)
from rml_lama.localizers.activation import ActivationNeurons
from rml_lama.localizers.budget import top_k
from rml_lama.localizers.kn import KnowledgeNeurons
from rml_lama.localizers.matrice import Matrice


def q(rows, prob=0.5) -> QueryScores:
    return QueryScores(np.asarray(rows, dtype=np.float64), prob)


def kn_fact() -> FactAttributions:
    # layers 3 and 5, d_ff 4. Coarse (> 0.2 x max) per en query, by hand:
    #   q1 max 1: (0,0) 1.0, (0,2) 0.3, (1,2) 0.5           q2 max 2: (0,0) 1.0, (1,2) 0.5  [(1,3) 0.15 -> no]
    #   q3 max 1: (0,0) 0.5, (1,3) 1.0
    # counts: (0,0) 3, (1,2) 2, (0,2) 1, (1,3) 1
    en = [
        q([[1.0, 0.1, 0.3, 0.0], [0.0, 0.0, 0.5, -1.0]]),
        q([[2.0, 0.0, 0.0, 0.0], [0.0, 0.0, 1.0, 0.3]]),
        q([[0.5, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 1.0]]),
    ]
    fr = [q([[3.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 2.0]])]  # one query: coarse (0,0) and (1,3)
    return FactAttributions("P1:Q1:Q2", (3, 5), 4, {ZERO_BASELINE: {"en": en, "fr": fr}})


def test_kn_keeps_neurons_coarse_in_more_than_p_of_queries():
    result = KnowledgeNeurons().localize(kn_fact())
    assert result.per_lang["en"] == [(3, 0)]  # only (0,0) is coarse in > 0.7 x 3 queries
    assert result.per_lang["fr"] == [(3, 0), (5, 3)]  # one query: min_share capped at 1
    assert result.agnostic == [(3, 0)]
    assert result.specific == {"en": [], "fr": [(5, 3)]}
    assert result.per_lang_scores["en"] == [pytest.approx((1.0 + 1.0 + 0.5) / 3)]


def test_kn_p_and_min_share_are_parameters():
    result = KnowledgeNeurons(p=0.5, min_share=2).localize(kn_fact())
    assert result.per_lang["en"] == [(3, 0), (5, 2)]  # counts > 1.5 and >= 2
    result = KnowledgeNeurons(p=0.5, min_share=3).localize(kn_fact())
    assert result.per_lang["en"] == [(3, 0)]


def test_kn_retune_lowers_p_until_the_target_count():
    plain = KnowledgeNeurons(min_share=2).localize(kn_fact())
    retuned = KnowledgeNeurons(min_share=2, retune=(2, 5)).localize(kn_fact())
    assert plain.per_lang["en"] == [(3, 0)]
    assert retuned.per_lang["en"] == [(3, 0), (5, 2)]  # p 0.7 -> 0.65: counts > 1.95


def test_amig_uses_the_first_query_with_per_language_thresholds_and_intersects():
    en = [q([[1.0, 0.25, 0.35, 0.0], [0.0, 0.0, 0.0, 0.0]]), q([[0.0, 9.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0]])]
    fr = [q([[0.8, 0.2, 0.1, 0.0], [0.0, 0.0, 0.3, 0.0]])]  # normalised: 1, .25, .125, 0 / 0, 0, .375, 0
    fact = FactAttributions("P1:Q1:Q2", (0, 1), 4, {AMIG_AUTHORS: {"en": en, "fr": fr}})
    result = get_localizer("amig").localize(fact)
    ig_form = FactAttributions("P1:Q1:Q2", (0, 1), 4, {AMIG_BASELINE: {"en": en, "fr": fr}})
    assert get_localizer("amig-ig").localize(ig_form) == result  # same rule, other attribution kind
    assert result.per_lang["en"] == [(0, 0), (0, 2)]  # en: > 0.3 x max; 0.25 is not
    assert result.per_lang["fr"] == [(0, 0), (0, 1), (1, 2)]  # fr: default 0.2 x max
    assert result.agnostic == [(0, 0)]
    assert result.specific == {"en": [(0, 2)], "fr": [(0, 1), (1, 2)]}


def matrice_fact() -> FactAttributions:
    # one layer (2), four neurons. By hand (weights = gold probabilities):
    # en: N = [1, .5, 0, 1], [1, 0, 1, 1] (w .5/.5) -> mean [1, .25, .5, 1], std [0, .25, .5, 0] -> S_en [1, 0, 0, 1]
    # fr: N = [0, 1, 1, 1] (w .9), [1, 1, 0, 1] (w .1) -> mean [.1, 1, .9, 1], std [.3, 0, .3, 0]
    #     -> S_fr [-.2, 1, .6, 1]
    # languages (weights .5/.5): mean [.4, .5, .3, 1], std [.6, .5, .3, 0] -> S [-.2, 0, 0, 1]
    en = [q([[2.0, 1.0, 0.0, 2.0]], 0.5), q([[1.0, 0.0, 1.0, 1.0]], 0.5)]
    fr = [q([[0.0, 3.0, 3.0, 3.0]], 0.9), q([[1.0, 1.0, 0.0, 1.0]], 0.1)]
    return FactAttributions("P1:Q1:Q2", (2,), 4, {AMIG_BASELINE: {"en": en, "fr": fr}})


def test_matrice_penalises_neurons_that_vary_across_queries_and_languages():
    result = get_localizer("matrice").localize(matrice_fact())
    assert result.per_lang == {"en": [(2, 0), (2, 3)], "fr": [(2, 1), (2, 2), (2, 3)]}
    assert result.per_lang_scores["fr"] == pytest.approx([1.0, 0.6, 1.0])
    assert result.agnostic == [(2, 3)]
    assert result.agnostic_scores == pytest.approx([1.0])
    assert result.specific == {"en": [(2, 0)], "fr": [(2, 1), (2, 2)]}


def test_matrice_without_query_uncertainty_takes_plain_means():
    # en uniform mean [1, .25, .5, 1], fr uniform mean [.5, 1, .5, 1]: every neuron > 0.2 in both;
    # languages: mean [.75, .625, .5, 1], std [.25, .375, 0, 0] -> S [.5, .25, .5, 1]
    result = get_localizer("matrice-no-query-unc").localize(matrice_fact())
    assert result.per_lang["en"] == [(2, 0), (2, 1), (2, 2), (2, 3)]
    assert result.agnostic == [(2, 0), (2, 2), (2, 3)]
    assert result.agnostic_scores == pytest.approx([0.5, 0.5, 1.0])


def test_matrice_without_language_uncertainty_takes_the_plain_mean_of_languages():
    # S = mean(S_en, S_fr) = [.4, .5, .3, 1]; tau_agnostic .35 keeps neurons 0, 1, 3
    result = LOCALIZERS["matrice-no-lang-unc"].create(tau_agnostic=0.35).localize(matrice_fact())
    assert result.agnostic == [(2, 0), (2, 1), (2, 3)]
    assert result.agnostic_scores == pytest.approx([0.4, 0.5, 1.0])


def test_matrice_language_confidence_down_weights_a_language_the_model_does_not_know():
    fact = matrice_fact()
    fact.queries[AMIG_BASELINE]["fi"] = [q([[0.0, 0.0, 5.0, 0.0]], 0.0)]  # fi: neuron 2 only, probability 0
    with_conf = Matrice(lang_lambda=0.0).localize(fact)
    renormalised = Matrice(lang_lambda=0.0, lang_weights="renormalised").localize(fact)
    without_conf = Matrice(lang_lambda=0.0, lang_confidence=False).localize(fact)
    # per-token relative confidence r = (1, 1, 0): weights (.5, .5, 0), breadth min(1, 1 + 0) = 1:
    # S = mean(S_en, S_fr) = [.4, .5, .3, 1], as if fi were absent
    assert with_conf.agnostic == [(2, 0), (2, 1), (2, 3)]
    assert with_conf.agnostic_scores == pytest.approx([0.4, 0.5, 1.0])
    # renormalised weights: fi has weight 0 and drops out: S = mean(S_en, S_fr) = [.4, .5, .3, 1]
    assert renormalised.agnostic_scores == pytest.approx([0.4, 0.5, 1.0])
    assert renormalised.agnostic == [(2, 0), (2, 1), (2, 3)]
    assert without_conf.agnostic == [(2, 1), (2, 2), (2, 3)]  # + fi [0, 0, 1, 0]: [.8/3, 1/3, 1.6/3, 2/3] > .3


def test_matrice_gives_no_lakns_to_a_fact_known_in_one_language_only():
    # the known limit (failed with renormalised weights): en known (P .9), fr and fi not (P .001); each
    # language's strongest neuron differs. Renormalised: weights ~(.998, .001, .001), S[0] ~ .94 -> a "LAKN".
    # Per-token relative confidence r = (1, .0011, .0011): breadth = .0011, so S[0] = .0011 x (~.998 - ~.04) << .3.
    fact = FactAttributions("f", (0,), 3, {AMIG_BASELINE: {
        "en": [q([[1.0, 0.0, 0.0]], 0.9)], "fr": [q([[0.0, 1.0, 0.0]], 0.001)], "fi": [q([[0.0, 0.0, 1.0]], 0.001)]}})
    assert Matrice(lang_weights="renormalised").localize(fact).agnostic == [(0, 0)]
    assert Matrice().localize(fact).agnostic == []


def test_matrice_compares_languages_per_token_not_by_joint_probability():
    # en: 1-token answer, p .5; ja: 3-token answer, each token p .5 (joint .125). Neuron 1 is English-only.
    en = [QueryScores(np.array([[1.0, 1.0, 0.0]]), 0.5, 0.5)]
    ja = [QueryScores(np.array([[1.0, 0.0, 1.0]]), 0.125, 0.5)]
    fact = FactAttributions("f", (0,), 3, {AMIG_BASELINE: {"en": en, "ja": ja}})
    # joint probabilities weight en .8, ja .2: S[1] = .8 - std_w(1, 0) = .8 - .4 = .4 > .3 -> wrongly agnostic
    assert Matrice(lang_weights="renormalised").localize(fact).agnostic == [(0, 0), (0, 1)]
    # per-token confidences are equal: S[1] = .5 - .5 = 0; only neuron 0 (strong in both) is agnostic
    assert Matrice().localize(fact).agnostic == [(0, 0)]


def test_matrice_min_langs_requires_selection_in_that_many_languages():
    result = Matrice(query_uncertainty=False, min_langs=2, tau=0.55).localize(matrice_fact())
    # per-language > .55: en {0, 3}, fr {1, 3}; only neuron 3 is selected in two languages
    assert result.agnostic == [(2, 3)]


def test_random_matches_the_reference_counts_and_is_seeded():
    fact = FactAttributions("P1:Q1:Q2", (1, 3), 50, {})
    reference = Localization({"en": [(1, 0), (1, 1), (3, 4)], "fr": [(1, 0), (1, 1), (1, 7), (3, 1), (3, 2)]},
                             [(1, 0), (1, 1)])
    first = get_localizer("random", seed=7).localize(fact, reference)
    again = get_localizer("random", seed=7).localize(fact, reference)
    other = get_localizer("random", seed=8).localize(fact, reference)
    assert len(first.agnostic) == 2
    assert {lang: len(ns) for lang, ns in first.per_lang.items()} == {"en": 3, "fr": 5}
    assert {lang: len(ns) for lang, ns in first.specific.items()} == {"en": 1, "fr": 3}
    assert all(layer in (1, 3) and 0 <= index < 50 for layer, index in first.all_neurons())
    assert first == again and first != other
    # a reference whose per-language sets do not contain all its LAKNs: counts still match
    partial = Localization({"en": [(1, 0), (3, 9)], "fr": [(3, 8)]}, [(1, 0), (1, 1), (1, 2)])
    drawn = get_localizer("random").localize(fact, partial)
    assert {lang: len(ns) for lang, ns in drawn.per_lang.items()} == {"en": 2, "fr": 1}
    assert {lang: len(ns) for lang, ns in drawn.specific.items()} == {"en": 1, "fr": 1}
    assert len(drawn.agnostic) == 3 and len(set(drawn.per_lang["en"]) & set(drawn.agnostic)) == 1
    with pytest.raises(RmlLamaError, match="needs the 'matrice'"):
        get_localizer("random").localize(fact, None)


def activation_fact() -> FactAttributions:
    # layers 3 and 5, d_ff 3. en mean [[3, 0.5, -2], [0.5, 0, 1]] / 3 = [[1, 1/6, -2/3], [1/6, 0, 1/3]];
    # fr (one query) [[1, 0, 0], [0, 2, 0.5]] / 2 = [[0.5, 0, 0], [0, 1, 0.25]]
    en = [q([[2.0, 0.0, -4.0], [1.0, 0.0, 0.0]]), q([[4.0, 1.0, 0.0], [0.0, 0.0, 2.0]])]
    fr = [q([[1.0, 0.0, 0.0], [0.0, 2.0, 0.5]])]
    return FactAttributions("P1:Q1:Q2", (3, 5), 3, {ACTIVATION: {"en": en, "fr": fr}})


def test_activation_keeps_neurons_above_tau_of_the_languages_largest_mean_activation():
    result = ActivationNeurons(tau=0.3).localize(activation_fact())
    assert result.per_lang == {"en": [(3, 0), (5, 2)], "fr": [(3, 0), (5, 1)]}
    assert result.per_lang_scores["en"] == [pytest.approx(1.0), pytest.approx(1 / 3)]
    assert result.agnostic == [(3, 0)] and result.agnostic_scores == [pytest.approx(0.5)]  # its weaker language
    assert ActivationNeurons(tau=0.5).localize(activation_fact()).per_lang["en"] == [(3, 0)]
    assert get_localizer("activation").baselines == (ACTIVATION,) and get_localizer("activation").params()["tau"] == 0.5


def test_activation_ranks_by_signed_activation_and_agnostic_by_the_weakest_language():
    ranking = ActivationNeurons().rank(activation_fact())
    # en: 1, 1/3, then the two 1/6 ties by (layer, index), 0, and the strongly negative neuron last
    assert top_k(ranking.per_lang["en"], ranking.layers, 6) == [(3, 0), (5, 2), (3, 1), (5, 0), (5, 1), (3, 2)]
    assert np.allclose(ranking.agnostic, [[0.5, 0.0, -2 / 3], [0.0, 0.0, 0.25]])
    assert top_k(ranking.agnostic, ranking.layers, 2) == [(3, 0), (5, 2)]


def test_half_takes_even_and_odd_queries():
    fact = kn_fact()
    assert [x.scores[0, 0] for x in fact.half(0).for_lang(ZERO_BASELINE, "en")] == [1.0, 0.5]
    assert [x.scores[0, 0] for x in fact.half(1).for_lang(ZERO_BASELINE, "en")] == [2.0]
    assert fact.half(1).langs(ZERO_BASELINE) == ["en"]  # fr has one query: nothing at odd positions


def test_nothing_positive_means_nothing_found():
    fact = FactAttributions("f", (0,), 3, {ZERO_BASELINE: {"en": [q([[-1.0, 0.0, -2.0]])]},
                                           AMIG_BASELINE: {"en": [q([[0.0, 0.0, 0.0]])]},
                                           AMIG_AUTHORS: {"en": [q([[-1.0, -1.0, 0.0]])]}})
    for name in ("matrice", "kn", "amig"):
        result = get_localizer(name).localize(fact)
        assert result.all_neurons() == [], name


def test_registry_lists_the_ablations_and_rejects_unknown_names():
    assert {"matrice", "matrice-no-query-unc", "matrice-no-lang-unc", "matrice-zero", "matrice-renorm", "amig",
            "amig-ig", "kn", "kn-retuned", "activation", "random"} <= set(LOCALIZERS)
    assert get_localizer("matrice").baselines == (AMIG_BASELINE,) and get_localizer("amig").baselines == (AMIG_AUTHORS,)
    assert get_localizer("matrice-zero").baselines == (ZERO_BASELINE,)
    assert get_localizer("matrice-no-lang-unc").params()["lang_uncertainty"] is False
    with pytest.raises(RmlLamaError, match="unknown localizer 'bogus'; known: matrice"):
        get_localizer("bogus")


def test_localization_json_round_trip():
    result = get_localizer("matrice").localize(matrice_fact())
    assert Localization.from_json(result.to_json()).per_lang == result.per_lang
