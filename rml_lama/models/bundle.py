"""A model with its tokenizer, kind and adapter; loading from a path (or Hub id) with clear errors."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional, Union

import torch

from ..errors import RmlLamaError
from .base import Adapter
from .registry import adapter_for_model_type, get_adapter

_CAUSAL_ARCH_MARKERS = ("CausalLM", "LMHeadModel")
_MASKED_ARCH_MARKERS = ("MaskedLM",)
_LM_ARCH_MARKERS = _CAUSAL_ARCH_MARKERS + _MASKED_ARCH_MARKERS + ("ForPreTraining",)


@dataclass
class ModelBundle:
    """A language model ready for probing: always in eval mode."""

    model: Any
    tokenizer: Any
    kind: str  # "masked" | "causal"
    adapter: Adapter
    device: torch.device

    @property
    def n_layers(self) -> int:
        return len(self.adapter.blocks(self.model))

    @property
    def d_ff(self) -> int:
        return self.adapter.d_ff(self.model)

    @property
    def dtype(self) -> torch.dtype:
        return next(self.model.parameters()).dtype


def _kind_of(model_or_config, adapter: Adapter) -> str:
    config = getattr(model_or_config, "config", model_or_config)
    architectures = tuple(getattr(config, "architectures", None) or ())
    if any(marker in arch for arch in architectures for marker in _MASKED_ARCH_MARKERS):
        return "masked"
    if getattr(config, "is_decoder", False) or any(
        marker in arch for arch in architectures for marker in _CAUSAL_ARCH_MARKERS
    ):
        return "causal"
    return adapter.kind


def bundle_from(model, tokenizer, device: Union[str, torch.device, None] = None) -> ModelBundle:
    """Wrap a model built in memory (tests) into a ModelBundle; puts it in eval mode (and on `device` if given)."""

    adapter = get_adapter(model)
    model.eval()
    if device is not None:
        model.to(device)
    kind = _kind_of(model, adapter)
    if adapter.kind == "masked" and kind == "causal":
        raise RmlLamaError(f"{type(model).__name__}: a decoder-configured {adapter.name} is not supported")
    if kind == "masked" and getattr(tokenizer, "mask_token_id", None) is None:
        raise RmlLamaError(f"{type(model).__name__}: a masked LM needs a tokenizer with a mask token")
    try:
        adapter.head(model)
    except AttributeError:
        raise RmlLamaError(
            f"{type(model).__name__} has no language-model head; load it with AutoModelFor{'MaskedLM' if kind == 'masked' else 'CausalLM'}"
        ) from None
    model_device = next(model.parameters()).device
    return ModelBundle(model=model, tokenizer=tokenizer, kind=kind, adapter=adapter, device=model_device)


def _torch_dtype(dtype) -> Optional[torch.dtype]:
    if dtype is None or isinstance(dtype, torch.dtype):
        return dtype
    name = str(dtype).replace("torch.", "")
    aliases = {"fp32": "float32", "fp16": "float16", "half": "float16", "bf16": "bfloat16", "fp64": "float64"}
    value = getattr(torch, aliases.get(name, name), None)
    if not isinstance(value, torch.dtype):
        raise RmlLamaError(f"unknown dtype {dtype!r}; use float32, float16, bfloat16 or float64")
    return value


def default_device() -> torch.device:
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def load_model(
    name_or_path: Union[str, Path],
    device: Union[str, torch.device, None] = None,
    dtype=None,
    gguf_file: Optional[str] = None,
    cache_dir: Optional[str] = None,
) -> ModelBundle:
    """Load a masked or causal LM and its tokenizer (MaskedLM or CausalLM chosen from the config), in eval mode.

    Raises RmlLamaError with one clear line when the path is not a loadable, supported language model.
    """
    from transformers import AutoConfig, AutoModelForCausalLM, AutoModelForMaskedLM, AutoTokenizer


    name = str(name_or_path)
    extra = {"cache_dir": cache_dir}
    if gguf_file:
        extra["gguf_file"] = gguf_file
    try:
        config = AutoConfig.from_pretrained(name, **extra)
    except Exception as error:  # transformers raises OSError/ValueError/... with multi-line text
        raise RmlLamaError(f"{name}: not a loadable model ({str(error).splitlines()[0] if str(error) else type(error).__name__})") from None
    adapter = adapter_for_model_type(getattr(config, "model_type", ""))
    architectures = tuple(getattr(config, "architectures", None) or ())
    if architectures and not any(marker in arch for arch in architectures for marker in _LM_ARCH_MARKERS):
        raise RmlLamaError(f"{name}: not a language model with its LM head (architectures: {', '.join(architectures)})")
    kind = _kind_of(config, adapter)
    auto = AutoModelForMaskedLM if kind == "masked" else AutoModelForCausalLM
    try:
        tokenizer = AutoTokenizer.from_pretrained(name, **extra)
        model = auto.from_pretrained(name, dtype=_torch_dtype(dtype), **extra)
    except Exception as error:
        raise RmlLamaError(f"{name}: cannot load the {kind} LM ({str(error).splitlines()[0] if str(error) else type(error).__name__})") from None
    model.to(torch.device(device) if device is not None else default_device())
    return bundle_from(model, tokenizer)
