"""Models: architecture adapters (registry), loading into a ModelBundle, and neuron interventions.

Everything model-specific lives in one small file per architecture family; `get_adapter(model)` picks the
adapter from `model.config.model_type`. See docs/attribution.md for the canonical neuron.
"""
from __future__ import annotations

import importlib

from .base import Adapter, resolve_path
from .registry import ADAPTERS, adapter_for_model_type, get_adapter, supported_model_types

# imported on first use, so that the registry (`rml-lama list adapters`) does not load torch
_LAZY = {"ModelBundle": "bundle", "bundle_from": "bundle", "load_model": "bundle",
         "scale_neurons": "interventions", "target_positions": "interventions"}


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

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
