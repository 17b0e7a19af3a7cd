"""Cross-lingual editing (`rml-lama edit`) on a tiny planted model whose truth is known.

The model: the tiny XLM-R of tests/test_plant.py with two facts planted by `rml-lama plant`'s code: an agnostic
plant (one neuron that fires on the fact's queries in all 7 languages) and a specific plant (a neuron that fires
on its English queries only). Editing through the agnostic neuron from English must move the fact in every
language; editing through the specific neuron must move it in English only.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from rml_lama.applications.common import StudyInputs, study_config
from rml_lama.applications.edit import EditOptions, run_edit
from rml_lama.applications.weights import changed_tensors, snapshot
from rml_lama.errors import RmlLamaError
from rml_lama.evaluation.store import read_all_records
from rml_lama.schema import CORE_LANGUAGES
from rml_lama.testbeds.plant import AGNOSTIC, SPECIFIC
from rml_lama.testbeds.tiny import tiny_bundle
from tests.support.applications import planted_tiny_model


@pytest.fixture(scope="module")
def planted():
    return planted_tiny_model()


def options(**overrides) -> EditOptions:
    values = dict(localizers=("kn",), langs=tuple(CORE_LANGUAGES), source_langs=("en",), facts=2, steps=6,
                  neighbours=3)
    values.update(overrides)
    return EditOptions(**values)


def run(planted, out: Path, opts: EditOptions, **kwargs) -> dict:
    bundle, release, truth = planted
    inputs = StudyInputs(bundle, release, "tiny-planted", "checksum", truth, "truth.json", None)
    config = study_config("edit", opts.identity(), opts.localizers, "tiny-planted", "checksum", "truth.json",
                          opts.seed)
    run_edit(inputs, opts, out, config, progress=False, **kwargs)
    return {(r["fact_id"], r["localizer"]): r for r in read_all_records(out)}


def plant_of(truth: dict, kind: str) -> dict:
    (entry,) = [p for p in truth["plants"] if p["kind"] == kind]
    return entry


def test_editing_the_agnostic_plant_from_english_moves_the_fact_in_every_language(planted, tmp_path):
    _, _, truth = planted
    agnostic = plant_of(truth, AGNOSTIC)
    record = run(planted, tmp_path / "dai", options(editor="dai"))[(agnostic["fact_id"], "kn")]
    arms = record["results"]["en"]
    assert record["neurons"]["en"]["planted"] == agnostic["neurons"]
    assert len(record["neurons"]["en"]["planted-random"]) == 1
    for lang in CORE_LANGUAGES:  # every language the neuron was planted in: ES well above the random neuron
        planted_es = arms["planted"]["targets"][lang]["es"]
        control_es = arms["planted-random"]["targets"][lang]["es"]
        assert arms["planted"]["targets"][lang]["es_before"] == 0.0, lang  # the model held the old object
        assert planted_es >= 0.5 and planted_es >= control_es + 0.5, (lang, planted_es, control_es)


def test_a_specific_plants_edit_stays_in_its_language(planted, tmp_path):
    _, _, truth = planted
    specific = plant_of(truth, SPECIFIC)
    (lang,) = specific["langs"]
    record = run(planted, tmp_path / "adam", options(editor="adam", arms=("planted",)))[(specific["fact_id"], "kn")]
    targets = record["results"][lang]["planted"]["targets"]
    assert targets[lang]["es"] == 1.0 and targets[lang]["ps"] == 1.0  # held-out rephrasing too
    assert targets[lang]["es_before"] < 1.0  # the edit is what made the new object win there
    for other in set(CORE_LANGUAGES) - {lang}:  # elsewhere the edit changes no outcome (a planted fact is known
        # nowhere before planting, so the new object may already win there: compare with before the edit)
        assert targets[other]["es"] == targets[other]["es_before"], other
        assert targets[other]["ps"] == targets[other]["ps_before"], other


def test_the_model_is_bit_identical_after_a_run_and_a_rerun_resumes(planted, tmp_path):
    bundle = planted[0]
    before = snapshot(bundle.model)
    out = tmp_path / "run"
    first = run(planted, out, options(langs=("en", "fr", "ja"), localizers=("kn", "matrice")))
    assert changed_tensors(bundle.model, before) == []
    assert len(first) == 4 and {r["outcome"] for r in first.values()} == {"edited"}
    lines = (out / "results.rank0.jsonl").read_text().splitlines()
    (out / "results.rank0.jsonl").write_text("\n".join(lines[:-1]) + "\n" + lines[-1][:40])  # killed mid-line
    again = run(planted, out, options(langs=("en", "fr", "ja"), localizers=("kn", "matrice")))
    assert sorted(again) == sorted(first) and len(read_all_records(out)) == 4
    assert changed_tensors(bundle.model, before) == []
    with pytest.raises(RmlLamaError, match="another configuration.*options.editor"):
        run(planted, out, options(langs=("en", "fr", "ja"), localizers=("kn", "matrice"), editor="adam"))


def test_save_edited_writes_a_copy_that_differs_only_in_the_edited_value_vectors(planted, tmp_path):
    from rml_lama.applications.weights import value_vectors
    from rml_lama.models import load_model

    bundle = planted[0]
    records = run(planted, tmp_path / "run", options(langs=("en", "fr")), save_edited=tmp_path / "edited")
    note = json.loads((tmp_path / "edited" / "edit.json").read_text())
    neurons = {tuple(n) for n in note["neurons"]}
    assert neurons == {tuple(n) for n in records[(note["fact_id"], "kn")]["neurons"]["en"]["found"]}
    edited = load_model(tmp_path / "edited", device="cpu")
    changed = changed_tensors(edited.model, snapshot(bundle.model))
    assert changed and all("output.dense.weight" in name for name in changed)
    for layer in range(bundle.n_layers):
        differs = (value_vectors(edited, layer) != value_vectors(bundle, layer)).any(dim=1).nonzero().flatten()
        assert {(layer, int(i)) for i in differs} <= neurons


def test_dai_update_matches_the_formula_by_hand():
    from rml_lama.applications.editors import DaiEditor, EditTask
    from rml_lama.applications.weights import output_embeddings, value_vectors

    bundle = tiny_bundle("xlm-roberta", layers=2, hidden=32, d_ff=48)
    with torch.no_grad():
        value_vectors(bundle, 1)[5] = torch.zeros(32)
        value_vectors(bundle, 1)[5, :2] = torch.tensor([3.0, 4.0])  # |v| = 5
        output_embeddings(bundle)[10] = torch.zeros(32)
        output_embeddings(bundle)[10, 0] = 1.0  # E(old) = e0, |E(old)| = 1
        output_embeddings(bundle)[11] = torch.zeros(32)
        output_embeddings(bundle)[11, 1] = 2.0  # E(new) = 2 e1, |E(new)| = 2
    rows = DaiEditor(a=1.0, b=8.0).new_rows(bundle, [(1, 5)], EditTask((10,), (11,), ()))
    expected = torch.zeros(32)
    expected[:2] = torch.tensor([3.0 - 5.0, 4.0 + 5.0 / 2.0 * 8.0 * 2.0])  # v - |v| e0 + (|v|/2) 8 (2 e1)
    assert rows[1][0] == [5]
    assert torch.allclose(rows[1][1][0], expected)


def test_dai_uses_the_output_embedding_of_an_untied_model():
    from rml_lama.applications.editors import DaiEditor, EditTask
    from rml_lama.applications.weights import output_embeddings, value_vectors

    bundle = tiny_bundle("llama", layers=2, hidden=32, d_ff=48)
    assert not torch.equal(bundle.model.get_input_embeddings().weight, output_embeddings(bundle))
    v = value_vectors(bundle, 0)[3].clone()
    rows = DaiEditor(a=0.0, b=1.0).new_rows(bundle, [(0, 3)], EditTask((7,), (9,), ()))
    e_new = output_embeddings(bundle)[9]
    assert torch.allclose(rows[0][1][0], v + v.norm() / e_new.norm() * e_new, atol=1e-6)


def test_the_adam_editor_writes_only_the_chosen_neurons_and_raises_the_new_object(planted):
    from rml_lama.applications.editors import AdamEditor, EditTask
    from rml_lama.applications.scoring import ProbeTable, answer_ids
    from rml_lama.applications.weights import replaced_value_vectors
    from rml_lama.probing.targets import Probe

    bundle = planted[0]
    query = "The capital of France is [MASK]."
    table = ProbeTable(bundle, [(query, "Rome")])
    before = snapshot(bundle.model)
    task = EditTask(answer_ids(bundle, query, "Paris"), answer_ids(bundle, query, "Rome"), (Probe(query, "Rome"),))
    rows = AdamEditor(steps=20, lr=0.1).new_rows(bundle, [(1, 2), (0, 4)], task)
    assert changed_tensors(bundle.model, before) == []  # optimising leaves the model as it was
    assert sorted((layer, idx) for layer, (idx, _) in rows.items()) == [(0, [4]), (1, [2])]
    old = table.score().log_prob[0]
    with replaced_value_vectors(bundle, rows):
        assert table.score().log_prob[0] > old + 0.5
    assert changed_tensors(bundle.model, before) == []


def test_a_fact_without_a_counterfactual_object_is_a_recorded_outcome(planted, tmp_path):
    bundle, release, truth = planted
    lonely = release.copy()
    lonely["relation"] = lonely["relation"].where(lonely["obj_label"] != "Rome", "P999")  # Rome alone in its relation
    inputs = StudyInputs(bundle, lonely, "tiny", "c", None, None, None)
    opts = options(facts=10, langs=("en", "fr"), steps=2)
    run_edit(inputs, opts, tmp_path / "run", study_config("edit", opts.identity(), opts.localizers, "tiny", "c",
                                                          None, 0), progress=False)
    records = read_all_records(tmp_path / "run")
    rome = [r for r in records if r["old"]["en"] == "Rome"]
    assert rome and {r["outcome"] for r in rome} == {"no_new_object"}
    assert {r["outcome"] for r in records if r["old"]["en"] != "Rome"} == {"edited"}


def test_an_empty_neuron_set_is_scored_as_no_edit(planted, tmp_path):
    records = run(planted, tmp_path / "run", options(langs=("en", "fr")))
    for record in records.values():  # kn finds no language-agnostic neuron from English alone on this model
        agnostic = record["results"]["en"]["agnostic"]
        if not record["neurons"]["en"]["agnostic"]:
            assert agnostic["no_edit"] is True
            assert all(t["es"] == t["es_before"] for t in agnostic["targets"].values())


def test_bad_options_are_clear_errors(tmp_path):
    from rml_lama.cli import main

    args = ["edit", "--out", str(tmp_path / "x"), "--facts", "1"]
    with pytest.raises(SystemExit):
        main(args + ["--editor"])
    assert main(args + ["--localizer", "random"]) == 2
    assert main(args + ["--source-langs", "de"]) == 2
    assert main(args + ["--langs", "en,xx"]) == 2
    assert main(args + ["--editor", "rome"]) == 2
    assert main(args + ["--arms", "found,best"]) == 2
    assert not (tmp_path / "x").exists()


def test_metrics_by_hand():
    from rml_lama.applications.metrics import (
        agreement,
        efficacy,
        harmonic_mean,
        magnitude,
        matrix_summary,
        neighbourhood,
        transfer_matrix,
    )

    new, old = np.log([0.5, 0.1, 0.3]), np.log([0.2, 0.4, 0.3])
    assert efficacy(new, old) == pytest.approx(1 / 3)  # ties do not count
    assert magnitude(new, old) == pytest.approx((0.3 - 0.3 + 0.0) / 3)
    assert neighbourhood(old, new) == pytest.approx(1 / 3)
    assert agreement([(1, 2), (3,)], [(1, 2), (4,)]) == 0.5
    assert harmonic_mean([1.0, 0.5, 0.5]) == pytest.approx(3 / (1 + 2 + 2))
    assert harmonic_mean([1.0, 0.0, 0.5]) == 0.0 and harmonic_mean([1.0, None]) is None
    matrix = transfer_matrix({("en", "en"): [1.0, 0.5], ("en", "fr"): [0.0, None], ("fr", "en"): [0.5]},
                             ["en", "fr"], ["en", "fr"])
    assert np.allclose(matrix[0], [0.75, 0.0]) and matrix[1, 0] == 0.5 and np.isnan(matrix[1, 1])
    assert matrix_summary(matrix, ["en", "fr"], ["en", "fr"]) == {"in_language": 0.75, "cross_language": 0.25,
                                                                  "gap": 0.5}


def test_cli_edit_on_a_saved_planted_model_and_report_dispatch(planted, tmp_path):
    from rml_lama.cli import main
    from rml_lama.dataset.release import write_release
    from rml_lama.io import atomic_write_json
    from rml_lama.schema import QueryRecord

    bundle, release, truth = planted
    model_dir = tmp_path / "model"
    bundle.model.save_pretrained(model_dir)
    bundle.tokenizer.save_pretrained(model_dir)
    atomic_write_json(model_dir / "truth.json", truth)
    rows = [{key: value for key, value in row.items() if not pd.isna(value)} for row in release.to_dict("records")]
    write_release([QueryRecord(**row) for row in rows], tmp_path / "release")  # fields the frame lacks: defaults
    out = tmp_path / "run"
    args = ["edit", "--model", str(model_dir), "--release", str(tmp_path / "release"), "--localizer", "kn",
            "--facts", "2", "--steps", "2", "--neighbours", "2", "--threads", "1", "--langs", "en,fr,ja", "--out", str(out)]
    assert main(args) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["study"] == "edit" and summary["localizers"]["kn"]["facts"] == 2
    assert summary["localizers"]["kn"]["arms"]["planted"]["control"] == "planted-random"
    by_kind = summary["localizers"]["kn"]["arms"]["planted"]["by_plant_kind"]
    assert {kind: part["facts"] for kind, part in by_kind.items()} == {"agnostic": 1, "specific": 1}
    assert by_kind["specific"]["langs"] == ["en"]
    (out / "summary.json").unlink()
    assert main(["report", str(out)]) == 0  # the same report command, dispatched on the run's study
    assert json.loads((out / "summary.json").read_text())["study"] == "edit"
    assert (out / "edit_transfer_kn_found_es.png").is_file() and (out / "edit_transfer_kn_planted_ps.png").is_file()
