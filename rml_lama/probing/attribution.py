"""Integrated gradients of the gold answer's probability over the canonical FFN neurons of each layer.

For layer l, answer token t (predicted at target position p_t) with natural neuron activations w and baseline
activations b (zeros, or AMIG's masked average), the attribution of neuron i is

    A_i = (w_i - b_i) * sum_k c_k * dP_t(y_t | x, a_l,p_t := b + alpha_k (w - b)) / da_i

with alpha_k, c_k from the Riemann rule (Dai et al.'s "left": alpha_k = k/m, c_k = 1/m, k = 0..m-1). Only layer
l's neurons at p_t are moved along the path; every other layer and position computes naturally. Multi-token
answers: per-token attributions are summed ("sum"), averaged ("mean"), or only the first token ("first").

`method="activation"` skips the gradients: the scores are the natural activations w themselves at the answer
positions, aggregated over answer tokens the same way (one unmodified forward per query; a baseline for
localizers that follow activations only, e.g. the `activation` localizer).

Speed (see docs/attribution.md): one unmodified forward records the hidden state entering every block and
the arguments each block receives; a row for layer l restarts from the cached state entering block l
(nothing below l is recomputed); the LM head runs only at the target position; for causal LMs, a row for
answer token t processes a single position (p_t) through the blocks above l against the cached keys and
values of the positions before it, which scaling neurons at p_t cannot change. Rows (steps x answer tokens x
layers, and x queries for causal LMs, whose prefixes are left-padded and masked) are batched up to
`internal_batch_size`, rows of different start layers joining the batch at their own block.
"""
from __future__ import annotations

import dataclasses
import functools
import inspect
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Optional

import numpy as np

from ..errors import RmlLamaError
from .ranking import aggregate_token_probs, check_aggregation
from .targets import EncodedProbe, Probe, encode_probes

if TYPE_CHECKING:  # torch is imported where it is used: importing this module stays cheap
    import torch

RULES = ("left", "right", "middle", "trapezoid")
BASELINES = ("zero", "amig", "amig-all")  # amig-all: every position replaced (Chen et al.'s code)
MULTIPLIERS = ("delta", "activation")  # IG's (w - b), or the activation w (Dai's and Chen et al.'s code)
METHODS = ("integrated-gradients", "activation")  # activation: the natural neurons, no gradient


@dataclass
class Attribution:
    """Neuron attributions of one probe: scores[i] belongs to layer layers[i]. For method "activation" the
    scores are the natural activations, baseline is "none", steps 0 and baseline_prob NaN (no baseline)."""

    scores: torch.FloatTensor  # [n_selected_layers, d_ff], float32, CPU
    layers: list[int]
    gold_prob: float  # the gold answer's probability (aggregated as `aggregation`, see targets.py)
    baseline_prob: float  # the same with one layer's neurons at the baseline, averaged over `layers`
    steps: int
    baseline: str
    rule: str = "left"
    aggregation: str = "sum"
    token_probs: list[float] = field(default_factory=list)  # natural probability of each answer token
    baseline_token_probs: Optional[torch.Tensor] = None  # [n_selected_layers, n_answer_tokens], float64

    def completeness(self) -> tuple[np.ndarray, np.ndarray]:
        """Per selected layer: (sum of the attributions, aggregated P_t(input) - P_t(baseline)).

        The two agree up to the Riemann error (they converge as steps grow); exact for linear paths."""
        natural = np.asarray(self.token_probs, dtype=np.float64)
        base = self.baseline_token_probs.numpy()
        diffs = natural[None, :] - base
        expected = _aggregate_rows(diffs, self.aggregation)
        return self.scores.double().sum(dim=1).numpy(), expected


def _scored_tokens(item: EncodedProbe, aggregation: str) -> int:
    """How many of the answer's tokens the scores cover (the first only for "first")."""
    return 1 if aggregation == "first" else len(item.answer_ids)


def _over_answer_tokens(per_token, aggregation: str):
    """[n_layers, n_tokens, d_ff] -> [n_layers, d_ff]: the mean for "mean", else the sum (one token for "first")."""
    return per_token.mean(dim=1) if aggregation == "mean" else per_token.sum(dim=1)


def _aggregate_rows(values: np.ndarray, aggregation: str) -> np.ndarray:
    if aggregation in ("sum", "joint"):
        return values.sum(axis=1)
    if aggregation == "mean":
        return values.mean(axis=1)
    return values[:, 0]


def path_points(steps: int, rule: str = "left") -> tuple[list[float], list[float]]:
    """(alphas, weights) of a Riemann rule with `steps` points on [0, 1].

    left: k/m (k = 0..m-1), Dai et al.; right: k/m (k = 1..m); middle: (k + 1/2)/m; weights 1/m.
    trapezoid: k/(m-1) (k = 0..m-1), weights 1/(m-1) with both ends halved (the exact trapezoid rule;
    Captum's "riemann_trapezoid" uses 1/m instead, so its weights sum to 1 - 1/m).
    """
    if steps < 1 or (rule == "trapezoid" and steps < 2):
        raise RmlLamaError(f"steps must be at least {2 if rule == 'trapezoid' else 1}, got {steps}")
    m = steps
    if rule == "left":
        return [k / m for k in range(m)], [1 / m] * m
    if rule == "right":
        return [k / m for k in range(1, m + 1)], [1 / m] * m
    if rule == "middle":
        return [(k + 0.5) / m for k in range(m)], [1 / m] * m
    if rule == "trapezoid":
        weights = [1 / (m - 1)] * m
        weights[0] = weights[-1] = 0.5 / (m - 1)
        return [k / (m - 1) for k in range(m)], weights
    raise RmlLamaError(f"unknown Riemann rule {rule!r}; choose one of {', '.join(RULES)}")


# ------------------------------------------------------------------------------------------ recording
@dataclass
class _Replay:
    """What rows restarting inside the network need, for n sequences: one full query (n = 1), or the target
    position of each (query, answer token) of a causal group (each a one-position suffix of its query)."""

    hidden_in: list  # per block: hidden state entering it, [n, T', d]
    block_args: list  # per block: positional args after the hidden state (recorded at batch n)
    block_kwargs: list  # per block: keyword args
    prefix: Optional[list]  # per block: (keys, values) of the positions before each suffix, left-padded (causal)
    serves: dict  # (query, answer token) -> (its sequence, its target position in that sequence)

    @property
    def n_sequences(self) -> int:
        return self.hidden_in[0].shape[0]


def _cache_argument_name(model) -> str:
    names = inspect.signature(model.forward).parameters
    return "cache" if "cache" in names else "past_key_values"


class _BlockRecorder:
    """Forward pre-hooks recording each block's input hidden state and arguments (always removed)."""

    def __init__(self, blocks):
        self.blocks = blocks
        self.hidden: list = [None] * len(blocks)
        self.args: list = [None] * len(blocks)
        self.kwargs: list = [None] * len(blocks)
        self.handles = []

    def __enter__(self):
        for index, block in enumerate(self.blocks):
            self.handles.append(block.register_forward_pre_hook(self._hook(index), with_kwargs=True))
        return self

    def _hook(self, index: int):
        def record(module, args, kwargs):
            if args:
                self.hidden[index], self.args[index] = args[0].detach(), tuple(args[1:])
            else:
                kwargs = dict(kwargs)
                self.hidden[index], self.args[index] = kwargs.pop("hidden_states").detach(), ()
            self.kwargs[index] = {k: v for k, v in kwargs.items() if k != "hidden_states"}

        return record

    def __exit__(self, *exc):
        for handle in self.handles:
            handle.remove()
        return False


class _ActivationRecorder:
    """Forward pre-hooks capturing the canonical neurons at given positions of every layer (always removed)."""

    def __init__(self, projections, positions: Sequence[int]):
        self.projections, self.positions = projections, list(positions)
        self.values: list = [None] * len(projections)
        self.handles = []

    def __enter__(self):
        for index, proj in enumerate(self.projections):
            self.handles.append(proj.register_forward_pre_hook(self._hook(index)))
        return self

    def _hook(self, index: int):
        def record(module, args):
            self.values[index] = args[0][:, self.positions].detach()  # [rows, n_positions, d_ff]

        return record

    def __exit__(self, *exc):
        for handle in self.handles:
            handle.remove()
        return False


def _natural_pass(bundle, item: EncodedProbe, want_cache: bool):
    """The unmodified forward: block inputs/arguments, natural neurons at the targets, per-token log-probs."""
    import torch

    model, adapter = bundle.model, bundle.adapter
    ids = torch.tensor([item.input_ids], device=bundle.device)
    extra = {"use_cache": True} if want_cache else ({"use_cache": False} if bundle.kind == "causal" else {})
    with torch.no_grad(), _BlockRecorder(adapter.blocks(model)) as blocks, _ActivationRecorder(
        adapter.ffn_out_projections(model), item.target_positions
    ) as acts:
        out = model(input_ids=ids, **extra)
    logits = out.logits[0, list(item.target_positions)].to(torch.float64)
    gold = torch.log_softmax(logits, dim=-1)[torch.arange(len(item.answer_ids)), torch.tensor(item.answer_ids, device=logits.device)]
    natural = [v[0] for v in acts.values]  # per layer [n_tokens, d_ff]
    if not want_cache:  # reading the cache (even an absent one) through its old name prints a notice
        return blocks, natural, gold.cpu().numpy(), None
    cache = out.cache if "cache" in out else getattr(out, "past_key_values", None)
    return blocks, natural, gold.cpu().numpy(), cache


def _left_padded(tensors: Sequence, length: int):
    """[1, H, p_i, hd] tensors -> one [n, H, length, hd] tensor, zeros on the left (masked out later)."""
    import torch

    return torch.cat([torch.nn.functional.pad(t, (0, 0, length - t.shape[2], 0)) for t in tensors])


def _suffix_replay(bundle, sequences: Sequence[tuple[int, EncodedProbe, int, Any]]) -> _Replay:
    """Record what the blocks receive when only the target position of each (query, answer token) runs after
    its prefix, all in one batched forward: the prefixes' cached keys and values are left-padded to the longest
    and masked, each sequence keeps its own position ids, so each row sees exactly what the full forward saw.
    sequences: (query index, encoded probe, answer token, the query's natural cache)."""
    import torch
    from transformers import DynamicCache

    model, adapter = bundle.model, bundle.adapter
    prefix_lengths = [item.target_positions[token] for _, item, token, _ in sequences]
    longest = max(prefix_lengths)
    ids = torch.tensor([[item.input_ids[item.target_positions[token]]] for _, item, token, _ in sequences],
                       device=bundle.device)
    prefix, cache, kwargs = None, None, {"use_cache": False}
    if longest > 0:
        prefix = []
        for index in range(len(adapter.blocks(model))):
            layers = [(natural.layers[index], p) for (_, _, _, natural), p in zip(sequences, prefix_lengths)]
            prefix.append((_left_padded([layer.keys[..., :p, :] for layer, p in layers], longest),
                           _left_padded([layer.values[..., :p, :] for layer, p in layers], longest)))
        cache = DynamicCache(config=model.config)
        for index, (keys, values) in enumerate(prefix):
            cache.update(keys, values, index)
        mask = torch.zeros(len(sequences), longest + 1, dtype=torch.long, device=bundle.device)
        for row, p in enumerate(prefix_lengths):
            mask[row, longest - p :] = 1
        kwargs = {_cache_argument_name(model): cache, "use_cache": True, "attention_mask": mask}
    if "position_ids" in inspect.signature(model.forward).parameters:
        kwargs["position_ids"] = torch.tensor([[p] for p in prefix_lengths], device=bundle.device)
    with torch.no_grad(), _BlockRecorder(adapter.blocks(model)) as blocks:
        model(input_ids=ids, **kwargs)
    serves = {(query, token): (row, 0) for row, (query, _, token, _) in enumerate(sequences)}
    return _Replay(blocks.hidden, blocks.args, blocks.kwargs, prefix, serves)


def _amig_baseline(bundle, item: EncodedProbe, every_position: bool = False) -> list:
    """AMIG: per context position c, the neurons at the targets with token c replaced by the mask (masked LM)
    or the end-of-text token (causal LM); the baseline is their mean. Per layer [n_tokens, d_ff].
    every_position: replace every input position in turn, special tokens and the answer slot included, as
    Chen et al.'s code does (default: the query's context tokens only)."""
    import torch

    tokenizer = bundle.tokenizer
    replacement = tokenizer.mask_token_id if bundle.kind == "masked" else (
        tokenizer.eos_token_id if tokenizer.eos_token_id is not None else tokenizer.bos_token_id)
    if replacement is None:
        raise RmlLamaError("the AMIG baseline needs a mask (masked LM) or end-of-text (causal LM) token")
    positions = list(range(item.length)) if every_position else list(item.context_positions)
    if not positions:
        raise RmlLamaError(f"query {item.probe.query!r}: no context tokens to build the AMIG baseline from")
    ids = torch.tensor([item.input_ids] * len(positions), device=bundle.device)
    ids[torch.arange(len(positions)), torch.tensor(positions)] = replacement
    extra = {"use_cache": False} if bundle.kind == "causal" else {}
    adapter = bundle.adapter
    with torch.no_grad(), _ActivationRecorder(adapter.ffn_out_projections(bundle.model), item.target_positions) as acts:
        bundle.model(input_ids=ids, **extra)
    return [v.mean(dim=0) for v in acts.values]


# ------------------------------------------------------------------------------------------- replaying
@dataclass(frozen=True)
class _Row:
    query: int  # index of the query within its group
    layer: int
    token: int
    alpha: float
    weight: float
    slot: int  # where its weighted gradient accumulates


def _swap_cache(args: tuple, kwargs: dict, cache) -> tuple[tuple, dict]:
    from transformers.cache_utils import Cache

    args = tuple(cache if isinstance(a, Cache) else a for a in args)
    kwargs = {k: (cache if isinstance(v, Cache) else v) for k, v in kwargs.items()}
    return args, kwargs


def _path_neurons(rows: Sequence[_Row], layer: int, natural, base):
    """[rows, d_ff]: b + alpha (w - b) for each row, from its query's natural and baseline neurons."""
    import torch

    w = torch.stack([natural[r.query][layer][r.token] for r in rows])
    b = torch.stack([base[r.query][layer][r.token] for r in rows])
    alphas = torch.tensor([r.alpha for r in rows], device=w.device, dtype=w.dtype)[:, None]
    return b + alphas * (w - b)


def _run_rows(bundle, replay: _Replay, rows: Sequence[_Row], natural, base, answer_ids):
    """One batched pass for rows sorted by layer: (each row's gold probability, each row's gradient with
    respect to its path neurons [rows, d_ff]). natural/base/answer_ids are indexed by the rows' query.
    Each row joins the pass at its own layer, where its path neurons replace the canonical neuron."""
    import torch
    from transformers import DynamicCache

    model, adapter = bundle.model, bundle.adapter
    blocks = adapter.blocks(model)
    device = bundle.device
    cache = DynamicCache(config=model.config) if replay.prefix is not None else None
    hidden, leaves = None, []
    served = [replay.serves[(r.query, r.token)] for r in rows]
    row_sequences = torch.tensor([s for s, _ in served], device=device)
    row_positions = torch.tensor([p for _, p in served], device=device)
    last = len(blocks) - 1
    narrow_last = adapter.ffn_at_targets is not None and replay.prefix is None and replay.hidden_in[0].shape[1] > 1
    for j in range(rows[0].layer, len(blocks)):
        narrow = narrow_last and j == last  # this block's FFN runs at the targets only
        new = [i for i, r in enumerate(rows) if r.layer == j]
        hooks = []
        if new:
            fresh = _take(replay.hidden_in[j], row_sequences[new], replay.n_sequences)
            hidden = fresh if hidden is None else torch.cat([hidden, fresh])
            leaf = _path_neurons([rows[i] for i in new], j, natural, base).requires_grad_(True)
            leaves.append(leaf)
            positions = torch.zeros_like(row_positions[new]) if narrow else row_positions[new]
            hooks.append(adapter.ffn_out_projections(model)[j].register_forward_pre_hook(
                _place(leaf, (torch.tensor(new, device=device), positions))))
        if narrow:
            hooks += adapter.ffn_at_targets(blocks[j], row_positions)
        try:
            hidden = _block_forward(adapter, blocks[j], j, hidden, replay, row_sequences[: hidden.shape[0]], cache)
        finally:
            for hook in hooks:
                hook.remove()
    final = hidden[:, 0] if narrow_last else hidden[torch.arange(len(rows), device=device), row_positions]
    logits = adapter.logits_from_final_hidden(model, final)
    gold = torch.tensor([answer_ids[r.query][r.token] for r in rows], device=device)
    probs = _gold_probability().apply(logits.to(torch.promote_types(logits.dtype, torch.float32)), gold)
    grads = torch.autograd.grad(probs.sum(), leaves)
    return probs.detach(), torch.cat(grads)  # leaves joined in row order (rows are sorted by layer)


def _block_forward(adapter, block, j: int, hidden, replay: _Replay, sequences, cache):
    """Block j on the rows' hidden states, with the block arguments (masks, positions, rotary tables) and
    cached prefix keys/values of each row's own sequence."""
    args, kwargs = adapter.select_block_args(replay.block_args[j], replay.block_kwargs[j], sequences,
                                             replay.n_sequences)
    if cache is not None:
        keys, values = replay.prefix[j]
        cache.update(_take(keys, sequences, replay.n_sequences), _take(values, sequences, replay.n_sequences), j)
    args, kwargs = _swap_cache(args, kwargs, cache)
    out = block(hidden, *args, **kwargs)
    return out[0] if isinstance(out, tuple) else out


@functools.cache
def _gold_probability():
    """softmax(logits)[r, gold[r]] per row, as an autograd function that keeps the softmax for its backward,
    dp/dz = p (onehot(gold) - softmax): two passes over the head's [rows, vocab] output each way, where
    log_softmax, indexing (a zero-filled gradient) and exp through autograd make several more."""
    import torch

    class GoldProbability(torch.autograd.Function):
        @staticmethod
        def forward(ctx, logits, gold):
            softmax = torch.softmax(logits, dim=-1)
            probs = softmax.gather(1, gold[:, None])[:, 0]
            ctx.save_for_backward(softmax, probs, gold)
            return probs

        @staticmethod
        @torch.autograd.function.once_differentiable
        def backward(ctx, grad):
            softmax, probs, gold = ctx.saved_tensors
            scale = grad * probs
            grad_logits = softmax * -scale[:, None]
            grad_logits[torch.arange(len(gold), device=gold.device), gold] += scale
            return grad_logits, None

    return GoldProbability


def _take(tensor, sequences, n_sequences: int):
    """Rows of a per-sequence tensor [n_sequences, ...] for each row's sequence (a view when there is one)."""
    if n_sequences == 1:
        return tensor.expand(len(sequences), *tensor.shape[1:])
    return tensor[sequences]


def _place(leaf, where):
    def hook(module, args):
        x = args[0].clone()
        x[where] = leaf.to(x.dtype)
        return (x,) + tuple(args[1:])

    return hook


# ----------------------------------------------------------------------------------------------- API
@dataclass(frozen=True)
class _Path:
    """How one attribution integrates: the Riemann sum (steps, rule), the baseline, the layers attributed and the
    aggregation over answer tokens."""

    steps: int
    rule: str
    baseline: str
    layers: list[int]
    aggregation: str
    multiplier: str = "delta"  # "delta": (w - b), integrated gradients; "activation": w (Dai's, Chen et al.'s code)


def _check_options(bundle, steps, rule, baseline, layers, aggregation, internal_batch_size) -> _Path:
    if rule not in RULES:
        raise RmlLamaError(f"unknown Riemann rule {rule!r}; choose one of {', '.join(RULES)}")
    if baseline not in BASELINES:
        raise RmlLamaError(f"unknown baseline {baseline!r}; choose one of {', '.join(BASELINES)}")
    check_aggregation(aggregation)
    if internal_batch_size < 1:
        raise RmlLamaError(f"internal_batch_size must be positive, got {internal_batch_size}")
    path_points(steps, rule)
    selected = list(range(bundle.n_layers)) if layers is None else sorted({int(layer) for layer in layers})
    if not selected or selected[0] < 0 or selected[-1] >= bundle.n_layers:
        raise RmlLamaError(f"layers must be within 0..{bundle.n_layers - 1}, got {layers}")
    return _Path(steps, rule, baseline, selected, aggregation)


def _row_points(steps: int, rule: str) -> tuple[list[float], list[float]]:
    """The rule's (alphas, weights), plus the path's start at weight 0 where the rule leaves it out: every
    layer needs the alpha = 0 row for its baseline probability and the completeness check."""
    alphas, weights = path_points(steps, rule)
    if 0.0 not in alphas:
        alphas, weights = [0.0] + alphas, [0.0] + weights
    return alphas, weights


@dataclass
class _Group:
    """What the passes of a group of queries start from: each query's natural and baseline neurons per layer,
    its gold tokens' log-probabilities, the replays that serve its rows, and its answer tokens scored."""

    natural: list
    base: list
    gold_log_probs: list
    replays: list
    n_tokens: list[int]


def _prepare_group(bundle, items: Sequence[EncodedProbe], baseline: str, aggregation: str, causal_suffix: bool) -> _Group:
    """One natural pass per query (recording activations, block inputs and, for causal suffix rows, the prefix
    cache), its baseline neurons, and the replays: one per query for full-sequence rows, one shared suffix
    replay for the whole causal group."""
    import torch

    n_tokens = [_scored_tokens(item, aggregation) for item in items]
    natural, base, gold_log_probs, replays, suffixes = [], [], [], [], []
    for q, item in enumerate(items):
        blocks, neurons, gold, cache = _natural_pass(bundle, item, want_cache=causal_suffix)
        natural.append(neurons)
        gold_log_probs.append(gold)
        base.append(_amig_baseline(bundle, item, baseline == "amig-all") if baseline != "zero"
                    else [torch.zeros_like(n) for n in neurons])
        if causal_suffix:
            suffixes += [(q, item, t, cache) for t in range(n_tokens[q])]
        else:
            serves = {(q, t): (0, item.target_positions[t]) for t in range(n_tokens[q])}
            replays.append(_Replay(blocks.hidden, blocks.args, blocks.kwargs, None, serves))
    if causal_suffix:
        replays = [_suffix_replay(bundle, suffixes)]
    return _Group(natural, base, gold_log_probs, replays, n_tokens)


def _accumulate(bundle, group: _Group, answer_ids, layers, steps: int, rule: str, pass_rows: int):
    """Run every row (query x layer x answer token x path point) in passes of pass_rows; return the weighted
    gradient sums [queries, layers, tokens, d_ff] and the baseline probabilities [queries, layers, tokens]."""
    import torch

    alphas, weights = _row_points(steps, rule)
    acc_dtype = torch.promote_types(group.natural[0][0].dtype, torch.float32)
    n_queries, width = len(group.natural), max(group.n_tokens)

    def slot(q: int, layer_index: int, token: int) -> int:
        return (q * len(layers) + layer_index) * width + token

    grad_sum = torch.zeros(n_queries * len(layers) * width, bundle.d_ff, dtype=acc_dtype, device=bundle.device)
    base_probs = torch.zeros(n_queries * len(layers) * width, dtype=torch.float64)
    with torch.enable_grad():
        for replay in group.replays:
            served = sorted(replay.serves)
            rows = [_Row(q, layer, t, a, w, slot(q, li, t)) for li, layer in enumerate(layers) for q, t in served
                    for a, w in zip(alphas, weights)]
            for start in range(0, len(rows), pass_rows):
                chunk = rows[start : start + pass_rows]
                probs, grads = _run_rows(bundle, replay, chunk, group.natural, group.base, answer_ids)
                slots = torch.tensor([r.slot for r in chunk], device=bundle.device)
                row_weights = torch.tensor([r.weight for r in chunk], device=bundle.device, dtype=acc_dtype)
                grad_sum.index_add_(0, slots, grads.to(acc_dtype) * row_weights[:, None])
                starts = [i for i, r in enumerate(chunk) if r.alpha == 0.0]
                base_probs[[chunk[i].slot for i in starts]] = probs[starts].to("cpu", torch.float64)
    return grad_sum.view(n_queries, len(layers), width, bundle.d_ff), base_probs.view(n_queries, len(layers), width)


def _attribute_group(bundle, items: Sequence[EncodedProbe], path: _Path, pass_rows: int,
                     suffix_cache: bool) -> list[Attribution]:
    """Attributions of several queries; a causal group shares one suffix replay, so the rows of all its
    queries (steps x answer tokens x layers x queries) fill the same batched passes."""
    group = _prepare_group(bundle, items, path.baseline, path.aggregation, bundle.kind == "causal" and suffix_cache)
    grad_sum, base_probs = _accumulate(bundle, group, [item.answer_ids for item in items], path.layers, path.steps,
                                       path.rule, pass_rows)
    return [_result(group, q, grad_sum[q, :, :n], base_probs[q, :, :n], path) for q, n in enumerate(group.n_tokens)]


def _result(group: _Group, q: int, grad_sum, base_probs, path: _Path) -> Attribution:
    """Query q's Attribution from its accumulated weighted gradients [n_layers, n_tokens, d_ff]."""
    import torch

    natural, base, gold_log_probs = group.natural[q], group.base[q], group.gold_log_probs[q]
    n_tokens = grad_sum.shape[1]
    delta = torch.stack([(natural[layer] - (0 if path.multiplier == "activation" else base[layer]))[:n_tokens]
                         for layer in path.layers]).to(grad_sum.dtype)
    scores = _over_answer_tokens(delta * grad_sum, path.aggregation)
    token_probs = np.exp(gold_log_probs)
    layer_base = [aggregate_token_probs(np.log(np.maximum(row, 1e-300)), path.aggregation) for row in base_probs.numpy()]
    return Attribution(
        scores=scores.detach().to("cpu", torch.float32),
        layers=list(path.layers),
        gold_prob=aggregate_token_probs(gold_log_probs, path.aggregation),
        baseline_prob=float(np.mean(layer_base)),
        steps=path.steps,
        baseline=path.baseline,
        rule=path.rule,
        aggregation=path.aggregation,
        token_probs=[float(p) for p in token_probs[:n_tokens]],
        baseline_token_probs=base_probs.clone(),
    )


def _natural_activations(bundle, item: EncodedProbe, path: _Path) -> Attribution:
    """One query's natural activations at its answer positions as an Attribution (method "activation")."""
    import torch

    _, natural, gold_log_probs, _ = _natural_pass(bundle, item, want_cache=False)
    n_tokens = _scored_tokens(item, path.aggregation)
    per_token = torch.stack([natural[layer][:n_tokens] for layer in path.layers])
    return Attribution(
        scores=_over_answer_tokens(per_token, path.aggregation).to("cpu", torch.float32),
        layers=list(path.layers),
        gold_prob=aggregate_token_probs(gold_log_probs, path.aggregation),
        baseline_prob=float("nan"),
        steps=0,
        baseline="none",
        rule=path.rule,
        aggregation=path.aggregation,
        token_probs=[float(p) for p in np.exp(gold_log_probs)[:n_tokens]],
    )


def _d_model(config) -> int:
    return int(getattr(config, "hidden_size", None) or config.n_embd)


def estimated_row_bytes(bundle, positions: int, keys: int) -> int:
    """A generous estimate of the memory one row (one step of one layer, restarting at layer 0) holds for its
    backward pass, when it runs `positions` positions attending to `keys` positions: per block and position
    about 10 x d_model + 4 x d_ff + heads x keys saved values, the cached keys and values of the other
    positions (causal suffix rows), and the logits with their gradient at the target. Times 1.5 for slack."""
    config = bundle.model.config
    d_model = _d_model(config)
    heads = int(getattr(config, "num_attention_heads", None) or getattr(config, "n_head", 1))
    element = torch_element_size(bundle.dtype)
    per_block = positions * (10 * d_model + 4 * bundle.d_ff + heads * keys) + 2 * (keys - positions) * d_model
    return int(1.5 * element * (bundle.n_layers * per_block + 4 * int(config.vocab_size)))


def torch_element_size(dtype) -> int:
    import torch

    return torch.tensor([], dtype=dtype).element_size()


def rows_per_pass(bundle, items: Sequence[EncodedProbe], internal_batch_size: int,
                  memory_budget_mb: Optional[float] = None, causal_suffix: bool = False) -> int:
    """Rows per batched pass for queries sharing passes. A full-sequence row counts one against
    internal_batch_size; a causal suffix row processes one position, so it counts 1/length of one (length of
    the shortest query, to stay on the safe side). memory_budget_mb caps the rows by estimated_row_bytes,
    with the suffix rows' keys padded to the longest query's length."""
    shortest = min(item.length for item in items)
    longest = max(item.length for item in items)
    rows = internal_batch_size * (shortest if causal_suffix else 1)
    if memory_budget_mb is not None:
        per_row = estimated_row_bytes(bundle, 1 if causal_suffix else longest, longest)
        rows = min(rows, int(memory_budget_mb * 2**20 // per_row))
    return max(1, rows)


def _groups(encoded: Sequence[EncodedProbe], n_rows, capacity, causal_suffix: bool):
    """Consecutive runs of query indices attributed together. Causal suffix rows of several queries share
    passes while all the group's rows fit one pass (capacity(items) rows; a query whose rows alone do not fit
    is a group of its own). Full-sequence rows cannot mix queries of different lengths: one query per group."""
    group: list[int] = []
    total = 0
    for index, item in enumerate(encoded):
        grown = [encoded[i] for i in group] + [item]
        if group and (not causal_suffix or total + n_rows(item) > capacity(grown)):
            yield group
            group, total = [], 0
        group.append(index)
        total += n_rows(item)
    if group:
        yield group


def attribute(bundle, probes: Sequence[Probe], *, steps: int = 20, rule: str = "left", baseline: str = "zero",
              layers: Optional[Sequence[int]] = None, aggregation: str = "sum", internal_batch_size: int = 64,
              progress: bool = False, suffix_cache: bool = True, max_answer_tokens: int = 8,
              memory_budget_mb: Optional[float] = None, multiplier: str = "delta",
              method: str = "integrated-gradients") -> list[Attribution]:
    """Integrated-gradients attributions of each probe's gold answer to every selected layer's FFN neurons.

    steps/rule: Riemann sum (default Dai et al.'s left rule, 20 steps); baseline: "zero", "amig" (context
    tokens replaced in turn) or "amig-all" (every position, special tokens and the slot too, as in Chen et al.'s
    code); multiplier: "delta" (w - b, integrated gradients) or "activation" (w, as Dai's and Chen et al.'s code);
    layers: subset (default all); aggregation over answer tokens: "sum", "mean" or "first";
    internal_batch_size: rows (steps x answer tokens x layers, and x queries for causal LMs) per batched pass,
    which bounds memory; rows that process one position instead of the whole query (causal suffix rows) count
    as 1/length of a row; suffix_cache: causal LMs process only the target position above the restart layer
    (exact; off = the whole sequence, for checking); memory_budget_mb: also cap the rows per pass by estimated
    activation memory (see estimated_row_bytes); method: "integrated-gradients", or "activation" (no gradient:
    the natural activations as scores, one forward per query; steps, rule, baseline and multiplier unused).
    Bad probes raise RmlLamaError naming the query before any work starts. Results do not depend on how rows
    are batched (up to floating-point rounding).
    """
    from tqdm.auto import tqdm

    path = _check_options(bundle, steps, rule, baseline, layers, aggregation, internal_batch_size)
    if multiplier not in MULTIPLIERS:
        raise RmlLamaError(f"unknown multiplier {multiplier!r}; choose one of {', '.join(MULTIPLIERS)}")
    if method not in METHODS:
        raise RmlLamaError(f"unknown attribution method {method!r}; choose one of {', '.join(METHODS)}")
    path = dataclasses.replace(path, multiplier=multiplier)
    encoded = encode_probes(bundle, probes, max_answer_tokens=max_answer_tokens)
    bundle.model.eval()
    causal_suffix = bundle.kind == "causal" and suffix_cache
    n_alphas = len(_row_points(steps, rule)[0])

    def n_rows(item: EncodedProbe) -> int:
        return len(path.layers) * n_alphas * (1 if aggregation == "first" else len(item.answer_ids))

    def capacity(items: Sequence[EncodedProbe]) -> int:
        return rows_per_pass(bundle, items, internal_batch_size, memory_budget_mb, causal_suffix)

    results: list[Attribution] = []
    with tqdm(total=len(encoded), desc="attribution", unit="query", disable=not progress) as bar:
        if method == "activation":
            for item in encoded:
                results.append(_natural_activations(bundle, item, path))
                bar.update(1)
            return results
        for group in _groups(encoded, n_rows, capacity, causal_suffix):
            items = [encoded[i] for i in group]
            results += _attribute_group(bundle, items, path, capacity(items), suffix_cache)
            bar.update(len(group))
    return results


def completeness_gap(bundle, probe: Probe, layer: int, *, steps: int = 20, rule: str = "left",
                     baseline: str = "zero", aggregation: str = "sum") -> tuple[float, float]:
    """(sum of layer `layer`'s attributions, P(input) - P(baseline) for that layer), aggregated over answer
    tokens as the attributions are. They agree up to the Riemann error, which shrinks as steps grow."""
    result = attribute(bundle, [probe], steps=steps, rule=rule, baseline=baseline, layers=[layer],
                       aggregation=aggregation)[0]
    sums, expected = result.completeness()
    return float(sums[0]), float(expected[0])
