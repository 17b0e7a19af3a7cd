"""Script and morphology rules: Simplified Chinese, Korean particle agreement, no spaces around slots in
Chinese and Japanese, one sentence-final punctuation mark."""
from __future__ import annotations

import re
from typing import Optional

import pandas as pd

from ..dataset.morphology import korean_final_sound, to_simplified
from ..schema import MASK, F
from .registry import CheckContext, Finding, register

SIMPLIFIED_LANGS = ("zh",)
KOREAN = "ko"
SENTENCE_PUNCT = set(".。!?！？;；:：,，、।")


@register("chinese-simplified", "error", "Chinese labels and templates are in Simplified script (OpenCC t2s)")
def check_chinese_simplified(ctx: CheckContext) -> Finding:
    frame = ctx.frame
    rows = frame[F.LANG].isin(SIMPLIFIED_LANGS)
    if not rows.any():
        return Finding(bad=rows)
    convert = to_simplified
    texts = frame.loc[rows, [F.SUB_LABEL, F.OBJ_LABEL, F.TEMPLATE]]
    unique = pd.unique(texts.to_numpy().ravel())
    traditional = {text for text in unique if convert(text) != text}
    bad = pd.Series(False, index=frame.index)
    bad[rows] = texts.isin(traditional).any(axis=1)
    return Finding(bad=bad)


# ---------------------------------------------------------------------------------------------- Korean
PARTICLES = {  # written form -> (form after a final consonant, form after a vowel); ㄹ takes the vowel form of 로
    "은": ("은", "는"), "는": ("은", "는"), "이": ("이", "가"), "가": ("이", "가"),
    "을": ("을", "를"), "를": ("을", "를"), "과": ("과", "와"), "와": ("과", "와"),
}
INSTRUMENTAL = ("으로", "로")  # also heads of 으로서/로서, 으로써/로써, 으로부터/로부터
HANGUL_RUN = re.compile(r"[\uac00-\ud7a3]*")


def hangul_final(word: str) -> Optional[str]:
    """'consonant', 'rieul' (ㄹ), 'vowel', or None (unknown reading), as rml_lama.dataset.morphology reads a label."""

    return korean_final_sound(word)


def particle_error(final: Optional[str], tail: str) -> Optional[str]:
    """Why the particle opening `tail` disagrees with a word whose final sound is `final` (None: it agrees)."""
    if final is None or not tail:
        return None
    if tail in PARTICLES:
        consonant, vowel = PARTICLES[tail]
        wanted = consonant if final == "consonant" or (final == "rieul") else vowel
        return None if tail == wanted else f"{tail} after a {final}-final word (wants {wanted})"
    if tail.startswith(INSTRUMENTAL[0]):
        return None if final == "consonant" else f"으로 after a {final}-final word (wants 로)"
    if tail.startswith(INSTRUMENTAL[1]):
        return None if final in ("vowel", "rieul") else "로 after a consonant-final word (wants 으로)"
    return None


def korean_row_error(query: str, subject: str, obj: str) -> Optional[str]:
    at = query.find(subject)
    if at >= 0:
        tail = HANGUL_RUN.match(query, at + len(subject)).group()
        error = particle_error(hangul_final(subject), tail)
        if error:
            return f"subject: {error}"
    at = query.find(MASK)
    if at >= 0:
        tail = HANGUL_RUN.match(query, at + len(MASK)).group()
        error = particle_error(hangul_final(obj), tail)
        if error:
            return f"object: {error}"
    return None


@register("korean-particles", "error",
          "Korean particles after the subject and after [MASK] agree with the subject / gold object")
def check_korean_particles(ctx: CheckContext) -> Finding:
    frame = ctx.frame
    rows = zip(frame.index, ctx.column(F.LANG), ctx.column(F.QUERY), ctx.column(F.SUB_LABEL), ctx.column(F.OBJ_LABEL))
    errors = {index: error for index, lang, q, s, o in rows
              if lang == KOREAN and (error := korean_row_error(q, s, o))}
    bad = pd.Series(frame.index.isin(list(errors)), index=frame.index)
    examples = [{"lang": KOREAN, "fact_id": frame.at[i, F.FACT_ID], "template_id": frame.at[i, F.TEMPLATE_ID],
                 "text": frame.at[i, F.QUERY], "detail": errors[i]} for i in list(errors)[:5]]
    return Finding(bad=bad, examples=examples)


# ----------------------------------------------------------------------------------------------- spacing
SLOT_SPACE = re.compile(r"[^\x00-\x7f]\s+(?:\[X\]|\[Y\]|\[MASK\])|(?:\[X\]|\[Y\]|\[MASK\])\s+[^\x00-\x7f]")


@register("cjk-slot-spacing", "error", "no spaces around slots in unspaced languages (zh, ja)")
def check_cjk_slot_spacing(ctx: CheckContext) -> Finding:
    unspaced = {code for code, lang in ctx.expectations.languages.items() if not lang.spaced}
    rows = zip(ctx.column(F.LANG), ctx.column(F.TEMPLATE), ctx.column(F.QUERY))
    return Finding(bad=ctx.series([lang in unspaced and (SLOT_SPACE.search(t) is not None or
                                                          SLOT_SPACE.search(q) is not None) for lang, t, q in rows]))


# ---------------------------------------------------------------------------------------------- punctuation
def punctuation_error(query: str, final: str) -> bool:
    if not query.endswith(final):
        return True
    before = query[: -len(final)]
    return not before or before[-1].isspace() or before[-1] in SENTENCE_PUNCT


@register("final-punctuation", "error", "each query ends with its language's one sentence-final punctuation mark")
def check_final_punctuation(ctx: CheckContext) -> Finding:
    finals = {code: lang.final_punct for code, lang in ctx.expectations.languages.items()}
    rows = zip(ctx.column(F.QUERY), ctx.column(F.LANG))
    return Finding(bad=ctx.series([punctuation_error(q, finals[lang]) for q, lang in rows]))
