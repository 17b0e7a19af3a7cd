"""Language rules applied when a template becomes a query.

Pure functions, no torch; used by `rml_lama.dataset.generate` on the dataset build path:

- `to_simplified`: Traditional -> Simplified Chinese (opencc 't2s').
- `repair_template` / `normalize_template`: structural repair of noisy source templates and one canonical
  surface form per language (spacing, one sentence-final punctuation mark).
- `lexicon_accepts`: the curated relation lexicon (data/curated/relation_lexicon.json).
- `fill_subject` / `fill_object_mask`: slot filling with Korean particle allomorphy and Hungarian vowel
  harmony (the particle or suffix glued to a slot agrees with the word that fills it), and the slot forms of
  the reviewed templates (Finnish genitive, English/French/Hungarian articles, French prepositions of place).

The rules of each language live in `rml_lama.dataset.languages` (one module per family of rules), which the
validator's checks import too.
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
from .languages import english, finnish, french, hungarian, korean
from .languages.chinese import to_simplified
from .languages.hungarian import _hu_suffix_family, hungarian_harmony  # noqa: F401  (re-exported)
from .languages.korean import korean_final_sound  # noqa: F401  (re-exported)
from .languages.punctuation import SENTENCE_PUNCT, ends_in_punctuation_or_space

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

_FINAL_STRIP = SENTENCE_PUNCT
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


# ------------------------------------------------------------------------------------------- filling


SLOT_FORM_RE = re.compile(r"\[([XY]):(gen|def|loc|indef)\]")
SLOT_FORMS = {"gen": "genitive (fi)", "def": "with the definite article its label takes (en, fr, hu)",
              "loc": "with the preposition of place its label takes (fr: à, en, au, aux)",
              "indef": "after a/an agreeing with it (en)"}
"""Forms a reviewed template may ask of a slot: `[X:gen]`, `[Y:def]`, ... (data/curated/reviewed_templates)."""


def split_slot_forms(pattern: str) -> tuple[str, Optional[str], Optional[str]]:
    """("[X] ... [Y]", subject form, object form) of a pattern with optional slot forms ("[X:gen] ... [Y]")."""
    forms = {"X": None, "Y": None}
    for match in SLOT_FORM_RE.finditer(pattern):
        forms[match.group(1)] = match.group(2)
    return SLOT_FORM_RE.sub(lambda m: f"[{m.group(1)}]", pattern), forms["X"], forms["Y"]


def fill_subject(template: str, lang: str, subject: str, form: Optional[str] = None) -> Optional[str]:
    """Replace `[X]` by the subject label, agreeing what is glued to the slot; None = drop this query.

    Korean: a particle glued to the slot (은/는, 이/가, 을/를, 과/와, 으로/로, 이라고/라고, 였다/이었다, 다/이다...)
    follows the subject's final sound (`korean_final_sound`), the neutral written form (을(를)) where the
    reading is unknown. Hungarian: a hyphen-glued case suffix (-ban/-ben, -ból/-ből, -hoz/-hez/-höz, ...)
    follows the subject's vowel harmony and is attached (Párizsban, Afrikában, Londonnal, Madridot); the
    article a/az before the slot agrees; None where this cannot be done safely (an unknown suffix such as
    the adjectival -i, an acronym, a digit, a word ending in a letter foreign to Hungarian spelling).
    `form` (from a reviewed template): "gen" the Finnish genitive (`finnish.genitive`, None when the lexicon
    has none), "def" the definite article the label takes (en the United States, fr la France with du/des/au/
    aux/d' contraction and elision, hu a/az before a common noun). French "de"/"que" elide before any
    vowel-initial subject (d'Italie). Other languages, zh and ja included: plain replacement.
    """
    if form == "gen":
        genitive = finnish.genitive(subject)
        return None if genitive is None else _replace_at(template, SUBJECT_SLOT, genitive, lang)
    at = template.index(SUBJECT_SLOT)
    if (lang == "hu" and not template[at + len(SUBJECT_SLOT):].startswith("-")
            and not re.search(r"(?:^|\W)[Aa]z? $", template[:at])):
        form = "def"  # Hungarian: a common noun or a name headed by one takes a/az wherever it stands
    if form == "def" or lang == "fr":  # French: elision and contraction at the slot's boundary too
        return _replace_at(template, SUBJECT_SLOT, _with_article(subject, lang, form), lang)
    return _fill(template, lang, SUBJECT_SLOT, subject, None)


def fill_object_mask(text: str, lang: str, obj_label: str, form: Optional[str] = None) -> Optional[str]:
    """Replace `[Y]` by `schema.MASK`; a Korean particle or Hungarian suffix glued to the slot agrees with the
    gold object `obj_label`, so that the query is grammatical with its answer. With `form` "def", "loc" or
    "indef" the article or preposition before the mask is the one the gold object takes (the query then
    carries an answer hint); French elision before the mask follows the gold object too. None = drop it.
    """
    if lang == "fr":
        at = text.index(OBJECT_SLOT)
        before, after = text[:at], text[at + len(OBJECT_SLOT):]
        chunk = _with_article(obj_label, lang, form)  # "la France", "en France", "à Paris", "Le Caire"
        if chunk.startswith(("à Le ", "à Les ")):  # "au Caire": the label's own article would fuse
            return None
        joined = french.join(before, chunk)  # d'[MASK], du [MASK], l'[MASK]: elision follows the answer
        if not joined.endswith(obj_label):  # "de" + "Le Havre" -> "du Havre": no whole label to mask
            return None
        return joined[: len(joined) - len(obj_label)] + MASK + after
    if form in ("def", "indef"):
        filled = _with_article(obj_label, lang, form)
        head = filled[: len(filled) - len(obj_label)] if filled.endswith(obj_label) else ""
        return _replace_at(text, OBJECT_SLOT, head + MASK, lang)
    return _fill(text, lang, OBJECT_SLOT, obj_label, MASK)


def _with_article(label: str, lang: str, form: Optional[str]) -> str:
    if lang == "en" and form == "def":
        return english.definite(label)
    if lang == "en" and form == "indef":
        return english.indefinite(label) + " " + label
    if lang == "fr" and form == "def":
        return french.definite(label)
    if lang == "fr" and form == "loc":
        return french.locative(label)
    if lang == "hu" and form == "def":
        return hungarian.with_article(label)
    return label


def _replace_at(text: str, slot: str, chunk: str, lang: str) -> str:
    """Put `chunk` in place of `slot`: French contraction/elision at the boundary, an article that opens the
    sentence capitalised (The Netherlands, La France, A húsevő)."""
    at = text.index(slot)
    before, after = text[:at], text[at + len(slot):]
    joined = french.join(before, chunk) if lang == "fr" else before + chunk
    if lang == "en" and chunk.lower().startswith("the ") and chunk.endswith("s") and after.startswith("'s"):
        after = "'" + after[2:]  # the Netherlands' capital
    if not before and chunk[:1].islower() and (chunk.split(" ", 1)[0].split("'", 1)[0] in _ARTICLES
                                                or _plain_lower_word(chunk)):
        joined = joined[:1].upper() + joined[1:]  # La France; Rutile (not iPod, eBay)
    return joined + after


def _plain_lower_word(text: str) -> bool:
    first = re.split(r"[\s\-]", text, maxsplit=1)[0]
    return first.isalpha() and first.islower()


_ARTICLES = {"the", "la", "le", "les", "l", "a", "az", "an"}


def _fill(text: str, lang: str, slot: str, label: str, filler: Optional[str]) -> Optional[str]:
    if slot not in text:
        raise ValueError(f"template has no {slot}: {text!r}")
    shown = label if filler is None else filler
    if filler is None and text.startswith(slot) and language(lang).spaced and lang not in ("ko", "hu") \
            and _plain_lower_word(label):  # a sentence opens with a capital: Rutile, Pretzel
        return text.replace(slot, label[:1].upper() + label[1:], 1)
    if lang == "ko":
        return korean.fill(text, slot, shown, label)
    if lang == "hu":
        return hungarian.fill(text, slot, label, filler)
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


_ends_in_punctuation_or_space = ends_in_punctuation_or_space


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
