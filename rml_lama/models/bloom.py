"""BLOOM (ALiBi positions; its alibi tensor folds the batch and the heads into one dimension)."""
from __future__ import annotations

import torch

from .base import Adapter


def _repeat_alibi(args: tuple, kwargs: dict, batch: int) -> tuple[tuple, dict]:
    alibi = kwargs.get("alibi")
    if isinstance(alibi, torch.Tensor) and batch != 1:
        kwargs = {**kwargs, "alibi": alibi.repeat(batch, 1, 1)}
    return args, kwargs


ADAPTERS = [
    Adapter(
        name="bloom",
        model_types=("bloom",),
        description="BLOOM causal LM: neuron = input of h[i].mlp.dense_4h_to_h",
        kind="causal",
        blocks_path="h",
        out_proj_path="mlp.dense_4h_to_h",
        head_path="lm_head",
        final_norm_path="ln_f",
        batch_block_args=_repeat_alibi,
    ),
]
