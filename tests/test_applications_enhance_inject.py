"""Knowledge enhancement (`rml-lama enhance`) and new knowledge injection (`rml-lama inject`) on tiny models."""
from __future__ import annotations

import pytest
import torch

from rml_lama.applications.common import StudyInputs, study_config
from rml_lama.applications.enhance import RIGHT_SHARE, EnhanceOptions, run_enhance
from rml_lama.applications.inject import (
    InjectOptions,
    changed_outside,
    restore,
    run_inject,
    train_slices,
    trainable_slices,
)
from rml_lama.applications.weights import changed_tensors, snapshot
from rml_lama.errors import RmlLamaError
from rml_lama.evaluation.store import read_all_records
from rml_lama.probing.targets import Probe
from rml_lama.schema import CORE_LANGUAGES
from rml_lama.testbeds.tiny import tiny_bundle
from tests.support.applications import planted_tiny_model


@pytest.fixture(scope="module")
def planted():
    return planted_tiny_model()


# ------------------------------------------------------------------------------------------ enhance
@pytest.fixture(scope="module")
def enhanced(planted, tmp_path_factory):
    bundle, release, truth = planted
    before = snapshot(bundle.model)
    opts = EnhanceOptions(localizers=("kn",), langs=tuple(CORE_LANGUAGES), facts=10, factors=(1.0, 4.0), steps=4)
    out = tmp_path_factory.mktemp("enhance")
    run_enhance(StudyInputs(bundle, release, "tiny", "c", truth, "t", None), opts, out,
                study_config("enhance", opts.identity(), opts.localizers, "tiny", "c", "t", 0), progress=False)
    return out, read_all_records(out), changed_tensors(bundle.model, before)


def test_enhancement_leaves_the_model_bit_identical(enhanced):
    assert enhanced[2] == []


def test_eligible_facts_are_right_in_some_languages_and_wrong_in_others(enhanced):
    _, records, _ = enhanced
    assert records
    for record in records:
        accuracy = record["accuracy_all_queries"]
        assert record["right_langs"] == [lang for lang in CORE_LANGUAGES if accuracy[lang] >= RIGHT_SHARE]
        assert record["wrong_langs"] and record["right_langs"]
        assert set(record["right_langs"]) | set(record["wrong_langs"]) == set(CORE_LANGUAGES)


def test_factor_one_changes_nothing_and_every_arm_is_measured(enhanced):
    _, records, _ = enhanced
    for record in records:
        assert set(record["results"]) == {"activation", "weight"}
        for mode in ("activation", "weight"):
            assert set(record["results"][mode]) == {"1.0", "4.0"}
            for arm, result in record["results"][mode]["1.0"].items():
                for lang, figures in result["langs"].items():
                    assert figures["accuracy"] == figures["accuracy_before"], (mode, arm, lang)
                    assert figures["rel_change"] in (0.0, None), (mode, arm, lang)
                    assert figures["unrelated_accuracy"] == figures["unrelated_accuracy_before"]
            for arm, result in record["results"][mode]["4.0"].items():  # no neurons: scored as no change
                if result["no_neurons"]:
                    assert all(f["rel_change"] in (0.0, None) for f in result["langs"].values()), arm


def test_the_enhancement_report_has_a_curve(enhanced):
    from rml_lama.applications.report import write_study_report

    out, _, _ = enhanced
    summary = write_study_report(out, print_table=False)
    assert summary["study"] == "enhance"
    cell = summary["localizers"]["kn"]["results"]["activation"]["1.0"]["union"]
    assert cell["wrong_gain"]["mean"] == 0.0
    assert (out / "enhance_curve.png").is_file()


def test_enhance_options_are_checked(tmp_path):
    from rml_lama.cli import main

    args = ["enhance", "--out", str(tmp_path / "x")]
    assert main(args + ["--factors", "2,x"]) == 2
    assert main(args + ["--factors", "-1"]) == 2
    assert main(args + ["--modes", "gradient"]) == 2
    assert main(args + ["--langs", "en"]) == 2
    assert not (tmp_path / "x").exists()


# ------------------------------------------------------------------------------------------- inject
def test_trainable_slices_of_a_bert_neuron_by_hand():
    bundle = tiny_bundle("bert", layers=2, hidden=32, d_ff=48)
    masks = trainable_slices(bundle, [(1, 3)])
    prefix = "bert.encoder.layer.1."
    assert set(masks) == {prefix + "intermediate.dense.weight", prefix + "intermediate.dense.bias",
                          prefix + "output.dense.weight"}  # the output bias is shared: never trained
    assert masks[prefix + "intermediate.dense.weight"].sum() == 32 and masks[prefix + "intermediate.dense.weight"][3].all()
    assert masks[prefix + "intermediate.dense.bias"].nonzero().flatten().tolist() == [3]
    assert masks[prefix + "output.dense.weight"][:, 3].all() and masks[prefix + "output.dense.weight"].sum() == 32
    whole = trainable_slices(bundle, [(1, 3)], whole_layers=True)
    assert prefix + "output.dense.bias" in whole and all(m.all() for m in whole.values())


def test_trainable_slices_of_a_gated_mlp_cover_gate_and_up():
    bundle = tiny_bundle("llama", layers=2, hidden=32, d_ff=48)
    masks = trainable_slices(bundle, [(0, 5), (0, 7)])
    assert sorted(name.rsplit(".", 2)[-2] for name in masks) == ["down_proj", "gate_proj", "up_proj"]
    assert all(int(m.sum()) == 2 * 32 for m in masks.values())


def test_training_changes_only_the_chosen_entries_and_restores_exactly(planted):
    bundle = planted[0]
    before = snapshot(bundle.model)
    masks = trainable_slices(bundle, [(1, 2), (0, 4)])
    losses = train_slices(bundle, masks, [Probe("The capital of France is [MASK].", "Rome")], steps=10, lr=0.05)
    assert losses[-1] < losses[0]
    assert changed_outside(bundle.model, before, masks) == []  # every frozen bit unchanged
    changed = changed_tensors(bundle.model, before)
    assert changed and set(changed) <= set(masks)
    assert all(not p.requires_grad or p.grad is None for p in bundle.model.parameters())
    restore(bundle.model, before)
    assert changed_tensors(bundle.model, before) == []


def test_changed_outside_catches_a_single_bit(planted):
    bundle = planted[0]
    before = snapshot(bundle.model)
    masks = trainable_slices(bundle, [(1, 2)])
    weight = bundle.model.get_input_embeddings().weight
    tied = {name for name, t in bundle.model.state_dict().items() if t.data_ptr() == weight.data_ptr()}
    with torch.no_grad():
        weight.view(-1)[0:1].view(torch.int32).add_(1)  # flip the lowest mantissa bit of one entry
    try:
        assert set(changed_outside(bundle.model, before, masks)) == tied and tied
    finally:
        restore(bundle.model, before)
    assert changed_tensors(bundle.model, before) == []


def test_injection_run_teaches_the_training_language_and_keeps_the_model(planted, tmp_path):
    bundle, release, truth = planted
    before = snapshot(bundle.model)
    fact_file = tmp_path / "facts.txt"
    fact_file.write_text("# one fact\nP36:Q28:Q1781\n")
    from rml_lama.applications.inject import read_fact_file

    opts = InjectOptions(localizers=("kn",), langs=("en", "fr", "ja"), train_langs=("en",), facts=1,
                         fact_ids=read_fact_file(fact_file), steps=4, train_steps=15, lr=0.05, control_queries=6)
    inputs = StudyInputs(bundle, release, "tiny", "c", None, None, ["P36:Q142:Q90", "P36:Q38:Q220"])
    out = tmp_path / "run"
    run_inject(inputs, opts, out, study_config("inject", opts.identity(), opts.localizers, "tiny", "c", None, 0),
               progress=False)
    assert changed_tensors(bundle.model, before) == []
    (record,) = read_all_records(out)
    assert record["fact_id"] == "P36:Q28:Q1781" and set(record["results"]) == {"found", "random", "specific", "ffn"}
    for arm, entry in record["results"].items():
        if entry["no_neurons"]:
            assert entry["trained_entries"] == 0 and entry["langs"]["en"]["accuracy"] == entry["langs"]["en"][
                "accuracy_before"]
        else:
            assert entry["frozen_unchanged"] is True and entry["loss_first_last"][1] < entry["loss_first_last"][0]
    found = record["results"]["found"]
    if not found["no_neurons"]:
        assert found["langs"]["en"]["p"] > found["langs"]["en"]["p_before"]  # taught in English
    from rml_lama.applications.report import write_study_report

    summary = write_study_report(out, print_table=False)
    assert summary["study"] == "inject" and (out / "inject_transfer.png").is_file()


def test_inject_bad_input_is_a_clear_error(planted, tmp_path):
    from rml_lama.cli import main

    bundle, release, _ = planted
    opts = InjectOptions(localizers=("kn",), langs=("en", "fr"), train_langs=("en",), facts=1,
                         fact_ids=("P36:Q0:Q0",), steps=2)
    with pytest.raises(RmlLamaError, match="not in the release: P36:Q0:Q0"):
        run_inject(StudyInputs(bundle, release, "tiny", "c", None, None, None), opts, tmp_path / "r",
                   study_config("inject", opts.identity(), opts.localizers, "tiny", "c", None, 0), progress=False)
    args = ["inject", "--out", str(tmp_path / "x")]
    assert main(args + ["--train-langs", "ko", "--langs", "en,fr"]) == 2
    assert main(args + ["--new-facts", str(tmp_path / "missing.txt")]) == 2
    assert main(args + ["--arms", "all"]) == 2
    (tmp_path / "empty.txt").write_text("# nothing\n")
    assert main(args + ["--new-facts", str(tmp_path / "empty.txt")]) == 2
    assert not (tmp_path / "x").exists()
