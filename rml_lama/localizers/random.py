"""Random baseline: as many neurons as a reference localizer (MATRICE) found, drawn with a seed."""
from __future__ import annotations

from typing import Optional

from ..errors import RmlLamaError
from .base import FactAttributions, Localization, Localizer, Neuron, seeded_rng


class RandomNeurons(Localizer):
    """Draw, uniformly without replacement over the attributed layers x d_ff, as many language-agnostic
    neurons as the reference found, then for each language as many further neurons as the reference's
    language-specific ones (so every count matches). Determined by `seed`, the fact id and `salt`.

    seed: the run's seed. reference: registry name of the localizer whose counts are matched.
    """

    name = "random"
    description = "random neurons, as many as MATRICE found (per language and agnostic), seeded"
    baselines = ()
    needs_reference = True

    def __init__(self, seed: int = 0, reference: str = "matrice"):
        self.seed = seed
        self.reference = reference

    def localize(
        self, fact: FactAttributions, reference: Optional[Localization] = None, salt: str = ""
    ) -> Localization:
        if reference is None:
            raise RmlLamaError(f"the random localizer needs the {self.reference!r} localization of the fact")
        rng = seeded_rng(self.seed, fact.fact_id, salt)
        total = len(fact.layers) * fact.d_ff
        counts = [len(reference.agnostic)] + [len(ns) for ns in reference.specific.values()]
        drawn = rng.choice(total, size=min(sum(counts), total), replace=False)
        to_neuron = lambda flat: fact.neuron(int(flat) // fact.d_ff, int(flat) % fact.d_ff)  # noqa: E731
        neurons: list[Neuron] = [to_neuron(flat) for flat in drawn]
        agnostic = sorted(neurons[: counts[0]])
        per_lang, start = {}, counts[0]
        for lang, count in zip(reference.specific, counts[1:]):
            per_lang[lang] = sorted(agnostic + neurons[start : start + count])
            start += count
        return Localization(
            per_lang,
            agnostic,
            {lang: [0.0] * len(ns) for lang, ns in per_lang.items()},
            [0.0] * len(agnostic),
        )
