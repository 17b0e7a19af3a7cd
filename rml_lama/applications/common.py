"""What the three studies share: the model and release they run on, the facts they draw (the evaluation's own
sampling), the split of each fact's rephrasings into the half used to localize / edit / train and the held-out
half, counterfactual objects, localization from chosen languages, matched random controls, and the resumable
per-fact loop over the evaluation's run store (config.json + results.rank<R>.jsonl).
"""
from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

import numpy as np
import pandas as pd
import torch

from .._version import __version__
from ..dataset.release import read_release, release_checksum, release_languages
from ..errors import RmlLamaError
from ..evaluation.localize import fact_attributions, needed_baselines
from ..evaluation.options import check_langs, check_localizers, parse_list
from ..evaluation.run import known_facts
from ..evaluation.store import (
    ShardWriter,
    check_config,
    read_all_records,
    read_json,
    rounded,
    run_folder,
    write_or_check_config,
)
from ..localizers import LOCALIZERS, FactAttributions, Localization
from ..localizers.base import seeded_rng
from ..models import load_model
from ..paths import DEFAULT_MODEL_DIR, MODEL_CONFIG_FILE, SHIPPED_RELEASE, TRUTH_FILE, shard_path
from ..schema import CORE_LANGUAGES, F
from .report import write_study_report

Neuron = tuple[int, int]
Pairs = list[tuple[str, str]]  # (query, answer label)


# -------------------------------------------------------------------------------------- model + release
@dataclass
class StudyInputs:
    """The loaded model, the release rows of the study's languages and what the model folder says about itself."""

    bundle: Any
    frame: pd.DataFrame
    model_id: str
    release_checksum: str
    truth: Optional[dict]
    truth_path: Optional[str]
    model_facts: Optional[list[str]]
    release_dir: Optional[Path] = None


def resolve_model_id(model: Optional[str]) -> str:
    if model:
        return model
    model_id = str(DEFAULT_MODEL_DIR)
    if not Path(model_id, MODEL_CONFIG_FILE).is_file():
        raise RmlLamaError(f"no default model at {model_id}; train it (`rml-lama train-model`) or pass --model")
    return model_id


def model_side(model_id: str) -> tuple[Optional[dict], Optional[str], Optional[list[str]]]:
    """(planted truth, its path, the facts the model was taught) from the model folder (a planted model knows
    its base model's facts)."""
    truth_path = Path(model_id) / TRUTH_FILE
    truth = read_json(truth_path, "the planted truth") if truth_path.is_file() else None
    return truth, (str(truth_path) if truth else None), known_facts(model_id, truth)


def check_study_langs(langs: Sequence[str], release_dir: Path, what: str = "--langs") -> None:
    if not langs:
        raise RmlLamaError(f"{what}: give at least one language")
    check_langs(langs, release_languages(release_dir), what)


def resolve_inputs(args: argparse.Namespace, langs: Sequence[str]) -> StudyInputs:
    """Everything a study's config needs, checked, without loading the model or the release rows."""
    release_dir = Path(args.release) if getattr(args, "release", None) else SHIPPED_RELEASE
    check_study_langs(langs, release_dir)
    model_id = resolve_model_id(getattr(args, "model", None))
    truth, truth_path, model_facts = model_side(model_id)
    return StudyInputs(None, pd.DataFrame(), model_id, release_checksum(release_dir), truth, truth_path, model_facts,
                       release_dir)


def load_inputs(args: argparse.Namespace, inputs: StudyInputs, langs: Sequence[str],
                layers: Optional[Sequence[int]] = None) -> StudyInputs:
    """The model (in memory, on --device) and the release rows of `langs`."""
    if getattr(args, "threads", None):
        torch.set_num_threads(args.threads)
    bundle = load_model(inputs.model_id, device=getattr(args, "device", None))
    if layers and max(layers) >= bundle.n_layers:
        raise RmlLamaError(f"--layers {args.layers}: the model has layers 0-{bundle.n_layers - 1}")
    frame = read_release(inputs.release_dir, langs=list(langs))
    return StudyInputs(bundle, frame, inputs.model_id, inputs.release_checksum, inputs.truth, inputs.truth_path,
                       inputs.model_facts, inputs.release_dir)


def run_study(args: argparse.Namespace, study: str, options, run: Callable[[StudyInputs, dict], int],
              extra: Optional[dict] = None) -> int:
    """A study command, the evaluation's protocol for a results folder: inputs checked and config.json made
    (`extra` adds to it); another run's folder is refused before anything loads; then, holding the folder's
    lock, load, run this study (`run(inputs, config)`) and write its report."""
    inputs = resolve_inputs(args, options.langs)
    config = study_config(study, options.identity(), options.localizers, inputs.model_id, inputs.release_checksum,
                          inputs.truth_path, options.seed, extra)
    out = Path(args.out)
    check_config(out, config)
    with run_folder(out) as lock:
        if lock.took_over:
            print(f"note: took over the lock of process {lock.took_over}, which is gone", file=sys.stderr)
        run(load_inputs(args, inputs, options.langs, options.layers), config)
        write_study_report(out, print_table=True)
    return 0


def study_config(study: str, options: dict, localizers: Sequence[str], inputs_model: str, checksum: str,
                 truth_path: Optional[str], seed: int, extra: Optional[dict] = None) -> dict:
    """config.json of a study run: what `rml-lama report` reads to know the study, and what a rerun must match."""
    return {
        "study": study,
        "options": options,
        "localizer_params": {name: LOCALIZERS[name].create(seed=seed).params() for name in localizers},
        "model": inputs_model,
        "release_checksum": checksum,
        "planted": truth_path,
        "package_version": __version__,
        **(extra or {}),
    }


def check_study_localizers(names: Sequence[str]) -> tuple[str, ...]:
    """Registered localizers that find neurons from attributions (the random one is a control here, always run)."""
    names = check_localizers(names)
    matched = [name for name in names if LOCALIZERS[name].create().reference_localizer]
    if matched:
        raise RmlLamaError(f"localizer(s) {', '.join(matched)}: random neurons are a control of every study "
                           "(random, random-layers arms), not a localizer to edit through")
    return names


def parse_floats(text: str, what: str) -> tuple[float, ...]:
    try:
        values = tuple(float(part) for part in parse_list(text))
    except ValueError:
        raise RmlLamaError(f"{what} {text!r}: expected numbers separated by commas, like 1.5,2,4") from None
    if not values:
        raise RmlLamaError(f"{what}: give at least one value")
    return values


# ------------------------------------------------------------------------------------------ facts
def halves(pairs: Sequence[tuple[str, str]]) -> tuple[Pairs, Pairs]:
    """(used, held out): the rephrasings at even positions localize / edit / train, those at odd positions are
    held out (the evaluation's stability halves use the same positions)."""
    return list(pairs[0::2]), list(pairs[1::2])


def object_labels(frame: pd.DataFrame) -> dict[tuple[str, str], dict[str, str]]:
    """(relation, obj_uri) -> {lang: object label} over the release rows."""
    rows = frame.drop_duplicates([F.RELATION, F.OBJ_URI, F.LANG])
    labels: dict[tuple[str, str], dict[str, str]] = {}
    for relation, uri, lang, label in zip(rows[F.RELATION], rows[F.OBJ_URI], rows[F.LANG], rows[F.OBJ_LABEL]):
        labels.setdefault((relation, uri), {})[lang] = label
    return labels


def choose_new_object(fact, labels: dict[tuple[str, str], dict[str, str]], langs: Sequence[str], ok,
                      seed: int, preferred: Optional[set[str]] = None,
                      length=None) -> Optional[tuple[str, dict[str, str]]]:
    """A counterfactual object: another object (Wikidata id) of the fact's relation with a label in every
    language, different from the old label there, that every query of the fact can take (`ok(query, label)`).
    Preference, each group in a seeded order: objects whose label has as many tokens as the old one in every
    language (`length(query, label)`; for a masked LM the query then has the same input for both, so P(new) and
    P(old) are read from one forward), then objects in `preferred` (those of facts the model knows)."""
    rng = seeded_rng(seed, fact.fact_id, "new-object")
    uris = sorted(uri for (relation, uri) in labels if relation == fact.relation and uri != fact.obj_uri)
    order = [uris[i] for i in rng.permutation(len(uris))]
    old = {lang: fact.by_lang[lang][0] for lang in langs}
    usable = []
    for uri in order:
        names = labels[(fact.relation, uri)]
        if not all(lang in names and names[lang] != old[lang][1] for lang in langs):
            continue
        if all(ok(query, names[lang]) for lang in langs for query, _ in fact.by_lang[lang]):
            usable.append((uri, {lang: names[lang] for lang in langs}))
    if not usable:
        return None

    def rank(item) -> tuple[int, int]:
        uri, names = item
        same = length is None or all(length(old[lang][0], names[lang]) == length(*old[lang]) for lang in langs)
        return (0 if same else 1, 0 if preferred is None or uri in preferred else 1)

    return min(usable, key=rank)  # min keeps the seeded order among equals


def neighbour_queries(fact, pool: dict, langs: Sequence[str], count: int, same_relation: bool, seed: int,
                      ok) -> dict[str, Pairs]:
    """lang -> the first query (and gold) of `count` other facts with another object, of the same relation or of
    other relations, drawn with a generator seeded by the fact; pairs the model cannot encode are skipped."""
    rng = seeded_rng(seed, fact.fact_id, "neighbours-same" if same_relation else "neighbours-other")
    ids = sorted(fid for fid, other in pool.items() if fid != fact.fact_id and other.obj_uri != fact.obj_uri
                 and (other.relation == fact.relation) == same_relation)
    chosen = [ids[i] for i in rng.permutation(len(ids))]
    out: dict[str, Pairs] = {lang: [] for lang in langs}
    for lang in langs:
        for fid in chosen:
            if len(out[lang]) >= count:
                break
            pairs = pool[fid].by_lang.get(lang) or []
            if pairs and ok(*pairs[0]):
                out[lang].append(pairs[0])
    return out


# ------------------------------------------------------------------------------------ localization
def restrict(attributions: FactAttributions, langs: Sequence[str]) -> FactAttributions:
    """The same attributions, with only the queries of `langs` (localization from those languages)."""
    return FactAttributions(attributions.fact_id, attributions.layers, attributions.d_ff, {
        baseline: {lang: items for lang, items in by_lang.items() if lang in langs}
        for baseline, by_lang in attributions.queries.items()})


def localizer_objects(names: Sequence[str], seed: int) -> list:
    return [LOCALIZERS[name].create(seed=seed) for name in names]


def attribute_fact(bundle, fact, langs: Sequence[str], localizers: Sequence, eval_options) -> FactAttributions:
    """Integrated-gradients attributions of `fact`'s queries in `langs` for every baseline the localizers read
    (the evaluation's own routine; `fact.by_lang` must hold only the queries meant to be used)."""
    return fact_attributions(bundle, fact, langs, needed_baselines(list(localizers)), eval_options)


def localize(localizer, attributions: FactAttributions, langs: Sequence[str]) -> Localization:
    """The localizer's result from the queries of `langs` only."""
    return localizer.localize(restrict(attributions, langs))


def found_neurons(localization: Localization, langs: Sequence[str]) -> list[Neuron]:
    """Neurons found from `langs`: the language-agnostic ones plus each language's own."""
    found = set(localization.agnostic)
    for lang in langs:
        found.update(localization.per_lang.get(lang, []))
    return sorted(found)


def random_like(neurons: Sequence[Neuron], layers: Sequence[int], d_ff: int, rng: np.random.Generator,
                same_layers: bool, avoid: Sequence[Neuron] = ()) -> list[Neuron]:
    """As many random neurons as `neurons`, uniformly over `layers` x d_ff (or with the same count per layer as
    `neurons` when `same_layers`), never one of `avoid` or of `neurons`."""
    excluded = set(map(tuple, avoid)) | set(map(tuple, neurons))
    wanted: dict[int, int] = {}
    if same_layers:
        for layer, _ in neurons:
            wanted[int(layer)] = wanted.get(int(layer), 0) + 1
    picked: list[Neuron] = []
    if same_layers:
        for layer in sorted(wanted):
            free = [i for i in range(d_ff) if (layer, i) not in excluded]
            picked += [(layer, int(free[i])) for i in rng.choice(len(free), size=min(wanted[layer], len(free)),
                                                                 replace=False)]
    else:
        free = [(int(layer), i) for layer in layers for i in range(d_ff) if (int(layer), i) not in excluded]
        picked = [free[i] for i in rng.choice(len(free), size=min(len(neurons), len(free)), replace=False)]
    return sorted(picked)


def planted_neurons(truth: Optional[dict], fact_id: str) -> list[tuple[str, list[str], list[Neuron]]]:
    """[(kind, langs, neurons)] of the fact's plants on a planted model."""
    return [(p["kind"], list(p["langs"]), [tuple(n) for n in p["neurons"]])
            for p in (truth or {}).get("plants", []) if p["fact_id"] == fact_id]


# ------------------------------------------------------------------------------------------- the loop
@dataclass
class Loop:
    """Resumable per-(fact, localizer) loop over the run store: done keys are skipped, lines are fsynced."""

    out: Path
    config: dict
    keys: Sequence[str]  # localizer names: one line per (fact, key)
    rank: int = 0
    world: int = 1
    done: set = field(default_factory=set)

    def start(self) -> None:
        write_or_check_config(self.out, self.config)
        self.done = {(r["fact_id"], r["localizer"]) for r in read_all_records(self.out)}

    def run(self, fact_ids: Sequence[str], work: Callable[[str, list[str]], list[dict]], desc: str,
            progress: bool = True) -> int:
        """`work(fact_id, missing keys)` returns the records of that fact (each with `localizer` set)."""
        from tqdm.auto import tqdm  # imported when a study runs (progress bars only)


        mine = [fid for i, fid in enumerate(fact_ids) if i % self.world == self.rank]
        todo = [fid for fid in mine if any((fid, key) not in self.done for key in self.keys)]
        writer = ShardWriter(shard_path(self.out, self.rank))
        written = 0
        bar = tqdm(total=len(mine), initial=len(mine) - len(todo), unit="fact", desc=desc, disable=not progress,
                   dynamic_ncols=True)
        try:
            for fid in todo:
                missing = [key for key in self.keys if (fid, key) not in self.done]
                started, cpu = time.perf_counter(), time.process_time()
                records = work(fid, missing)
                seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
                for record in records:
                    record.setdefault("seconds_fact", round(seconds, 3))
                    record.setdefault("cpu_seconds_fact", round(cpu, 3))
                    record["rank"] = self.rank
                    writer.write(rounded(record))
                    written += 1
                bar.update(1)
        finally:
            bar.close()
            writer.close()
        print(f"wrote {written} result lines to {shard_path(self.out, self.rank)}", file=sys.stderr)
        return written


def default_langs() -> str:
    return ",".join(CORE_LANGUAGES)
