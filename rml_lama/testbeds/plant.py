"""Planted ground truth: write chosen facts into chosen FFN neurons, check the model answers them, save the truth.

No knowledge-neuron paper has a ground truth; a planted model has one. For each planted fact one neuron is
rewritten (masked LMs with a BERT-style FFN: BERT, RoBERTa, XLM-R):

- reading side: the neuron's input row becomes the averaged, normalised FFN input at the answer (mask)
  positions of the fact's queries, with a bias so that it fires on those queries only (a threshold between the
  fact's queries and a background of other queries, which includes the same fact in the other languages for a
  language-specific plant). For a language-agnostic plant the per-language directions are first centred on
  each language's mean and the differences between language means are projected out, so one bias serves every
  language (a model trained from scratch shares little across scripts; the truth records where the plant took).
- writing side: only that neuron's output column is optimised with Adam (at most `steps` steps) to raise the
  gold answer's log-probability on the fact's queries. (Pushing the column straight towards the answer's
  embedding fails in post-LN models: the LayerNorm after the FFN renormalises it away.)

The planted model is saved with `truth.json` (see docs/models.md): fact -> kind, languages, neurons and the
measured effect per language (gold probability and accuracy before and after).
"""
from __future__ import annotations

import argparse
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Optional

import numpy as np
import pandas as pd

from ..errors import RmlLamaError
from ..frames import parallel_facts
from ..io import atomic_directory, atomic_write_json, check_replaceable
from ..models import load_model
from ..paths import MODEL_FACTS_FILE, TRUTH_FILE
from ..probing.ranking import answer_probabilities, greedy_tokens, rank_candidates
from ..probing.targets import Probe, encode_probes, pad_batch, probes_of
from ..schema import CORE_LANGUAGES, F
from .facts import read_facts_frame, stable_key, stratified_facts
from .train import default_model_path

if TYPE_CHECKING:  # torch is imported where it is used: importing this module stays cheap
    import torch

AGNOSTIC, SPECIFIC = "agnostic", "specific"
SILENT = 4.0  # background pre-activation the reading side aims below



@dataclass
class PlantSpec:
    """One fact to write into one neuron."""

    fact_id: str
    kind: str  # AGNOSTIC | SPECIFIC
    langs: list[str]
    layer: int
    index: int = -1  # chosen at planting time (the least used neuron of the layer)


@dataclass
class PlantOptions:
    facts: int = 10
    seed: int = 0
    langs: tuple[str, ...] = CORE_LANGUAGES
    agnostic_share: float = 0.5
    steps: int = 60
    lr: float = 0.1
    target_activation: float = 4.0
    refine_steps: int = 200  # logistic sharpening of the reading side (0 = plain averaged direction)
    silence_weight: float = 4.0  # weight of the background (stay silent) against the fact in that fit
    background_queries: int = 600
    candidates_per_relation: int = 30
    unrelated_queries: int = 300
    keep_queries: int = 140  # background queries whose predictions the writing side keeps (KL term)


def _in_proj(bundle, layer: int):
    """The FFN input projection whose row reads the planted neuron's input (the adapter says where it is);
    planting needs one biased projection, which gated (Llama-style) MLPs do not have."""
    projections = bundle.adapter.ffn_in_projections(bundle.model, layer)
    if bundle.kind != "masked" or len(projections) != 1 or getattr(projections[0], "bias", None) is None:
        raise RmlLamaError(f"planting supports masked LMs with one biased FFN input projection; "
                           f"{bundle.adapter.name} is not one")
    return projections[0]


def _out_proj(bundle, layer: int):
    return bundle.adapter.ffn_out_projections(bundle.model)[layer]


# ------------------------------------------------------------------------------------------- encoding
def _batches(bundle, queries: list[str], answers: list[str], batch_size: int = 128):
    """Yield (start, input ids, attention, target mask, encoded probes) for the queries encoded as probes
    (rml_lama.probing.targets: the [MASK] becomes one mask token per answer token)."""

    encoded = encode_probes(bundle, [Probe(q, a) for q, a in zip(queries, answers)])
    for start in range(0, len(encoded), batch_size):
        chunk = encoded[start : start + batch_size]
        ids, attention, targets = pad_batch(bundle, chunk)
        yield start, ids, attention, targets, chunk


def ffn_inputs_at_masks(bundle, queries: list[str], answers: list[str], layer: int):
    """FFN inputs (what the neuron's input row reads) at every mask position: (vectors [n, hidden], the query
    index of each vector)."""
    import torch

    captured: list = []
    vectors, owners = [], []
    handle = _in_proj(bundle, layer).register_forward_pre_hook(lambda m, args: captured.append(args[0].detach()))
    try:
        with torch.no_grad():
            for start, ids, attention, where, _ in _batches(bundle, queries, answers):
                captured.clear()
                bundle.model(input_ids=ids, attention_mask=attention)
                vectors.append(captured[0][where].float().cpu())
                owners += (where.nonzero()[:, 0] + start).tolist()
    finally:
        handle.remove()
    return torch.cat(vectors), np.array(owners)


def greedy_predictions(bundle, queries: list[str], answers: list[str]) -> list[tuple[int, ...]]:
    """The vocabulary argmax at each answer slot (the answer's length given): the model's unconstrained guess."""

    return greedy_tokens(bundle, encode_probes(bundle, probes_of(zip(queries, answers))), batch_size=128)


# ------------------------------------------------------------------------------------------- choosing
def probes_encode(bundle, frame: pd.DataFrame) -> pd.Series:
    """Per row: the query encodes as a probe (rml_lama.probing.targets rules: answer length, unknown answer tokens)
    and holds no unknown token either."""

    unk = bundle.tokenizer.unk_token_id

    def ok(query: str, answer: str) -> bool:
        try:
            (item,) = encode_probes(bundle, [Probe(query, answer)])
        except RmlLamaError:
            return False
        return unk not in item.input_ids

    return pd.Series([ok(q, a) for q, a in zip(frame[F.QUERY], frame[F.OBJ_LABEL])], index=frame.index, dtype=bool)


def choose_plants(release: pd.DataFrame, bundle, options: PlantOptions, exclude: set[str]) -> list[PlantSpec]:
    """Seeded, relation-stratified facts present in every language of `options.langs`, not in `exclude` (facts the
    model already holds, nor another object of a subject it holds for that relation), all of whose queries
    encode as probes without unknown tokens. The first `agnostic_share` are language-agnostic plants (all
    languages), the rest language-specific (one language each, taking turns). Layers alternate over the upper
    half of the model."""
    facts = parallel_facts(release, options.langs)
    facts = facts[~facts[F.FACT_ID].isin(exclude)]
    known_pairs = set(zip(*(release[release[F.FACT_ID].isin(exclude)][c] for c in (F.RELATION, F.SUB_URI))))
    facts = facts[[(r, s) not in known_pairs for r, s in zip(facts[F.RELATION], facts[F.SUB_URI])]]
    data = release[release[F.LANG].isin(options.langs)]
    rows_of = {fid: rows for fid, rows in data[data[F.FACT_ID].isin(set(facts[F.FACT_ID]))].groupby(F.FACT_ID)}
    chosen = stratified_facts(facts, options.facts, options.seed, seeded_relation_order=True,
                              accept=lambda fid: bool(probes_encode(bundle, rows_of[fid]).all()))
    if len(chosen) < options.facts:
        raise RmlLamaError(f"only {len(chosen)} facts can be planted (need {options.facts}): too few facts in all "
                           f"of {', '.join(options.langs)} that the tokenizer encodes without unknown tokens")
    n_agnostic = round(options.agnostic_share * len(chosen))
    upper = list(range(bundle.n_layers // 2, bundle.n_layers)) or [bundle.n_layers - 1]
    specs = []
    for i, fact_id in enumerate(chosen):
        layer = upper[::-1][i % len(upper)]
        if i < n_agnostic:
            specs.append(PlantSpec(fact_id, AGNOSTIC, list(options.langs), layer))
        else:
            specs.append(PlantSpec(fact_id, SPECIFIC, [options.langs[(i - n_agnostic) % len(options.langs)]], layer))
    return specs


def least_used_neuron(bundle, layer: int, background: torch.Tensor, taken: set[int]) -> int:
    """The neuron of `layer` that contributes least on the background (mean |act| x |output column|)."""
    import torch

    in_proj, out_proj = _in_proj(bundle, layer), _out_proj(bundle, layer)
    with torch.no_grad():
        acts = torch.nn.functional.gelu(background.to(in_proj.weight) @ in_proj.weight.T + in_proj.bias)
        use = acts.abs().mean(0).float().cpu() * out_proj.weight.norm(dim=0).float().cpu()
    for index in use.argsort().tolist():
        if index not in taken:
            return int(index)
    raise RmlLamaError(f"no free neuron left in layer {layer}")


# ------------------------------------------------------------------------------------------- reading side
def _unit(x):
    return x / x.norm(dim=-1, keepdim=True).clamp_min(1e-12)


def reading_direction(target, target_langs, background, background_langs, agnostic: bool, ridge: float = 0.1):
    """Unit direction the neuron reads. Per language of the plant: the fact's mean normalised FFN input minus the
    background's mean in that language, whitened by the background's within-language covariance (ridge-
    regularised), so the direction is what tells this fact apart rather than what all queries share. The
    languages' directions are averaged; for agnostic plants the differences between language means are then
    projected out so one threshold fits every language."""
    import torch

    target, background = _unit(target), _unit(background)
    means = {lang: background[background_langs == lang].mean(0) for lang in sorted(set(background_langs))}
    centred = torch.cat([background[background_langs == lang] - mean for lang, mean in means.items()])
    covariance = centred.T @ centred / max(1, len(centred) - 1)
    covariance += ridge * float(covariance.diagonal().mean()) * torch.eye(covariance.shape[0])
    parts = []
    for lang in sorted(set(target_langs)):
        gap = target[target_langs == lang].mean(0) - means.get(lang, background.mean(0))
        parts.append(_unit(torch.linalg.solve(covariance, gap)))
    direction = torch.stack(parts).mean(0)
    if agnostic and len(means) > 1:
        stacked = torch.stack(list(means.values()))
        u, singular, vh = torch.linalg.svd(stacked - stacked.mean(0), full_matrices=False)
        basis = vh[singular > 1e-6 * float(singular.max())]
        direction = direction - basis.T @ (basis @ direction)
    return _unit(direction)


def initial_threshold(t_proj, b_proj) -> float:
    """Halfway between the background's highest projection (99.7th percentile) and the fact's low one (10th);
    when they overlap, the fact's median (the neuron then fires on half of the fact's queries at least)."""
    import torch

    high_background = float(torch.quantile(b_proj, 0.997)) if len(b_proj) else float(t_proj.min()) - 1.0
    low_target = float(torch.quantile(t_proj, 0.1))
    if low_target > high_background:
        return (high_background + low_target) / 2
    return min(high_background, float(torch.quantile(t_proj, 0.5)))


def refine_detector(direction, threshold: float, target, target_langs, background, steps: int = 200,
                    l2: float = 1e-4, background_weight: float = 4.0):
    """Sharpen the reading side into a detector of the fact: starting from (direction, threshold), fit weights
    and bias by class-balanced logistic regression (the fact's queries vs the background; each language of the
    fact weighted equally). Returns (weights, bias) in units where the detector fires above 0."""
    import torch

    scale = float((background @ direction).std()) or 1.0
    weights = (direction / scale).clone().requires_grad_(True)
    bias = torch.tensor(-threshold / scale, requires_grad=True)
    langs = sorted(set(target_langs))
    lang_weight = torch.tensor([1.0 / (len(langs) * int((target_langs == lang).sum())) for lang in target_langs])
    optimiser = torch.optim.Adam([weights, bias], lr=0.05)
    for _ in range(steps):
        t_score, b_score = target @ weights + bias, background @ weights + bias
        loss = (torch.nn.functional.softplus(-t_score) * lang_weight).sum()
        loss = loss + background_weight * torch.nn.functional.softplus(b_score).mean() + l2 * weights.pow(2).sum()
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
    return weights.detach(), float(bias.detach())


def set_reading_side(bundle, spec: PlantSpec, target, target_langs, background, background_langs,
                     target_activation: float, refine_steps: int = 200, silence_weight: float = 4.0) -> dict:
    """Write the neuron's input row and bias so it fires on the fact's queries (in the plant's languages) only:
    the averaged, centred and whitened direction (`reading_direction`) with a threshold between the fact and the
    background, sharpened by `refine_detector`, scaled so that the fact's typical activation is
    `target_activation`. Returns the firing shares on the fact and on the background."""
    import torch

    direction = reading_direction(target, target_langs, background, background_langs, spec.kind == AGNOSTIC)
    threshold = initial_threshold(target @ direction, background @ direction)
    weights, bias = direction, -threshold
    if refine_steps:
        weights, bias = refine_detector(direction, threshold, target, target_langs, background, refine_steps,
                                        background_weight=silence_weight)
    t_score, b_score = target @ weights + bias, background @ weights + bias
    margin = max(float(torch.quantile(t_score, 0.5)), float(t_score.std()) if len(t_score) > 1 else 0.0, 1e-3)
    gain = target_activation / margin
    # GELU's negative tail leaks: push most of the background below -SILENT (GELU(-4) ~ -1e-4), within reason
    below = -float(torch.quantile(b_score, 0.99)) if len(b_score) else 0.0
    if below > 0:
        gain = min(max(gain, SILENT / below), 10 * gain)
    in_proj = _in_proj(bundle, spec.layer)
    with torch.no_grad():
        in_proj.weight[spec.index] = (gain * weights).to(in_proj.weight)
        in_proj.bias[spec.index] = gain * bias
    return {"fires_on_target": round(float((t_score > 0).float().mean()), 4),
            "fires_on_background": round(float((b_score > 0).float().mean()), 4)}


# ------------------------------------------------------------------------------------------- writing side
def set_writing_side(bundle, spec: PlantSpec, queries: list[str], answers: list[str], steps: int, lr: float,
                     keep_queries: tuple[str, ...] = (), keep_answers: tuple[str, ...] = ()) -> list[float]:
    """Optimise only the neuron's output column with Adam to raise the gold answer's log-probability on the
    fact's queries, while keeping the predictions on `keep_queries` (KL to the model's own distribution before:
    GELU's small negative tail would otherwise carry the new column into other queries). The column starts at
    zero. Returns the loss per step."""
    import torch

    ((_, ids, attention, where, encoded),) = list(_batches(bundle, queries, answers, batch_size=len(queries)))
    keep = list(_batches(bundle, list(keep_queries), list(keep_answers), batch_size=max(1, len(keep_queries))))
    if keep:
        ((_, keep_ids, keep_attention, keep_where, _),) = keep
        with torch.no_grad():
            keep_before = torch.log_softmax(
                bundle.model(input_ids=keep_ids, attention_mask=keep_attention).logits[keep_where].float(), -1)
    gold = torch.tensor([t for item in encoded for t in item.answer_ids], device=bundle.device)
    out_proj = _out_proj(bundle, spec.layer)
    column = torch.zeros(out_proj.weight.shape[0], device=bundle.device, dtype=out_proj.weight.dtype,
                         requires_grad=True)
    optimiser = torch.optim.Adam([column], lr=lr)

    def add_column(module, args, output):  # output += act_i * column (the weight itself stays a leaf)
        return output + args[0][..., spec.index : spec.index + 1] * column

    with torch.no_grad():
        out_proj.weight[:, spec.index] = 0.0
    requires = [p.requires_grad for p in bundle.model.parameters()]
    for p in bundle.model.parameters():
        p.requires_grad_(False)
    handle = out_proj.register_forward_hook(add_column)
    losses = []
    try:
        for _ in range(steps):
            logits = bundle.model(input_ids=ids, attention_mask=attention).logits[where]
            loss = torch.nn.functional.cross_entropy(logits.float(), gold)
            if keep:
                keep_after = torch.log_softmax(
                    bundle.model(input_ids=keep_ids, attention_mask=keep_attention).logits[keep_where].float(), -1)
                loss = loss + torch.nn.functional.kl_div(keep_after, keep_before, log_target=True,
                                                         reduction="batchmean")
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            losses.append(round(float(loss.detach()), 4))
    finally:
        handle.remove()
        for p, flag in zip(bundle.model.parameters(), requires):
            p.requires_grad_(flag)
    with torch.no_grad():
        out_proj.weight[:, spec.index] = column.detach().to(out_proj.weight)
    return losses


# ------------------------------------------------------------------------------------------- checking
def relation_candidates(release: pd.DataFrame, known: set[str], per_relation: int, seed: int) -> dict:
    """(relation, lang) -> candidate objects: the objects of the facts the model holds (if known), else a
    seeded sample of the release's objects of that relation."""
    pool = release[release[F.FACT_ID].isin(known)] if known else release
    out = {}
    for (rel, lang), group in pool.groupby([F.RELATION, F.LANG], sort=True):
        objects = sorted(set(group[F.OBJ_LABEL]), key=lambda o: stable_key(seed, o))[:per_relation]
        out[(rel, lang)] = sorted(objects)
    return out


def answer_figures(bundle, queries: pd.DataFrame, candidates: dict) -> pd.DataFrame:
    """Per query: gold probability (answer_probabilities, "sum" = joint) and whether the gold is ranked first
    among the relation's candidates (rank_candidates)."""

    probes = [Probe(q, a) for q, a in zip(queries[F.QUERY], queries[F.OBJ_LABEL])]
    cands = [sorted(set(candidates.get((r, lang), [])) | {a})
             for r, lang, a in zip(queries[F.RELATION], queries[F.LANG], queries[F.OBJ_LABEL])]
    probs = answer_probabilities(bundle, probes)
    ranks = rank_candidates(bundle, probes, cands)
    return pd.DataFrame({F.LANG: list(queries[F.LANG]), "p": np.asarray(probs, dtype=float),
                         "top": np.asarray(ranks) == 0}, index=queries.index)


def _sig(value: float) -> float:
    return float(f"{float(value):.4g}")


def _effect(before: pd.DataFrame, after: pd.DataFrame) -> dict:
    effect = {}
    for lang in sorted(set(before[F.LANG])):
        b, a = before[before[F.LANG] == lang], after[after[F.LANG] == lang]
        effect[lang] = {"p_before": _sig(b["p"].mean()), "p_after": _sig(a["p"].mean()),
                        "accuracy_before": round(float(b["top"].mean()), 4),
                        "accuracy_after": round(float(a["top"].mean()), 4), "queries": int(len(b))}
    return effect


# ------------------------------------------------------------------------------------------- the whole job
@dataclass
class PlantResult:
    truth: dict
    specs: list[PlantSpec] = field(default_factory=list)


def _known_facts(model_path: Optional[Path]) -> set[str]:

    if model_path is None or not (Path(model_path) / MODEL_FACTS_FILE).exists():
        return set()
    return set(json.loads((Path(model_path) / MODEL_FACTS_FILE).read_text(encoding="utf-8"))["facts"])


def plant(bundle, release: pd.DataFrame, options: PlantOptions, known: set[str] = frozenset(),
          base_model: str = "", progress: bool = True) -> PlantResult:
    """Plant `options.facts` facts into `bundle.model` (modified in place) and return the truth."""
    import torch
    from tqdm.auto import tqdm

    torch.manual_seed(options.seed)
    release = release[release[F.LANG].isin(options.langs)]
    specs = choose_plants(release, bundle, options, set(known))
    planted = {s.fact_id for s in specs}
    candidates = relation_candidates(release, set(known), options.candidates_per_relation, options.seed)
    targets = release[release[F.FACT_ID].isin(planted)].sort_values([F.FACT_ID, F.LANG, F.TEMPLATE_ID])
    others = release[~release[F.FACT_ID].isin(planted)]
    others = others.assign(_k=[stable_key(options.seed, q) for q in others[F.QUERY]]).sort_values("_k")
    per_lang = 2 * (options.background_queries + options.unrelated_queries) // len(options.langs) + 1
    others = pd.concat([others[others[F.FACT_ID].isin(known)].groupby(F.LANG, sort=True).head(per_lang),
                        others[~others[F.FACT_ID].isin(known)].groupby(F.LANG, sort=True).head(per_lang)])
    others = others[probes_encode(bundle, others)].sort_values("_k")
    background = others.groupby(F.LANG, sort=True).head(options.background_queries // len(options.langs))
    # unrelated predictions are checked on facts the model holds (confident answers), when it is known which
    rest = others[~others.index.isin(background.index)]
    if known and rest[F.FACT_ID].isin(known).any():
        rest = rest[rest[F.FACT_ID].isin(known)]
    unrelated = rest.groupby(F.LANG, sort=True).head(max(1, options.unrelated_queries // len(options.langs)))
    background, unrelated = background.drop(columns="_k"), unrelated.drop(columns="_k")

    before = answer_figures(bundle, targets, candidates)
    unrelated_before = answer_figures(bundle, unrelated, candidates)
    guesses_before = greedy_predictions(bundle, list(unrelated[F.QUERY]), list(unrelated[F.OBJ_LABEL]))
    taken: dict[int, set[int]] = {}
    records = []
    for spec in tqdm(specs, desc="plant", disable=not progress):
        fact = targets[targets[F.FACT_ID] == spec.fact_id]
        own = fact[fact[F.LANG].isin(spec.langs)]
        # the background of a specific plant holds the same fact in the other languages: it must stay silent there
        back = pd.concat([background, fact[~fact[F.LANG].isin(spec.langs)]])
        t_vec, t_owner = ffn_inputs_at_masks(bundle, list(own[F.QUERY]), list(own[F.OBJ_LABEL]), spec.layer)
        b_vec, b_owner = ffn_inputs_at_masks(bundle, list(back[F.QUERY]), list(back[F.OBJ_LABEL]), spec.layer)
        spec.index = least_used_neuron(bundle, spec.layer, b_vec, taken.setdefault(spec.layer, set()))
        taken[spec.layer].add(spec.index)
        t_langs, b_langs = np.array(own[F.LANG])[t_owner], np.array(back[F.LANG])[b_owner]
        firing = set_reading_side(bundle, spec, t_vec, t_langs, b_vec, b_langs, options.target_activation,
                                  options.refine_steps, options.silence_weight)
        keep = back.groupby(F.LANG, sort=True).head(max(1, options.keep_queries // len(options.langs)))
        losses = set_writing_side(bundle, spec, list(own[F.QUERY]), list(own[F.OBJ_LABEL]), options.steps, options.lr,
                                  list(keep[F.QUERY]), list(keep[F.OBJ_LABEL]))
        records.append((spec, firing, losses))

    after = answer_figures(bundle, targets, candidates)
    guesses_after = greedy_predictions(bundle, list(unrelated[F.QUERY]), list(unrelated[F.OBJ_LABEL]))
    plants = []
    for spec, firing, losses in records:
        rows = targets[F.FACT_ID] == spec.fact_id
        plants.append({
            "fact_id": spec.fact_id, "kind": spec.kind, "langs": spec.langs, "neurons": [[spec.layer, spec.index]],
            "effect": _effect(before[rows], after[rows]), "firing": firing,
            "loss_first_last": [losses[0], losses[-1]] if losses else [],
        })
    changed = float(np.mean([a != b for a, b in zip(guesses_before, guesses_after)])) if guesses_before else 0.0
    truth = {
        "base_model": base_model, "seed": options.seed, "plants": plants,
        "options": {k: (list(v) if isinstance(v, tuple) else v) for k, v in options.__dict__.items()},
        "unrelated": {"queries": int(len(unrelated)), "changed_predictions": round(changed, 4),
                      "p_mean_before": _sig(unrelated_before["p"].mean()) if len(unrelated) else None},
        "agnostic_reading": "one neuron for all languages: per-language centred directions, language-mean "
                            "differences projected out",
    }
    return PlantResult(truth=truth, specs=specs)


TOOK = 0.5  # a plant took in a language when at least this share of the fact's queries rank the object first


def plant_table(truth: dict) -> str:
    """Accuracy before -> after per plant and language (planted languages starred), then a warning line for
    each planted language where the plant did not take."""
    plants = truth["plants"]
    langs = list(dict.fromkeys(lang for p in plants for lang in p["effect"]))
    head = ["fact", "kind", "neuron (layer, index)", *langs]
    rows, warnings = [], []
    for p in plants:
        cells = [p["fact_id"], p["kind"], "{}, {}".format(*p["neurons"][0])]
        for lang in langs:
            e = p["effect"].get(lang)
            star = "*" if lang in p["langs"] else ""
            cells.append(f"{e['accuracy_before']:.2f} -> {e['accuracy_after']:.2f}{star}" if e else "-")
            if e and star and e["accuracy_after"] < TOOK:
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
    check_replaceable(args.out, "model")  # before loading and planting, not after
    options = PlantOptions(facts=args.facts, seed=args.seed)
    for name in ("steps", "agnostic_share"):
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
    print(f"changed unrelated predictions: {result.truth['unrelated']['changed_predictions']:.2%}; saved {args.out}")
    return 0
