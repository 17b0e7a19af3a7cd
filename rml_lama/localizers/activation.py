"""Activation baseline: neurons ranked by how strongly they fire at the answer, no gradient (the decoy check)."""
from __future__ import annotations

from typing import Optional

import numpy as np

from .base import ACTIVATION, FactAttributions, Localization, Localizer, intersection, mask_to_neurons, normalise_by_max
from .budget import Ranking, min_over_langs


class ActivationNeurons(Localizer):
    """Per language, score each neuron by its mean natural activation (the input of the FFN output projection)
    at the answer positions over the language's queries, divided by the language's largest mean (scores <= 1);
    keep the neurons above `tau`. Language-agnostic neurons: above `tau` in every language (the intersection),
    scored by their weakest language.

    Sign: a neuron "fires" when its activation is large and positive, so neurons are ranked by the signed
    value: a strongly negative activation ranks last, not first. Nothing here asks whether the neuron writes
    anything: a neuron that fires on the fact but has a zero output column (a planted model's decoy) ranks as
    high as the planted one, which is what this baseline is for (the gradient-based localizers give such a
    neuron attribution 0).

    tau: threshold on the normalised mean activation, per language and in every language for the agnostic set.
    """

    name = "activation"
    description = "neurons by natural activation at the answer (no gradient): per language > tau x max, agnostic in all"
    baselines = (ACTIVATION,)

    def __init__(self, tau: float = 0.5):
        self.tau = tau

    def language_score(self, fact: FactAttributions, lang: str) -> np.ndarray:
        """The language's mean activation over its queries, relative to its largest (all zeros when none > 0)."""
        return normalise_by_max(np.mean([q.scores for q in fact.for_lang(ACTIVATION, lang)], axis=0))

    def localize(self, fact: FactAttributions, reference: Optional[Localization] = None, salt: str = "") -> Localization:
        lang_scores = {lang: self.language_score(fact, lang) for lang in fact.langs(ACTIVATION)}
        per_lang, per_lang_scores = {}, {}
        for lang, scores in lang_scores.items():
            per_lang[lang], per_lang_scores[lang] = mask_to_neurons(fact, scores > self.tau, scores)
        agnostic = intersection(list(per_lang.values()))
        weakest = min_over_langs(lang_scores)
        agnostic_scores = [float(weakest[fact.layers.index(layer), index]) for layer, index in agnostic]
        return Localization(per_lang, agnostic, per_lang_scores, agnostic_scores)

    def rank(self, fact: FactAttributions, salt: str = "") -> Ranking:
        """Per language the normalised mean activation; language-agnostic its minimum over languages (the ranking
        whose cut is the intersection)."""
        lang_scores = {lang: self.language_score(fact, lang) for lang in fact.langs(ACTIVATION)}
        return Ranking(fact.layers, lang_scores, min_over_langs(lang_scores))
