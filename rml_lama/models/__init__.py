"""Models: architecture adapters (registry), loading into a ModelBundle, and neuron interventions.

Everything model-specific lives in one small file per architecture family; `get_adapter(model)` picks the
adapter from `model.config.model_type`. See docs/attribution.md for the canonical neuron.
"""
from __future__ import annotations

from ..errors import RmlLamaError
from . import bert, bloom, gpt2, gpt_neox, gptj, llama
from .base import Adapter, resolve_path

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


from .bundle import ModelBundle, bundle_from, load_model  # noqa: E402
from .interventions import scale_neurons, target_positions  # noqa: E402

__all__ = [
    "ADAPTERS",
    "Adapter",
    "ModelBundle",
    "adapter_for_model_type",
    "bundle_from",
    "get_adapter",
    "load_model",
    "resolve_path",
    "scale_neurons",
    "supported_model_types",
    "target_positions",
]
