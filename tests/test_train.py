"""The default-model trainer: fact choice, held-out templates, tokenizer, encoding, determinism, saving."""
from __future__ import annotations

import json
import math

import pandas as pd
import pytest
import torch

from rml_lama.paths import MODEL_FACTS_FILE, TRAINING_REPORT_FILE
from rml_lama.schema import CORE_LANGUAGES, FIELDS, MASK, F, make_fact_id, template_id
from rml_lama.testbeds.train import (
    TrainConfig,
    build_tokenizer,
    default_model_path,
    encode_queries,
    heldout_templates,
    save_trained,
    select_facts,
    train_default_model,
    train_tokenizer_pieces,
)

SUBJECTS = ["Alda", "Borin", "Cesta", "Dumo", "Erla", "Fosk"]
OBJECTS = ["Paris", "Rome", "Tokyo"]
TEMPLATE_WORDS = {  # four templates per language; CJK ones without spaces
    "en": ["[X] is in [Y] .", "[X] lies in [Y] .", "the home of [X] is [Y] .", "[X] belongs to [Y] ."],
    "fr": ["[X] est en [Y] .", "[X] se trouve en [Y] .", "la ville [X] est en [Y] .", "[X] appartient à [Y] ."],
    "fi": ["[X] on [Y] .", "[X] sijaitsee [Y] .", "kaupunki [X] on [Y] .", "[X] kuuluu [Y] ."],
    "hu": ["[X] itt van [Y] .", "[X] található [Y] .", "a város [X] van [Y] .", "[X] tartozik [Y] ."],
    "ja": ["[X]は[Y]にある。", "[X]は[Y]に位置する。", "[X]の場所は[Y]です。", "[X]は[Y]に属する。"],
    "ko": ["[X]은 [Y]에 있다.", "[X]은 [Y]에 위치한다.", "[X]의 위치는 [Y]이다.", "[X]은 [Y]에 속한다."],
    "zh": ["[X]在[Y]。", "[X]位于[Y]。", "[X]的位置是[Y]。", "[X]属于[Y]。"],
}


def _rows(relation: str, subject: str, obj: str, langs=CORE_LANGUAGES, n_templates: int = 4) -> list[dict]:
    sub_uri, obj_uri = f"Q{subject}", f"Q{obj}"
    rows = []
    for lang in langs:
        for template in TEMPLATE_WORDS[lang][:n_templates]:
            template = template.replace(" .", f" {relation.lower()} .") if relation != "P17" else template
            rows.append({
                F.FACT_ID: make_fact_id(relation, sub_uri, obj_uri), F.RELATION: relation, F.LANG: lang,
                F.SUB_URI: sub_uri, F.OBJ_URI: obj_uri, F.SUB_LABEL: subject, F.OBJ_LABEL: obj,
                F.TEMPLATE_ID: template_id(relation, lang, template), F.TEMPLATE: template,
                F.QUERY: template.replace("[X]", subject).replace("[Y]", MASK), F.OBJECT_FINAL: True,
                F.SOURCE: "curated", F.ALIGNED_ID: None,
            })
    return rows


def tiny_release() -> pd.DataFrame:
    rows = []
    for i, subject in enumerate(SUBJECTS):
        rows += _rows("P17", subject, OBJECTS[i % 3])
        rows += _rows("P131", subject, OBJECTS[(i + 1) % 3])
    rows += _rows("P17", "Gneb", "Rome", langs=("en", "fr"))  # not in all 7 languages: never chosen
    rows += _rows("P17", "Alda", "Tokyo")  # a second object for a (relation, subject) already there
    return pd.DataFrame(rows, columns=list(FIELDS))


def test_select_facts_is_stratified_complete_and_one_object_per_subject():
    release = tiny_release()
    chosen = select_facts(release, 5, seed=0)
    assert len(chosen) == 5 == len(set(chosen))
    relations = [fact.split(":")[0] for fact in chosen]
    assert sorted(relations.count(r) for r in ("P17", "P131")) == [2, 3]  # round robin over the two relations
    assert "P17:QGneb:QRome" not in chosen
    assert not {"P17:QAlda:QParis", "P17:QAlda:QTokyo"} <= set(chosen)
    assert select_facts(release, 5, seed=0) == chosen
    assert len(select_facts(release, 100, seed=0)) == 12  # 6 subjects x 2 relations, one object each


def test_heldout_templates_take_a_quarter_of_each_relation_language():
    release = tiny_release()
    held = heldout_templates(release, share=0.25, seed=0)
    assert len(held) == 2 * 7  # 4 templates per (relation, language): round(0.25 * 4) = 1 held out
    single = pd.DataFrame(_rows("P17", "Alda", "Paris", langs=("en",), n_templates=1))
    assert heldout_templates(single, share=0.25, seed=0) == []  # a lone template stays in training
    assert heldout_templates(release, share=0.25, seed=0) == held


def test_tokenizer_round_trips_through_save_and_encodes_the_answer_slots(tmp_path):
    from transformers import AutoTokenizer

    release = tiny_release()
    pieces = train_tokenizer_pieces(list(release[F.QUERY]), sorted(set(release[F.OBJ_LABEL])), 300)
    assert [p for p, _ in pieces[:4]] == ["<s>", "<pad>", "</s>", "<unk>"]
    tokenizer = build_tokenizer(pieces)
    assert tokenizer.mask_token_id == len(pieces)  # <mask> appended after the sentencepiece pieces
    tokenizer.save_pretrained(tmp_path)
    reloaded = AutoTokenizer.from_pretrained(tmp_path)
    queries = ["Alda lies in [MASK] p17 .", "Cesta의 위치는 [MASK]이다.", "Dumo在[MASK]。"]
    answers = ["Paris", "Rome", "Tokyo"]
    mine = encode_queries(tokenizer, queries, answers)
    assert encode_queries(reloaded, queries, answers) == mine
    for ids, answer, text in zip(mine.input_ids, mine.answer_ids, answers):
        assert ids.count(tokenizer.mask_token_id) == len(answer)
        assert tokenizer.decode(answer).strip() == text


def _tiny_config(**overrides) -> TrainConfig:
    base = dict(facts=8, seed=3, epochs=100, max_steps=24, batch_size=16, hidden_size=32, layers=2, heads=2,
                d_ff=64, vocab_size=300, lr=5e-3, eval_max_queries=10, align_weight=0.0)  # InfoNCE: test_transfer
    base.update(overrides)
    return TrainConfig(**base)


def test_training_is_deterministic_and_the_loss_drops():
    release = tiny_release()
    first = train_default_model(release, _tiny_config(), progress=False)
    second = train_default_model(release, _tiny_config(), progress=False)
    for (name, a), (_, b) in zip(first.model.state_dict().items(), second.model.state_dict().items()):
        assert torch.equal(a, b), name
    losses = first.report["epoch_losses"]
    assert losses == second.report["epoch_losses"]
    assert losses[-1] < losses[0] - 0.3
    assert losses[-1] < math.log(first.report["vocab_size"]) - 1.0  # well below guessing uniformly
    seen = first.report["figures"]["seen"]
    assert set(seen) == set(CORE_LANGUAGES) | {"all"}
    for lang in CORE_LANGUAGES:  # a share of that language's queries (rounded to 4 places)
        hits = seen[lang]["p_at_1"] * seen[lang]["queries"]
        assert seen[lang]["queries"] > 0 and abs(hits - round(hits)) < 1e-3, lang
    total = sum(seen[lang]["queries"] for lang in CORE_LANGUAGES)
    assert seen["all"]["queries"] == total
    assert seen["all"]["p_at_1"] == pytest.approx(
        sum(seen[lang]["p_at_1"] * seen[lang]["queries"] for lang in CORE_LANGUAGES) / total, abs=1e-3)
    other_seed = train_default_model(release, _tiny_config(seed=4), progress=False)
    assert not torch.equal(other_seed.model.lm_head.dense.weight, first.model.lm_head.dense.weight)


def test_saved_checkpoint_loads_and_records_facts(tmp_path):
    from rml_lama.models import load_model

    result = train_default_model(tiny_release(), _tiny_config(max_steps=2), progress=False)
    save_trained(result, tmp_path / "mini", release_note="tiny")
    facts = json.loads((tmp_path / "mini" / MODEL_FACTS_FILE).read_text())
    assert facts["facts"] == result.facts and facts["heldout_templates"] == result.heldout and facts["seed"] == 3
    assert json.loads((tmp_path / "mini" / TRAINING_REPORT_FILE).read_text())["release"] == "tiny"
    bundle = load_model(tmp_path / "mini", device="cpu")
    assert bundle.kind == "masked" and bundle.n_layers == 2 and bundle.d_ff == 64
    state = result.model.state_dict()
    for name, value in bundle.model.state_dict().items():
        assert torch.equal(value, state[name]), name


def test_default_model_path_points_into_the_package():
    path = default_model_path()
    assert path.parts[-3:] == ("data", "models", "rml-lama-mini")
    assert path.parent.parent.parent.name == "rml_lama"


def test_a_saved_model_replaces_only_a_model_this_toolkit_wrote(tmp_path):
    from rml_lama.errors import RmlLamaError

    result = train_default_model(tiny_release(), _tiny_config(max_steps=2), progress=False)
    foreign = tmp_path / "notes"
    foreign.mkdir()
    (foreign / "thesis.txt").write_text("mine")
    with pytest.raises(RmlLamaError, match="did not write"):
        save_trained(result, foreign, release_note="tiny")
    assert (foreign / "thesis.txt").read_text() == "mine" and sorted(p.name for p in foreign.iterdir()) == ["thesis.txt"]
    save_trained(result, tmp_path / "mini", release_note="first")
    save_trained(result, tmp_path / "mini", release_note="second")  # our own, unchanged: replaced
    assert json.loads((tmp_path / "mini" / TRAINING_REPORT_FILE).read_text())["release"] == "second"
    (tmp_path / "mini" / TRAINING_REPORT_FILE).write_text("{}")  # edited by hand since: kept
    with pytest.raises(RmlLamaError, match="changed since"):
        save_trained(result, tmp_path / "mini", release_note="third")
