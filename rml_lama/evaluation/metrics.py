"""Scores of a localization: interventions, accuracy by candidate ranking, stability, overlap, ground truth,
and bootstrap confidence intervals over facts.

Pure functions of numbers and neuron lists: nothing here touches a model (scoring under interventions is
rml_lama.probing.ranking, driven by rml_lama.evaluation.scoring).
"""
from __future__ import annotations

import itertools
import math
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Optional

import numpy as np

from ..localizers.base import Localization, Neuron

SUPPRESS = 0.0
ENHANCE = 2.0
INTERVENTIONS = {"suppress": SUPPRESS, "enhance": ENHANCE}


# ------------------------------------------------------------------------------------------ elementary
def relative_changes(before: Sequence[float], after: Sequence[float]) -> np.ndarray:
    """(P_after - P_before) / P_before per query; NaN where P_before is 0 (undefined, left out of means)."""
    before_arr = np.asarray(before, dtype=np.float64)
    after_arr = np.asarray(after, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(before_arr > 0.0, (after_arr - before_arr) / before_arr, np.nan)


def nan_mean(values: Iterable[Optional[float]]) -> Optional[float]:
    """Mean of the finite values; None when there are none."""
    finite = [float(v) for v in values if v is not None and math.isfinite(float(v))]
    return float(np.mean(finite)) if finite else None


def mean_relative_change(before: Sequence[float], after: Sequence[float], min_prob: float = 0.0) -> Optional[float]:
    """Dai et al.'s metric: mean relative change of the gold probability over the queries whose probability
    before is at least `min_prob` (below it the ratio is noise: 1e-9 -> 1e-6 is +100,000%)."""
    before_arr = np.asarray(before, dtype=np.float64)
    changes = relative_changes(before_arr, after)
    return nan_mean(changes[before_arr >= min_prob]) if changes.size else None


def accuracy(ranks: Sequence[int]) -> Optional[float]:
    """Share of queries whose gold answer is ranked first (rank 0) among the candidates; None if no queries."""
    ranks_arr = np.asarray(ranks)
    return float(np.mean(ranks_arr == 0)) if ranks_arr.size else None


def jaccard(a: Iterable[Neuron], b: Iterable[Neuron]) -> Optional[float]:
    """|a & b| / |a | b|; None when both are empty (stability is undefined when nothing was found twice)."""
    set_a, set_b = set(map(tuple, a)), set(map(tuple, b))
    union = set_a | set_b
    return len(set_a & set_b) / len(union) if union else None


def layer_distribution(neurons: Iterable[Neuron]) -> dict[str, int]:
    """Number of neurons per layer (keys are layer numbers as strings, for JSON)."""
    counts = Counter(int(layer) for layer, _ in neurons)
    return {str(layer): counts[layer] for layer in sorted(counts)}


def language_overlap(per_lang: dict[str, list[Neuron]]) -> dict[str, Optional[float]]:
    """Jaccard overlap of the neuron sets of every pair of languages, keyed "l1-l2" (pairs in given order)."""
    return {f"{a}-{b}": jaccard(per_lang[a], per_lang[b]) for a, b in itertools.combinations(per_lang, 2)}


def stability(first: Localization, second: Localization) -> dict[str, Optional[float]]:
    """Jaccard of the neuron sets found from two disjoint halves of the rephrasings: language-agnostic sets,
    and the mean over languages of the per-language sets (languages present in both halves)."""
    langs = [lang for lang in first.per_lang if lang in second.per_lang]
    return {
        "agnostic": jaccard(first.agnostic, second.agnostic),
        "per_lang": nan_mean(jaccard(first.per_lang[lang], second.per_lang[lang]) for lang in langs),
    }


def neuron_counts(localization: Localization) -> dict:
    """Neurons per fact: agnostic, union of all, and per language (total and specific)."""
    specific = localization.specific
    return {
        "agnostic": len(localization.agnostic),
        "all": len(localization.all_neurons()),
        "per_lang": {lang: len(ns) for lang, ns in localization.per_lang.items()},
        "specific": {lang: len(ns) for lang, ns in specific.items()},
        "mean_per_lang": nan_mean(len(ns) for ns in localization.per_lang.values()),
        "mean_specific": nan_mean(len(ns) for ns in specific.values()),
    }


# ------------------------------------------------------------------------------------ bootstrap (facts)
def bootstrap_ci(
    values: Iterable[Optional[float]], n_boot: int = 1000, seed: int = 0, level: float = 0.95
) -> dict[str, Optional[float]]:
    """Mean over facts with a percentile bootstrap interval (facts resampled with replacement, seeded).

    Values that are None or NaN are left out; `n` is the number of facts used."""
    finite = np.asarray([float(v) for v in values if v is not None and math.isfinite(float(v))], dtype=np.float64)
    if finite.size == 0:
        return {"mean": None, "low": None, "high": None, "n": 0}
    mean = float(finite.mean())
    if finite.size == 1:
        return {"mean": mean, "low": mean, "high": mean, "n": 1}
    rng = np.random.default_rng(seed)
    samples = rng.integers(0, finite.size, size=(n_boot, finite.size))
    means = finite[samples].mean(axis=1)
    tail = (1.0 - level) / 2.0
    return {
        "mean": mean,
        "low": float(np.quantile(means, tail)),
        "high": float(np.quantile(means, 1.0 - tail)),
        "n": int(finite.size),
    }


# --------------------------------------------------------------------------------------- ground truth
def _neurons(pairs: Iterable) -> set[Neuron]:
    return {(int(layer), int(index)) for layer, index in pairs}


def _decoys(plants: list[dict]) -> set[Neuron]:
    return set().union(*(_neurons(plant.get("decoys", [])) for plant in plants))


def decoys_avoided(found: Iterable[Neuron], plants: list[dict]) -> Optional[float]:
    """Share of the plants' decoy neurons (they fire with the fact but write nothing) NOT among `found`; None
    when the plants have no decoys. 1.0 is best: a localizer that follows activations, not effects, scores low."""
    decoys = _decoys(plants)
    if not decoys:
        return None
    return len(decoys - set(map(tuple, found))) / len(decoys)


PARTIAL_AGNOSTIC = "partial_agnostic"


def scored_kind(plant: dict, localized: Iterable[str]) -> str:
    """The kind a plant is judged as: an agnostic plant written in fewer languages than were localized (partial:
    its detector could not read the fact in the others) cannot be shared by all of them, so it is judged as a
    plant of its own languages, like a script-group plant, under its own name (`partial_agnostic`)."""
    if plant["kind"] == "agnostic" and not set(localized) <= set(plant["langs"]):
        return PARTIAL_AGNOSTIC
    return plant["kind"]


def ground_truth_scores(localization: Localization, plants: list[dict]) -> dict:
    """Precision and recall of planted neurons for one fact, whether their kind was told apart, and decoys.

    plants: the fact's entries of truth.json ({"kind": "agnostic" | "specific", "langs": [...], "neurons":
    [[layer, index], ...], "decoys": [[layer, index], ...]}). A planted neuron is *found* if it is in any of the
    localizer's sets; its kind is *right* if an agnostic plant is among the agnostic neurons, or any other plant
    (a partial agnostic one included, see `scored_kind`) is among the specific neurons of one of its languages
    and not agnostic. precision = planted found / all neurons found; decoys_avoided = share of decoys in none of
    the sets (None without decoys).
    """
    found = set(localization.all_neurons())
    agnostic = set(localization.agnostic)
    specific = {lang: set(ns) for lang, ns in localization.specific.items()}
    planted: set[Neuron] = set()
    by_kind: dict[str, list[tuple[Neuron, bool, bool]]] = {"agnostic": [], "specific": []}
    for plant in plants:
        kind = scored_kind(plant, localization.per_lang)
        for neuron in sorted(_neurons(plant["neurons"])):
            planted.add(neuron)
            if kind == "agnostic":
                right_kind = neuron in agnostic
            else:
                right_kind = neuron not in agnostic and any(neuron in specific.get(lang, ()) for lang in plant["langs"])
            by_kind.setdefault(kind, []).append((neuron, neuron in found, right_kind))
    hits = planted & found
    result = {
        "planted": len(planted),
        "recall": len(hits) / len(planted) if planted else None,
        "precision": len(hits) / len(found) if found else None,
        "decoys": len(_decoys(plants)),
        "decoys_avoided": decoys_avoided(found, plants),
    }
    for kind, rows in by_kind.items():
        result[f"recall_{kind}"] = float(np.mean([r[1] for r in rows])) if rows else None
        result[f"kind_right_{kind}"] = float(np.mean([r[2] for r in rows])) if rows else None
    return result


def plant_at_budget(budget: Localization, plant: dict) -> Optional[dict]:
    """One plant scored against one budgeted localization (exactly k neurons per localization language and k
    agnostic ones); None when no set matches the plant (a language-bound plant none of whose languages was
    localized).

    The sets that match the plant's kind: an agnostic plant, the agnostic top-k; any other plant (a partial
    agnostic one included, `scored_kind`), the top-k of each of its languages (`langs`, where it was written,
    whether or not it took there) that was localized.
    Over those sets:
    precision@k = planted neurons in the set / neurons in the set, recall@k = planted neurons in the set /
    planted neurons, each averaged over the sets. kind_right: agnostic, the share of its neurons in the agnostic
    top-k; distributed, the share of its neurons found (= recall@k); script / specific / partial agnostic, the
    share of (neuron, language) pairs where the neuron is in that language's top-k and neither in the agnostic
    top-k nor in the top-k of a localized language the plant does not cover."""
    neurons = _neurons(plant["neurons"])
    agnostic = set(budget.agnostic)
    per_lang = {lang: set(found) for lang, found in budget.per_lang.items()}
    kind = scored_kind(plant, per_lang)
    if kind == "agnostic":
        sets = [agnostic]
    else:
        sets = [per_lang[lang] for lang in plant["langs"] if lang in per_lang]
    if not neurons or not sets:
        return None
    precision = nan_mean(len(neurons & chosen) / len(chosen) if chosen else None for chosen in sets)
    recall = float(np.mean([len(neurons & chosen) / len(neurons) for chosen in sets]))
    if kind in ("agnostic", "distributed"):
        kind_right = recall
    else:
        elsewhere = agnostic.union(*(found for lang, found in per_lang.items() if lang not in plant["langs"]))
        kind_right = float(np.mean([neuron in chosen and neuron not in elsewhere
                                    for chosen in sets for neuron in sorted(neurons)]))
    return {"precision": precision, "recall": recall, "kind_right": kind_right}


def planted_at_budget(budget: Localization, plants: list[dict]) -> dict:
    """A fact's plants scored against one budgeted localization (see `plant_at_budget`): precision@k, recall@k
    and kind_right averaged over the fact's scorable plants (`plants`: how many), kind_right per kind of
    those plants (`kind_right_<kind>`), and decoys_avoided (share of those plants' decoys in none of the
    budget's sets, agnostic or any language's; None without decoys)."""
    scored = [(plant, plant_at_budget(budget, plant)) for plant in plants]
    scored = [(plant, scores) for plant, scores in scored if scores is not None]
    result: dict[str, Optional[float]] = {
        "plants": float(len(scored)),
        **{key: nan_mean(scores[key] for _, scores in scored) for key in ("precision", "recall", "kind_right")},
        "decoys_avoided": decoys_avoided(budget.all_neurons(), [plant for plant, _ in scored]),
    }
    kinds = [scored_kind(plant, budget.per_lang) for plant, _ in scored]
    for kind in sorted(set(kinds)):
        result[f"kind_right_{kind}"] = nan_mean(scores["kind_right"] for (_, scores), of in zip(scored, kinds)
                                                if of == kind)
    return result


# ------------------------------------------------------------------------- effects and paired statistics
def log_prob_changes(before: Sequence[float], after: Sequence[float]) -> np.ndarray:
    """The primary effect per query: change of the gold answer's mean per-token log-probability,
    log P_after - log P_before (nats per answer token; comparable across languages whose answers have
    different token counts, and symmetric: halving and doubling are -0.69 and +0.69)."""
    return np.asarray(after, dtype=np.float64) - np.asarray(before, dtype=np.float64)


def describe(values: Iterable[Optional[float]], n_boot: int = 1000, seed: int = 0, level: float = 0.95) -> dict:
    """Mean with its percentile bootstrap interval over facts, the median beside it, and n."""
    finite = _finite(values)
    result = bootstrap_ci(finite, n_boot=n_boot, seed=seed, level=level)
    result["median"] = float(np.median(finite)) if finite.size else None
    return result


def _finite(values: Iterable[Optional[float]]) -> np.ndarray:
    return np.asarray([float(v) for v in values if v is not None and math.isfinite(float(v))], dtype=np.float64)


def paired_bootstrap(first: dict, second: dict, n_boot: int = 1000, seed: int = 0, level: float = 0.95) -> dict:
    """Difference first - second over the facts where both are defined (keys: fact ids), with a percentile
    bootstrap interval that resamples facts (the same resampled facts for both: the pairing removes the
    between-fact spread that independent intervals carry). Returns mean, low, high, median, n."""
    keys = sorted(k for k in first.keys() & second.keys()
                  if first[k] is not None and second[k] is not None
                  and math.isfinite(float(first[k])) and math.isfinite(float(second[k])))
    diffs = np.asarray([float(first[k]) - float(second[k]) for k in keys], dtype=np.float64)
    return describe(diffs, n_boot=n_boot, seed=seed, level=level)


def ratio_of_means(numerator: dict, denominator: dict, n_boot: int = 1000, seed: int = 0,
                   level: float = 0.95) -> dict:
    """mean(numerator) / mean(denominator) over the facts where both are defined, with a paired percentile
    bootstrap interval (facts resampled together). Oracle recovery: a localizer's mean effect over the
    oracle's mean effect at the same k. None when the denominator's mean is 0."""
    keys = sorted(k for k in numerator.keys() & denominator.keys()
                  if numerator[k] is not None and denominator[k] is not None
                  and math.isfinite(float(numerator[k])) and math.isfinite(float(denominator[k])))
    if not keys:
        return {"mean": None, "low": None, "high": None, "n": 0}
    top = np.asarray([float(numerator[k]) for k in keys])
    bottom = np.asarray([float(denominator[k]) for k in keys])
    if bottom.mean() == 0.0:
        return {"mean": None, "low": None, "high": None, "n": len(keys)}
    ratio = float(top.mean() / bottom.mean())
    if len(keys) == 1:
        return {"mean": ratio, "low": ratio, "high": ratio, "n": 1}
    rng = np.random.default_rng(seed)
    samples = rng.integers(0, len(keys), size=(n_boot, len(keys)))
    with np.errstate(divide="ignore", invalid="ignore"):
        ratios = top[samples].mean(axis=1) / bottom[samples].mean(axis=1)
    ratios = ratios[np.isfinite(ratios)]
    tail = (1.0 - level) / 2.0
    return {"mean": ratio, "low": float(np.quantile(ratios, tail)), "high": float(np.quantile(ratios, 1 - tail)),
            "n": len(keys)}
