"""The language rules shared by generation and the checks (rml_lama.dataset.languages), on hand-made inputs,
and the reviewed templates they serve (data/curated/reviewed_templates.jsonl)."""
from __future__ import annotations

import json
import re
from collections import Counter, defaultdict

import pytest

from rml_lama.dataset import morphology as m
from rml_lama.dataset.generate import reviewed_candidates, subject_leaks, template_answer_hint
from rml_lama.dataset.languages import english, finnish, french, german, hungarian, korean
from rml_lama.paths import RELATION_GLOSSES, REVIEWED_TEMPLATES
from rml_lama.schema import CORE_LANGUAGES, MASK


def query(pattern: str, lang: str, subject: str, obj: str):
    template, x_form, y_form = m.split_slot_forms(pattern)
    template = m.normalize_template(template, lang)
    with_subject = m.fill_subject(template, lang, subject, x_form)
    return None if with_subject is None else m.fill_object_mask(with_subject, lang, obj, y_form)


@pytest.mark.parametrize("pattern,subject,obj,expected", [
    ("La capitale de [X:def] est [Y].", "France", "Paris", "La capitale de la France est [MASK]."),
    ("La capitale de [X:def] est [Y].", "Japon", "Tokyo", "La capitale du Japon est [MASK]."),
    ("La capitale de [X:def] est [Y].", "États-Unis", "Washington", "La capitale des États-Unis est [MASK]."),
    ("La capitale de [X:def] est [Y].", "Italie", "Rome", "La capitale de l'Italie est [MASK]."),
    ("La capitale de [X:def] est [Y].", "Israël", "Jérusalem", "La capitale d'Israël est [MASK]."),
    ("[X:def] a pour capitale [Y].", "Japon", "Tokyo", "Le Japon a pour capitale [MASK]."),
    ("[X] se trouve [Y:loc].", "Lleida", "Espagne", "Lleida se trouve en [MASK]."),
    ("[X] se trouve [Y:loc].", "Osaka", "Japon", "Osaka se trouve au [MASK]."),
    ("[X] se trouve [Y:loc].", "Ohio", "États-Unis", "Ohio se trouve aux [MASK]."),
    ("[X] a vu le jour [Y:loc].", "Mark Strong", "Londres", "Mark Strong a vu le jour à [MASK]."),
    ("Le lieu de naissance de [X:def] est [Y:def].", "Otto Hahn", "Francfort", "Le lieu de naissance d'Otto Hahn est [MASK]."),
    ("Le nom de [X:def] vient de [Y:def].", "Allemagne", "Alamans", "Le nom de l'Allemagne vient d'[MASK]."),
    ("La langue officielle de [X:def] est [Y:def].", "Autriche", "allemand", "La langue officielle de l'Autriche est l'[MASK]."),
    ("La notion de [X] relève de la catégorie [Y].", "homosexualité", "sexualité",
     "La notion d'homosexualité relève de la catégorie [MASK]."),
    ("La notion de [X] relève de la catégorie [Y].", "hockey", "sport", "La notion de hockey relève de la catégorie [MASK]."),
])
def test_french_articles_contractions_and_elision(pattern, subject, obj, expected):
    assert query(pattern, "fr", subject, obj) == expected
    assert not french.elision_errors(expected.replace(MASK, obj))


def test_french_label_that_would_lose_its_article_in_a_contraction_is_not_masked():
    assert query("Le nom de [X:def] vient de [Y:def].", "fr", "Allemagne", "Le Havre") is None
    assert query("[X] décède [Y:loc].", "fr", "Ibn Khaldoun", "Le Caire") is None
    assert query("[X] décède [Y:loc].", "fr", "Hugo Grotius", "La Haye") == "Hugo Grotius décède à [MASK]."


@pytest.mark.parametrize("pattern,subject,obj,expected", [
    ("The capital of [X:def] is [Y].", "United States of America", "Washington",
     "The capital of the United States of America is [MASK]."),
    ("[X:def]'s capital is [Y].", "Netherlands", "Amsterdam", "The Netherlands' capital is [MASK]."),
    ("[X] worked as [Y:indef].", "Vic Chou", "model", "Vic Chou worked as a [MASK]."),
    ("[X] worked as [Y:indef].", "Santiago Segura", "actor", "Santiago Segura worked as an [MASK]."),
])
def test_english_the_and_a_an(pattern, subject, obj, expected):
    assert query(pattern, "en", subject, obj) == expected


@pytest.mark.parametrize("word,article", [("actor", "an"), ("model", "a"), ("university", "a"), ("hour", "an"),
                                          ("MP", "an"), ("UN agency", "a"), ("European", "a"), ("honest", "an")])
def test_english_indefinite_article_follows_the_sound(word, article):
    assert english.indefinite(word) == article


def test_english_article_errors_read_the_sound():
    assert english.article_errors("Vic Chou's profession is an model.") == ["an model"]
    assert english.article_errors("He is an actor and a university teacher.") == []
    assert english.article_errors("The language of Kid A is English.") == []


def test_hungarian_common_noun_subject_takes_its_article_and_names_do_not():
    assert query("[X:def] egyfajta [Y].", "hu", "húsevő", "élőlény") == "A húsevő egyfajta [MASK]."
    assert query("[X:def] egyfajta [Y].", "hu", "alma", "gyümölcs") == "Az alma egyfajta [MASK]."
    assert query("[X] fővárosa [Y].", "hu", "Franciaország", "Párizs") == "Franciaország fővárosa [MASK]."
    assert query("[X] fővárosa [Y].", "hu", "Szovjetunió", "Moszkva") == "A Szovjetunió fővárosa [MASK]."
    assert query("Az ország, ahonnan [X] származik: [Y].", "hu", "bécsi szelet", "Ausztria") == (
        "Az ország, ahonnan a bécsi szelet származik: [MASK].")


def test_hungarian_hyphenated_suffix_is_found_on_words_and_mask_not_on_abbreviations():
    found = hungarian.HYPHENATED_SUFFIX
    assert found.search("Afrika-ban él") and found.search("kapcsolatban áll [MASK]-val")
    assert not found.search("az EU-ban él") and not found.search("Afrikában él")


def test_finnish_genitive_comes_from_the_generated_lexicon_never_a_colon():
    assert finnish.genitive("Ranska") == "Ranskan" and finnish.genitive("Helsinki") == "Helsingin"
    assert query("[X:gen] pääkaupunki on [Y].", "fi", "Ranska", "Pariisi") == "Ranskan pääkaupunki on [MASK]."
    assert m.fill_subject("[X] pääkaupunki on [Y].", "fi", "Zzyzxq Qwv", "gen") is None  # not in the lexicon


def test_finnish_colon_endings_only_on_abbreviations_and_numerals():
    assert finnish.colon_endings("Hän aloitti työt [MASK]:ssä.") == ["[MASK]:ssä"]
    assert finnish.colon_endings("Flanderi:n kreivi") == ["Flanderi:n"]
    assert finnish.colon_endings("EU:ssa ja vuonna 1990:n jälkeen iOS:n kanssa") == []


def test_german_lowercase_nouns():
    assert german.lowercase_nouns("Die hauptstadt von [X] ist [Y].") == ["hauptstadt"]
    assert german.lowercase_nouns("Die offizielle Sprache von [X] ist [Y].") == []


def test_korean_copula_after_the_mask_gives_nothing_away_but_a_case_particle_does():
    assert not korean.mask_hint("서울의 위치는 [MASK]이다.")
    assert korean.mask_hint("[MASK]가 수도이다.")


def test_answer_hint_marks_templates_whose_mask_context_depends_on_the_answer():
    assert template_answer_hint("[X] se trouve [Y].", "fr", "loc")
    assert template_answer_hint("[X] worked as [Y].", "en", "indef")
    assert not template_answer_hint("[X] fővárosa [Y].", "hu")
    assert not template_answer_hint("[X]의 수도는 [Y]이다.", "ko")
    assert not template_answer_hint("La capitale de [X] est [Y].", "fr")


@pytest.mark.parametrize("subject,obj,leaks", [("Indianapolis", "Indiana", True),
                                               ("Louis Ferdinand (Saksan prinssi)", "Saksa", True),
                                               ("Barack Obama", "Honolulu", False), ("Kuopio", "Suomi", False)])
def test_subject_leaks(subject, obj, leaks):
    assert subject_leaks(subject, obj) == leaks


# ------------------------------------------------------------------------------------- reviewed templates
def test_reviewed_templates_give_three_rephrasings_per_relation_and_core_language_with_an_object_final_one():
    reviewed = reviewed_candidates()
    glosses = json.loads(RELATION_GLOSSES.read_text(encoding="utf-8"))
    per = defaultdict(list)
    for lang, candidates in reviewed.items():
        for c in candidates:
            per[(c.relation, lang)].append(c)
    relations = {relation for relation, _ in per}
    assert relations <= set(glosses) and len(relations) >= 38
    for relation in relations:
        for lang in CORE_LANGUAGES:
            templates = [m.normalize_template(c.pattern, lang) for c in per[(relation, lang)]]
            assert len(set(templates)) >= 3, (relation, lang)
            assert any(m.is_object_final(t, lang) for t in templates), (relation, lang)
            assert all(m.lexicon_accepts(t, relation, lang) for t in templates), (relation, lang)


def test_reviewed_templates_never_glue_an_ending_to_a_slot():
    lines = [json.loads(line) for line in REVIEWED_TEMPLATES.read_text(encoding="utf-8").splitlines()]
    assert Counter(line["review"] for line in lines) == {"ok": len(lines)}
    for line in lines:
        assert not re.search(r"\][:\-]\w", line["pattern"]), line  # "[X]:n", "[Y]-ban"
