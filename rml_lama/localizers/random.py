"""Random baseline: as many neurons as a reference localizer (MATRICE) found, drawn with a seed."""
from __future__ import annotations

from typing import Optional

from ..errors import RmlLamaError
from .base import FactAttributions, Localization, Localizer, Neuron, seeded_rng
from .budget import Ranking


class RandomNeurons(Localizer):
    """Draw, uniformly without replacement over the attributed layers x d_ff, as many language-agnostic
    neurons as the reference found; then for each language as many neurons as the reference's set of that
    language, with the same number taken from the drawn agnostic ones as the reference's set shares with its
    agnostic set (so LAKN, per-language and specific counts all match). Determined by `seed`, the fact id and
    `salt`.

    seed: the run's seed. reference: registry name of the localizer whose counts are matched.
    """

    name = "random"
    description = "random neurons: MATRICE's counts at threshold, k per language at a budget; seeded"
    baselines = ()

    def __init__(self, seed: int = 0, reference: str = "matrice"):
        self.seed = seed
        self.reference = reference

    @property
    def reference_localizer(self) -> str:  # type: ignore[override]
        return self.reference

    def localize(
        self, fact: FactAttributions, reference: Optional[Localization] = None, salt: str = ""
    ) -> Localization:
        if reference is None:
            raise RmlLamaError(f"the random localizer needs the {self.reference!r} localization of the fact")
        rng = seeded_rng(self.seed, fact.fact_id, salt)
        total = len(fact.layers) * fact.d_ff
        reference_agnostic = set(reference.agnostic)
        shared = {lang: len(reference_agnostic & set(ns)) for lang, ns in reference.per_lang.items()}
        specific = {lang: len(ns) for lang, ns in reference.specific.items()}
        wanted = len(reference.agnostic) + sum(specific.values())
        drawn = rng.choice(total, size=min(wanted, total), replace=False)
        neurons: list[Neuron] = [fact.neuron(int(flat) // fact.d_ff, int(flat) % fact.d_ff) for flat in drawn]
        agnostic = sorted(neurons[: len(reference.agnostic)])
        per_lang, start = {}, len(agnostic)
        for lang in reference.per_lang:
            picked = rng.choice(len(agnostic), size=shared[lang], replace=False) if shared[lang] else []
            own = neurons[start : start + specific[lang]]
            per_lang[lang] = sorted([agnostic[int(i)] for i in picked] + own)
            start += specific[lang]
        return Localization(
            per_lang,
            agnostic,
            {lang: [0.0] * len(ns) for lang, ns in per_lang.items()},
            [0.0] * len(agnostic),
        )

    def rank(self, fact: FactAttributions, salt: str = "", langs: Optional[list[str]] = None) -> Ranking:
        """Uniform random scores (seeded by the seed, the fact and `salt`, e.g. the draw): its top k is k neurons
        drawn without replacement, per language and for the agnostic set."""
        rng = seeded_rng(self.seed, fact.fact_id, "rank", salt)
        shape = (len(fact.layers), fact.d_ff)
        langs = langs if langs is not None else sorted({lang for by in fact.queries.values() for lang in by})
        return Ranking(fact.layers, {lang: rng.random(shape) for lang in langs}, rng.random(shape))
