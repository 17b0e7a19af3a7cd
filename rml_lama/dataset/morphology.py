"""Language rules applied when a template becomes a query.

Pure functions, no torch; used by `rml_lama.dataset.generate` on the dataset build path:

- `to_simplified`: Traditional -> Simplified Chinese (opencc 't2s').
- `repair_template` / `normalize_template`: structural repair of noisy source templates and one canonical
  surface form per language (spacing, one sentence-final punctuation mark).
- `lexicon_accepts`: the curated relation lexicon (data/curated/relation_lexicon.json).
- `fill_subject` / `fill_object_mask`: slot filling with Korean particle allomorphy and Hungarian vowel
  harmony (the particle or suffix glued to a slot agrees with the word that fills it).
- `is_object_final`: whether only punctuation or a sentence-final tail follows the object slot.
"""
from __future__ import annotations

import json
import re
import unicodedata
from functools import lru_cache
from typing import Optional

from rml_lama.schema import MASK, OBJECT_SLOT, SUBJECT_SLOT, language

from ..paths import RELATION_LEXICON

# ------------------------------------------------------------------------------------------- Chinese


@lru_cache(maxsize=1)
def _t2s_converter():
    import opencc  # imported lazily: only Chinese needs it

    return opencc.OpenCC("t2s")


def to_simplified(text: str) -> str:
    """Traditional -> Simplified Chinese with opencc's 't2s' dictionaries (the converter is built once)."""
    return _t2s_converter().convert(text)


# ----------------------------------------------------------------------------------- slots and repair

_SLOT_VARIANTS = {
    "[x]": SUBJECT_SLOT,
    "[y]": OBJECT_SLOT,
    "［X］": SUBJECT_SLOT,
    "［Y］": OBJECT_SLOT,
    "［x］": SUBJECT_SLOT,
    "［y］": OBJECT_SLOT,
    "[एक्स]": SUBJECT_SLOT,  # transliterated slots in the Hindi machine translations
    "[वाई]": OBJECT_SLOT,
}
_SLOT_RE = re.compile(r"\[(?:X|Y|MASK)\]")
# A slot followed by a word fragment and a second closing bracket: mParaRel fi "[X]n]", "[Y]stä]", "[X] n]".
_BROKEN_SLOT_RE = re.compile(r"\[[XY]\]\s?[^\s\[\]]{0,6}\]")

REJECT_SLOT_COUNT = "slot-count"
REJECT_BROKEN_SLOT = "broken-slot"
REJECT_ADJACENT_SLOTS = "adjacent-slots"
REJECT_NO_WORDS = "no-words"
REJECT_REASONS: tuple[str, ...] = (REJECT_SLOT_COUNT, REJECT_BROKEN_SLOT, REJECT_ADJACENT_SLOTS, REJECT_NO_WORDS)
"""Every reason `repair_template` may give (stable strings, used as counter keys in the build report)."""


def repair_template(template: str, lang: str) -> tuple[Optional[str], Optional[str]]:
    """Repair a noisy source template, or reject it with a short stable reason.

    Maps slot variants (`[x]`, `[y]`, full-width, transliterated) to `[X]`/`[Y]`; rejects broken slots
    ("[X]n]": `broken-slot`), templates without exactly one `[X]` and one `[Y]` (`slot-count`), slots glued to
    each other (`adjacent-slots`) and templates with no word besides the slots (`no-words`); fixes glue errors:
    hu "[X]fővárosa" -> "[X] fővárosa" (a suffix glued without hyphen, "[Y]ban", or detached, "[Y] -ban",
    becomes "[Y]-ban"), fi "[X]n", "[X] n" and "[Y]: ssä" -> "[X]:n", "[Y]:ssä", ko "[Y]와 (과)" -> "[Y]와",
    ar "[X]في" -> "[X] في", a leading bullet ("●") removed. Returns (template, None) with the
    template already normalized (`normalize_template`), or (None, reason); one of `REJECT_REASONS`.
    """
    text = unicodedata.normalize("NFC", template)
    for variant, slot in _SLOT_VARIANTS.items():
        text = text.replace(variant, slot)
    if _BROKEN_SLOT_RE.search(text):
        return None, REJECT_BROKEN_SLOT
    if text.count(SUBJECT_SLOT) != 1 or text.count(OBJECT_SLOT) != 1:
        return None, REJECT_SLOT_COUNT
    if "[" in _SLOT_RE.sub("", text) or "]" in _SLOT_RE.sub("", text):
        return None, REJECT_BROKEN_SLOT
    if "][" in text:
        return None, REJECT_ADJACENT_SLOTS
    if not any(ch.isalpha() for ch in _SLOT_RE.sub("", text)):
        return None, REJECT_NO_WORDS
    text = _repair_glue(text, lang)
    return normalize_template(text, lang), None


# Finnish case endings that mParaRel detaches from a slot ("[Y] ssä", "[X] n"); none is a word on its own.
_FI_DETACHED_ENDINGS = ("n", "ssa", "ssä", "sta", "stä", "lla", "llä", "lta", "ltä", "lle", "ksi", "hen", "han")
_KO_WRITTEN_ALTERNATIVE_RE = re.compile(r"([\uac00-\ud7a3]) ?\((?:은|는|이|가|을|를|과|와|으|로|으로)\)")


def _repair_glue(text: str, lang: str) -> str:
    text = text.lstrip("●•・*-– ")
    if lang == "hu":
        text = re.sub(r"\[([XY])\] +-(?=[^\W\d_])", r"[\1]-", text)
        return re.sub(r"\[([XY])\]([^\W\d_]+)", _hu_glue_repair, text)
    if lang == "fi":
        endings = "|".join(_FI_DETACHED_ENDINGS)
        text = re.sub(r"\[([XY])\]:?\s+(" + endings + r")\b", r"[\1]:\2", text)
        return re.sub(r"\[([XY])\]([^\W\d_]{1,5})\b", r"[\1]:\2", text)
    if lang == "ko":  # "[Y]와 (과)": the written alternative goes, the particle rule picks the form
        return _KO_WRITTEN_ALTERNATIVE_RE.sub(r"\1", text)
    if lang == "ar":
        return re.sub(r"\[([XY])\](?=[\u0600-\u06FF])", r"[\1] ", text)
    return text


def _hu_glue_repair(match: re.Match) -> str:
    slot, run = match.group(1), match.group(2)
    if _hu_suffix_family(run) is not None:
        return f"[{slot}]-{run}"
    return f"[{slot}] {run}"


# -------------------------------------------------------------------------------------- normalization

_FINAL_STRIP = ".。．!！?？,，、;；:：।،"
_SPACE_RE = re.compile(r"\s+")


def normalize_template(template: str, lang: str) -> str:
    """One canonical surface form of a template (or of a query) in `lang`.

    NFC; whitespace collapsed and stripped; for unspaced languages (zh, ja) no spaces at all, except between
    two Latin words or a slot and a Latin word ("[X] Inc"), and ASCII commas become "，" (zh) or "、" (ja);
    zh is converted to Simplified script; no space before a comma or the final mark; the first letter upper-
    cased in cased scripts; exactly one sentence-final punctuation mark (`Language.final_punct`: "." for
    Latin, Cyrillic, Arabic and Korean, "。" for zh and ja, "।" for hi). Idempotent.
    """
    info = language(lang)
    text = unicodedata.normalize("NFC", template)
    text = _SPACE_RE.sub(" ", text).strip()
    if lang == "zh":
        text = to_simplified(text)
    if info.spaced:
        text = re.sub(r" +([,،;:])", r"\1", text) if lang != "fr" else re.sub(r" +,", ",", text)
    else:
        text = _remove_cjk_spaces(text)
        text = text.replace(",", "，" if lang == "zh" else "、")
    text = text.rstrip(_FINAL_STRIP + " ")
    text = _upper_first(text) if info.spaced else text
    return text + info.final_punct


def _is_latin_word_char(ch: str) -> bool:
    if ch.isascii():
        return ch.isalnum()
    return ch.isalpha() and "LATIN" in unicodedata.name(ch, "")


def _remove_cjk_spaces(text: str) -> str:
    """Drop every space unless it separates Latin words, or a slot and a Latin word."""
    out = []
    for i, ch in enumerate(text):
        if ch != " ":
            out.append(ch)
            continue
        before, after = text[i - 1] if i else "", text[i + 1] if i + 1 < len(text) else ""
        left_latin, right_latin = _is_latin_word_char(before), _is_latin_word_char(after)
        if (left_latin and (right_latin or after == "[")) or (right_latin and before == "]"):
            out.append(ch)
    return "".join(out)


def _upper_first(text: str) -> str:
    for i, ch in enumerate(text):
        if ch == "[":  # starts with a slot: the label keeps its own case
            return text
        if ch.isalpha():
            return text[:i] + ch.upper() + text[i + 1:]
    return text


# -------------------------------------------------------------------------------------------- lexicon


@lru_cache(maxsize=1)
def _lexicon_file() -> dict:
    path = RELATION_LEXICON
    return json.loads(path.read_text(encoding="utf-8"))


def _relation_entries(data: dict) -> dict[str, dict[str, list[str]]]:
    return {rel: langs for rel, langs in data.items() if not rel.startswith("_")}


@lru_cache(maxsize=1)
def _lexicon() -> dict[str, dict[str, list[str]]]:
    return _relation_entries(_lexicon_file())


def lexicon_words(relation: str, lang: str) -> tuple[str, ...]:
    """The words/stems listed for (relation, lang) in the curated lexicon; empty when there is no entry."""
    return tuple(_lexicon().get(relation, {}).get(lang, ()))


@lru_cache(maxsize=1)
def _forbidden_words() -> dict[str, dict[str, list[str]]]:
    return _relation_entries(_lexicon_file().get("_forbidden", {}))


def lexicon_accepts(template: str, relation: str, lang: str) -> bool:
    """True when the template contains one of the lexicon's words for (relation, lang) (case-insensitive,
    substring: entries are stems) and none of its `_forbidden` words (known mistranslations, e.g. ja P36
    大文字 "upper-case letter" beside 首都). A relation/language without a lexicon entry accepts every template.
    Chinese is compared in Simplified script.
    """
    words = lexicon_words(relation, lang)
    text = template.casefold()
    if lang == "zh":
        text = to_simplified(text)
    if any(word.casefold() in text for word in _forbidden_words().get(relation, {}).get(lang, ())):
        return False
    if not words:
        return True
    return any(word.casefold() in text for word in words)


# ------------------------------------------------------------------------------------ Korean particles

_VOWEL, _RIEUL, _CONSONANT = "vowel", "rieul", "consonant"

# (form after a consonant, form after a vowel, neutral written form). 으로/로 also takes 로 after ㄹ.
_KO_PARTICLES: tuple[tuple[str, str, str], ...] = (
    ("이었습니다", "였습니다", "(이)었습니다"),
    ("이었어요", "였어요", "(이)었어요"),
    ("이었다", "였다", "(이)었다"),
    ("이에요", "예요", "(이)에요"),
    ("이라고", "라고", "(이)라고"),
    ("이라는", "라는", "(이)라는"),
    ("이라", "라", "(이)라"),
    ("이며", "며", "(이)며"),
    ("이고", "고", "(이)고"),
    ("이나", "나", "(이)나"),
    ("이랑", "랑", "(이)랑"),
    ("으로", "로", "(으)로"),
    ("은", "는", "은(는)"),
    ("이", "가", "이(가)"),
    ("을", "를", "을(를)"),
    ("과", "와", "과(와)"),
)
# The copula 이다 is also correct after a vowel (다 is its optional contraction): 다 after a consonant
# becomes 이다, 이다 is never changed.
_KO_COPULA = ("이다", "다")
# What may follow a particle inside the glued run: "로부터", "로서", "와의", "로는", ...
_KO_CONTINUATIONS = ("", "의", "부터", "서", "써", "는", "도", "만")

_KO_LETTER_FINAL = dict.fromkeys("ABCDEFGHIJKOPQRSTUVWXYZ", _VOWEL)
_KO_LETTER_FINAL.update({"L": _RIEUL, "M": _CONSONANT, "N": _CONSONANT})  # 엘, 엠, 엔
# Sino-Korean digit names: 영 일 이 삼 사 오 육 칠 팔 구.
_KO_DIGIT_FINAL = {
    "0": _CONSONANT, "1": _RIEUL, "2": _VOWEL, "3": _CONSONANT, "4": _VOWEL,
    "5": _VOWEL, "6": _CONSONANT, "7": _RIEUL, "8": _RIEUL, "9": _VOWEL,
}
# Trailing zeros: 십 백 천 (1-3 zeros), then 만 억 조 경 for each group of four.
_KO_ZEROS_FINAL = {1: _CONSONANT, 2: _CONSONANT, 3: _CONSONANT}
_KO_MYRIAD_FINAL = {1: _CONSONANT, 2: _CONSONANT, 3: _VOWEL, 4: _CONSONANT}


@lru_cache(maxsize=1 << 16)
def korean_final_sound(label: str) -> Optional[str]:
    """'vowel', 'rieul' (final ㄹ) or 'consonant' for the sound a Korean reader ends `label` with, or None.

    Hangul syllables by their final consonant (batchim); digits by their Sino-Korean reading ("3" 삼,
    "2" 이, "10" 십, "1000" 천); a final upper-case Latin letter (an acronym) by its letter name ("L" 엘,
    "M" 엠, "N" 엔, the others end in a vowel). A trailing parenthesis is skipped ("커피 (음료)" -> 커피).
    None when the reading is unknown (a Latin word, Han characters, ...).
    """
    text = label.strip()
    while text.endswith(")") and "(" in text:
        text = text[: text.rindex("(")].rstrip()
    text = text.rstrip(" .,!?\"'”’」』")
    if not text:
        return None
    last = text[-1]
    if "\uac00" <= last <= "\ud7a3":
        batchim = (ord(last) - 0xAC00) % 28
        return _VOWEL if batchim == 0 else _RIEUL if batchim == 8 else _CONSONANT
    if last.isascii() and last.isdigit():
        return _korean_number_final(text)
    if last.isascii() and last.isalpha():
        run = re.search(r"[A-Za-z]+$", text).group(0)
        return _KO_LETTER_FINAL[last] if run.isupper() else None
    return None


def _korean_number_final(text: str) -> str:
    digits = re.search(r"[0-9]+$", text).group(0)
    after_point = text[: -len(digits)].endswith(".")
    significant = digits.rstrip("0")
    zeros = len(digits) - len(significant)
    if zeros == 0 or not significant or after_point:
        return _KO_DIGIT_FINAL[digits[-1]]
    if zeros % 4:
        return _KO_ZEROS_FINAL[zeros % 4]
    return _KO_MYRIAD_FINAL.get(zeros // 4, _CONSONANT)


def _korean_candidates() -> tuple[tuple[str, str, Optional[str], str], ...]:
    """(form found in a template, consonant form, vowel form, neutral form), longest forms first."""
    candidates = []
    for consonant_form, vowel_form, neutral in _KO_PARTICLES:
        for form in (consonant_form, vowel_form):
            candidates.append((form, consonant_form, vowel_form, neutral))
    for form in _KO_COPULA:
        candidates.append((form, "이다", None, "이다"))
    return tuple(sorted(candidates, key=lambda c: -len(c[0])))


_KO_CANDIDATES = _korean_candidates()


def _korean_particle(run: str, final: Optional[str]) -> Optional[tuple[str, str]]:
    """(particle form, rest of run) for a glued Hangul run, or None when it starts with no known particle."""
    if not run:
        return None
    for form, consonant_form, vowel_form, neutral in _KO_CANDIDATES:
        rest = run[len(form):]
        if not run.startswith(form) or rest not in _KO_CONTINUATIONS:
            continue
        if vowel_form is None:  # the copula: keep 이다 after a vowel, 다 -> 이다 after a consonant
            chosen = form if final == _VOWEL else consonant_form
        elif final == _VOWEL or (final == _RIEUL and consonant_form == "으로"):
            chosen = vowel_form
        elif final in (_RIEUL, _CONSONANT):
            chosen = consonant_form
        else:
            chosen = neutral
        return chosen, rest
    return None


def _fill_korean(text: str, slot: str, filler: str, label: str) -> str:
    final = korean_final_sound(label)
    if not _slot_run_re(slot).search(text).group(1):  # nothing glued to the slot
        return text.replace(slot, filler, 1)

    def replace(match: re.Match) -> str:
        run = match.group(1)
        particle = _korean_particle(run, final)
        if particle is None:
            return filler + run
        return filler + particle[0] + particle[1]

    return _slot_run_re(slot).sub(replace, text, count=1)


@lru_cache(maxsize=8)
def _slot_run_re(slot: str) -> re.Pattern:
    return re.compile(re.escape(slot) + r"([\uac00-\ud7a3]*)")


# --------------------------------------------------------------------------------- Hungarian suffixes

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


# ------------------------------------------------------------------------------------------- filling


def fill_subject(template: str, lang: str, subject: str) -> Optional[str]:
    """Replace `[X]` by the subject label, agreeing what is glued to the slot; None = drop this query.

    Korean: a particle glued to the slot (은/는, 이/가, 을/를, 과/와, 으로/로, 이라고/라고, 였다/이었다, 다/이다...)
    follows the subject's final sound (`korean_final_sound`), the neutral written form (을(를)) where the
    reading is unknown. Hungarian: a hyphen-glued case suffix (-ban/-ben, -ból/-ből, -hoz/-hez/-höz, ...)
    follows the subject's vowel harmony and is attached (Párizsban, Afrikában, Londonnal, Madridot); the
    article a/az before the slot agrees; None where this cannot be done safely (an unknown suffix such as
    the adjectival -i, an acronym, a digit, a word ending in a letter foreign to Hungarian spelling).
    Other languages, zh and ja included: plain replacement.
    """
    return _fill(template, lang, SUBJECT_SLOT, subject, None)


def fill_object_mask(text: str, lang: str, obj_label: str) -> Optional[str]:
    """Replace `[Y]` by `schema.MASK`; a Korean particle or Hungarian suffix glued to the slot agrees with the
    gold object `obj_label`, so that the query is grammatical with its answer. None = drop this query.
    """
    return _fill(text, lang, OBJECT_SLOT, obj_label, MASK)


def _fill(text: str, lang: str, slot: str, label: str, filler: Optional[str]) -> Optional[str]:
    if slot not in text:
        raise ValueError(f"template has no {slot}: {text!r}")
    shown = label if filler is None else filler
    if lang == "ko":
        return _fill_korean(text, slot, shown, label)
    if lang == "hu":
        return _fill_hungarian(text, slot, label, filler)
    return text.replace(slot, shown, 1)


def merge_final_punctuation(query: str, lang: str) -> Optional[str]:
    """The query with one sentence-final mark where a label at its end brings its own; None = drop it.

    A filled query ends with the template's final mark (`Language.final_punct`). When the text before that
    mark ends with the same mark (a label "Alfons V.", "S.p.A.": "... Alfons V.." -> "... Alfons V."), one is
    kept. When it ends with another mark or a space ("Kerrang!.", "Jr.。", "l'avion ?."), no spelling ends
    with the language's one final mark and keeps the label whole, so the query is dropped.
    """
    final = language(lang).final_punct
    if not query.endswith(final):
        return query
    before = query[: -len(final)]
    if not _ends_in_punctuation_or_space(before):
        return query
    if before.endswith(final) and not _ends_in_punctuation_or_space(before[: -len(final)]):
        return before
    return None


def _ends_in_punctuation_or_space(text: str) -> bool:
    return not text or text[-1].isspace() or text[-1] in _FINAL_STRIP


# -------------------------------------------------------------------------------------- object-final


def _is_punctuation_or_space(text: str) -> bool:
    return all(ch.isspace() or unicodedata.category(ch).startswith("P") for ch in text)


def is_object_final(template: str, lang: str) -> bool:
    """True when only punctuation, or one of `Language.final_tails` followed by punctuation, comes after the
    object slot (`[Y]` or `[MASK]`): ja "[X]の首都は[Y]です。", ko "[X]의 수도는 [Y]이다." (the copula glued to
    the slot), en "The capital of [X] is [Y]." A left-to-right model can then be probed with the text before it.
    """
    for slot in (OBJECT_SLOT, MASK):
        if slot in template:
            rest = template.split(slot, 1)[1]
            break
    else:
        return False
    if _is_punctuation_or_space(rest):
        return True
    core = rest.strip().rstrip(_FINAL_STRIP + " ")
    return core in language(lang).final_tails and _is_punctuation_or_space(rest.strip()[len(core):])
