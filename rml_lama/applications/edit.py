"""`rml-lama edit`: cross-lingual knowledge editing through localized neurons.

For each fact the model holds, a counterfactual object is drawn (another object of the same relation: the same
entity in every language, each language with its own label). For every localizer and every source language s,
the neurons found from s's rephrasings are edited (an editor from `editors.EDITORS` writes their value vectors)
and the edit is scored in every target language t, against the unedited model:

    ES   share of t's edit-half rephrasings with P(new) > P(old)      (efficacy; EM: mean P(new) - P(old))
    PS   the same on t's held-out rephrasings                         (paraphrase; PM likewise)
    NS   share of other facts' queries (same relation) whose gold still beats the new object; NS_other for
         facts of other relations; agree / agree_other: their argmax answer tokens unchanged by the edit
    score  harmonic mean of ES, PS, NS

The "edit half" of a language's rephrasings (even positions) is what localization and the editor see in a
source language; the odd positions are never seen (PS). Every fact is edited through several neuron sets
(arms) of equal standing, all undone before the next:

    found          the localizer's neurons from source s alone
    agnostic       its language-agnostic neurons from all --langs   specific: its neurons specific to s
    union          agnostic + specific to s
    random         as many random neurons as `found`, uniform over the attributed layers
    random-layers  as many as `found`, with the same count per layer
    planted        the planted neurons of the fact (planted models: the ground truth)
    planted-random as many random neurons as planted, in the same layers

One JSONL line per (fact, localizer); `rml-lama report DIR` turns the lines into tables, the source x target
transfer matrices and their heatmaps.
"""
from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from ..errors import RmlLamaError
from ..evaluation.options import eval_options_from, parse_layers, parse_list, run_identity
from ..evaluation.sampling import plan_run
from ..io import atomic_directory, atomic_write_json
from ..localizers.base import seeded_rng
from ..paths import EDIT_NOTE_FILE
from ..probing.targets import Probe
from .common import (
    Loop,
    StudyInputs,
    attribute_fact,
    check_study_localizers,
    choose_new_object,
    found_neurons,
    halves,
    localize,
    localizer_objects,
    neighbour_queries,
    object_labels,
    planted_neurons,
    random_like,
    run_study,
)
from .editors import EDITORS, EditTask, make_editor
from .metrics import EDIT_ARMS, agreement, efficacy, harmonic_mean, magnitude, neighbourhood
from .scoring import AnswerLengths, ProbeTable, answer_ids
from .weights import replaced_value_vectors

STUDY = "edit"


@dataclass(frozen=True)
class EditOptions:
    localizers: tuple[str, ...]
    langs: tuple[str, ...]  # target languages, and the languages of the all-language localization
    source_langs: tuple[str, ...]
    facts: int = 100
    facts_per_relation: Optional[int] = None
    max_rephrasings: Optional[int] = None
    split: Optional[str] = "test"
    steps: int = 20
    layers: Optional[tuple[int, ...]] = None
    seed: int = 0
    editor: str = "dai"
    dai_a: float = 1.0
    dai_b: float = 8.0
    adam_steps: int = 50
    adam_lr: float = 0.1
    neighbours: int = 5
    arms: tuple[str, ...] = EDIT_ARMS  # the neuron sets to edit through (planted ones only exist on planted models)
    internal_batch_size: int = 64  # budget only

    def identity(self) -> dict:
        return run_identity(self)

    def eval_options(self):
        return eval_options_from(self)

    def make_editor(self):
        return make_editor(self.editor, a=self.dai_a, b=self.dai_b, steps=self.adam_steps, lr=self.adam_lr)


# ------------------------------------------------------------------------------------------- one fact
class FactEdits:
    """One fact's probes, encoded once, and the scores of every edit of it (cached per source and neuron set)."""

    def __init__(self, bundle, fact, new_labels: dict[str, str], neighbours_same: dict, neighbours_other: dict,
                 langs, editor):
        self.bundle, self.fact, self.new, self.langs, self.editor = bundle, fact, new_labels, langs, editor
        self.used, self.held = {}, {}
        pairs: list[tuple[str, str]] = []
        self.rows: dict[tuple[str, str, str], list[int]] = {}

        def add(key, items):
            self.rows[key] = list(range(len(pairs), len(pairs) + len(items)))
            pairs.extend(items)

        for lang in langs:
            self.used[lang], self.held[lang] = halves(fact.by_lang[lang])
            for part, items in (("used", self.used[lang]), ("held", self.held[lang])):
                add((lang, part, "old"), items)
                add((lang, part, "new"), [(q, new_labels[lang]) for q, _ in items])
            for part, items in (("same", neighbours_same[lang]), ("other", neighbours_other[lang])):
                add((lang, part, "old"), items)
                add((lang, part, "new"), [(q, new_labels[lang]) for q, _ in items])
        self.table = ProbeTable(bundle, pairs)
        self.before = self.table.score()
        self._cache: dict[tuple, dict] = {}

    def _part(self, scores, lang: str, part: str, which: str):
        return scores.log_prob[self.rows[(lang, part, which)]]

    def target_metrics(self, scores) -> dict[str, dict]:
        out = {}
        for lang in self.langs:
            get = lambda part, which, s=scores: self._part(s, lang, part, which)
            before = lambda part, which: self._part(self.before, lang, part, which)
            argmax = lambda s, part: [s.argmax[r] for r in self.rows[(lang, part, "old")]]
            es, ps = efficacy(get("used", "new"), get("used", "old")), efficacy(get("held", "new"), get("held", "old"))
            ns = neighbourhood(get("same", "old"), get("same", "new"))
            out[lang] = {
                "es": es, "ps": ps, "em": magnitude(get("used", "new"), get("used", "old")),
                "pm": magnitude(get("held", "new"), get("held", "old")),
                "es_before": efficacy(before("used", "new"), before("used", "old")),
                "ps_before": efficacy(before("held", "new"), before("held", "old")),
                "ns": ns, "ns_other": neighbourhood(get("other", "old"), get("other", "new")),
                "ns_before": neighbourhood(before("same", "old"), before("same", "new")),
                "agree": agreement(argmax(self.before, "same"), argmax(scores, "same")),
                "agree_other": agreement(argmax(self.before, "other"), argmax(scores, "other")),
                "score": harmonic_mean([es, ps, ns]),
                "n_used": len(self.used[lang]), "n_held": len(self.held[lang]),
            }
        return out

    def task(self, source: str):
        query, old = self.used[source][0]
        return EditTask(answer_ids(self.bundle, query, old), answer_ids(self.bundle, query, self.new[source]),
                        tuple(Probe(q, self.new[source]) for q, _ in self.used[source]))

    def new_rows(self, source: str, neurons):
        return self.editor.new_rows(self.bundle, neurons, self.task(source))

    def edit(self, source: str, neurons) -> dict:
        """Metrics per target language of the edit of `neurons` from `source` (no neurons: "no edit", scored
        on the unedited model)."""
        key = (source, frozenset(map(tuple, neurons)))
        if key not in self._cache:
            if not neurons:
                self._cache[key] = {"no_edit": True, "targets": self.target_metrics(self.before)}
            else:
                with replaced_value_vectors(self.bundle, self.new_rows(source, neurons)):
                    scores = self.table.score()
                self._cache[key] = {"no_edit": False, "targets": self.target_metrics(scores)}
        return self._cache[key]


def arms_for(localizer, attributions, fact_id: str, source: str, langs, all_langs_localization, truth, options,
             layers, d_ff) -> dict[str, list]:
    found = found_neurons(localize(localizer, attributions, [source]), [source])
    agnostic = list(all_langs_localization.agnostic)
    specific = list(all_langs_localization.specific.get(source, []))
    arms: dict[str, list] = {"found": found, "agnostic": agnostic, "specific": specific,
                             "union": sorted(set(agnostic) | set(specific))}
    arms["random"] = random_like(found, layers, d_ff, seeded_rng(options.seed, fact_id, localizer.name, source,
                                                                 "random"), same_layers=False)
    arms["random-layers"] = random_like(found, layers, d_ff, seeded_rng(options.seed, fact_id, localizer.name,
                                                                        source, "random-layers"), same_layers=True)
    plants = planted_neurons(truth, fact_id)
    if plants:
        arms["planted"] = sorted({tuple(n) for _, _, neurons in plants for n in neurons})
        arms["planted-random"] = random_like(arms["planted"], layers, d_ff, seeded_rng(
            options.seed, fact_id, localizer.name, source, "planted-random"), same_layers=True)
    return {arm: neurons for arm, neurons in arms.items() if arm in options.arms}


# ------------------------------------------------------------------------------------------- the run
def run_edit(inputs: StudyInputs, options: EditOptions, out: Path, config: dict, progress: bool = True,
             save_edited: Optional[Path] = None, rank: int = 0, world: int = 1) -> int:
    """Edit every (fact, localizer) of this rank not yet in `out`; returns the number of lines written."""
    bundle = inputs.bundle
    eval_options = options.eval_options()
    plan = plan_run(bundle, inputs.frame, eval_options, inputs.model_facts, inputs.truth)
    usable = {fact.fact_id: fact for fact in plan.facts}
    labels = object_labels(inputs.frame)
    known_objects = {plan.pool[fid].obj_uri for fid in plan.pool}
    ok = plan.probe_filter.ok
    answer_length = AnswerLengths(bundle)
    localizers = localizer_objects(options.localizers, options.seed)
    by_name = {loc.name: loc for loc in localizers}
    editor = options.make_editor()
    loop = Loop(out, config, options.localizers, rank, world)
    loop.start()
    saved = {"done": save_edited is None}

    def work(fact_id: str, missing: list[str]) -> list[dict]:
        fact = usable[fact_id]
        base = {"fact_id": fact_id, "relation": fact.relation, "study": STUDY,
                "old": {lang: fact.by_lang[lang][0][1] for lang in options.langs}}
        new = choose_new_object(fact, labels, options.langs, ok, options.seed, known_objects, answer_length)
        if new is None:
            return [{**base, "localizer": name, "outcome": "no_new_object"} for name in missing]
        new_uri, new_labels = new
        same = neighbour_queries(fact, plan.pool, options.langs, options.neighbours, True, options.seed, ok)
        other = neighbour_queries(fact, plan.pool, options.langs, options.neighbours, False, options.seed, ok)
        edits = FactEdits(bundle, fact, new_labels, same, other, options.langs, editor)
        used_fact = type(fact)(fact.fact_id, fact.relation, fact.obj_uri, {lang: edits.used[lang] for lang in options.langs})
        attributions = attribute_fact(bundle, used_fact, options.langs, [by_name[n] for n in missing], eval_options)
        plants = planted_neurons(inputs.truth, fact_id)
        records = []
        for name in missing:
            localizer = by_name[name]
            everywhere = localize(localizer, attributions, options.langs)
            neurons, results = {}, {}
            for source in options.source_langs:
                arms = arms_for(localizer, attributions, fact_id, source, options.langs, everywhere, inputs.truth,
                                options, attributions.layers, attributions.d_ff)
                neurons[source] = {arm: [list(n) for n in ns] for arm, ns in arms.items()}
                results[source] = {arm: edits.edit(source, ns) for arm, ns in arms.items()}
                if not saved["done"]:  # the first edit that has neurons to edit
                    saved["done"] = write_edited_copy(
                        bundle, edits, source, arms.get("found", []), save_edited,
                        {"fact_id": fact_id, "localizer": name, "source": source, "arm": "found",
                         "old": base["old"], "new": new_labels, "editor": editor.name})
            records.append({**base, "localizer": name, "outcome": "edited", "new_object": new_uri,
                            "new": new_labels, "plants": [{"kind": k, "langs": ls} for k, ls, _ in plants],
                            "neurons": neurons, "results": results,
                            "before": {lang: {k: v for k, v in m.items() if k.endswith("_before")}
                                       for lang, m in edits.target_metrics(edits.before).items()}})
        return records

    return loop.run([fact.fact_id for fact in plan.facts], work, "edit", progress)


def write_edited_copy(bundle, edits: FactEdits, source: str, neurons, out: Optional[Path], note: dict) -> bool:
    """Save the model with one edit applied (the model in memory is restored right after); False when there is
    nothing to edit."""
    if out is None or not neurons:
        return False
    with replaced_value_vectors(bundle, edits.new_rows(source, neurons)), atomic_directory(Path(out)) as tmp:
        bundle.model.save_pretrained(tmp)
        bundle.tokenizer.save_pretrained(tmp)
        atomic_write_json(tmp / EDIT_NOTE_FILE, {**note, "neurons": [list(n) for n in neurons]})
    return True


# ---------------------------------------------------------------------------------------------- CLI
def options_from_args(args: argparse.Namespace) -> EditOptions:
    langs = parse_list(args.langs)
    sources = parse_list(args.source_langs) or langs
    missing = [lang for lang in sources if lang not in langs]
    if missing:
        raise RmlLamaError(f"--source-langs {', '.join(missing)} not in --langs {','.join(langs)}")
    if args.neighbours < 0 or args.facts < 1:
        raise RmlLamaError("--facts must be at least 1 and --neighbours at least 0")
    arms = parse_list(args.arms) or EDIT_ARMS
    unknown = [arm for arm in arms if arm not in EDIT_ARMS]
    if unknown:
        raise RmlLamaError(f"--arms: unknown arm(s) {', '.join(unknown)}; known: {', '.join(EDIT_ARMS)}")
    return EditOptions(
        localizers=check_study_localizers(parse_list(args.localizer)), langs=langs, source_langs=sources,
        facts=args.facts, facts_per_relation=args.facts_per_relation, max_rephrasings=args.max_rephrasings,
        split=args.split, steps=args.steps, layers=parse_layers(args.layers), seed=args.seed, editor=args.editor,
        dai_a=args.dai_a, dai_b=args.dai_b, adam_steps=args.adam_steps, adam_lr=args.adam_lr,
        neighbours=args.neighbours, arms=tuple(arm for arm in EDIT_ARMS if arm in arms),
        internal_batch_size=args.internal_batch_size)


def cmd_edit(args: argparse.Namespace) -> int:
    if args.editor not in EDITORS:
        raise RmlLamaError(f"unknown editor {args.editor!r}; known: {', '.join(EDITORS)}")
    options = options_from_args(args)
    save = Path(args.save_edited) if args.save_edited else None
    return run_study(args, STUDY, options,
                     lambda loaded, config: run_edit(loaded, options, Path(args.out), config, save_edited=save),
                     {"editor_params": options.make_editor().params()})

