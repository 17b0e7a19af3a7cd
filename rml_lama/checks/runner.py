"""Run the checks on a release (or on a proposed language) and write the reports: the CLI entry points."""
from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Optional

import pandas as pd
from tqdm import tqdm

from .._version import __version__
from ..dataset.release import read_release, read_stats, release_checksum
from ..errors import RmlLamaError
from ..frames import facts_by_lang, parallel_fact_ids
from ..schema import F
from . import CHECKS
from .expectations import Expectations, load_expectations
from .registry import CheckContext, CheckResult
from .report import ValidationReport, render_text, write_report
from .structure import missing_columns


def _crashed(name: str, error: Exception) -> CheckResult:
    check = CHECKS[name]
    problem = f"the check could not run: {type(error).__name__}: {error}"
    return CheckResult(name, check.severity, False, problem, {}, [], problems=[problem],
                       description=check.description)


def _skipped(name: str, reason: str) -> CheckResult:
    check = CHECKS[name]
    return CheckResult(name, check.severity, False, f"not run: {reason}", {}, [], problems=[reason],
                       description=check.description)


def run_checks(ctx: CheckContext, names: Optional[Sequence[str]] = None, progress: bool = False) -> list[CheckResult]:
    """Run the named checks (default: all) in registry order. With missing columns only `schema` runs;
    a check that raises is reported as failed (with the exception) instead of stopping the others."""
    names = [name for name in CHECKS if names is None or name in names]
    if missing_columns(ctx.frame):
        return [CHECKS[n].run(ctx) if n == "schema" else _skipped(n, "the schema check failed") for n in names]
    results = []
    for name in tqdm(names, desc="checks", unit="check", disable=not progress, file=sys.stderr):
        try:
            results.append(CHECKS[name].run(ctx))
        except RmlLamaError:
            raise
        except Exception as error:
            results.append(_crashed(name, error))
    return results


def frame_figures(frame: pd.DataFrame, core: Sequence[str]) -> dict:
    langs = list(dict.fromkeys(frame[F.LANG].astype(str)))
    facts = facts_by_lang(frame)
    present_core = [lang for lang in core if lang in facts]
    parallel = parallel_fact_ids(frame, core)
    return {
        "queries": {lang: int(n) for lang, n in frame[F.LANG].value_counts().items()},
        "facts": {lang: len(f) for lang, f in facts.items()},
        "facts_parallel_core": len(parallel),
        "queries_core_total": int(frame[F.LANG].isin(present_core).sum()),
        "queries_total": int(len(frame)),
        "languages": langs,
    }


def validate_frame(
    frame: pd.DataFrame,
    expectations: Optional[Expectations] = None,
    seed: int = 0,
    tokenizer: Optional[Callable[[str], list]] = None,
    stats: Optional[dict] = None,
    release_dir: Optional[Path] = None,
    cache_dir: Optional[Path] = None,
    workers: int = 2,
    names: Optional[Sequence[str]] = None,
    progress: bool = False,
    provenance: Optional[dict] = None,
) -> ValidationReport:
    """Run the checks on a DataFrame of release rows and return the report (nothing written)."""
    expectations = expectations or load_expectations()
    ctx = CheckContext(frame=frame.reset_index(drop=True), expectations=expectations, seed=seed,
                       tokenizer=tokenizer, stats=stats, release_dir=release_dir, cache_dir=cache_dir,
                       workers=workers)
    results = run_checks(ctx, names, progress=progress)
    languages = ctx.languages if F.LANG in frame.columns else []
    figures = frame_figures(ctx.frame, expectations.core) if not missing_columns(frame) else {"queries": {}}
    info = {"rml_lama_version": __version__, "seed": seed,
            "tokenizer": ctx.memo.get("tokenizer", "given by the caller" if tokenizer else "not used"),
            "expectations": _display_path(expectations.path), **(provenance or {})}
    return ValidationReport(results, languages, figures, info)


def _display_path(path: Optional[Path]) -> str:
    if path is None:
        return "?"
    try:
        return str(Path(path).resolve().relative_to(Path.cwd()))
    except ValueError:
        return Path(path).name


def validate_release(
    folder: Path, seed: int = 0, tokenizer: Optional[str] = None, expectations: Optional[Expectations] = None,
    cache_dir: Optional[Path] = None, workers: int = 2, progress: bool = False,
) -> ValidationReport:
    """Validate a release folder (its rows, stats.json and checksum)."""

    folder = Path(folder)
    frame = read_release(folder)
    stats = read_stats(folder)
    if not isinstance(stats, dict):
        raise RmlLamaError(f"{folder / 'stats.json'}: expected a JSON object, got {type(stats).__name__}")
    tokenize = None
    if tokenizer:
        from .tokens import auto_tokenizer  # transformers only when a tokenizer is asked for

        tokenize = auto_tokenizer(tokenizer)
    provenance = {"release_checksum": release_checksum(folder)}
    if tokenizer:
        provenance["tokenizer"] = tokenizer
    report = validate_frame(frame, expectations, seed=seed, tokenizer=tokenize, stats=stats, release_dir=folder,
                            cache_dir=cache_dir, workers=workers, progress=progress, provenance=provenance)
    if tokenizer:
        report.provenance["tokenizer"] = tokenizer
    from ..dataset.review import review_markdown, review_table

    reviewed = {lang: row for lang, row in review_table().items()
                if row.get("release") and provenance["release_checksum"].startswith(str(row["release"]))}
    if reviewed:  # the recorded native review of this very release (validation/review/<lang>.jsonl)
        report.extra["Native review (validation/review, OK / minor / major)"] = review_markdown(reviewed)
    return report


def cmd_validate(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    folder = Path(args.release)
    report = validate_release(folder, seed=args.seed, tokenizer=args.tokenizer, progress=True)
    json_path, md_path = write_report(report, Path(args.report_dir) if args.report_dir else folder)
    print(render_text(report))
    print(f"reports: {json_path}, {md_path} ({time.perf_counter() - started:.1f} s)")
    return 0 if report.passed else 1
