"""Neuron interventions: scale chosen canonical neurons with forward pre-hooks that are always removed.

"Target" positions (where the answer is predicted) are known to whoever builds the batch: targets.py runs
its forwards inside `target_positions(mask)`. Forwards run without it fall back to the mask token(s)
(masked LMs) or the last attended position (causal LMs).
"""
from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Optional, Union

import torch

from ..errors import RmlLamaError

_TARGET_MASK: ContextVar[Optional[torch.Tensor]] = ContextVar("rml_lama_target_mask", default=None)

Neurons = Union[Mapping[int, Sequence[int]], torch.Tensor]


@contextmanager
def target_positions(mask: torch.Tensor) -> Iterator[None]:
    """Declare the answer positions (bool [batch, seq]) of the forwards run inside this block."""
    token = _TARGET_MASK.set(mask)
    try:
        yield
    finally:
        _TARGET_MASK.reset(token)


def neuron_index(neurons: Neurons, n_layers: int, d_ff: int) -> dict[int, torch.Tensor]:
    """Normalise {layer: [indices]} or a bool/float mask [n_layers, d_ff] to {layer: LongTensor of indices}."""
    if isinstance(neurons, torch.Tensor):
        if tuple(neurons.shape) != (n_layers, d_ff):
            raise RmlLamaError(f"neuron mask has shape {tuple(neurons.shape)}, expected {(n_layers, d_ff)}")
        selected = neurons != 0
        return {layer: idx for layer in range(n_layers) if len(idx := selected[layer].nonzero().flatten())}
    index: dict[int, torch.Tensor] = {}
    for layer, indices in neurons.items():
        layer = int(layer)
        if not 0 <= layer < n_layers:
            raise RmlLamaError(f"neuron layer {layer} out of range 0..{n_layers - 1}")
        idx = torch.as_tensor(list(indices), dtype=torch.long)
        if len(idx) and (int(idx.min()) < 0 or int(idx.max()) >= d_ff):
            raise RmlLamaError(f"neuron index out of range 0..{d_ff - 1} in layer {layer}")
        if len(idx):
            index[layer] = idx
    return index


def _fallback_target_mask(bundle, input_ids: torch.Tensor, attention_mask: Optional[torch.Tensor]) -> torch.Tensor:
    if bundle.kind == "masked":
        return input_ids == bundle.tokenizer.mask_token_id
    mask = torch.zeros(input_ids.shape, dtype=torch.bool, device=input_ids.device)
    if attention_mask is None:
        mask[:, -1] = True
    else:  # last attended position of each row (right or left padding)
        positions = torch.arange(input_ids.shape[1], device=input_ids.device)
        last = (attention_mask.to(torch.long) * positions).argmax(dim=1)
        mask[torch.arange(len(last)), last] = True
    return mask


@contextmanager
def scale_neurons(bundle, neurons: Neurons, factor: float, positions: Union[str, torch.Tensor] = "target"):
    """Multiply the given neurons' activations by `factor` (0 suppresses, 2 enhances) inside the block.

    neurons: {layer: [neuron indices]} or a bool/float mask [n_layers, d_ff] (non-zero = selected).
    positions: "target" (answer positions only, as Dai et al.), "all", or a bool mask [batch, seq].
    The hooks are removed when the block exits, also on exceptions.
    """
    if not (isinstance(positions, torch.Tensor) or positions in ("target", "all")):
        raise RmlLamaError(f"positions must be 'target', 'all' or a bool mask, not {positions!r}")
    index = neuron_index(neurons, bundle.n_layers, bundle.d_ff)
    projections = bundle.adapter.ffn_out_projections(bundle.model)
    seen: dict[str, Optional[torch.Tensor]] = {}

    def remember_inputs(module, args, kwargs):
        seen["input_ids"] = kwargs.get("input_ids", args[0] if args else None)
        seen["attention_mask"] = kwargs.get("attention_mask")

    def position_mask(x: torch.Tensor) -> Optional[torch.Tensor]:
        if isinstance(positions, torch.Tensor):
            return positions.to(x.device)
        if positions == "all":
            return None
        declared = _TARGET_MASK.get()
        if declared is not None:
            return declared.to(x.device)
        if seen.get("input_ids") is None:
            raise RmlLamaError("positions='target' needs input_ids or a target_positions(...) block")
        return _fallback_target_mask(bundle, seen["input_ids"], seen.get("attention_mask"))

    def make_hook(idx: torch.Tensor):
        def hook(module, args):
            x = args[0]
            multiplier = torch.ones(x.shape[-1], dtype=x.dtype, device=x.device)
            multiplier[idx.to(x.device)] = factor
            where = position_mask(x)
            if where is None:
                scaled = x * multiplier
            else:
                if tuple(where.shape) != tuple(x.shape[:2]):
                    raise RmlLamaError(f"target mask shape {tuple(where.shape)} does not match batch {tuple(x.shape[:2])}")
                scaled = torch.where(where.unsqueeze(-1), x * multiplier, x)
            return (scaled,) + tuple(args[1:])

        return hook

    handles = [bundle.model.register_forward_pre_hook(remember_inputs, with_kwargs=True)]
    try:
        for layer, idx in index.items():
            handles.append(projections[layer].register_forward_pre_hook(make_hook(idx)))
        yield
    finally:
        for handle in handles:
            handle.remove()
