"""The control/transfer fact design, the sharing recipes' lines, and the held-out-language figures."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from rml_lama.schema import CORE_LANGUAGES, FIELDS, MASK, F, make_fact_id, template_id
from rml_lama.testbeds.train import TrainConfig, train_default_model
from rml_lama.testbeds.transfer import (
    CONTROL,
    TRANSFER,
    code_switched_lines,
    design_facts,
    dictionary_lines,
    grouped_figures,
    heldout_windows,
    info_nce,
    majority_prior,
    split_queries,
    translation_lines,
)

TEMPLATES = {"en": ["[X] is in [Y] .", "[X] lies in [Y] ."], "fr": ["[X] est en [Y] .", "[X] se trouve en [Y] ."],
             "fi": ["[X] on [Y] .", "[X] sijaitsee [Y] ."], "hu": ["[X] itt van [Y] .", "[X] található [Y] ."],
             "ja": ["[X]は[Y]にある。", "[X]は[Y]に位置する。"], "ko": ["[X]은 [Y]에 있다.", "[X]은 [Y]에 위치한다."],
             "zh": ["[X]在[Y]。", "[X]位于[Y]。"]}
OBJECTS = {"Paris": {"ja": "パリ", "zh": "巴黎", "ko": "파리"}, "Rome": {"ja": "ローマ", "zh": "罗马", "ko": "로마"},
           "Tokyo": {"ja": "東京", "zh": "东京", "ko": "도쿄"}}


def _release(n_subjects: int = 9) -> pd.DataFrame:
    rows = []
    for i in range(n_subjects):
        subject, obj = f"Subj{i}", list(OBJECTS)[i % 3]
        for lang in CORE_LANGUAGES:
            sub_label = subject if lang in ("en", "fr", "fi", "hu") else f"{subject}-{lang}"
            obj_label = OBJECTS[obj].get(lang, obj)
            for template in TEMPLATES[lang]:
                rows.append({
                    F.FACT_ID: make_fact_id("P17", f"Q{i}", f"Q{obj}"), F.RELATION: "P17", F.LANG: lang,
                    F.SUB_URI: f"Q{i}", F.OBJ_URI: f"Q{obj}", F.SUB_LABEL: sub_label, F.OBJ_LABEL: obj_label,
                    F.TEMPLATE_ID: template_id("P17", lang, template), F.TEMPLATE: template,
                    F.QUERY: template.replace("[X]", sub_label).replace("[Y]", MASK), F.OBJECT_FINAL: True,
                    F.SOURCE: "curated", F.ALIGNED_ID: None,
                })
    return pd.DataFrame(rows, columns=list(FIELDS))


def test_windows_rotate_over_every_language_and_cross_scripts():
    windows = heldout_windows(CORE_LANGUAGES, 3)
    assert len(windows) == 7 and windows[0] == ("en", "fr", "fi") and windows[6] == ("zh", "en", "fr")
    assert all(sum(lang in w for w in windows) == 3 for lang in CORE_LANGUAGES)  # each held out equally often
    assert ("hu", "ja", "ko") in windows


def test_transfer_objects_are_control_answers_and_relations_have_enough_facts():
    design = design_facts(_release(), seed=0, objects_per_relation=3, control_per_object=1, transfer_per_object=2)
    assert len(design) == 9 and (design["role"] == CONTROL).sum() == 3  # 3 objects x (1 control + 2 transfer)
    control_objects = set(design.loc[design["role"] == CONTROL, F.OBJ_URI])
    transfer = design[design["role"] == TRANSFER]
    assert set(transfer[F.OBJ_URI]) <= control_objects
    assert sorted(transfer["heldout_langs"]) == sorted(heldout_windows(CORE_LANGUAGES, 3)[:6])  # in turn
    assert all(w == () for w in design.loc[design["role"] == CONTROL, "heldout_langs"])
    with pytest.raises(Exception, match="no relation"):  # 2 objects x 2 facts < 6 facts per relation
        design_facts(_release(4), seed=0, objects_per_relation=2, control_per_object=1, transfer_per_object=1)


def test_held_out_languages_are_never_trained_and_recipes_reveal_no_held_out_answer():
    release = _release()
    design = design_facts(release, seed=0, objects_per_relation=3, control_per_object=1, transfer_per_object=2)
    parts = split_queries(release, design, heldout={template_id("P17", "en", TEMPLATES["en"][1])})
    held = {(f, lang) for f, ls in zip(design[F.FACT_ID], design["heldout_langs"]) for lang in ls}
    assert not held & set(zip(parts["seen"][F.FACT_ID], parts["seen"][F.LANG]))
    assert set(zip(parts["heldout_langs"][F.FACT_ID], parts["heldout_langs"][F.LANG])) == held
    assert (parts["heldout"][F.LANG] == "en").all() and len(parts["heldout"]) > 0
    names = release.drop_duplicates([F.SUB_URI, F.LANG]).set_index([F.SUB_URI, F.LANG])[F.SUB_LABEL]
    queries, answers = code_switched_lines(parts["seen"], names, CORE_LANGUAGES, seed=0, share=1.0)
    assert len(queries) == len(parts["seen"])  # every trained query once, with a subject from another language
    seen_answers = set(zip(parts["seen"][F.FACT_ID], parts["seen"][F.OBJ_LABEL]))
    for q, a, (_, row) in zip(queries, answers, parts["seen"].iterrows()):
        assert a == row[F.OBJ_LABEL] and q != row[F.QUERY]
        assert q.replace(MASK, "") != row[F.QUERY].replace(MASK, "")
    queries, answers = translation_lines(parts["seen"], seed=0, per_fact_lang=1)
    trained = set(zip(parts["seen"][F.FACT_ID], parts["seen"][F.LANG]))
    assert all(MASK in q and q.count(MASK) == 1 for q in queries)
    assert {a for a in answers} <= {a for _, a in seen_answers}
    queries, answers = dictionary_lines(release, CORE_LANGUAGES, seed=0, per_entity=2)
    assert all(q.endswith(f"= {MASK}") for q in queries) and len(queries) == 2 * (9 + 3)
    assert not any(" is in " in q for q in queries) and trained


def test_info_nce_is_low_for_aligned_pairs_and_high_for_shuffled_ones():
    torch.manual_seed(0)
    a = torch.randn(8, 16)
    assert info_nce(a, a, 0.1) < 0.01
    assert info_nce(a, a[torch.arange(7, -1, -1)], 0.1) > 1.0


def test_majority_prior_and_chance_by_hand():
    rows = pd.DataFrame({F.FACT_ID: ["f1", "f2", "f3"], F.RELATION: ["P"] * 3, F.LANG: ["en"] * 3,
                         F.OBJ_LABEL: ["A", "B", "C"]})
    trained = pd.DataFrame({F.FACT_ID: ["t1", "t2", "t3", "t4"], F.RELATION: ["P"] * 4, F.LANG: ["en"] * 4,
                            F.OBJ_LABEL: ["A", "A", "B", "B"]})
    assert majority_prior(rows, trained).tolist() == [0.5, 0.5, 0.0]  # A and B tie at 2 facts each
    figures = grouped_figures(rows, np.array([1, 0, 1]), np.array([4, 4, 2]), np.array([0.5, 0.5, 0.0]), seed=0)
    assert figures["en"]["p_at_1"][0] == pytest.approx(2 / 3, abs=1e-4)
    assert figures["en"]["chance"][0] == pytest.approx((0.25 + 0.25 + 0.5) / 3, abs=1e-4)
    assert figures["Latin"] == figures["en"] and figures["all"]["facts"] == 3
    low, high = figures["all"]["p_at_1"][1:]
    assert 0.0 <= low <= 2 / 3 <= high <= 1.0


def test_training_reports_held_out_language_figures_with_chance_and_prior():
    config = TrainConfig(seed=0, max_steps=3, batch_size=16, hidden_size=32, layers=2, heads=2, d_ff=64,
                         vocab_size=200, objects_per_relation=3, control_per_object=1, transfer_per_object=2,
                         code_switch_share=0.5, align_weight=1.0)
    result = train_default_model(_release(), config, progress=False)
    transfer = result.report["figures"]["transfer"]
    assert set(transfer) == {"seen", "heldout", "heldout_langs"}
    assert set(transfer["heldout_langs"]) == set(CORE_LANGUAGES) | {"Latin", "CJK", "all"}
    assert transfer["heldout_langs"]["all"]["chance"][0] == pytest.approx(1 / 3, abs=1e-4)  # 3 objects
    assert result.report["design"]["transfer_facts"] == 6 and result.report["extra_lines"]["code_switch"] > 0
