"""Llama-style decoders with gated MLPs (act(gate) * up -> down_proj): Llama, Mistral, Qwen2/3, OLMo, Phi-3, Gemma."""
from __future__ import annotations

from .base import Adapter

ADAPTERS = [
    Adapter(
        name="llama",
        model_types=("llama", "mistral", "qwen2", "qwen3", "olmo", "olmo2", "phi3", "gemma", "smollm3"),
        description="Llama-family causal LM (gated MLP): neuron = input of layers[i].mlp.down_proj",
        kind="causal",
        blocks_path="layers",
        out_proj_path="mlp.down_proj",
        in_proj_paths=("mlp.gate_proj", "mlp.up_proj"),
        head_path="lm_head",
        final_norm_path="norm",
    ),
]
