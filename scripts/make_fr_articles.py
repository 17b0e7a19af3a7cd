#!/usr/bin/env python
"""Write rml_lama/data/curated/fr_articles.tsv: the article class (f, m, pl, none-en) of every French label
that takes a definite article, found by its roles in the shipped mLAMA fr facts and classed by
`rml_lama.dataset.languages.french.classify` (head nouns, exception lists, the gender of the first word).

- languages (objects of P37, P103, P364, P407, P1412): masculine (le russe, l'anglais);
- religions (objects of P140): masculine (-isme, islam) unless the first word ends in -e (l'Église ...);
- countries and regions (objects of P17, P27, P495, P30, P1376, P530; subjects of P36, P30, P530):
  `classify`, except entities that are also cities somewhere (a capital, a twin town), or share a label with one: those take no article
  (borders, P47, and administrative units, P131, mix communes with regions, so they are not roles);
- any other label whose first word is a listed head noun (Agence ..., royaume de ..., comté de ...).
Review the output before committing it."""
from __future__ import annotations

import sys
from pathlib import Path

from rml_lama.dataset.languages.french import HEAD_NOUNS, MASCULINE, NO_ARTICLE, classify
from rml_lama.dataset.sources import SourceSet

OUT = Path(__file__).resolve().parent.parent / "rml_lama" / "data" / "curated" / "fr_articles.tsv"
LANGUAGE_OBJECTS = {"P37", "P103", "P364", "P407", "P1412"}
PLACE_OBJECTS = {"P17", "P27", "P495", "P30", "P1376", "P530"}
PLACE_SUBJECTS = {"P36", "P30", "P530"}
CITY_OBJECTS = {"P36", "P190"}
CITY_SUBJECTS = {"P1376", "P190"}


def main() -> int:
    facts = SourceSet().facts("fr")
    cities = ({f.obj_uri for f in facts if f.relation in CITY_OBJECTS}
              | {f.sub_uri for f in facts if f.relation in CITY_SUBJECTS})
    city_labels = {f.obj_label for f in facts if f.obj_uri in cities} | {f.sub_label for f in facts if f.sub_uri in cities}
    classes: dict[str, str] = {}
    for f in facts:
        roles = [(f.obj_uri, f.obj_label, f.relation in PLACE_OBJECTS, f.relation in LANGUAGE_OBJECTS,
                  f.relation == "P140"), (f.sub_uri, f.sub_label, f.relation in PLACE_SUBJECTS, False, False)]
        for qid, label, place, lang, religion in roles:
            if label in NO_ARTICLE or label.startswith(("La ", "Le ", "Les ", "L'", "L’")):
                continue  # Jérusalem, La Haye: never an added article
            if lang:
                classes[label] = MASCULINE
            elif religion:
                classes[label] = classify(label) if label.split(" ")[0].endswith("e") and not label.endswith("isme") else MASCULINE
            elif place and qid not in cities and label not in city_labels:
                cls = classify(label)
                if cls:
                    classes[label] = cls
            elif label.split(" ", 1)[0].casefold() in HEAD_NOUNS and label not in city_labels and label not in classes:
                classes[label] = HEAD_NOUNS[label.split(" ", 1)[0].casefold()]
    rows = [f"{label}\t{cls}" for label, cls in sorted(classes.items())]
    OUT.write_text("# label<TAB>article class (f, m, pl, none-en); scripts/make_fr_articles.py, reviewed\n"
                   + "\n".join(rows) + "\n", encoding="utf-8")
    print(f"{len(rows)} labels -> {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
