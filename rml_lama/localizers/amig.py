"""AMIG (Chen et al., AAAI 2024): masked-average baseline, one query per language, per-language thresholds.

As their code does it (`amig`): the baseline replaces every input position in turn, special tokens and the
answer slot included, and the integrated gradient is multiplied by the activation w. Our integrated-gradients
form (`amig-ig`): context tokens only, multiplied by (w - b), so the scores sum to the probability change."""
from __future__ import annotations

from typing import Optional

import numpy as np

from .base import (
    AMIG_AUTHORS,
    FactAttributions,
    Localization,
    Localizer,
    intersection,
    mask_to_neurons,
    normalise_by_max,
)
from .budget import Ranking, min_over_langs


class Amig(Localizer):
    """Chen et al.: attribution with the AMIG baseline (average of the activations with each input token in
    turn replaced by the mask / end-of-text token) on the first query of each language; neurons of a
    language have attribution > `thresholds[lang]` x max (`default_threshold` for languages not listed);
    language-independent neurons = intersection of the per-language sets.

    thresholds: per-language fractions of the maximum (Chen et al.: en 0.3, zh 0.2).
    default_threshold: fraction used for the other languages.
    baseline: attribution kind read: "amig-authors" (their code, default) or "amig" (integrated-gradients form).
    """

    name = "amig"
    description = ("Chen et al. AMIG as their code: every position masked in turn (baseline), times w; one query per "
                   "language, intersection across languages")
    queries_per_lang = 2  # AMIG reads the first query per language; the second gives its other stability half

    def __init__(self, thresholds: Optional[dict[str, float]] = None, default_threshold: float = 0.2,
                 baseline: str = AMIG_AUTHORS):
        self.thresholds = dict(thresholds) if thresholds is not None else {"en": 0.3, "zh": 0.2}
        self.default_threshold = default_threshold
        self.baseline = baseline

    @property
    def baselines(self) -> tuple[str, ...]:  # type: ignore[override]
        return (self.baseline,)

    def threshold(self, lang: str) -> float:
        return self.thresholds.get(lang, self.default_threshold)

    def localize(self, fact: FactAttributions, reference: Optional[Localization] = None, salt: str = "") -> Localization:
        per_lang, per_lang_scores = {}, {}
        for lang in fact.langs(self.baseline):
            normalised = normalise_by_max(fact.for_lang(self.baseline, lang)[0].scores)
            per_lang[lang], per_lang_scores[lang] = mask_to_neurons(fact, normalised > self.threshold(lang), normalised)
        agnostic = intersection(list(per_lang.values()))
        agnostic_scores = [
            float(np.mean([per_lang_scores[lang][per_lang[lang].index(n)] for lang in per_lang])) for n in agnostic
        ]
        return Localization(per_lang, agnostic, per_lang_scores, agnostic_scores)

    def rank(self, fact: FactAttributions, salt: str = "") -> Ranking:
        """Per language: the normalised attribution of its first query; language-agnostic: the minimum over
        languages (the ranking whose cut is Chen et al.'s intersection)."""
        per_lang = {lang: normalise_by_max(fact.for_lang(self.baseline, lang)[0].scores)
                    for lang in fact.langs(self.baseline)}
        return Ranking(fact.layers, per_lang, min_over_langs(per_lang))
