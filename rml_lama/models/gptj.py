"""GPT-J (parallel attention + MLP, rotary) and Phi-1/2 (the same MLP shape: fc1 -> act -> fc2)."""
from __future__ import annotations

from .base import Adapter

ADAPTERS = [
    Adapter(
        name="gptj",
        model_types=("gptj",),
        description="GPT-J causal LM: neuron = input of h[i].mlp.fc_out",
        kind="causal",
        blocks_path="h",
        out_proj_path="mlp.fc_out",
        in_proj_paths=("mlp.fc_in",),
        head_path="lm_head",
        final_norm_path="ln_f",
    ),
    Adapter(
        name="phi",
        model_types=("phi",),
        description="Phi-1/1.5/2 causal LM: neuron = input of layers[i].mlp.fc2",
        kind="causal",
        blocks_path="layers",
        out_proj_path="mlp.fc2",
        in_proj_paths=("mlp.fc1",),
        head_path="lm_head",
        final_norm_path="final_layernorm",
    ),
]
