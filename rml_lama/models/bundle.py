"""A model with its tokenizer, kind and adapter; loading from a path (or Hub id) with clear errors."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional, Union

import torch

from ..errors import RmlLamaError
from ..paths import MODEL_CONFIG_FILE
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


def _first_line(error: Exception) -> str:
    return str(error).splitlines()[0] if str(error) else type(error).__name__


def looks_like_path(name: str) -> bool:
    """Whether a --model argument is meant as a local folder rather than a Hub id ("org/name"): it starts with
    /, ., or ~, has more than one slash or a backslash, or its first part is a folder that exists here."""
    parts = name.replace("\\", "/").split("/")
    return (name.startswith(("/", ".", "~")) or "\\" in name or len(parts) > 2 or name.endswith("/")
            or (len(parts) == 2 and Path(parts[0]).is_dir()))


def check_model_path(name: str) -> None:
    """One line, at once, for a path-like --model that is not a model folder (never a Hub lookup with retries)."""
    path = Path(name).expanduser()
    if path.is_dir():
        if not (path / MODEL_CONFIG_FILE).is_file():
            raise RmlLamaError(f"--model {name}: the folder has no {MODEL_CONFIG_FILE}; it is not a model folder")
    elif path.exists():
        raise RmlLamaError(f"--model {name}: a file, not a model folder (a folder with {MODEL_CONFIG_FILE})")
    elif looks_like_path(name):
        raise RmlLamaError(f"--model {name}: no such folder")


def model_config(name_or_path: Union[str, Path], cache_dir: Optional[str] = None, gguf_file: Optional[str] = None):
    """The model's transformers config alone (fast: no weights), with one clear line when it cannot be read."""
    from transformers import AutoConfig

    name = str(name_or_path)
    check_model_path(name)
    extra = {"cache_dir": cache_dir, **({"gguf_file": gguf_file} if gguf_file else {})}
    try:
        return AutoConfig.from_pretrained(name, **extra)
    except Exception as error:  # transformers raises OSError/ValueError/... with multi-line text
        raise RmlLamaError(f"{name}: not a loadable model ({_first_line(error)})") from None


def config_layers(config) -> Optional[int]:
    """The number of transformer blocks a config declares (None when it names none)."""
    for attribute in ("num_hidden_layers", "n_layer", "num_layers"):
        value = getattr(config, attribute, None)
        if isinstance(value, int):
            return value
    return None


def _quiet_transformers():
    """transformers' loading table and bar give way to our one-line error: hold its logging to errors."""
    import contextlib

    from transformers.utils import logging

    @contextlib.contextmanager
    def quiet():
        level, bars = logging.get_verbosity(), logging.is_progress_bar_enabled()
        logging.set_verbosity_error()
        logging.disable_progress_bar()
        try:
            yield
        finally:
            logging.set_verbosity(level)
            if bars:
                logging.enable_progress_bar()

    return quiet()


def check_loading_info(name: str, info: dict) -> None:
    """A model whose weights (the LM head included) were missing or did not fit is not the model on disk."""
    missing = sorted(info.get("missing_keys") or ())
    mismatched = sorted(str(key[0] if isinstance(key, tuple) else key) for key in info.get("mismatched_keys") or ())
    problems = []
    if missing:
        problems.append(f"{len(missing)} weight(s) missing from the checkpoint ({', '.join(missing[:6])}"
                        f"{', ...' if len(missing) > 6 else ''})")
    if mismatched:
        problems.append(f"{len(mismatched)} of another shape ({', '.join(mismatched[:6])})")
    if problems:
        raise RmlLamaError(f"{name}: {'; '.join(problems)}; they would be newly initialised at random, so this is "
                           "not the trained model: save it with its head (save_pretrained of the *ForMaskedLM / "
                           "*ForCausalLM model)")


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
    from transformers import AutoModelForCausalLM, AutoModelForMaskedLM, AutoTokenizer


    name = str(name_or_path)
    extra = {"cache_dir": cache_dir, **({"gguf_file": gguf_file} if gguf_file else {})}
    config = model_config(name, cache_dir=cache_dir, gguf_file=gguf_file)
    adapter = adapter_for_model_type(getattr(config, "model_type", ""))
    architectures = tuple(getattr(config, "architectures", None) or ())
    if architectures and not any(marker in arch for arch in architectures for marker in _LM_ARCH_MARKERS):
        raise RmlLamaError(f"{name}: not a language model with its LM head (architectures: {', '.join(architectures)})")
    kind = _kind_of(config, adapter)
    auto = AutoModelForMaskedLM if kind == "masked" else AutoModelForCausalLM
    try:
        tokenizer = AutoTokenizer.from_pretrained(name, **extra)
        with _quiet_transformers():
            model, info = auto.from_pretrained(name, dtype=_torch_dtype(dtype), output_loading_info=True, **extra)
    except Exception as error:
        raise RmlLamaError(f"{name}: cannot load the {kind} LM ({_first_line(error)})") from None
    check_loading_info(name, info)
    model.to(torch.device(device) if device is not None else default_device())
    return bundle_from(model, tokenizer)
