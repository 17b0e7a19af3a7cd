"""The shipped default model (slow: loads it and re-measures a sample): a plain masked LM whose training report
shows knowledge shared across languages, and whose figures docs/models.md quotes."""
from __future__ import annotations

import json

import pytest

from rml_lama.paths import MODEL_FACTS_FILE, TRAINING_REPORT_FILE
from rml_lama.schema import CORE_LANGUAGES, F
from rml_lama.testbeds.train import default_model_path, rank_rows

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def shipped():
    path = default_model_path()
    report = json.loads((path / TRAINING_REPORT_FILE).read_text(encoding="utf-8"))
    facts = json.loads((path / MODEL_FACTS_FILE).read_text(encoding="utf-8"))
    return path, report, facts


def test_held_out_languages_beat_chance_and_prior_in_every_language(shipped):
    _, report, _ = shipped
    held = report["figures"]["transfer"]["heldout_langs"]
    for lang in CORE_LANGUAGES:
        p, low, _ = held[lang]["p_at_1"]
        assert low > held[lang]["chance"][2] and low > held[lang]["prior"][2], lang  # intervals do not overlap
    assert held["all"]["p_at_1"][0] - held["all"]["chance"][0] >= 0.25
    transfer = report["figures"]["transfer"]
    assert transfer["seen"]["all"]["p_at_1"][0] >= 0.95 and transfer["heldout"]["all"]["p_at_1"][0] >= 0.90


def test_roles_and_windows_are_recorded_and_a_sample_re_measures_the_same(shipped):
    import pandas as pd

    from rml_lama.models import load_model
    from rml_lama.testbeds.facts import read_facts_frame
    from rml_lama.testbeds.transfer import split_queries

    path, report, facts = shipped
    roles = facts["roles"]
    assert sum(r["role"] == "transfer" for r in roles.values()) == report["design"]["transfer_facts"]
    assert all(len(r["heldout_langs"]) == 3 for r in roles.values() if r["role"] == "transfer")
    bundle = load_model(path, device="cpu")
    assert type(bundle.model).__name__ == "XLMRobertaForMaskedLM"
    frame = read_facts_frame(None, CORE_LANGUAGES)
    data = frame[frame[F.FACT_ID].isin(facts["facts"])].drop_duplicates([F.LANG, F.QUERY, F.OBJ_LABEL])
    data = data.sort_values([F.FACT_ID, F.LANG, F.TEMPLATE_ID]).reset_index(drop=True)
    design = pd.DataFrame([(fid, r["role"], tuple(r["heldout_langs"])) for fid, r in roles.items()],
                          columns=[F.FACT_ID, "role", "heldout_langs"])
    held = split_queries(data, design, set(facts["heldout_templates"]))["heldout_langs"]
    sample = held[held[F.LANG] == "ja"]
    hits, _ = rank_rows(bundle.model, bundle.tokenizer, sample, pool=data)
    assert hits.mean() == pytest.approx(report["figures"]["transfer"]["heldout_langs"]["ja"]["p_at_1"][0], abs=1e-4)
