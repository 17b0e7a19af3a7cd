"""The one source of truth for RML-LAMA's record schema, languages and relations.

Both flows (building the benchmark, evaluating localizers) import field names, language and relation
facts from here; nothing else spells a field name as a string literal.
"""
from __future__ import annotations

import contextlib
import hashlib
import re
from collections.abc import Iterable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass, fields
from typing import Optional

from .errors import RmlLamaError

MASK = "[MASK]"
"""The object slot in every released query (models substitute their own mask or cut the text there)."""
SUBJECT_SLOT = "[X]"
OBJECT_SLOT = "[Y]"

SPLITS = ("validation", "test")
VALIDATION_SHARE_PERCENT = 10


# --------------------------------------------------------------------------------------------- records
@dataclass(frozen=True)
class QueryRecord:
    """One released query: a fact of one relation, in one language, phrased by one template."""

    fact_id: str  # "<relation>:<sub_uri>:<obj_uri>", the same in every language
    relation: str  # Wikidata property id, e.g. "P36"
    lang: str  # code from LANGUAGES
    sub_uri: str  # Wikidata QID of the subject
    obj_uri: str  # Wikidata QID of the object (the answer)
    sub_label: str  # subject label in `lang`
    obj_label: str  # object label in `lang` (the gold answer)
    template_id: str  # stable id of the template (see template_id())
    template: str  # the template with [X] and [Y]
    query: str  # the template filled with the subject and MASK for the object
    object_final: bool  # only punctuation or a listed sentence-final tail follows the MASK
    source: str  # one of TEMPLATE_SOURCES
    aligned_id: Optional[str] = None  # shared by the translations of one aligned template
    answer_hint: bool = False  # the words next to [MASK] depend on the answer (an article, a/an, a particle)


FIELDS: tuple[str, ...] = tuple(f.name for f in fields(QueryRecord))


class F:
    """Field-name constants: F.FACT_ID == "fact_id" and so on, so code never spells a field as a literal
    (tests/test_schema.py checks that they are exactly QueryRecord's fields)."""

    FACT_ID = "fact_id"
    RELATION = "relation"
    LANG = "lang"
    SUB_URI = "sub_uri"
    OBJ_URI = "obj_uri"
    SUB_LABEL = "sub_label"
    OBJ_LABEL = "obj_label"
    TEMPLATE_ID = "template_id"
    TEMPLATE = "template"
    QUERY = "query"
    OBJECT_FINAL = "object_final"
    SOURCE = "source"
    ALIGNED_ID = "aligned_id"
    ANSWER_HINT = "answer_hint"


ARROW_TYPES: dict[str, str] = {
    name: ("bool" if name in (F.OBJECT_FINAL, F.ANSWER_HINT) else "string") for name in FIELDS
}
"""Column types as written to parquet (and declared in the dataset card's dataset_info)."""

FIELD_DESCRIPTIONS: dict[str, str] = {
    "fact_id": "Fact identifier `<relation>:<sub_uri>:<obj_uri>`, identical across languages.",
    "relation": "Wikidata property id of the relation (for example P36, capital).",
    "lang": "Language code of the query.",
    "sub_uri": "Wikidata QID of the subject.",
    "obj_uri": "Wikidata QID of the object; the answer's language-independent identity.",
    "sub_label": "Subject label in the query's language.",
    "obj_label": "Object label in the query's language: the gold answer.",
    "template_id": "Stable id of the template: `<relation>.<lang>.<sha1(template)[:10]>`.",
    "template": "The cloze template with `[X]` (subject) and `[Y]` (object).",
    "query": "The template filled with the subject; the object slot is `[MASK]`.",
    "object_final": "True when only punctuation or a sentence-final tail follows `[MASK]`, "
    "so a left-to-right model can be probed with the text before it.",
    "source": "Where the template comes from (query-localization, mpararel-checked, mpararel, mlama, curated).",
    "aligned_id": "Shared by the translations of one template aligned across languages; null otherwise.",
    "answer_hint": "True when the words next to `[MASK]` depend on the gold answer (a French article or "
    "preposition of place, d' elision, English a/an or the, a Korean particle, a Hungarian suffix), so they give "
    "part of its form away; `obj_label` is always the exact string that fills `[MASK]` (no object is inflected).",
}

TEMPLATE_SOURCES: tuple[str, ...] = (
    "query-localization",  # aligned, clean paraphrases (Chen et al. 2024), en fr fi hu ja ko
    "mpararel-checked",  # mParaRel templates reviewed by a native speaker
    "mpararel",  # other mParaRel templates that pass repair and the relation lexicon
    "mlama",  # mLAMA 1.1's single template per relation
    "curated",  # templates written for this project, reviewed like code (data/curated/reviewed_templates.jsonl)
)
"""In order of preference."""


LANG_CODE_PATTERN = re.compile(r"[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{1,8})*")  # en, zh-hans, sr_Latn: safe in paths


def check_lang_code(code: object, where: str = "language code") -> str:
    """A language code that may become part of a path (a config folder, a report folder), or RmlLamaError."""
    if not isinstance(code, str) or not LANG_CODE_PATTERN.fullmatch(code):
        raise RmlLamaError(f"{where} {code!r}: not a language code (2-3 letters, then optional -subtags of letters "
                           "and digits, e.g. de, zh-hans)")
    return code


def make_fact_id(relation: str, sub_uri: str, obj_uri: str) -> str:
    return f"{relation}:{sub_uri}:{obj_uri}"


def template_id(relation: str, lang: str, template: str) -> str:
    digest = hashlib.sha1(template.encode("utf-8")).hexdigest()[:10]
    return f"{relation}.{lang}.{digest}"


def split_of(fact_id: str) -> str:
    """The split of a fact: deterministic from its id, identical in every language (about 10% validation)."""
    bucket = int(hashlib.sha256(fact_id.encode("utf-8")).hexdigest()[:8], 16) % 100
    return "validation" if bucket < VALIDATION_SHARE_PERCENT else "test"


# ------------------------------------------------------------------------------------------- languages
@dataclass(frozen=True)
class Language:
    code: str
    name: str
    family: str
    script: str  # dominant Unicode script of queries (see validation for the per-script ranges)
    final_punct: str  # the one sentence-final punctuation mark of a query
    core: bool  # in every core language, every core fact exists
    spaced: bool = True  # False: no spaces around slots (zh, ja)
    langdetect_codes: tuple[str, ...] = ()  # what langdetect answers for this language
    mlama: Optional[str] = None  # code of the language in mLAMA 1.1 (facts, template)
    mpararel: Optional[str] = None  # code in mParaRel's reviewed patterns
    qloc: Optional[str] = None  # "pair/lang" folder in the query-localization data
    final_tails: tuple[str, ...] = ()  # sentence-final words that may follow the object (object_final)


LANGUAGES: dict[str, Language] = {
    lang.code: lang
    for lang in (
        Language("en", "English", "Indo-European", "Latin", ".", True, True, ("en",), "en", "en", "en_fr/en"),
        Language("fr", "French", "Indo-European", "Latin", ".", True, True, ("fr",), "fr", "fr", "en_fr/fr"),
        Language("fi", "Finnish", "Uralic", "Latin", ".", True, True, ("fi",), "fi", "fi", "fi_hu/fi"),
        Language("hu", "Hungarian", "Uralic", "Latin", ".", True, True, ("hu",), "hu", "hu", "fi_hu/hu"),
        Language(
            "ja", "Japanese", "Japonic", "Japanese", "。", True, False, ("ja",), "ja", "ja", "ja_ko/ja",
            final_tails=("です", "である", "だ", "でした", "だった", "となっている", "となります"),
        ),
        Language(
            "ko", "Korean", "Koreanic", "Hangul", ".", True, True, ("ko",), "ko", "ko", "ja_ko/ko",
            final_tails=("입니다", "이다", "이었다", "였다", "이었습니다", "였습니다", "다", "예요", "이에요"),
        ),
        Language(
            "zh", "Chinese", "Sino-Tibetan", "Han", "。", True, False, ("zh-cn", "zh-tw", "ko", "ja"),
            "zh", "zh-hans", None,
        ),
        Language("de", "German", "Indo-European", "Latin", ".", False, True, ("de",), "de", "de", None),
        Language("es", "Spanish", "Indo-European", "Latin", ".", False, True, ("es",), "es", "es", None),
        Language("ru", "Russian", "Indo-European", "Cyrillic", ".", False, True, ("ru",), "ru", "ru", None),
        Language("ar", "Arabic", "Afro-Asiatic", "Arabic", ".", False, True, ("ar",), "ar", "ar", None),
        Language("hi", "Hindi", "Indo-European", "Devanagari", "।", False, True, ("hi",), "hi", None, None),
    )
}
"""Families as linguists file them (Japonic and Koreanic are families of their own). The paper counts four
families over its seven core languages, grouping Japanese and Korean together as "Altaic", a grouping
linguists no longer accept; `PAPER_FAMILIES` keeps its count for comparison."""

PAPER_FAMILIES: dict[str, str] = {"en": "Indo-European", "fr": "Indo-European", "fi": "Uralic", "hu": "Uralic",
                                  "ja": "Altaic (paper)", "ko": "Altaic (paper)", "zh": "Sino-Tibetan"}
"""The paper's grouping of the core languages: four families."""

CORE_LANGUAGES: tuple[str, ...] = tuple(code for code, lang in LANGUAGES.items() if lang.core)
EXTENDED_LANGUAGES: tuple[str, ...] = tuple(code for code, lang in LANGUAGES.items() if not lang.core)
ALL_CONFIG = "all"


def ordered_languages(langs: Iterable[str]) -> list[str]:
    """The given codes in the table's order (core first), unknown ones after them, sorted."""
    present = set(langs)
    known = [code for code in LANGUAGES if code in present]
    return known + sorted(present - set(known))


_PROPOSED: ContextVar[tuple[Language, ...]] = ContextVar("rml_lama_proposed_languages", default=())


def language(code: str) -> Language:
    """The table entry of a language, or of a language being proposed in the current context (see
    `proposed_language`); ValueError naming the known codes otherwise."""
    found = LANGUAGES.get(code) or next((entry for entry in _PROPOSED.get() if entry.code == code), None)
    if found is None:
        raise ValueError(f"unknown language {code!r}; known: {', '.join(LANGUAGES)}")
    return found


@contextlib.contextmanager
def proposed_language(entry: Language) -> Iterator[None]:
    """Within this block (this thread or task only), `language(entry.code)` knows a language the table does not,
    so the generation rules can be applied to a proposed new language. The table itself never changes."""
    token = _PROPOSED.set((*_PROPOSED.get(), entry))
    try:
        yield
    finally:
        _PROPOSED.reset(token)


# ------------------------------------------------------------------------------------------- relations
@dataclass(frozen=True)
class Relation:
    pid: str
    label: str  # English Wikidata label
    kind: str  # LAMA's cardinality class: "1-1", "N-1" or "N-M"


RELATIONS: dict[str, Relation] = {
    rel.pid: rel
    for rel in (
        Relation("P17", "country", "N-1"),
        Relation("P19", "place of birth", "N-1"),
        Relation("P20", "place of death", "N-1"),
        Relation("P27", "country of citizenship", "N-M"),
        Relation("P30", "continent", "N-1"),
        Relation("P31", "instance of", "N-M"),
        Relation("P36", "capital", "1-1"),
        Relation("P37", "official language", "N-1"),
        Relation("P39", "position held", "N-M"),
        Relation("P47", "shares border with", "N-M"),
        Relation("P101", "field of work", "N-M"),
        Relation("P103", "native language", "N-1"),
        Relation("P106", "occupation", "N-M"),
        Relation("P108", "employer", "N-M"),
        Relation("P127", "owned by", "N-1"),
        Relation("P131", "located in the administrative territorial entity", "N-1"),
        Relation("P136", "genre", "N-1"),
        Relation("P138", "named after", "N-1"),
        Relation("P140", "religion", "N-1"),
        Relation("P159", "headquarters location", "N-1"),
        Relation("P176", "manufacturer", "N-1"),
        Relation("P178", "developer", "N-M"),
        Relation("P190", "twinned administrative body", "N-M"),
        Relation("P264", "record label", "N-1"),
        Relation("P276", "location", "N-1"),
        Relation("P279", "subclass of", "N-1"),
        Relation("P361", "part of", "N-1"),
        Relation("P364", "original language of film or TV show", "N-1"),
        Relation("P407", "language of work or name", "N-1"),
        Relation("P413", "position played on team / speciality", "N-1"),
        Relation("P449", "original broadcaster", "N-1"),
        Relation("P463", "member of", "N-M"),
        Relation("P495", "country of origin", "N-1"),
        Relation("P527", "has part", "N-M"),
        Relation("P530", "diplomatic relation", "N-M"),
        Relation("P740", "location of formation", "N-1"),
        Relation("P937", "work location", "N-M"),
        Relation("P1001", "applies to jurisdiction", "N-1"),
        Relation("P1303", "instrument", "N-M"),
        Relation("P1376", "capital of", "1-1"),
        Relation("P1412", "languages spoken, written or signed", "N-M"),
    )
}
"""The 41 T-REx relations of LAMA / mLAMA 1.1 (kinds as in LAMA)."""


def relation(pid: str) -> Relation:
    try:
        return RELATIONS[pid]
    except KeyError:
        raise ValueError(f"unknown relation {pid!r}; known: {', '.join(RELATIONS)}") from None
