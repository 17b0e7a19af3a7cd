"""Equal neuron budgets: every localizer's ranking, cut at the same k.

A localizer's *ranking* of one fact is its own score of every neuron: per language `per_lang[l]` and for the
language-agnostic set `agnostic`, each an array [n_layers, d_ff] where higher means more likely a knowledge
neuron (NaN: not ranked). `top_k` takes the k highest; ties are broken by (layer, index), so a selection is
deterministic. At a budget k every localizer contributes exactly k neurons per (fact, language) and k
language-agnostic neurons per fact (fewer only when fewer neurons are ranked), whatever its threshold would have
kept: a larger effect then means better neurons, not more of them.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from .base import Localization, Neuron

BUDGETS = (1, 3, 5, 10, 20)
LEADING_BUDGET = 5


@dataclass
class Ranking:
    """One fact's neuron scores by a localizer (higher = more likely a knowledge neuron)."""

    layers: tuple[int, ...]
    per_lang: dict[str, np.ndarray] = field(default_factory=dict)
    agnostic: np.ndarray | None = None


def top_k(scores: np.ndarray, layers: Sequence[int], k: int) -> list[Neuron]:
    """The k neurons with the highest scores (NaN never chosen), ties broken by (layer, index), returned in
    rank order (best first)."""
    flat = np.asarray(scores, dtype=np.float64).reshape(-1)
    d_ff = np.asarray(scores).shape[-1]
    finite = np.flatnonzero(np.isfinite(flat))
    if k <= 0 or finite.size == 0:
        return []
    # lexsort: last key is primary -> by -score, then by flat position (= (layer row, index) order)
    order = finite[np.lexsort((finite, -flat[finite]))][:k]
    return [(int(layers[int(f) // d_ff]), int(f) % d_ff) for f in order]


def budgeted(ranking: Ranking, k: int, langs: Sequence[str] | None = None) -> Localization:
    """The localization of exactly k neurons per language and k language-agnostic neurons (sorted by
    (layer, index)); `langs` restricts the languages (default: every ranked one)."""
    langs = list(ranking.per_lang) if langs is None else [lang for lang in langs if lang in ranking.per_lang]
    per_lang = {lang: sorted(top_k(ranking.per_lang[lang], ranking.layers, k)) for lang in langs}
    agnostic = sorted(top_k(ranking.agnostic, ranking.layers, k)) if ranking.agnostic is not None else []
    return Localization(per_lang, agnostic)


def precision_at_k(found: Sequence[Neuron], reference: Sequence[Neuron]) -> float | None:
    """|found & reference| / |reference| (both top-k sets of the same k); None when the reference is empty."""
    reference_set = set(map(tuple, reference))
    if not reference_set:
        return None
    return len(set(map(tuple, found)) & reference_set) / len(reference_set)


def min_over_langs(per_lang: dict[str, np.ndarray]) -> np.ndarray | None:
    """The agnostic ranking of an intersection rule: a neuron is as strong as in its weakest language (cutting
    it at t keeps exactly the neurons above t in every language)."""
    if not per_lang:
        return None
    return np.min(np.stack(list(per_lang.values())), axis=0)
