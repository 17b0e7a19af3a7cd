"""Operations on release frames (one row per query, columns as in rml_lama.schema) that both flows share.
pandas only: the dataset side, the validator and the testbeds read facts the same way."""
from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

from .schema import F


def facts_by_lang(frame: pd.DataFrame) -> dict[str, set[str]]:
    """Language -> the ids of the facts that have at least one query in it."""
    return {str(lang): set(group) for lang, group in frame.groupby(F.LANG)[F.FACT_ID]}


def parallel_fact_ids(frame: pd.DataFrame, langs: Iterable[str]) -> set[str]:
    """Ids of the facts that have queries in every language of `langs` (empty if one of them has none)."""
    by_lang = facts_by_lang(frame)
    langs = list(langs)
    if not langs or any(lang not in by_lang for lang in langs):
        return set()
    return set.intersection(*(by_lang[lang] for lang in langs))


def parallel_facts(frame: pd.DataFrame, langs: Iterable[str]) -> pd.DataFrame:
    """One row per fact with queries in every language of `langs` (columns fact_id, relation, sub_uri, obj_uri),
    sorted by fact id."""
    ids = parallel_fact_ids(frame, langs)
    facts = frame[frame[F.FACT_ID].isin(ids)][[F.FACT_ID, F.RELATION, F.SUB_URI, F.OBJ_URI]]
    return facts.drop_duplicates(F.FACT_ID).sort_values(F.FACT_ID).reset_index(drop=True)
