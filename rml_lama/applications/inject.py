"""`rml-lama inject`: teach a model facts it does not know by fine-tuning only chosen neurons, in some languages,
and measure whether the facts become known in the others.

New facts are facts of the release the model was not taught (not in its `rml_lama_facts.json`; any fact of the
release for a model without that list), or the fact ids listed in a file. For each fact and localizer the
neurons are localized from the training languages' rephrasings at even positions (attribution of the new gold
answer), and each arm is fine-tuned on those rephrasings (Adam, `--train-steps`, `--lr`, loss = cross-entropy of
the gold tokens at the answer positions), with EVERY other parameter frozen (embeddings, norms, LM head, the
other neurons) and checked afterwards to be unchanged by a single bit; the model is then restored exactly.

Arms (each with its own trainable parameters):
    found      the chosen neurons' input rows and biases (every FFN input projection of a gated MLP) and their
               output columns (value vectors)
    random     as many random neurons, uniform over the attributed layers (same parameters per neuron)
    specific   the localizer's neurons specific to the training languages (localized from all --langs)
    ffn        full fine-tuning of the FFN (input and output projections, weights and biases) of the layers of
               the found neurons
Measured per language: accuracy (gold ranked first among the relation's candidates) and P(gold), before and
after, on the training languages' held-out rephrasings (odd positions) and on every rephrasing of the other
languages; forgetting: accuracy on a fixed control set of queries of facts the model knows.
"""
from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import numpy as np
import torch

from ..errors import RmlLamaError
from ..evaluation.metrics import accuracy
from ..evaluation.options import eval_options_from, parse_layers, parse_list, run_identity
from ..evaluation.sampling import candidates_for, plan_run
from ..localizers.base import seeded_rng
from ..models import target_positions
from ..probing.ranking import CandidateRanker, ProbeSet
from ..probing.targets import Probe, encode_probes, pad_batch
from ..schema import F
from .common import (
    Loop,
    StudyInputs,
    attribute_fact,
    check_study_localizers,
    found_neurons,
    halves,
    localize,
    localizer_objects,
    random_like,
    run_study,
)
from .weights import by_layer, neuron_rows, snapshot, tensor_bits

STUDY = "inject"
INJECT_ARMS = ("found", "random", "specific", "ffn")


@dataclass(frozen=True)
class InjectOptions:
    localizers: tuple[str, ...]
    langs: tuple[str, ...]
    train_langs: tuple[str, ...]
    facts: int = 50
    fact_ids: Optional[tuple[str, ...]] = None  # from --new-facts FILE
    facts_per_relation: Optional[int] = None
    max_rephrasings: Optional[int] = None
    max_candidates: Optional[int] = None
    split: Optional[str] = "test"
    steps: int = 20
    layers: Optional[tuple[int, ...]] = None
    seed: int = 0
    train_steps: int = 30
    lr: float = 0.01
    control_queries: int = 70
    arms: tuple[str, ...] = INJECT_ARMS
    internal_batch_size: int = 64  # budget only

    def identity(self) -> dict:
        return run_identity(self)

    def eval_options(self, facts: Optional[int] = None):
        return eval_options_from(self, facts=facts or self.facts)


# --------------------------------------------------------------------------------------- parameters
def trainable_slices(bundle, neurons, whole_layers: bool = False) -> dict[str, object]:
    """Parameter name -> bool mask of the entries an arm may train: the neurons' rows of every FFN input
    projection (weight row, bias entry) and their value vectors; with `whole_layers`, the full input and output
    projections (weights and biases) of the neurons' layers."""
    names = {id(p): n for n, p in bundle.model.named_parameters()}
    masks: dict[str, object] = {}
    d_ff = bundle.d_ff
    for layer, indices in by_layer(neurons).items():
        modules = list(bundle.adapter.ffn_in_projections(bundle.model, layer))
        out = bundle.adapter.ffn_out_projections(bundle.model)[layer]
        for module, is_out in [(m, False) for m in modules] + [(out, True)]:
            for attribute in ("weight", "bias"):
                param = getattr(module, attribute, None)
                if param is None:
                    continue
                mask = masks.get(names[id(param)])
                if mask is None:
                    mask = torch.zeros_like(param, dtype=torch.bool)
                if whole_layers:
                    mask[...] = True
                elif not (is_out and attribute == "bias"):  # the output bias is shared by all neurons
                    neuron_rows(mask, d_ff, names[id(param)])[indices] = True
                masks[names[id(param)]] = mask
    return {name: mask for name, mask in masks.items() if bool(mask.any())}


def train_slices(bundle, masks: dict, probes, steps: int, lr: float) -> list[float]:
    """Adam on the masked entries only (gradients elsewhere zeroed; every other parameter frozen); returns the
    loss per step. The caller checks and restores the model."""
    params = dict(bundle.model.named_parameters())
    flags = {name: p.requires_grad for name, p in params.items()}
    for p in params.values():
        p.requires_grad_(False)
    trained = [params[name] for name in masks]
    hooks = []
    for name, mask in masks.items():
        params[name].requires_grad_(True)
        hooks.append(params[name].register_hook(lambda grad, m=mask: grad * m.to(grad.dtype)))
    encoded = encode_probes(bundle, list(probes))
    ids, attention, targets = pad_batch(bundle, encoded)
    gold = torch.tensor([item.answer_ids[t] for item in encoded
                         for t in sorted(range(len(item.answer_ids)), key=lambda t: item.target_positions[t])],
                        device=bundle.device)
    optimiser = torch.optim.Adam(trained, lr=lr, foreach=False)
    losses = []
    try:
        with torch.enable_grad(), target_positions(targets):
            for _ in range(steps):
                logits = bundle.model(input_ids=ids, attention_mask=attention).logits[targets]
                loss = torch.nn.functional.cross_entropy(logits.float(), gold)
                optimiser.zero_grad(set_to_none=False)
                loss.backward()
                optimiser.step()
                losses.append(round(float(loss.detach()), 4))
    finally:
        for hook in hooks:
            hook.remove()
        for name, p in params.items():
            p.requires_grad_(flags[name])
            p.grad = None
    return losses


def changed_outside(model, before: dict, masks: dict) -> list[str]:
    """Parameters / buffers with a changed bit outside the trainable masks (must be empty)."""
    bad = []
    for name, tensor in model.state_dict().items():
        old = before[name]
        if name in masks:
            keep = ~masks[name]
            if not torch.equal(tensor_bits(old[keep]), tensor_bits(tensor.detach()[keep])):
                bad.append(name)
        elif not torch.equal(tensor_bits(old), tensor_bits(tensor)):
            bad.append(name)
    return bad


def restore(model, before: dict) -> None:
    with torch.no_grad():
        for name, tensor in model.state_dict().items():
            tensor.copy_(before[name])


# ------------------------------------------------------------------------------------------- measure
class Known:
    """Accuracy (gold first among candidates) and gold probability of a set of probes, under the current model."""

    def __init__(self, bundle, pairs, candidates):
        probes = [Probe(q, a) for q, a in pairs]
        self.ranker = CandidateRanker(bundle, probes, candidates) if probes else None
        self.probes = ProbeSet(bundle, probes) if probes else None

    def measure(self) -> tuple[np.ndarray, np.ndarray]:
        if self.ranker is None:
            return np.zeros(0), np.zeros(0, dtype=int)
        return self.probes.probs_with([], 1.0), self.ranker.ranks()


def _candidates(pairs, relation: str, lang: str, candidate_sets: dict, cap, rng):
    return [candidates_for(candidate_sets.get((relation, lang), [a]), a, cap, rng) for _, a in pairs]


def control_set(plan_known, langs, count: int, seed: int, ok) -> list[tuple[str, str, str, str]]:
    """A fixed, seeded set of (lang, relation, query, answer) of facts the model knows: the forgetting check."""
    rng = seeded_rng(seed, "inject-control")
    ids = sorted(plan_known)
    picked = []
    per_lang = max(1, count // max(1, len(langs)))
    for lang in langs:
        order = [ids[i] for i in rng.permutation(len(ids))]
        for fid in order:
            pairs = plan_known[fid].by_lang.get(lang) or []
            if pairs and ok(*pairs[0]):
                picked.append((lang, plan_known[fid].relation, *pairs[0]))
            if sum(1 for p in picked if p[0] == lang) >= per_lang:
                break
    return picked


# ------------------------------------------------------------------------------------------- the run
def read_fact_file(path: Path) -> tuple[str, ...]:
    """Fact ids, one per line (blank lines and # comments skipped)."""
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except OSError as error:
        raise RmlLamaError(f"--new-facts {path}: cannot read it ({error.strerror})") from None
    ids = tuple(line.strip() for line in lines if line.strip() and not line.strip().startswith("#"))
    if not ids:
        raise RmlLamaError(f"--new-facts {path}: no fact ids in it (one per line)")
    return ids


def run_inject(inputs: StudyInputs, options: InjectOptions, out: Path, config: dict, progress: bool = True,
               rank: int = 0, world: int = 1) -> int:
    bundle, frame = inputs.bundle, inputs.frame
    known = set(inputs.model_facts or [])
    if options.fact_ids:
        missing = sorted(set(options.fact_ids) - set(frame[F.FACT_ID]))
        if missing:
            raise RmlLamaError(f"--new-facts: fact(s) not in the release: {', '.join(missing[:5])}"
                               + (f" and {len(missing) - 5} more" if len(missing) > 5 else ""))
        new_frame = frame[frame[F.FACT_ID].isin(set(options.fact_ids))]
    else:
        new_frame = frame[~frame[F.FACT_ID].isin(known)]
    plan = plan_run(bundle, new_frame, options.eval_options(len(options.fact_ids or ()) or options.facts), None, None)
    known_plan = plan_run(bundle, frame, options.eval_options(10 ** 9), sorted(known) if known else None, None) \
        if known else plan
    controls = control_set(known_plan.pool, options.langs, options.control_queries, options.seed,
                           plan.probe_filter.ok)
    control_pairs = [(q, a) for _, _, q, a in controls]
    control_candidates = [c for lang, relation, q, a in controls for c in _candidates(
        [(q, a)], relation, lang, known_plan.candidate_sets, options.max_candidates, seeded_rng(options.seed, q))]
    control = Known(bundle, control_pairs, control_candidates)
    control_before = control.measure()
    localizers = {loc.name: loc for loc in localizer_objects(options.localizers, options.seed)}
    loop = Loop(out, config, options.localizers, rank, world)
    loop.start()
    usable = {f.fact_id: f for f in plan.facts}

    def work(fact_id: str, missing: list[str]) -> list[dict]:
        fact = usable[fact_id]
        train = {lang: halves(fact.by_lang[lang])[0] for lang in options.langs}
        measured = {lang: (halves(fact.by_lang[lang])[1] if lang in options.train_langs else list(fact.by_lang[lang]))
                    for lang in options.langs}
        measured = {lang: pairs for lang, pairs in measured.items() if pairs}
        rng = seeded_rng(options.seed, fact_id, "candidates")
        rows, pairs, candidates = {}, [], []
        for lang, items in measured.items():
            rows[lang] = list(range(len(pairs), len(pairs) + len(items)))
            pairs += items
            candidates += _candidates(items, fact.relation, lang, plan.candidate_sets, options.max_candidates, rng)
        target = Known(bundle, pairs, candidates)
        probs_before, ranks_before = target.measure()
        used_fact = type(fact)(fact.fact_id, fact.relation, fact.obj_uri, train)
        attributions = attribute_fact(bundle, used_fact, options.langs, [localizers[n] for n in missing],
                                      options.eval_options())
        prompts = [Probe(q, a) for lang in options.train_langs for q, a in train[lang]]
        before_state = snapshot(bundle.model)
        records = []
        for name in missing:
            localizer = localizers[name]
            found = found_neurons(localize(localizer, attributions, options.train_langs), options.train_langs)
            everywhere = localize(localizer, attributions, options.langs)
            specific = sorted({n for lang in options.train_langs for n in everywhere.specific.get(lang, [])})
            arms = {"found": (found, False),
                    "random": (random_like(found, attributions.layers, attributions.d_ff,
                                           seeded_rng(options.seed, fact_id, name, "random"), False), False),
                    "specific": (specific, False), "ffn": (found, True)}
            results = {}
            for arm, (neurons, whole) in arms.items():
                if arm not in options.arms:
                    continue
                masks = trainable_slices(bundle, neurons, whole) if neurons else {}
                entry: dict = {"neurons": len(neurons), "trained_entries": int(sum(int(m.sum()) for m in masks.values())),
                               "no_neurons": not neurons}
                if masks:
                    try:
                        entry["loss_first_last"] = (lambda ls: [ls[0], ls[-1]] if ls else [])(
                            train_slices(bundle, masks, prompts, options.train_steps, options.lr))
                        bad = changed_outside(bundle.model, before_state, masks)
                        if bad:
                            raise RmlLamaError(f"injection changed frozen parameters: {', '.join(bad[:5])}")
                        entry["frozen_unchanged"] = True
                        probs, ranks = target.measure()
                        control_probs, control_ranks = control.measure()
                    finally:
                        restore(bundle.model, before_state)
                else:
                    probs, ranks = probs_before, ranks_before
                    control_probs, control_ranks = control_before
                entry["langs"] = {lang: {"accuracy_before": accuracy(ranks_before[r]), "accuracy": accuracy(ranks[r]),
                                         "p_before": float(np.mean(probs_before[r])), "p": float(np.mean(probs[r])),
                                         "queries": len(r)} for lang, r in rows.items()}
                entry["control"] = {"accuracy_before": accuracy(control_before[1]),
                                    "accuracy": accuracy(control_ranks),
                                    "changed": float(np.mean(control_ranks != control_before[1]))
                                    if len(control_ranks) else None}
                results[arm] = entry
            records.append({"fact_id": fact_id, "relation": fact.relation, "localizer": name, "study": STUDY,
                            "outcome": "injected", "train_langs": list(options.train_langs),
                            "neurons": {arm: [list(n) for n in ns] for arm, (ns, _) in arms.items()},
                            "results": results})
        return records

    return loop.run([f.fact_id for f in plan.facts], work, "inject", progress)


def options_from_args(args: argparse.Namespace) -> InjectOptions:
    langs = parse_list(args.langs)
    train = parse_list(args.train_langs)
    if not train:
        raise RmlLamaError("--train-langs: give at least one language")
    outside = [lang for lang in train if lang not in langs]
    if outside:
        raise RmlLamaError(f"--train-langs {', '.join(outside)} not in --langs {','.join(langs)}")
    arms = parse_list(args.arms) or INJECT_ARMS
    unknown = [arm for arm in arms if arm not in INJECT_ARMS]
    if unknown:
        raise RmlLamaError(f"--arms: unknown arm(s) {', '.join(unknown)}; known: {', '.join(INJECT_ARMS)}")
    text = str(args.new_facts)
    fact_ids, facts = (None, int(text)) if text.isdigit() else (read_fact_file(Path(text)), 0)
    if fact_ids is None and facts < 1:
        raise RmlLamaError("--new-facts: give a number of facts (at least 1) or a file of fact ids")
    if args.train_steps < 1 or args.lr <= 0:
        raise RmlLamaError("--train-steps must be at least 1 and --lr positive")
    return InjectOptions(
        localizers=check_study_localizers(parse_list(args.localizer)), langs=langs, train_langs=train,
        facts=facts or len(fact_ids or ()), fact_ids=fact_ids, facts_per_relation=args.facts_per_relation,
        max_rephrasings=args.max_rephrasings, max_candidates=args.max_candidates, split=args.split, steps=args.steps,
        layers=parse_layers(args.layers), seed=args.seed, train_steps=args.train_steps, lr=args.lr,
        control_queries=args.control_queries, arms=tuple(a for a in INJECT_ARMS if a in arms),
        internal_batch_size=args.internal_batch_size)


def cmd_inject(args: argparse.Namespace) -> int:
    options = options_from_args(args)
    return run_study(args, STUDY, options, lambda loaded, config: run_inject(loaded, options, Path(args.out), config))
