#!/usr/bin/env python
"""Count the mechanical text defects of issue #11 in a release folder (default: the shipped one), with the
rules the validator uses (rml_lama.dataset.languages): Finnish colon endings on ordinary words, Hungarian
hyphenated suffixes, English a/an, French elision/contraction misses and de/à Le/Les, German lower-cased nouns
(templates), and answers spelled inside the subject. A defect already inside a label is not counted.

    python scripts/text_probes.py [RELEASE_DIR]"""
from __future__ import annotations

import sys

from rml_lama.dataset.generate import subject_leaks
from rml_lama.dataset.languages import english, finnish, french, german, hungarian
from rml_lama.dataset.release import SHIPPED_RELEASE, read_release
from rml_lama.schema import CORE_LANGUAGES, MASK, F


def excess(frame, errors, filled: bool, column: str = F.QUERY) -> int:
    n = 0
    for text, sub, obj in zip(frame[column], frame[F.SUB_LABEL], frame[F.OBJ_LABEL]):
        text = text.replace(MASK, obj) if filled else text
        n += len(errors(text)) > len(errors(sub)) + len(errors(obj))
    return n


def main() -> int:
    release = sys.argv[1] if len(sys.argv) > 1 else SHIPPED_RELEASE
    frame = read_release(release)
    of = {lang: frame[frame[F.LANG] == lang] for lang in frame[F.LANG].unique()}
    probes = [("fi", "colon endings on ordinary words", finnish.colon_endings, False, F.QUERY),
              ("hu", "hyphenated suffixes", lambda t: hungarian.HYPHENATED_SUFFIX.findall(t), False, F.QUERY),
              ("en", "a/an disagreement", english.article_errors, True, F.QUERY),
              ("fr", "elision/contraction misses", french.elision_errors, True, F.QUERY),
              ("fr", "de/à Le/Les", lambda t: french.MISSED_CONTRACTION.findall(t), True, F.QUERY),
              ("de", "lower-cased nouns (templates)", german.lowercase_nouns, False, F.TEMPLATE)]
    for lang, name, errors, filled, column in probes:
        if lang in of:
            n, d = excess(of[lang], errors, filled, column), len(of[lang])
            print(f"{lang} {name}: {n:,} of {d:,} ({n / d:.2%})")
    for lang in CORE_LANGUAGES:
        if lang in of:
            rows = of[lang]
            n = sum(subject_leaks(s, o) for s, o in zip(rows[F.SUB_LABEL], rows[F.OBJ_LABEL]))
            print(f"{lang} answer spelled inside the subject: {n:,} of {len(rows):,}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
