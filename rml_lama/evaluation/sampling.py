"""Which facts a run scores, and with what: the facts' queries per language, the seeded sample of facts, the
unrelated queries each fact is compared with, and the candidate objects accuracy is ranked among."""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Optional

import numpy as np
import pandas as pd

from ..errors import RmlLamaError
from ..localizers.base import seeded_rng
from ..paths import SPLIT_COLUMN
from ..schema import TEMPLATE_SOURCES, F
from .options import EvalOptions


@dataclass
class FactQueries:
    """The queries of one fact per language, in a fixed order (template source preference, template id)."""

    fact_id: str
    relation: str
    obj_uri: str
    by_lang: dict[str, list[tuple[str, str]]] = field(default_factory=dict)  # lang -> [(query, answer)]


def group_facts(frame: pd.DataFrame, langs: Sequence[str], max_rephrasings: Optional[int],
                object_final_only: bool) -> dict[str, FactQueries]:
    """fact_id -> its queries in `langs` (object-final ones only for left-to-right models)."""
    rows = frame[frame[F.LANG].isin(list(langs))]
    if object_final_only:
        rows = rows[rows[F.OBJECT_FINAL].astype(bool)]
    preference = {source: rank for rank, source in enumerate(TEMPLATE_SOURCES)}
    rows = rows.assign(_pref=rows[F.SOURCE].map(lambda s: preference.get(s, len(preference))))
    rows = rows.sort_values([F.FACT_ID, F.LANG, "_pref", F.TEMPLATE_ID], kind="stable")
    rows = rows.drop_duplicates([F.FACT_ID, F.LANG, F.QUERY])
    facts: dict[str, FactQueries] = {}
    for fact_id, relation, obj_uri, lang, query, answer in zip(
        rows[F.FACT_ID], rows[F.RELATION], rows[F.OBJ_URI], rows[F.LANG], rows[F.QUERY], rows[F.OBJ_LABEL]
    ):
        fact = facts.setdefault(fact_id, FactQueries(fact_id, relation, obj_uri))
        queries = fact.by_lang.setdefault(lang, [])
        if max_rephrasings is None or len(queries) < max_rephrasings:
            queries.append((query, answer))
    return facts


def complete_facts(facts: dict[str, FactQueries], langs: Sequence[str]) -> dict[str, FactQueries]:
    return {fid: fact for fid, fact in facts.items() if all(fact.by_lang.get(lang) for lang in langs)}


class ProbeFilter:
    """Which (query, answer) pairs the model's tokenizer can encode (cached); facts are filtered lazily, so a
    large release costs only the facts actually drawn."""

    def __init__(self, bundle):
        self.bundle = bundle
        self._ok: dict[tuple[str, str], bool] = {}

    def ok(self, query: str, answer: str) -> bool:
        key = (query, answer)
        if key not in self._ok:
            from ..probing.targets import Probe, encode_probes

            try:
                encode_probes(self.bundle, [Probe(query, answer)])
                self._ok[key] = True
            except RmlLamaError:
                self._ok[key] = False
        return self._ok[key]

    def fact(self, fact: FactQueries, langs: Sequence[str]) -> Optional[FactQueries]:
        """The fact with its unencodable queries dropped; None when a language is left without queries."""
        kept = {lang: [pair for pair in fact.by_lang.get(lang, []) if self.ok(*pair)] for lang in langs}
        if not all(kept.values()):
            return None
        return FactQueries(fact.fact_id, fact.relation, fact.obj_uri, kept)


def sample_facts(pool: dict[str, FactQueries], n: int, per_relation: Optional[int], seed: int,
                 first: Sequence[str] = (), accept=None) -> list[FactQueries]:
    """A seeded sample of n facts (at most `per_relation` per relation), starting with `first`; `accept(fact)`
    returns the usable fact (e.g. without unencodable queries) or None to skip it."""
    accept = accept or (lambda fact: fact)
    ids = sorted(pool)
    order = [fid for fid in dict.fromkeys(first) if fid in pool]
    order += [ids[index] for index in np.random.default_rng(seed).permutation(len(ids)) if ids[index] not in order]
    chosen: list[FactQueries] = []
    per_rel: dict[str, int] = {}
    for position, fid in enumerate(order):
        if len(chosen) >= n and position >= len(first):
            break
        fact = pool[fid]
        if position >= len(first) and per_relation is not None and per_rel.get(fact.relation, 0) >= per_relation:
            continue
        usable = accept(fact)
        if usable is None:
            continue
        chosen.append(usable)
        per_rel[fact.relation] = per_rel.get(fact.relation, 0) + 1
    return chosen


def candidate_objects(frame: pd.DataFrame, fact_ids: Iterable[str]) -> dict[tuple[str, str], list[str]]:
    """(relation, lang) -> the distinct object labels of those facts, sorted: mLAMA-style candidate sets."""
    rows = frame[frame[F.FACT_ID].isin(set(fact_ids))]
    grouped = rows.groupby([F.RELATION, F.LANG])[F.OBJ_LABEL].unique()
    return {key: sorted(set(labels)) for key, labels in grouped.items()}


def candidates_for(all_candidates: list[str], gold: str, cap: Optional[int], rng: np.random.Generator) -> list[str]:
    others = [c for c in all_candidates if c != gold]
    if cap is not None and len(others) > cap - 1:
        others = sorted(rng.choice(others, size=max(cap - 1, 0), replace=False).tolist())
    return sorted([gold, *others])


def unrelated_queries(fact: FactQueries, pool: dict[str, FactQueries], pool_ids: list[str], langs: Sequence[str],
                      seed: int, ok=None, attempts: int = 50) -> dict[str, list[tuple[str, str]]]:
    """For each of the fact's queries, one query in the same language of another fact with another object
    (drawn with a generator seeded by the fact; `ok(query, answer)` rejects pairs the model cannot encode)."""
    ok = ok or (lambda query, answer: True)
    rng = seeded_rng(seed, fact.fact_id, "unrelated")
    others = [fid for fid in pool_ids if fid != fact.fact_id and pool[fid].obj_uri != fact.obj_uri]
    picked: dict[str, list[tuple[str, str]]] = {}
    for lang in langs:
        candidates = [fid for fid in others if pool[fid].by_lang.get(lang)]
        picked[lang] = []
        for _ in fact.by_lang.get(lang, []):
            for _ in range(attempts if candidates else 0):
                options = pool[candidates[int(rng.integers(len(candidates)))]].by_lang[lang]
                pair = options[int(rng.integers(len(options)))]
                if ok(*pair):
                    picked[lang].append(pair)
                    break
    return picked


@dataclass
class RunPlan:
    """The facts of a run, in their seeded order, with what scoring them needs."""

    facts: list[FactQueries]  # usable facts (unencodable queries dropped), in the order ranks share them
    pool: dict[str, FactQueries]  # every eligible fact: where unrelated queries are drawn from
    candidate_sets: dict[tuple[str, str], list[str]]
    plants: dict[str, list[dict]]  # fact id -> its planted neurons (planted models only)
    probe_filter: ProbeFilter


def plan_run(bundle, frame: pd.DataFrame, options: EvalOptions, model_facts: Optional[Sequence[str]],
             truth: Optional[dict]) -> RunPlan:
    """Choose the facts: complete in every language (object-final queries for left-to-right models), among the
    model's facts when it lists them, in the split (planted facts always, first), encodable by the model."""
    all_langs = options.langs + options.holdout_langs
    plants: dict[str, list[dict]] = {}
    for plant in (truth or {}).get("plants", []):
        plants.setdefault(plant["fact_id"], []).append(plant)
    known = set(model_facts) | set(plants) if model_facts is not None else None
    if known is not None:
        frame = frame[frame[F.FACT_ID].isin(known)]
    grouped = group_facts(frame, all_langs, options.max_rephrasings, getattr(bundle, "kind", "masked") == "causal")
    in_split = (set(frame.loc[frame[SPLIT_COLUMN] == options.split, F.FACT_ID])
                if options.split and SPLIT_COLUMN in frame else None)
    pool = {fid: fact for fid, fact in complete_facts(grouped, all_langs).items()
            if in_split is None or fid in in_split or fid in plants}
    if not pool:
        raise RmlLamaError("no fact has queries in every requested language (and split / model facts); "
                           f"languages: {', '.join(all_langs)}")
    probe_filter = ProbeFilter(bundle)
    chosen = sample_facts(pool, options.facts, options.facts_per_relation, options.seed, sorted(plants),
                          accept=lambda fact: probe_filter.fact(fact, all_langs))
    if not chosen:
        raise RmlLamaError("no fact has queries the model can encode in every requested language")
    return RunPlan(chosen, pool, candidate_objects(frame, grouped), plants, probe_filter)
