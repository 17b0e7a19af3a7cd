"""`rml-lama report RUN`: merge a run's shards into summary.json, a markdown table (printed and saved) and plots.

Works on a finished or a partial run. Every figure is a mean over facts with a seeded percentile-bootstrap
95% interval (facts resampled); the headline is the gap between the effect of an intervention on the
fact's own queries and on unrelated facts' queries.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any, Optional

from ..applications.report import study_of, write_study_report
from ..errors import RmlLamaError
from ..io import atomic_write_json, atomic_write_text
from ..paths import RUN_CONFIG_FILE, RUN_REPORT_FILE, SUMMARY_FILE
from .metrics import bootstrap_ci, nan_mean
from .store import read_all_records, read_config

BOOTSTRAP_SAMPLES = 1000

# metric name -> path into a result line (the per-fact value the interval is taken over)
METRICS: dict[str, tuple[str, ...]] = {
    "neurons_agnostic": ("counts", "agnostic"),
    "neurons_per_lang": ("counts", "mean_per_lang"),
    "neurons_specific": ("counts", "mean_specific"),
    "neurons_all": ("counts", "all"),
    "suppress_own": ("own", "suppress"),
    "suppress_unrelated": ("unrelated", "suppress"),
    "enhance_own": ("own", "enhance"),
    "enhance_unrelated": ("unrelated", "enhance"),
    "cross_suppress": ("cross", "suppress"),
    "cross_enhance": ("cross", "enhance"),
    "cross_suppress_unrelated": ("cross_unrelated", "suppress"),
    "cross_enhance_unrelated": ("cross_unrelated", "enhance"),
    "holdout_suppress": ("cross", "holdout_suppress"),
    "holdout_enhance": ("cross", "holdout_enhance"),
    "accuracy_before": ("accuracy", "before"),
    "accuracy_suppress": ("accuracy", "suppress"),
    "accuracy_enhance": ("accuracy", "enhance"),
    "stability_agnostic": ("stability", "agnostic"),
    "stability_per_lang": ("stability", "per_lang"),
    "planted_recall": ("planted", "recall"),
    "planted_precision": ("planted", "precision"),
    "planted_recall_agnostic": ("planted", "recall_agnostic"),
    "planted_kind_right_agnostic": ("planted", "kind_right_agnostic"),
    "planted_recall_specific": ("planted", "recall_specific"),
    "planted_kind_right_specific": ("planted", "kind_right_specific"),
}
GAPS = {  # own minus unrelated, per fact
    "suppress_gap": ("suppress_own", "suppress_unrelated"),
    "enhance_gap": ("enhance_own", "enhance_unrelated"),
    "cross_suppress_gap": ("cross_suppress", "cross_suppress_unrelated"),
    "cross_enhance_gap": ("cross_enhance", "cross_enhance_unrelated"),
}


def _get(record: dict, path: tuple[str, ...]) -> Optional[float]:
    value: Any = record
    for key in path:
        if not isinstance(value, dict) or key not in value:
            return None
        value = value[key]
    return value if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def merge_records(records: list[dict]) -> tuple[dict[str, list[dict]], int]:
    """localizer -> its records (first one kept per fact, in fact order), and the number of duplicates dropped."""
    by_localizer: dict[str, dict[str, dict]] = {}
    duplicates = 0
    for record in records:
        facts = by_localizer.setdefault(record["localizer"], {})
        if record["fact_id"] in facts:
            duplicates += 1
            continue
        facts[record["fact_id"]] = record
    return {name: [facts[fid] for fid in sorted(facts)] for name, facts in by_localizer.items()}, duplicates


def per_fact_values(records: list[dict]) -> dict[str, list[Optional[float]]]:
    values = {name: [_get(r, path) for r in records] for name, path in METRICS.items()}
    for gap, (own, unrelated) in GAPS.items():
        values[gap] = [None if a is None or b is None else a - b for a, b in zip(values[own], values[unrelated])]
    values["facts_with_lakn"] = [None if n is None else float(n > 0) for n in values["neurons_agnostic"]]
    return values


def summarise(records: list[dict], seed: int = 0) -> dict:
    """Per metric: mean over facts with its bootstrap 95% interval; layer distribution; mean language overlap."""
    values = per_fact_values(records)
    metrics = {name: bootstrap_ci(vals, n_boot=BOOTSTRAP_SAMPLES, seed=seed) for name, vals in values.items()}
    layers: dict[str, int] = {}
    overlap_values: dict[str, list[Optional[float]]] = {}
    for record in records:
        for layer, count in record.get("layers", {}).items():
            layers[layer] = layers.get(layer, 0) + int(count)
        for pair, value in record.get("overlap", {}).items():
            overlap_values.setdefault(pair, []).append(value)
    return {
        "facts": len(records),
        "metrics": {name: ci for name, ci in metrics.items() if ci["n"] > 0},
        "layers": {k: layers[k] for k in sorted(layers, key=int)},
        "overlap": {pair: nan_mean(vals) for pair, vals in overlap_values.items()},
    }


def build_summary(run: Path) -> dict:

    config = read_config(run)
    if config is None:
        raise RmlLamaError(f"{run} is not an evaluation run: no {RUN_CONFIG_FILE}")
    by_localizer, duplicates = merge_records(read_all_records(run))
    seed = int(config.get("options", {}).get("seed", 0))
    order = [n for n in config.get("options", {}).get("localizers", []) if n in by_localizer]
    order += [n for n in sorted(by_localizer) if n not in order]
    return {
        "config": config,
        "duplicates_dropped": duplicates,
        "localizers": {name: summarise(by_localizer[name], seed) for name in order},
    }


# -------------------------------------------------------------------------------------------- table
def _pct(ci: Optional[dict]) -> str:
    if not ci or ci.get("mean") is None:
        return "n/a"
    return f"{100 * ci['mean']:+.1f}% [{100 * ci['low']:+.1f}, {100 * ci['high']:+.1f}]"


def _num(ci: Optional[dict], digits: int = 2) -> str:
    if not ci or ci.get("mean") is None:
        return "n/a"
    return f"{ci['mean']:.{digits}f} [{ci['low']:.{digits}f}, {ci['high']:.{digits}f}]"


def markdown_table(summary: dict) -> str:
    """The comparison table: one row per localizer (means over facts, [95% bootstrap interval])."""
    columns = [
        ("facts", lambda s: str(s["facts"])),
        ("LAKNs / fact", lambda s: _num(s["metrics"].get("neurons_agnostic"), 1)),
        ("facts with LAKNs", lambda s: _num(s["metrics"].get("facts_with_lakn"))),
        ("neurons / lang", lambda s: _num(s["metrics"].get("neurons_per_lang"), 1)),
        ("suppress own", lambda s: _pct(s["metrics"].get("suppress_own"))),
        ("suppress unrel.", lambda s: _pct(s["metrics"].get("suppress_unrelated"))),
        ("enhance own", lambda s: _pct(s["metrics"].get("enhance_own"))),
        ("enhance unrel.", lambda s: _pct(s["metrics"].get("enhance_unrelated"))),
        ("LAKN suppress x-lang", lambda s: _pct(s["metrics"].get("cross_suppress"))),
        ("LAKN enhance x-lang", lambda s: _pct(s["metrics"].get("cross_enhance"))),
        ("acc before/supp./enh.", lambda s: "/".join(
            "n/a" if s["metrics"].get(k) is None else f"{s['metrics'][k]['mean']:.2f}"
            for k in ("accuracy_before", "accuracy_suppress", "accuracy_enhance"))),
        ("stability (LAKN)", lambda s: _num(s["metrics"].get("stability_agnostic"))),
    ]
    localizers = summary["localizers"]
    if any("holdout_suppress" in s["metrics"] for s in localizers.values()):
        columns.insert(9, ("held-out suppress", lambda s: _pct(s["metrics"].get("holdout_suppress"))))
    if any("planted_recall" in s["metrics"] for s in localizers.values()):
        columns += [
            ("planted recall", lambda s: _num(s["metrics"].get("planted_recall"))),
            ("planted precision", lambda s: _num(s["metrics"].get("planted_precision"))),
            ("LAKN plants as LAKN", lambda s: _num(s["metrics"].get("planted_kind_right_agnostic"))),
            ("specific plants as specific", lambda s: _num(s["metrics"].get("planted_kind_right_specific"))),
        ]
    lines = [
        "| localizer | " + " | ".join(name for name, _ in columns) + " |",
        "|---|" + "---|" * len(columns),
    ]
    for name, stats in localizers.items():
        lines.append(f"| {name} | " + " | ".join(cell(stats) for _, cell in columns) + " |")
    return "\n".join(lines)


def report_markdown(summary: dict) -> str:
    config = summary["config"]
    options = config.get("options", {})
    head = [
        "# RML-LAMA localizer evaluation",
        "",
        f"- model: `{config.get('model')}`",
        f"- languages: {', '.join(options.get('langs', []))}"
        + (f"; held out: {', '.join(options['holdout_langs'])}" if options.get("holdout_langs") else ""),
        f"- split: {options.get('split')}, steps: {options.get('steps')}, seed: {options.get('seed')}, "
        f"release checksum: `{str(config.get('release_checksum'))[:12]}`, rml-lama {config.get('package_version')}",
        "",
        "Means over facts with 95% bootstrap intervals. suppress / enhance: mean relative change of the gold "
        "probability with the found neurons' activations x0 / x2 (per-language neurons on that language's "
        "queries); x-lang: the language-agnostic neurons (LAKNs) on the queries of every language; accuracy: "
        "gold ranked first among the relation's objects.",
        "",
    ]
    return "\n".join(head) + markdown_table(summary) + "\n"


def write_report(run, print_table: bool = True) -> dict:
    """Write summary.json, report.md and the plots of a run folder; returns the summary."""
    from .plots import write_plots  # matplotlib is imported only when plots are drawn

    run = Path(run)
    summary = build_summary(run)
    atomic_write_json(run / SUMMARY_FILE, summary)
    text = report_markdown(summary)
    atomic_write_text(run / RUN_REPORT_FILE, text)
    write_plots(summary, run)
    if print_table:
        print(text)
        if summary["duplicates_dropped"]:
            print(f"note: {summary['duplicates_dropped']} duplicate result lines were ignored", file=sys.stderr)
    return summary


def cmd_report(args: argparse.Namespace) -> int:
    """`rml-lama report DIR`: an evaluation run's report, or the study's own when config.json names a study
    (`rml-lama edit | enhance | inject`)."""
    if study_of(Path(args.run)):
        write_study_report(Path(args.run), print_table=True)
    else:
        write_report(Path(args.run), print_table=True)
    return 0
