"""Saved tiny checkpoints with weights removed (a model without its LM head), for the loading tests."""
from __future__ import annotations

import safetensors.torch

from rml_lama.testbeds.tiny import tiny_model, tiny_tokenizer


def save_without(folder, family: str, prefix: str) -> list[str]:
    """A tiny model saved, then its weights starting with `prefix` removed from the checkpoint; returns them."""
    tiny_model(family).save_pretrained(folder)
    tiny_tokenizer().save_pretrained(folder)
    weights = safetensors.torch.load_file(folder / "model.safetensors")
    dropped = sorted(key for key in weights if key.startswith(prefix))
    assert dropped
    safetensors.torch.save_file({k: v for k, v in weights.items() if k not in dropped},
                                folder / "model.safetensors", metadata={"format": "pt"})
    return dropped
