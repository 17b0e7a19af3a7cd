"""Chinese: Traditional -> Simplified script (opencc 't2s'), for labels, templates and the check."""
from __future__ import annotations

from functools import lru_cache


@lru_cache(maxsize=1)
def _t2s_converter():
    import opencc  # imported lazily: only Chinese needs it

    return opencc.OpenCC("t2s")


def to_simplified(text: str) -> str:
    """Traditional -> Simplified Chinese with opencc's 't2s' dictionaries (the converter is built once)."""
    return _t2s_converter().convert(text)
