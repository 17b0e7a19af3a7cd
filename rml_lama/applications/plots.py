"""PNG figures of the study summaries (matplotlib, Agg): transfer heatmaps, enhancement curves, injection bars."""
from __future__ import annotations

from pathlib import Path

import numpy as np


def _plt():
    from ..evaluation.plots import _pyplot

    return _pyplot()


def _save(fig, path: Path) -> None:
    from ..evaluation.plots import _save as save

    save(fig, path)


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in name)


def transfer_heatmap(matrix, sources, targets, title: str, path: Path) -> None:
    plt = _plt()
    values = np.array([[np.nan if v is None else v for v in row] for row in matrix], dtype=float)
    fig, ax = plt.subplots(figsize=(1.0 + 0.7 * len(targets), 1.0 + 0.6 * len(sources)))
    image = ax.imshow(values, vmin=0.0, vmax=1.0, cmap="viridis")
    ax.set_xticks(range(len(targets)), targets)
    ax.set_yticks(range(len(sources)), sources)
    ax.set_xlabel("target language")
    ax.set_ylabel("source language (localized and edited)")
    for i in range(len(sources)):
        for j in range(len(targets)):
            if np.isfinite(values[i, j]):
                ax.text(j, i, f"{values[i, j]:.2f}", ha="center", va="center", fontsize=7,
                        color="white" if values[i, j] < 0.6 else "black")
    ax.set_title(title, fontsize=9)
    fig.colorbar(image, ax=ax, fraction=0.046)
    _save(fig, path)


def edit_plots(summary: dict, run: Path) -> list[Path]:
    """edit_transfer_<localizer>.png: ES and PS source x target heatmaps of the found arm (and of the planted
    arm on planted models)."""
    written = []
    for name, entry in summary["localizers"].items():
        for arm in ("found", "planted"):
            stats = entry["arms"].get(arm)
            if not stats:
                continue
            for metric in ("es", "ps"):
                path = Path(run) / f"edit_transfer_{_safe(name)}_{arm}_{metric}.png"
                transfer_heatmap(stats["transfer"][metric], summary["sources"], summary["targets"],
                                 f"{metric.upper()} after editing through {name}'s {arm} neurons "
                                 f"({stats['facts']} facts)", path)
                written.append(path)
    return written
