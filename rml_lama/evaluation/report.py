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
from ..localizers.budget import LEADING_BUDGET
from ..paths import RUN_CONFIG_FILE, RUN_REPORT_FILE, SUMMARY_FILE
from .metrics import describe, nan_mean, paired_bootstrap, ratio_of_means
from .store import read_all_records, read_config, read_plan

BOOTSTRAP_SAMPLES = 1000

# metric name -> path into a result line (the per-fact value the interval is taken over); the threshold set
# (each localizer's own rule) is under "threshold", scored on held-out rephrasings like the budgets
METRICS: dict[str, tuple[str, ...]] = {
    "neurons_agnostic": ("counts", "agnostic"),
    "neurons_per_lang": ("counts", "mean_per_lang"),
    "neurons_specific": ("counts", "mean_specific"),
    "neurons_all": ("counts", "all"),
    "suppress_own": ("threshold", "own_suppress"),
    "suppress_unrelated": ("threshold", "unrelated_suppress"),
    "enhance_own": ("threshold", "own_enhance"),
    "enhance_unrelated": ("threshold", "unrelated_enhance"),
    "suppress_gap": ("threshold", "gap_suppress"),
    "enhance_gap": ("threshold", "gap_enhance"),
    "holdout_suppress": ("threshold", "holdout_suppress"),
    "holdout_enhance": ("threshold", "holdout_enhance"),
    "holdout_suppress_unrelated": ("threshold", "holdout_unrelated_suppress"),
    "dai_suppress_own": ("threshold", "dai_own_suppress"),
    "dai_enhance_own": ("threshold", "dai_own_enhance"),
    "dai_suppress_unrelated": ("threshold", "dai_unrelated_suppress"),
    "dai_enhance_unrelated": ("threshold", "dai_unrelated_enhance"),
    "below_min_prob_own": ("threshold", "below_min_prob", "own"),
    "accuracy_before": ("threshold", "accuracy", "before"),
    "accuracy_suppress": ("threshold", "accuracy", "suppress"),
    "accuracy_enhance": ("threshold", "accuracy", "enhance"),
    "stability_agnostic": ("stability", "agnostic"),
    "stability_per_lang": ("stability", "per_lang"),
    "planted_recall": ("planted", "recall"),
    "planted_precision": ("planted", "precision"),
    "planted_recall_agnostic": ("planted", "recall_agnostic"),
    "planted_kind_right_agnostic": ("planted", "kind_right_agnostic"),
    "planted_recall_specific": ("planted", "recall_specific"),
    "planted_kind_right_specific": ("planted", "kind_right_specific"),
}
# per budget k: metric -> path inside record["budgets"][k]
BUDGET_METRICS: dict[str, tuple[str, ...]] = {
    "suppress_own": ("own_suppress",),
    "enhance_own": ("own_enhance",),
    "suppress_unrelated": ("unrelated_suppress",),
    "enhance_unrelated": ("unrelated_enhance",),
    "suppress_gap": ("gap_suppress",),
    "enhance_gap": ("gap_enhance",),
    "holdout_suppress": ("holdout_suppress",),
    "holdout_enhance": ("holdout_enhance",),
    "holdout_suppress_unrelated": ("holdout_unrelated_suppress",),
    "dai_suppress_own": ("dai_own_suppress",),
    "precision_per_lang": ("precision", "per_lang"),
    "precision_agnostic": ("precision", "agnostic"),
}
ORACLE = "oracle"
LEAD_METRIC = "suppress_own"  # the leading table ranks by suppression on held-out rephrasings (lower = better)


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
    values["facts_with_lakn"] = [None if n is None else float(n > 0) for n in values["neurons_agnostic"]]
    return values


def summarise(records: list[dict], seed: int = 0) -> dict:
    """Per metric: mean over facts with its bootstrap 95% interval; layer distribution; mean language overlap."""
    values = per_fact_values(records)
    metrics = {name: describe(vals, n_boot=BOOTSTRAP_SAMPLES, seed=seed) for name, vals in values.items()}
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


def budget_values(records: list[dict], k: str) -> dict[str, dict[str, Optional[float]]]:
    """metric -> {fact id: value at budget k} (facts without a value are absent)."""
    values: dict[str, dict[str, Optional[float]]] = {}
    for name, path in BUDGET_METRICS.items():
        values[name] = {r["fact_id"]: _get(r, ("budgets", k, *path)) for r in records}
        values[name] = {fid: v for fid, v in values[name].items() if v is not None}
    return values


def summarise_budgets(by_localizer: dict[str, list[dict]], seed: int) -> dict:
    """Per budget k and localizer (the oracle included): every budget metric described over facts, oracle
    recovery (ratio of mean effects, paired over facts) on held-out rephrasings and held-out languages, and
    per language."""
    budgets = sorted({k for records in by_localizer.values() for r in records for k in r.get("budgets", {})}, key=int)
    oracle = by_localizer.get(ORACLE, [])
    result: dict[str, dict] = {}
    for k in budgets:
        oracle_values = budget_values(oracle, k)
        result[k] = {}
        for name, records in by_localizer.items():
            values = budget_values(records, k)
            entry = {metric: describe(vals.values(), n_boot=BOOTSTRAP_SAMPLES, seed=seed)
                     for metric, vals in values.items()}
            entry = {metric: ci for metric, ci in entry.items() if ci["n"] > 0}
            if name != ORACLE and oracle:
                entry["recovery_own"] = ratio_of_means(values["suppress_own"], oracle_values["suppress_own"],
                                                       BOOTSTRAP_SAMPLES, seed)
                entry["recovery_holdout"] = ratio_of_means(values["holdout_suppress"],
                                                           oracle_values["holdout_suppress"], BOOTSTRAP_SAMPLES, seed)
                entry["recovery_by_lang"] = _recovery_by_lang(records, oracle, k, seed)
            result[k][name] = entry
    return result


def _lang_values(records: list[dict], k: str, part: str) -> dict[str, dict[str, float]]:
    """lang -> {fact id: suppression effect of that language's set at budget k}."""
    values: dict[str, dict[str, float]] = {}
    for record in records:
        for lang, effects in record.get("budgets", {}).get(k, {}).get("by_lang", {}).get(part, {}).items():
            if effects.get("suppress") is not None:
                values.setdefault(lang, {})[record["fact_id"]] = effects["suppress"]
    return values


def _recovery_by_lang(records: list[dict], oracle: list[dict], k: str, seed: int) -> dict[str, dict]:
    mine, best = _lang_values(records, k, "own"), _lang_values(oracle, k, "own")
    held, best_held = _lang_values(records, k, "holdout"), _lang_values(oracle, k, "holdout")
    result = {}
    for values, reference in ((mine, best), (held, best_held)):
        for lang in values:
            oracle = describe(reference.get(lang, {}).values(), n_boot=BOOTSTRAP_SAMPLES, seed=seed)
            if oracle["high"] is None or oracle["high"] >= 0:  # a ratio to ~0 is noise: left undefined
                result[lang] = {"mean": None, "low": None, "high": None, "n": oracle["n"], "oracle_near_zero": True}
            else:
                result[lang] = ratio_of_means(values[lang], reference[lang], BOOTSTRAP_SAMPLES, seed)
    return result


def leading_rows(by_localizer: dict[str, list[dict]], budgets: dict, k: str, seed: int) -> list[dict]:
    """The localizers (not the oracle) at budget k ordered by mean suppression on held-out rephrasings (most
    negative first), each with the paired difference (per fact) to the next one in that order."""
    entries = budgets.get(k, {})
    names = [name for name in entries if name != ORACLE and entries[name].get(LEAD_METRIC)]
    names.sort(key=lambda name: entries[name][LEAD_METRIC]["mean"])
    rows = []
    for position, name in enumerate(names):
        row = {"localizer": name}
        if position + 1 < len(names):
            following = names[position + 1]
            row["next"] = following
            row["paired_difference"] = paired_bootstrap(
                budget_values(by_localizer[name], k)[LEAD_METRIC], budget_values(by_localizer[following], k)[LEAD_METRIC],
                BOOTSTRAP_SAMPLES, seed)
        rows.append(row)
    return rows


def pairwise(by_localizer: dict[str, list[dict]], k: str, seed: int) -> dict[str, dict]:
    """Every pair of localizers (and the oracle): paired difference of held-out suppression at budget k."""
    names = list(by_localizer)
    values = {name: budget_values(by_localizer[name], k)[LEAD_METRIC] for name in names}
    return {f"{a} - {b}": paired_bootstrap(values[a], values[b], BOOTSTRAP_SAMPLES, seed)
            for i, a in enumerate(names) for b in names[i + 1:]}


def oracle_agnostic(records: list[dict]) -> dict:
    """How many facts have neurons whose ablation hurts every localization language (the oracle's LAKNs)."""
    counts = [len(r.get("oracle", {}).get("agnostic", [])) for r in records if "oracle" in r]
    return {"facts": len(counts), "facts_with_any": int(sum(c > 0 for c in counts)),
            "mean_count": float(sum(counts) / len(counts)) if counts else None,
            "hurt": next((r["oracle"].get("hurt") for r in records if "oracle" in r), None),
            "exhaustive": all(r.get("oracle", {}).get("exhaustive", True) for r in records)}


def build_summary(run: Path) -> dict:

    config = read_config(run)
    if config is None:
        raise RmlLamaError(f"{run} is not an evaluation run: no {RUN_CONFIG_FILE}")
    by_localizer, duplicates = merge_records(read_all_records(run))
    options = config.get("options", {})
    seed = int(options.get("seed", 0))
    order = [n for n in options.get("localizers", []) if n in by_localizer]
    order += [n for n in sorted(by_localizer) if n not in order]
    by_localizer = {name: by_localizer[name] for name in order}
    budgets = summarise_budgets(by_localizer, seed)
    lead = str(LEADING_BUDGET) if str(LEADING_BUDGET) in budgets else (next(iter(budgets)) if budgets else None)
    expected = [n for n in options.get("localizers", [])] + ([ORACLE] if options.get("oracle") else [])
    facts_done = {r["fact_id"] for records in by_localizer.values() for r in records}
    complete = {fid for fid in facts_done if all(any(r["fact_id"] == fid for r in by_localizer.get(n, [])) for n in expected)}
    planned = read_plan(run)
    return {
        "config": config,
        "duplicates_dropped": duplicates,
        "progress": {"facts_requested": len(planned) if planned is not None else options.get("facts"),
                     "facts_complete": len(complete), "facts_started": len(facts_done)},
        "localizers": {name: summarise(records, seed) for name, records in by_localizer.items() if name != ORACLE},
        "budgets": budgets,
        "leading_budget": lead,
        "leading": leading_rows(by_localizer, budgets, lead, seed) if lead else [],
        "pairwise": pairwise(by_localizer, lead, seed) if lead else {},
        "oracle_agnostic": oracle_agnostic(by_localizer.get(ORACLE, [])),
    }


# -------------------------------------------------------------------------------------------- tables
def _lp(ci: Optional[dict], median: bool = True) -> str:
    """A log-probability effect: mean [95% interval] (median), in nats per answer token."""
    if not ci or ci.get("mean") is None:
        return "n/a"
    text = f"{ci['mean']:+.3f} [{ci['low']:+.3f}, {ci['high']:+.3f}]"
    return text + (f" (med {ci['median']:+.3f})" if median and ci.get("median") is not None else "")


def _ratio(ci: Optional[dict]) -> str:
    if not ci or ci.get("mean") is None:
        return "n/a"
    return f"{ci['mean']:.2f} [{ci['low']:.2f}, {ci['high']:.2f}]"


def _pct(ci: Optional[dict]) -> str:
    if not ci or ci.get("mean") is None:
        return "n/a"
    return f"{100 * ci['mean']:+.1f}% [{100 * ci['low']:+.1f}, {100 * ci['high']:+.1f}]"


def _num(ci: Optional[dict], digits: int = 2) -> str:
    if not ci or ci.get("mean") is None:
        return "n/a"
    return f"{ci['mean']:.{digits}f} [{ci['low']:.{digits}f}, {ci['high']:.{digits}f}]"


def leading_table(summary: dict) -> str:
    """At the leading budget: per localizer, held-out suppression, unrelated, gap, held-out languages, oracle
    recovery, precision@k and the paired difference to the next best."""
    k = summary.get("leading_budget")
    if k is None:
        return "(no budgeted results yet)\n"
    entries = summary["budgets"][k]
    rows = summary["leading"]
    header = ("| localizer | facts | suppress, held-out rephrasings | unrelated | gap own - unrel. | "
              f"suppress, held-out langs (agnostic {k}) | oracle recovery | recovery, held-out langs | "
              f"precision@{k} / lang | precision@{k} agnostic | paired diff. to next (n) |")
    lines = [header, "|---" * 11 + "|"]
    names = ([ORACLE] if ORACLE in entries else []) + [row["localizer"] for row in rows]
    following = {row["localizer"]: row for row in rows}
    oracle_held = entries.get(ORACLE, {}).get("holdout_suppress")
    # a ratio to an effect indistinguishable from 0 means nothing: shown only where the oracle's is below 0
    held_defined = bool(oracle_held and oracle_held.get("high") is not None and oracle_held["high"] < 0)
    for name in names:
        e = entries[name]
        row = following.get(name, {})
        diff = row.get("paired_difference")
        diff_text = (f"{_lp(diff, median=False)} vs {row['next']} ({diff['n']})" if diff and diff.get("mean") is not None
                     else ("reference" if name == ORACLE else "-"))
        n = e.get(LEAD_METRIC, {}).get("n", 0)
        lines.append("| " + " | ".join([
            name, str(n), _lp(e.get("suppress_own")), _lp(e.get("suppress_unrelated"), False),
            _lp(e.get("suppress_gap"), False), _lp(e.get("holdout_suppress"), False),
            "1 (by definition)" if name == ORACLE else _ratio(e.get("recovery_own")),
            "1 (by definition)" if name == ORACLE else (_ratio(e.get("recovery_holdout")) if held_defined
                                                         else "n/a (oracle's effect ~ 0)"),
            "1" if name == ORACLE else _ratio(e.get("precision_per_lang")),
            "1" if name == ORACLE else _ratio(e.get("precision_agnostic")), diff_text]) + " |")
    return "\n".join(lines) + "\n"


def leading_sentence(summary: dict) -> str:
    """One sentence saying what the leading table shows."""
    k = summary.get("leading_budget")
    rows = summary.get("leading", [])
    agn = summary.get("oracle_agnostic", {})
    if k is None or not rows:
        return "No localizer has budgeted results yet."
    best = rows[0]
    entry = summary["budgets"][k][best["localizer"]]
    text = (f"At k = {k} neurons per language, **{best['localizer']}** suppresses the gold answer most on held-out "
            f"rephrasings ({entry[LEAD_METRIC]['mean']:+.3f} nats/token over {entry[LEAD_METRIC]['n']} facts)")
    diff = best.get("paired_difference")
    if diff and diff.get("mean") is not None:
        clear = diff["high"] < 0
        text += (f"; its paired difference to {best['next']} is {diff['mean']:+.3f} [{diff['low']:+.3f}, "
                 f"{diff['high']:+.3f}] over {diff['n']} facts, " + ("an interval below zero." if clear else
                                                                    "an interval that includes zero: no clear lead."))
    else:
        text += "."
    if agn.get("facts"):
        text += (f" The oracle found language-agnostic neurons (ablation costs at least {agn['hurt']} nats/token in "
                 f"every localization language) in {agn['facts_with_any']} of {agn['facts']} facts "
                 f"(mean {agn['mean_count']:.1f} per fact).")
    return text


def markdown_table(summary: dict) -> str:
    """The threshold-set table: one row per localizer at its own rule (means over facts, [95% interval])."""
    def n_of(s, key):
        ci = s["metrics"].get(key)
        return f" (n={ci['n']})" if ci and ci["n"] < s["facts"] else ""

    columns = [
        ("facts", lambda s: str(s["facts"])),
        ("neurons / lang", lambda s: _num(s["metrics"].get("neurons_per_lang"), 1)),
        ("LAKNs / fact", lambda s: _num(s["metrics"].get("neurons_agnostic"), 1)),
        ("facts with LAKNs", lambda s: _num(s["metrics"].get("facts_with_lakn"))),
        ("suppress own (held-out)", lambda s: _lp(s["metrics"].get("suppress_own"))),
        ("enhance own (held-out)", lambda s: _lp(s["metrics"].get("enhance_own"), False)),
        ("suppress unrel.", lambda s: _lp(s["metrics"].get("suppress_unrelated"), False)),
        ("gap own - unrel.", lambda s: _lp(s["metrics"].get("suppress_gap"), False)),
        ("LAKN suppress, held-out langs", lambda s: _lp(s["metrics"].get("holdout_suppress"), False)
         + n_of(s, "holdout_suppress")),
        ("Dai suppress own", lambda s: _pct(s["metrics"].get("dai_suppress_own"))),
        ("queries < min-prob", lambda s: str(int(round(s["metrics"]["below_min_prob_own"]["mean"]
                                                        * s["metrics"]["below_min_prob_own"]["n"])))
         if s["metrics"].get("below_min_prob_own") else "0"),
        ("acc before/supp./enh.", lambda s: "/".join(
            "n/a" if s["metrics"].get(k) is None else f"{s['metrics'][k]['mean']:.2f}"
            for k in ("accuracy_before", "accuracy_suppress", "accuracy_enhance"))),
        ("stability (LAKN)", lambda s: _num(s["metrics"].get("stability_agnostic")) + n_of(s, "stability_agnostic")),
        ("stability (per lang)", lambda s: _num(s["metrics"].get("stability_per_lang"))
         + n_of(s, "stability_per_lang")),
    ]
    localizers = summary["localizers"]
    if any("planted_recall" in s["metrics"] for s in localizers.values()):
        columns += [
            ("planted recall", lambda s: _num(s["metrics"].get("planted_recall")) + n_of(s, "planted_recall")),
            ("planted precision", lambda s: _num(s["metrics"].get("planted_precision"))),
            ("LAKN plants as LAKN", lambda s: _num(s["metrics"].get("planted_kind_right_agnostic"))
             + n_of(s, "planted_kind_right_agnostic")),
            ("specific plants as specific", lambda s: _num(s["metrics"].get("planted_kind_right_specific"))
             + n_of(s, "planted_kind_right_specific")),
        ]
    lines = [
        "| localizer | " + " | ".join(name for name, _ in columns) + " |",
        "|---|" + "---|" * len(columns),
    ]
    for name, stats in localizers.items():
        lines.append(f"| {name} | " + " | ".join(cell(stats) for _, cell in columns) + " |")
    return "\n".join(lines)


def budget_table(summary: dict) -> str:
    """Held-out suppression at every budget (mean [95% interval]), the oracle first."""
    budgets = summary.get("budgets", {})
    if not budgets:
        return ""
    names = list(next(iter(budgets.values())))
    names = ([ORACLE] if ORACLE in names else []) + [n for n in names if n != ORACLE]
    lines = ["| localizer | " + " | ".join(f"k = {k}" for k in budgets) + " |", "|---" * (len(budgets) + 1) + "|"]
    for name in names:
        lines.append(f"| {name} | " + " | ".join(_lp(budgets[k].get(name, {}).get(LEAD_METRIC), False)
                                                  for k in budgets) + " |")
    return "\n".join(lines) + "\n"


def report_markdown(summary: dict) -> str:
    config = summary["config"]
    options = config.get("options", {})
    progress = summary.get("progress", {})
    partial = progress.get("facts_requested") and progress.get("facts_complete", 0) < progress["facts_requested"]
    agn = summary.get("oracle_agnostic", {})
    head = [
        "# RML-LAMA localizer evaluation",
        "",
        f"- model: `{config.get('model')}`",
        f"- languages: {', '.join(options.get('langs', []))}"
        + (f"; held out: {', '.join(options['holdout_langs'])}" if options.get("holdout_langs") else ""),
        f"- split: {options.get('split')}, steps: {options.get('steps')}, seed: {options.get('seed')}, "
        f"release checksum: `{str(config.get('release_checksum'))[:12]}`, rml-lama {config.get('package_version')}",
        f"- facts: {progress.get('facts_complete')} complete of {progress.get('facts_requested')} planned"
        + (" — **PARTIAL RUN: the figures below cover the facts finished so far**" if partial else ""),
        "- protocol: " + ("neurons localized on one seeded half of each language's rephrasings and scored on the "
                          "other half (held-out rephrasings)" if options.get("heldout", True) else
                          "**in-sample**: localized and scored on the same rephrasings"),
        "",
        f"## Equal budgets (k = {summary.get('leading_budget')})",
        "",
        "Effects are changes of the gold answer's mean per-token log-probability (nats per answer token; -0.69 "
        "halves the probability) when the neurons are zeroed at the answer positions: mean [95% paired-bootstrap "
        "interval over facts] (median). Every localizer contributes exactly k neurons per (fact, language) and k "
        "language-agnostic neurons per fact; random is averaged over "
        f"{options.get('random_draws')} draws per fact. Oracle: the k neurons whose single ablation hurts most on "
        "the scoring queries" + ("" if agn.get("exhaustive", True) else " (among a candidate pool)") +
        "; recovery = the localizer's mean effect / the oracle's; precision@k = share of the oracle's top k found. "
        "The last column is the paired difference (per fact) of held-out suppression to the next localizer.",
        "",
        leading_table(summary),
        leading_sentence(summary),
        "",
        "### Held-out suppression at every budget",
        "",
        budget_table(summary),
        "## Each localizer's own threshold (the papers' protocol)",
        "",
        "Same scoring (held-out rephrasings; LAKNs on the held-out languages), but each localizer keeps as many "
        "neurons as its rule selects, so a larger effect may only mean more neurons. Dai suppress: mean relative "
        "change of the per-token probability over queries whose probability before is at least --min-prob "
        f"({options.get('min_prob')}); the queries below it are counted, not hidden. (n=...) marks figures "
        "defined on fewer facts than the row's.",
        "",
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
