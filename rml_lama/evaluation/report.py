"""`rml-lama report RUN`: merge a run's shards into summary.json, a markdown table (printed and saved) and plots.

Works on a finished or a partial run. Every figure is a mean over facts with a seeded percentile-bootstrap
95% interval (facts resampled); the headline is the gap between the effect of an intervention on the
fact's own queries and on unrelated facts' queries. On a planted model what was planted (kinds, leak, silence,
accuracy per kind and language, from its truth.json) and the planted ground truth at equal budgets (precision@k,
recall@k, kind accuracy, decoys avoided; paired differences over planted facts) follow.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any, Optional

from ..applications.report import study_of, write_study_report
from ..errors import InputError, RmlLamaError
from ..io import atomic_write_json, atomic_write_text
from ..localizers.budget import LEADING_BUDGET
from ..paths import RUN_CONFIG_FILE, RUN_REPORT_FILE, SUMMARY_FILE
from .metrics import describe, nan_mean, paired_bootstrap, ratio_of_means
from .planted_model import planted_model_figures, planted_model_section
from .store import read_all_records, read_config, read_plan, read_truth

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
    "planted_decoys_avoided": ("planted", "decoys_avoided"),
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


# ------------------------------------------------------------------- planted ground truth at equal budgets
# keys of budgets[k]["planted"] -> their titles in report.md
PLANTED_TITLES = {"precision": "precision@k", "recall": "recall@k", "kind_right": "kind accuracy",
                  "decoys_avoided": "decoys avoided"}
PLANTED_METRICS = tuple(PLANTED_TITLES)
PLANTED_TABLE_BUDGETS = ("1", "3", "5")  # the budgets report.md shows (summary.json holds every budget)
PLANTED_LEAD = "recall"  # the best non-oracle localizer of a budget: highest mean recall@k


def planted_values(records: list[dict], k: str) -> dict[str, dict[str, float]]:
    """metric -> {fact id: value at budget k} for the planted metrics and every `kind_right_<kind>` found."""
    values: dict[str, dict[str, float]] = {metric: {} for metric in PLANTED_METRICS}
    for record in records:
        planted = record.get("budgets", {}).get(k, {}).get("planted") or {}
        for metric, value in planted.items():
            if value is not None and (metric in PLANTED_METRICS or metric.startswith("kind_right_")):
                values.setdefault(metric, {})[record["fact_id"]] = value
    return values


def _best_by(entries: dict[str, dict], metric: str) -> Optional[str]:
    """The non-oracle localizer with the highest mean `metric` (the first in run order on a tie)."""
    scored = [name for name, entry in entries.items() if name != ORACLE and entry.get(metric, {}).get("n")]
    return max(scored, key=lambda name: entries[name][metric]["mean"]) if scored else None


def summarise_planted(by_localizer: dict[str, list[dict]], seed: int) -> dict:
    """`facts`: the planted facts evaluated; `budgets`, per budget k with planted scores: per localizer (the
    oracle included) every planted metric described over the planted facts, the best non-oracle localizer by
    recall@k, and the paired difference (per fact) of every pair of localizers for every planted metric
    ("a - b" in run order). Without planted facts: 0 and no budgets."""
    facts = {r["fact_id"] for records in by_localizer.values() for r in records if "planted" in r}
    budgets = sorted({k for records in by_localizer.values() for r in records
                      for k, entry in r.get("budgets", {}).items() if entry.get("planted")}, key=int)
    result: dict[str, dict] = {}
    for k in budgets:
        values = {name: planted_values(records, k) for name, records in by_localizer.items()}
        entries = {name: {metric: describe(vals.values(), n_boot=BOOTSTRAP_SAMPLES, seed=seed)
                          for metric, vals in per_metric.items()} for name, per_metric in values.items()}
        names = [name for name in entries if entries[name][PLANTED_LEAD]["n"]]
        pairwise = {metric: {f"{a} - {b}": paired_bootstrap(values[a].get(metric, {}), values[b].get(metric, {}),
                                                           BOOTSTRAP_SAMPLES, seed)
                             for i, a in enumerate(names) for b in names[i + 1:]}
                    for metric in PLANTED_METRICS}
        result[k] = {"localizers": entries, "best": _best_by(entries, PLANTED_LEAD), "pairwise": pairwise}
    return {"facts": len(facts), "budgets": result}


def oracle_agnostic(records: list[dict]) -> dict:
    """How many facts have neurons whose ablation hurts every localization language (the oracle's LAKNs)."""
    counts = [len(r.get("oracle", {}).get("agnostic", [])) for r in records if "oracle" in r]
    return {"facts": len(counts), "facts_with_any": int(sum(c > 0 for c in counts)),
            "mean_count": float(sum(counts) / len(counts)) if counts else None,
            "hurt": next((r["oracle"].get("hurt") for r in records if "oracle" in r), None),
            "exhaustive": all(r.get("oracle", {}).get("exhaustive", True) for r in records)}


def _planted_model(config: dict) -> Optional[dict]:
    """The planted model's figures from the truth.json the run was evaluated against, None when it cannot be
    read any more (the run folder outlived the model)."""
    path = config.get("planted")
    if not path:
        return None
    try:  # a missing or unreadable file is an InputError of read_truth
        return planted_model_figures(read_truth(Path(path)))
    except InputError:
        return None


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
        "planted": summarise_planted(by_localizer, seed),
        "planted_model": _planted_model(config),
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
            ("decoys avoided", lambda s: _num(s["metrics"].get("planted_decoys_avoided"))
             + n_of(s, "planted_decoys_avoided")),
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


def _difference(ci: Optional[dict], flip: bool = False) -> str:
    """A paired difference: mean [95% interval] (n), negated (a - b read as b - a) when `flip`."""
    if not ci or ci.get("mean") is None:
        return "n/a"
    mean, low, high = (ci["mean"], ci["low"], ci["high"])
    if flip:  # + 0.0: no "-0.00"
        mean, low, high = -mean + 0.0, -high + 0.0, -low + 0.0
    return f"{mean:+.2f} [{low:+.2f}, {high:+.2f}] (n={ci['n']})"


def _pair(entry: dict, metric: str, first: str, second: str) -> str:
    pairs = entry["pairwise"].get(metric, {})
    if f"{first} - {second}" in pairs:
        return _difference(pairs[f"{first} - {second}"])
    return _difference(pairs.get(f"{second} - {first}"), flip=True)


def _planted_names(entry: dict) -> list[str]:
    """The oracle first, then the localizers in run order; only those with planted scores at this budget."""
    names = [name for name, e in entry["localizers"].items() if e[PLANTED_LEAD]["n"]]
    return ([ORACLE] if ORACLE in names else []) + [name for name in names if name != ORACLE]


def shown_pairs(entry: dict) -> list[tuple[str, str]]:
    """The paired differences report.md shows at one budget: the oracle minus the best non-oracle localizer,
    the best minus every other, and every other minus random (summary.json holds every pair)."""
    best, names = entry.get("best"), _planted_names(entry)
    if best is None:
        return []
    randoms = [name for name in names if name.startswith("random")]
    pairs = [(ORACLE, best)] if ORACLE in names else []
    pairs += [(best, name) for name in names if name not in (ORACLE, best)]
    pairs += [(name, chance) for chance in randoms for name in names if name not in (ORACLE, best, *randoms)]
    return pairs


def _planted_budgets(summary: dict) -> list[str]:
    budgets = summary.get("planted", {}).get("budgets", {})
    return [k for k in PLANTED_TABLE_BUDGETS if k in budgets] or list(budgets)


def planted_table(summary: dict) -> str:
    """Per shown budget and localizer (the oracle first): precision@k, recall@k, kind accuracy (all plants and
    per kind) and decoys avoided, mean [95% interval] over the planted facts, (n=...) where fewer facts."""
    budgets = summary["planted"]["budgets"]
    shown = _planted_budgets(summary)
    kinds = sorted({metric for k in shown for e in budgets[k]["localizers"].values() for metric, ci in e.items()
                    if metric.startswith("kind_right_") and ci["n"]})
    columns = [(metric, PLANTED_TITLES[metric]) for metric in ("precision", "recall", "kind_right")]
    columns += [(metric, f"kind acc., {metric[len('kind_right_'):]}") for metric in kinds]
    columns += [("decoys_avoided", PLANTED_TITLES["decoys_avoided"])]
    lines = ["| k | localizer | planted facts | " + " | ".join(title for _, title in columns) + " |",
             "|---" * (len(columns) + 3) + "|"]
    for k in shown:
        for name in _planted_names(budgets[k]):
            entry = budgets[k]["localizers"][name]
            n = entry[PLANTED_LEAD]["n"]
            cells = [_num(entry.get(metric)) + (f" (n={entry[metric]['n']})" if entry.get(metric, {}).get("n", 0) < n
                                                else "") for metric, _ in columns]
            lines.append(f"| {k} | {name} | {n} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def planted_pairs_table(summary: dict) -> str:
    """Paired differences per planted fact at every shown budget: mean [95% paired-bootstrap interval] (n)."""
    budgets = summary["planted"]["budgets"]
    lines = ["| k | difference (per fact) | " + " | ".join(PLANTED_TITLES.values()) + " |",
             "|---" * (len(PLANTED_METRICS) + 2) + "|"]
    for k in _planted_budgets(summary):
        for first, second in shown_pairs(budgets[k]):
            lines.append(f"| {k} | {first} - {second} | "
                         + " | ".join(_pair(budgets[k], metric, first, second) for metric in PLANTED_METRICS) + " |")
    return "\n".join(lines) + "\n"


def planted_sentence(summary: dict) -> str:
    """One sentence on what the planted tables show: the best localizer at the leading budget, against the
    oracle and against random."""
    planted = summary["planted"]
    shown = _planted_budgets(summary)
    k = str(LEADING_BUDGET) if str(LEADING_BUDGET) in shown else shown[-1]
    entry = planted["budgets"][k]
    best = entry.get("best")
    if best is None:
        return f"No localizer has a planted neuron scored at k = {k}."
    mine = entry["localizers"][best]
    text = (f"At k = {k}, **{best}** finds the planted neurons best among the localizers (recall@k "
            f"{_num(mine['recall'])} over {mine['recall']['n']} of the {planted['facts']} planted facts evaluated; "
            f"kind accuracy {_num(mine['kind_right'])}, decoys avoided {_num(mine.get('decoys_avoided'))})")
    oracle = entry["localizers"].get(ORACLE, {}).get("recall")
    if oracle and oracle.get("mean") is not None:
        text += f", against the oracle's {oracle['mean']:.2f}"
    decoys = (mine.get("decoys_avoided") or {}).get("mean")
    if decoys is not None and decoys < 0.5:
        text += ("; but it also takes most decoys, neurons that fire with the fact and write nothing, so it finds "
                 "what fires, not what writes the fact")
    chance = next((name for name in _planted_names(entry) if name.startswith("random")), None)
    diff = entry["pairwise"]["recall"].get(f"{best} - {chance}") if chance else None
    if diff and diff.get("mean") is not None:
        text += (f"; its paired recall@k difference to {chance} is {_difference(diff)}, "
                 + ("an interval above zero." if diff["low"] > 0 else "an interval that includes zero: not told "
                                                                        "apart from chance."))
    else:
        text += "."
    return text


def planted_section(summary: dict) -> str:
    """The planted ground truth at equal budgets (empty when the run has no planted fact scored at a budget)."""
    if not summary.get("planted", {}).get("budgets"):
        return ""
    return "\n".join([
        "## Planted ground truth at equal budgets",
        "",
        "Each localizer's top-k (the oracle's too, the best any ranking by single-ablation effect can do) scored "
        "against the planted neurons of every planted fact: an agnostic plant against the agnostic top-k, any "
        "other plant against the top-k of each of its languages that is localized (averaged over them; a plant "
        "in held-out languages only is not scored; a partial agnostic plant, written in fewer languages than were "
        "localized, is scored as a plant of its languages). precision@k = planted neurons in the set / k; "
        "recall@k = planted neurons in the set / planted neurons; kind accuracy: agnostic plants in the agnostic "
        "top-k, script, specific and partial agnostic plants in their languages' top-k but neither in the "
        "agnostic top-k nor in another language's, distributed plants the share of their neurons found; the "
        "oracle ranks single ablations, so a lower-layer neuron that switches a plant's detector off can rank "
        "above the planted neurons, most often above a distributed plant's, each of which carries only part of "
        "the fact. Decoys avoided = share of decoy neurons (they fire with the fact but write nothing) in none of "
        "the top-k sets (1 is best). Mean [95% bootstrap interval] over planted facts; random averaged over its "
        "draws.",
        "",
        planted_table(summary),
        planted_sentence(summary),
        "",
        "Paired differences per planted fact (the same resampled facts for both; n: facts both scored):",
        "",
        planted_pairs_table(summary),
    ])


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
        planted_model_section(summary.get("planted_model"), config.get("planted")) if config.get("planted") else "",
        planted_section(summary),
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
