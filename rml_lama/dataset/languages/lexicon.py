"""The curated two-column lexicons (label TAB value, `#` comments), read once each."""
from __future__ import annotations

from functools import cache
from pathlib import Path


@cache
def read_lexicon(path: Path) -> dict[str, str]:
    """label -> value of a tab-separated lexicon file in data/curated."""
    out = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            label, value = line.split("\t")
            out[label] = value
    return out
