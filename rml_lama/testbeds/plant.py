"""Planted ground truth: write facts the model does not know into new FFN neurons; record exactly what was written.

No knowledge-neuron paper has a ground truth; a planted model has one. `plant` works on masked LMs with a
biased BERT-style FFN (BERT, RoBERTa, XLM-R) and on gated FFNs (Llama, Mistral, Qwen2/3: act(gate) * up):

- **Only unknown facts**: a fact is planted only if, before planting, its gold object ranks first among the
  relation's candidates on *no* query in *any* language and its mean gold probability is below
  `unknown_max_p` in every language (checked per language, recorded in `truth.json` as `unknown_before`).
- **New neurons, the rest untouched**: every FFN grows by the same number of neurons per layer, inserted at
  seeded positions (old neurons keep their weights; a permutation of FFN neurons changes nothing). Unused new
  neurons are dead (exactly zero). So planting overwrites nothing the model used.
- **Reading side, exactly silent elsewhere**: the neuron's input row (and bias) is a detector of the fact's
  queries at their answer positions, fitted against a background of other queries (other facts, the other
  planted facts, and the same fact in languages the plant does not cover): in the last layer, where a neuron
  reaches the output only at its own position, the answer positions of every release query but a held-out
  sample (fitted on a subsample plus the background vectors it scores highest, hard-negative mining); below
  it, a sample of queries at every position. It is calibrated so the background's highest pre-activation
  sits at -`silent_margin`: there GELU is exactly 0 in float32 (below about -5.9), SiLU too (below about -89,
  `gated_silent_margin`); a detector whose neurons are not exactly 0 on the whole background is rejected.
  On the fact it fires at the model's natural level (`natural_activation`: the median over background positions
  of the layer's largest activation), raised only as far as needed for the weakest language to keep firing, so
  that a localizer cannot find a plant just because it is louder than every neuron the model grew itself.
  An agnostic fact not readable in every language drops the language it reads worst while at least
  `agnostic_min_langs` remain: a partial agnostic plant (`readable: partial`, `planned_langs`,
  `firing.unreadable_langs`), never a silent one. Gated FFNs have no bias: the gate row
  is a detector through the origin (the up row reads the fact's mean direction), so it needs the background
  on the negative side of a hyperplane; when that fails, the plant is rejected, never silently leaky.
- **Writing side, bounded**: only the plant's output column(s) are optimised (Adam) to raise the gold answer
  on the fact's queries in its languages, with the column's norm bounded by `column_bound` x the layer's
  median column norm, a bound that doubles (up to `write_rounds` rounds) until the plant takes in all its
  languages. Where the neuron is exactly zero the column changes nothing. A plant that takes then has its
  column(s) scaled down to the least that still takes (`writing.scale`), no larger than its fact needs.
- **One-token answers** by default (`max_answer_tokens`): a neuron writes one direction at every answer
  position, so the positions of a longer answer all get the same push and seldom take.

Kinds (`truth.json` `kind`): `agnostic` (all languages), `script` (one script group: Latin en fr fi hu, or CJK
ja ko zh), `specific` (one language), `distributed` (2-4 neurons with identical reading sides sharing one
column in seeded proportions; scaled down like every plant, no single neuron suffices: each neuron's
accuracy alone is recorded; one language each), and `decoys`: extra neurons attached to some plants that
fire on the fact's queries as strongly as the plant but write nothing (zero column), so a localizer that
follows activations rather than effects is caught. A plant "takes" in a language when its accuracy there
is at least `take_accuracy`; plants that do not take everywhere are kept and reported as partial.
"""
from __future__ import annotations

import argparse
import copy
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

import numpy as np
import pandas as pd

from ..errors import RmlLamaError
from ..io import atomic_directory, atomic_write_json, check_replaceable
from ..models import load_model, resolve_path
from ..paths import MODEL_FACTS_FILE, TRUTH_FILE
from ..probing.ranking import answer_probabilities, greedy_tokens, rank_candidates
from ..probing.targets import DEFAULT_MAX_ANSWER_TOKENS, Probe, encode_probes, pad_batch, probes_of
from ..schema import CORE_LANGUAGES, LANGUAGES, F
from .facts import read_facts_frame, stable_key, stratified_facts
from .train import default_model_path

AGNOSTIC, SCRIPT, SPECIFIC, DISTRIBUTED = "agnostic", "script", "specific", "distributed"
KINDS = (AGNOSTIC, SCRIPT, SPECIFIC, DISTRIBUTED)


def _key(seed: int, text: str) -> str:
    return stable_key(seed, text)


def script_groups(langs: tuple[str, ...]) -> dict[str, tuple[str, ...]]:
    """Latin (en fr fi hu) and CJK (the other scripts) among `langs`."""
    latin = tuple(lang for lang in langs if LANGUAGES[lang].script == "Latin")
    other = tuple(lang for lang in langs if LANGUAGES[lang].script != "Latin")
    return {name: group for name, group in (("Latin", latin), ("CJK", other)) if group}


@dataclass
class PlantSpec:
    """One fact written into one neuron (or 2-4 for `distributed`), with optional decoy neurons."""

    fact_id: str
    kind: str
    langs: list[str]
    layer: int
    neurons: list[int] = field(default_factory=list)  # indices in the grown FFN of `layer`
    weights: list[float] = field(default_factory=list)  # share of the column per neuron (distributed)
    decoys: list[int] = field(default_factory=list)
    planned_langs: list[str] = field(default_factory=list)  # the slot's languages (agnostic: may read fewer)


@dataclass
class PlantOptions:
    facts: int = 60
    seed: int = 0
    langs: tuple[str, ...] = CORE_LANGUAGES
    agnostic_share: float = 0.3
    script_share: float = 0.2
    distributed_share: float = 0.2  # the rest are language-specific
    distributed_neurons: tuple[int, int] = (2, 4)
    decoy_share: float = 0.3
    steps: int = 120
    lr: float = 0.05
    # the fact's median activation; None: the model's natural level in that layer (`natural_activation`), so that
    # a planted neuron fires about as strongly as the model's own most active neuron at a position, not far above
    target_activation: Optional[float] = None
    fire_floor: float = 0.25  # the weakest language's `fire_share` quantile fires at least this x the target
    gate_open: float = 4.0  # gated FFNs: the gate's pre-activation at that quantile (the up row sets the size)
    min_gap: float = 0.3  # the fact must clear the background's maximum by this many background sds
    fire_share: float = 0.8  # the neuron must fire on this share of the fact's answer positions in each language
    silent_margin: float = 36.0  # background pre-activation bound (GELU is exactly 0 below about -5.9)
    gated_silent_margin: float = 100.0  # gate pre-activation bound (SiLU is exactly 0 below about -89)
    refine_steps: int = 150
    silence_weight: float = 4.0
    column_bound: float = 16.0  # column norm at most this x the layer's median original column norm
    take_accuracy: float = 0.8
    unknown_max_p: float = 0.05
    unknown_max_accuracy: float = 0.0  # 0: the gold ranks first on no query of any language
    background_queries: Optional[int] = None  # per run; None: every other encodable release query (last layer)
    lower_layer_background: int = 2400  # below the last layer the background holds every position: a sample
    fit_background: int = 4000  # background vectors a detector is first fitted on (then the hardest are added)
    hard_negatives: int = 1500  # background vectors scoring highest added per mining round
    mining_rounds: int = 3
    agnostic_min_langs: int = 3  # an agnostic plant readable in fewer languages than all (partial) needs this many
    write_rounds: int = 4  # the column bound doubles each round until the plant takes in all its languages
    candidates_per_relation: int = 30
    unrelated_queries: int = 700
    spare: float = 6.0  # extra candidate facts screened, as a share of `facts` (unknown and readable ones are used)
    layers: tuple[int, ...] = (-1,)  # layers plants take turns in (negative: from the top)
    tries_per_slot: int = 8  # candidates tried for one planned plant before the slot is given up
    min_plants: Optional[int] = None  # fewer planted than this is an error (None: all of `facts`)
    # plant only facts whose answer is at most this many tokens in every language (None: any the probes allow):
    # one planted neuron writes one direction at every answer position, so on the shipped model single-token
    # answers took in all their languages in 41 of 52 plants, answers of any length in 13 of 56 (docs/models.md)
    max_answer_tokens: Optional[int] = 1


# ------------------------------------------------------------------------------------------- structure
def _read_paths(bundle) -> tuple[str, Optional[str]]:
    """The adapter's FFN input projection paths: (the one that gates the neuron, the one it is multiplied by or
    None). Planting needs a plain FFN with an input bias (BERT family) or a gated one (Llama family)."""
    paths = bundle.adapter.in_proj_paths
    gated = len(paths) == 2
    if not paths or len(paths) > 2 or (bundle.kind == "masked") == gated:
        raise RmlLamaError(f"planting supports masked LMs with a biased FFN and causal LMs with a gated FFN; "
                           f"{bundle.adapter.name} is neither")
    return paths[0], (paths[1] if gated else None)


def _projections(bundle, layer: int):
    """(gate-or-input projection, up projection or None, output projection) of block `layer`."""
    gate_path, up_path = _read_paths(bundle)
    block = bundle.adapter.blocks(bundle.model)[layer]
    up = resolve_path(block, up_path) if up_path else None
    return resolve_path(block, gate_path), up, bundle.adapter.ffn_out_projections(bundle.model)[layer]


def _gated(bundle) -> bool:
    return _read_paths(bundle)[1] is not None


def _set_path(root, path: str, module) -> None:
    parent_path, _, name = path.rpartition(".")
    setattr(resolve_path(root, parent_path) if parent_path else root, name, module)


def grow_ffn(bundle, extra: int, seed: int) -> list[list[int]]:
    """Add `extra` neurons to the FFN of every layer, at seeded positions; return their indices per layer.

    Old neurons keep their weights (only their indices move, which changes nothing); new neurons start dead:
    zero rows, and for biased FFNs a bias of -silent so their activation is exactly zero. The model config's
    intermediate_size is updated so the checkpoint reloads as a plain model of the same class."""
    import torch

    gate_path, up_path = _read_paths(bundle)
    old = bundle.d_ff
    total = old + extra
    # a gated FFN gets input biases where its config allows them (Llama's mlp_bias; zero for every old neuron and
    # the output, so nothing changes): then its detectors are as exact as a plain FFN's
    add_bias = up_path is not None and hasattr(bundle.model.config, "mlp_bias")
    rng = np.random.default_rng(int(_key(seed, "grow")[:8], 16))
    new_positions = []
    for layer, block in enumerate(bundle.adapter.blocks(bundle.model)):
        positions = np.sort(rng.choice(total, size=extra, replace=False))
        keep = np.setdiff1d(np.arange(total), positions)
        keep_t = torch.as_tensor(keep)
        for path in filter(None, (gate_path, up_path)):
            module = resolve_path(block, path)
            grown = torch.nn.Linear(module.in_features, total, bias=module.bias is not None or add_bias,
                                    dtype=module.weight.dtype, device=module.weight.device)
            with torch.no_grad():
                grown.weight.zero_()
                grown.weight[keep_t] = module.weight
                if grown.bias is not None:
                    # dead until planted: exactly zero after GELU / SiLU (an up row of a dead gate is zero anyway)
                    grown.bias.fill_(-1e4 if path == gate_path else 0.0)
                    grown.bias[keep_t] = module.bias if module.bias is not None else 0.0
            _set_path(block, path, grown)
        out_path = bundle.adapter.out_proj_path
        module = resolve_path(block, out_path)
        grown = torch.nn.Linear(total, module.out_features, bias=module.bias is not None or add_bias,
                                dtype=module.weight.dtype, device=module.weight.device)
        with torch.no_grad():
            grown.weight.zero_()
            grown.weight[:, keep_t] = module.weight
            if grown.bias is not None:
                grown.bias.copy_(module.bias if module.bias is not None else torch.zeros_like(grown.bias))
        _set_path(block, out_path, grown)
        new_positions.append([int(p) for p in positions])
    bundle.model.config.intermediate_size = total
    if add_bias:
        bundle.model.config.mlp_bias = True
    return new_positions


# ------------------------------------------------------------------------------------------- encoding
def _batches(bundle, queries: list[str], answers: list[str], batch_size: int = 128):
    """Yield (start, input ids, attention, target mask, encoded probes) for the queries encoded as probes."""
    encoded = encode_probes(bundle, [Probe(q, a) for q, a in zip(queries, answers)])
    for start in range(0, len(encoded), batch_size):
        chunk = encoded[start : start + batch_size]
        ids, attention, targets = pad_batch(bundle, chunk)
        yield start, ids, attention, targets, chunk


class _Captured(Exception):
    """Raised by a forward hook once it holds what it needs, to skip the rest of the forward pass."""


def ffn_inputs(bundle, queries: list[str], answers: list[str], layer: int, everywhere: bool = False):
    """FFN inputs of `layer` at the answer (target) positions of the probes, or at every non-padding position
    with `everywhere`: (vectors [n, hidden], the query index of each vector)."""
    import torch

    if not queries:
        return torch.zeros((0, bundle.model.config.hidden_size)), np.zeros(0, dtype=int)
    captured: list = []
    vectors, owners = [], []
    gate, _, _ = _projections(bundle, layer)

    def capture(module, args):  # and stop the forward: nothing above this FFN input is needed
        captured.append(args[0].detach())
        raise _Captured

    handle = gate.register_forward_pre_hook(capture)
    try:
        with torch.no_grad():
            for start, ids, attention, where, _ in _batches(bundle, queries, answers):
                captured.clear()
                try:
                    bundle.model(input_ids=ids, attention_mask=attention)
                except _Captured:
                    pass
                select = attention.bool() if everywhere else where
                vectors.append(captured[0][select].float().cpu())
                owners += (select.nonzero()[:, 0] + start).tolist()
    finally:
        handle.remove()
    return torch.cat(vectors), np.array(owners)


def neuron_activations(bundle, queries: list[str], answers: list[str], neurons: dict[int, list[int]],
                       last: Optional[int] = None):
    """Per query: the largest |activation| of the given neurons ({layer: [index]}) over every position (at the
    answer positions only for layer `last`, where no other position reaches the answer)."""
    import torch

    peaks = np.zeros(len(queries))
    if not queries:
        return peaks
    captured: dict[int, object] = {}
    handles = []
    for layer, indices in neurons.items():
        out = bundle.adapter.ffn_out_projections(bundle.model)[layer]
        idx = torch.as_tensor(indices, dtype=torch.long)
        handles.append(out.register_forward_pre_hook(
            lambda m, args, layer=layer, idx=idx: captured.__setitem__(layer, args[0][..., idx].detach())))
    try:
        with torch.no_grad():
            for start, ids, attention, where, chunk in _batches(bundle, queries, answers):
                captured.clear()
                bundle.model(input_ids=ids, attention_mask=attention)
                for layer, acts in captured.items():
                    reach = where if layer == last else attention.bool()
                    acts = acts.abs().float() * reach[..., None].float()
                    peak = acts.amax(dim=(1, 2)).cpu().numpy()
                    peaks[start : start + len(chunk)] = np.maximum(peaks[start : start + len(chunk)], peak)
    finally:
        for handle in handles:
            handle.remove()
    return peaks


def greedy_predictions(bundle, queries: list[str], answers: list[str]) -> list[tuple[int, ...]]:
    """The vocabulary argmax at each answer slot (the answer's length given): the model's unconstrained guess."""
    return greedy_tokens(bundle, encode_probes(bundle, probes_of(zip(queries, answers))))


def probes_encode(bundle, frame: pd.DataFrame, max_answer_tokens: int = DEFAULT_MAX_ANSWER_TOKENS) -> pd.Series:
    """Per row: the query encodes as a probe (rml_lama.probing.targets rules, the answer in at most
    `max_answer_tokens` tokens) and holds no unknown token either."""
    unk = bundle.tokenizer.unk_token_id

    def ok(query: str, answer: str) -> bool:
        try:
            (item,) = encode_probes(bundle, [Probe(query, answer)], max_answer_tokens)
        except RmlLamaError:
            return False
        return unk not in item.input_ids

    return pd.Series([ok(q, a) for q, a in zip(frame[F.QUERY], frame[F.OBJ_LABEL])], index=frame.index, dtype=bool)


# ------------------------------------------------------------------------------------------- measuring
def relation_candidates(release: pd.DataFrame, known: set[str], per_relation: int, seed: int) -> dict:
    """(relation, lang) -> candidate objects: the objects of the facts the model holds (if known), else a
    seeded sample of the release's objects of that relation."""
    pool = release[release[F.FACT_ID].isin(known)] if known else release
    out = {}
    for (rel, lang), group in pool.groupby([F.RELATION, F.LANG], sort=True):
        objects = sorted(set(group[F.OBJ_LABEL]), key=lambda o: _key(seed, o))[:per_relation]
        out[(rel, lang)] = sorted(objects)
    return out


def answer_figures(bundle, queries: pd.DataFrame, candidates: dict) -> pd.DataFrame:
    """Per query: gold probability (joint) and whether the gold ranks first among the relation's candidates
    (rml_lama.probing.ranking, as the evaluation scores)."""
    probes = probes_of(zip(queries[F.QUERY], queries[F.OBJ_LABEL]))
    cands = [sorted(set(candidates.get((r, lg), [])) | {a})
             for r, lg, a in zip(queries[F.RELATION], queries[F.LANG], queries[F.OBJ_LABEL])]
    probs = answer_probabilities(bundle, probes) if probes else np.zeros(0)
    ranks = rank_candidates(bundle, probes, cands) if probes else np.zeros(0)
    return pd.DataFrame({F.LANG: list(queries[F.LANG]), "p": np.asarray(probs, dtype=float),
                         "top": np.asarray(ranks) == 0}, index=queries.index)


def _sig(value: float) -> float:
    return float(f"{float(value):.4g}")


def per_language(figures: pd.DataFrame) -> dict:
    return {lang: {"p": _sig(g["p"].mean()), "accuracy": round(float(g["top"].mean()), 4), "queries": int(len(g))}
            for lang, g in figures.groupby(F.LANG, sort=True)}


# ------------------------------------------------------------------------------------------- choosing
def kind_plan(n: int, options: PlantOptions) -> list[str]:
    """The kind of each of n plants, interleaved so every stretch of plants mixes kinds (largest remainder)."""
    shares = {AGNOSTIC: options.agnostic_share, SCRIPT: options.script_share,
              DISTRIBUTED: options.distributed_share}
    shares[SPECIFIC] = max(0.0, 1.0 - sum(shares.values()))
    counts = {k: 0 for k in shares}
    plan = []
    for i in range(n):
        kind = max(shares, key=lambda k: (round(shares[k] * (i + 1) - counts[k], 9), -KINDS.index(k)))
        counts[kind] += 1
        plan.append(kind)
    return plan


def candidate_facts(release: pd.DataFrame, bundle, options: PlantOptions, exclude: set[str]) -> list[str]:
    """Seeded, relation-stratified facts present in every language, not in `exclude` (facts the model holds)
    nor another object of a (relation, subject) it holds, whose queries all encode without unknown tokens."""
    data = release[release[F.LANG].isin(options.langs)]
    n_langs = data.groupby(F.FACT_ID)[F.LANG].nunique()
    pool = data[data[F.FACT_ID].isin(n_langs.index[n_langs == len(options.langs)]) & ~data[F.FACT_ID].isin(exclude)]
    known_pairs = set(zip(*(release[release[F.FACT_ID].isin(exclude)][c] for c in (F.RELATION, F.SUB_URI))))
    facts = pool.drop_duplicates(F.FACT_ID)[[F.FACT_ID, F.RELATION, F.SUB_URI]]
    facts = facts[[(r, s) not in known_pairs for r, s in zip(facts[F.RELATION], facts[F.SUB_URI])]]
    rows_of = {fid: rows for fid, rows in pool.groupby(F.FACT_ID)}
    wanted = options.facts + max(1, round(options.spare * options.facts))
    longest = options.max_answer_tokens or DEFAULT_MAX_ANSWER_TOKENS

    def accept(fid: str) -> bool:  # one query per language first: a too long answer is rejected cheaply
        rows = rows_of[fid]
        return bool(probes_encode(bundle, rows.drop_duplicates(F.LANG), longest).all()
                    and probes_encode(bundle, rows, longest).all())

    return stratified_facts(facts, wanted, options.seed, seeded_relation_order=True, accept=accept)


def unknown_check(figures: pd.DataFrame, max_p: float, max_accuracy: float = 0.0) -> tuple[bool, dict]:
    """A fact is unknown when its gold ranks first on no query (accuracy <= max_accuracy, 0 by default) and its
    mean gold probability is below max_p, in every language; returns (unknown, per-language figures)."""
    langs = per_language(figures)
    unknown = all(v["accuracy"] <= max_accuracy and v["p"] < max_p for v in langs.values())
    return unknown, langs


# ------------------------------------------------------------------------------------------- reading side
def _unit(x):
    return x / x.norm(dim=-1, keepdim=True).clamp_min(1e-12)


def fit_detector(target, target_langs, background, with_bias: bool, steps: int, background_weight: float):
    """A linear detector (weights, bias) scoring the fact's vectors above the background's: class-balanced
    logistic regression (each language of the fact weighted equally), started from the difference of means
    whitened by the background covariance; `with_bias=False` fits a hyperplane through the origin."""
    import torch

    mean_t = torch.stack([target[target_langs == lang].mean(0) for lang in sorted(set(target_langs))]).mean(0)
    centred = background - background.mean(0)
    covariance = centred.T @ centred / max(1, len(centred) - 1)
    covariance += 0.1 * float(covariance.diagonal().mean()) * torch.eye(covariance.shape[0])
    direction = _unit(torch.linalg.solve(covariance, mean_t - background.mean(0)))
    scale = float((background @ direction).std()) or 1.0
    weights = (direction / scale).clone().requires_grad_(True)
    middle = 0.5 * float((mean_t + background.mean(0)) @ direction) / scale
    bias = torch.tensor(-middle if with_bias else 0.0, requires_grad=with_bias)
    langs = sorted(set(target_langs))
    lang_weight = torch.tensor([1.0 / (len(langs) * int((target_langs == lang).sum())) for lang in target_langs])
    params = [weights, bias] if with_bias else [weights]
    optimiser = torch.optim.Adam(params, lr=0.05)
    for _ in range(steps):
        t_score, b_score = target @ weights + bias, background @ weights + bias
        loss = (torch.nn.functional.softplus(1.0 - t_score) * lang_weight).sum()
        loss = loss + background_weight * torch.nn.functional.softplus(b_score + 1.0).mean()
        loss = loss + 1e-4 * weights.pow(2).sum()
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
    return widen_margin(weights.detach(), float(bias.detach()), target, target_langs, background, with_bias, steps)


def widen_margin(weights, bias: float, target, target_langs, background, with_bias: bool, steps: int = 300,
                 low_share: float = 0.2, sharpness: float = 8.0):
    """Push the detector towards the widest gap between the background's *highest* scores (a soft maximum) and
    the fact's *lowest* `low_share` in its weakest language (what exact silence and taking in every language
    need; logistic regression only looks at averages). Weights stay on the unit sphere; with a bias the gap
    does not depend on it (it is set afterwards), without one the gap must straddle 0."""
    import torch

    norm = float(weights.norm()) or 1.0
    w = (weights / norm).clone().requires_grad_(True)
    c = bias / norm
    langs = sorted(set(target_langs))
    masks = [torch.as_tensor(target_langs == lang) for lang in langs]
    optimiser = torch.optim.Adam([w], lr=0.01)
    best = (None, -float("inf"))
    for _ in range(steps):
        unit = w / w.norm()
        t, b = target @ unit + c, background @ unit + c
        spread = float(b.std().detach()) or 1.0
        high = torch.logsumexp(sharpness / spread * b, 0) * spread / sharpness
        lows = []
        for mask in masks:
            scores = t[mask]
            k = max(1, int(round(low_share * len(scores))))
            lows.append(torch.topk(scores, k, largest=False).values.mean())
        low = -torch.logsumexp(-sharpness / spread * torch.stack(lows), 0) * spread / sharpness
        gap = (low - high) if with_bias else torch.minimum(low, -high)
        low_exact, high_exact = min(float(x.detach()) for x in lows), float(b.detach().max())
        exact = (low_exact - high_exact) if with_bias else min(low_exact, -high_exact)
        if exact > best[1]:
            best = (unit.detach().clone(), exact)
        optimiser.zero_grad()
        (-gap).backward()
        optimiser.step()
    unit = best[0]
    return unit, c


def fit_mined_detector(target, target_langs, background, with_bias: bool, options: PlantOptions):
    """fit_detector on a seeded subsample of a large background, then on the subsample plus the background
    vectors the detector scores highest (hard negatives), for `mining_rounds`: each fit stays small while the
    detector ends up facing the part of the whole background that matters for exact silence (its top)."""
    import torch

    generator = torch.Generator().manual_seed(options.seed)
    chosen = torch.randperm(len(background), generator=generator)[: options.fit_background]
    for round_ in range(max(1, options.mining_rounds)):
        weights, bias = fit_detector(target, target_langs, background[chosen], with_bias, options.refine_steps,
                                     options.silence_weight)
        if len(chosen) == len(background) or round_ == options.mining_rounds - 1:
            break
        scores = background @ weights
        hardest = torch.topk(scores, min(options.hard_negatives, len(scores))).indices
        if bool(torch.isin(hardest, chosen).all()):
            break  # the top of the whole background is already in the fit
        chosen = torch.unique(torch.cat([chosen, hardest]))
    return weights, bias


def activation_function(bundle):
    """The FFN's activation function (GELU, SiLU, ...), as the model applies it."""
    from transformers.activations import ACT2FN

    config = bundle.model.config
    return ACT2FN[getattr(config, "hidden_act", None) or getattr(config, "hidden_activation", "gelu")]


def neuron_outputs(bundle, layer: int, neurons: list[int], vectors):
    """The neurons' activations (what the output projection reads) for FFN inputs `vectors` of `layer`."""
    import torch

    gate, up, _ = _projections(bundle, layer)
    index = torch.as_tensor(neurons, dtype=torch.long)
    with torch.no_grad():
        pre = vectors.to(gate.weight) @ gate.weight[index].T
        if gate.bias is not None:
            pre = pre + gate.bias[index]
        out = activation_function(bundle)(pre)
        if up is not None:
            up_pre = vectors.to(up.weight) @ up.weight[index].T
            out = out * (up_pre + up.bias[index] if up.bias is not None else up_pre)
    return out


def natural_activation(bundle, layer: int, background, seed: int, sample: int = 4000) -> float:
    """The model's own activation level in `layer`: over a seeded sample of background positions, the median of
    the largest activation of any neuron there (new neurons are exactly zero on the background)."""
    import torch

    _, _, out_proj = _projections(bundle, layer)
    generator = torch.Generator().manual_seed(seed)
    rows = torch.randperm(len(background), generator=generator)[:sample]
    peaks = neuron_outputs(bundle, layer, list(range(out_proj.weight.shape[1])), background[rows]).amax(1)
    return float(peaks.median())


def set_reading_side(bundle, layer: int, neurons: list[int], target, target_langs, background,
                     options: PlantOptions) -> dict:
    """Fit the detector and write it into the neurons' input rows so that the background's highest
    pre-activation is -margin (activation exactly zero) and the fact's median activation is about the target
    (`target_activation`, by default the model's natural level), raised where needed so that the weakest
    language's `fire_share` quantile still fires at `fire_floor` x the target. Returns firing figures; `ok` is
    False when the fact cannot be told apart."""
    import torch

    gated = _gated(bundle)
    gate, up, _ = _projections(bundle, layer)
    with_bias = gate.bias is not None  # gated FFNs have one only where the config allows it (Llama's mlp_bias)
    weights, bias = fit_mined_detector(target, target_langs, background, with_bias, options)
    t_score, b_score = target @ weights + bias, background @ weights + bias
    b_max = float(b_score.max())
    margin = options.gated_silent_margin if gated else options.silent_margin
    langs = sorted(set(target_langs))
    per_lang = {lang: float(torch.quantile(t_score[torch.as_tensor(target_langs == lang)], 1 - options.fire_share))
                for lang in langs}
    t_low = min(per_lang.values())  # the weakest language's low quantile: the neuron fires on most of each
    t_mid = float(np.median([float(t_score[torch.as_tensor(target_langs == lang)].median()) for lang in langs]))
    natural = natural_activation(bundle, layer, background, options.seed)
    wanted = options.target_activation if options.target_activation is not None else natural
    spread = float(b_score.std()) or 1.0
    firing = {"background_max": round(b_max, 4), "fact_low_min": round(t_low, 4),
              "gap_in_background_sd": round((t_low - b_max) / spread, 4), "background": int(len(background)),
              "fact_low_per_lang_sd": {lang: round((low - b_max) / spread, 4) for lang, low in per_lang.items()},
              "natural_activation": round(natural, 4)}
    if (t_low - b_max) < options.min_gap * spread or (not with_bias and (b_max >= 0 or t_low <= 0)):
        return {**firing, "ok": False}
    with torch.no_grad():
        if with_bias and not gated:  # background at -margin, the fact's median at the target (floor permitting)
            gain = (wanted + margin) / (t_mid - b_max)
            gain = max(gain, (options.fire_floor * wanted + margin) / (t_low - b_max))
            gate_bias = gain * (bias - b_max) - margin
        elif with_bias:  # gated: the gate opens at the low quantile, the up row sets the size
            gain = (options.gate_open + margin) / (t_low - b_max)
            gate_bias = gain * (bias - b_max) - margin
        else:  # through the origin: the background's highest at -margin
            gain, gate_bias = margin / -b_max, None
        for index in neurons:
            gate.weight[index] = (gain * weights).to(gate.weight)
            if gate_bias is not None:
                gate.bias[index] = gate_bias
        if gated:  # the up row reads the fact's mean direction, scaled so the median product is about the target
            direction = _unit(torch.stack([target[target_langs == lang].mean(0) for lang in langs]).mean(0))
            reach = float(torch.quantile(target @ direction, 0.5))
            if reach <= 0:
                silence_neurons(bundle, layer, neurons)
                return {**firing, "ok": False}
            mid_gate = gain * t_mid + (gate_bias if gate_bias is not None else 0.0)
            silu = float(torch.nn.functional.silu(torch.tensor(mid_gate)))
            up_gain = wanted / max(1e-6, reach * silu)
            for index in neurons:
                up.weight[index] = (up_gain * direction).to(up.weight)
                if up.bias is not None:
                    up.bias[index] = 0.0
    loud = int(torch.count_nonzero(neuron_outputs(bundle, layer, neurons, background).abs().amax(1)))
    if loud:  # written, but not exactly zero on the whole background: never kept
        silence_neurons(bundle, layer, neurons)
        return {**firing, "ok": False, "not_silent_on_background": loud}
    acts = neuron_outputs(bundle, layer, neurons[:1], target)[:, 0]
    fires = (acts > 0).float()
    firing.update({"ok": True, "activation_target": round(wanted, 4),
                   "activation_median": round(float(acts.median()), 4),
                   "fires_on_fact": round(float(fires.mean()), 4),
                   "fires_on_fact_per_lang": {lang: round(float(fires[torch.as_tensor(target_langs == lang)].mean()), 4)
                                              for lang in langs}})
    return firing


# ------------------------------------------------------------------------------------------- writing side
def set_writing_side(bundle, layer: int, neurons: list[int], weights: list[float], queries: list[str],
                     answers: list[str], options: PlantOptions, langs: Optional[list[str]] = None,
                     bound_scale: float = 1.0, resume: bool = False) -> list[float]:
    """Optimise one column c (Adam, norm at most bound_scale x `column_bound` x the median column norm) so that
    neurons[i] writes weights[i] x c and the gold answer's log-probability rises on the fact's queries, from
    zero or (`resume`) from the column written before; returns the loss per step. Other columns stay."""
    import torch

    ((_, ids, attention, where, encoded),) = list(_batches(bundle, queries, answers, batch_size=len(queries)))
    gold = torch.tensor([t for item in encoded for t in item.answer_ids], device=bundle.device)
    # every language weighs the same, and every query within it (whatever its answer's length)
    langs = langs or ["all"] * len(queries)
    counts = {lang: langs.count(lang) for lang in set(langs)}
    token_weight = torch.tensor([1.0 / (len(counts) * counts[lang] * len(item.answer_ids))
                                 for item, lang in zip(encoded, langs) for _ in item.answer_ids], device=bundle.device)
    _, _, out_proj = _projections(bundle, layer)
    original = out_proj.weight.detach()
    bound = bound_scale * options.column_bound * float(original.norm(dim=0).median())
    start = original[:, neurons[0]].float() / weights[0] if resume else torch.zeros(original.shape[0])
    column = start.to(device=bundle.device, dtype=torch.float32).clone().requires_grad_(True)
    with torch.no_grad():  # the hook adds the column: the written one must not count twice while it trains
        out_proj.weight[:, neurons] = 0.0
    share = torch.tensor(weights, dtype=torch.float32, device=bundle.device)
    index = torch.as_tensor(neurons, dtype=torch.long, device=bundle.device)
    optimiser = torch.optim.Adam([column], lr=options.lr * bound / float(np.sqrt(original.shape[0])))

    def add_column(module, args, output):  # output += (sum_i w_i act_i) * c
        return output + (args[0][..., index].float() @ share)[..., None].to(output.dtype) * column.to(output.dtype)

    requires = [p.requires_grad for p in bundle.model.parameters()]
    for p in bundle.model.parameters():
        p.requires_grad_(False)
    handle = out_proj.register_forward_hook(add_column)
    losses = []
    try:
        for _ in range(options.steps):
            logits = bundle.model(input_ids=ids, attention_mask=attention).logits[where]
            loss = (torch.nn.functional.cross_entropy(logits.float(), gold, reduction="none") * token_weight).sum()
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            with torch.no_grad():
                norm = float(column.norm())
                if norm > bound:
                    column.mul_(bound / norm)
            losses.append(round(float(loss.detach()), 4))
    finally:
        handle.remove()
        for p, flag in zip(bundle.model.parameters(), requires):
            p.requires_grad_(flag)
    with torch.no_grad():
        for i, w in zip(neurons, weights):
            out_proj.weight[:, i] = (w * column.detach()).to(out_proj.weight)
    return losses


def _scale_columns(bundle, layer: int, neurons: list[int], factor: float) -> None:
    import torch

    _, _, out_proj = _projections(bundle, layer)
    with torch.no_grad():
        out_proj.weight[:, neurons] *= factor


# ------------------------------------------------------------------------------------------- the whole job
@dataclass
class PlantResult:
    truth: dict
    specs: list[PlantSpec] = field(default_factory=list)


def _known_facts(model_path: Optional[Path]) -> set[str]:
    if model_path is None or not (Path(model_path) / MODEL_FACTS_FILE).exists():
        return set()
    return set(json.loads((Path(model_path) / MODEL_FACTS_FILE).read_text(encoding="utf-8"))["facts"])


def _plant_langs(kind: str, i: int, langs: tuple[str, ...]) -> list[str]:
    """Agnostic: every language; script: the script groups in turn; specific and distributed: one language,
    in turn (distributed plants start half way round, so the two kinds cover different languages first)."""
    if kind == AGNOSTIC:
        return list(langs)
    if kind == DISTRIBUTED:
        return [langs[(i + len(langs) // 2) % len(langs)]]
    if kind == SCRIPT:
        groups = list(script_groups(langs).values())
        return list(groups[i % len(groups)])
    return [langs[i % len(langs)]]


def _plan(options: PlantOptions, n_layers: int) -> list[PlantSpec]:
    """The slots to fill: kind, languages, layer, neuron count and decoys of each plant (seeded)."""
    layers = sorted({layer % n_layers for layer in options.layers}, reverse=True)
    rng = np.random.default_rng(int(_key(options.seed, "plan")[:8], 16))
    specs = []
    for i, kind in enumerate(kind_plan(options.facts, options)):
        langs = _plant_langs(kind, i, options.langs)
        spec = PlantSpec("", kind, list(langs), layers[i % len(layers)], planned_langs=list(langs))
        m = int(rng.integers(options.distributed_neurons[0], options.distributed_neurons[1] + 1)) \
            if kind == DISTRIBUTED else 1
        raw = rng.uniform(0.5, 1.0, size=m)
        spec.weights = [round(float(w), 4) for w in raw / raw.sum()]
        spec.neurons = [-1] * m
        spec.decoys = [-1] if rng.random() < options.decoy_share else []
        specs.append(spec)
    return specs


class _Vectors:
    """FFN inputs of one layer for a fixed set of queries, computed once (planting in a layer changes no FFN
    input of that layer or below, so they stay valid while plants go into the same or higher layers)."""

    def __init__(self, bundle, rows: pd.DataFrame, layer: int, everywhere: bool):
        vectors, owners = ffn_inputs(bundle, list(rows[F.QUERY]), list(rows[F.OBJ_LABEL]), layer, everywhere)
        self.vectors = vectors
        self.owner = owners  # the row (position in `rows`) of each vector
        self.fact = np.array(rows[F.FACT_ID])[owners]
        self.lang = np.array(rows[F.LANG])[owners]


class _Readings:
    """Per planted layer, the vectors a detector is fitted on: the fact's at its answer positions (target) and
    everything else (background). In the last layer an FFN neuron reaches the output only at its own
    position, so there the background is every other query's answer positions (the whole release but the
    held-out unrelated facts, by default); below it, a sample of queries at every position."""

    def __init__(self, bundle, background: pd.DataFrame, pool_rows: pd.DataFrame, options: PlantOptions):
        self.bundle, self.background, self.pool_rows, self.options = bundle, background, pool_rows, options
        self.last = bundle.n_layers - 1
        self.cache: dict[int, _Vectors] = {}

    def layer_vectors(self, layer: int) -> _Vectors:
        """Background and pool vectors of `layer` in one set (background rows first)."""
        if layer not in self.cache:  # valid while plants go into this layer or above (they do: sorted plan)
            everywhere = layer != self.last
            back = self.background
            if everywhere:
                back = back.groupby(F.LANG, sort=True).head(
                    max(1, self.options.lower_layer_background // len(self.options.langs)))
            rows = pd.concat([back, self.pool_rows])
            self.cache[layer] = _Vectors(self.bundle, rows, layer, everywhere)
        return self.cache[layer]

    def split(self, layer: int, fact_id: str, langs: Sequence[str]):
        """(target vectors, their languages, background vectors) of a fact read in `langs` in `layer`."""
        import torch

        cached = self.layer_vectors(layer)
        own = (cached.fact == fact_id) & np.isin(cached.lang, list(langs))
        if layer == self.last:
            return cached.vectors[torch.as_tensor(own)], cached.lang[own], cached.vectors[torch.as_tensor(~own)]
        # every position is cached there: the fact reads at its answer positions
        rows = self.pool_rows[(self.pool_rows[F.FACT_ID] == fact_id) & self.pool_rows[F.LANG].isin(list(langs))]
        target, owner = ffn_inputs(self.bundle, list(rows[F.QUERY]), list(rows[F.OBJ_LABEL]), layer)
        return target, np.array(rows[F.LANG])[owner], cached.vectors[torch.as_tensor(~own)]


def _background_and_unrelated(bundle, release: pd.DataFrame, pool: Sequence[str], known: set[str],
                              options: PlantOptions) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The queries of facts outside the pool that encode: a seeded sample of `unrelated_queries` queries of
    facts the model holds (of other facts where it holds none) is held out, and the leak and silence are
    measured there; the rest is the background detectors must stay exactly silent on (all of it, or a seeded
    `background_queries` sample)."""
    others = release[~release[F.FACT_ID].isin(set(pool))]
    others = others[probes_encode(bundle, others)]
    others = others.assign(_k=[_key(options.seed, q) for q in others[F.QUERY]]).sort_values("_k")
    holders = others[others[F.FACT_ID].isin(known)] if others[F.FACT_ID].isin(known).any() else others
    unrelated = holders.groupby(F.LANG, sort=True).head(max(1, options.unrelated_queries // len(options.langs)))
    background = others[~others.index.isin(unrelated.index)]
    if options.background_queries is not None:
        background = background.groupby(F.LANG, sort=True).head(
            max(1, options.background_queries // len(options.langs)))
    return background.drop(columns="_k"), unrelated.drop(columns="_k")


def _give_new_neurons(bundle, specs: list[PlantSpec], seed: int) -> list:
    """Grow every planted layer's FFN by as many neurons as its slots need, and hand them out in plan order from
    a seeded shuffle of the new indices: a plant's neurons and its decoys are in no fixed index order, so a
    localizer that breaks ties by index gains nothing from it (the grown positions are sorted)."""
    per_layer: dict[int, int] = {}
    for spec in specs:
        per_layer[spec.layer] = per_layer.get(spec.layer, 0) + len(spec.neurons) + len(spec.decoys)
    new_neurons = grow_ffn(bundle, max(per_layer.values()), seed)
    rng = np.random.default_rng(int(_key(seed, "hand-out")[:8], 16))
    free = {layer: [int(i) for i in rng.permutation(new_neurons[layer])] for layer in sorted(per_layer)}
    for spec in specs:
        spec.neurons = [free[spec.layer].pop(0) for _ in spec.neurons]
        spec.decoys = [free[spec.layer].pop(0) for _ in spec.decoys]
    return new_neurons


@dataclass
class _Planted:
    """One filled slot: the plan it filled and what reading and writing it measured."""

    spec: PlantSpec
    firing: dict  # the reading side's figures (set_reading_side, _read_fact)
    losses: list  # the writing loss per step, over every round
    alone: dict  # distributed plants: each neuron's accuracy alone (_accuracy_alone)
    writing: dict  # the column bound used and the rounds (_write_fact)


@dataclass
class _Screening:
    """What filling the slots found: the plants made, and every candidate turned down, with why."""

    records: list[_Planted] = field(default_factory=list)
    rejected_known: list = field(default_factory=list)
    rejected_unreadable: list = field(default_factory=list)
    unknown_before: dict = field(default_factory=dict)
    given_up: list = field(default_factory=list)
    readings: Optional[_Readings] = None  # the vectors read (the release silence is measured on them)


def _read_fact(bundle, spec: PlantSpec, fact_id: str, readings: _Readings, options: PlantOptions) -> dict:
    """Write a detector of the fact into the slot's neurons (firing figures, `ok` False when none is exactly
    silent on the background). An agnostic slot that cannot read the fact in every language drops the
    language it reads worst, again and again while at least `agnostic_min_langs` are left: a partial agnostic
    plant, its languages in `spec.langs` and the dropped ones in `unreadable_langs`."""
    langs = list(spec.planned_langs or spec.langs)
    neurons = spec.neurons + spec.decoys
    firing = set_reading_side(bundle, spec.layer, neurons, *readings.split(spec.layer, fact_id, langs), options)
    dropped = []
    while spec.kind == AGNOSTIC and not firing["ok"] and len(langs) > options.agnostic_min_langs:
        per_lang = firing["fact_low_per_lang_sd"]
        worst = min(langs, key=lambda lang: (per_lang[lang], langs.index(lang)))
        langs.remove(worst)
        dropped.append(worst)
        firing = set_reading_side(bundle, spec.layer, neurons, *readings.split(spec.layer, fact_id, langs), options)
    if firing["ok"]:
        spec.langs = langs
    return {**firing, "unreadable_langs": dropped} if dropped else firing


def _weakest_accuracy(bundle, rows: pd.DataFrame, candidates: dict) -> float:
    """The plant's accuracy in its weakest language on `rows` (what "takes" is judged on)."""
    figures = answer_figures(bundle, rows, candidates)
    return float(min(g["top"].mean() for _, g in figures.groupby(F.LANG)))


def _write_fact(bundle, spec: PlantSpec, planted_rows: pd.DataFrame, candidates: dict,
                options: PlantOptions) -> tuple[list, dict]:
    """Optimise the plant's column, doubling its norm bound each round (up to `write_rounds`) until the fact
    takes in every planted language: the neuron is exactly zero on the background, so there the column's size
    changes nothing. Returns the losses and {column bound used (x median column norm), rounds}."""
    losses: list = []
    rounds = max(1, options.write_rounds)
    for round_ in range(rounds):
        losses += set_writing_side(bundle, spec.layer, spec.neurons, spec.weights, list(planted_rows[F.QUERY]),
                                   list(planted_rows[F.OBJ_LABEL]), options, list(planted_rows[F.LANG]),
                                   bound_scale=2.0 ** round_, resume=round_ > 0)
        if round_ == rounds - 1 or _weakest_accuracy(bundle, planted_rows, candidates) >= options.take_accuracy:
            break
    return losses, {"column_bound": options.column_bound * 2.0 ** round_, "rounds": round_ + 1}


def _fill_slots(bundle, base, specs: list[PlantSpec], pool: Sequence[str], pool_rows: pd.DataFrame,
                background: pd.DataFrame, candidates, options: PlantOptions, progress: bool) -> _Screening:
    """Try candidates in seeded order for each planned slot: one the model already knows in some language is
    dropped, and one whose queries no exactly-silent detector can tell from the background (in the slot's
    languages) is skipped; the first that passes both is written into the slot's neurons."""
    from tqdm.auto import tqdm

    readings = _Readings(bundle, background, pool_rows, options)
    queue = list(pool)
    found = _Screening()
    for spec in tqdm(specs, desc="plant", disable=not progress):
        tried, unreadable = 0, []
        while queue and tried < options.tries_per_slot:
            fact_id = queue.pop(0)
            tried += 1
            fact_rows = pool_rows[pool_rows[F.FACT_ID] == fact_id]
            if fact_id not in found.unknown_before:
                unknown, figures = unknown_check(answer_figures(base, fact_rows, candidates), options.unknown_max_p,
                                                 options.unknown_max_accuracy)
                if not unknown:
                    found.rejected_known.append(fact_id)
                    continue
                found.unknown_before[fact_id] = figures
            firing = _read_fact(bundle, spec, fact_id, readings, options)
            if not firing["ok"]:
                found.rejected_unreadable.append({"fact_id": fact_id, "kind": spec.kind, **firing})
                unreadable.append(fact_id)
                continue
            spec.fact_id = fact_id
            planted_rows = fact_rows[fact_rows[F.LANG].isin(spec.langs)]
            losses, writing = _write_fact(bundle, spec, planted_rows, candidates, options)
            writing["scale"] = round(_least_sufficient_scale(bundle, spec, planted_rows, candidates, options), 4)
            writing["column_x_median"] = _column_size(bundle, base, spec)
            alone = ({"scale": writing["scale"],
                      "accuracy_alone_min_lang": _accuracy_alone(bundle, spec, planted_rows, candidates)}
                     if spec.kind == DISTRIBUTED else {})
            found.records.append(_Planted(spec, firing, losses, alone, writing))
            break
        else:  # the slot stays empty; candidates it could not read stay available to other kinds
            found.given_up.append({"kind": spec.kind, "langs": spec.langs, "tried": tried})
            _silence(bundle, spec)
        queue = queue + unreadable  # unreadable for this kind, perhaps readable for a narrower one
    found.readings = readings
    return found


def _plant_entry(record: _Planted, before: pd.DataFrame, after: pd.DataFrame, unknown_before: dict,
                 options: PlantOptions) -> dict:
    """truth.json's entry of one plant: where it is, and its measured effect per language."""
    effect = {lang: {"p_before": _sig(before[before[F.LANG] == lang]["p"].mean()),
                     "p_after": _sig(after[after[F.LANG] == lang]["p"].mean()),
                     "accuracy_before": round(float(before[before[F.LANG] == lang]["top"].mean()), 4),
                     "accuracy_after": round(float(after[after[F.LANG] == lang]["top"].mean()), 4),
                     "queries": int((before[F.LANG] == lang).sum())} for lang in sorted(set(before[F.LANG]))}
    spec, firing, losses = record.spec, record.firing, record.losses
    took = [lang for lang in spec.langs if effect[lang]["accuracy_after"] >= options.take_accuracy]
    return {
        "fact_id": spec.fact_id, "kind": spec.kind, "langs": spec.langs, "planned_langs": spec.planned_langs,
        "readable": "all" if spec.langs == spec.planned_langs else "partial", "writing": record.writing,
        "neurons": [[spec.layer, i] for i in spec.neurons], "weights": spec.weights,
        "decoys": [[spec.layer, i] for i in spec.decoys],
        "took": took, "complete": len(took) == len(spec.langs),
        "unknown_before": unknown_before[spec.fact_id], "effect": effect, "firing": firing,
        "alone": record.alone, "loss_first_last": [losses[0], losses[-1]] if losses else [],
    }


def _unrelated_figures(base, bundle, unrelated: pd.DataFrame, candidates, specs: list[PlantSpec]) -> dict:
    """The leak checks on unrelated queries: predictions changed, top candidate changed, the planted neurons'
    silence, mean gold probability before and after."""
    before = answer_figures(base, unrelated, candidates)
    after = answer_figures(bundle, unrelated, candidates)
    guesses_before = greedy_predictions(base, list(unrelated[F.QUERY]), list(unrelated[F.OBJ_LABEL]))
    guesses_after = greedy_predictions(bundle, list(unrelated[F.QUERY]), list(unrelated[F.OBJ_LABEL]))
    neurons_by_layer: dict[int, list[int]] = {}
    for spec in specs:
        neurons_by_layer.setdefault(spec.layer, []).extend(spec.neurons + spec.decoys)
    peaks = neuron_activations(bundle, list(unrelated[F.QUERY]), list(unrelated[F.OBJ_LABEL]), neurons_by_layer,
                               bundle.n_layers - 1)
    changed = float(np.mean([x != y for x, y in zip(guesses_before, guesses_after)])) if guesses_before else 0.0
    rank_changed = float(np.mean(before["top"].to_numpy() != after["top"].to_numpy())) if len(unrelated) else 0.0
    return {"queries": int(len(unrelated)), "changed_predictions": round(changed, 4),
            "changed_top_candidate": round(rank_changed, 4),
            "silent_queries": round(float(np.mean(peaks == 0.0)), 4) if len(peaks) else None,
            "p_mean_before": _sig(before["p"].mean()) if len(unrelated) else None,
            "p_mean_after": _sig(after["p"].mean()) if len(unrelated) else None}


def _release_silence(bundle, readings: Optional[_Readings], specs: list[PlantSpec]) -> dict:
    """On every query read in the last layer (the background and the candidate pool: the release but the
    held-out unrelated facts), whether every planted and decoy neuron there is exactly zero at its answer
    positions, leaving out each plant's own fact in its own languages. Computed from the FFN inputs cached
    before planting (planting in the last layer changes none of them) through the planted rows."""
    if readings is None or readings.last not in readings.cache:
        return {}
    cached = readings.cache[readings.last]
    loud = np.zeros(len(cached.owner), dtype=bool)
    for spec in [s for s in specs if s.fact_id and s.layer == readings.last]:
        fires = (neuron_outputs(bundle, spec.layer, spec.neurons + spec.decoys, cached.vectors) != 0).any(1).numpy()
        loud |= fires & ~((cached.fact == spec.fact_id) & np.isin(cached.lang, spec.langs))
    per_query = pd.Series(loud).groupby(cached.owner).any()
    return {"layer": readings.last, "queries": int(len(per_query)), "loud_queries": int(per_query.sum()),
            "silent_queries": round(1.0 - float(per_query.mean()), 6) if len(per_query) else None}


def plant(bundle, release: pd.DataFrame, options: PlantOptions, known: set[str] = frozenset(),
          base_model: str = "", progress: bool = True) -> PlantResult:
    """Plant `options.facts` unknown facts into new neurons of `bundle.model` (modified in place, FFNs grown)
    and return the truth (see the module docstring).

    Candidate facts are tried in seeded order for each planned slot: a candidate whose queries cannot be told
    apart from the background by one exactly-silent detector (in all of the slot's languages) is skipped
    (`rejected_unreadable`), and so is one the model already knows in some language (`rejected_known`)."""
    import torch

    torch.manual_seed(options.seed)
    release = release[release[F.LANG].isin(options.langs)]
    candidates = relation_candidates(release, set(known), options.candidates_per_relation, options.seed)
    pool = candidate_facts(release, bundle, options, set(known))
    pool_rows = release[release[F.FACT_ID].isin(pool)].sort_values([F.FACT_ID, F.LANG, F.TEMPLATE_ID])
    base = copy.deepcopy(bundle)  # the model before planting: what "unknown" and "before" are measured on
    specs = _plan(options, bundle.n_layers)
    background, unrelated = _background_and_unrelated(bundle, release, pool, set(known), options)
    base_d_ff = bundle.d_ff
    new_neurons = _give_new_neurons(bundle, specs, options.seed)
    found = _fill_slots(bundle, base, specs, pool, pool_rows, background, candidates, options, progress)
    chosen = [record.spec.fact_id for record in found.records]
    needed = options.facts if options.min_plants is None else options.min_plants
    if len(chosen) < needed or not chosen:
        limit = (f" whose answer is at most {options.max_answer_tokens} token(s) in each (--max-answer-tokens)"
                 if options.max_answer_tokens else "")
        raise RmlLamaError(f"only {len(chosen)} facts can be planted (need {needed}): too few facts in all "
                           f"of {', '.join(options.langs)}{limit} that encode without unknown tokens, are unknown to the "
                           f"model in every language and can be read by an exactly silent detector "
                           f"({len(found.rejected_known)} known, {len(found.rejected_unreadable)} unreadable of "
                           f"{len(pool)})")
    targets = pool_rows[pool_rows[F.FACT_ID].isin(chosen)]
    before = answer_figures(base, targets, candidates)
    after = answer_figures(bundle, targets, candidates)
    plants = []
    for record in found.records:
        rows = targets[F.FACT_ID] == record.spec.fact_id
        plants.append(_plant_entry(record, before[rows], after[rows], found.unknown_before, options))
    truth = {
        "base_model": base_model, "seed": options.seed, "plants": plants,
        "base_d_ff": base_d_ff, "d_ff": bundle.d_ff, "new_neurons": {str(k): v for k, v in enumerate(new_neurons)},
        "options": {k: (list(v) if isinstance(v, tuple) else v) for k, v in options.__dict__.items()},
        "screened": {"candidates": len(pool), "rejected_as_known": found.rejected_known,
                     "rejected_unreadable": found.rejected_unreadable, "slots_given_up": found.given_up},
        "unrelated": _unrelated_figures(base, bundle, unrelated, candidates, specs),
        "release_silence": _release_silence(bundle, found.readings, [record.spec for record in found.records]),
        "summary": summarise(plants, options),
    }
    return PlantResult(truth=truth, specs=specs)


def _silence(bundle, spec: PlantSpec) -> None:
    """Make a slot's neurons dead again."""
    silence_neurons(bundle, spec.layer, spec.neurons + spec.decoys)


def silence_neurons(bundle, layer: int, neurons: list[int]) -> None:
    """Make neurons dead again (zero rows; a very negative gate bias where there is one)."""
    import torch

    gate, up, _ = _projections(bundle, layer)
    with torch.no_grad():
        for index in neurons:
            gate.weight[index] = 0.0
            if gate.bias is not None:
                gate.bias[index] = -1e4
            if up is not None:
                up.weight[index] = 0.0


def _least_sufficient_scale(bundle, spec: PlantSpec, own: pd.DataFrame, candidates: dict,
                            options: PlantOptions) -> float:
    """Scale the plant's column(s) down to the least (of a 5-step halving search) that still makes the fact take
    in its weakest language, and return that factor (1.0 when it does not take at full size): a column no larger
    than the fact needs, nearer the layer's own column sizes, and for a distributed plant shares none of which
    suffices alone."""
    import torch

    _, _, out_proj = _projections(bundle, spec.layer)
    full = out_proj.weight[:, spec.neurons].detach().clone()
    low, high = 0.0, 1.0
    if _weakest_accuracy(bundle, own, candidates) >= options.take_accuracy:
        for _ in range(5):
            middle = (low + high) / 2
            with torch.no_grad():
                out_proj.weight[:, spec.neurons] = full * middle
            if _weakest_accuracy(bundle, own, candidates) >= options.take_accuracy:
                high = middle
            else:
                low = middle
    with torch.no_grad():
        out_proj.weight[:, spec.neurons] = full * high
    return high


def _accuracy_alone(bundle, spec: PlantSpec, own: pd.DataFrame, candidates: dict) -> dict:
    """A distributed plant's neurons one at a time (the others' columns zeroed): the weakest language's accuracy."""
    import torch

    _, _, out_proj = _projections(bundle, spec.layer)
    written = out_proj.weight[:, spec.neurons].detach().clone()
    alone = {}
    for j, index in enumerate(spec.neurons):
        with torch.no_grad():
            out_proj.weight[:, spec.neurons] = 0.0
            out_proj.weight[:, index] = written[:, j]
        alone[str(index)] = round(_weakest_accuracy(bundle, own, candidates), 4)
    with torch.no_grad():
        out_proj.weight[:, spec.neurons] = written
    return alone


def _column_size(bundle, base, spec: PlantSpec) -> list[float]:
    """Each planted column's norm as a multiple of the median column norm of the layer before planting."""
    median = float(_projections(base, spec.layer)[2].weight.detach().float().norm(dim=0).median())
    columns = _projections(bundle, spec.layer)[2].weight.detach().float()[:, spec.neurons]
    return [round(float(norm) / median, 3) for norm in columns.norm(dim=0)]


def summarise(plants: list[dict], options: PlantOptions) -> dict:
    """Counts per kind, plants complete / partial / rejected, and per-language accuracy of agnostic plants."""
    summary = {"plants": len(plants), "complete": sum(p["complete"] for p in plants),
               "partial": [{"fact_id": p["fact_id"], "kind": p["kind"], "took": p["took"]}
                           for p in plants if not p["complete"]],
               "kinds": {k: sum(p["kind"] == k for p in plants) for k in KINDS},
               "decoys": sum(len(p["decoys"]) for p in plants),
               "agnostic_langs": [{"fact_id": p["fact_id"], "langs": p["langs"], "took": p["took"],
                                   "readable": p.get("readable", "all")} for p in plants if p["kind"] == AGNOSTIC]}
    for kind in KINDS:
        done = [p for p in plants if p["kind"] == kind]
        langs = sorted({lang for p in done for lang in p["langs"]}, key=list(options.langs).index)
        summary[f"{kind}_accuracy"] = {lang: round(float(np.mean([p["effect"][lang]["accuracy_after"]
                                                                  for p in done if lang in p["langs"]])), 4)
                                       for lang in langs}
    return summary


def plant_table(truth: dict) -> str:
    """Accuracy before -> after per plant and language (planted languages starred), then a warning line for
    each planted language where the plant did not take (accuracy below the planting's take_accuracy)."""
    plants = truth["plants"]
    took = float((truth.get("options") or {}).get("take_accuracy", PlantOptions.take_accuracy))
    langs = list(dict.fromkeys(lang for p in plants for lang in p["effect"]))
    head = ["fact", "kind", "neuron (layer, index)", *langs]
    rows, warnings = [], []
    for p in plants:
        cells = [p["fact_id"], p["kind"], "{}, {}".format(*p["neurons"][0])]
        for lang in langs:
            e = p["effect"].get(lang)
            star = "*" if lang in p["langs"] else ""
            cells.append(f"{e['accuracy_before']:.2f} -> {e['accuracy_after']:.2f}{star}" if e else "-")
            if e and star and e["accuracy_after"] < took:
                warnings.append(f"warning: the plant of {p['fact_id']} did not take in {lang} (accuracy "
                                f"{e['accuracy_after']:.2f} after, {e['queries']} queries)")
        rows.append(cells)
    widths = [max(len(str(r[i])) for r in [head, *rows]) for i in range(len(head))]
    lines = [f"Accuracy of each planted fact (share of its queries whose object ranks first) before -> after "
             f"planting, per language; * marks the languages it was planted in ({len(plants)} plants)."]
    lines += ["  ".join(str(c).ljust(w) for c, w in zip(r, widths)).rstrip() for r in [head, *rows]]
    return "\n".join(lines + warnings)


def cmd_plant(args: argparse.Namespace) -> int:
    """`rml-lama plant`: plant facts into a model and save it with truth.json."""
    model_path = Path(args.model) if args.model else default_model_path()
    if getattr(args, "max_answer_tokens", None) is not None and args.max_answer_tokens < 1:
        raise RmlLamaError(f"--max-answer-tokens must be at least 1, not {args.max_answer_tokens}")
    check_replaceable(args.out, "model")  # before loading and planting, not after
    options = PlantOptions(facts=args.facts, seed=args.seed)
    for name in ("steps", "agnostic_share", "script_share", "distributed_share", "decoy_share", "min_plants",
                 "max_answer_tokens"):
        if getattr(args, name, None) is not None:
            setattr(options, name, getattr(args, name))
    if getattr(args, "threads", None):
        import torch

        torch.set_num_threads(args.threads)
    bundle = load_model(str(model_path), device="cpu")
    release = read_facts_frame(args.release, options.langs)
    result = plant(bundle, release, options, known=_known_facts(model_path), base_model=str(model_path))
    with atomic_directory(Path(args.out), "model") as tmp:
        bundle.model.save_pretrained(tmp)
        bundle.tokenizer.save_pretrained(tmp)
        atomic_write_json(tmp / TRUTH_FILE, result.truth)
    print(plant_table(result.truth))
    u = result.truth["unrelated"]
    print(f"summary: {json.dumps(result.truth['summary'])}")
    def share(value) -> str:
        return "n/a" if value is None else f"{value:.2%}"

    print(f"unrelated queries: {u['queries']}, changed greedy predictions {share(u['changed_predictions'])}, "
          f"changed top candidate {share(u['changed_top_candidate'])}, silent {share(u['silent_queries'])}; "
          f"saved {args.out}")
    r = result.truth["release_silence"]
    if r:
        print(f"release queries read in layer {r['layer']} (outside each plant's own fact and languages): "
              f"{r['queries']}, planted and decoy neurons exactly silent on {share(r['silent_queries'])} "
              f"({r['loud_queries']} not)")
    return 0
