"""MATRICE: multilingual integrated gradients with uncertainty across queries and across languages.

Our reconstruction (docs/localizers.md has the formulas): per-query attributions normalised by their maximum,
combined over a language's paraphrases with confidence weights and a `mean - lambda * std` penalty, then the
same across languages; neurons that matter for one phrasing or one language only are pushed below threshold.
"""
from __future__ import annotations

from typing import Optional

import numpy as np

from ..errors import RmlLamaError
from .base import (
    AMIG_BASELINE,
    FactAttributions,
    Localization,
    Localizer,
    confidence_weights,
    mask_to_neurons,
    normalise_by_max,
    weighted_mean_std,
)
from .budget import Ranking

LANG_WEIGHTS = ("per-token", "renormalised")


class Matrice(Localizer):
    """MATRICE over all rephrasings in all languages.

    Query level (language l, queries q): N_q = clip(A_q / max A_q, -1, 1); weights w_q = P(y|q) / sum P
    (`query_confidence`, else uniform); S_l = sum_q w_q N_q - `query_lambda` * std_w(N_q), renormalised so
    max S_l = 1. Language level (`lang_weights="per-token"`, default): per-token confidences
    conf_l = mean_q exp(mean_t log P(y_t|q)) (comparable across languages whose answers have different token
    counts), relative r_l = conf_l / max conf; weights c_l = r_l / sum r; S = breadth x (sum_l c_l S_l -
    `lang_lambda` * std_c(S_l)) with breadth = min(1, sum of r_l over the languages other than the most
    confident one): how well the fact is known beyond its best language. A fact known in one language only has
    breadth ~0 and no LAKNs; known in a second language as well as in the first, breadth 1. `lang_weights="renormalised"` (the old rule, registered as
    `matrice-renorm`): c_l = mean_q P(y|q) / sum of joint probabilities, no breadth: a single known language
    carries all the weight and its neurons become LAKNs. `lang_confidence=False`: uniform weights, breadth 1.
    Selection: per-language neurons S_l > `tau`; language-agnostic neurons S > `tau_agnostic` (S is in units
    of each language's strongest neuron, so this is tau x the ideal maximum 1) and, when `min_langs` is set,
    selected in at least that many languages; language-specific = per-language minus agnostic.

    query_uncertainty / lang_uncertainty: switch each level's uncertainty (confidence weights and std
    penalty) off together; the registered ablations `matrice-no-query-unc` and `matrice-no-lang-unc`.
    baseline: attribution read: "amig" (default: the sequential AMIG-style baseline, integrated-gradients
    form, as MATRICE's attribution is described) or "zero" (registered ablation `matrice-zero`).
    """

    name = "matrice"
    description = ("MATRICE: AMIG-style baseline, all rephrasings x languages, uncertainty-penalised across queries and "
                   "languages (per-token confidences)")

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
        baseline: str = AMIG_BASELINE,
        lang_weights: str = "per-token",
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
        if lang_weights not in LANG_WEIGHTS:
            raise RmlLamaError(f"lang_weights {lang_weights!r}: choose one of {', '.join(LANG_WEIGHTS)}")
        self.lang_weights = lang_weights

    @property
    def baselines(self) -> tuple[str, ...]:  # type: ignore[override]
        return (self.baseline,)

    def language_score(self, fact: FactAttributions, lang: str) -> np.ndarray:
        """S_l: the uncertainty-penalised combination of the language's normalised query attributions."""
        queries = fact.for_lang(self.baseline, lang)
        stack = np.stack([normalise_by_max(q.scores) for q in queries])
        weights = confidence_weights([q.per_token_prob for q in queries],
                                     self.query_uncertainty and self.query_confidence)
        mean, std = weighted_mean_std(stack, weights)
        penalty = self.query_lambda if self.query_uncertainty else 0.0
        return normalise_by_max(mean - penalty * std)

    def combined_score(self, lang_scores: dict[str, np.ndarray], lang_probs: dict[str, float]) -> np.ndarray:
        """S: the uncertainty-penalised combination of the per-language scores."""
        langs = list(lang_scores)
        stack = np.stack([lang_scores[lang] for lang in langs])
        use_confidence = self.lang_uncertainty and self.lang_confidence
        penalty = self.lang_lambda if self.lang_uncertainty else 0.0
        if self.lang_weights == "renormalised":
            weights = confidence_weights([lang_probs[lang] for lang in langs], use_confidence)
            mean, std = weighted_mean_std(stack, weights)
            return mean - penalty * std
        confidences = np.clip([lang_probs[lang] for lang in langs], 0.0, None)
        if not use_confidence or not confidences.max() > 0:
            mean, std = weighted_mean_std(stack, np.full(len(langs), 1.0 / len(langs)))
            return mean - penalty * std
        relative = confidences / confidences.max()
        mean, std = weighted_mean_std(stack, relative / relative.sum())
        breadth = min(1.0, float(relative.sum()) - 1.0)  # relative confidence outside the best language
        return breadth * (mean - penalty * std)

    def lang_probs(self, fact: FactAttributions, langs) -> dict[str, float]:
        """Per language: mean per-token gold probability (per-token weights) or mean joint one (renormalised)."""
        pick = (lambda q: q.gold_prob) if self.lang_weights == "renormalised" else (lambda q: q.per_token_prob)
        return {lang: float(np.mean([pick(q) for q in fact.for_lang(self.baseline, lang)])) for lang in langs}

    def localize(self, fact: FactAttributions, reference: Optional[Localization] = None, salt: str = "") -> Localization:
        langs = fact.langs(self.baseline)
        if not langs:
            return Localization({}, [])
        lang_scores = {lang: self.language_score(fact, lang) for lang in langs}
        lang_probs = self.lang_probs(fact, langs)
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

    def rank(self, fact: FactAttributions, salt: str = "") -> Ranking:
        """Per language S_l, language-agnostic S: the scores its thresholds cut."""
        langs = fact.langs(self.baseline)
        if not langs:
            return Ranking(fact.layers)
        lang_scores = {lang: self.language_score(fact, lang) for lang in langs}
        lang_probs = self.lang_probs(fact, langs)
        return Ranking(fact.layers, lang_scores, self.combined_score(lang_scores, lang_probs))
