"""The one place that turns probes into gold probabilities and candidate ranks, under whatever intervention is
active (evaluation, training reports, planting and the applications all score through here).

Aggregation over the answer's tokens (one meaning per name; all agree for single-token answers):
  "sum"   sum of the tokens' log-probabilities, i.e. the joint probability prod_t p_t ("joint" is an alias),
  "mean"  mean of the tokens' probabilities,
  "first" probability of the first token.
Candidates are ranked by mean per-token log-probability (mLAMA's rule), ties counting for the gold answer.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Optional

import numpy as np

from ..errors import RmlLamaError
from ..models import scale_neurons, target_positions
from .targets import DEFAULT_MAX_ANSWER_TOKENS, EncodedProbe, Probe, encode_probes, pad_batch

AGGREGATIONS = ("sum", "joint", "mean", "first")

Neuron = tuple[int, int]  # (layer, index): the canonical FFN neuron (see rml_lama.models)


def neuron_map(neurons: Iterable[Neuron]) -> dict[int, list[int]]:
    """{layer: [indices]} as `rml_lama.models.scale_neurons` takes it."""
    by_layer: dict[int, list[int]] = {}
    for layer, index in sorted(set(map(tuple, neurons))):
        by_layer.setdefault(int(layer), []).append(int(index))
    return by_layer


def target_log_probs(bundle, encoded: Sequence[EncodedProbe], batch_size: int = 32) -> list[np.ndarray]:
    """Per encoded probe, the float64 log-softmax over the vocabulary at each of its target positions
    ([k, vocab]), under whatever intervention is active. Encoders without a final norm (BERT family) apply the
    LM head at the target positions only; other models run their full forward. The forward runs inside
    `target_positions(...)`, so `scale_neurons(..., positions="target")` acts on the answer positions."""
    import torch


    adapter = bundle.adapter
    head_only_at_targets = bundle.kind == "masked" and adapter.final_norm(bundle.model) is None
    bundle.model.eval()
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


def gold_token_log_probs(bundle, encoded: Sequence[EncodedProbe], batch_size: int = 32) -> list[np.ndarray]:
    """Per probe, the float64 log-probability of each gold answer token at its target position."""
    return [lp[np.arange(len(item.answer_ids)), list(item.answer_ids)]
            for lp, item in zip(target_log_probs(bundle, encoded, batch_size), encoded)]


def greedy_tokens(bundle, encoded: Sequence[EncodedProbe], batch_size: int = 32) -> list[tuple[int, ...]]:
    """The vocabulary argmax at each answer slot (the answer's length given): the model's unconstrained guess."""
    return [tuple(int(t) for t in lp.argmax(axis=-1)) for lp in target_log_probs(bundle, encoded, batch_size)]


def check_aggregation(aggregation: str) -> None:
    if aggregation not in AGGREGATIONS:
        raise RmlLamaError(f"unknown aggregation {aggregation!r}; choose one of {', '.join(AGGREGATIONS)}")


def aggregate_token_probs(token_log_prob: np.ndarray, aggregation: str) -> float:
    """One probability from an answer's per-token log-probabilities (see the module docstring)."""
    check_aggregation(aggregation)
    if aggregation in ("sum", "joint"):
        return float(np.exp(np.sum(token_log_prob)))
    if aggregation == "mean":
        return float(np.mean(np.exp(token_log_prob)))
    return float(np.exp(token_log_prob[0]))


def answer_probabilities(bundle, probes: Sequence[Probe], batch_size: int = 32, aggregation: str = "sum") -> np.ndarray:
    """The model's probability of each probe's gold answer (float64 array), aggregated as named."""
    check_aggregation(aggregation)
    encoded = encode_probes(bundle, probes)
    return np.array([aggregate_token_probs(lp, aggregation) for lp in gold_token_log_probs(bundle, encoded, batch_size)],
                    dtype=np.float64)


class ProbeSet:
    """Probes encoded once, whose gold probabilities are then computed under any number of interventions."""

    def __init__(self, bundle, probes, batch_size: int = 32):
        self.bundle, self.batch_size = bundle, batch_size
        self.encoded = encode_probes(bundle, list(probes)) if probes else []

    def log_probs_with(self, neurons: Iterable[Neuron], factor: float,
                       indices: Optional[Sequence[int]] = None) -> list[np.ndarray]:
        """Per-token gold log-probabilities of each probe with the neurons' activations multiplied by `factor`."""

        indices = list(range(len(self.encoded))) if indices is None else list(indices)
        items = [self.encoded[i] for i in indices]
        if not items:
            return []
        by_layer = neuron_map(neurons)
        if not by_layer:
            return gold_token_log_probs(self.bundle, items, self.batch_size)
        with scale_neurons(self.bundle, by_layer, factor):
            return gold_token_log_probs(self.bundle, items, self.batch_size)

    def probs_with(self, neurons: Iterable[Neuron], factor: float, indices: Optional[Sequence[int]] = None) -> np.ndarray:
        """Joint probability of each gold answer (product over its tokens) with the neurons' activations
        multiplied by `factor`."""
        return np.array([np.exp(np.sum(lp)) for lp in self.log_probs_with(neurons, factor, indices)], dtype=np.float64)


class CandidateRanker:
    """Gold ranks among candidate objects (0 = first; ties count for the gold), by mean per-token log-probability;
    encodings are made once and reused under every intervention.

    A masked LM sees the same input for every candidate with the same number of tokens (k mask tokens in the
    slot), so one forward per (probe, k) scores all of them. A causal LM teacher-forces each candidate, so each
    (probe, candidate) is one row. A candidate other than the gold that the tokenizer cannot encode cannot be
    produced: it never outranks the gold. The gold itself must encode (a clear error names the query otherwise).
    """

    def __init__(self, bundle, probes: Sequence[Probe], candidates_per_probe: Sequence[Sequence[str]],
                 batch_size: int = 32, max_answer_tokens: int = DEFAULT_MAX_ANSWER_TOKENS):
        if len(candidates_per_probe) != len(probes):
            raise RmlLamaError(f"{len(probes)} probes but {len(candidates_per_probe)} candidate lists")
        self.bundle, self.probes = bundle, list(probes)
        self.candidates = [list(c) for c in candidates_per_probe]
        self.batch_size = batch_size
        masked = getattr(bundle, "kind", "masked") == "masked"
        self.rows: list[EncodedProbe] = []  # one encoded input per (probe, k) (masked) or (probe, candidate)
        self.plan: list[tuple[list[tuple[int, tuple[int, ...]]], int]] = []  # per probe: [(row, answer ids)], gold
        for probe, candidates in zip(self.probes, self.candidates):
            if probe.answer not in candidates:
                raise RmlLamaError(f"query {probe.query!r} (answer {probe.answer!r}): the gold answer is not among "
                                   "its candidates")
            encode_probes(bundle, [probe], max_answer_tokens)  # the gold must encode: raises a clear error otherwise
            by_length: dict[int, int] = {}
            scored, gold = [], -1
            for candidate in candidates:
                try:
                    (encoded,) = encode_probes(bundle, [Probe(probe.query, candidate)], max_answer_tokens)
                except RmlLamaError:
                    continue
                k = len(encoded.answer_ids)
                if not masked:
                    row = len(self.rows)
                    self.rows.append(encoded)
                elif k in by_length:
                    row = by_length[k]
                else:
                    row = by_length[k] = len(self.rows)
                    self.rows.append(encoded)
                if candidate == probe.answer:
                    gold = len(scored)
                scored.append((row, encoded.answer_ids))
            self.plan.append((scored, gold))

    def ranks(self, indices: Optional[Sequence[int]] = None) -> np.ndarray:
        """Ranks of the probes at `indices` (default all) under whatever intervention is active."""
        indices = list(range(len(self.probes))) if indices is None else list(indices)
        if not indices:
            return np.zeros(0, dtype=np.int64)
        needed = sorted({row for i in indices for row, _ in self.plan[i][0]})
        log_probs = dict(zip(needed, target_log_probs(self.bundle, [self.rows[r] for r in needed], self.batch_size)))
        ranks = []
        for i in indices:
            scored, gold = self.plan[i]
            scores = np.array([np.mean(log_probs[row][np.arange(len(ids)), list(ids)]) for row, ids in scored])
            ranks.append(int(np.sum(scores > scores[gold])))
        return np.asarray(ranks, dtype=np.int64)

    def ranks_with(self, neurons: Iterable[Neuron], factor: float, indices: Optional[Sequence[int]] = None):
        """Ranks with the neurons' activations multiplied by `factor` (no neurons: the unmodified model)."""

        by_layer = neuron_map(neurons)
        if not by_layer:
            return self.ranks(indices)
        with scale_neurons(self.bundle, by_layer, factor):
            return self.ranks(indices)


def rank_candidates(bundle, probes: Sequence[Probe], candidates_per_probe: Sequence[Sequence[str]],
                    batch_size: int = 32) -> np.ndarray:
    """The gold answer's rank (0 = best) among each probe's candidates (see CandidateRanker)."""
    return CandidateRanker(bundle, probes, candidates_per_probe, batch_size).ranks()
