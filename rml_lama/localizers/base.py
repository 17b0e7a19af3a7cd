"""What every localizer consumes (attribution scores of one fact) and returns (its neuron sets).

A neuron is `(layer, index)`: `layer` is the model's own layer number (not the position in a layer subset),
`index` the position in that layer's canonical FFN neuron vector (the input of the FFN output projection).
Localizers are pure functions of the scores: no model, no torch, so their math is tested on hand-made arrays.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Optional

import numpy as np

Neuron = tuple[int, int]

ZERO_BASELINE = "zero"
AMIG_BASELINE = "amig"  # the AMIG baseline in integrated-gradients form: context tokens replaced, times (w - b)
AMIG_AUTHORS = "amig-authors"  # as Chen et al.'s code: every position replaced (specials, slot), times w
ACTIVATION = "activation"  # no gradient: the natural activations at the answer (probing's method "activation")

# attribution kind (the key localizers declare in `baselines`) -> keyword arguments of probing.attribute
ATTRIBUTION_KINDS: dict[str, dict[str, str]] = {
    ZERO_BASELINE: {"baseline": "zero"},
    AMIG_BASELINE: {"baseline": "amig"},
    AMIG_AUTHORS: {"baseline": "amig-all", "multiplier": "activation"},
    ACTIVATION: {"method": "activation"},
}


@dataclass(frozen=True)
class QueryScores:
    """Integrated-gradients scores of one query: `[n_selected_layers, d_ff]`, the model's gold probability
    (joint over the answer's tokens) and its per-token probability exp(mean log p_t) (comparable across
    languages whose answers have different token counts; None: taken as gold_prob)."""

    scores: np.ndarray
    gold_prob: float
    token_prob: Optional[float] = None

    @property
    def per_token_prob(self) -> float:
        return self.gold_prob if self.token_prob is None else self.token_prob


@dataclass
class FactAttributions:
    """All attributions of one fact: baseline name -> language -> per-query scores, in a fixed query order.

    The order matters: halves for stability are the even and the odd positions, and a localizer that uses
    one query per language (AMIG) takes the first.
    """

    fact_id: str
    layers: tuple[int, ...]
    d_ff: int
    queries: dict[str, dict[str, list[QueryScores]]] = field(default_factory=dict)

    def langs(self, baseline: str) -> list[str]:
        """Languages that have at least one query under this baseline, in insertion order."""
        return [lang for lang, items in self.queries.get(baseline, {}).items() if items]

    def for_lang(self, baseline: str, lang: str) -> list[QueryScores]:
        return self.queries.get(baseline, {}).get(lang, [])

    def half(self, which: int) -> FactAttributions:
        """The queries at even (`which=0`) or odd (`which=1`) positions of every language and baseline."""
        return FactAttributions(
            self.fact_id,
            self.layers,
            self.d_ff,
            {
                baseline: {lang: items[which::2] for lang, items in by_lang.items()}
                for baseline, by_lang in self.queries.items()
            },
        )

    def neuron(self, row: int, index: int) -> Neuron:
        """The neuron at `row` of the score arrays (a position in `layers`) and `index`."""
        return (int(self.layers[row]), int(index))


@dataclass
class Localization:
    """The neurons a localizer found for one fact.

    per_lang: language -> neurons found for that language; agnostic: language-agnostic neurons;
    specific: language -> per_lang minus agnostic; *_scores: the localizer's score of each listed neuron
    (same order). Neuron lists are sorted by (layer, index).
    """

    per_lang: dict[str, list[Neuron]]
    agnostic: list[Neuron]
    per_lang_scores: dict[str, list[float]] = field(default_factory=dict)
    agnostic_scores: list[float] = field(default_factory=list)

    @property
    def specific(self) -> dict[str, list[Neuron]]:
        shared = set(self.agnostic)
        return {lang: [n for n in neurons if n not in shared] for lang, neurons in self.per_lang.items()}

    def all_neurons(self) -> list[Neuron]:
        found = set(self.agnostic)
        for neurons in self.per_lang.values():
            found.update(neurons)
        return sorted(found)

    def to_json(self) -> dict:
        return {
            "agnostic": [list(n) for n in self.agnostic],
            "agnostic_scores": [round(float(s), 6) for s in self.agnostic_scores],
            "per_lang": {lang: [list(n) for n in ns] for lang, ns in self.per_lang.items()},
            "per_lang_scores": {
                lang: [round(float(s), 6) for s in scores] for lang, scores in self.per_lang_scores.items()
            },
            "specific": {lang: [list(n) for n in ns] for lang, ns in self.specific.items()},
        }

    @classmethod
    def from_json(cls, obj: dict) -> Localization:
        return cls(
            per_lang={lang: [tuple(n) for n in ns] for lang, ns in obj["per_lang"].items()},
            agnostic=[tuple(n) for n in obj["agnostic"]],
            per_lang_scores={lang: list(s) for lang, s in obj.get("per_lang_scores", {}).items()},
            agnostic_scores=list(obj.get("agnostic_scores", [])),
        )


class Localizer:
    """Base class. A localizer declares what it needs, and the run loop provides exactly that:

    baselines            the attribution baselines it reads (empty: it reads no attributions)
    queries_per_lang     how many queries per language it reads (None: all of them)
    reference_localizer  registry name of the localizer whose result of the same fact `localize` receives
                         as `reference` (None: it needs none)

    `localize(fact, reference, salt)` is called with the fact's attributions; `salt` tells apart calls on parts
    of the same fact (the stability halves), for localizers that draw at random. Parameters are plain
    attributes set in `__init__`, listed by `params()`."""

    name = ""
    description = ""
    baselines: tuple[str, ...] = (ZERO_BASELINE,)
    queries_per_lang: Optional[int] = None
    reference_localizer: Optional[str] = None

    def localize(self, fact: FactAttributions, reference: Optional[Localization] = None, salt: str = "") -> Localization:
        raise NotImplementedError

    def rank(self, fact: FactAttributions, salt: str = ""):
        """The localizer's own score of every neuron (a `budget.Ranking`: per language and language-agnostic,
        higher = more likely a knowledge neuron), which equal-budget scoring cuts at the same k for everyone."""
        raise NotImplementedError

    def params(self) -> dict:
        return {key: _jsonable(value) for key, value in sorted(vars(self).items()) if not key.startswith("_")}


def _jsonable(value):
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in sorted(value.items())}
    if isinstance(value, (tuple, list)):
        return [_jsonable(v) for v in value]
    return value


# ----------------------------------------------------------------------------------------- shared math
def normalise_by_max(scores: np.ndarray) -> np.ndarray:
    """scores / max(scores), clipped to [-1, 1]; all zeros when no score is positive (nothing to select)."""
    scores = np.asarray(scores, dtype=np.float64)
    top = float(scores.max()) if scores.size else 0.0
    if not top > 0.0:
        return np.zeros_like(scores)
    return np.clip(scores / top, -1.0, 1.0)


def above_fraction_of_max(scores: np.ndarray, fraction: float) -> np.ndarray:
    """Boolean mask of scores strictly above `fraction` x max(scores); empty when max <= 0 (Dai's coarse rule)."""
    return normalise_by_max(scores) > fraction


def weighted_mean_std(stack: np.ndarray, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Weighted mean and (population) standard deviation over axis 0 of `stack` [n, ...]; weights sum to 1."""
    weights = np.asarray(weights, dtype=np.float64)
    shape = (-1,) + (1,) * (stack.ndim - 1)
    mean = np.sum(stack * weights.reshape(shape), axis=0)
    var = np.sum(((stack - mean) ** 2) * weights.reshape(shape), axis=0)
    return mean, np.sqrt(np.maximum(var, 0.0))


def confidence_weights(probs: list[float], use_confidence: bool) -> np.ndarray:
    """Weights proportional to the gold probabilities (uniform when off, or when every probability is 0)."""
    probs_arr = np.clip(np.asarray(probs, dtype=np.float64), 0.0, None)
    if not use_confidence or not probs_arr.sum() > 0.0:
        return np.full(len(probs_arr), 1.0 / len(probs_arr))
    return probs_arr / probs_arr.sum()


def mask_to_neurons(fact: FactAttributions, mask: np.ndarray, scores: np.ndarray) -> tuple[list[Neuron], list[float]]:
    """The neurons where `mask` is true, sorted by (layer, index), with their scores."""
    rows, cols = np.nonzero(mask)
    pairs = sorted((fact.neuron(r, c), float(scores[r, c])) for r, c in zip(rows, cols))
    return [p[0] for p in pairs], [p[1] for p in pairs]


def intersection(neuron_sets: list[list[Neuron]]) -> list[Neuron]:
    """Neurons in every set (empty when there are no sets)."""
    if not neuron_sets:
        return []
    common = set(neuron_sets[0])
    for neurons in neuron_sets[1:]:
        common &= set(neurons)
    return sorted(common)


def seeded_rng(seed: int, *parts: str) -> np.random.Generator:
    """A generator determined by the seed and the given strings (e.g. a fact id), stable across processes."""
    digest = hashlib.sha256(":".join([str(seed), *parts]).encode("utf-8")).digest()
    return np.random.default_rng(int.from_bytes(digest[:8], "little"))
