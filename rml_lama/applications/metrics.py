"""The editing field's metrics, as pure functions of scores (docs/applications.md gives the formulas and sources).

Scores are mean per-token log-probabilities (ROME compares mean per-token NLLs; the project's candidate ranker
uses the same length normalisation), so "P(new) > P(old)" means the new object's per-token geometric-mean
probability beats the old one's.
"""
from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Optional

import numpy as np

from ..evaluation.metrics import mean_relative_change

# the neuron sets a fact is edited through (rml_lama.applications.edit explains each); each arm's control
EDIT_ARMS = ("found", "agnostic", "specific", "union", "random", "random-layers", "planted", "planted-random")
CONTROL_OF = {arm: "random" for arm in EDIT_ARMS if arm not in ("random", "planted-random")}
CONTROL_OF["planted"] = "planted-random"


def share_greater(first: Sequence[float], second: Sequence[float]) -> Optional[float]:
    """Share of positions where first > second (strictly); None for no positions."""
    a, b = np.asarray(first, dtype=np.float64), np.asarray(second, dtype=np.float64)
    return float(np.mean(a > b)) if a.size else None


def efficacy(new_log_prob: Sequence[float], old_log_prob: Sequence[float]) -> Optional[float]:
    """ES (ROME / CounterFact): share of prompts with P(new) > P(old)."""
    return share_greater(new_log_prob, old_log_prob)


def magnitude(new_log_prob: Sequence[float], old_log_prob: Sequence[float]) -> Optional[float]:
    """EM: mean of P(new) - P(old), P = exp(mean per-token log-probability)."""
    a, b = np.asarray(new_log_prob, dtype=np.float64), np.asarray(old_log_prob, dtype=np.float64)
    return float(np.mean(np.exp(a) - np.exp(b))) if a.size else None


def neighbourhood(gold_log_prob: Sequence[float], new_log_prob: Sequence[float]) -> Optional[float]:
    """NS: share of neighbour prompts (other facts) whose own gold answer still beats the edit's new object."""
    return share_greater(gold_log_prob, new_log_prob)


def agreement(before: Sequence[tuple[int, ...]], after: Sequence[tuple[int, ...]]) -> Optional[float]:
    """Share of prompts whose argmax tokens at every answer slot are unchanged by the edit (EasyEdit's
    locality: agreement with the unedited model, not with the gold)."""
    if not len(before):
        return None
    return float(np.mean([tuple(a) == tuple(b) for a, b in zip(before, after)]))


def harmonic_mean(values: Iterable[Optional[float]]) -> Optional[float]:
    """Harmonic mean (ROME's score S of ES, PS, NS); None when any is undefined, 0 when any is 0."""
    values = list(values)
    if not values or any(v is None or not math.isfinite(v) for v in values):
        return None
    if any(v <= 0 for v in values):
        return 0.0
    return len(values) / sum(1.0 / v for v in values)


def relative_change(before: Sequence[float], after: Sequence[float], min_prob: float = 0.0) -> Optional[float]:
    """Mean of (P_after - P_before) / P_before over the queries with P_before >= min_prob (Dai et al.)."""
    return mean_relative_change(before, after, min_prob)


def mean_or_none(values: Iterable[Optional[float]]) -> Optional[float]:
    finite = [float(v) for v in values if v is not None and math.isfinite(float(v))]
    return float(np.mean(finite)) if finite else None


def transfer_matrix(cells: dict[tuple[str, str], list[Optional[float]]], sources: Sequence[str],
                    targets: Sequence[str]) -> np.ndarray:
    """[source, target] means over facts of per-fact values (NaN where nothing was measured)."""
    matrix = np.full((len(sources), len(targets)), np.nan)
    for i, source in enumerate(sources):
        for j, target in enumerate(targets):
            value = mean_or_none(cells.get((source, target), []))
            if value is not None:
                matrix[i, j] = value
    return matrix


def matrix_summary(matrix: np.ndarray, sources: Sequence[str], targets: Sequence[str]) -> dict:
    """In-language mean (source = target), cross-language mean (off-diagonal) and their gap."""
    diagonal, off = [], []
    for i, source in enumerate(sources):
        for j, target in enumerate(targets):
            if np.isfinite(matrix[i, j]):
                (diagonal if source == target else off).append(float(matrix[i, j]))
    in_lang = float(np.mean(diagonal)) if diagonal else None
    cross = float(np.mean(off)) if off else None
    return {"in_language": in_lang, "cross_language": cross,
            "gap": None if in_lang is None or cross is None else in_lang - cross}
