"""Scores on hand-made numbers and neuron sets."""
from __future__ import annotations

import math

import numpy as np
import pytest

from rml_lama.evaluation.metrics import (
    accuracy,
    bootstrap_ci,
    ground_truth_scores,
    jaccard,
    language_overlap,
    layer_distribution,
    mean_relative_change,
    neuron_counts,
    relative_changes,
    stability,
)
from rml_lama.localizers import Localization


def test_relative_change_is_dais_metric_and_skips_zero_baselines():
    changes = relative_changes([0.5, 0.2, 0.0], [0.25, 0.3, 0.1])
    assert changes[:2] == pytest.approx([-0.5, 0.5])
    assert math.isnan(changes[2])
    assert mean_relative_change([0.5, 0.2, 0.0], [0.25, 0.3, 0.1]) == pytest.approx(0.0)
    assert mean_relative_change([0.0], [1.0]) is None
    assert mean_relative_change([0.5, 1e-9], [0.25, 1e-6], min_prob=1e-4) == pytest.approx(-0.5)


def test_accuracy_counts_gold_ranked_first():
    assert accuracy([0, 2, 0, 1]) == 0.5
    assert accuracy([]) is None


def test_jaccard_overlap_and_stability():
    assert jaccard([(0, 1), (0, 2)], [(0, 2), (1, 1)]) == pytest.approx(1 / 3)
    assert jaccard([], []) is None
    assert language_overlap({"en": [(0, 1)], "fr": [(0, 1)], "fi": []}) == {"en-fr": 1.0, "en-fi": 0.0, "fr-fi": 0.0}
    first = Localization({"en": [(0, 1), (0, 2)], "fr": [(0, 1)]}, [(0, 1)])
    second = Localization({"en": [(0, 1)], "fr": [(0, 1)]}, [(0, 1)])
    assert stability(first, second) == {"agnostic": 1.0, "per_lang": pytest.approx(0.75)}


def test_counts_and_layers():
    loc = Localization({"en": [(0, 1), (2, 5)], "fr": [(0, 1), (2, 6), (2, 7)]}, [(0, 1)])
    counts = neuron_counts(loc)
    assert counts["agnostic"] == 1 and counts["all"] == 4
    assert counts["specific"] == {"en": 1, "fr": 2} and counts["mean_per_lang"] == 2.5
    assert layer_distribution(loc.all_neurons()) == {"0": 1, "2": 3}


def test_bootstrap_interval_is_seeded_and_brackets_the_mean():
    values = [0.1, 0.4, -0.2, 0.3, None, float("nan"), 0.0]
    first = bootstrap_ci(values, seed=3)
    assert first == bootstrap_ci(values, seed=3)
    assert first["n"] == 5 and first["mean"] == pytest.approx(0.12)
    assert -0.2 <= first["low"] <= first["mean"] <= first["high"] <= 0.4
    assert bootstrap_ci([0.5, 0.5, 0.5]) == {"mean": 0.5, "low": 0.5, "high": 0.5, "n": 3}
    assert bootstrap_ci([]) == {"mean": None, "low": None, "high": None, "n": 0}
    assert bootstrap_ci([2.0]) == {"mean": 2.0, "low": 2.0, "high": 2.0, "n": 1}


def test_bootstrap_interval_narrows_with_more_facts():
    rng = np.random.default_rng(0)
    small = bootstrap_ci(rng.normal(size=10), seed=0)
    large = bootstrap_ci(rng.normal(size=1000), seed=0)
    assert large["high"] - large["low"] < small["high"] - small["low"]


def test_ground_truth_precision_recall_and_kind():
    loc = Localization({"en": [(1, 5), (2, 9), (0, 3)], "fr": [(1, 5), (2, 8)]}, [(1, 5)])
    plants = [
        {"kind": "agnostic", "langs": ["en", "fr"], "neurons": [[1, 5]]},
        {"kind": "specific", "langs": ["en"], "neurons": [[2, 9]]},
        {"kind": "specific", "langs": ["fr"], "neurons": [[2, 9], [3, 3]]},
    ]
    scores = ground_truth_scores(loc, plants)
    # planted {(1,5), (2,9), (3,3)}; found {(0,3), (1,5), (2,8), (2,9)}; hits (1,5), (2,9)
    assert scores["recall"] == pytest.approx(2 / 3) and scores["precision"] == pytest.approx(2 / 4)
    assert scores["recall_agnostic"] == 1.0 and scores["kind_right_agnostic"] == 1.0
    # specific rows: (2,9) for en -> right; (2,9) for fr -> found but not among fr's neurons; (3,3) missed
    assert scores["recall_specific"] == pytest.approx(2 / 3)
    assert scores["kind_right_specific"] == pytest.approx(1 / 3)


# ----------------------------------------------------------------------------- paired statistics (issue 12)
def test_log_prob_change_is_after_minus_before_and_symmetric():
    from rml_lama.evaluation.metrics import log_prob_changes

    assert log_prob_changes(np.log([0.5, 0.2]), np.log([0.25, 0.4])) == pytest.approx([-math.log(2), math.log(2)])


def test_paired_bootstrap_on_two_facts_matches_the_hand_computed_resampling():
    from rml_lama.evaluation.metrics import paired_bootstrap

    # differences 1 and 3: resampled means are 1 (p 1/4), 2 (p 1/2), 3 (p 1/4); the 2.5% / 97.5% quantiles of
    # 4000 draws are 1 and 3; the facts present in one localizer only ("c") are left out of the pairing
    result = paired_bootstrap({"a": 2.0, "b": 5.0, "c": 9.0}, {"a": 1.0, "b": 2.0}, n_boot=4000, seed=0)
    assert (result["mean"], result["median"], result["low"], result["high"], result["n"]) == (2.0, 2.0, 1.0, 3.0, 2)


def test_pairing_removes_the_spread_between_facts():
    from rml_lama.evaluation.metrics import describe, paired_bootstrap

    rng = np.random.default_rng(1)
    base = rng.normal(0.0, 5.0, size=50)  # facts differ a lot ...
    first = {str(i): float(v) - 1.0 for i, v in enumerate(base)}  # ... but every fact is exactly 1 lower
    second = {str(i): float(v) for i, v in enumerate(base)}
    paired = paired_bootstrap(first, second, seed=0)
    assert paired["low"] == pytest.approx(-1.0) and paired["high"] == pytest.approx(-1.0)
    separate = describe(first.values(), seed=0)
    assert separate["high"] - separate["low"] > 1.0  # unpaired intervals overlap and say nothing
    assert paired_bootstrap(first, second, seed=0) == paired  # seeded


def test_describe_puts_the_median_beside_the_mean_and_skips_undefined():
    from rml_lama.evaluation.metrics import describe

    result = describe([1.0, 2.0, 30.0, None, float("nan")], seed=0)
    assert result["mean"] == pytest.approx(11.0) and result["median"] == 2.0 and result["n"] == 3


def test_ratio_of_means_is_recovery_with_a_paired_interval():
    from rml_lama.evaluation.metrics import ratio_of_means

    result = ratio_of_means({"a": -1.0, "b": -3.0}, {"a": -2.0, "b": -6.0, "c": -1.0}, seed=0)
    assert result["mean"] == pytest.approx(0.5) and result["low"] == pytest.approx(0.5)
    assert result["high"] == pytest.approx(0.5) and result["n"] == 2  # every resample has ratio exactly 1/2
    assert ratio_of_means({"a": 1.0}, {"a": 0.0})["mean"] is None
