"""Language identity: Unicode scripts of the templates, and langdetect (fixed seed) on every template (filled
with a sample fact) plus a seeded sample of queries per language, run in a small process pool."""
from __future__ import annotations

import gc
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from multiprocessing import get_all_start_methods, get_context

import pandas as pd

from ..schema import MASK, F
from ..text import count_letters, script_share
from .registry import MAX_EXAMPLES, CheckContext, Finding, register

PARALLEL_MIN_TEXTS = 400  # below this, a process pool costs more than it saves


@register("script", "error", "a template's letters (slots removed) are mostly in the language's Unicode script")
def check_script(ctx: CheckContext) -> Finding:
    frame = ctx.frame
    templates = frame.drop_duplicates([F.LANG, F.TEMPLATE])[[F.LANG, F.TEMPLATE]]
    offending = set()
    for lang, template in zip(templates[F.LANG], templates[F.TEMPLATE]):
        expected = ctx.expectations[lang]
        letters, share = script_share(template, expected.script)
        if letters and share < expected.min_script_share:
            offending.add((lang, template))
    if not offending:
        return Finding(bad=ctx.series([False] * len(frame)))
    return Finding(bad=ctx.series([(lang, t) in offending for lang, t in zip(ctx.column(F.LANG), ctx.column(F.TEMPLATE))]))


@dataclass(frozen=True)
class LangIdItem:
    lang: str
    fact_id: str
    template_id: str
    text: str  # the query with its gold object in place of the mask
    short: bool  # a short Latin-script text: langdetect misfires on these, so a mismatch only warns
    detected: str = ""


def langid_items(ctx: CheckContext) -> list[LangIdItem]:
    """Every template of every language (filled with one seeded sample fact) and a seeded sample of queries."""
    shuffled = ctx.frame[[F.LANG, F.FACT_ID, F.TEMPLATE_ID, F.QUERY, F.OBJ_LABEL]].sample(
        frac=1.0, random_state=ctx.seed)
    items = []
    for lang, rows in shuffled.groupby(F.LANG, sort=True):
        expected = ctx.expectations[lang]
        if not expected.langdetect:
            continue
        chosen = pd.concat([rows.drop_duplicates(F.TEMPLATE_ID), rows.head(expected.langid_sample)])
        chosen = chosen[~chosen.index.duplicated()]
        for fact, tid, query, obj in zip(chosen[F.FACT_ID], chosen[F.TEMPLATE_ID], chosen[F.QUERY], chosen[F.OBJ_LABEL]):
            text = query.replace(MASK, obj)
            short = expected.script == "Latin" and count_letters(text) < expected.short_text_letters
            items.append(LangIdItem(lang, fact, tid, text, short))
    return items


LANGID_TRIALS = 3
"""langdetect's random trials per text (its default is 7): 2.4x faster, and the same answer on 97.8% of the
shipped release's language-id texts (measured); the verdict is a rate over hundreds of texts per language."""


def detect_languages(texts: list[str]) -> list[str]:
    """langdetect's answer for each text ("" where it finds no features), deterministic (seed 0)."""
    from langdetect import DetectorFactory, detector_factory
    from langdetect.lang_detect_exception import LangDetectException

    detector_factory.init_factory()
    DetectorFactory.seed = 0
    answers = []
    for text in texts:
        detector = detector_factory._factory.create()
        detector.n_trial = LANGID_TRIALS
        detector.append(text)
        try:
            answers.append(detector.detect())
        except LangDetectException:
            answers.append("")
    return answers


def detect_parallel(texts: list[str], workers: int) -> list[str]:
    if workers <= 1 or len(texts) < PARALLEL_MIN_TEXTS:
        return detect_languages(texts)
    size = -(-len(texts) // (workers * 4))
    chunks = [texts[i:i + size] for i in range(0, len(texts), size)]
    # fork: workers need only langdetect and the texts; spawn would re-run the caller's __main__ (a notebook,
    # a script on stdin) and pay the imports again
    # (the caller's large heap is frozen so that the children's garbage collector does not copy it page by page)
    method = "fork" if "fork" in get_all_start_methods() else "spawn"
    gc.freeze()
    try:
        with ProcessPoolExecutor(max_workers=workers, mp_context=get_context(method)) as pool:
            return [answer for chunk in pool.map(detect_languages, chunks) for answer in chunk]
    finally:
        gc.unfreeze()


def langid_results(ctx: CheckContext) -> list[LangIdItem]:
    if "langid" not in ctx.memo:
        items = langid_items(ctx)
        answers = detect_parallel([item.text for item in items], ctx.workers)
        ctx.memo["langid"] = [LangIdItem(i.lang, i.fact_id, i.template_id, i.text, i.short, a)
                              for i, a in zip(items, answers)]
    return ctx.memo["langid"]


def _agreement(ctx: CheckContext, short: bool) -> tuple[dict, dict, list]:
    rates, counts, examples = {}, {}, []
    by_lang: dict[str, list[LangIdItem]] = {}
    for item in langid_results(ctx):
        if item.short == short:
            by_lang.setdefault(item.lang, []).append(item)
    for lang, items in by_lang.items():
        codes = ctx.expectations[lang].langdetect
        wrong = [item for item in items if item.detected not in codes]
        rates[lang] = 1 - len(wrong) / len(items)
        counts[lang] = len(wrong)
        examples += [{"lang": lang, "fact_id": i.fact_id, "template_id": i.template_id, "text": i.text,
                      "detail": f"langdetect: {i.detected or '?'}"} for i in wrong[:MAX_EXAMPLES]]
    return rates, counts, examples


@register("language-id", "error",
          "langdetect agrees with the language on its templates and sampled queries (rate >= expectation)")
def check_language_id(ctx: CheckContext) -> Finding:
    rates, counts, examples = _agreement(ctx, short=False)
    failed = {lang for lang, rate in rates.items() if rate < ctx.expectations[lang].min_langid_agreement}
    return Finding(counts=counts, examples=[e for e in examples if e["lang"] in failed] or examples,
                   failed_langs=failed, metric_name="langdetect agreement", metric=rates)


@register("language-id-short", "warning", "langdetect on short Latin-script texts (mismatches there only warn)")
def check_language_id_short(ctx: CheckContext) -> Finding:
    rates, counts, examples = _agreement(ctx, short=True)
    return Finding(counts=counts, examples=examples, metric_name="langdetect agreement (short texts)", metric=rates)
