"""PNG figures of an evaluation summary (matplotlib, Agg backend: no display needed)."""
from __future__ import annotations

import io
from pathlib import Path

import numpy as np

from ..io import atomic_write_bytes

LAYERS_PNG = "layers.png"
OVERLAP_PNG = "language_overlap.png"
INTERVENTIONS_PNG = "interventions.png"


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
    ax.set_title("Distribution of found neurons over layers")
    ax.legend(fontsize=8)
    _save(fig, path)


def overlap_matrix(overlap: dict, langs: list[str]) -> np.ndarray:
    """Symmetric language x language matrix of mean Jaccard overlaps (1 on the diagonal, NaN if unknown)."""
    matrix = np.full((len(langs), len(langs)), np.nan)
    np.fill_diagonal(matrix, 1.0)
    index = {lang: i for i, lang in enumerate(langs)}
    for pair, value in overlap.items():
        a, b = pair.split("-", 1)
        if a in index and b in index and value is not None:
            matrix[index[a], index[b]] = matrix[index[b], index[a]] = value
    return matrix


def plot_overlap(summary: dict, langs: list[str], path: Path) -> None:
    """One heatmap per localizer: mean Jaccard overlap of the per-language neuron sets."""
    plt = _pyplot()
    localizers = summary["localizers"]
    count = max(1, len(localizers))
    fig, axes = plt.subplots(1, count, figsize=(3.2 * count, 3.2), squeeze=False)
    for ax, (name, stats) in zip(axes[0], localizers.items()):
        image = ax.imshow(overlap_matrix(stats["overlap"], langs), vmin=0, vmax=1, cmap="viridis")
        ax.set_xticks(range(len(langs)), langs, fontsize=7)
        ax.set_yticks(range(len(langs)), langs, fontsize=7)
        ax.set_title(name, fontsize=9)
    fig.colorbar(image, ax=list(axes[0]), shrink=0.8, label="Jaccard overlap")
    _save(fig, path)


def plot_interventions(summary: dict, path: Path) -> None:
    """Suppress / enhance relative change on own vs unrelated queries per localizer, with 95% intervals."""
    plt = _pyplot()
    localizers = summary["localizers"]
    series = [("suppress_own", "suppress, own"), ("suppress_unrelated", "suppress, unrelated"),
              ("enhance_own", "enhance, own"), ("enhance_unrelated", "enhance, unrelated")]
    fig, ax = plt.subplots(figsize=(max(5, 1.4 * len(localizers)), 3.5))
    width = 0.8 / len(series)
    names = list(localizers)
    for position, (key, label) in enumerate(series):
        means, errors = [], [[], []]
        for name in names:
            ci = localizers[name]["metrics"].get(key)
            mean = 100 * ci["mean"] if ci else np.nan
            means.append(mean)
            errors[0].append(mean - 100 * ci["low"] if ci else 0.0)
            errors[1].append(100 * ci["high"] - mean if ci else 0.0)
        ax.bar(np.arange(len(names)) + position * width, means, width, yerr=errors, capsize=2, label=label)
    ax.axhline(0, color="black", linewidth=0.6)
    ax.set_xticks(np.arange(len(names)) + 0.4 - width / 2, names)
    ax.set_ylabel("relative change of P(gold) (%)")
    ax.set_title("Interventions on found neurons (95% bootstrap intervals)")
    ax.legend(fontsize=7)
    _save(fig, path)


def write_plots(summary: dict, out) -> list[Path]:
    """Write the three figures of a summary into `out`; returns their paths."""
    out = Path(out)
    options = summary.get("config", {}).get("options", {})
    langs = list(options.get("langs", []))
    paths = [out / LAYERS_PNG, out / OVERLAP_PNG, out / INTERVENTIONS_PNG]
    if not summary["localizers"]:
        return []
    plot_layers(summary, paths[0])
    plot_overlap(summary, langs, paths[1])
    plot_interventions(summary, paths[2])
    return paths
