"""The curated data files are well-formed and do what they are for."""
from __future__ import annotations

import json
from collections import Counter
from importlib import resources

from rml_lama.dataset import morphology
from rml_lama.schema import CORE_LANGUAGES, LANGUAGES, OBJECT_SLOT, RELATIONS, SUBJECT_SLOT

CURATED = resources.files("rml_lama") / "data" / "curated"


def _curated_rows() -> list[dict]:
    lines = (CURATED / "templates.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def test_curated_templates_are_well_formed():
    rows = _curated_rows()
    assert rows
    for row in rows:
        assert set(row) == {"relation", "lang", "pattern", "note"}, row
        assert row["relation"] in RELATIONS and row["lang"] in LANGUAGES, row
        pattern = row["pattern"]
        assert pattern.count(SUBJECT_SLOT) == 1 and pattern.count(OBJECT_SLOT) == 1, row
        assert morphology.is_object_final(pattern, row["lang"]), row
        assert morphology.repair_template(pattern, row["lang"]) == (pattern, None), row  # already canonical
        assert row["note"].strip(), row


def test_curated_templates_are_unique():
    counts = Counter((row["relation"], row["lang"], row["pattern"]) for row in _curated_rows())
    assert [key for key, n in counts.items() if n > 1] == []


def test_curated_korean_templates_fill_with_agreeing_particles():
    rows = {row["relation"]: row["pattern"] for row in _curated_rows() if row["lang"] == "ko"}
    query = morphology.fill_subject(rows["P17"], "ko", "서울")
    assert query == "서울이 위치한 나라는 [Y]이다."
    assert morphology.fill_object_mask(query, "ko", "대한민국") == "서울이 위치한 나라는 [MASK]이다."


def test_lexicon_file_is_well_formed():
    data = json.loads((CURATED / "relation_lexicon.json").read_text(encoding="utf-8"))
    entries = {key: value for key, value in data.items() if not key.startswith("_")}
    assert len(entries) >= 30
    for relation, langs in entries.items():
        assert relation in RELATIONS, relation
        for lang, words in langs.items():
            assert lang in LANGUAGES, (relation, lang)
            assert words and all(isinstance(w, str) and w.strip() == w and w for w in words), (relation, lang)
            if lang == "zh":
                assert all(morphology.to_simplified(w) == w for w in words), (relation, words)


def test_lexicon_covers_every_core_language_where_it_has_an_entry():
    data = json.loads((CURATED / "relation_lexicon.json").read_text(encoding="utf-8"))
    for relation, langs in data.items():
        if relation.startswith("_") or relation == "P495":  # P495: only ja/ko need a filter
            continue
        assert set(CORE_LANGUAGES) <= set(langs), relation


# Query-localization templates that are themselves mistranslations (acting a role, not playing an instrument).
KNOWN_BAD_QLOC = {("P1303", "ja", "[X]は[Y]を演じます。"), ("P1303", "ko", "[X]는 [Y] 역할을 연기합니다.")}


def test_lexicon_accepts_the_clean_query_localization_templates():
    from rml_lama.dataset.sources import SourceSet

    sources = SourceSet()
    rejected = set()
    for lang in ("en", "fr", "fi", "hu", "ja", "ko"):
        for template in sources.qloc_templates(lang):
            repaired, reason = morphology.repair_template(template.pattern, lang)
            assert reason is None, (lang, template.pattern)
            if not morphology.lexicon_accepts(repaired, template.relation, lang):
                rejected.add((template.relation, lang, repaired))
    assert rejected == KNOWN_BAD_QLOC


def test_curated_templates_pass_the_lexicon():
    for row in _curated_rows():
        assert morphology.lexicon_accepts(row["pattern"], row["relation"], row["lang"]), row
