"""Every check fires on its planted defect, and only that check; the clean release passes them all."""
from __future__ import annotations

import json

import pandas as pd
import pytest

from rml_lama.checks import CHECKS
from rml_lama.checks.expectations import load_expectations
from rml_lama.checks.runner import validate_frame, validate_release
from rml_lama.dataset.release import write_release
from rml_lama.schema import MASK, F, make_fact_id, template_id
from tests.support.checks_data import FACTS, RELATION, TEMPLATES, clean_records

FRANCE = make_fact_id(RELATION, FACTS[0][0], FACTS[0][1])
GERMANY = make_fact_id(RELATION, FACTS[1][0], FACTS[1][1])


def validate(frame: pd.DataFrame, **kwargs):
    return validate_frame(frame, workers=1, tokenizer=str.split, **kwargs)


def failing(report) -> set[str]:
    return {r.name for r in report.results if not r.passed}


def where(frame, lang, fact=FRANCE, template=None):
    mask = (frame[F.LANG] == lang) & (frame[F.FACT_ID] == fact)
    if template is not None:
        mask &= frame[F.TEMPLATE] == template
    return mask


def first(frame, lang, fact=FRANCE, template=None):
    return frame.index[where(frame, lang, fact, template)][0]


def retemplate(frame, lang, old, new):
    """Replace a template (and its id) in every row that uses it."""
    rows = (frame[F.LANG] == lang) & (frame[F.TEMPLATE] == old)
    frame.loc[rows, F.TEMPLATE] = new
    frame.loc[rows, F.TEMPLATE_ID] = template_id(RELATION, lang, new)


# ------------------------------------------------------------------------------------ planted defects
def plant_unknown_source(frame):
    frame.loc[first(frame, "en"), F.SOURCE] = "wikipedia"


def plant_wrong_template_id(frame):
    frame.loc[first(frame, "fr"), F.TEMPLATE_ID] = "P36.fr.0000000000"


def plant_duplicate_key(frame):
    row = frame.loc[[first(frame, "en")]].copy()
    row[F.QUERY] = "As everybody in the world knows, the capital of France is [MASK]."
    return pd.concat([frame, row], ignore_index=True)


def plant_missing_core_fact(frame):
    return frame[~where(frame, "zh", GERMANY)].reset_index(drop=True)


def plant_two_masks(frame):
    i = first(frame, "en", template=TEMPLATES["en"][0])
    frame.loc[i, F.QUERY] = f"The capital of France is {MASK}, where {MASK} has its seat."


def plant_missing_subject(frame):
    i = first(frame, "en", template=TEMPLATES["en"][0])
    frame.loc[i, F.QUERY] = frame.loc[i, F.QUERY].replace("France", "Frankreich")


def plant_object_leak(frame):
    i = first(frame, "en", template=TEMPLATES["en"][0])
    frame.loc[i, F.QUERY] = f"The capital of France is {MASK}, where the government of Paris has its seat."


def plant_romaji_template(frame):
    # 首都 kept so that only the script is wrong (the relation's gloss word is there)
    retemplate(frame, "ja", TEMPLATES["ja"][1], "[Y] wa [X] no shuto (首都) de ari, seifu no shozaichi desu。")


def plant_english_finnish(frame):
    sentences = ["{s} has a capital city, and everybody in the world knows that it is [MASK].",
                 "The capital of the beautiful country {s} is the city of [MASK], as everybody knows.",
                 "Many people who live in {s} have visited its famous capital, [MASK], this year.",
                 "The government of {s} works in its capital city, which is called [MASK] by everyone.",
                 "Tourists who travel to {s} usually want to see its capital city, [MASK], first."]
    for fact in (FRANCE, GERMANY):
        rows = frame.index[where(frame, "fi", fact)]
        for i, sentence in zip(rows, sentences):
            frame.loc[i, F.QUERY] = sentence.format(s=frame.loc[i, F.SUB_LABEL])


def plant_short_german(frame):
    frame.loc[first(frame, "en"), F.QUERY] = "Die Hauptstadt von France ist [MASK]."


def plant_near_duplicate(frame):
    rows = frame.index[where(frame, "fr")]
    frame.loc[rows[1], F.QUERY] = frame.loc[rows[0], F.QUERY].lower().replace(MASK.lower(), MASK).rstrip(".") + " ."
    frame.loc[rows[1], F.QUERY] = frame.loc[rows[1], F.QUERY].replace(" .", ".")


def plant_second_object_label(frame):
    frame.loc[first(frame, "en"), F.OBJ_LABEL] = "Paris, France"


def plant_second_subject_label(frame):
    i = first(frame, "en")
    frame.loc[i, F.SUB_LABEL] = "French Republic"
    frame.loc[i, F.QUERY] = frame.loc[i, F.QUERY].replace("France", "French Republic")


def plant_traditional_chinese(frame):
    rows = where(frame, "zh", FRANCE)
    frame.loc[rows, F.SUB_LABEL] = "法國"
    frame.loc[rows, F.QUERY] = frame.loc[rows, F.QUERY].str.replace("法国", "法國")


def plant_wrong_korean_particle(frame):
    i = first(frame, "ko", GERMANY, template="[X]는 수도로 [Y]를 가지고 있다.")
    assert frame.loc[i, F.QUERY].startswith("독일은")
    frame.loc[i, F.QUERY] = frame.loc[i, F.QUERY].replace("독일은", "독일는")


def plant_cjk_spaces(frame):
    old = TEMPLATES["ja"][0]
    rows = (frame[F.LANG] == "ja") & (frame[F.TEMPLATE] == old)
    retemplate(frame, "ja", old, "[X] の首都は [Y] です。")
    frame.loc[rows, F.QUERY] = frame.loc[rows, F.QUERY].str.replace("の首都は", " の首都は ").str.replace(
        f"{MASK}です", f"{MASK} です")


def plant_missing_final_punctuation(frame):
    i = first(frame, "en", template=TEMPLATES["en"][0])
    frame.loc[i, F.QUERY] = frame.loc[i, F.QUERY] + " ."
    frame.loc[first(frame, "en", template=TEMPLATES["en"][2]), F.QUERY] = "[MASK] is the capital of France"


def plant_single_rephrasing(frame):
    rows = frame.index[where(frame, "fi")]
    keep = rows[frame.loc[rows, F.OBJECT_FINAL].to_numpy()][0]
    return frame.drop([i for i in rows if i != keep]).reset_index(drop=True)


def plant_no_object_final(frame):
    return frame[~(where(frame, "ja") & frame[F.OBJECT_FINAL])].reset_index(drop=True)


def plant_wrong_flag(frame):
    i = frame.index[where(frame, "en") & ~frame[F.OBJECT_FINAL]][0]
    frame.loc[i, F.OBJECT_FINAL] = True


def plant_long_answer(frame):
    rows = (frame[F.LANG] == "en") & (frame[F.OBJ_URI] == FACTS[0][1])
    frame.loc[rows, F.OBJ_LABEL] = "Paris, the old city of light and love and art and fashion and food and wine"


def plant_finnish_colon_ending(frame):
    i = first(frame, "fi", GERMANY, TEMPLATES["fi"][0])  # "Maan Saksa pääkaupunki on [MASK], ..."
    frame.loc[i, F.QUERY] = frame.loc[i, F.QUERY].replace("Maan Saksa pääkaupunki", "Saksa:n pääkaupunki")
    assert "Saksa:n" in frame.loc[i, F.QUERY]


def plant_hungarian_hyphen(frame):
    i = first(frame, "hu", GERMANY, TEMPLATES["hu"][0])  # "Németország fővárosa [MASK], ..."
    frame.loc[i, F.QUERY] = frame.loc[i, F.QUERY].replace("Németország fővárosa", "Németország-ban a főváros")
    assert "Németország-ban" in frame.loc[i, F.QUERY]


def plant_french_elision(frame):
    i = next(j for j in frame.index[where(frame, "fr", GERMANY)] if "d'Allemagne" in frame.loc[j, F.QUERY])
    frame.loc[i, F.QUERY] = frame.loc[i, F.QUERY].replace("d'Allemagne", "de Allemagne")


def plant_english_article(frame):
    i = first(frame, "en")
    frame.loc[i, F.QUERY] = frame.loc[i, F.QUERY].replace(f"is {MASK}", f"is an {MASK}")  # "an Paris"


def plant_lowercase_german_noun(frame):
    rows = []
    for fact, (sub_uri, obj_uri, labels) in zip((FRANCE, GERMANY), FACTS):
        subject, obj = {"Q142": ("Frankreich", "Paris"), "Q183": ("Deutschland", "Berlin")}[sub_uri]
        for text in ("Die hauptstadt von [X] ist [Y], dort sitzt die Regierung des ganzen Landes.",
                     "Jeder weiß, dass die Hauptstadt des Staates [X] seit langer Zeit [Y] heißt."):
            row = frame.loc[first(frame, "en", fact)].copy()
            row[F.LANG], row[F.SUB_LABEL], row[F.OBJ_LABEL], row[F.TEMPLATE] = "de", subject, obj, text
            row[F.TEMPLATE_ID] = template_id(RELATION, "de", text)
            row[F.QUERY] = text.replace("[X]", subject).replace("[Y]", MASK)
            row[F.OBJECT_FINAL] = False
            rows.append(row)
    return pd.concat([frame, pd.DataFrame(rows)], ignore_index=True)


def plant_template_without_gloss(frame):
    old = TEMPLATES["en"][3]
    new = "The government of [X] works in the city that is called [Y]."
    rows = (frame[F.LANG] == "en") & (frame[F.TEMPLATE] == old)
    frame.loc[rows, F.QUERY] = [new.replace("[X]", s).replace("[Y]", MASK) for s in frame.loc[rows, F.SUB_LABEL]]
    retemplate(frame, "en", old, new)


def plant_subject_contains_object(frame):
    rows = where(frame, "en")  # every en row of France: the answer is now a stem of its subject
    frame.loc[rows, F.OBJ_LABEL] = "Franc"


PLANTED = {
    "schema": plant_unknown_source,
    "identifiers": plant_wrong_template_id,
    "unique-keys": plant_duplicate_key,
    "core-parallel": plant_missing_core_fact,
    "mask-slot": plant_two_masks,
    "subject-present": plant_missing_subject,
    "object-leak": plant_object_leak,
    "script": plant_romaji_template,
    "language-id": plant_english_finnish,
    "language-id-short": plant_short_german,
    "near-duplicates": plant_near_duplicate,
    "object-label-consistency": plant_second_object_label,
    "subject-label-consistency": plant_second_subject_label,
    "chinese-simplified": plant_traditional_chinese,
    "korean-particles": plant_wrong_korean_particle,
    "cjk-slot-spacing": plant_cjk_spaces,
    "final-punctuation": plant_missing_final_punctuation,
    "rephrasings": plant_single_rephrasing,
    "object-final-coverage": plant_no_object_final,
    "object-final-flag": plant_wrong_flag,
    "answer-tokens": plant_long_answer,
    "fi-colon-ending": plant_finnish_colon_ending,
    "hu-hyphen-suffix": plant_hungarian_hyphen,
    "fr-elision": plant_french_elision,
    "en-a-an": plant_english_article,
    "relation-gloss": plant_template_without_gloss,
    "subject-contains-object": plant_subject_contains_object,
}


def test_clean_release_passes_every_check(clean_check_frame):
    report = validate(clean_check_frame)
    assert failing(report) == set()
    assert report.passed and not report.warnings


@pytest.mark.parametrize("check", sorted(PLANTED))
def test_planted_defect_fires_exactly_its_check(check, clean_check_frame):
    frame = clean_check_frame
    changed = PLANTED[check](frame)
    report = validate(changed if changed is not None else frame)
    assert failing(report) == {check}
    result = next(r for r in report.results if r.name == check)
    assert result.examples or result.problems
    assert report.passed == (CHECKS[check].severity == "warning")


def test_every_registered_check_has_a_planted_defect_or_a_release_test():
    assert set(CHECKS) == set(PLANTED) | {"release-stats", "release-card", "de-noun-case"}  # tests below


def test_lowercase_german_noun_fails_a_language_held_to_the_text_standard(clean_check_frame):
    """German rows with "die hauptstadt": the check fails de when de is held to the text standard (a proposed
    language, by default) and only reports it for the shipped extended de (text_quality_required false)."""
    frame = plant_lowercase_german_noun(clean_check_frame)
    strict = load_expectations().with_overrides("de", text_quality_required=True)
    result = next(r for r in validate(frame, expectations=strict, names=["de-noun-case"]).results)
    assert not result.passed and result.counts == {"de": 2} and "hauptstadt" in result.examples[0]["text"]
    lenient = next(r for r in validate(frame, names=["de-noun-case"]).results)
    assert lenient.passed and lenient.counts == {"de": 2} and "reported only: de: 2" in lenient.message


def test_defect_counts_and_first_rows_name_the_offender(clean_check_frame):
    frame = clean_check_frame
    plant_wrong_korean_particle(frame)
    result = next(r for r in validate(frame).results if r.name == "korean-particles")
    assert result.counts == {"ko": 1}
    example = result.examples[0]
    assert example["fact_id"] == GERMANY and example["text"].startswith("독일는")
    assert "wants 은" in example["detail"]


def test_release_stats_fire_when_stats_json_disagrees(tmp_path):
    folder = write_release(clean_records(), tmp_path / "rel")
    clean = validate_release(folder, workers=1, cache_dir=tmp_path / "cache")
    assert failing(clean) == set()
    stats = json.loads((folder / "stats.json").read_text())
    stats["queries_core_total"] += 1
    (folder / "stats.json").write_text(json.dumps(stats))
    report = validate_release(folder, workers=1, cache_dir=tmp_path / "cache")
    assert failing(report) == {"release-stats"}
    assert "queries_core_total" in report.results[[r.name for r in report.results].index("release-stats")].message


def test_missing_column_runs_only_the_schema_check(clean_check_frame):
    report = validate(clean_check_frame.drop(columns=[F.SOURCE]))
    schema = report.results[0]
    assert schema.name == "schema" and not schema.passed and "missing column 'source'" in schema.problems
    assert all(r.message.startswith("not run") for r in report.results[1:])


def test_expectations_agree_with_the_schema_for_shipped_languages():
    from rml_lama.checks.expectations import load_expectations
    from rml_lama.schema import LANGUAGES

    expectations = load_expectations()
    for code, lang in LANGUAGES.items():
        e = expectations[code]
        assert (e.script, e.langdetect, e.final_punct, e.spaced, e.core) == (
            lang.script, lang.langdetect_codes, lang.final_punct, lang.spaced, lang.core), code


def test_sentencepiece_tokenizer_is_deterministic_and_cached(tmp_path, clean_check_frame):
    from rml_lama.checks.tokens import sentencepiece_tokenizer, train_sentencepiece, training_lines

    lines = training_lines(clean_check_frame, seed=0)
    first = train_sentencepiece(lines, 0, tmp_path / "a")
    second = train_sentencepiece(lines, 0, tmp_path / "b")
    import sentencepiece as spm

    a, b = (spm.SentencePieceProcessor(model_file=str(path)) for path in (first, second))
    assert [(a.id_to_piece(i), a.get_score(i)) for i in range(a.get_piece_size())] == [
        (b.id_to_piece(i), b.get_score(i)) for i in range(b.get_piece_size())]  # the file also holds tmp paths
    assert train_sentencepiece(lines, 0, tmp_path / "a") == first  # found in the cache
    assert sentencepiece_tokenizer(first)("Paris") == sentencepiece_tokenizer(second)("Paris")
