"""Hungarian: vowel harmony, case suffixes attached to a filled slot (Afrikában, Párizzsal, Londonnal: stem
lengthening a->á, e->é and -val/-vel assimilation), the article a/az, and the articles of common nouns.
Used when generating queries and by the `hu-hyphen-suffix` check."""
from __future__ import annotations

import re
from functools import lru_cache
from typing import Optional

_HU_BACK, _HU_FRONT, _HU_ROUNDED = "back", "front", "rounded"
_HU_BACK_VOWELS = set("aáoóuú")
_HU_ROUNDED_VOWELS = set("öőüű")
_HU_NEUTRAL_VOWELS = set("iíé")
_HU_VOWELS = _HU_BACK_VOWELS | _HU_ROUNDED_VOWELS | _HU_NEUTRAL_VOWELS | {"e"}
_HU_LETTERS = set("abcdefghijklmnopqrstuvwxyz") | _HU_VOWELS
# Consonants after which the accusative is a bare -t (Berlint, Párizst, Londont); after the others it takes the
# linking vowel o/e/ö (Madridot, Budapestet, Pekinget). Lowering stems (ház -> házat) are native common nouns.
_HU_BARE_T_CONSONANTS = ("j", "l", "ly", "n", "ny", "r", "s", "sz", "z", "zs")
_HU_DIGRAPHS = ("dzs", "cs", "dz", "gy", "ly", "ny", "sz", "ty", "zs")  # longest first
_HU_CONSONANTS = set("bcdfghjklmnprstvz")

# family -> (back, front unrounded, front rounded) forms; the suffixes a slot can carry in the sources.
_HU_SUFFIXES: dict[str, tuple[str, str, str]] = {
    "inessive": ("ban", "ben", "ben"),
    "illative": ("ba", "be", "be"),
    "elative": ("ból", "ből", "ből"),
    "sublative": ("ra", "re", "re"),
    "delative": ("ról", "ről", "ről"),
    "dative": ("nak", "nek", "nek"),
    "adessive": ("nál", "nél", "nél"),
    "ablative": ("tól", "től", "től"),
    "allative": ("hoz", "hez", "höz"),
    "superessive": ("on", "en", "ön"),
    "instrumental": ("val", "vel", "vel"),
    "translative": ("vá", "vé", "vé"),
    "accusative": ("ot", "et", "öt"),
    "terminative": ("ig", "ig", "ig"),
    "causal": ("ért", "ért", "ért"),
    "essive": ("ként", "ként", "ként"),
}
_HU_SUFFIX_FAMILY: dict[str, str] = {form: family for family, forms in _HU_SUFFIXES.items() for form in forms}
_HU_SUFFIX_FAMILY.update({"t": "accusative", "at": "accusative", "n": "superessive",
                          "al": "instrumental", "el": "instrumental"})


def _hu_suffix_family(suffix: str) -> Optional[str]:
    return _HU_SUFFIX_FAMILY.get(suffix.casefold())


def hungarian_harmony(word: str) -> Optional[str]:
    """'back', 'front' or 'rounded' (front rounded) vowel harmony of the last word of `word`, or None.

    Decided by the last vowel (rounded when it is ö, ő, ü, ű: Győr); the neutral vowels i, í, é defer to an
    earlier vowel (Párizs, Madrid -> back; Berlin, Helsinki, Zürich -> front). None (unsafe) for acronyms, digits, words without a vowel letter and
    words ending in a letter foreign to Hungarian spelling (x, w, q, y outside gy/ly/ny/ty).
    """
    last = re.split(r"[\s\-–]+", word.strip())[-1] if word.strip() else ""
    if not last or any(ch.isdigit() for ch in last) or (len(last) > 1 and last.isupper()):
        return None
    lower = last.casefold()
    if lower[-1] not in _HU_LETTERS or lower[-1] in "xwq":
        return None
    if lower.endswith("y") and not lower.endswith(("gy", "ly", "ny", "ty")):
        return None
    vowels = [ch for ch in lower if ch in _HU_VOWELS]
    if not vowels:
        return None
    if vowels[-1] in _HU_ROUNDED_VOWELS:
        return _HU_ROUNDED
    for vowel in reversed(vowels):
        if vowel in _HU_BACK_VOWELS:
            return _HU_BACK
        if vowel not in _HU_NEUTRAL_VOWELS:
            return _HU_FRONT
    return _HU_FRONT  # only i, í, é


def _hu_final_consonant(word: str) -> Optional[str]:
    """The final consonant letter of a word, digraphs included (sz, zs, cs, gy, ly, ny, ty, dz, dzs)."""
    lower = word.strip().casefold()
    for digraph in _HU_DIGRAPHS:
        if lower.endswith(digraph):
            return digraph
    return lower[-1] if lower and lower[-1] in _HU_CONSONANTS else None


def _hu_suffix_form(family: str, word: str) -> Optional[str]:
    """The suffix of `family` that agrees with `word`, as written after a hyphen ("-ban", "-nal", "-ot"),
    or None when unsafe."""
    harmony = hungarian_harmony(word)
    if harmony is None:
        return None
    back, front, rounded = _HU_SUFFIXES[family]
    form = {_HU_BACK: back, _HU_FRONT: front, _HU_ROUNDED: rounded}[harmony]
    ends_in_vowel = word.strip()[-1].casefold() in _HU_VOWELS
    if ends_in_vowel:
        return {"superessive": "n", "accusative": "t"}.get(family, form)
    consonant = _hu_final_consonant(word)
    if consonant is None:
        return None
    if family in ("instrumental", "translative"):  # the v assimilates: Londonnal, Párizzsal, CNN-nel
        return consonant + form[1:]
    if family == "accusative":  # bare -t after j l ly n ny r s sz z zs, else a linking vowel (Madridot)
        return "t" if consonant in _HU_BARE_T_CONSONANTS else form
    return form


def _hu_attached(word: str, family: str, form: str) -> str:
    """The word with the suffix attached: Afrika+ban -> Afrikában, Párizs+zsal -> Párizzsal, Bonn+nal -> Bonnal."""
    stem = _hu_lengthened(word)
    if family not in ("instrumental", "translative") or stem[-1].casefold() in _HU_VOWELS:
        return stem + form
    consonant = _hu_final_consonant(stem)
    lower = stem.casefold()
    if len(consonant) == 1 and lower.endswith(consonant * 2):  # Bonn: no third n
        return stem + form[len(consonant):]
    # double the consonant, a digraph by its first letter: London -> Londonn-al, Párizs -> Párizzs-al
    return stem[: len(stem) - len(consonant)] + stem[len(stem) - len(consonant)] + stem[len(stem) - len(consonant):] + form[len(consonant):]


def _hu_lengthened(word: str) -> str:
    """Final a/e lengthen before a suffix: Afrika -> Afriká(ban), Firenze -> Firenzé(ben)."""
    stripped = word.rstrip()
    if stripped.endswith("a"):
        return stripped[:-1] + "á"
    if stripped.endswith("e"):
        return stripped[:-1] + "é"
    return stripped


_HU_GLUED_RE = r"(?:-([^\W\d_]+))?"


@lru_cache(maxsize=8)
def _hu_slot_re(slot: str) -> re.Pattern:
    return re.compile(re.escape(slot) + _HU_GLUED_RE)


def _fill_hungarian(text: str, slot: str, label: str, filler: Optional[str]) -> Optional[str]:
    """Fill `slot` with the label (filler None) or with `filler` (the mask), agreeing a glued suffix.

    A subject is written with the suffix attached (Párizsban, Afrikában); the mask keeps the hyphen
    ("[MASK]-ban") so that the gold label itself is what the model must produce.
    """
    match = _hu_slot_re(slot).search(text)
    if match is None:
        return None
    suffix = match.group(1)
    if suffix is None:
        replacement = label if filler is None else filler
    else:
        family = _hu_suffix_family(suffix)
        form = _hu_suffix_form(family, label) if family else None
        if form is None:
            return None
        replacement = _hu_attached(label, family, form) if filler is None else f"{filler}-{form}"
    before = _hu_article(text[: match.start()], label)
    return before + replacement + text[match.end():]


_HU_ARTICLE_RE = re.compile(r"(?:^|(?<=\W))([Aa]z?) $")


def _hu_article(before: str, label: str) -> str:
    """The definite article just before the slot agrees with the label: "az" before a vowel, else "a"."""
    found = _HU_ARTICLE_RE.search(before)
    first = label.strip()[:1].casefold()
    if found is None or not first.isalpha():
        return before
    article = "az" if first in _HU_VOWELS else "a"
    if found.group(1)[0].isupper():
        article = article.capitalize()
    return before[: found.start(1)] + article + " "


def fill(text: str, slot: str, label: str, filler: Optional[str]) -> Optional[str]:
    """Fill `slot` with the label (filler None) or with the mask, agreeing a glued suffix and the article."""
    return _fill_hungarian(text, slot, label, filler)


HEAD_NOUNS_WITH_ARTICLE = ("királyság", "köztársaság", "unió", "államok", "birodalom", "hercegség", "fejedelemség",
                           "ház", "szövetség", "egyesület", "emírség", "szultanátus", "kalifátus", "liga",
                           "bizottság", "tanács", "egyház", "hadsereg", "párt", "egyetem", "akadémia", "intézet",
                           "múzeum", "társaság", "szervezet", "alap", "bank", "ügynökség", "közösség", "kánság",
                           "tartomány", "föderáció", "konföderáció", "szigetek", "protektorátus", "despotátus")
"""Names whose head is a common noun take the article: a Szovjetunió, az Európai Unió, a Holland Királyság."""


def with_article(label: str) -> str:
    """A common noun (lower-case label) takes the definite article a/az (a húsevő, az alma), and so does a name
    headed by a common noun (a Szovjetunió, az Európai Unió, a Zöld-foki Köztársaság); other names do not."""
    text = label.strip()
    first = text[:1]
    if not first.isalpha():
        return label
    last = re.split(r"[\s\-]+", text)[-1].casefold()
    if not first.islower() and not last.endswith(HEAD_NOUNS_WITH_ARTICLE):
        return label
    return ("az " if first.casefold() in _HU_VOWELS else "a ") + label


# ------------------------------------------------------------------------------------ the check's reading
HYPHENATED_SUFFIX = re.compile(
    r"(?:\[MASK\]|(?<![\w-])[^\W\d_]*[a-záéíóöőúüű])-(" + "|".join(sorted(_HU_SUFFIX_FAMILY, key=len, reverse=True))
    + r")(?![\w-])")
"""A case suffix written after a hyphen on an ordinary lower-case-final word or on [MASK] ("Afrika-ban",
"[MASK]-val"). Hungarian hyphenates a suffix only after abbreviations, numerals and some foreign names."""
