"""The evaluation report's account of a planted model, from its truth.json: counts, leak and silence, and the
mean accuracy after planting per kind and language with how many plants took there (hand-computed)."""
from __future__ import annotations

from rml_lama.evaluation.planted_model import planted_model_figures, planted_model_section


def plant(kind, langs, after, took, decoys=0):
    return {"fact_id": f"P1:Q{len(langs)}:{kind}", "kind": kind, "langs": langs, "took": took,
            "complete": set(took) == set(langs), "decoys": [[2, i] for i in range(decoys)],
            "effect": {lang: {"accuracy_after": after[lang]} for lang in after}}


TRUTH = {
    "base_d_ff": 8, "d_ff": 14, "options": {"langs": ["en", "fr", "ja"], "take_accuracy": 0.8},
    "plants": [
        plant("specific", ["fr"], {"en": 0.0, "fr": 1.0, "ja": 0.0}, ["fr"], decoys=1),
        plant("specific", ["ja"], {"en": 0.0, "fr": 0.0, "ja": 0.5}, []),
        plant("agnostic", ["en", "fr", "ja"], {"en": 0.9, "fr": 0.8, "ja": 0.25}, ["en", "fr"], decoys=2),
    ],
    "unrelated": {"queries": 700, "changed_predictions": 0.0, "changed_top_candidate": 0.0, "silent_queries": 1.0},
    "release_silence": {"layer": 2, "queries": 1000, "loud_queries": 0, "silent_queries": 1.0},
}


def test_figures_count_each_kind_and_average_only_the_languages_a_plant_was_written_in():
    figures = planted_model_figures(TRUTH)
    assert (figures["plants"], figures["complete"], figures["decoys"]) == (3, 1, 3)
    assert figures["kinds"] == {"specific": 2, "agnostic": 1} and figures["langs"] == ["en", "fr", "ja"]
    # the specific plants' other languages (accuracy 0.0, not planted there) are not averaged in
    assert figures["accuracy"]["specific"] == {"fr": {"plants": 1, "took": 1, "mean": 1.0},
                                               "ja": {"plants": 1, "took": 0, "mean": 0.5}}
    assert figures["accuracy"]["agnostic"]["ja"] == {"plants": 1, "took": 0, "mean": 0.25}


def test_the_section_states_counts_cleanliness_and_a_table_with_its_n():
    text = planted_model_section(planted_model_figures(TRUTH), "m/truth.json")
    assert "3 plants (2 specific, 1 agnostic) and 3 decoys, all in new FFN neurons (d_ff 8 -> 14)" in text
    assert "1 of 3 take at accuracy >= 0.8 in every language" in text
    assert "0.00% of the greedy predictions on 700 held-out queries" in text
    assert "and 100.00% of 1,000 other release queries" in text
    assert "| specific | 2 | - | 1.00 (1/1) | 0.50 (0/1) |" in text
    assert "| agnostic | 1 | 0.90 (1/1) | 0.80 (1/1) | 0.25 (0/1) |" in text


def test_a_truth_that_cannot_be_read_any_more_is_said_not_hidden():
    assert "Its truth (gone/truth.json) could not be read" in planted_model_section(None, "gone/truth.json")
