"""Held-out queries: every (fact, language)'s rephrasings split by seed into a localization half and a scoring
half, so neurons are never scored on the queries they were found on.

With n rephrasings, a seeded permutation (sha256 of seed, fact id, language) puts ceil(n/2) of them in the
localization half and the other floor(n/2) in the scoring half; each half keeps the fixed query order (AMIG
reads the first query of its half). A language with one rephrasing gives it to localization and has nothing
to score in-language: such a fact is scored on the held-out languages only (and on the languages where it has
two or more rephrasings). Stability compares the localizations from the two halves.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TypeVar

from ..localizers.base import seeded_rng

T = TypeVar("T")


def split_indices(n: int, seed: int, fact_id: str, lang: str) -> tuple[list[int], list[int]]:
    """(localization positions, scoring positions) of n rephrasings, each sorted."""
    if n <= 1:
        return list(range(n)), []
    order = seeded_rng(seed, fact_id, lang, "heldout").permutation(n)
    cut = (n + 1) // 2
    return sorted(int(i) for i in order[:cut]), sorted(int(i) for i in order[cut:])


def split_queries(by_lang: Mapping[str, Sequence[T]], seed: int, fact_id: str
                  ) -> tuple[dict[str, list[T]], dict[str, list[T]]]:
    """(localization half, scoring half) of every language's queries."""
    localize, score = {}, {}
    for lang, queries in by_lang.items():
        first, second = split_indices(len(queries), seed, fact_id, lang)
        localize[lang] = [queries[i] for i in first]
        score[lang] = [queries[i] for i in second]
    return localize, score
