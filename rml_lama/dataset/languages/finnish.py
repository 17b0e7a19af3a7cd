"""Finnish: the genitive of a subject label, generated with the pykko transducers (scripts/make_fi_genitives.py
writes data/curated/fi_genitives.tsv, reviewed; the build reads only that file), and the colon-ending defect
("[MASK]:ssä", "Flanderi:n"): Finnish writes a case ending after a colon only on abbreviations and numerals
("EU:ssa", "1990:n")."""
from __future__ import annotations

import re
from typing import Optional

from ...paths import FI_GENITIVES
from .lexicon import read_lexicon


def genitive(label: str) -> Optional[str]:
    """The genitive singular (plural for plural names) of a label, or None when the lexicon has none."""
    return read_lexicon(FI_GENITIVES).get(label)


CASE_ENDINGS = ("n", "ssa", "ssä", "sta", "stä", "lla", "llä", "lta", "ltä", "lle", "ksi", "na", "nä", "a", "ä",
                "ta", "tä", "han", "hen", "hin", "hon", "hun", "hyn", "hän", "hön", "iin", "een", "in", "ien",
                "t", "ineen", "tta", "ttä")
COLON_ENDING = re.compile(r"(\[MASK\]|(?<![\w:])[^\W\d_]*[a-zåäöšž][^\W\d_]*):("
                          + "|".join(sorted(CASE_ENDINGS, key=len, reverse=True)) + r")(?!\w)")
"""An ending after a colon on [MASK] or on a word with a lower-case letter (not an abbreviation or numeral)."""


def colon_endings(text: str) -> list[str]:
    """Endings after a colon on [MASK] or an ordinary word; words with two capitals (iOS:n, macOS:n) are
    abbreviations."""
    return [m.group(0) for m in COLON_ENDING.finditer(text)
            if m.group(1) == "[MASK]" or sum(ch.isupper() for ch in m.group(1)) < 2]
