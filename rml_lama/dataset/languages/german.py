"""German: nouns are capitalised. The check reads the words after an article or a preposition+article and
the words with a noun suffix (-ung, -heit, -keit, -schaft, -tät, -ion, -nis, -tum, -ismus, -land, -stadt,
-sprache); a lower-case one is a lower-cased noun ("die hauptstadt", "ist in stadt geboren")."""
from __future__ import annotations

import re

_NOUN_SUFFIX = re.compile(r"^[a-zäöüß]{2,}(ung|heit|keit|schaft|tät|ion|nis|tum|ismus|land|stadt|sprache|ort|"
                          r"sitz|platz|beruf|staat|reich|hauptstadt|gebiet|religion|instrument|position|"
                          r"mitglied|arbeitgeber|hersteller|entwickler|besitzer|eigentümer|muttersprache)$")
_DETERMINERS = {"der", "die", "das", "den", "dem", "des", "ein", "eine", "einen", "einem", "einer", "eines",
                "im", "am", "zum", "zur", "vom", "beim", "ins"}
_NOT_NOUNS = {"in", "von", "und", "ist", "war", "wurde", "hat", "als", "mit", "aus", "auf", "bei", "für",
              "offizielle", "offiziellen", "ursprüngliche", "ursprünglichen", "erste", "ersten", "gleichen"}
_WORD = re.compile(r"[\wäöüÄÖÜß\[\]]+")


def lowercase_nouns(text: str) -> list[str]:
    words = _WORD.findall(text)
    out = []
    for before, word in zip([""] + words, words):
        if not word[:1].islower() or word in _NOT_NOUNS:
            continue
        adjectival = word.endswith(("e", "en", "er", "es", "em")) and before.lower() in _DETERMINERS
        if _NOUN_SUFFIX.match(word) or (before.lower() in _DETERMINERS and not adjectival and len(word) > 3):
            out.append(word)
    return out
