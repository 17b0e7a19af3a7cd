"""Registry of knowledge-neuron localizers: `LOCALIZERS[name].create(seed=...)` gives a configured localizer.

Every localizer maps one fact's attributions (`FactAttributions`) to a `Localization`: neurons per language,
language-agnostic neurons, language-specific neurons and their scores. The math of each is in
docs/localizers.md and in the class docstrings.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..errors import RmlLamaError
from .activation import ActivationNeurons
from .amig import Amig
from .base import (
    ACTIVATION,
    AMIG_AUTHORS,
    AMIG_BASELINE,
    ZERO_BASELINE,
    FactAttributions,
    Localization,
    Localizer,
    Neuron,
    QueryScores,
)
from .kn import KnowledgeNeurons
from .matrice import Matrice
from .random import RandomNeurons


@dataclass(frozen=True)
class LocalizerEntry:
    """A registered localizer: its class and the parameters that make this entry (e.g. an ablation)."""

    name: str
    description: str
    factory: Callable[..., Localizer]
    params: dict[str, Any] = field(default_factory=dict)
    seeded: bool = False

    def create(self, seed: int = 0, **overrides: Any) -> Localizer:
        params = {**self.params, **overrides}
        if self.seeded:
            params.setdefault("seed", seed)
        localizer = self.factory(**params)
        localizer.name = self.name
        return localizer


LOCALIZERS: dict[str, LocalizerEntry] = {
    entry.name: entry
    for entry in (
        LocalizerEntry("matrice", Matrice.description, Matrice),
        LocalizerEntry(
            "matrice-no-query-unc", "MATRICE ablation: no uncertainty across queries (plain mean)",
            Matrice, {"query_uncertainty": False},
        ),
        LocalizerEntry(
            "matrice-no-lang-unc", "MATRICE ablation: no uncertainty across languages (plain mean)",
            Matrice, {"lang_uncertainty": False},
        ),
        LocalizerEntry("matrice-zero", "MATRICE ablation: zero baseline instead of the sequential AMIG-style one",
                       Matrice, {"baseline": ZERO_BASELINE}),
        LocalizerEntry("matrice-renorm", "MATRICE ablation: language weights renormalised over languages (the old "
                       "rule: a fact known in one language only gets that language's neurons as LAKNs)",
                       Matrice, {"lang_weights": "renormalised"}),
        LocalizerEntry("amig", Amig.description, Amig),
        LocalizerEntry("amig-ig", "AMIG in integrated-gradients form: context tokens replaced, times (w - b)",
                       Amig, {"baseline": AMIG_BASELINE}),
        LocalizerEntry("kn", KnowledgeNeurons.description, KnowledgeNeurons),
        LocalizerEntry("kn-retuned", "KN with Dai et al.'s retuning of p until 2-5 neurons per language",
                       KnowledgeNeurons, {"retune": (2, 5)}),
        LocalizerEntry("activation", ActivationNeurons.description, ActivationNeurons),
        LocalizerEntry("random", RandomNeurons.description, RandomNeurons, seeded=True),
    )
}


def get_localizer(name: str, seed: int = 0) -> Localizer:
    """The registered localizer `name`; an unknown name is a RmlLamaError listing the known ones."""
    try:
        entry = LOCALIZERS[name]
    except KeyError:
        raise RmlLamaError(f"unknown localizer {name!r}; known: {', '.join(LOCALIZERS)}") from None
    return entry.create(seed=seed)


__all__ = [
    "ACTIVATION",
    "AMIG_AUTHORS",
    "AMIG_BASELINE",
    "ZERO_BASELINE",
    "FactAttributions",
    "LOCALIZERS",
    "Localization",
    "Localizer",
    "LocalizerEntry",
    "Neuron",
    "QueryScores",
    "get_localizer",
    "ActivationNeurons",
    "Amig",
    "KnowledgeNeurons",
    "Matrice",
    "RandomNeurons",
]
