"""The validation report: JSON for machines, Markdown for people, and a table for the terminal."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..io import atomic_write_json, atomic_write_text
from ..paths import VALIDATION_REPORT_JSON, VALIDATION_REPORT_MD
from .registry import CheckResult


@dataclass
class ValidationReport:
    results: list[CheckResult]
    languages: list[str]
    figures: dict[str, Any]  # queries per language, facts, facts parallel across the core languages ...
    provenance: dict[str, Any]  # version, release checksum, seed, tokenizer, expectations file
    extra: dict[str, Any] = field(default_factory=dict)  # validate-language: the proposal's own checks

    @property
    def errors(self) -> list[str]:
        return [r.name for r in self.results if not r.passed and r.severity == "error"]

    @property
    def warnings(self) -> list[str]:
        return [r.name for r in self.results if not r.passed and r.severity == "warning"]

    @property
    def passed(self) -> bool:
        return not self.errors

    def to_json(self) -> dict[str, Any]:
        return {
            "passed": self.passed, "errors": self.errors, "warnings": self.warnings,
            "languages": self.languages, "figures": self.figures, "provenance": self.provenance,
            "checks": [r.to_json() for r in self.results], **self.extra,
        }


def _cell(result: CheckResult, lang: str) -> str:
    count = result.counts.get(lang, 0)
    if lang in result.failed_langs:
        return f"FAIL {count:,}" if count else "FAIL"
    return f"{count:,}" if count else "ok"


def _status(result: CheckResult) -> str:
    if result.passed:
        return "pass"
    return "FAIL" if result.severity == "error" else "warn"


def check_rows(report: ValidationReport) -> tuple[list[str], list[list[str]]]:
    header = ["check", "severity", "status"] + report.languages
    rows = [[r.name, r.severity, _status(r)] + [_cell(r, lang) for lang in report.languages]
            for r in report.results]
    return header, rows


def metric_rows(report: ValidationReport) -> tuple[list[str], list[list[str]]]:
    header = ["figure"] + report.languages
    rows = [["queries"] + [f"{report.figures['queries'].get(lang, 0):,}" for lang in report.languages]]
    for r in report.results:
        if r.metric_name and r.metric:
            rows.append([r.metric_name] + [_format(r.metric.get(lang), r.metric_kind) for lang in report.languages])
    return header, rows


def _format(value, kind: str = "share") -> str:
    if value is None:
        return "-"
    if kind == "share":
        return f"{value:.1%}"
    if kind == "count":
        return f"{int(value):,}"
    return f"{value:,.2f}"


CELLS = ("Each cell: ok, or the number of offending items in that language (rows, templates or texts, as the "
         "check's description says); FAIL marks a language that fails the check, a number alone is within its "
         "tolerance.")
FIGURES = "Figures per language (shares in %, means with two decimals, counts as whole numbers)."


def text_table(header: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(str(row[i])) for row in [header] + rows) for i in range(len(header))]
    lines = ["  ".join(str(cell).ljust(w) for cell, w in zip(row, widths)).rstrip() for row in [header] + rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def markdown_table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c).replace("|", "\\|") for c in row) + " |" for row in rows]
    return "\n".join(lines)


def summary_line(report: ValidationReport) -> str:
    if report.passed:
        tail = f" ({len(report.warnings)} warning(s): {', '.join(report.warnings)})" if report.warnings else ""
        return f"PASSED: no error-level check failed{tail}"
    return f"FAILED: {', '.join(report.errors)}" + (f"; warnings: {', '.join(report.warnings)}" if report.warnings else "")


def render_text(report: ValidationReport) -> str:
    parts = [CELLS, text_table(*check_rows(report)), "", FIGURES, text_table(*metric_rows(report))]
    for r in report.results:
        if not r.passed:
            parts.append(f"\n{r.name} ({r.severity}): {r.message}")
            parts += [f"  - {p}" for p in r.problems[:5]]
            parts += [f"  - [{e['lang']}] {e['fact_id']} {e['template_id']}: {e['text']}"
                      + (f"  ({e['detail']})" if e.get("detail") else "") for e in r.examples]
    parts += ["", summary_line(report)]
    return "\n".join(parts)


def render_markdown(report: ValidationReport) -> str:
    p = report.provenance
    lines = [
        "# RML-LAMA validation report", "",
        f"**{summary_line(report)}**", "",
        "- " + "\n- ".join(f"{key}: `{value}`" for key, value in p.items()), "",
        "## Checks (offending items per language)", "", CELLS, "", markdown_table(*check_rows(report)), "",
        "## Figures per language", "", FIGURES, "", markdown_table(*metric_rows(report)), "",
        "## Check descriptions", "",
    ]
    lines += [f"- `{r.name}` ({r.severity}): {r.description}" for r in report.results]
    failing = [r for r in report.results if not r.passed]
    if failing:
        lines += ["", "## What to fix", ""]
        for r in failing:
            lines += [f"### {r.name} ({r.severity})", "", r.message, ""]
            lines += [f"- {p}" for p in r.problems[:5]]
            lines += [f"- `{e['lang']}` `{e['fact_id']}` `{e['template_id']}`: {e['text']}"
                      + (f" ({e['detail']})" if e.get("detail") else "") for e in r.examples]
            lines.append("")
    for title, section in report.extra.items():
        lines += ["", f"## {title}", "", "```", str(section), "```"]
    return "\n".join(lines).rstrip() + "\n"


def write_report(report: ValidationReport, folder: Path) -> tuple[Path, Path]:
    folder = Path(folder)
    atomic_write_json(folder / VALIDATION_REPORT_JSON, report.to_json())
    atomic_write_text(folder / VALIDATION_REPORT_MD, render_markdown(report))
    return folder / VALIDATION_REPORT_JSON, folder / VALIDATION_REPORT_MD
