"""PNG figures of the study summaries (matplotlib, Agg): transfer heatmaps, enhancement curves, injection bars."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ..evaluation.plots import _pyplot
from ..evaluation.plots import _save as save


def _plt():
    return _pyplot()


def _save(fig, path: Path) -> None:
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


def enhance_plots(summary: dict, run: Path) -> list[Path]:
    """enhance_curve.png: accuracy in the wrong languages after amplifying by k, per localizer and arm (found and
    union neurons solid, their random controls dashed / dotted; grey: before), one panel per mode."""
    plt = _plt()
    modes = sorted({mode for e in summary["localizers"].values() for mode in e["results"]})
    if not modes:
        return []
    fig, axes = plt.subplots(1, len(modes), figsize=(4.5 * len(modes), 3.5), squeeze=False)
    for ax, mode in zip(axes[0], modes):
        for name, entry in summary["localizers"].items():
            by_factor = entry["results"].get(mode, {})
            factors = sorted(by_factor, key=float)
            for arm, style in (("found", "-o"), ("random", "--x"), ("union", "-s"), ("union-random", ":+")):
                ys = [by_factor[k].get(arm, {}).get("wrong_accuracy", {}).get("mean") for k in factors]
                if any(y is not None for y in ys):
                    ax.plot([float(k) for k in factors], [np.nan if y is None else y for y in ys], style,
                            label=f"{name} ({arm})")
        befores = [cell.get("found", {}).get("wrong_accuracy_before", {}).get("mean")
                   for e in summary["localizers"].values() for cell in e["results"].get(mode, {}).values()]
        befores = [b for b in befores if b is not None]
        if befores:
            ax.axhline(befores[0], color="grey", linewidth=0.8, label="before")
        ax.set_xlabel("amplification factor k")
        ax.set_ylabel("accuracy in the wrong languages")
        ax.set_title(f"enhancement, {mode} mode", fontsize=9)
        ax.set_ylim(-0.02, 1.02)
        ax.legend(fontsize=6)
    path = Path(run) / "enhance_curve.png"
    _save(fig, path)
    return [path]


def inject_plots(summary: dict, run: Path) -> list[Path]:
    """inject_transfer.png: accuracy gain per language after injection, per localizer and arm (grouped bars);
    the training languages are marked."""
    plt = _plt()
    langs = summary["langs"]
    series = [(f"{name} {arm}", stats["gain_by_lang"]) for name, entry in summary["localizers"].items()
              for arm, stats in entry["arms"].items()]
    if not series or not langs:
        return []
    fig, ax = plt.subplots(figsize=(max(6.0, 0.9 * len(langs) * max(1, len(series)) / 3), 3.8))
    width = 0.8 / len(series)
    for position, (label, gains) in enumerate(series):
        values = [np.nan if gains[lang]["mean"] is None else gains[lang]["mean"] for lang in langs]
        ax.bar(np.arange(len(langs)) + position * width, values, width, label=label)
    ax.set_xticks(np.arange(len(langs)) + 0.4 - width / 2,
                  [f"{lang}*" if lang in summary["train_langs"] else lang for lang in langs])
    ax.axhline(0.0, color="black", linewidth=0.5)
    ax.set_xlabel("language (* = trained on)")
    ax.set_ylabel("accuracy after - before")
    ax.set_title("Injected facts: accuracy gain per language", fontsize=9)
    ax.legend(fontsize=6, ncol=2)
    path = Path(run) / "inject_transfer.png"
    _save(fig, path)
    return [path]
