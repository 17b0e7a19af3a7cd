"""Localizing one fact: its attributions, computed once per baseline and shared, and every localizer run on
them (from all queries and from the two halves, for stability), each given exactly what it declares it needs."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Optional

import numpy as np

from ..localizers import LOCALIZERS, FactAttributions, Localization, Localizer, QueryScores
from ..localizers.base import ATTRIBUTION_KINDS
from ..probing.attribution import attribute
from ..probing.targets import probes_of
from .options import EvalOptions
from .sampling import FactQueries


def fact_attributions(bundle, fact: FactQueries, langs: Sequence[str], baselines: dict[str, Optional[int]],
                      options: EvalOptions) -> FactAttributions:
    """Attributions of the fact's queries in `langs` for each baseline (value: queries per language, None = all)."""

    result: Optional[FactAttributions] = None
    queries: dict[str, dict[str, list[QueryScores]]] = {}
    for baseline, per_lang in baselines.items():
        chosen = {lang: fact.by_lang[lang][:per_lang] if per_lang else fact.by_lang[lang] for lang in langs}
        flat = [(lang, pair) for lang in langs for pair in chosen[lang]]
        attributions = attribute(
            bundle, probes_of([pair for _, pair in flat]), steps=options.steps, **ATTRIBUTION_KINDS[baseline],
            layers=list(options.layers) if options.layers else None,
            internal_batch_size=options.internal_batch_size,
        )
        queries[baseline] = {lang: [] for lang in langs}
        for (lang, _), attribution in zip(flat, attributions):
            scores = attribution.scores.detach().to("cpu").double().numpy()
            token_prob = float(np.exp(np.mean(np.log(np.maximum(attribution.token_probs, 1e-300)))))
            queries[baseline][lang].append(QueryScores(scores, float(attribution.gold_prob), token_prob))
        if result is None:
            result = FactAttributions(fact.fact_id, tuple(int(x) for x in attributions[0].layers), scores.shape[1])
    assert result is not None
    result.queries = queries
    return result


def needed_baselines(localizers: Sequence[Localizer]) -> dict[str, Optional[int]]:
    """Baseline -> queries per language to attribute (None = all): the most any localizer reading it declares."""
    needed: dict[str, Optional[int]] = {}
    for localizer in localizers:
        want = localizer.queries_per_lang
        for baseline in localizer.baselines:
            if baseline not in needed:
                needed[baseline] = want
            elif needed[baseline] is None or want is None:
                needed[baseline] = None
            else:
                needed[baseline] = max(needed[baseline], want)
    return needed


HALF_SALTS = ("", "half0", "half1")  # all queries, even positions, odd positions


def localize_all(localizer: Localizer, attributions: FactAttributions,
                 reference: Optional[tuple[Localization, ...]] = None) -> tuple[Localization, ...]:
    """The localizations from all queries and from the two halves (for stability); `reference` holds the
    reference localizer's three localizations when the localizer declares one."""
    parts = (attributions, attributions.half(0), attributions.half(1))
    references = reference or (None,) * len(parts)
    return tuple(localizer.localize(part, ref, salt) for part, ref, salt in zip(parts, references, HALF_SALTS))


@dataclass
class LocalizerSet:
    """The localizers of a run and the reference localizers they declare, created once with the run's seed."""

    localizers: list[Localizer]
    references: dict[str, Localizer] = field(default_factory=dict)

    @classmethod
    def create(cls, names: Sequence[str], seed: int) -> LocalizerSet:
        localizers = [LOCALIZERS[name].create(seed=seed) for name in names]
        wanted = dict.fromkeys(loc.reference_localizer for loc in localizers if loc.reference_localizer)
        return cls(localizers, {name: LOCALIZERS[name].create(seed=seed) for name in wanted})

    def baselines(self) -> dict[str, Optional[int]]:
        return needed_baselines(self.localizers + list(self.references.values()))

    def reference_results(self, attributions: FactAttributions) -> dict[str, tuple[Localization, ...]]:
        return {name: localize_all(ref, attributions) for name, ref in self.references.items()}
