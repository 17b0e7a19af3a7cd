"""Coverage: rephrasings per (fact, language), object-final queries per fact, and the object_final flag."""
from __future__ import annotations

from ..dataset.morphology import is_object_final
from ..schema import F
from .registry import CheckContext, Finding, register


@register("rephrasings", "error", "queries per (fact, language) >= the minimum, and their mean >= the expected mean")
def check_rephrasings(ctx: CheckContext) -> Finding:
    frame = ctx.frame
    per_fact = frame.groupby([F.LANG, F.FACT_ID]).size()
    means = per_fact.groupby(level=0).mean()
    group_size = frame.groupby([F.LANG, F.FACT_ID])[F.FACT_ID].transform("size")
    minimum = frame[F.LANG].map(lambda lang: ctx.expectations[lang].min_rephrasings)
    bad = group_size < minimum
    counts = {lang: int((per_fact[lang] < ctx.expectations[lang].min_rephrasings).sum()) for lang in means.index}
    low_mean = {lang for lang, mean in means.items() if mean < ctx.expectations[lang].min_mean_rephrasings}
    failed = {lang for lang, n in counts.items() if n} | low_mean
    message = "" if not low_mean else "mean below the expectation in " + ", ".join(
        f"{lang} ({means[lang]:.2f} < {ctx.expectations[lang].min_mean_rephrasings})" for lang in sorted(low_mean))
    return Finding(bad=bad, counts=counts, failed_langs=failed, metric_name="mean rephrasings", metric_kind="mean",
                   metric=means.to_dict(), message=message)


@register("object-final-coverage", "error",
          "every fact has an object-final query in languages that require it (coverage reported for all)")
def check_object_final_coverage(ctx: CheckContext) -> Finding:
    frame = ctx.frame
    has_final = frame.groupby([F.LANG, F.FACT_ID])[F.OBJECT_FINAL].any()
    coverage = has_final.groupby(level=0).mean().to_dict()
    counts, examples = {}, []
    for lang, covered in has_final.groupby(level=0):
        if not ctx.expectations[lang].object_final_required:
            continue
        missing = [fact for (_, fact), ok in covered.items() if not ok]
        counts[lang] = len(missing)
        examples += [{"lang": lang, "fact_id": fact, "template_id": "", "text": "",
                      "detail": "no object-final query"} for fact in missing[:2]]
    return Finding(counts=counts, examples=examples, metric_name="facts with an object-final query",
                   metric=coverage)


@register("object-final-flag", "error", "object_final equals the rule applied to the template (morphology)")
def check_object_final_flag(ctx: CheckContext) -> Finding:
    frame = ctx.frame
    rule = is_object_final
    templates = frame.drop_duplicates([F.LANG, F.TEMPLATE])
    expected = {(lang, t): bool(rule(t, lang)) for lang, t in zip(templates[F.LANG], templates[F.TEMPLATE])}
    rows = zip(ctx.column(F.LANG), ctx.column(F.TEMPLATE), ctx.column(F.OBJECT_FINAL))
    return Finding(bad=ctx.series([expected[(lang, t)] != bool(flag) for lang, t, flag in rows]))
