"""Checks of the slots: one [MASK], the subject spelled in the query, the object not spelled in it."""
from __future__ import annotations

import re
from functools import lru_cache

import pandas as pd

from ..schema import MASK, OBJECT_SLOT, SUBJECT_SLOT, F
from .registry import CheckContext, Finding, register
from .text import normalize


def _slot_error(query: str, template: str) -> bool:
    return (query.count(MASK) != 1 or template.count(SUBJECT_SLOT) != 1 or template.count(OBJECT_SLOT) != 1
            or SUBJECT_SLOT in query or OBJECT_SLOT in query)


@register("mask-slot", "error", "exactly one [MASK] per query; the template has one [X] and one [Y]")
def check_mask_slot(ctx: CheckContext) -> Finding:
    frame = ctx.frame
    bad = [_slot_error(q, t) for q, t in zip(frame[F.QUERY], frame[F.TEMPLATE])]
    return Finding(bad=pd.Series(bad, index=frame.index))


@register("subject-present", "error", "the subject label appears in its query (after Unicode and case normalisation)")
def check_subject_present(ctx: CheckContext) -> Finding:
    frame = ctx.frame
    bad = [normalize(subject) not in normalize(query) for subject, query in zip(frame[F.SUB_LABEL], frame[F.QUERY])]
    return Finding(bad=pd.Series(bad, index=frame.index))


UNSPACED_WORD_SCRIPTS = ("Han", "Japanese", "Hangul")  # no word boundary to rely on (Korean glues particles)


def object_leaks(query: str, obj: str, whole_words: bool) -> bool:
    """True when the object is spelled in the query outside the [MASK]: as a whole word where words are
    spaced, anywhere in Chinese, Japanese and Korean."""
    text, label = normalize(query.replace(MASK, " ")), normalize(obj)
    if not label.strip() or label not in text:
        return False
    return not whole_words or _whole_word(label).search(text) is not None


@lru_cache(maxsize=65536)
def _whole_word(label: str) -> re.Pattern:
    return re.compile(r"(?<!\w)" + re.escape(label) + r"(?!\w)")


@register("object-leak", "error", "the object label is not spelled in its own query (after normalisation)")
def check_object_leak(ctx: CheckContext) -> Finding:
    frame = ctx.frame
    words = {code: lang.spaced and lang.script not in UNSPACED_WORD_SCRIPTS
             for code, lang in ctx.expectations.languages.items()}
    bad = [object_leaks(q, o, words.get(lang, True))
           for q, o, lang in zip(frame[F.QUERY], frame[F.OBJ_LABEL], frame[F.LANG])]
    return Finding(bad=pd.Series(bad, index=frame.index))
