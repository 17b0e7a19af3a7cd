"""`rml-lama report DIR` for a study run (edit, enhance, inject): summary.json, report.md (printed) and plots.

Every figure is a mean over facts with a seeded 95% percentile-bootstrap interval (facts resampled); the
difference of an arm against the random control is taken per fact first (a paired bootstrap), so both arms
are compared on the same facts. Medians and time per fact sit beside the means.
"""
from __future__ import annotations

import json
import math
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, Optional

import numpy as np

from ..errors import RmlLamaError
from ..evaluation.metrics import bootstrap_ci
from ..evaluation.store import read_all_records
from ..io import atomic_write_json, atomic_write_text
from ..paths import RUN_CONFIG_FILE, RUN_REPORT_FILE, SUMMARY_FILE
from . import plots
from .metrics import CONTROL_OF, EDIT_ARMS, matrix_summary, transfer_matrix

BOOTSTRAP_SAMPLES = 1000



def _ci(values: Iterable[Optional[float]], seed: int) -> dict:
    values = [v for v in values if v is not None and math.isfinite(float(v))]
    ci = bootstrap_ci(values, n_boot=BOOTSTRAP_SAMPLES, seed=seed)
    ci["median"] = float(np.median(values)) if values else None
    return ci


def _mean(values: Iterable[Optional[float]]) -> Optional[float]:
    finite = [float(v) for v in values if v is not None and math.isfinite(float(v))]
    return float(np.mean(finite)) if finite else None


def _paired(a: list[Optional[float]], b: list[Optional[float]], seed: int) -> dict:
    """Per-fact differences a - b (facts where both are defined), bootstrapped: the paired interval."""
    return _ci([x - y for x, y in zip(a, b) if x is not None and y is not None], seed)


def _fmt(ci: Optional[dict], digits: int = 2, pct: bool = False) -> str:
    if not ci or ci.get("mean") is None:
        return "n/a"
    scale, unit = (100.0, "%") if pct else (1.0, "")
    return (f"{scale * ci['mean']:.{digits}f}{unit} [{scale * ci['low']:.{digits}f}, "
            f"{scale * ci['high']:.{digits}f}]")


def _records(run: Path) -> tuple[dict, list[dict]]:
    config_path = run / RUN_CONFIG_FILE
    if not config_path.is_file():
        raise RmlLamaError(f"{run} is not a study run: no {RUN_CONFIG_FILE}")
    config = json.loads(config_path.read_text(encoding="utf-8"))
    seen, records = set(), []
    for record in read_all_records(run):  # first line per (fact, localizer) kept: duplicates cannot count twice
        key = (record["fact_id"], record["localizer"])
        if key not in seen:
            seen.add(key)
            records.append(record)
    records.sort(key=lambda r: (r["localizer"], r["fact_id"]))
    return config, records


def _timing(records: list[dict]) -> dict:
    """Wall and CPU seconds per fact (all of a fact's localizers together; the first line of the fact holds them)."""
    wall = {r["fact_id"]: r.get("seconds_fact") for r in records if r.get("seconds_fact") is not None}
    cpu = {r["fact_id"]: r.get("cpu_seconds_fact") for r in records if r.get("cpu_seconds_fact") is not None}
    values, cpu_values = list(wall.values()), list(cpu.values())
    return {"facts": len(values), "mean_s": _mean(values), "median_s": float(np.median(values)) if values else None,
            "total_s": float(np.sum(values)) if values else None, "cpu_mean_s": _mean(cpu_values),
            "cpu_total_s": float(np.sum(cpu_values)) if cpu_values else None}


# --------------------------------------------------------------------------------------------- edit
EDIT_METRICS = ("es", "ps", "em", "pm", "ns", "ns_other", "agree", "agree_other", "score", "es_before",
                "ps_before", "ns_before")


def _edit_fact_values(result: dict, kind: str) -> dict[str, Optional[float]]:
    """One fact's value per metric for one arm: mean over (source, target) cells of the kind
    (all / in = source == target / cross = source != target)."""
    cells: dict[str, list] = {m: [] for m in EDIT_METRICS}
    for source, arms in result.items():
        for target, metrics in arms["targets"].items():
            if (kind == "in" and source != target) or (kind == "cross" and source == target):
                continue
            for m in EDIT_METRICS:
                cells[m].append(metrics.get(m))
    return {m: _mean(v) for m, v in cells.items()}


def summarise_edit(config: dict, records: list[dict]) -> dict:
    options = config.get("options", {})
    seed = int(options.get("seed", 0))
    sources, targets = options.get("source_langs", []), options.get("langs", [])
    edited = [r for r in records if r.get("outcome") == "edited"]
    localizers: dict[str, Any] = {}
    for name in dict.fromkeys(r["localizer"] for r in records):
        mine = [r for r in edited if r["localizer"] == name]
        arms = [arm for arm in EDIT_ARMS if any(arm in r["results"][s] for r in mine for s in r["results"])]
        values: dict[str, dict[str, dict[str, list]]] = {}
        for arm in arms:
            values[arm] = {}
            for kind in ("all", "in", "cross"):
                per_fact = [_edit_fact_values({s: r["results"][s][arm] for s in r["results"] if arm in r["results"][s]},
                                              kind) if any(arm in r["results"][s] for s in r["results"]) else None
                            for r in mine]
                values[arm][kind] = {m: [None if f is None else f[m] for f in per_fact] for m in EDIT_METRICS}
        stats: dict[str, Any] = {}
        for arm in arms:
            neurons = [_mean(len(r["neurons"][s][arm]) for s in r["neurons"] if arm in r["neurons"][s])
                       for r in mine]
            no_edit = [_mean(float(r["results"][s][arm]["no_edit"]) for s in r["results"] if arm in r["results"][s])
                       for r in mine]
            entry = {"facts": sum(v is not None for v in neurons), "neurons": _ci(neurons, seed),
                     "no_edit": _ci(no_edit, seed)}
            for kind in ("all", "in", "cross"):
                entry[kind] = {m: _ci(values[arm][kind][m], seed) for m in EDIT_METRICS}
            control = CONTROL_OF.get(arm)
            if control in values:
                entry["control"] = control
                entry["minus_control"] = {
                    f"{m}_{kind}": _paired(values[arm][kind][m], values[control][kind][m], seed)
                    for kind in ("in", "cross", "all") for m in ("es", "ps", "score", "ns")}
            entry["transfer"] = _transfer(mine, arm, sources, targets)
            if arm in ("planted", "planted-random"):  # agnostic and specific plants apart: they should differ
                entry["by_plant_kind"] = {}
                for kind in sorted({p["kind"] for r in mine for p in r.get("plants", [])}):
                    of_kind = [r for r in mine if {p["kind"] for p in r.get("plants", [])} == {kind}]
                    entry["by_plant_kind"][kind] = {"facts": len(of_kind),
                                                    "langs": sorted({lang for r in of_kind for p in r["plants"]
                                                                     for lang in p["langs"]}),
                                                    "transfer": _transfer(of_kind, arm, sources, targets)}
            stats[arm] = entry
        localizers[name] = {"facts": len(mine), "outcomes": _outcomes([r for r in records if r["localizer"] == name]),
                            "arms": stats}
    return {"study": "edit", "config": config, "sources": sources, "targets": targets, "localizers": localizers,
            "time_per_fact": _timing(records)}


def _transfer(records: list[dict], arm: str, sources: list[str], targets: list[str]) -> dict:
    """ES and PS source x target matrices of one arm over the records, with their in / cross-language means."""
    cells: dict[str, dict] = {"es": {}, "ps": {}}
    for r in records:
        for source, arms in r["results"].items():
            if arm not in arms:
                continue
            for target, metrics in arms[arm]["targets"].items():
                for metric in cells:
                    cells[metric].setdefault((source, target), []).append(metrics.get(metric))
    out: dict[str, Any] = {}
    for metric, by_cell in cells.items():
        matrix = transfer_matrix(by_cell, sources, targets)
        out[metric] = _matrix_json(matrix)
        out[f"{metric}_summary"] = matrix_summary(matrix, sources, targets)
    return out


def _matrix_json(matrix: np.ndarray) -> list[list[Optional[float]]]:
    return [[None if not np.isfinite(v) else round(float(v), 6) for v in row] for row in matrix]


def _outcomes(records: list[dict]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for r in records:
        counts[r.get("outcome", "?")] = counts.get(r.get("outcome", "?"), 0) + 1
    return counts


def edit_markdown(summary: dict) -> str:
    config = summary["config"]
    options = config.get("options", {})
    lines = [
        "# Cross-lingual knowledge editing",
        "",
        f"- model: `{config.get('model')}`; editor: {options.get('editor')} {config.get('editor_params')}",
        f"- source languages: {', '.join(summary['sources'])}; target languages: {', '.join(summary['targets'])}; "
        f"split {options.get('split')}, IG steps {options.get('steps')}, seed {options.get('seed')}, "
        f"rml-lama {config.get('package_version')}",
        f"- time per fact (all localizers, arms and sources): mean {_secs(summary['time_per_fact']['mean_s'])}, "
        f"median {_secs(summary['time_per_fact']['median_s'])} (CPU {_secs(summary['time_per_fact']['cpu_mean_s'])}) "
        f"over {summary['time_per_fact']['facts']} facts",
        "",
        "Each row edits every fact through one neuron set (arm) and scores it in every target language; means over "
        "facts [95% bootstrap interval]. in-lang: target = source; x-lang: target != source. ES: share of the "
        "target's edit-half rephrasings where P(new) > P(old); PS: the same on held-out rephrasings; NS: share of "
        "same-relation neighbours whose gold still beats the new object (NS oth.: other relations); agree: their "
        "argmax answer unchanged; score: harmonic mean of ES, PS, NS. Before editing ES is "
        + _fmt(_first_arm_metric(summary, "all", "es_before")) + " and NS "
        + _fmt(_first_arm_metric(summary, "all", "ns_before")) + ".",
        "",
        "| localizer | arm | facts | neurons | ES in-lang | ES x-lang | PS in-lang | PS x-lang | NS | NS oth. | "
        "agree | score x-lang | ES x-lang - control |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, entry in summary["localizers"].items():
        for arm, s in entry["arms"].items():
            lines.append(
                f"| {name} | {arm} | {s['facts']} | {_fmt(s['neurons'], 1)} | {_fmt(s['in']['es'])} | "
                f"{_fmt(s['cross']['es'])} | {_fmt(s['in']['ps'])} | {_fmt(s['cross']['ps'])} | {_fmt(s['all']['ns'])} | "
                f"{_fmt(s['all']['ns_other'])} | {_fmt(s['all']['agree'])} | {_fmt(s['cross']['score'])} | "
                f"{_fmt(s['minus_control']['es_cross']) + ' vs ' + s['control'] if 'control' in s else '-'} |")
    for name, entry in summary["localizers"].items():
        found = entry["arms"].get("found")
        if not found:
            continue
        t = found["transfer"]
        lines += ["", f"Transfer matrix, {name} (found arm): ES [PS] per source (row) and target (column), mean "
                  f"over {found['facts']} facts; in-language ES {_num(t['es_summary']['in_language'])}, "
                  f"cross-language {_num(t['es_summary']['cross_language'])}, gap {_num(t['es_summary']['gap'])}.",
                  "", "| source \\ target | " + " | ".join(summary["targets"]) + " |",
                  "|---|" + "---|" * len(summary["targets"])]
        for i, source in enumerate(summary["sources"]):
            cells = [f"{_num(t['es'][i][j])} [{_num(t['ps'][i][j])}]" for j in range(len(summary["targets"]))]
            lines.append(f"| {source} | " + " | ".join(cells) + " |")
    planted = next((e["arms"]["planted"] for e in summary["localizers"].values() if "planted" in e["arms"]), None)
    for kind, part in (planted or {}).get("by_plant_kind", {}).items():  # the same for every localizer
        t = part["transfer"]
        lines += ["", f"Transfer matrix through the planted neurons of the {kind} plants ({part['facts']} facts, "
                  f"planted in {', '.join(part['langs'])}): ES [PS].", "",
                  "| source \\ target | " + " | ".join(summary["targets"]) + " |",
                  "|---|" + "---|" * len(summary["targets"])]
        for i, source in enumerate(summary["sources"]):
            cells = [f"{_num(t['es'][i][j])} [{_num(t['ps'][i][j])}]" for j in range(len(summary["targets"]))]
            lines.append(f"| {source} | " + " | ".join(cells) + " |")
    outcomes = {name: e["outcomes"] for name, e in summary["localizers"].items()}
    lines += ["", f"Outcomes per localizer (facts): {outcomes}", ""]
    return "\n".join(lines)


def _first_arm_metric(summary: dict, kind: str, metric: str) -> Optional[dict]:
    for entry in summary["localizers"].values():
        for s in entry["arms"].values():
            return s[kind][metric]
    return None


def _num(value: Optional[float]) -> str:
    return "n/a" if value is None else f"{value:.2f}"


def _secs(value: Optional[float]) -> str:
    return "n/a" if value is None else f"{value:.1f} s"


# ------------------------------------------------------------------------------------------ dispatch
def _study_table(study: str) -> tuple[Callable, Callable, Callable]:
    tables = {"edit": (summarise_edit, edit_markdown, plots.edit_plots),
              "enhance": (summarise_enhance, enhance_markdown, plots.enhance_plots),
              "inject": (summarise_inject, inject_markdown, plots.inject_plots)}
    if study not in tables:
        raise RmlLamaError(f"unknown study {study!r} in the run's config (known: {', '.join(tables)})")
    return tables[study]


def study_of(run: Path) -> Optional[str]:
    """The study name recorded in the run's config.json, or None for an evaluation run (or no config, or one
    that is not a JSON object: the evaluation's report then names what is wrong with it)."""
    path = Path(run) / RUN_CONFIG_FILE
    if not path.is_file():
        return None
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return None
    study = config.get("study") if isinstance(config, dict) else None
    return study if isinstance(study, str) else None


def write_study_report(run: Path, print_table: bool = True) -> dict:
    run = Path(run)
    config, records = _records(run)
    summarise, markdown, plot = _study_table(config.get("study", ""))
    summary = summarise(config, records)
    atomic_write_json(run / SUMMARY_FILE, summary)
    text = markdown(summary)
    atomic_write_text(run / RUN_REPORT_FILE, text)
    plot(summary, run)
    if print_table:
        print(text)
        if not records:
            print("note: no result lines yet", file=sys.stderr)
    return summary


# ------------------------------------------------------------------------------------------ enhance
def _enhance_fact(langs_figures: dict, right: list[str], wrong: list[str]) -> dict[str, Optional[float]]:
    def mean_of(langs, key):
        return _mean(langs_figures[lang][key] for lang in langs)

    every = list(langs_figures)
    return {
        "wrong_accuracy": mean_of(wrong, "accuracy"), "wrong_accuracy_before": mean_of(wrong, "accuracy_before"),
        "wrong_gain": _diff(mean_of(wrong, "accuracy"), mean_of(wrong, "accuracy_before")),
        "wrong_rel_change": mean_of(wrong, "rel_change"),
        "right_accuracy": mean_of(right, "accuracy"), "right_accuracy_before": mean_of(right, "accuracy_before"),
        "right_rel_change": mean_of(right, "rel_change"),
        "unrelated_accuracy_change": _diff(mean_of(every, "unrelated_accuracy"),
                                           mean_of(every, "unrelated_accuracy_before")),
        "unrelated_rel_change": mean_of(every, "unrelated_rel_change"),
    }


def _diff(a: Optional[float], b: Optional[float]) -> Optional[float]:
    return None if a is None or b is None else a - b


ENHANCE_METRICS = ("wrong_accuracy", "wrong_accuracy_before", "wrong_gain", "wrong_rel_change", "right_accuracy",
                   "right_accuracy_before", "right_rel_change", "unrelated_accuracy_change", "unrelated_rel_change")


def summarise_enhance(config: dict, records: list[dict]) -> dict:
    options = config.get("options", {})
    seed = int(options.get("seed", 0))
    localizers: dict[str, Any] = {}
    for name in dict.fromkeys(r["localizer"] for r in records):
        mine = [r for r in records if r["localizer"] == name]
        table: dict[str, Any] = {}
        for mode in options.get("modes", []):
            for factor in options.get("factors", []):
                key = str(float(factor))
                per_arm: dict[str, dict[str, list]] = {}
                for r in mine:
                    for arm, result in r["results"].get(mode, {}).get(key, {}).items():
                        values = _enhance_fact(result["langs"], r["right_langs"], r["wrong_langs"])
                        for m in ENHANCE_METRICS:
                            per_arm.setdefault(arm, {}).setdefault(m, []).append(values[m])
                        per_arm[arm].setdefault("_facts", []).append(r["fact_id"])
                cell = {}
                for arm, values in per_arm.items():
                    cell[arm] = {"facts": len(values["_facts"]), **{m: _ci(values[m], seed) for m in ENHANCE_METRICS}}
                for arm, control in (("found", "random"), ("union", "union-random")):
                    if arm in per_arm and control in per_arm:
                        cell[arm]["minus_random"] = {
                            m: _paired(per_arm[arm][m], per_arm[control][m], seed)
                            for m in ("wrong_gain", "wrong_rel_change", "unrelated_accuracy_change")}
                table.setdefault(mode, {})[key] = cell
        neurons = {arm: _ci([len(r["neurons"][arm]) for r in mine if arm in r["neurons"]], seed)
                   for arm in ("found", "union", "planted")}
        localizers[name] = {"facts": len(mine), "outcomes": _outcomes(mine), "neurons": neurons,
                            "results": table}
    return {"study": "enhance", "config": config, "localizers": localizers, "time_per_fact": _timing(records)}


def enhance_markdown(summary: dict) -> str:
    config = summary["config"]
    options = config.get("options", {})
    lines = [
        "# Knowledge enhancement",
        "",
        f"- model: `{config.get('model')}`; languages: {', '.join(options.get('langs', []))}; factors "
        f"{options.get('factors')}; split {options.get('split')}, IG steps {options.get('steps')}, seed "
        f"{options.get('seed')}, rml-lama {config.get('package_version')}",
        f"- time per fact (all localizers, modes, factors): mean {_secs(summary['time_per_fact']['mean_s'])}, "
        f"median {_secs(summary['time_per_fact']['median_s'])} (CPU {_secs(summary['time_per_fact']['cpu_mean_s'])}) "
        f"over {summary['time_per_fact']['facts']} facts",
        "",
        "Facts the model answers right in some languages and wrong in others; the neurons found from the right "
        "languages are amplified by k (activation: x k at the answer positions; weight: value vectors x k). "
        "Means over facts [95% bootstrap interval]: accuracy in the wrong languages after (before), its gain, "
        "the relative change of P(gold) there, accuracy in the right languages (held-out rephrasings), and the "
        "cost: change of accuracy and relative change of P(gold) on unrelated facts' queries. found - random: "
        "paired difference of the wrong-language accuracy gain (union: against union-random).",
        "",
        "| localizer | mode | k | arm | facts | wrong acc. after (before) | wrong gain | wrong dP/P | right acc. | "
        "unrelated acc. change | unrelated dP/P | gain found - random |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, entry in summary["localizers"].items():
        for mode, by_factor in entry["results"].items():
            for factor, cell in by_factor.items():
                for arm, s in cell.items():
                    lines.append(
                        f"| {name} | {mode} | {factor} | {arm} | {s['facts']} | {_fmt(s['wrong_accuracy'])} "
                        f"({_num(s['wrong_accuracy_before']['mean'])}) | {_fmt(s['wrong_gain'])} | "
                        f"{_fmt(s['wrong_rel_change'], 1, pct=True)} | {_fmt(s['right_accuracy'])} | "
                        f"{_fmt(s['unrelated_accuracy_change'])} | {_fmt(s['unrelated_rel_change'], 1, pct=True)} | "
                        f"{_fmt(s.get('minus_random', {}).get('wrong_gain')) if 'minus_random' in s else '-'} |")
    neurons = {name: {arm: _fmt(ci, 1) for arm, ci in e["neurons"].items() if ci["n"]}
               for name, e in summary["localizers"].items()}
    outcomes = {name: e["outcomes"] for name, e in summary["localizers"].items()}
    lines += ["", f"Neurons amplified per fact: {neurons}", f"Outcomes (facts): {outcomes}", ""]
    return "\n".join(lines)


# ------------------------------------------------------------------------------------------- inject
INJECT_METRICS = ("train_accuracy", "train_accuracy_before", "other_accuracy", "other_accuracy_before",
                  "other_gain", "other_log10_p_ratio", "control_accuracy_change", "control_changed")


def _inject_fact(entry: dict, train_langs: list[str]) -> dict[str, Optional[float]]:
    langs = entry["langs"]
    others = [lang for lang in langs if lang not in train_langs]

    def mean_of(which, key):
        return _mean(langs[lang][key] for lang in which if lang in langs)

    ratio = _mean(math.log10(max(langs[lang]["p"], 1e-300) / max(langs[lang]["p_before"], 1e-300)) for lang in others)
    return {"train_accuracy": mean_of(train_langs, "accuracy"),
            "train_accuracy_before": mean_of(train_langs, "accuracy_before"),
            "other_accuracy": mean_of(others, "accuracy"), "other_accuracy_before": mean_of(others, "accuracy_before"),
            "other_gain": _diff(mean_of(others, "accuracy"), mean_of(others, "accuracy_before")),
            "other_log10_p_ratio": ratio,
            "control_accuracy_change": _diff(entry["control"]["accuracy"], entry["control"]["accuracy_before"]),
            "control_changed": entry["control"]["changed"]}


def summarise_inject(config: dict, records: list[dict]) -> dict:
    options = config.get("options", {})
    seed = int(options.get("seed", 0))
    train_langs = options.get("train_langs", [])
    langs = options.get("langs", [])
    localizers: dict[str, Any] = {}
    for name in dict.fromkeys(r["localizer"] for r in records):
        mine = [r for r in records if r["localizer"] == name]
        arms: dict[str, Any] = {}
        per_arm: dict[str, dict[str, list]] = {}
        for r in mine:
            for arm, entry in r["results"].items():
                values = _inject_fact(entry, train_langs)
                for m in INJECT_METRICS:
                    per_arm.setdefault(arm, {}).setdefault(m, []).append(values[m])
                bucket = per_arm[arm]
                bucket.setdefault("_neurons", []).append(entry["neurons"])
                bucket.setdefault("_entries", []).append(entry["trained_entries"])
                for lang in langs:
                    figures = entry["langs"].get(lang)
                    bucket.setdefault(f"_lang_{lang}", []).append(
                        None if figures is None else _diff(figures["accuracy"], figures["accuracy_before"]))
        for arm, values in per_arm.items():
            arms[arm] = {"facts": len(values["_neurons"]), "neurons": _ci(values["_neurons"], seed),
                         "trained_entries": _ci(values["_entries"], seed),
                         **{m: _ci(values[m], seed) for m in INJECT_METRICS},
                         "gain_by_lang": {lang: _ci(values[f"_lang_{lang}"], seed) for lang in langs}}
            if arm != "random" and "random" in per_arm:
                arms[arm]["minus_random"] = {m: _paired(values[m], per_arm["random"][m], seed)
                                             for m in ("other_gain", "train_accuracy", "control_accuracy_change")}
        localizers[name] = {"facts": len(mine), "outcomes": _outcomes(mine), "arms": arms}
    return {"study": "inject", "config": config, "localizers": localizers, "langs": langs,
            "train_langs": train_langs, "time_per_fact": _timing(records)}


def inject_markdown(summary: dict) -> str:
    config = summary["config"]
    options = config.get("options", {})
    lines = [
        "# New knowledge injection",
        "",
        f"- model: `{config.get('model')}`; trained in {', '.join(summary['train_langs'])}, measured in "
        f"{', '.join(summary['langs'])}; {options.get('train_steps')} Adam steps, lr {options.get('lr')}; "
        f"IG steps {options.get('steps')}, seed {options.get('seed')}, rml-lama {config.get('package_version')}",
        f"- time per fact (all localizers and arms): mean {_secs(summary['time_per_fact']['mean_s'])}, median "
        f"{_secs(summary['time_per_fact']['median_s'])} (CPU {_secs(summary['time_per_fact']['cpu_mean_s'])}) over "
        f"{summary['time_per_fact']['facts']} facts",
        "",
        "Facts the model was not taught, trained into the arm's parameters only (every other parameter frozen and "
        "checked bit for bit) on the training languages' rephrasings. Means over facts [95% bootstrap interval]: "
        "accuracy (gold first among the relation's candidates) in the training languages on held-out rephrasings "
        "and in the other languages, after (before); the gain in the other languages (transfer); the mean of "
        "log10 P(gold) after / before there (joint probability of the answer's tokens); forgetting: accuracy change on a fixed set of known facts' "
        "queries. x - random: paired difference of the transfer gain.",
        "",
        "| localizer | arm | facts | neurons | trained entries | train-lang acc. (before) | other-lang acc. (before) | "
        "transfer gain | log10 P ratio other | control acc. change | gain - random |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, entry in summary["localizers"].items():
        for arm, s in entry["arms"].items():
            lines.append(
                f"| {name} | {arm} | {s['facts']} | {_fmt(s['neurons'], 1)} | {_fmt(s['trained_entries'], 0)} | "
                f"{_fmt(s['train_accuracy'])} ({_num(s['train_accuracy_before']['mean'])}) | {_fmt(s['other_accuracy'])}"
                f" ({_num(s['other_accuracy_before']['mean'])}) | {_fmt(s['other_gain'])} | {_fmt(s['other_log10_p_ratio'], 1)} |"
                f" {_fmt(s['control_accuracy_change'])} | "
                f"{_fmt(s['minus_random']['other_gain']) if 'minus_random' in s else '-'} |")
    lines += ["", "Accuracy gain per language (found arm):", "",
              "| localizer | " + " | ".join(summary["langs"]) + " |", "|---|" + "---|" * len(summary["langs"])]
    for name, entry in summary["localizers"].items():
        found = entry["arms"].get("found")
        if found:
            lines.append(f"| {name} | " + " | ".join(_num(found["gain_by_lang"][lang]["mean"])
                                                     for lang in summary["langs"]) + " |")
    lines.append("")
    return "\n".join(lines)
