"""GPT-2 (pre-LN causal LM with Conv1D projections)."""
from __future__ import annotations

from .base import Adapter

ADAPTERS = [
    Adapter(
        name="gpt2",
        model_types=("gpt2",),
        description="GPT-2 causal LM: neuron = input of h[i].mlp.c_proj",
        kind="causal",
        blocks_path="h",
        out_proj_path="mlp.c_proj",
        in_proj_paths=("mlp.c_fc",),
        head_path="lm_head",
        final_norm_path="ln_f",
    ),
]
