"""Text quality as a native reader sees it: each query read with its gold answer in place of [MASK].

One check per defect family found by reading the release (issue #11): Finnish case endings after a colon on
ordinary words, Hungarian suffixes after a hyphen, French elision and contraction misses, English a/an,
lower-cased German nouns, templates without a word of their relation's gloss, and subjects that spell their
own answer. The rules are those generation uses (`rml_lama.dataset.languages`). A defect already inside a
label (a title that contains "de Italie") is not the query's: a row fails only when the filled query has more
defects than its labels.

A language whose expectations say `text_quality_required: false` (a shipped extended language with
unreviewed source templates) is counted and reported but does not fail the check."""
from __future__ import annotations

from collections.abc import Callable

import pandas as pd

from ..dataset.languages import english, finnish, french, german, hungarian
from ..schema import MASK, F
from .registry import CheckContext, Finding, register


def _filled(ctx: CheckContext) -> list[str]:
    key = ("filled",)
    if key not in ctx.memo:
        ctx.memo[key] = [q.replace(MASK, o) for q, o in zip(ctx.column(F.QUERY), ctx.column(F.OBJ_LABEL))]
    return ctx.memo[key]


def _required(ctx: CheckContext, langs) -> set[str]:
    return {lang for lang in langs if lang not in ctx.expectations or ctx.expectations[lang].text_quality_required}


def _finding(ctx: CheckContext, bad: list[bool]) -> Finding:
    series = ctx.series(bad)
    langs = set(ctx.frame.loc[series, F.LANG]) if series.any() else set()
    required = _required(ctx, langs)
    exempt = sorted(langs - required)
    message = ""
    if exempt:
        counts = ctx.frame.loc[series, F.LANG].value_counts()
        notes = "; ".join(f"{lang}: {int(counts[lang]):,} ({ctx.expectations[lang].text_quality_note or 'not required'})"
                          for lang in exempt)
        message = (f"{int(counts[list(required)].sum()) if required else 0:,} offending in required languages"
                   f"{' (' + ', '.join(sorted(required)) + ')' if required else ''}; reported only: {notes}")
    return Finding(bad=series, failed_langs=required, message=message)


def _label_excess(ctx: CheckContext, lang: str, errors: Callable[[str], list], text: list[str]) -> list[bool]:
    """Rows of `lang` whose text has more defects than its subject and object labels together."""
    out = []
    memo: dict[str, int] = {}

    def count(label: str) -> int:
        if label not in memo:
            memo[label] = len(errors(label))
        return memo[label]

    for row_lang, t, s, o in zip(ctx.column(F.LANG), text, ctx.column(F.SUB_LABEL), ctx.column(F.OBJ_LABEL)):
        out.append(row_lang == lang and len(errors(t)) > count(s) + count(o))
    return out


@register("fi-colon-ending", "error",
          "no Finnish case ending after a colon except on abbreviations and numerals (EU:ssa, 1990:n; not [MASK]:ssä)")
def check_fi_colon_ending(ctx: CheckContext) -> Finding:
    return _finding(ctx, _label_excess(ctx, "fi", finnish.colon_endings, ctx.column(F.QUERY)))


@register("hu-hyphen-suffix", "error",
          "no Hungarian case suffix after a hyphen on an ordinary word or on [MASK] (Afrikában, not Afrika-ban)")
def check_hu_hyphen_suffix(ctx: CheckContext) -> Finding:
    return _finding(ctx, _label_excess(ctx, "hu", lambda t: hungarian.HYPHENATED_SUFFIX.findall(t), ctx.column(F.QUERY)))


@register("fr-elision", "error",
          "French elision and contraction with the answer in place (d'Italie, l'instrument, du Japon, au Havre)")
def check_fr_elision(ctx: CheckContext) -> Finding:
    return _finding(ctx, _label_excess(ctx, "fr", french.elision_errors, _filled(ctx)))


@register("en-a-an", "error", "English a/an agree with the sound of the next word, the answer in place")
def check_en_a_an(ctx: CheckContext) -> Finding:
    return _finding(ctx, _label_excess(ctx, "en", english.article_errors, _filled(ctx)))


@register("de-noun-case", "error", "German nouns are capitalised (die Hauptstadt, not die hauptstadt)")
def check_de_noun_case(ctx: CheckContext) -> Finding:
    return _finding(ctx, _label_excess(ctx, "de", german.lowercase_nouns, ctx.column(F.TEMPLATE)))


@register("relation-gloss", "error",
          "each template contains a word of its relation's gloss and no known mistranslation (relation lexicon)")
def check_relation_gloss(ctx: CheckContext) -> Finding:
    from ..dataset.morphology import lexicon_accepts

    memo: dict[tuple, bool] = {}
    bad = []
    for template, relation, lang in zip(ctx.column(F.TEMPLATE), ctx.column(F.RELATION), ctx.column(F.LANG)):
        key = (template, relation, lang)
        if key not in memo:
            memo[key] = isinstance(template, str) and not lexicon_accepts(template, relation, lang)
        bad.append(memo[key])
    return _finding(ctx, bad)


@register("subject-contains-object", "error",
          "the answer is not spelled inside the subject label or its qualifier (Indianapolis -> Indiana)")
def check_subject_contains_object(ctx: CheckContext) -> Finding:
    from ..dataset.generate import subject_leaks

    memo: dict[tuple, bool] = {}
    bad = []
    for s, o in zip(ctx.column(F.SUB_LABEL), ctx.column(F.OBJ_LABEL)):
        if (s, o) not in memo:
            memo[(s, o)] = isinstance(s, str) and isinstance(o, str) and subject_leaks(s, o)
        bad.append(memo[(s, o)])
    return _finding(ctx, bad)


def hint_shares(frame: pd.DataFrame) -> dict[str, float]:
    """Share of queries per language whose text next to [MASK] depends on the answer (`answer_hint`)."""
    if F.ANSWER_HINT not in frame.columns or frame.empty:
        return {}
    return {str(k): round(float(v), 4) for k, v in frame.groupby(F.LANG)[F.ANSWER_HINT].mean().items()}
