"""The evaluation run: localize knowledge neurons with each localizer and score them, fact by fact.

    rml-lama evaluate --model M --localizers matrice,amig,kn,random --langs en,fr,... --facts 200 --out DIR
    torchrun --nproc-per-node 2 -m rml_lama.evaluate --out DIR ...      (same arguments; gloo on CPU)

Layout of DIR:
    config.json             how the run was made; a rerun with other options into DIR is refused
    results.rank<R>.jsonl   one line per (fact, localizer), appended, flushed and fsynced when done
    summary.json, report.md, *.png   written by `rml-lama report DIR` (and at the end of a run)

Rank R of W takes the facts at positions i with i % W == R of the seeded fact order. A killed run resumes:
every (fact, localizer) already in any shard is skipped, and a truncated last line is dropped first.
Attributions are computed once per fact and baseline, and shared by every localizer that reads them.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

import numpy as np
import pandas as pd

from .._version import __version__
from ..errors import RmlLamaError
from ..localizers import (
    LOCALIZERS,
    Amig,
    FactAttributions,
    Localization,
    Localizer,
    QueryScores,
)
from ..localizers.base import seeded_rng
from ..paths import (
    MODEL_CONFIG_FILE,
    MODEL_FACTS_FILE,
    RUN_CONFIG_FILE,
    SHARD_GLOB,
    SHIPPED_RELEASE,
    SPLIT_COLUMN,
    TRUTH_FILE,
    shard_path,
)
from ..schema import LANGUAGES, TEMPLATE_SOURCES, F
from .metrics import (
    INTERVENTIONS,
    CandidateRanker,
    ProbeSet,
    accuracy,
    ground_truth_scores,
    language_overlap,
    layer_distribution,
    mean_relative_change,
    nan_mean,
    neuron_counts,
    stability,
)

AMIG_QUERIES_PER_LANG = 2  # AMIG reads one query per language; the second one gives its other stability half
REFERENCE_LOCALIZER = "matrice"


# ------------------------------------------------------------------------------------------- options
@dataclass(frozen=True)
class EvalOptions:
    """Everything that determines the results of a run (what config.json records and compares)."""

    localizers: tuple[str, ...]
    langs: tuple[str, ...]
    holdout_langs: tuple[str, ...] = ()
    facts: int = 200
    facts_per_relation: Optional[int] = None
    max_rephrasings: Optional[int] = None
    max_candidates: Optional[int] = None
    min_prob: float = 1e-4  # queries with a smaller gold probability are left out of relative changes
    split: Optional[str] = "test"
    steps: int = 20
    layers: Optional[tuple[int, ...]] = None
    seed: int = 0
    internal_batch_size: int = 64  # budget only: not part of the run's identity

    def identity(self) -> dict:
        data = {key: (list(value) if isinstance(value, tuple) else value) for key, value in vars(self).items()}
        data.pop("internal_batch_size")
        return data


def parse_list(text: Optional[str]) -> tuple[str, ...]:
    return tuple(part.strip() for part in (text or "").split(",") if part.strip())


def parse_layers(text: Optional[str]) -> Optional[tuple[int, ...]]:
    """"0-5" -> (0, ..., 5); "2,4,6" -> (2, 4, 6); None -> all layers."""
    if not text:
        return None
    layers: list[int] = []
    try:
        for part in parse_list(text):
            if "-" in part:
                first, last = (int(x) for x in part.split("-", 1))
                layers.extend(range(first, last + 1))
            else:
                layers.append(int(part))
    except ValueError:
        raise RmlLamaError(f"--layers {text!r}: expected a range like 0-5 or a list like 2,4,6") from None
    return tuple(sorted(set(layers)))


def check_localizers(names: Sequence[str]) -> tuple[str, ...]:
    unknown = [name for name in names if name not in LOCALIZERS]
    if unknown or not names:
        raise RmlLamaError(
            f"unknown localizer(s) {', '.join(map(repr, unknown)) or '(none given)'}; known: {', '.join(LOCALIZERS)}"
        )
    return tuple(dict.fromkeys(names))


def check_langs(langs: Sequence[str], available: Sequence[str], what: str) -> None:
    unknown = [lang for lang in langs if lang not in LANGUAGES]
    if unknown:
        raise RmlLamaError(f"{what}: unknown language(s) {', '.join(unknown)}; known: {', '.join(LANGUAGES)}")
    missing = [lang for lang in langs if lang not in available]
    if missing:
        raise RmlLamaError(f"{what}: language(s) {', '.join(missing)} not in the release; it has {', '.join(available)}")


# -------------------------------------------------------------------------------------------- config
def write_or_check_config(out: Path, config: dict) -> None:
    """Create out/config.json, or check that the one there is the same; never overwrite (race-free for ranks)."""
    out.mkdir(parents=True, exist_ok=True)
    path = out / RUN_CONFIG_FILE
    text = json.dumps(config, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    if not path.exists():
        fd, tmp = tempfile.mkstemp(prefix=".config.", suffix=".tmp", dir=out)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(text)
                handle.flush()
                os.fsync(handle.fileno())
            os.link(tmp, path)  # fails if another process created it meanwhile
            return
        except FileExistsError:
            pass
        finally:
            os.unlink(tmp)
    try:
        existing = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as error:
        raise RmlLamaError(f"{path}: not valid JSON ({error}); refusing to write into {out}") from None
    if existing != config:
        differs = sorted(key for key in set(existing) | set(config) if existing.get(key) != config.get(key))
        detail = differs
        if "options" in differs:
            old, new = existing.get("options", {}), config.get("options", {})
            detail = [k for k in differs if k != "options"] + [
                f"options.{k}" for k in sorted(set(old) | set(new)) if old.get(k) != new.get(k)
            ]
        raise RmlLamaError(
            f"{out} holds a run of another configuration (differs in: {', '.join(detail)}); "
            "choose another --out (existing results are never overwritten)"
        )


# ----------------------------------------------------------------------------------------- the facts
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


def select_facts(pool: dict[str, FactQueries], n: int, per_relation: Optional[int], seed: int,
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


# ------------------------------------------------------------------------------------------- shards
def read_records(path: Path) -> list[dict]:
    """The complete lines of a shard (a truncated or corrupt last line, from a killed run, is ignored)."""
    records = []
    if not path.exists():
        return records
    lines = path.read_text(encoding="utf-8").split("\n")
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            records.append(json.loads(line))
        except ValueError:
            if number < len(lines) - 1:
                raise RmlLamaError(f"{path}:{number}: corrupt result line (not the last one); fix or remove it") from None
    return records


def read_all_records(out: Path) -> list[dict]:
    return [record for path in sorted(Path(out).glob(SHARD_GLOB)) for record in read_records(path)]


def repair_shard(path: Path) -> None:
    """Drop a partial last line (a run killed mid-write), so appended lines start on a line of their own."""
    if not path.exists() or path.stat().st_size == 0:
        return
    data = path.read_bytes()
    if data.endswith(b"\n"):
        return
    with open(path, "r+b") as handle:
        handle.truncate(data.rfind(b"\n") + 1)
        handle.flush()
        os.fsync(handle.fileno())


class ShardWriter:
    """Appends one JSON line per result, flushed and fsynced before the next fact starts."""

    def __init__(self, path: Path):
        repair_shard(path)
        self.path = path
        self.handle = open(path, "a", encoding="utf-8")

    def write(self, record: dict) -> None:
        self.handle.write(json.dumps(record, sort_keys=True, ensure_ascii=False) + "\n")
        self.handle.flush()
        os.fsync(self.handle.fileno())

    def close(self) -> None:
        self.handle.close()


# ---------------------------------------------------------------------------------- attributions
def probes_of(pairs: Sequence[tuple[str, str]]):
    from ..probing.targets import Probe

    return [Probe(query, answer) for query, answer in pairs]


def fact_attributions(bundle, fact: FactQueries, langs: Sequence[str], baselines: dict[str, Optional[int]],
                      options: EvalOptions) -> FactAttributions:
    """Attributions of the fact's queries in `langs` for each baseline (value: queries per language, None = all)."""
    from ..probing.attribution import attribute

    result: Optional[FactAttributions] = None
    queries: dict[str, dict[str, list[QueryScores]]] = {}
    for baseline, per_lang in baselines.items():
        chosen = {lang: fact.by_lang[lang][:per_lang] if per_lang else fact.by_lang[lang] for lang in langs}
        flat = [(lang, pair) for lang in langs for pair in chosen[lang]]
        attributions = attribute(
            bundle, probes_of([pair for _, pair in flat]), steps=options.steps, baseline=baseline,
            layers=list(options.layers) if options.layers else None,
            internal_batch_size=options.internal_batch_size,
        )
        queries[baseline] = {lang: [] for lang in langs}
        for (lang, _), attribution in zip(flat, attributions):
            scores = attribution.scores.detach().to("cpu").double().numpy()
            queries[baseline][lang].append(QueryScores(scores, float(attribution.gold_prob)))
        if result is None:
            result = FactAttributions(fact.fact_id, tuple(int(x) for x in attributions[0].layers), scores.shape[1])
    assert result is not None
    result.queries = queries
    return result


def needed_baselines(localizers: Sequence[Localizer]) -> dict[str, Optional[int]]:
    """Baseline -> queries per language to attribute (None = all). AMIG reads the first query per language
    (and the second, for its other stability half); the others read all."""
    needed: dict[str, Optional[int]] = {}
    for localizer in localizers:
        want = AMIG_QUERIES_PER_LANG if isinstance(localizer, Amig) else None
        for baseline in localizer.baselines:
            if baseline not in needed:
                needed[baseline] = want
            elif needed[baseline] is None or want is None:
                needed[baseline] = None
            else:
                needed[baseline] = max(needed[baseline], want)
    return needed


# ------------------------------------------------------------------------------------------ scoring
@dataclass
class FactProbes:
    """The probes a fact is scored on (own and unrelated, per language) and the candidates for accuracy."""

    own: dict[str, list]
    unrelated: dict[str, list]
    candidates: dict[str, list[list[str]]]


def prepare_probes(fact: FactQueries, unrelated: dict[str, list[tuple[str, str]]], all_langs: Sequence[str],
                   candidate_sets: dict[tuple[str, str], list[str]], options: EvalOptions) -> FactProbes:
    own = {lang: probes_of(fact.by_lang[lang]) for lang in all_langs}
    rng = seeded_rng(options.seed, fact.fact_id, "candidates")
    candidates = {
        lang: [candidates_for(candidate_sets.get((fact.relation, lang), [p.answer]), p.answer, options.max_candidates,
                              rng) for p in own[lang]]
        for lang in all_langs
    }
    return FactProbes(own, {lang: probes_of(unrelated.get(lang, [])) for lang in all_langs}, candidates)


class FactScorer:
    """Gold probabilities and ranks of one fact's probes under interventions, computed once per
    (neuron set, factor, language) and shared by every localizer that found the same set; the languages that
    share a neuron set are run in one batched call."""

    def __init__(self, bundle, probes: FactProbes, ranked_langs: Sequence[str]):
        self.bundle, self.probes = bundle, probes
        self._probs: dict[tuple, tuple[np.ndarray, np.ndarray]] = {}
        self._ranks: dict[tuple, np.ndarray] = {}
        self._rank_rows: dict[str, list[int]] = {}
        flat_probes, flat_candidates = [], []
        for lang in ranked_langs:
            self._rank_rows[lang] = list(range(len(flat_probes), len(flat_probes) + len(probes.own[lang])))
            flat_probes += probes.own[lang]
            flat_candidates += probes.candidates[lang]
        self.ranker = CandidateRanker(bundle, flat_probes, flat_candidates)
        self._prob_rows: dict[str, tuple[list[int], list[int]]] = {}
        scored = []
        for lang in probes.own:
            own = list(range(len(scored), len(scored) + len(probes.own[lang])))
            scored += probes.own[lang]
            unrelated = list(range(len(scored), len(scored) + len(probes.unrelated[lang])))
            scored += probes.unrelated[lang]
            self._prob_rows[lang] = (own, unrelated)
        self.probe_set = ProbeSet(bundle, scored)

    def probs(self, neurons: Sequence, factor: float, langs: Sequence[str]) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """lang -> (own, unrelated) gold probabilities with `neurons` scaled by `factor` (empty set: unmodified)."""
        key = (frozenset(map(tuple, neurons)), factor) if neurons else (frozenset(), 1.0)
        missing = [lang for lang in langs if key + (lang,) not in self._probs]
        if missing:
            rows = [row for lang in missing for part in self._prob_rows[lang] for row in part]
            values = dict(zip(rows, self.probe_set.probs_with(list(key[0]), key[1], rows)))
            for lang in missing:
                own, unrelated = self._prob_rows[lang]
                self._probs[key + (lang,)] = (np.array([values[r] for r in own]), np.array([values[r] for r in unrelated]))
        return {lang: self._probs[key + (lang,)] for lang in langs}

    def ranks(self, neurons: Sequence, factor: float, langs: Sequence[str]) -> dict[str, np.ndarray]:
        """lang -> gold ranks among the candidates of the own probes, with `neurons` scaled by `factor`."""
        key = (frozenset(map(tuple, neurons)), factor) if neurons else (frozenset(), 1.0)
        missing = [lang for lang in langs if key + (lang,) not in self._ranks]
        if missing:
            rows = [row for lang in missing for row in self._rank_rows[lang]]
            values = np.asarray(self.ranker.ranks_with(list(key[0]), key[1], rows))
            start = 0
            for lang in missing:
                count = len(self.probes.own[lang])
                self._ranks[key + (lang,)] = values[start : start + count]
                start += count
        return {lang: self._ranks[key + (lang,)] for lang in langs}

    def by_neuron_set(self, neurons_of_lang, langs: Sequence[str], compute, factor: float) -> dict:
        """Run `compute(neurons, factor, langs)` once per distinct neuron set among the languages."""
        groups: dict[frozenset, list[str]] = {}
        for lang in langs:
            groups.setdefault(frozenset(map(tuple, neurons_of_lang(lang))), []).append(lang)
        result = {}
        for neurons, group in groups.items():
            result.update(compute(sorted(neurons), factor, group))
        return result


def _effects(scorer: FactScorer, neurons_of_lang, langs: Sequence[str], min_prob: float) -> dict[str, dict]:
    """Mean relative change of the gold probability per intervention, on own and on unrelated queries,
    per language and over all queries."""
    before = scorer.probs([], 1.0, langs)
    result: dict[str, dict] = {"own": {"by_lang": {}}, "unrelated": {"by_lang": {}}}
    for name, factor in INTERVENTIONS.items():
        after = scorer.by_neuron_set(neurons_of_lang, langs, scorer.probs, factor)
        for which, part in (("own", 0), ("unrelated", 1)):
            for lang in langs:
                result[which]["by_lang"].setdefault(lang, {})[name] = mean_relative_change(
                    before[lang][part], after[lang][part], min_prob)
            result[which][name] = mean_relative_change(
                np.concatenate([before[lang][part] for lang in langs]),
                np.concatenate([after[lang][part] for lang in langs]), min_prob)
    return result


def score_localization(scorer: FactScorer, localization: Localization, options: EvalOptions) -> dict:
    """Interventions (own / unrelated), cross-language effects of the LAKNs and accuracy of one localization."""
    langs, all_langs = options.langs, options.langs + options.holdout_langs
    in_lang = _effects(scorer, lambda lang: localization.per_lang.get(lang, []), langs, options.min_prob)
    cross = _effects(scorer, lambda lang: localization.agnostic, all_langs, options.min_prob)
    for name in INTERVENTIONS:
        cross["own"][f"holdout_{name}"] = nan_mean(cross["own"]["by_lang"][lang][name] for lang in options.holdout_langs)
    acc: dict[str, Any] = {"by_lang": {}}
    per_lang = lambda lang: localization.per_lang.get(lang, [])
    for name, factor in {"before": None, **INTERVENTIONS}.items():
        ranks = (scorer.ranks([], 1.0, langs) if factor is None else
                 scorer.by_neuron_set(per_lang, langs, scorer.ranks, factor))
        for lang in langs:
            acc["by_lang"].setdefault(lang, {})[name] = accuracy(ranks[lang])
        acc[name] = accuracy(np.concatenate([np.asarray(ranks[lang]) for lang in langs]))
    return {
        "own": in_lang["own"],
        "unrelated": in_lang["unrelated"],
        "cross": cross["own"],
        "cross_unrelated": cross["unrelated"],
        "accuracy": acc,
    }


def localize_all(localizer: Localizer, attributions: FactAttributions,
                 reference: Optional[tuple[Localization, Localization, Localization]]):
    """The localization from all queries and from the two halves (for stability)."""
    def run(attr: FactAttributions, ref: Optional[Localization], salt: str) -> Localization:
        if localizer.needs_reference:
            return localizer.localize(attr, ref, salt=salt)  # type: ignore[call-arg]
        return localizer.localize(attr)

    refs = reference or (None, None, None)
    return run(attributions, refs[0], ""), run(attributions.half(0), refs[1], "half0"), \
        run(attributions.half(1), refs[2], "half1")


def fact_record(fact: FactQueries, name: str, localization: Localization, halves: tuple[Localization, Localization],
                scores: dict, plants: Optional[list[dict]], rank: int) -> dict:
    record = {
        "fact_id": fact.fact_id,
        "relation": fact.relation,
        "localizer": name,
        "rank": rank,
        "neurons": localization.to_json(),
        "counts": neuron_counts(localization),
        "layers": layer_distribution(localization.all_neurons()),
        "overlap": language_overlap(localization.per_lang),
        "stability": stability(*halves),
        **scores,
    }
    if plants:  # only planted facts are scored against the truth
        record["planted"] = ground_truth_scores(localization, plants)
    return _rounded(record)


def _rounded(value):
    if isinstance(value, float):
        return None if not np.isfinite(value) else round(value, 8)
    if isinstance(value, dict):
        return {k: _rounded(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_rounded(v) for v in value]
    if isinstance(value, np.generic):
        return _rounded(value.item())
    return value


# --------------------------------------------------------------------------------------------- the run
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
    chosen = select_facts(pool, options.facts, options.facts_per_relation, options.seed, sorted(plants),
                          accept=lambda fact: probe_filter.fact(fact, all_langs))
    if not chosen:
        raise RmlLamaError("no fact has queries the model can encode in every requested language")
    return RunPlan(chosen, pool, candidate_objects(frame, grouped), plants, probe_filter)


def run_evaluation(bundle, frame: pd.DataFrame, options: EvalOptions, out: Path, config: dict,
                   model_facts: Optional[Sequence[str]] = None, truth: Optional[dict] = None,
                   rank: int = 0, world: int = 1, progress: bool = True) -> int:
    """Evaluate every (fact, localizer) of this rank not yet in `out`; returns the number of lines written."""
    from tqdm.auto import tqdm

    out = Path(out)
    write_or_check_config(out, config)
    all_langs = options.langs + options.holdout_langs
    plan = plan_run(bundle, frame, options, model_facts, truth)
    fact_ids = [fact.fact_id for fact in plan.facts]
    usable = {fact.fact_id: fact for fact in plan.facts}
    pool, pool_ids, candidate_sets = plan.pool, sorted(plan.pool), plan.candidate_sets
    mine = [fid for index, fid in enumerate(fact_ids) if index % world == rank]
    done = {(r["fact_id"], r["localizer"]) for r in read_all_records(out)}
    localizers = [LOCALIZERS[name].create(seed=options.seed) for name in options.localizers]
    reference = LOCALIZERS[REFERENCE_LOCALIZER].create(seed=options.seed)
    needs_reference = any(loc.needs_reference for loc in localizers)
    attribution_users = localizers + ([reference] if needs_reference else [])
    baselines = needed_baselines(attribution_users)

    todo = [fid for fid in mine if any((fid, name) not in done for name in options.localizers)]
    written = 0
    writer = ShardWriter(shard_path(out, rank))
    bar = tqdm(total=len(mine), initial=len(mine) - len(todo), unit="fact", disable=not progress,
               desc=f"evaluate (rank {rank}/{world})" if world > 1 else "evaluate", dynamic_ncols=True)
    try:
        for fid in todo:
            fact = usable[fid]
            attributions = fact_attributions(bundle, fact, options.langs, baselines, options)
            unrelated = unrelated_queries(fact, pool, pool_ids, all_langs, options.seed, plan.probe_filter.ok)
            scorer = FactScorer(bundle, prepare_probes(fact, unrelated, all_langs, candidate_sets, options),
                                options.langs)
            reference_result = localize_all(reference, attributions, None) if needs_reference else None
            for localizer in localizers:
                if (fid, localizer.name) in done:
                    continue
                full, half0, half1 = localize_all(localizer, attributions, reference_result)
                scores = score_localization(scorer, full, options)
                record = fact_record(fact, localizer.name, full, (half0, half1), scores, plan.plants.get(fid), rank)
                writer.write(record)
                written += 1
            bar.update(1)
    finally:
        bar.close()
        writer.close()
    return written


# ---------------------------------------------------------------------------------------------- CLI
def options_from_args(args: argparse.Namespace) -> EvalOptions:
    return EvalOptions(
        localizers=check_localizers(parse_list(args.localizers)),
        langs=parse_list(args.langs),
        holdout_langs=parse_list(args.holdout_langs),
        facts=args.facts,
        facts_per_relation=args.facts_per_relation,
        max_rephrasings=args.max_rephrasings,
        max_candidates=getattr(args, "max_candidates", None),
        min_prob=getattr(args, "min_prob", 1e-4),
        split=args.split,
        steps=args.steps,
        layers=parse_layers(args.layers),
        seed=args.seed,
        internal_batch_size=args.internal_batch_size,
    )


def run_config(options: EvalOptions, model_id: str, release_checksum: str, truth_path: Optional[str]) -> dict:
    return {
        "options": options.identity(),
        "localizer_params": {name: LOCALIZERS[name].create(seed=options.seed).params() for name in options.localizers},
        "model": model_id,
        "release_checksum": release_checksum,
        "planted": truth_path,
        "package_version": __version__,
    }


def _read_json(path: Path, what: str) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise RmlLamaError(f"{path}: cannot read {what} ({error})") from None


def _model_facts(model_dir: Path) -> Optional[list[str]]:
    path = model_dir / MODEL_FACTS_FILE
    return list(_read_json(path, "the model's fact list")["facts"]) if path.is_file() else None


def _distributed() -> tuple[int, int]:
    """(rank, world size) from torchrun's environment; initialises a gloo/nccl group when world > 1."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    if world > 1:
        import torch.distributed as dist

        if not dist.is_initialized():
            dist.init_process_group("gloo")
    return rank, world


def _barrier(world: int) -> None:
    if world > 1:
        import torch.distributed as dist

        dist.barrier()


def cmd_evaluate(args: argparse.Namespace) -> int:
    """`rml-lama evaluate`: resolve model, release and options, run this rank's share, report at the end."""
    from ..dataset.release import read_release, release_checksum, release_languages

    options = options_from_args(args)
    if not options.langs:
        raise RmlLamaError("--langs: give at least one language")
    overlap = set(options.langs) & set(options.holdout_langs)
    if overlap:
        raise RmlLamaError(f"--holdout-langs {', '.join(sorted(overlap))} also in --langs; held-out means not used")
    release_dir = Path(args.release) if args.release else SHIPPED_RELEASE
    available = release_languages(release_dir)
    check_langs(options.langs, available, "--langs")
    check_langs(options.holdout_langs, available, "--holdout-langs")
    if args.model:
        model_id = args.model
    else:
        from ..testbeds.train import default_model_path

        model_id = str(default_model_path())
        if not Path(model_id, MODEL_CONFIG_FILE).is_file():
            raise RmlLamaError(f"no default model at {model_id}; train it (`rml-lama train-model`) or pass --model")
    model_dir = Path(model_id)
    truth_path = Path(args.planted) if args.planted else (model_dir / TRUTH_FILE)
    truth = _read_json(truth_path, "the planted truth") if truth_path.is_file() else None
    if args.planted and truth is None:
        raise RmlLamaError(f"--planted {args.planted}: no such file")
    config = run_config(options, model_id, release_checksum(release_dir), str(truth_path) if truth else None)
    out = Path(args.out)
    write_or_check_config(out, config)  # fail fast, before loading anything
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    from ..models import load_model

    bundle = load_model(model_id, device=args.device)
    if options.layers and max(options.layers) >= bundle.n_layers:
        raise RmlLamaError(f"--layers {args.layers}: the model has layers 0-{bundle.n_layers - 1}")
    frame = read_release(release_dir, langs=list(options.langs + options.holdout_langs))
    rank, world = _distributed()
    model_facts = _model_facts(model_dir) if model_dir.is_dir() else None
    base = Path(str((truth or {}).get("base_model") or ""))
    if model_facts is None and truth and base.is_dir():  # a planted model knows its base model's facts
        model_facts = _model_facts(base)
    written = run_evaluation(bundle, frame, options, out, config, model_facts, truth, rank, world)
    print(f"rank {rank}: wrote {written} result lines to {shard_path(out, rank)}", file=sys.stderr)
    _barrier(world)
    if rank == 0:
        from .report import write_report

        write_report(out, print_table=True)
    return 0


def main(argv: Optional[Sequence[str]] = None) -> int:
    """`python -m rml_lama.evaluate ARGS` (for torchrun): the same arguments as `rml-lama evaluate`."""
    from ..cli import build_parser

    args = build_parser().parse_args(["evaluate", *(sys.argv[1:] if argv is None else argv)])
    try:
        return cmd_evaluate(args)
    except RmlLamaError as error:
        print(f"rml-lama evaluate: error: {error}", file=sys.stderr)
        return 2
    finally:
        if int(os.environ.get("WORLD_SIZE", "1")) > 1:
            import torch.distributed as dist

            if dist.is_initialized():
                dist.destroy_process_group()


if __name__ == "__main__":
    sys.exit(main())
