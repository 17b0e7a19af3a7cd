"""GPT-NeoX / Pythia (parallel attention + MLP, rotary)."""
from __future__ import annotations

from .base import Adapter

ADAPTERS = [
    Adapter(
        name="gpt_neox",
        model_types=("gpt_neox",),
        description="GPT-NeoX / Pythia causal LM: neuron = input of layers[i].mlp.dense_4h_to_h",
        kind="causal",
        blocks_path="layers",
        out_proj_path="mlp.dense_4h_to_h",
        in_proj_paths=("mlp.dense_h_to_4h",),
        head_path="lm_head",
        final_norm_path="final_layer_norm",
    ),
]
