"""Checks of the release's shape: columns and types, identifiers, unique keys, parallel core facts, stats."""
from __future__ import annotations

import pandas as pd

from ..dataset.release import compute_stats, release_checksum
from ..frames import facts_by_lang
from ..paths import SPLIT_COLUMN
from ..schema import ARROW_TYPES, FIELDS, RELATIONS, TEMPLATE_SOURCES, F, split_of, template_id
from .registry import CheckContext, Finding, register

OPTIONAL_FIELDS = (F.ALIGNED_ID,)
STATS_KEYS = (
    "core_languages", "languages", "facts_parallel_core", "queries", "queries_core_total", "queries_total",
    "facts", "rephrasings_min", "rephrasings_mean", "object_final_fact_coverage",
)


def missing_columns(frame: pd.DataFrame) -> list[str]:
    return [name for name in FIELDS if name not in frame.columns]


def _not_of_type(column: pd.Series, arrow_type: str, optional: bool) -> pd.Series:
    """Rows whose value is not of the column's type (a null counts only in a required column)."""
    if arrow_type == "bool":
        if pd.api.types.is_bool_dtype(column.dtype):
            return pd.Series(False, index=column.index)
        return column.map(lambda v: type(v).__name__ not in ("bool", "bool_"))
    if pd.api.types.is_string_dtype(column.dtype) and column.dtype != object:
        wrong = pd.Series(False, index=column.index)  # a string dtype holds strings or nulls only
    else:
        wrong = column.map(lambda v: not isinstance(v, str) and not pd.isna(v))
    return wrong if optional else wrong | column.isna()


@register("schema", "error", "columns are schema.FIELDS with their types; known languages, relations, sources")
def check_schema(ctx: CheckContext) -> Finding:
    frame = ctx.frame
    problems = [f"missing column {name!r}" for name in missing_columns(frame)]
    extra = [c for c in frame.columns if c not in FIELDS and c != SPLIT_COLUMN]
    problems += [f"unexpected column {name!r}" for name in extra]
    if problems:
        return Finding(problems=problems, message="; ".join(problems))
    bad = pd.Series(False, index=frame.index)
    for name in FIELDS:
        bad |= _not_of_type(frame[name], ARROW_TYPES[name], optional=name in OPTIONAL_FIELDS)
    bad |= ~frame[F.LANG].isin(list(ctx.expectations.languages))
    bad |= ~frame[F.RELATION].isin(list(RELATIONS))
    bad |= ~frame[F.SOURCE].isin(list(TEMPLATE_SOURCES))
    for name in (F.QUERY, F.SUB_LABEL, F.OBJ_LABEL, F.TEMPLATE):
        bad |= frame[name].astype(str).str.strip().eq("")
    return Finding(bad=bad)


def _key(frame: pd.DataFrame, names: list[str]) -> pd.Series:
    key = frame[names[0]].astype(str)
    for name in names[1:]:
        key = key + "\x1f" + frame[name].astype(str)
    return key


@register("identifiers", "error", "fact_id, template_id and split are those derived from the row (schema rules)")
def check_identifiers(ctx: CheckContext) -> Finding:
    frame = ctx.frame
    fact = frame[F.RELATION].astype(str) + ":" + frame[F.SUB_URI].astype(str) + ":" + frame[F.OBJ_URI].astype(str)
    bad = fact != frame[F.FACT_ID]  # schema.make_fact_id, vectorised
    templates = frame[[F.RELATION, F.LANG, F.TEMPLATE]].drop_duplicates()
    expected = {f"{r}\x1f{lang}\x1f{t}": template_id(r, lang, t)
                for r, lang, t in zip(templates[F.RELATION], templates[F.LANG], templates[F.TEMPLATE])}
    bad |= _key(frame, [F.RELATION, F.LANG, F.TEMPLATE]).map(expected) != frame[F.TEMPLATE_ID]
    if SPLIT_COLUMN in frame.columns:
        splits = {f: split_of(f) for f in frame[F.FACT_ID].unique() if isinstance(f, str)}
        bad |= frame[F.FACT_ID].map(splits) != frame[SPLIT_COLUMN]
    return Finding(bad=bad)


@register("unique-keys", "error", "(fact_id, lang, template_id) is unique")
def check_unique_keys(ctx: CheckContext) -> Finding:
    return Finding(bad=ctx.frame.duplicated([F.FACT_ID, F.LANG, F.TEMPLATE_ID], keep="first"))


@register("core-parallel", "error", "every core fact is present in every core language")
def check_core_parallel(ctx: CheckContext) -> Finding:
    frame = ctx.frame
    core = list(ctx.expectations.core)
    langs = set(frame[F.LANG].unique())
    present = [lang for lang in core if lang in langs]
    problems = [f"core language {lang!r} has no queries" for lang in core if lang not in present]
    facts = facts_by_lang(frame[frame[F.LANG].isin(core)])
    union = set().union(*facts.values()) if facts else set()
    counts, examples = {}, []
    for lang in present:
        missing = sorted(union - facts[lang])
        counts[lang] = len(missing)
        examples += [{"lang": lang, "fact_id": fact, "template_id": "", "text": "",
                      "detail": "core fact missing in this language"} for fact in missing[:2]]
    return Finding(counts=counts, examples=examples, problems=problems,
                   metric_name="core facts", metric_kind="count", metric={lang: len(facts.get(lang, ())) for lang in present})


@register("release-stats", "error", "stats.json (and so the card) agrees with the rows and the parquet checksum")
def check_release_stats(ctx: CheckContext) -> Finding:
    if ctx.stats is None:
        return Finding(message="skipped: no stats.json (not a release folder)")

    actual = compute_stats(ctx.frame)
    problems = [f"stats.json {key} = {ctx.stats.get(key)!r}, rows give {actual[key]!r}"
                for key in STATS_KEYS if ctx.stats.get(key) != actual[key]]
    if ctx.release_dir is not None and "checksum" in ctx.stats:
        if ctx.stats["checksum"] != release_checksum(ctx.release_dir):
            problems.append("stats.json checksum differs from the parquet files' checksum")
    return Finding(problems=problems, message="; ".join(problems) if problems else "")
