"""MATRICE: multilingual integrated gradients with uncertainty across queries and across languages.

Our reconstruction (docs/localizers.md has the formulas): per-query attributions normalised by their maximum,
combined over a language's paraphrases with confidence weights and a `mean - lambda * std` penalty, then the
same across languages; neurons that matter for one phrasing or one language only are pushed below threshold.
"""
from __future__ import annotations

from typing import Optional

import numpy as np

from .base import (
    ZERO_BASELINE,
    FactAttributions,
    Localization,
    Localizer,
    confidence_weights,
    mask_to_neurons,
    normalise_by_max,
    weighted_mean_std,
)


class Matrice(Localizer):
    """MATRICE over all rephrasings in all languages.

    Query level (language l, queries q): N_q = clip(A_q / max A_q, -1, 1); weights w_q = P(y|q) / sum P
    (`query_confidence`, else uniform); S_l = sum_q w_q N_q - `query_lambda` * std_w(N_q), renormalised so
    max S_l = 1. Language level: weights c_l = mean_q P(y|q) normalised (`lang_confidence`, else uniform);
    S = sum_l c_l S_l - `lang_lambda` * std_c(S_l).
    Selection: per-language neurons S_l > `tau`; language-agnostic neurons S > `tau_agnostic` (S is in units
    of each language's strongest neuron, so this is tau x the ideal maximum 1) and, when `min_langs` is set,
    selected in at least that many languages; language-specific = per-language minus agnostic.

    query_uncertainty / lang_uncertainty: switch each level's uncertainty (confidence weights and std
    penalty) off together; the registered ablations `matrice-no-query-unc` and `matrice-no-lang-unc`.
    baseline: attribution baseline read ("zero" by default; "amig" needs AMIG attributions of every query).
    """

    name = "matrice"
    description = "MATRICE: all rephrasings x languages, uncertainty-penalised across queries and languages"

    def __init__(
        self,
        tau: float = 0.2,
        tau_agnostic: float = 0.3,
        query_uncertainty: bool = True,
        lang_uncertainty: bool = True,
        query_confidence: bool = True,
        lang_confidence: bool = True,
        query_lambda: float = 1.0,
        lang_lambda: float = 1.0,
        min_langs: Optional[int] = None,
        baseline: str = ZERO_BASELINE,
    ):
        self.tau = tau
        self.tau_agnostic = tau_agnostic
        self.query_uncertainty = query_uncertainty
        self.lang_uncertainty = lang_uncertainty
        self.query_confidence = query_confidence
        self.lang_confidence = lang_confidence
        self.query_lambda = query_lambda
        self.lang_lambda = lang_lambda
        self.min_langs = min_langs
        self.baseline = baseline

    @property
    def baselines(self) -> tuple[str, ...]:  # type: ignore[override]
        return (self.baseline,)

    def language_score(self, fact: FactAttributions, lang: str) -> np.ndarray:
        """S_l: the uncertainty-penalised combination of the language's normalised query attributions."""
        queries = fact.for_lang(self.baseline, lang)
        stack = np.stack([normalise_by_max(q.scores) for q in queries])
        weights = confidence_weights([q.gold_prob for q in queries], self.query_uncertainty and self.query_confidence)
        mean, std = weighted_mean_std(stack, weights)
        penalty = self.query_lambda if self.query_uncertainty else 0.0
        return normalise_by_max(mean - penalty * std)

    def combined_score(self, lang_scores: dict[str, np.ndarray], lang_probs: dict[str, float]) -> np.ndarray:
        """S: the uncertainty-penalised combination of the per-language scores."""
        langs = list(lang_scores)
        stack = np.stack([lang_scores[lang] for lang in langs])
        weights = confidence_weights([lang_probs[lang] for lang in langs], self.lang_uncertainty and self.lang_confidence)
        mean, std = weighted_mean_std(stack, weights)
        return mean - (self.lang_lambda if self.lang_uncertainty else 0.0) * std

    def localize(self, fact: FactAttributions, reference: Optional[Localization] = None, salt: str = "") -> Localization:
        langs = fact.langs(self.baseline)
        if not langs:
            return Localization({}, [])
        lang_scores = {lang: self.language_score(fact, lang) for lang in langs}
        lang_probs = {lang: float(np.mean([q.gold_prob for q in fact.for_lang(self.baseline, lang)])) for lang in langs}
        per_lang, per_lang_scores = {}, {}
        for lang in langs:
            per_lang[lang], per_lang_scores[lang] = mask_to_neurons(fact, lang_scores[lang] > self.tau, lang_scores[lang])
        combined = self.combined_score(lang_scores, lang_probs)
        agnostic_mask = combined > self.tau_agnostic
        if self.min_langs:
            selected_in = np.sum([lang_scores[lang] > self.tau for lang in langs], axis=0)
            agnostic_mask &= selected_in >= self.min_langs
        agnostic, agnostic_scores = mask_to_neurons(fact, agnostic_mask, combined)
        return Localization(per_lang, agnostic, per_lang_scores, agnostic_scores)
