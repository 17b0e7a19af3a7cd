"""The adapter registry: one entry per architecture family, picked by `config.model_type`."""
from __future__ import annotations

from ..errors import RmlLamaError
from . import bert, bloom, gpt2, gpt_neox, gptj, llama
from .base import Adapter

ADAPTERS: dict[str, Adapter] = {
    adapter.name: adapter
    for family in (bert, gpt2, gpt_neox, gptj, bloom, llama)
    for adapter in family.ADAPTERS
}
"""Adapter name -> Adapter."""

_BY_MODEL_TYPE: dict[str, Adapter] = {
    model_type: adapter for adapter in ADAPTERS.values() for model_type in adapter.model_types
}


def supported_model_types() -> list[str]:
    return sorted(_BY_MODEL_TYPE)


def adapter_for_model_type(model_type: str) -> Adapter:
    """The adapter for a `config.model_type`; RmlLamaError listing the supported types otherwise."""
    try:
        return _BY_MODEL_TYPE[model_type]
    except KeyError:
        raise RmlLamaError(
            f"unsupported architecture {model_type!r}; supported model types: {', '.join(supported_model_types())}"
        ) from None


def get_adapter(model) -> Adapter:
    """The adapter of a loaded model, from `model.config.model_type`."""
    config = getattr(model, "config", None)
    return adapter_for_model_type(getattr(config, "model_type", None) or type(model).__name__)
