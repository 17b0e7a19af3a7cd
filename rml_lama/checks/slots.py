"""Checks of the slots: one [MASK], the subject spelled in the query, the object not spelled in it."""
from __future__ import annotations

import re
from functools import lru_cache

from ..schema import MASK, OBJECT_SLOT, SUBJECT_SLOT, F
from ..text import normalize
from .registry import CheckContext, Finding, register


def _slot_error(query: str, template: str) -> bool:
    return (query.count(MASK) != 1 or template.count(SUBJECT_SLOT) != 1 or template.count(OBJECT_SLOT) != 1
            or SUBJECT_SLOT in query or OBJECT_SLOT in query)


@register("mask-slot", "error", "exactly one [MASK] per query; the template has one [X] and one [Y]")
def check_mask_slot(ctx: CheckContext) -> Finding:
    return Finding(bad=ctx.series([_slot_error(q, t) for q, t in zip(ctx.column(F.QUERY), ctx.column(F.TEMPLATE))]))


@register("subject-present", "error", "the subject label appears in its query (after Unicode and case normalisation)")
def check_subject_present(ctx: CheckContext) -> Finding:
    rows = zip(ctx.normalized(F.SUB_LABEL), ctx.normalized(F.QUERY), ctx.column(F.LANG), ctx.column(F.SUB_LABEL))
    return Finding(bad=ctx.series([not subject_spelled(subject, query, lang, raw)
                                   for subject, query, lang, raw in rows]))


def subject_stem(subject: str, lang: str) -> str:
    """The part of the subject a correct query must spell: Hungarian lengthens a final a/e before a suffix
    (Mona Lisa -> Mona Lisát), so its final vowel may change; a French label's own article fuses with de/à
    (Le Caire -> du Caire, Les Verts -> des Verts), so it may be gone."""
    if lang == "hu" and len(subject) > 1 and subject[-1] in "ae":
        return subject[:-1]
    if lang == "fr":
        return re.sub(r"^(le |les |la |l'|l’)", "", subject)
    return subject


def subject_spelled(subject: str, query: str, lang: str, label: str = "") -> bool:
    """Whether the (normalised) query spells the (normalised) subject: whole, or as `subject_stem`; in Finnish
    also as the genitive generation gives the raw `label` (Helsinki -> Helsingin, Uusikaupunki ->
    Uudenkaupungin, Yhdistynyt kuningaskunta -> Yhdistyneen kuningaskunnan)."""
    if subject_stem(subject, lang) in query:
        return True
    if lang == "fi" and label:
        from ..dataset.languages.finnish import genitive

        form = genitive(label)
        return form is not None and normalize(form) in query
    return False


UNSPACED_WORD_SCRIPTS = ("Han", "Japanese", "Hangul")  # no word boundary to rely on (Korean glues particles)


NORMAL_MASK = normalize(MASK)


def object_leaks(query: str, label: str, whole_words: bool) -> bool:
    """True when the (normalised) object is spelled in the (normalised) query outside the mask: as a whole
    word where words are spaced, anywhere in Chinese, Japanese and Korean."""
    if not label.strip() or label not in query:
        return False
    text = query.replace(NORMAL_MASK, " ")
    if label not in text:
        return False
    return not whole_words or _whole_word(label).search(text) is not None


@lru_cache(maxsize=65536)
def _whole_word(label: str) -> re.Pattern:
    return re.compile(r"(?<!\w)" + re.escape(label) + r"(?!\w)")


@register("object-leak", "error", "the object label is not spelled in its own query (after normalisation)")
def check_object_leak(ctx: CheckContext) -> Finding:
    words = {code: lang.spaced and lang.script not in UNSPACED_WORD_SCRIPTS
             for code, lang in ctx.expectations.languages.items()}
    rows = zip(ctx.normalized(F.QUERY), ctx.normalized(F.OBJ_LABEL), ctx.column(F.LANG))
    return Finding(bad=ctx.series([object_leaks(q, o, words.get(lang, True)) for q, o, lang in rows]))
