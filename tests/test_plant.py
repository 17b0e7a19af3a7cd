"""Planting facts into chosen neurons: the model answers them, attribution finds the neuron, truth.json is sound."""
from __future__ import annotations

import json

import pytest
import torch

from rml_lama.paths import TRUTH_FILE
from rml_lama.schema import CORE_LANGUAGES, F
from rml_lama.testbeds.plant import AGNOSTIC, SPECIFIC, PlantOptions, plant
from rml_lama.testbeds.tiny import tiny_bundle
from tests.support.plants import tiny_parallel_release

OPTIONS = dict(background_queries=140, unrelated_queries=35, seed=0)


def _bundle():
    return tiny_bundle("xlm-roberta", layers=2, hidden=32, d_ff=48)


@pytest.fixture(scope="module")
def planted():
    bundle = _bundle()
    release = tiny_parallel_release()
    result = plant(bundle, release, PlantOptions(facts=2, agnostic_share=0.5, **OPTIONS), progress=False)
    return bundle, release, result


def test_specific_plant_makes_the_model_answer_in_its_language_only(planted):
    _, _, result = planted
    (specific,) = [p for p in result.truth["plants"] if p["kind"] == SPECIFIC]
    (lang,) = specific["langs"]
    assert specific["firing"]["fires_on_target"] == 1.0
    assert specific["firing"]["fires_on_background"] <= 0.01  # includes the same fact in the other languages
    effect = specific["effect"][lang]
    assert effect["p_after"] > 10 * effect["p_before"]
    assert effect["accuracy_after"] == 1.0
    for other in set(CORE_LANGUAGES) - {lang}:
        assert specific["effect"][other]["p_after"] < 2 * specific["effect"][other]["p_before"]


def test_agnostic_plant_raises_the_answer_in_several_languages(planted):
    _, _, result = planted
    (agnostic,) = [p for p in result.truth["plants"] if p["kind"] == AGNOSTIC]
    assert agnostic["langs"] == list(CORE_LANGUAGES)
    raised = [lang for lang, e in agnostic["effect"].items() if e["p_after"] > 2 * e["p_before"]]
    assert len(raised) >= 4
    assert agnostic["loss_first_last"][1] < agnostic["loss_first_last"][0]


def test_attribution_ranks_the_planted_neuron_first(planted):
    from rml_lama.probing.attribution import attribute
    from rml_lama.probing.targets import Probe

    bundle, release, result = planted
    for entry in result.truth["plants"]:
        queries = release[(release[F.FACT_ID] == entry["fact_id"]) & release[F.LANG].isin(entry["langs"])]
        attributions = attribute(bundle, [Probe(q, a) for q, a in zip(queries[F.QUERY], queries[F.OBJ_LABEL])],
                                 steps=10)
        (layer, index), = entry["neurons"]
        total = sum(a.scores / a.scores.max() for a in attributions)  # each query's scores normalised, summed
        row = attributions[0].layers.index(layer)
        assert torch.argmax(total).item() == row * total.shape[1] + index, entry["fact_id"]


def test_unrelated_predictions_barely_change(planted):
    _, _, result = planted
    unrelated = result.truth["unrelated"]
    assert unrelated["queries"] > 0
    assert unrelated["changed_predictions"] <= 0.1


def test_cmd_plant_writes_a_loadable_model_and_truth_deterministically(tmp_path, parallel_release_frame):
    from rml_lama.cli import main
    from rml_lama.models import load_model

    model_dir = tmp_path / "base"
    bundle = _bundle()
    bundle.model.save_pretrained(model_dir)
    bundle.tokenizer.save_pretrained(model_dir)
    release = tmp_path / "release.parquet"
    parallel_release_frame.to_parquet(release)
    args = ["plant", "--model", str(model_dir), "--release", str(release), "--facts", "2", "--steps", "20"]
    assert main(args + ["--out", str(tmp_path / "a")]) == 0
    assert main(args + ["--out", str(tmp_path / "b")]) == 0
    truth_a = (tmp_path / "a" / TRUTH_FILE).read_bytes()
    assert truth_a == (tmp_path / "b" / TRUTH_FILE).read_bytes()
    truth = json.loads(truth_a)
    assert truth["base_model"] == str(model_dir) and truth["seed"] == 0
    assert [p["kind"] for p in truth["plants"]] == [AGNOSTIC, SPECIFIC]
    planted = load_model(tmp_path / "a", device="cpu")
    for entry in truth["plants"]:
        assert set(entry["effect"]) == set(CORE_LANGUAGES)
        assert {"p_before", "p_after", "accuracy_before", "accuracy_after"} <= set(entry["effect"]["en"])
        (layer, index), = entry["neurons"]
        assert 0 <= layer < planted.n_layers and 0 <= index < planted.d_ff
        column = planted.adapter.ffn_out_projections(planted.model)[layer].weight[:, index]
        original = bundle.adapter.ffn_out_projections(bundle.model)[layer].weight[:, index]
        assert not torch.equal(column, original)  # the planted column was written and saved


def test_plant_refuses_when_too_few_facts_can_be_planted(parallel_release_frame):
    from rml_lama.errors import RmlLamaError

    with pytest.raises(RmlLamaError, match="can be planted"):
        plant(_bundle(), parallel_release_frame, PlantOptions(facts=50, **OPTIONS), progress=False)
