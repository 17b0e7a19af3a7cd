"""The causal oracle: what ablating each FFN neuron alone does to the gold answer.

For a query with answer tokens y_1..y_T predicted at target positions p_1..p_T, the effect of neuron (l, i) is

    E_q(l, i) = (1/T) sum_t [ log P(y_t | q, a_l,i := 0 at p_1..p_T) - log P(y_t | q) ]

the change of the mean per-token log-probability when that one neuron's activation is zeroed at the answer
positions (every other neuron and position computes naturally). Per (fact, language) the oracle's effect of a
neuron is the mean of E_q over the language's scoring queries; its ranking puts the most negative effect first.
The oracle's top-k set is the k most harmful neurons; its joint effect is measured like any localizer's set,
by ablating them together (evaluation/scoring.py), because single effects do not add up.

Exhaustive on small models: one unmodified forward records what enters each block (the attribution engine's
natural pass); the rows for layer l restart at block l from that cached state, one row per ablated neuron,
batched. Block l itself runs once: a neuron's ablation changes its output projection by a rank-one term at
the answer positions, added per row after the projection (the rest of the block broadcasts); so the last
layer's ablations cost the LM head only, and the last block runs its FFN at the answer position only. On large models `candidates` restricts the
ablations to a pool of neurons (the union of the localizers' top neurons and a seeded random sample,
`candidate_pool`), so the cost is bounded by the pool and not by layers x d_ff.

Language-agnostic by the oracle: a neuron whose ablation lowers the gold log-probability by at least `hurt`
(nats per token) in every language (`agnostic_by_oracle`).
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Optional

import numpy as np

from ..localizers.base import Neuron, seeded_rng

DEFAULT_ROWS_PER_PASS = 512
DEFAULT_HURT = 0.01  # nats per answer token: ablating the neuron lowers P(gold) by about 1% or more


def ablation_effects(bundle, encoded: Sequence, layers: Sequence[int],
                     candidates: Optional[Mapping[int, Sequence[int]]] = None,
                     rows_per_pass: int = DEFAULT_ROWS_PER_PASS) -> np.ndarray:
    """E_q(l, i) for every encoded probe q, selected layer l and neuron i: float64 [n_probes, n_layers, d_ff].

    candidates: {layer: neuron indices} to ablate (None: every neuron); the others are NaN.
    rows_per_pass: ablations run together in one batched pass (bounds memory)."""
    import torch

    from ..probing.attribution import _natural_pass

    layers = [int(layer) for layer in layers]
    result = np.full((len(encoded), len(layers), bundle.d_ff), np.nan)
    bundle.model.eval()
    for q, item in enumerate(encoded):
        recorded, _, _, _ = _natural_pass(bundle, item, want_cache=False)
        for li, layer in enumerate(layers):
            chosen = (range(bundle.d_ff) if candidates is None else sorted(set(int(i) for i in candidates.get(layer, ()))))
            indices = torch.tensor(list(chosen), dtype=torch.long, device=bundle.device)
            for start in range(0, len(indices), rows_per_pass):
                chunk = indices[start : start + rows_per_pass]
                after = _ablated_log_probs(bundle, recorded, item, layer, chunk)  # [rows + 1, T]
                result[q, li, chunk.cpu().numpy()] = (after[:-1] - after[-1:]).mean(axis=1)
    return result


def _ablated_log_probs(bundle, recorded, item, layer: int, neurons) -> np.ndarray:
    """Gold log-probabilities [rows + 1, T] with neuron neurons[r] of `layer` zeroed at the targets in row r;
    the last row is the unmodified model, computed the same way (so a neuron without effect gets exactly 0).

    Block `layer` runs once, at batch 1: a forward hook on its output projection turns the projection's
    output into one row per neuron, out - x_i (proj(e_i) - proj(0)) at the targets (the projection is affine),
    and the rest of the block (residual, norm) broadcasts over the rows. Blocks above run the rows batched;
    the last one runs its FFN at the answer position only when the adapter can narrow it (one-token answers)."""
    import torch

    from ..errors import RmlLamaError
    from ..probing.attribution import _swap_cache

    model, adapter = bundle.model, bundle.adapter
    blocks, projections = adapter.blocks(model), adapter.ffn_out_projections(model)
    n_rows = len(neurons) + 1  # the last row ablates nothing
    targets = torch.tensor(item.target_positions, device=bundle.device)
    sequences = torch.zeros(n_rows, dtype=torch.long, device=bundle.device)
    projection = projections[layer]

    def rows_out(module, args, out):
        x = args[0][0]  # [T, d_ff], batch 1
        basis = torch.zeros(n_rows, x.shape[-1], dtype=x.dtype, device=x.device)
        basis[torch.arange(n_rows - 1, device=x.device), neurons] = 1.0
        mapped = module.forward(basis)  # the bare layer, without this hook
        columns = mapped[:-1] - mapped[-1:]  # [rows, d]: what neuron r writes per unit activation
        rows = out.expand(n_rows, *out.shape[1:]).clone()
        rows[:-1, targets] -= x[targets][:, neurons].T[:, :, None] * columns[:, None, :]
        return rows

    last = len(blocks) - 1
    narrow = adapter.ffn_at_targets is not None and len(item.target_positions) == 1 and layer < last
    hidden = recorded.hidden[layer]
    with torch.no_grad():
        for j in range(layer, len(blocks)):
            handles = [projection.register_forward_hook(rows_out)] if j == layer else []
            if narrow and j == last:
                handles += adapter.ffn_at_targets(blocks[j], targets.expand(n_rows))
            try:
                batch = sequences if j > layer else sequences[:1]
                args, kwargs = adapter.select_block_args(recorded.args[j], recorded.kwargs[j], batch, 1)
                args, kwargs = _swap_cache(args, kwargs, None)
                out = blocks[j](hidden, *args, **kwargs)
            finally:
                for handle in handles:
                    handle.remove()
            hidden = out[0] if isinstance(out, tuple) else out
            if hidden.shape[0] != n_rows:
                raise RmlLamaError(f"oracle: block {j} of {adapter.name} did not broadcast over the ablation rows")
        final = hidden[:, :1] if narrow else hidden[:, targets]
        logits = adapter.logits_from_final_hidden(model, final)  # [rows, T, vocab]
        logits = logits.to(torch.promote_types(logits.dtype, torch.float32))
        gold = torch.tensor(item.answer_ids, device=bundle.device)
        picked = logits[:, torch.arange(len(gold), device=bundle.device), gold] - torch.logsumexp(logits, dim=-1)
    return picked.to(torch.float64).cpu().numpy()


# ------------------------------------------------------------------------------------- the oracle's sets
@dataclass
class OracleEffects:
    """Single-neuron ablation effects of one fact: language -> mean effect over its scoring queries
    [n_layers, d_ff] (NaN = not ablated), with the number of queries behind each."""

    layers: tuple[int, ...]
    by_lang: dict[str, np.ndarray]
    n_queries: dict[str, int]

    def neuron(self, flat: int) -> Neuron:
        d_ff = next(iter(self.by_lang.values())).shape[1]
        return (int(self.layers[flat // d_ff]), int(flat % d_ff))

    def ranking(self, lang: str) -> np.ndarray:
        """Scores where higher = more harmful to ablate (minus the effect; NaN = not ablated)."""
        return -self.by_lang[lang]

    def agnostic_ranking(self, langs: Sequence[str]) -> np.ndarray:
        """Minus the largest effect over `langs`: a neuron ranks high only if ablating it hurts every language."""
        stack = np.stack([self.by_lang[lang] for lang in langs if lang in self.by_lang])
        return -np.max(stack, axis=0)

    def agnostic_by_oracle(self, langs: Sequence[str], hurt: float = DEFAULT_HURT) -> list[Neuron]:
        """Neurons whose ablation lowers the gold log-probability by at least `hurt` in every one of `langs`."""
        scores = self.agnostic_ranking(langs)
        flat = np.flatnonzero(np.nan_to_num(scores, nan=-np.inf) >= hurt)
        return sorted(self.neuron(int(f)) for f in flat)

    def to_json(self, top: int = 20) -> dict:
        """The `top` most harmful neurons per language with their effects (the full arrays stay in memory)."""
        from ..localizers.budget import top_k

        result = {}
        for lang, effects in self.by_lang.items():
            neurons = top_k(-effects, self.layers, top)
            rows = {layer: i for i, layer in enumerate(self.layers)}
            result[lang] = {"neurons": [list(n) for n in neurons],
                            "effects": [round(float(effects[rows[n[0]], n[1]]), 6) for n in neurons],
                            "n_queries": self.n_queries[lang]}
        return result


def oracle_effects(bundle, encoded_by_lang: Mapping[str, Sequence], layers: Sequence[int],
                   candidates: Optional[Mapping[int, Sequence[int]]] = None,
                   rows_per_pass: int = DEFAULT_ROWS_PER_PASS) -> OracleEffects:
    """The oracle of one fact: per language, the mean single-ablation effect over its (scoring) queries."""
    by_lang, counts = {}, {}
    for lang, encoded in encoded_by_lang.items():
        if not encoded:
            continue
        effects = ablation_effects(bundle, encoded, layers, candidates, rows_per_pass)
        by_lang[lang] = effects.mean(axis=0)
        counts[lang] = len(encoded)
    return OracleEffects(tuple(int(x) for x in layers), by_lang, counts)


def candidate_pool(rankings: Sequence[np.ndarray], layers: Sequence[int], d_ff: int, top: int, random: int,
                   seed: int, fact_id: str) -> dict[int, list[int]]:
    """Neurons the oracle ablates on large models: the `top` best of every given ranking ([n_layers, d_ff]
    arrays, higher = better) plus `random` neurons drawn uniformly (seeded by the fact), as {layer: indices}."""
    from ..localizers.budget import top_k

    chosen: set[Neuron] = set()
    for scores in rankings:
        chosen.update(top_k(scores, layers, top))
    rng = seeded_rng(seed, fact_id, "oracle-pool")
    total = len(layers) * d_ff
    for flat in rng.choice(total, size=min(random, total), replace=False):
        chosen.add((int(layers[int(flat) // d_ff]), int(flat) % d_ff))
    pool: dict[int, list[int]] = {}
    for layer, index in sorted(chosen):
        pool.setdefault(layer, []).append(index)
    return pool
