"""Script and morphology rules: Simplified Chinese, Korean particle agreement, no spaces around slots in
Chinese and Japanese, one sentence-final punctuation mark. The rules themselves are generation's
(`rml_lama.dataset.languages`): one definition, read the same way when building and when checking."""
from __future__ import annotations

import re

import pandas as pd

from ..dataset.languages import korean
from ..dataset.languages.chinese import to_simplified
from ..dataset.languages.punctuation import SENTENCE_PUNCT as _SENTENCE_PUNCT
from ..schema import F
from .registry import CheckContext, Finding, register

SIMPLIFIED_LANGS = ("zh",)
KOREAN = "ko"
SENTENCE_PUNCT = set(_SENTENCE_PUNCT)  # the one set generation strips and merges (languages.punctuation)


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
hangul_final = korean.korean_final_sound  # the reading generation uses
particle_error = korean.particle_error
korean_row_error = korean.row_error


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
