"""Models: architecture adapters (registry), loading into a ModelBundle, and neuron interventions.

Everything model-specific lives in one small file per architecture family; `get_adapter(model)` picks the
adapter from `model.config.model_type`. See docs/attribution.md for the canonical neuron.
"""
from __future__ import annotations

from .base import Adapter, resolve_path
from .bundle import ModelBundle, bundle_from, load_model
from .interventions import scale_neurons, target_positions
from .registry import ADAPTERS, adapter_for_model_type, get_adapter, supported_model_types

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
