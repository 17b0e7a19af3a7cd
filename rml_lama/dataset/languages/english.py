"""English: the definite article of names that take one (the United States, the Netherlands, the Kingdom of
Sicily) and a/an by the sound of the following word (an hour, a university, an MP)."""
from __future__ import annotations

import re

_THE_FIRST = ("United ", "Republic of", "Emirate of", "Emirates of", "Kingdom of", "Duchy of", "Grand Duchy of", "Principality of", "Empire of",
              "Emirate of", "Sultanate of", "State of", "Electorate of", "Margraviate of", "Province of",
              "Commonwealth of", "Caliphate of", "Khanate of", "Federation of", "Union of", "Despotate of",
              "Democratic Republic", "People's Republic", "Federal Republic", "Socialist Republic", "Free State of",
              "Viceroyalty of", "Governorate of", "Territory of", "County of", "Holy Roman", "Soviet Union",
              "European Union", "Czech Republic", "Dominican Republic", "Central African Republic", "Netherlands",
              "Philippines", "Bahamas", "Gambia", "Maldives", "Comoros", "Seychelles", "Holy See", "Balkans",
              "Caribbean", "Middle East", "Levant", "Gaza Strip", "West Bank", "Crimean Khanate", "Ottoman Empire",
              "Byzantine Empire", "Russian Empire", "Mughal Empire", "Roman Empire", "Habsburg Monarchy")
_THE_LAST = (" Islands", " Republic", " Empire", " Union", " Kingdom", " Emirates", " States", " Federation",
             " Confederation", " Caliphate", " Sultanate", " Khanate", " Isles", " Mountains", " Alps", " Andes",
             " Sea", " Ocean", " River")


def needs_the(label: str) -> bool:
    """True for a name used with 'the' (by its first or last words: the United States, the Czech Republic)."""
    text = label.strip()
    return text.startswith(_THE_FIRST) or text.endswith(_THE_LAST)


def definite(label: str, initial: bool = False) -> str:
    if not needs_the(label):
        return label
    return ("The " if initial else "the ") + label


_AN_LETTERS = set("AEFHILMNORSX")  # letter names starting with a vowel sound: A, E, F (eff), H (aitch), ...
_CONSONANT_SOUND_VOWEL_START = re.compile(r"^(uni|use|usu|uti|ura|uro|eu|ewe|one|once|ufo|uk\b|ubiq|ukr)", re.I)
_VOWEL_SOUND_H = re.compile(r"^(hour|honest|honou?r|heir)", re.I)


def indefinite(word: str) -> str:
    """'a' or 'an' for the word that follows (an actor, a university, an hour, an MP, a UN agency)."""
    text = word.strip().lstrip("\"'(")
    if not text:
        return "a"
    token = re.split(r"[\s\-]", text)[0]
    if len(token) > 1 and token.isupper():  # an acronym read letter by letter
        return "an" if token[0] in _AN_LETTERS else "a"
    if token[0].isdigit():
        return "an" if token.startswith(("8", "11", "18")) else "a"
    if _VOWEL_SOUND_H.match(token):
        return "an"
    if _CONSONANT_SOUND_VOWEL_START.match(token):
        return "a"
    return "an" if token[0].lower() in "aeiou" else "a"


ARTICLE_WORD = re.compile(r"(?<![\w'])(a|an|A|An) ([\w\"'(][\w\-]*)")


def article_errors(text: str) -> list[str]:
    """'a'/'an' that disagree with the following word's sound ("an model", "a actor"); a capital "A" inside
    a sentence is a name or a letter ("Kid A is"), not an article."""
    return [m.group(0) for m in ARTICLE_WORD.finditer(text)
            if (m.group(1).islower() or m.start() == 0) and m.group(1).lower() != indefinite(m.group(2))]
