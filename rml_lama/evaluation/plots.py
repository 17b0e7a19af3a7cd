"""PNG figures of an evaluation summary (matplotlib, Agg backend: no display needed)."""
from __future__ import annotations

import io
from pathlib import Path
from typing import Optional

import numpy as np

from ..io import atomic_write_bytes

LAYERS_PNG = "layers.png"
OVERLAP_PNG = "language_overlap.png"
INTERVENTIONS_PNG = "interventions.png"
EFFECT_VS_K_PNG = "effect_vs_k.png"
RECOVERY_PNG = "oracle_recovery_by_lang.png"


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig, path: Path) -> None:
    buffer = io.BytesIO()
    # no "Software" version tag: the PNG bytes depend only on the figure
    fig.savefig(buffer, format="png", dpi=110, bbox_inches="tight", metadata={"Software": None})
    atomic_write_bytes(path, buffer.getvalue())
    _pyplot().close(fig)


def plot_layers(summary: dict, path: Path) -> None:
    """Share of each localizer's neurons per layer (grouped bars)."""
    plt = _pyplot()
    localizers = summary["localizers"]
    layers = sorted({int(layer) for s in localizers.values() for layer in s["layers"]})
    fig, ax = plt.subplots(figsize=(max(5, 0.6 * len(layers) * max(1, len(localizers)) / 2), 3.5))
    width = 0.8 / max(1, len(localizers))
    for position, (name, stats) in enumerate(localizers.items()):
        total = sum(stats["layers"].values()) or 1
        shares = [stats["layers"].get(str(layer), 0) / total for layer in layers]
        ax.bar(np.arange(len(layers)) + position * width, shares, width, label=name)
    ax.set_xticks(np.arange(len(layers)) + 0.4 - width / 2, [str(layer) for layer in layers])
    ax.set_xlabel("layer")
    ax.set_ylabel("share of neurons found")
    facts = max((stats.get("facts", 0) for stats in localizers.values()), default=0)
    ax.set_title(f"Distribution of the threshold sets' neurons over layers (n={facts} facts)")
    ax.legend(fontsize=8)
    _save(fig, path)


def overlap_matrix(overlap: dict, langs: list[str]) -> np.ndarray:
    """Symmetric language x language matrix of mean Jaccard overlaps (NaN on the diagonal and where unknown:
    a language's overlap with itself is 1 by definition and would only stretch the colour scale)."""
    matrix = np.full((len(langs), len(langs)), np.nan)
    index = {lang: i for i, lang in enumerate(langs)}
    for pair, value in overlap.items():
        a, b = pair.split("-", 1)
        if a in index and b in index and value is not None:
            matrix[index[a], index[b]] = matrix[index[b], index[a]] = value
    return matrix


def plot_overlap(summary: dict, langs: list[str], path: Path) -> None:
    """One heatmap per localizer: mean Jaccard overlap of the per-language neuron sets (threshold sets), the
    diagonal left out of the colour scale, every value written in its cell."""
    plt = _pyplot()
    localizers = summary["localizers"]
    matrices = {name: overlap_matrix(stats["overlap"], langs) for name, stats in localizers.items()}
    finite = [m[np.isfinite(m)] for m in matrices.values()]
    top = max([float(v.max()) for v in finite if v.size] + [1e-6])
    count = max(1, len(localizers))
    fig, axes = plt.subplots(1, count, figsize=(3.4 * count, 3.4), squeeze=False)
    image = None
    for ax, (name, matrix) in zip(axes[0], matrices.items()):
        image = ax.imshow(matrix, vmin=0, vmax=top, cmap="viridis")
        for i in range(len(langs)):
            for j in range(len(langs)):
                text = "-" if i == j else ("" if not np.isfinite(matrix[i, j]) else f"{matrix[i, j]:.2f}")
                colour = "white" if np.isfinite(matrix[i, j]) and matrix[i, j] < 0.6 * top else "black"
                ax.text(j, i, text, ha="center", va="center", fontsize=6, color=colour)
        ax.set_xticks(range(len(langs)), langs, fontsize=7)
        ax.set_yticks(range(len(langs)), langs, fontsize=7)
        ax.set_title(f"{name} (n={localizers[name]['facts']} facts)", fontsize=8)
    if image is not None:
        fig.colorbar(image, ax=list(axes[0]), shrink=0.8, label="Jaccard overlap (diagonal left out)")
    _save(fig, path)


def _interval(ci: Optional[dict]) -> tuple[float, float, float]:
    if not ci or ci.get("mean") is None:
        return np.nan, 0.0, 0.0
    return ci["mean"], ci["mean"] - ci["low"], ci["high"] - ci["mean"]


def _effect_panels(summary: dict) -> list[tuple[str, str, dict]]:
    """(title, y label, {k: {localizer: interval}}) of each panel with data: suppression on held-out rephrasings,
    on held-out languages (only when some were held out), recall@k of the planted neurons (planted runs)."""
    budgets = summary.get("budgets", {})
    panels = []
    for metric, title in (("suppress_own", "held-out rephrasings (per-language sets)"),
                          ("holdout_suppress", "held-out languages (agnostic sets)")):
        series = {k: {name: entry.get(metric) for name, entry in budgets[k].items()} for k in budgets}
        if any((ci or {}).get("n") for row in series.values() for ci in row.values()):
            panels.append((title, "change of mean log P(gold) per token", series))
    planted = summary.get("planted", {}).get("budgets", {})
    if planted:
        series = {k: {name: entry.get("recall") for name, entry in planted[k]["localizers"].items()}
                  for k in planted}
        panels.append(("planted neurons found (recall@k)", "recall@k of the planted neurons", series))
    return panels


def plot_effect_vs_k(summary: dict, path: Path) -> None:
    """Against the budget k, one line per localizer with 95% intervals, the oracle's in black: suppression
    (change of mean per-token log-probability) on held-out rephrasings, on held-out languages where some were
    held out, and on a planted model the share of planted neurons found."""
    plt = _pyplot()
    panels = _effect_panels(summary)
    if not panels:
        return
    fig, axes = plt.subplots(1, len(panels), figsize=(5 * len(panels), 3.8), squeeze=False)
    for ax, (title, label, series) in zip(axes[0], panels):
        ks = sorted(series, key=int)
        names = sorted({name for k in ks for name in series[k]}, key=lambda n: (n != "oracle", n))
        n = 0
        for name in names:
            points = [_interval(series[k].get(name)) for k in ks]
            n = max([n] + [(series[k].get(name) or {}).get("n", 0) for k in ks])
            style = {"color": "black", "linewidth": 2.2, "zorder": 5} if name == "oracle" else {}
            ax.errorbar(range(len(ks)), [p[0] for p in points], yerr=[[p[1] for p in points], [p[2] for p in points]],
                        marker="o", markersize=3, capsize=2, label=name, **style)
        ax.axhline(0, color="grey", linewidth=0.6)
        ax.set_xticks(range(len(ks)), [str(k) for k in ks])
        ax.set_xlabel("neurons per language (k)")
        ax.set_ylabel(label)
        ax.set_title(f"{title}, n={n} facts", fontsize=9)
    axes[0][0].legend(fontsize=7)
    fig.tight_layout()
    _save(fig, path)


def plot_recovery_by_lang(summary: dict, path: Path) -> None:
    """Oracle recovery at the leading budget per language (localization languages: per-language sets on
    held-out rephrasings; held-out languages: agnostic sets), one bar group per localizer, clipped to [-1, 2]
    with the clipped bars marked."""
    plt = _pyplot()
    k = summary.get("leading_budget")
    entries = {name: e for name, e in summary.get("budgets", {}).get(k, {}).items() if "recovery_by_lang" in e}
    langs = sorted({lang for e in entries.values() for lang in e["recovery_by_lang"]})
    fig, ax = plt.subplots(figsize=(max(5, 0.9 * len(langs) * max(1, len(entries)) / 2), 3.6))
    width = 0.8 / max(1, len(entries))
    low, high = -1.0, 2.0
    for position, (name, entry) in enumerate(entries.items()):
        values = [entry["recovery_by_lang"].get(lang, {}).get("mean") for lang in langs]
        values = [np.nan if v is None else float(v) for v in values]
        shown = np.clip(values, low, high)
        xs = np.arange(len(langs)) + position * width
        ax.bar(xs, shown, width, label=name)
        for x, value, clipped in zip(xs, values, shown):
            if np.isfinite(value) and value != clipped:
                ax.annotate(f"{value:.1f}", (x, clipped), fontsize=6, ha="center", va="bottom", color="red")
    ax.axhline(1.0, color="black", linewidth=0.8, linestyle="--")
    ax.axhline(0.0, color="grey", linewidth=0.6)
    ax.set_ylim(low, high)
    ax.set_xticks(np.arange(len(langs)) + 0.4 - width / 2, langs)
    ax.set_ylabel(f"oracle recovery at k = {k}")
    facts = summary.get("progress", {}).get("facts_complete")
    undefined = [lang for lang in langs if any(e["recovery_by_lang"].get(lang, {}).get("oracle_near_zero")
                                               for e in entries.values())]
    ax.set_title(f"Share of the oracle's suppression reached, per language (n={facts} facts; clipped values in red"
                 + (f"; no bar: the oracle's own effect is ~0 in {', '.join(undefined)}" if undefined else "") + ")",
                 fontsize=8)
    ax.legend(fontsize=7)
    _save(fig, path)


def plot_interventions(summary: dict, path: Path) -> None:
    """Threshold sets: suppress / enhance effects (mean per-token log-probability) on held-out rephrasings and
    on unrelated queries per localizer, with 95% intervals."""
    plt = _pyplot()
    localizers = summary["localizers"]
    series = [("suppress_own", "suppress, own"), ("suppress_unrelated", "suppress, unrelated"),
              ("enhance_own", "enhance, own"), ("enhance_unrelated", "enhance, unrelated")]
    fig, ax = plt.subplots(figsize=(max(5, 1.4 * len(localizers)), 3.5))
    width = 0.8 / len(series)
    names = list(localizers)
    for position, (key, label) in enumerate(series):
        points = [_interval(localizers[name]["metrics"].get(key)) for name in names]
        ax.bar(np.arange(len(names)) + position * width, [p[0] for p in points], width,
               yerr=[[p[1] for p in points], [p[2] for p in points]], capsize=2, label=label)
    ax.axhline(0, color="black", linewidth=0.6)
    ax.set_xticks(np.arange(len(names)) + 0.4 - width / 2, [f"{n}\n(n={localizers[n]['facts']})" for n in names])
    ax.set_ylabel("change of mean log P(gold) per token")
    ax.set_title("Each localizer's own threshold set (95% bootstrap intervals)")
    ax.legend(fontsize=7)
    _save(fig, path)


def write_plots(summary: dict, out) -> list[Path]:
    """Write the figures of a summary into `out`; returns their paths."""
    out = Path(out)
    options = summary.get("config", {}).get("options", {})
    langs = list(options.get("langs", []))
    if not summary["localizers"]:
        return []
    paths = [out / LAYERS_PNG, out / OVERLAP_PNG, out / INTERVENTIONS_PNG]
    plot_layers(summary, paths[0])
    plot_overlap(summary, langs, paths[1])
    plot_interventions(summary, paths[2])
    if summary.get("budgets"):
        paths += [out / EFFECT_VS_K_PNG, out / RECOVERY_PNG]
        plot_effect_vs_k(summary, paths[3])
        plot_recovery_by_lang(summary, paths[4])
    return paths
