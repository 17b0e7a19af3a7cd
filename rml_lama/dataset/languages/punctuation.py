"""Sentence punctuation: the one set of marks that may end a sentence or a clause, used by normalisation,
label-final punctuation merging and the `final-punctuation` check alike."""
from __future__ import annotations

SENTENCE_PUNCT = ".。．!！?？,，、;；:：।،"
"""Marks stripped from a template's end before its language's one final mark is put back; a query whose
text before that mark ends in one of these (or a space) is malformed."""


def ends_in_punctuation_or_space(text: str) -> bool:
    return not text or text[-1].isspace() or text[-1] in SENTENCE_PUNCT
