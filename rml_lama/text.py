"""Text helpers shared by generation and the checks: normalisation, near-duplicate keys, Unicode scripts."""
from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from .schema import MASK, OBJECT_SLOT, SUBJECT_SLOT

SCRIPT_LETTERS: dict[str, frozenset[str]] = {
    "Latin": frozenset({"LATIN"}),
    "Cyrillic": frozenset({"CYRILLIC"}),
    "Greek": frozenset({"GREEK"}),
    "Arabic": frozenset({"ARABIC"}),
    "Hebrew": frozenset({"HEBREW"}),
    "Devanagari": frozenset({"DEVANAGARI"}),
    "Bengali": frozenset({"BENGALI"}),
    "Thai": frozenset({"THAI"}),
    "Han": frozenset({"HAN"}),
    "Japanese": frozenset({"HAN", "HIRAGANA", "KATAKANA"}),
    "Hangul": frozenset({"HANGUL"}),
}
"""Expected script (validation/languages.json) -> the letter scripts that count as that script."""

SLOTS_RE = re.compile(re.escape(SUBJECT_SLOT) + "|" + re.escape(OBJECT_SLOT) + "|" + re.escape(MASK))


def normalize(text: str) -> str:
    """NFKC and case folding: the form in which two spellings of a label compare equal."""
    if text.isascii():
        return text.casefold()
    return unicodedata.normalize("NFKC", text).casefold()


NON_WORD_RE2 = r"[\p{P}\p{Z}\p{S}\p{C}]+"  # punctuation, separators, symbols, controls (re2 syntax)


def letters_keys(normalized: list[str]) -> list[str]:
    """The normalised texts without punctuation, spaces, symbols and controls (vectorised in pyarrow)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    return pc.replace_substring_regex(pa.array(normalized, pa.string()), NON_WORD_RE2, "").to_pylist()


@lru_cache(maxsize=65536)
def letter_script(ch: str) -> str:
    """The Unicode script of a letter, from its character name ("" for a non-letter)."""
    if unicodedata.category(ch)[0] != "L":
        return ""
    name = unicodedata.name(ch, "")
    if "CJK" in name or name.startswith("IDEOGRAPHIC"):
        return "HAN"
    for script in ("HIRAGANA", "KATAKANA", "HANGUL"):
        if script in name:
            return script
    words = name.split()
    if words and words[0] in ("FULLWIDTH", "HALFWIDTH"):
        words = words[1:]
    return words[0] if words else ""


def script_share(text: str, script: str) -> tuple[int, float]:
    """(number of letters, share of them in `script`) of the text with its slots removed."""
    allowed = SCRIPT_LETTERS.get(script, frozenset({script.upper()}))
    scripts = [letter_script(ch) for ch in SLOTS_RE.sub(" ", text)]
    scripts = [s for s in scripts if s]
    if not scripts:
        return 0, 1.0
    return len(scripts), sum(s in allowed for s in scripts) / len(scripts)


def count_letters(text: str) -> int:
    return sum(1 for ch in text if unicodedata.category(ch)[0] == "L")
