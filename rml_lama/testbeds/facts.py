"""Which facts a testbed model is built on: stable seeded keys, and the one seeded, relation-stratified fact
chooser that training the default model and planting facts share. pandas only."""
from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from typing import Optional

import pandas as pd

from ..dataset.release import read_release
from ..schema import F


def stable_key(seed: int, text: str) -> str:
    """A seeded order that does not depend on Python's hash seed or on the order rows arrive in."""
    return hashlib.sha256(f"{seed}:{text}".encode()).hexdigest()


def stratified_facts(facts: pd.DataFrame, n: int, seed: int, seeded_relation_order: bool = False,
                     accept: Optional[Callable[[str], bool]] = None) -> list[str]:
    """Up to `n` fact ids from `facts` (columns fact_id, relation, sub_uri), in the order chosen.

    Relations take turns (round robin: in sorted order, or in a seeded order) so every relation gets about the
    same share; within a relation facts come in seeded-hash order. At most one fact per (relation, subject): two
    objects for the same subject would make the same queries ask for two answers. `accept(fact_id)` may reject
    a fact (checked lazily, so a large pool costs only the facts looked at); a relation whose turn it is moves
    on to its next fact."""
    keyed = facts.assign(_key=[stable_key(seed, fid) for fid in facts[F.FACT_ID]]).sort_values("_key")
    keyed = keyed.drop_duplicates([F.RELATION, F.SUB_URI])
    queues = {rel: list(group[F.FACT_ID]) for rel, group in keyed.groupby(F.RELATION, sort=True)}
    order = sorted(queues, key=lambda rel: stable_key(seed, rel)) if seeded_relation_order else sorted(queues)
    chosen: list[str] = []
    while len(chosen) < n and any(queues.values()):
        for rel in order:
            while queues[rel] and len(chosen) < n:
                candidate = queues[rel].pop(0)
                if accept is None or accept(candidate):
                    chosen.append(candidate)
                    break
    return chosen


def read_facts_frame(release: Optional[str], langs: Sequence[str]) -> pd.DataFrame:
    """The rows of a release folder (the shipped one when None) or of one .parquet file, in `langs`."""
    if release is not None and str(release).endswith(".parquet"):
        frame = pd.read_parquet(release)
        return frame[frame[F.LANG].isin(list(langs))]
    return read_release(release, langs=list(langs))
