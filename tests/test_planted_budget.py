"""Planted ground truth at equal budgets: precision@k, recall@k, kind accuracy and decoys on hand-made top-k sets,
and the report's planted tables on hand-made result lines."""
from __future__ import annotations

import pytest

from rml_lama.evaluation.metrics import ground_truth_scores, plant_at_budget, planted_at_budget
from rml_lama.evaluation.report import planted_section, planted_sentence, shown_pairs, summarise_planted
from rml_lama.localizers import Localization

# a budget of k = 2: exactly two neurons per localization language (en fr ja) and two agnostic ones
BUDGET = Localization({"en": [(2, 1), (2, 7)], "fr": [(2, 1), (2, 3)], "ja": [(2, 4), (2, 9)]}, [(2, 1), (2, 5)])
AGNOSTIC = {"kind": "agnostic", "langs": ["en", "fr", "fi", "hu", "ja", "ko", "zh"], "neurons": [[2, 1]],
            "decoys": [[2, 5]]}
SCRIPT = {"kind": "script", "langs": ["en", "fr", "fi", "hu"], "neurons": [[2, 3]], "decoys": [[2, 6]]}
SPECIFIC_EVERYWHERE = {"kind": "specific", "langs": ["en"], "neurons": [[2, 1]], "decoys": []}
DISTRIBUTED = {"kind": "distributed", "langs": ["fr"], "neurons": [[2, 3], [2, 8]], "decoys": []}
HELD_OUT_ONLY = {"kind": "specific", "langs": ["hu"], "neurons": [[2, 2]], "decoys": [[2, 1]]}
# an agnostic plant its detector could read in en fr hu only (silent in ja, which was localized)
PARTIAL_AGNOSTIC = {"kind": "agnostic", "langs": ["en", "fr", "hu"], "neurons": [[2, 3]], "decoys": []}


def test_an_agnostic_plant_is_scored_on_the_agnostic_top_k():
    # agnostic top-2 {(2,1), (2,5)} holds the planted (2,1): 1 of 2 chosen, 1 of 1 planted
    assert plant_at_budget(BUDGET, AGNOSTIC) == {"precision": 0.5, "recall": 1.0, "kind_right": 1.0}


def test_a_script_plant_is_scored_on_its_localized_languages_and_must_stay_out_of_the_others():
    # en {(2,1), (2,7)} misses (2,3); fr {(2,1), (2,3)} holds it and neither the agnostic set nor ja has it;
    # hu is not localized: precision mean(0/2, 1/2), recall mean(0/1, 1/1), kind right in fr only
    assert plant_at_budget(BUDGET, SCRIPT) == {"precision": 0.25, "recall": 0.5, "kind_right": 0.5}


def test_a_specific_plant_found_as_agnostic_is_found_but_of_the_wrong_kind():
    # (2,1) is in en's top-2, but also agnostic and in fr's (a language it does not cover)
    assert plant_at_budget(BUDGET, SPECIFIC_EVERYWHERE) == {"precision": 0.5, "recall": 1.0, "kind_right": 0.0}


def test_a_distributed_plant_counts_the_share_of_its_neurons_found():
    # fr {(2,1), (2,3)}: 1 of its 2 neurons
    assert plant_at_budget(BUDGET, DISTRIBUTED) == {"precision": 0.5, "recall": 0.5, "kind_right": 0.5}


def test_a_partial_agnostic_plant_is_scored_on_its_own_languages_not_on_the_agnostic_top_k():
    # not in every localized language (ja is missing), so the agnostic top-2 is not its set: en {(2,1), (2,7)}
    # misses (2,3), fr {(2,1), (2,3)} holds it, outside the agnostic set and ja's: as a script plant would be
    assert plant_at_budget(BUDGET, PARTIAL_AGNOSTIC) == {"precision": 0.25, "recall": 0.5, "kind_right": 0.5}
    assert planted_at_budget(BUDGET, [PARTIAL_AGNOSTIC])["kind_right_partial_agnostic"] == 0.5
    # localized in en and fr only, the same plant covers every localized language: agnostic top-2, (2,3) not in it
    narrow = Localization({"en": [(2, 1), (2, 7)], "fr": [(2, 1), (2, 3)]}, [(2, 1), (2, 5)])
    assert plant_at_budget(narrow, PARTIAL_AGNOSTIC) == {"precision": 0.0, "recall": 0.0, "kind_right": 0.0}
    # threshold sets: (2,3) is in fr's specific set and not agnostic, so its kind (partial agnostic) is right
    scores = ground_truth_scores(BUDGET, [PARTIAL_AGNOSTIC])
    assert scores["kind_right_partial_agnostic"] == 1.0 and scores["kind_right_agnostic"] is None


def test_a_plant_in_held_out_languages_only_is_not_scored():
    assert plant_at_budget(BUDGET, HELD_OUT_ONLY) is None


def test_a_fact_averages_its_plants_and_counts_decoys_of_the_scored_ones():
    both = planted_at_budget(BUDGET, [AGNOSTIC, SPECIFIC_EVERYWHERE])
    # precision mean(1/2, 1/2), recall mean(1, 1), kind mean(1, 0); AGNOSTIC's decoy (2,5) is the agnostic set's
    assert both == {"plants": 2.0, "precision": 0.5, "recall": 1.0, "kind_right": 0.5, "decoys_avoided": 0.0,
                    "kind_right_agnostic": 1.0, "kind_right_specific": 0.0}
    # SCRIPT's decoy (2,6) is in no set; HELD_OUT_ONLY is not scored, so its decoy (2,1) (found) does not count
    script = planted_at_budget(BUDGET, [SCRIPT, HELD_OUT_ONLY])
    assert script == {"plants": 1.0, "precision": 0.25, "recall": 0.5, "kind_right": 0.5, "decoys_avoided": 1.0,
                      "kind_right_script": 0.5}
    nothing = planted_at_budget(BUDGET, [HELD_OUT_ONLY])
    assert nothing == {"plants": 0.0, "precision": None, "recall": None, "kind_right": None, "decoys_avoided": None}


def test_threshold_sets_count_a_decoy_found_anywhere():
    scores = ground_truth_scores(BUDGET, [AGNOSTIC, SCRIPT])
    # found: (2,1) (2,3) (2,4) (2,5) (2,7) (2,9); decoys (2,5) found, (2,6) not
    assert scores["decoys"] == 2 and scores["decoys_avoided"] == 0.5
    assert scores["recall"] == 1.0 and scores["precision"] == pytest.approx(2 / 6)
    assert ground_truth_scores(BUDGET, [DISTRIBUTED])["decoys_avoided"] is None


# ------------------------------------------------------------------------------------------- the report
def line(fact: str, localizer: str, k1: dict, k3: dict | None = None) -> dict:
    budgets = {"1": {"planted": k1}, **({"3": {"planted": k3}} if k3 else {})}
    return {"fact_id": fact, "localizer": localizer, "planted": {"recall": 0.0}, "budgets": budgets}


def scores(precision, recall, kind, decoys=None) -> dict:
    return {"plants": 1.0, "precision": precision, "recall": recall, "kind_right": kind,
            "decoys_avoided": decoys, "kind_right_specific": kind}


BY_LOCALIZER = {
    "matrice": [line("a", "matrice", scores(1.0, 1.0, 1.0, 1.0)), line("b", "matrice", scores(0.0, 0.0, 0.0))],
    "kn": [line("a", "kn", scores(1.0, 1.0, 0.0, 0.0)), line("b", "kn", scores(1.0, 1.0, 1.0))],
    "random": [line("a", "random", scores(0.0, 0.0, 0.0, 1.0)), line("b", "random", scores(0.0, 0.0, 0.0))],
    "oracle": [line("a", "oracle", scores(1.0, 1.0, 1.0, 1.0)), line("b", "oracle", scores(1.0, 1.0, 1.0))],
}


def test_planted_summary_describes_each_localizer_and_pairs_them_per_fact():
    summary = summarise_planted(BY_LOCALIZER, seed=0)
    assert summary["facts"] == 2 and list(summary["budgets"]) == ["1"]
    entry = summary["budgets"]["1"]
    kn = entry["localizers"]["kn"]
    assert kn["recall"]["mean"] == 1.0 and kn["recall"]["n"] == 2
    assert kn["kind_right"]["mean"] == 0.5 and kn["kind_right_specific"]["mean"] == 0.5
    assert kn["decoys_avoided"] == {"mean": 0.0, "low": 0.0, "high": 0.0, "n": 1, "median": 0.0}
    assert entry["best"] == "kn"  # recall 1.0 against matrice's 0.5; the oracle is never "best"
    # matrice - kn per fact: recall (0, -1), kind (+1, -1); decoys only on fact a: 1 - 0
    assert entry["pairwise"]["recall"]["matrice - kn"]["mean"] == -0.5
    assert entry["pairwise"]["kind_right"]["matrice - kn"]["mean"] == 0.0
    assert entry["pairwise"]["decoys_avoided"]["matrice - kn"]["n"] == 1
    assert entry["pairwise"]["recall"]["kn - random"] == {"mean": 1.0, "low": 1.0, "high": 1.0, "n": 2,
                                                         "median": 1.0}
    assert shown_pairs(entry) == [("oracle", "kn"), ("kn", "matrice"), ("kn", "random"), ("matrice", "random")]


def test_planted_section_shows_the_tables_with_n_and_a_sentence():
    summary = {"planted": summarise_planted(BY_LOCALIZER, seed=0)}
    text = planted_section(summary)
    assert "## Planted ground truth at equal budgets" in text
    assert "| 1 | oracle | 2 | 1.00 [1.00, 1.00] | 1.00 [1.00, 1.00] |" in text  # the oracle first
    assert "| 1 | kn | 2 | 1.00 [1.00, 1.00] | 1.00 [1.00, 1.00] | 0.50 [0.00, 1.00] |" in text
    assert "0.00 [0.00, 0.00] (n=1)" in text  # kn's decoys: one fact has decoys
    # kn - matrice is matrice - kn read backwards: recall +0.50 over 2 facts
    assert "| 1 | kn - matrice | " in text and "+0.50 [" in text
    assert "At k = 1, **kn** finds the planted neurons best" in text and "over 2 of the 2 planted facts" in text
    assert "paired recall@k difference to random is +1.00 [+1.00, +1.00] (n=2), an interval above zero." in text
    assert "it also takes most decoys" in text  # kn took the one decoy there was (avoided 0.00)
    no_decoys = {name: [{**r, "budgets": {"1": {"planted": {**r["budgets"]["1"]["planted"], "decoys_avoided": None}}}}
                        for r in records] for name, records in BY_LOCALIZER.items()}
    assert "it also takes" not in planted_sentence({"planted": summarise_planted(no_decoys, seed=0)})
    assert planted_section({"planted": summarise_planted({"kn": [{"fact_id": "a", "localizer": "kn"}]}, 0)}) == ""
