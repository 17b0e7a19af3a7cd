"""`rml-lama plant` prints accuracy before -> after per language and warns where a plant did not take."""
from __future__ import annotations

from rml_lama.testbeds.plant import plant_table


def effect(before, after, queries=4):
    return {"accuracy_before": before, "accuracy_after": after, "queries": queries, "p_before": 0.0, "p_after": 0.0}


def test_the_plant_table_shows_before_and_after_and_warns_where_a_plant_did_not_take():
    truth = {"plants": [
        {"fact_id": "P36:Q142:Q90", "kind": "agnostic", "langs": ["en", "fr"], "neurons": [[1, 7]],
         "effect": {"en": effect(0.0, 1.0), "fr": effect(0.25, 0.25)}},
        {"fact_id": "P19:Q937:Q3012", "kind": "specific", "langs": ["fr"], "neurons": [[2, 30]],
         "effect": {"en": effect(0.0, 0.0), "fr": effect(0.0, 0.75)}},
    ]}
    lines = plant_table(truth).splitlines()
    assert lines[0].startswith("Accuracy of each planted fact") and "(2 plants)" in lines[0]
    assert lines[1].split() == ["fact", "kind", "neuron", "(layer,", "index)", "en", "fr"]
    assert lines[2].split() == ["P36:Q142:Q90", "agnostic", "1,", "7", "0.00", "->", "1.00*", "0.25", "->", "0.25*"]
    assert lines[3].split() == ["P19:Q937:Q3012", "specific", "2,", "30", "0.00", "->", "0.00", "0.00", "->", "0.75*"]
    # fr of the first plant stayed at 0.25 and of the second reached 0.75, both below the default take accuracy
    # 0.8; en of the second was not planted, so no warning for it
    assert lines[4:] == ["warning: the plant of P36:Q142:Q90 did not take in fr (accuracy 0.25 after, 4 queries)",
                         "warning: the plant of P19:Q937:Q3012 did not take in fr (accuracy 0.75 after, 4 queries)"]
    # the threshold is the one the planting recorded
    truth["options"] = {"take_accuracy": 0.5}
    assert plant_table(truth).splitlines()[4:] == lines[4:5]
