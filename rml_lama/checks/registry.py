"""The registry of validation checks: what a check is, what it returns, and what it sees."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

import pandas as pd

from ..schema import F, ordered_languages
from ..text import normalize
from .expectations import Expectations

SEVERITIES = ("error", "warning")
MAX_EXAMPLES = 5


@dataclass
class CheckContext:
    """Everything a check may look at: the rows, the per-language expectations, and how to sample."""

    frame: pd.DataFrame  # columns schema.FIELDS (+ optional `split`)
    expectations: Expectations
    seed: int = 0
    tokenizer: Optional[Callable[[str], list]] = None  # text -> tokens; None: a seeded sentencepiece model
    stats: Optional[dict] = None  # the release's stats.json, when validating a release folder
    release_dir: Optional[Path] = None
    cache_dir: Optional[Path] = None  # where trained tokenizers are kept
    workers: int = 2  # processes for language identification
    memo: dict = field(default_factory=dict)  # results shared between checks (language id runs once)

    def column(self, name: str) -> list:
        """A column as a Python list (memoised): loops over lists are far faster than over Series."""
        key = ("column", name)
        if key not in self.memo:
            self.memo[key] = self.frame[name].tolist()
        return self.memo[key]

    def normalized(self, name: str) -> list[str]:
        """A text column after Unicode NFKC and case folding (memoised)."""

        key = ("normalized", name)
        if key not in self.memo:
            cache: dict[str, str] = {}
            self.memo[key] = [cache.get(v) or cache.setdefault(v, normalize(v)) if isinstance(v, str) else ""
                              for v in self.column(name)]
        return self.memo[key]

    def series(self, values: list) -> pd.Series:
        return pd.Series(values, index=self.frame.index)

    @property
    def languages(self) -> list[str]:
        return ordered_languages(self.frame[F.LANG].dropna().astype(str).unique())


@dataclass
class Finding:
    """What a check function found. `bad` marks offending rows of the frame; the other fields are optional.

    counts/examples default to those of the bad rows; failed_langs defaults to the languages with bad rows;
    problems are failures not tied to a row (a missing column, a missing language)."""

    bad: Optional[pd.Series] = None
    counts: Optional[dict[str, int]] = None
    examples: Optional[list[dict]] = None
    failed_langs: Optional[set[str]] = None
    metric_name: Optional[str] = None
    metric: dict[str, float] = field(default_factory=dict)
    metric_kind: str = "share"  # how the metric reads: a "share" (shown as %), a "mean" or a "count"
    problems: list[str] = field(default_factory=list)
    message: str = ""


@dataclass
class CheckResult:
    """One check's verdict, as written to the report."""

    name: str
    severity: str
    passed: bool
    message: str
    counts: dict[str, int]  # offending items per language
    examples: list[dict]  # the first offending rows: lang, fact_id, template_id, text (+ detail)
    metric_name: Optional[str] = None
    metric: dict[str, float] = field(default_factory=dict)  # a per-language figure (rate, mean, share)
    metric_kind: str = "share"  # "share" | "mean" | "count": how the report formats the metric
    failed_langs: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    description: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name, "severity": self.severity, "passed": self.passed, "message": self.message,
            "counts": self.counts, "examples": self.examples, "metric_name": self.metric_name,
            "metric": self.metric, "metric_kind": self.metric_kind, "failed_langs": self.failed_langs, "problems": self.problems,
            "description": self.description,
        }


@dataclass(frozen=True)
class Check:
    name: str
    severity: str
    description: str
    function: Callable[[CheckContext], Finding]

    def run(self, ctx: CheckContext) -> CheckResult:
        return to_result(self, self.function(ctx), ctx)


CHECKS: dict[str, Check] = {}


def register(name: str, severity: str, description: str) -> Callable:
    """Decorator: add a check function to CHECKS under `name` (registration order is report order)."""
    if severity not in SEVERITIES:
        raise ValueError(f"severity must be one of {SEVERITIES}, not {severity!r}")

    def decorate(function: Callable[[CheckContext], Finding]) -> Callable[[CheckContext], Finding]:
        if name in CHECKS:
            raise ValueError(f"check {name!r} registered twice")
        CHECKS[name] = Check(name, severity, description, function)
        return function

    return decorate


def row_example(row: pd.Series, detail: Optional[str] = None) -> dict:
    example = {
        "lang": str(row.get(F.LANG)), "fact_id": str(row.get(F.FACT_ID)),
        "template_id": str(row.get(F.TEMPLATE_ID)), "text": str(row.get(F.QUERY)),
    }
    if detail:
        example["detail"] = detail
    return example


def to_result(check: Check, finding: Finding, ctx: CheckContext) -> CheckResult:
    frame = ctx.frame
    counts, examples = finding.counts, finding.examples
    if finding.bad is not None:
        bad = finding.bad.fillna(False).astype(bool)
        offending = frame[bad]
        if counts is None:
            counts = {str(k): int(v) for k, v in offending.groupby(F.LANG, sort=False).size().items()}
        if examples is None:
            examples = [row_example(row) for _, row in offending.head(MAX_EXAMPLES).iterrows()]
    counts = {lang: n for lang, n in sorted((counts or {}).items()) if n}
    failed = set(finding.failed_langs) if finding.failed_langs is not None else set(counts)
    passed = not failed and not finding.problems
    message = finding.message or (
        "ok" if passed else f"{sum(counts.values()):,} offending in {', '.join(sorted(failed)) or 'the release'}"
    )
    return CheckResult(
        name=check.name, severity=check.severity, passed=passed, message=message, counts=counts,
        examples=(examples or [])[:MAX_EXAMPLES], metric_name=finding.metric_name,
        metric={k: round(float(v), 4) for k, v in sorted(finding.metric.items())}, metric_kind=finding.metric_kind,
        failed_langs=sorted(failed), problems=list(finding.problems), description=check.description,
    )
