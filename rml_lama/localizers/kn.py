"""Knowledge neurons (Dai et al., ACL 2022): per language, zero baseline, coarse 0.2 x max, refined by sharing."""
from __future__ import annotations

from typing import Optional

import numpy as np

from .base import (
    ZERO_BASELINE,
    FactAttributions,
    Localization,
    Localizer,
    above_fraction_of_max,
    intersection,
    mask_to_neurons,
    normalise_by_max,
)
from .budget import Ranking, min_over_langs


class KnowledgeNeurons(Localizer):
    """Dai et al.: per query, coarse neurons have attribution > `threshold` x max; per language, keep neurons
    coarse in more than a share `p` of the language's queries and in at least `min(min_share, n_queries)` of
    them. `retune=(lo, hi)` (off by default) moves p by `retune_step` until lo..hi neurons are kept.
    Language-agnostic neurons = intersection of the per-language sets; scores = mean normalised attribution.

    threshold: coarse threshold as a fraction of the query's maximum attribution (Dai: 0.2).
    p: share of the language's queries a neuron must be coarse in, strictly exceeded (Dai: 0.7).
    min_share: minimum number of queries sharing it, capped at the number of queries (Dai: 3).
    retune: None, or (lo, hi) neurons per language to reach by retuning p (Dai: 2-5, tuned on averages).
    """

    name = "kn"
    description = "Dai et al. knowledge neurons: per language, zero baseline, 0.2 x max, shared by > p of queries"
    baselines = (ZERO_BASELINE,)

    def __init__(
        self,
        threshold: float = 0.2,
        p: float = 0.7,
        min_share: int = 3,
        retune: Optional[tuple[int, int]] = None,
        retune_step: float = 0.05,
    ):
        self.threshold = threshold
        self.p = p
        self.min_share = min_share
        self.retune = tuple(retune) if retune else None
        self.retune_step = retune_step

    def refine(self, coarse_counts: np.ndarray, n_queries: int, p: float) -> np.ndarray:
        """Mask of neurons coarse in more than p x n_queries queries and in at least min(min_share, n) of them."""
        return (coarse_counts > p * n_queries) & (coarse_counts >= min(self.min_share, n_queries))

    def _retuned_mask(self, counts: np.ndarray, n_queries: int) -> np.ndarray:
        p = self.p
        mask = self.refine(counts, n_queries, p)
        if not self.retune:
            return mask
        lo, hi = self.retune
        direction = 0
        for _ in range(int(round(1.0 / self.retune_step))):
            kept = int(mask.sum())
            step = -1 if kept < lo else (1 if kept > hi else 0)
            if step == 0 or (direction and step != direction):
                break  # in range, or overshooting back and forth: keep the last mask
            direction = step
            p_next = p + step * self.retune_step
            if not 0.0 <= p_next < 1.0:
                break
            p = p_next
            mask = self.refine(counts, n_queries, p)
        return mask

    def localize(self, fact: FactAttributions, reference: Optional[Localization] = None, salt: str = "") -> Localization:
        per_lang, per_lang_scores = {}, {}
        for lang in fact.langs(ZERO_BASELINE):
            queries = fact.for_lang(ZERO_BASELINE, lang)
            counts = np.sum([above_fraction_of_max(q.scores, self.threshold) for q in queries], axis=0)
            mean_scores = np.mean([normalise_by_max(q.scores) for q in queries], axis=0)
            mask = self._retuned_mask(counts, len(queries))
            per_lang[lang], per_lang_scores[lang] = mask_to_neurons(fact, mask, mean_scores)
        agnostic = intersection(list(per_lang.values()))
        agnostic_scores = [
            float(np.mean([per_lang_scores[lang][per_lang[lang].index(n)] for lang in per_lang])) for n in agnostic
        ]
        return Localization(per_lang, agnostic, per_lang_scores, agnostic_scores)

    def rank(self, fact: FactAttributions, salt: str = "") -> Ranking:
        """Per language: the mean normalised attribution over the language's queries (the score it reports);
        language-agnostic: its minimum over languages (the ranking whose cut is an intersection)."""
        per_lang = {lang: np.mean([normalise_by_max(q.scores) for q in fact.for_lang(ZERO_BASELINE, lang)], axis=0)
                    for lang in fact.langs(ZERO_BASELINE)}
        return Ranking(fact.layers, per_lang, min_over_langs(per_lang))
