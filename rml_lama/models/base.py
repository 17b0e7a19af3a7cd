"""The architecture adapter: where each family keeps its blocks, its canonical neuron, its final norm and head.

The canonical neuron of layer i is the INPUT of the FFN output projection of block i (size d_ff): GELU(W1 x)
for BERT/GPT-2-style MLPs, act(gate(x)) * up(x) for gated MLPs. Everything model-specific the attribution engine
needs is reached through an Adapter, so the engine itself is architecture-agnostic.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Optional


def resolve_path(root: Any, path: str) -> Any:
    """`resolve_path(model, "encoder.layer")` -> model.encoder.layer ("" returns root)."""
    obj = root
    for part in filter(None, path.split(".")):
        obj = getattr(obj, part)
    return obj


def _select(value: Any, sequences, n_sequences: int) -> Any:
    import torch

    if isinstance(value, torch.Tensor) and value.dim() >= 2 and value.shape[0] == n_sequences:
        return value[sequences]
    if isinstance(value, (tuple, list)):
        return type(value)(_select(v, sequences, n_sequences) for v in value)
    return value


def select_sequences(args: tuple, kwargs: dict, sequences, n_sequences: int) -> tuple[tuple, dict]:
    """Block arguments recorded for a batch of n_sequences, re-batched as one row per entry of `sequences`
    (a LongTensor of sequence indices): every tensor of 2+ dimensions whose first dimension is the batch
    (masks, position ids, rotary cos/sin) is indexed. Recorded at one sequence, the arguments broadcast."""
    if n_sequences == 1:
        return args, kwargs
    return _select(args, sequences, n_sequences), {k: _select(v, sequences, n_sequences) for k, v in kwargs.items()}


@dataclass(frozen=True)
class Adapter:
    """How to find the parts of one architecture family (paths are attribute paths).

    blocks_path, final_norm_path: relative to `model.base_model` (the bare transformer);
    out_proj_path: relative to one block; head_path: relative to the LM model itself.
    """

    name: str
    model_types: tuple[str, ...]
    description: str
    kind: str  # "masked" | "causal"
    blocks_path: str
    out_proj_path: str
    head_path: str
    final_norm_path: Optional[str] = None
    # The FFN's input projection(s), relative to one block: their rows (one per neuron) read what the neuron
    # sees. One for plain MLPs; gate then up for gated ones. Planting writes into them.
    in_proj_paths: tuple[str, ...] = ()
    # (args, kwargs, sequences, n_sequences) -> block arguments for one row per entry of `sequences`, from those
    # recorded for n_sequences (see select_sequences; BLOOM also folds the heads into its alibi batch).
    select_block_args: Callable[[tuple, dict, Any, int], tuple[tuple, dict]] = field(default=select_sequences)
    # Optional: hooks making a block's position-wise FFN run only at positions[r] of each row r (its output
    # then has one position per row); used on the last block, where only the target's output matters.
    ffn_at_targets: Optional[Callable[[Any, Any], list]] = None

    def blocks(self, model) -> list:
        """The transformer blocks, in order."""
        return list(resolve_path(model.base_model, self.blocks_path))

    def ffn_out_projections(self, model) -> list:
        """One FFN output projection per block; its input is the canonical neuron vector."""
        return [resolve_path(block, self.out_proj_path) for block in self.blocks(model)]

    def ffn_in_projections(self, model, layer: int) -> list:
        """The FFN input projection module(s) of block `layer` (see in_proj_paths)."""
        block = self.blocks(model)[layer]
        return [resolve_path(block, path) for path in self.in_proj_paths]

    def final_norm(self, model):
        """The norm applied after the last block (None for post-LN encoders such as BERT)."""
        return resolve_path(model.base_model, self.final_norm_path) if self.final_norm_path else None

    def head(self, model):
        """The LM head module mapping final hidden states to vocabulary logits."""
        return resolve_path(model, self.head_path)

    def logits_from_final_hidden(self, model, hidden):
        """Logits from hidden states leaving the last block (final norm, then head); any leading dims."""
        norm = self.final_norm(model)
        if norm is not None:
            hidden = norm(hidden)
        return self.head(model)(hidden)

    def d_ff(self, model) -> int:
        """Size of the canonical neuron vector (input features of the output projection)."""
        proj = self.ffn_out_projections(model)[0]
        if hasattr(proj, "in_features"):
            return int(proj.in_features)
        return int(proj.weight.shape[0])  # GPT-2's Conv1D stores its weight as [in, out]
