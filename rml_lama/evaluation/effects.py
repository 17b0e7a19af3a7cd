"""Gold log-probabilities under many neuron interventions at once: each row of a batch is one (query, neuron
set, factor), with its own per-neuron multipliers at the answer positions.

Scoring a fact at five budgets for several localizers, the oracle and several random draws makes thousands of
(query, set, factor) combinations; running each set as its own forward costs one pass per set, while rows of
different sets in one batch cost one pass per batch. The result of a row is the same as `scale_neurons(set,
factor)` around a forward of that query alone (tested), and identical rows are computed once.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Optional

import numpy as np

from ..localizers.base import Neuron

NeuronSet = frozenset  # of (layer, index)


def neuron_set(neurons: Iterable[Neuron]) -> NeuronSet:
    return frozenset((int(layer), int(index)) for layer, index in neurons)


class InterventionScorer:
    """Mean per-token gold log-probability of encoded probes under (neuron set, factor) interventions,
    cached per (probe, set, factor). `request` collects rows, `run` computes the missing ones in batches,
    `value` reads one."""

    def __init__(self, bundle, encoded: Sequence, batch_size: int = 64):
        self.bundle, self.encoded, self.batch_size = bundle, list(encoded), batch_size
        self._values: dict[tuple[int, NeuronSet, float], float] = {}
        self._pending: dict[tuple[int, NeuronSet, float], None] = {}

    @staticmethod
    def _key(probe: int, neurons: Iterable[Neuron], factor: float) -> tuple[int, NeuronSet, float]:
        chosen = neuron_set(neurons)
        return (probe, chosen, float(factor)) if chosen else (probe, frozenset(), 1.0)

    def request(self, probes: Iterable[int], neurons: Iterable[Neuron], factor: float) -> None:
        chosen = neuron_set(neurons)
        for probe in probes:
            key = self._key(probe, chosen, factor)
            if key not in self._values:
                self._pending[key] = None

    def run(self, progress: Optional[object] = None) -> None:
        pending = sorted(self._pending, key=lambda key: (self.encoded[key[0]].length, key[0]))
        self._pending.clear()
        for start in range(0, len(pending), self.batch_size):
            chunk = pending[start : start + self.batch_size]
            for key, value in zip(chunk, self._batch(chunk)):
                self._values[key] = value

    def values(self, probes: Iterable[int], neurons: Iterable[Neuron], factor: float) -> np.ndarray:
        """Mean per-token log-probabilities of the probes (computing any that were not requested)."""
        probes = list(probes)
        keys = [self._key(p, neurons, factor) for p in probes]
        if any(key not in self._values for key in keys):
            self.request(probes, neurons, factor)
            self.run()
        return np.asarray([self._values[key] for key in keys], dtype=np.float64)

    def _batch(self, keys: Sequence[tuple[int, NeuronSet, float]]) -> list[float]:
        import torch

        from ..probing.ranking import target_log_probs
        from ..probing.targets import pad_batch

        bundle = self.bundle
        items = [self.encoded[probe] for probe, _, _ in keys]
        ids, attention, targets = pad_batch(bundle, items)
        by_layer: dict[int, torch.Tensor] = {}
        for row, (_, neurons, factor) in enumerate(keys):
            for layer, index in neurons:
                if layer not in by_layer:
                    by_layer[layer] = torch.ones(len(keys), bundle.d_ff, device=bundle.device)
                by_layer[layer][row, index] = factor
        projections = bundle.adapter.ffn_out_projections(bundle.model)

        def hook_for(multipliers):
            def hook(module, args):
                x = args[0]
                scaled = torch.where(targets[..., None], x * multipliers[:, None, :].to(x.dtype), x)
                return (scaled,) + tuple(args[1:])

            return hook

        handles = [projections[layer].register_forward_pre_hook(hook_for(mult)) for layer, mult in by_layer.items()]
        try:  # one batch exactly: the rows of `items`, padded as pad_batch pads them
            log_probs = target_log_probs(bundle, items, batch_size=len(items))
        finally:
            for handle in handles:
                handle.remove()
        return [float(np.mean(lp[np.arange(len(item.answer_ids)), list(item.answer_ids)]))
                for lp, item in zip(log_probs, items)]
