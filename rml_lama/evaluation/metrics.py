"""Scores of a localization: interventions, accuracy by candidate ranking, stability, overlap, ground truth,
and bootstrap confidence intervals over facts.

The pure functions here take numbers and neuron lists; the model-side ones (`intervention_probs`,
`intervention_ranks`) take a model bundle and import the model API lazily.
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
def ground_truth_scores(localization: Localization, plants: list[dict]) -> dict:
    """Precision and recall of planted neurons for one fact, and whether their kind was told apart.

    plants: the fact's entries of truth.json ({"kind": "agnostic" | "specific", "langs": [...], "neurons":
    [[layer, index], ...]}). A planted neuron is *found* if it is in any of the localizer's sets; its kind is
    *right* if an agnostic plant is among the agnostic neurons, or a specific plant is among the specific
    neurons of one of its languages and not agnostic. precision = planted found / all neurons found.
    """
    found = set(localization.all_neurons())
    agnostic = set(localization.agnostic)
    specific = {lang: set(ns) for lang, ns in localization.specific.items()}
    planted: set[Neuron] = set()
    by_kind: dict[str, list[tuple[Neuron, bool, bool]]] = {"agnostic": [], "specific": []}
    for plant in plants:
        for layer, index in plant["neurons"]:
            neuron = (int(layer), int(index))
            planted.add(neuron)
            if plant["kind"] == "agnostic":
                right_kind = neuron in agnostic
            else:
                right_kind = neuron not in agnostic and any(neuron in specific.get(lang, ()) for lang in plant["langs"])
            by_kind.setdefault(plant["kind"], []).append((neuron, neuron in found, right_kind))
    hits = planted & found
    result = {
        "planted": len(planted),
        "recall": len(hits) / len(planted) if planted else None,
        "precision": len(hits) / len(found) if found else None,
    }
    for kind, rows in by_kind.items():
        result[f"recall_{kind}"] = float(np.mean([r[1] for r in rows])) if rows else None
        result[f"kind_right_{kind}"] = float(np.mean([r[2] for r in rows])) if rows else None
    return result


# ------------------------------------------------------------------------------ model-side interventions
def neuron_map(neurons: Iterable[Neuron]) -> dict[int, list[int]]:
    """{layer: [indices]} as the model API's `scale_neurons` takes it."""
    by_layer: dict[int, list[int]] = {}
    for layer, index in sorted(set(map(tuple, neurons))):
        by_layer.setdefault(int(layer), []).append(int(index))
    return by_layer


def intervention_probs(bundle, probes, neurons: Iterable[Neuron], factor: float, batch_size: int = 32) -> np.ndarray:
    """Gold probabilities of the probes with the neurons' activations multiplied by `factor`."""
    from ..models import scale_neurons
    from ..probing.targets import answer_probabilities

    by_layer = neuron_map(neurons)
    if not probes:
        return np.zeros(0)
    if not by_layer:
        return answer_probabilities(bundle, probes, batch_size=batch_size)
    with scale_neurons(bundle, by_layer, factor):
        return answer_probabilities(bundle, probes, batch_size=batch_size)


def intervention_ranks(bundle, probes, candidates: list[list[str]], neurons: Iterable[Neuron], factor: float):
    """Gold ranks among candidates (0 = first) with the neurons' activations multiplied by `factor`."""
    from ..models import scale_neurons
    from ..probing.targets import rank_candidates

    by_layer = neuron_map(neurons)
    if not probes:
        return np.zeros(0, dtype=int)
    if not by_layer:
        return rank_candidates(bundle, probes, candidates)
    with scale_neurons(bundle, by_layer, factor):
        return rank_candidates(bundle, probes, candidates)


def target_log_probs(bundle, encoded, batch_size: int = 32) -> list[np.ndarray]:
    """Per encoded probe, the float64 log-softmax over the vocabulary at each of its target positions
    ([k, vocab]), under whatever intervention is active. Encoders without a final norm (BERT family) apply the
    LM head at the target positions only; other models run their full forward."""
    import torch

    from ..models import target_positions
    from ..probing.targets import pad_batch

    adapter = bundle.adapter
    head_only_at_targets = bundle.kind == "masked" and adapter.final_norm(bundle.model) is None
    results: list[np.ndarray] = []
    for start in range(0, len(encoded), batch_size):
        chunk = list(encoded[start : start + batch_size])
        ids, attention, targets = pad_batch(bundle, chunk)
        with torch.no_grad(), target_positions(targets):
            if head_only_at_targets:
                hidden = bundle.model.base_model(input_ids=ids, attention_mask=attention)[0]
                picked = adapter.logits_from_final_hidden(bundle.model, hidden[targets])
            else:
                picked = bundle.model(input_ids=ids, attention_mask=attention).logits[targets]
        log_probs = torch.log_softmax(picked.to(torch.float64), dim=-1).cpu().numpy()
        offset = 0
        for item in chunk:  # targets[row] is true at exactly the item's (sorted) target positions
            k = len(item.target_positions)
            order = np.argsort(np.argsort(item.target_positions))
            results.append(log_probs[offset : offset + k][order])
            offset += k
    return results


class ProbeSet:
    """Probes encoded once, whose gold probabilities are then computed under any number of interventions."""

    def __init__(self, bundle, probes, batch_size: int = 32):
        from ..probing.targets import encode_probes

        self.bundle, self.batch_size = bundle, batch_size
        self.encoded = encode_probes(bundle, list(probes)) if probes else []

    def probs_with(self, neurons: Iterable[Neuron], factor: float, indices: Optional[Sequence[int]] = None) -> np.ndarray:
        """Joint probability of each gold answer (product over its tokens, as `answer_probabilities(...,
        aggregation="sum")`) with the neurons' activations multiplied by `factor`."""
        from ..models import scale_neurons

        indices = list(range(len(self.encoded))) if indices is None else list(indices)
        items = [self.encoded[i] for i in indices]
        if not items:
            return np.zeros(0)
        by_layer = neuron_map(neurons)
        if by_layer:
            with scale_neurons(self.bundle, by_layer, factor):
                log_probs = target_log_probs(self.bundle, items, self.batch_size)
        else:
            log_probs = target_log_probs(self.bundle, items, self.batch_size)
        return np.array([np.exp(np.sum(lp[np.arange(len(item.answer_ids)), list(item.answer_ids)]))
                         for lp, item in zip(log_probs, items)], dtype=np.float64)


class CandidateRanker:
    """Gold ranks among candidate objects (0 = first; ties count for the gold), by mean per-token
    log-probability: the same ranking as `targets.rank_candidates`, computed faster for masked LMs.

    A masked LM sees the same input for every candidate with the same number of tokens (k mask tokens in the
    slot), so one forward per (probe, k) scores all of them; encodings are made once and reused under every
    intervention. Causal LMs (teacher-forced candidates) use `targets.rank_candidates`.
    """

    def __init__(self, bundle, probes, candidates_per_probe: list[list[str]], batch_size: int = 32):
        from ..errors import RmlLamaError
        from ..probing.targets import Probe, encode_probes

        self.bundle, self.probes, self.candidates = bundle, list(probes), [list(c) for c in candidates_per_probe]
        self.batch_size = batch_size
        self.masked = getattr(bundle, "kind", "masked") == "masked"
        self.rows: list = []  # one encoded input per (probe, k)
        self.plan: list[tuple[list[tuple[int, tuple[int, ...]]], int]] = []  # per probe: [(row, answer ids)], gold
        if not self.masked:
            return
        for probe, candidates in zip(self.probes, self.candidates):
            by_length: dict[int, int] = {}
            scored, gold = [], -1
            for candidate in candidates:
                try:
                    encoded = encode_probes(bundle, [Probe(probe.query, candidate)])[0]
                except RmlLamaError:
                    if candidate == probe.answer:
                        raise
                    continue  # a candidate the tokenizer cannot encode cannot be produced: never outranks the gold
                k = len(encoded.answer_ids)
                if k not in by_length:
                    by_length[k] = len(self.rows)
                    self.rows.append(encoded)
                if candidate == probe.answer:
                    gold = len(scored)
                scored.append((by_length[k], encoded.answer_ids))
            self.plan.append((scored, gold))

    def _row_log_probs(self, rows: list[int]) -> dict[int, np.ndarray]:
        return dict(zip(rows, target_log_probs(self.bundle, [self.rows[r] for r in rows], self.batch_size)))

    def ranks(self, indices: Optional[Sequence[int]] = None) -> np.ndarray:
        """Ranks of the probes at `indices` (default all) under whatever intervention is active."""
        from ..probing.targets import rank_candidates

        indices = list(range(len(self.probes))) if indices is None else list(indices)
        if not indices:
            return np.zeros(0, dtype=np.int64)
        if not self.masked:
            return rank_candidates(self.bundle, [self.probes[i] for i in indices], [self.candidates[i] for i in indices])
        needed = sorted({row for i in indices for row, _ in self.plan[i][0]})
        log_probs = self._row_log_probs(needed)
        ranks = []
        for i in indices:
            scored, gold = self.plan[i]
            scores = np.array([np.mean(log_probs[row][np.arange(len(ids)), list(ids)]) for row, ids in scored])
            ranks.append(int(np.sum(scores > scores[gold])))
        return np.asarray(ranks, dtype=np.int64)

    def ranks_with(self, neurons: Iterable[Neuron], factor: float, indices: Optional[Sequence[int]] = None):
        """Ranks with the neurons' activations multiplied by `factor` (no neurons: the unmodified model)."""
        from ..models import scale_neurons

        by_layer = neuron_map(neurons)
        if not by_layer:
            return self.ranks(indices)
        with scale_neurons(self.bundle, by_layer, factor):
            return self.ranks(indices)
