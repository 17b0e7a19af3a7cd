"""BLOOM (ALiBi positions; its alibi tensor folds the batch and the heads into one dimension)."""
from __future__ import annotations

from .base import Adapter, select_sequences


def _select_with_alibi(args: tuple, kwargs: dict, sequences, n_sequences: int) -> tuple[tuple, dict]:
    """The alibi tensor is [n_sequences * heads, 1, keys]: unfold the heads, pick the rows' sequences, fold."""
    import torch  # here, not at the top: listing the adapters does not load torch

    alibi = kwargs.get("alibi")
    rest = {k: v for k, v in kwargs.items() if k != "alibi"}
    args, rest = select_sequences(args, rest, sequences, n_sequences)
    if isinstance(alibi, torch.Tensor):
        per_sequence = alibi.view(n_sequences, -1, *alibi.shape[1:])
        rest["alibi"] = per_sequence[sequences].reshape(-1, *alibi.shape[1:])
    return args, rest


ADAPTERS = [
    Adapter(
        name="bloom",
        model_types=("bloom",),
        description="BLOOM causal LM: neuron = input of h[i].mlp.dense_4h_to_h",
        kind="causal",
        blocks_path="h",
        out_proj_path="mlp.dense_4h_to_h",
        in_proj_paths=("mlp.dense_h_to_4h",),
        head_path="lm_head",
        final_norm_path="ln_f",
        select_block_args=_select_with_alibi,
    ),
]
