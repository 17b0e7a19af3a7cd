"""French: definite articles of the closed classes that take one (countries, regions, continents, languages,
religions, organisations named by a common noun: la France, le Japon, les États-Unis, l'Italie, le russe),
the preposition of place (à Paris, en France, au Japon, aux États-Unis), contractions (de le -> du, de les ->
des, à le -> au, à les -> aux) and elision (de -> d', que -> qu', le/la -> l' before a vowel).

The article classes live in data/curated/fr_articles.tsv (label, class: f, m, pl, none-en), written by
scripts/make_fr_articles.py with `classify` from the labels' roles in the facts and reviewed; a label not
listed takes no article (people, cities, companies)."""
from __future__ import annotations

import re
from typing import Optional

from ...paths import FR_ARTICLES
from .lexicon import read_lexicon

VOWELS = "aeiouàâäéèêëîïôöûüœæAEIOUÀÂÄÉÈÊËÎÏÔÖÛÜŒÆ"  # not y: la Yougoslavie, le Yémen
FEMININE, MASCULINE, PLURAL, NONE_EN = "f", "m", "pl", "none-en"

NO_ARTICLE = {"Cuba", "Malte", "Chypre", "Madagascar", "Singapour", "Monaco", "Bahreïn", "Taïwan", "Haïti",
              "Maurice", "Hong Kong", "Macao", "Porto Rico", "Djibouti", "Nauru", "Tuvalu", "Kiribati", "Oman",
              "Saint-Marin", "Sainte-Lucie", "Saint-Kitts-et-Nevis", "Saint-Vincent-et-les-Grenadines", "Jersey",
              "Antigua-et-Barbuda", "Sao Tomé-et-Principe", "Trinité-et-Tobago", "Guernesey", "Gibraltar",
              "Bornéo", "Java", "Sumatra", "Bali", "Tahiti", "Hawaï", "Ceylan", "Zanzibar", "Palaos", "Aruba",
              "Curaçao", "Anguilla", "Montserrat", "Niue", "Tokelau", "Guam", "Mayotte", "Madère", "Jérusalem"}
EN_WITHOUT_ARTICLE = {"Israël"}
MASCULINE_IN_E = {"Mexique", "Cambodge", "Mozambique", "Zimbabwe", "Belize", "Bengale", "Maine", "Tennessee",
                  "Nouveau-Mexique", "Hanovre", "Caucase", "Zaïre", "Delaware", "Suriname", "Liban"}
PLURAL_NAMES = {"États-Unis", "Pays-Bas", "Philippines", "Comores", "Seychelles", "Maldives", "Bahamas", "Fidji", "Samoa",
                "Antilles", "Émirats arabes unis", "Baléares", "Açores", "Canaries", "Malouines", "Bermudes",
                "Pouilles", "Asturies", "Flandres", "Grisons", "Abruzzes", "Marches", "Cornouailles"}
HEAD_NOUNS = {
    "royaume": MASCULINE, "république": FEMININE, "comté": MASCULINE, "province": FEMININE, "région": FEMININE,
    "état": MASCULINE, "empire": MASCULINE, "principauté": FEMININE, "duché": MASCULINE, "grand-duché": MASCULINE,
    "oblast": MASCULINE, "district": MASCULINE, "kraï": MASCULINE, "île": FEMININE, "îles": PLURAL,
    "confédération": FEMININE, "union": FEMININE, "fédération": FEMININE, "département": MASCULINE,
    "canton": MASCULINE, "gouvernorat": MASCULINE, "territoire": MASCULINE, "voïvodie": FEMININE,
    "mandat": MASCULINE, "protectorat": MASCULINE, "colonie": FEMININE, "califat": MASCULINE,
    "sultanat": MASCULINE, "émirat": MASCULINE, "émirats": PLURAL, "despotat": MASCULINE, "commune": FEMININE,
    "municipalité": FEMININE, "préfecture": FEMININE, "arrondissement": MASCULINE, "raïon": MASCULINE,
    "okrug": MASCULINE, "land": MASCULINE, "états": PLURAL, "pays": MASCULINE, "comtat": MASCULINE,
    "margraviat": MASCULINE, "électorat": MASCULINE, "archiduché": MASCULINE, "vice-royauté": FEMININE,
    "khanat": MASCULINE, "agence": FEMININE, "organisation": FEMININE, "association": FEMININE,
    "communauté": FEMININE, "conseil": MASCULINE, "assemblée": FEMININE, "ligue": FEMININE,
    "alliance": FEMININE, "équipe": FEMININE, "parti": MASCULINE, "église": FEMININE, "ordre": MASCULINE,
    "armée": FEMININE, "cour": FEMININE, "comité": MASCULINE, "fonds": MASCULINE, "banque": FEMININE,
    "mont": MASCULINE, "lac": MASCULINE, "mer": FEMININE, "océan": MASCULINE, "fleuve": MASCULINE,
    "vallée": FEMININE, "désert": MASCULINE, "péninsule": FEMININE, "presqu'île": FEMININE,
}


def classify(label: str) -> Optional[str]:
    """The article class of a country/region-like or organisation label by rule (None: no article).

    Head nouns first ("royaume de Sicile": m, "Agence internationale...": f, "îles Marshall": pl), then the
    listed exceptions (islands and city-states without article, masculine names in -e, plural names), then
    the gender of the first word: feminine when it ends in -e (la Caroline du Sud, la Saxe-Anhalt)."""
    text = label.strip()
    if not text:
        return None
    if text in EN_WITHOUT_ARTICLE:
        return NONE_EN
    if text in NO_ARTICLE or text.startswith(("La ", "Le ", "Les ", "L'", "L’")):  # La Haye has its own
        return None
    first = re.split(r"[ \-]", text, maxsplit=1)[0]
    head = text.split(" ", 1)[0].casefold()
    if head in HEAD_NOUNS:
        return HEAD_NOUNS[head]
    if text in PLURAL_NAMES or first in PLURAL_NAMES or text.startswith(("États ", "États-", "Îles ", "îles ", "Émirats ")):
        return PLURAL
    if text in MASCULINE_IN_E or first in MASCULINE_IN_E or first.endswith("shire"):  # le Herefordshire
        return MASCULINE
    return FEMININE if first.endswith("e") else MASCULINE


def article_class(label: str) -> Optional[str]:
    return read_lexicon(FR_ARTICLES).get(label)


H_MUET = ("homo", "hist", "hôp", "hôt", "hum", "hydr", "hypo", "hyper", "horl", "horiz", "hormon", "harmon",
          "habit", "hébr", "hélic", "hémo", "herb", "hérit", "hiver", "hom", "hebdo", "hellén", "hépat", "hérés",
          "hétéro", "hygi", "hymne", "hypn", "hyst", "hindou", "hispan", "hôtel", "horreur", "hospital", "huile",
          "hagiograph", "halluc", "haltér", "hect", "hégé", "hélio", "hémi", "hepta", "héréd", "hermét", "héroïne",
          "hiér", "hippo", "hologr", "homéo", "honnêt", "honneur", "honor", "hortic", "hostil", "hydro", "hygro")
"""Lower-case words in h- that elide (l'homme, d'histoire, l'hôpital); an h is aspirated otherwise (le hockey,
la Hongrie), so names in H- never elide."""


def starts_with_vowel(text: str) -> bool:
    """Whether the word elides what comes before it: a vowel, or a mute h (l'histoire, d'homosexualité)."""
    return bool(text) and (text[0] in VOWELS or text.startswith(H_MUET))


def definite(label: str) -> str:
    """la France, l'Italie, le Japon, les États-Unis, le russe; the bare label where none is used."""
    cls = article_class(label)
    if cls in (None, NONE_EN):
        return label
    if cls == PLURAL:
        return "les " + label
    if starts_with_vowel(label):
        return "l'" + label
    return ("la " if cls == FEMININE else "le ") + label


def locative(label: str) -> str:
    """à Paris, en France, en Iran, au Japon, aux États-Unis, en Israël."""
    cls = article_class(label)
    if cls is None:
        return "à " + label
    if cls == NONE_EN or cls == FEMININE or starts_with_vowel(label):
        return "en " + label if cls != PLURAL else "aux " + label
    return "aux " + label if cls == PLURAL else "au " + label


def join(before: str, chunk: str) -> str:
    """`before` + `chunk` with French contraction and elision at the boundary (de + le Japon -> du Japon,
    à + les États-Unis -> aux États-Unis, de + Italie -> d'Italie, que + il -> qu'il)."""
    for prep, article, fused in (("de", "le ", "du "), ("de", "les ", "des "), ("à", "le ", "au "),
                                 ("à", "les ", "aux "), ("De", "le ", "Du "), ("De", "les ", "Des "),
                                 ("À", "le ", "Au "), ("À", "les ", "Aux "), ("de", "Le ", "du "),
                                 ("de", "Les ", "des "), ("à", "Le ", "au "), ("à", "Les ", "aux ")):
        if before.endswith(prep + " ") and _word_start(before, len(before) - len(prep) - 1) and chunk.startswith(article):
            return before[: -len(prep) - 1] + fused + chunk[len(article):]
    for word, elided in (("de", "d'"), ("De", "D'"), ("que", "qu'"), ("le", "l'"), ("la", "l'"), ("Le", "L'"),
                         ("La", "L'")):
        if (before.endswith(word + " ") and _word_start(before, len(before) - len(word) - 1)
                and starts_with_vowel(chunk)):
            return before[: -len(word) - 1] + elided + chunk
    return before + chunk


def _word_start(text: str, at: int) -> bool:
    return at == 0 or not text[at - 1].isalnum()


# ------------------------------------------------------------------------------------ the check's reading
MISSED_ELISION = re.compile(r"(?<![\w'’-])(de|De|le|Le|la|La|que|Que|ne|se|je|me|te|ce|jusque) (?=([\w\[]+))")
MISSED_CONTRACTION = re.compile(r"(?<![\w'’-])(de|De|à|À) (le|les|Le|Les) ")


def elision_errors(text: str) -> list[str]:
    """'de Italie', 'le instrument', 'de le Japon', 'à Le Havre'-style misses in a filled query."""
    return ([m.group(0) + m.group(2) for m in MISSED_ELISION.finditer(text) if starts_with_vowel(m.group(2))]
            + [m.group(0) for m in MISSED_CONTRACTION.finditer(text)])
