"""The validation figures table formats each metric by its kind (a mean of 1.0 is not "100.0%"), and the
check table says what its numbers count (issue 14)."""
from __future__ import annotations

from rml_lama.checks.registry import CheckResult
from rml_lama.checks.report import CELLS, ValidationReport, metric_rows, render_markdown, render_text


def result(name, metric_name, metric, kind, counts=None):
    return CheckResult(name, "error", True, "ok", counts or {}, [], metric_name=metric_name, metric=metric,
                       metric_kind=kind)


def test_metrics_are_formatted_by_their_kind_and_the_cells_are_explained():
    report = ValidationReport(
        [result("rephrasings", "mean rephrasings", {"en": 6.38, "hi": 1.0}, "mean"),
         result("coverage", "facts with an object-final query", {"en": 1.0, "hi": 0.003}, "share"),
         result("core-parallel", "core facts", {"en": 7946.0, "hi": 1.0}, "count", counts={"hi": 2})],
        ["en", "hi"], {"queries": {"en": 50728, "hi": 4967}}, {})
    header, rows = metric_rows(report)
    assert header == ["figure", "en", "hi"]
    assert rows == [["queries", "50,728", "4,967"], ["mean rephrasings", "6.38", "1.00"],
                    ["facts with an object-final query", "100.0%", "0.3%"], ["core facts", "7,946", "1"]]
    text = render_text(report)
    assert CELLS in text and CELLS in render_markdown(report)
    assert "core-parallel  error     pass    ok  2" in text  # a passing language's count, explained above
