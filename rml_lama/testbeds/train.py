"""The small default multilingual masked LM: trained from scratch on RML-LAMA rephrasings of a fixed fact subset.

`rml-lama train-model` picks a seeded, relation-stratified subset of facts that exist in all 7 core languages,
holds out a deterministic share of the templates (rephrasings) of every (relation, language), trains a
sentencepiece tokenizer and a 3-layer XLM-R-style masked LM on the remaining queries, and measures precision@1
on seen templates and on the held-out rephrasings, per language. Training examples are encoded exactly like
probes are at evaluation time: the query's [MASK] becomes as many mask tokens as the answer has tokens, and
those positions are always predicted (plus 15% random masking of the other tokens, as in BERT).

torch, transformers and sentencepiece are imported inside functions: the dataset build path never imports this
module, but `default_model_path()` must stay cheap.
"""
from __future__ import annotations

import argparse
import io
import json
import math
import platform
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Optional

import numpy as np
import pandas as pd

from ..errors import RmlLamaError
from ..frames import parallel_facts
from ..io import atomic_directory, atomic_write_json, check_replaceable
from ..models import bundle_from
from ..paths import DEFAULT_MODEL_DIR, MODEL_FACTS_FILE, TRAINING_REPORT_FILE
from ..probing.ranking import CandidateRanker, greedy_tokens
from ..probing.targets import Probe, encode_masked_probe, encode_probes, probes_of
from ..schema import CORE_LANGUAGES, MASK, F
from .facts import read_facts_frame, stable_key, stratified_facts
from .transfer import (
    code_switched_lines,
    design_facts,
    dictionary_lines,
    grouped_figures,
    info_nce,
    majority_prior,
    parallel_partners,
    split_queries,
    translation_lines,
)

TRAINING_MAX_ANSWER_TOKENS = 64  # every answer of the chosen facts is trained on, however long

def default_model_path() -> Path:
    """The folder of the default model shipped inside the package (an HF `save_pretrained` folder)."""
    return DEFAULT_MODEL_DIR


@dataclass
class TrainConfig:
    """Every choice that shapes the default model; recorded in the model's training report."""

    facts: int = 300
    seed: int = 0
    threads: int = 1
    epochs: float = 100.0  # more than max_steps needs on the shipped release: the step cap decides
    batch_size: int = 64
    lr: float = 2e-3
    weight_decay: float = 0.01
    warmup_share: float = 0.05
    random_mask_share: float = 0.15
    heldout_share: float = 0.25
    vocab_size: int = 6000
    hidden_size: int = 128
    layers: int = 3
    heads: int = 4
    d_ff: int = 512
    dropout: float = 0.1
    langs: tuple[str, ...] = CORE_LANGUAGES
    max_steps: Optional[int] = 12000  # cap on optimiser steps; None = epochs decide
    eval_max_queries: Optional[int] = None  # per (language, seen/held-out); None = all
    # the control/transfer design (rml_lama.transfer.design_facts); design="all" is the older all-languages recipe
    design: str = "transfer"
    objects_per_relation: int = 5
    control_per_object: int = 1
    transfer_per_object: int = 1
    heldout_window: int = 3
    max_relations: Optional[int] = None
    # sharing recipes (rml_lama.transfer); all off = plain masked-LM training on the trained queries
    dictionary_per_entity: int = 0  # entity-label lines per subject/object (language pairs)
    translation_per_fact_lang: int = 0  # translation-pair lines per trained (fact, language)
    code_switch_share: float = 0.5  # share of trained queries repeated with the subject in another language
    align_weight: float = 1.0  # InfoNCE weight on mask-position states of parallel trained queries (0: off)
    align_after_block: int = 1  # 0-based block whose output is aligned
    align_temperature: float = 0.1
    device: str = "cpu"  # "cuda" trains faster but is not bit-identical to the CPU run that ships



# ------------------------------------------------------------------------------------------- data choice
def select_facts(df: pd.DataFrame, n_facts: int, seed: int, langs: tuple[str, ...] = CORE_LANGUAGES) -> list[str]:
    """A seeded, relation-stratified choice of `n_facts` facts present in every language of `langs`
    (testbeds.facts.stratified_facts, relations in sorted order), sorted by id."""
    facts = parallel_facts(df, langs)
    if facts.empty:
        raise RmlLamaError(f"no fact has queries in all of {', '.join(langs)}")
    return sorted(stratified_facts(facts, n_facts, seed))


def heldout_templates(df: pd.DataFrame, share: float, seed: int) -> list[str]:
    """Template ids held out from training: `round(share * n)` of every (relation, language) with n >= 2
    templates (at least one), chosen by a seeded hash. Relations with one template keep it for training."""
    held: list[str] = []
    templates = df[[F.RELATION, F.LANG, F.TEMPLATE_ID]].drop_duplicates()
    for _, group in templates.groupby([F.RELATION, F.LANG], sort=True):
        ids = sorted(group[F.TEMPLATE_ID], key=lambda tid: stable_key(seed, tid))
        if len(ids) >= 2:
            held.extend(ids[: max(1, round(share * len(ids)))])
    return sorted(held)


# ------------------------------------------------------------------------------------------- tokenizer
def _query_segments(query: str) -> list[str]:
    before, _, after = query.partition(MASK)
    return [segment for segment in (before.strip(), after.strip()) if segment]


def train_tokenizer_pieces(queries: list[str], answers: list[str], vocab_size: int,
                           coverage_labels: tuple[str, ...] = ()) -> list[tuple[str, float]]:
    """Train a sentencepiece unigram model on the text the model will see (query segments around the mask,
    answers on their own) plus `coverage_labels` (subject and object labels of the other facts, so that every
    character of the release has a piece and facts can be planted later without unknown tokens); return its
    (piece, score) list in XLM-R order: <s> <pad> </s> <unk> first."""
    import sentencepiece as spm

    # repeated lines are kept: an object answered by many queries should become one piece
    texts = sorted([segment for query in queries for segment in _query_segments(query)] + list(answers)
                   + list(coverage_labels))
    model = io.BytesIO()
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(texts), model_writer=model, vocab_size=vocab_size, model_type="unigram",
        hard_vocab_limit=False, character_coverage=1.0, bos_id=0, pad_id=1, eos_id=2, unk_id=3,
        num_threads=1, minloglevel=2, shuffle_input_sentence=False, max_sentence_length=4096,
    )
    processor = spm.SentencePieceProcessor(model_proto=model.getvalue())
    return [(processor.id_to_piece(i), float(processor.get_score(i))) for i in range(processor.get_piece_size())]


def build_tokenizer(pieces: list[tuple[str, float]]):
    """An XLMRobertaTokenizer from sentencepiece pieces (transformers 5 ignores `vocab_file=`; `vocab=` works)."""
    from transformers import XLMRobertaTokenizer

    return XLMRobertaTokenizer(vocab=pieces)


# ------------------------------------------------------------------------------------------- encoding
@dataclass
class Encoded:
    """Queries encoded as probes: token ids (with the answer's slots masked) and the answer's token ids."""

    input_ids: list[list[int]]
    answer_ids: list[list[int]]


def encode_queries(tokenizer, queries: list[str], answers: list[str]) -> Encoded:
    """Encode each query exactly as the evaluation encodes a probe (rml_lama.probing.targets): its [MASK]
    replaced by k mask tokens, k = the answer's token count."""

    items = [encode_masked_probe(tokenizer, Probe(q, a), TRAINING_MAX_ANSWER_TOKENS) for q, a in zip(queries, answers)]
    return Encoded(input_ids=[list(item.input_ids) for item in items], answer_ids=[list(item.answer_ids) for item in items])


def _pad(rows: list[list[int]], pad_id: int):
    import torch

    width = max(len(row) for row in rows)
    ids = torch.full((len(rows), width), pad_id, dtype=torch.long)
    for i, row in enumerate(rows):
        ids[i, : len(row)] = torch.tensor(row, dtype=torch.long)
    return ids, ids != pad_id


def length_batches(lengths: list[int], batch_size: int, rng: np.random.Generator) -> list[list[int]]:
    """Batches of similar length (little padding), in a seeded random order, each batch's rows shuffled first."""
    order = rng.permutation(len(lengths))
    order = sorted(order, key=lambda i: lengths[i])  # stable: equal lengths keep their random order
    batches = [order[i : i + batch_size] for i in range(0, len(order), batch_size)]
    return [batches[i] for i in rng.permutation(len(batches))]


# ------------------------------------------------------------------------------------------- model
def build_model(vocab_size: int, config: TrainConfig, max_length: int):
    """A small XLM-R-style masked LM (random init from the torch seed set by the caller)."""
    from transformers import XLMRobertaConfig, XLMRobertaForMaskedLM

    model_config = XLMRobertaConfig(
        vocab_size=vocab_size, hidden_size=config.hidden_size, num_hidden_layers=config.layers,
        num_attention_heads=config.heads, intermediate_size=config.d_ff, max_position_embeddings=max_length + 2,
        type_vocab_size=1, hidden_dropout_prob=config.dropout, attention_probs_dropout_prob=config.dropout,
        pad_token_id=1, bos_token_id=0, eos_token_id=2, tie_word_embeddings=True,
    )
    return XLMRobertaForMaskedLM(model_config)


def masked_batch(input_ids, attention, answer_slots, tokenizer, share: float, generator):
    """Mask `share` of the ordinary tokens at random (80% mask, 10% random token, 10% kept, as in BERT) on top of
    the always-masked answer slots; return the model input and the labels (-100 where nothing is predicted)."""
    import torch

    special = torch.zeros_like(input_ids, dtype=torch.bool)
    for token_id in tokenizer.all_special_ids:
        special |= input_ids == token_id
    ordinary = attention & ~special
    pick = (torch.rand(input_ids.shape, generator=generator) < share) & ordinary
    labels = torch.full_like(input_ids, -100)
    labels[pick] = input_ids[pick]
    labels[answer_slots[0], answer_slots[1]] = answer_slots[2]
    draw = torch.rand(input_ids.shape, generator=generator)
    model_input = input_ids.clone()
    model_input[pick & (draw < 0.8)] = tokenizer.mask_token_id
    random_tokens = torch.randint(len(tokenizer), input_ids.shape, generator=generator)
    swap = pick & (draw >= 0.8) & (draw < 0.9)
    model_input[swap] = random_tokens[swap]
    return model_input, labels


def answer_slots(batch_rows: list[list[int]], answers: list[list[int]], mask_id: int):
    """(row indices, column indices, gold token ids) of the answer's mask tokens in a padded batch."""
    import torch

    rows, cols, gold = [], [], []
    for r, (ids, answer) in enumerate(zip(batch_rows, answers)):
        positions = [c for c, token in enumerate(ids) if token == mask_id]
        rows += [r] * len(positions)
        cols += positions
        gold += answer
    return torch.tensor(rows), torch.tensor(cols), torch.tensor(gold)


def masked_lm_loss(model, model_input, attention, labels):
    """Cross-entropy at the labelled positions only: the LM head runs on those rows, not on every position."""
    import torch

    hidden = model.base_model(input_ids=model_input, attention_mask=attention.long()).last_hidden_state
    where = labels != -100
    logits = model.lm_head(hidden[where])
    return torch.nn.functional.cross_entropy(logits, labels[where])


def _lr_factor(step: int, total: int, warmup: int) -> float:
    if step < warmup:
        return (step + 1) / warmup
    progress = (step - warmup) / max(1, total - warmup)
    return 0.5 * (1.0 + math.cos(math.pi * min(1.0, progress)))


def mask_states(model, model_input, attention, slots, after_block: int):
    """(hidden states of the last layer, the mean hidden state after block `after_block` over each row's answer
    slots `slots` [batch, length] bool)."""
    out = model.base_model(input_ids=model_input, attention_mask=attention.long(), output_hidden_states=True)
    states = out.hidden_states[after_block + 1]
    slots = slots.float()
    pooled = (states * slots[..., None]).sum(1) / slots.sum(1, keepdim=True).clamp_min(1.0)
    return out.last_hidden_state, pooled


def train_model(model, tokenizer, encoded: Encoded, config: TrainConfig, progress: bool = True,
                partners: Optional[dict] = None) -> list[float]:
    """Train in place with AdamW and a warmup + cosine schedule; return the mean loss of every epoch.

    With `config.align_weight > 0` and `partners` (row -> rows of the same fact in another language), each
    batch holds `batch_size // 2` rows plus one seeded partner for every row that has one, and the loss adds
    `align_weight` x InfoNCE between the rows' and their partners' mask-position states after block
    `align_after_block`, pooled over the answer slots (always masked: the states are the model's reading of the
    question, not of the answer), in the same forward pass as the masked-LM loss."""
    import torch
    from tqdm.auto import tqdm

    rng = np.random.default_rng(config.seed)
    generator = torch.Generator().manual_seed(config.seed)
    lengths = [len(ids) for ids in encoded.input_ids]
    align = config.align_weight > 0 and bool(partners)
    batch_size = config.batch_size // 2 if align else config.batch_size
    steps_per_epoch = math.ceil(len(lengths) / batch_size)
    total = max(1, round(config.epochs * steps_per_epoch))
    if config.max_steps is not None:
        total = min(total, config.max_steps)
    optimiser = torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimiser, lambda step: _lr_factor(step, total, max(1, round(config.warmup_share * total))))
    model.train()
    epoch_losses: list[float] = []
    step = 0
    bar = tqdm(total=total, desc="train", unit="step", disable=not progress, mininterval=10)
    while step < total:
        losses = []
        for batch in length_batches(lengths, batch_size, rng):
            if step >= total:
                break
            batch = list(batch)
            paired: list[tuple[int, int]] = []
            if align:
                for position, i in enumerate(list(batch)):
                    options = partners.get(int(i), [])
                    if options:
                        paired.append((position, len(batch)))
                        batch.append(options[int(rng.integers(len(options)))])
            rows = [encoded.input_ids[i] for i in batch]
            input_ids, attention = _pad(rows, tokenizer.pad_token_id)
            slots = answer_slots(rows, [encoded.answer_ids[i] for i in batch], tokenizer.mask_token_id)
            model_input, labels = masked_batch(input_ids, attention, slots, tokenizer, config.random_mask_share,
                                               generator)
            device = next(model.parameters()).device
            input_ids, attention = input_ids.to(device), attention.to(device)
            model_input, labels = model_input.to(device), labels.to(device)
            if align and len(paired) >= 2:
                hidden, pooled = mask_states(model, model_input, attention, input_ids == tokenizer.mask_token_id,
                                             config.align_after_block)
                where = labels != -100
                loss = torch.nn.functional.cross_entropy(model.lm_head(hidden[where]), labels[where])
                left, right = zip(*paired)
                loss = loss + config.align_weight * info_nce(pooled[list(left)], pooled[list(right)],
                                                             config.align_temperature)
            else:
                loss = masked_lm_loss(model, model_input, attention, labels)
            optimiser.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimiser.step()
            schedule.step()
            losses.append(float(loss.detach()))
            step += 1
            bar.update(1)
            bar.set_postfix(loss=f"{losses[-1]:.3f}", refresh=False)
        epoch_losses.append(float(np.mean(losses)))
    bar.close()
    model.eval()
    return epoch_losses


# ------------------------------------------------------------------------------------------- measuring
def rank_rows(model, tokenizer, queries: pd.DataFrame, pool: Optional[pd.DataFrame] = None):
    """Per query: whether the gold object ranks first among the relation's candidate objects (the objects of
    `pool`'s facts of that relation in that language; `pool` defaults to `queries`), scored by
    rml_lama.probing.ranking as the evaluation scores, and the number of candidates."""
    pool = queries if pool is None else pool
    bundle = bundle_from(model, tokenizer)
    candidates_of = pool.groupby([F.RELATION, F.LANG])[F.OBJ_LABEL].agg(lambda s: sorted(set(s))).to_dict()
    candidates = [sorted(set(candidates_of.get((rel, lang), [])) | {gold})
                  for rel, lang, gold in zip(queries[F.RELATION], queries[F.LANG], queries[F.OBJ_LABEL])]
    probes = probes_of(zip(queries[F.QUERY], queries[F.OBJ_LABEL]))
    hits = CandidateRanker(bundle, probes, candidates, 256, TRAINING_MAX_ANSWER_TOKENS).ranks() == 0
    return hits, np.array([len(c) for c in candidates])


def precision_at_1(model, tokenizer, queries: pd.DataFrame, pool: Optional[pd.DataFrame] = None) -> dict:
    """Per language: p@1 of the gold object among the relation's candidate objects (`rank_rows`: the objects of
    `pool`'s facts of that relation in that language), greedy exact match over the vocabulary, and the query
    count."""

    bundle = bundle_from(model, tokenizer)
    ranked_first, _ = rank_rows(model, tokenizer, queries, pool)
    probes = probes_of(zip(queries[F.QUERY], queries[F.OBJ_LABEL]))
    encoded = encode_probes(bundle, probes, TRAINING_MAX_ANSWER_TOKENS)
    greedy = [guess == item.answer_ids for guess, item in zip(greedy_tokens(bundle, encoded, 256), encoded)]
    frame = pd.DataFrame({F.LANG: list(queries[F.LANG]), "p1": ranked_first, "greedy": greedy})
    figures = {lang: {"p_at_1": round(float(g["p1"].mean()), 4), "greedy_exact": round(float(g["greedy"].mean()), 4),
                      "queries": int(len(g))} for lang, g in frame.groupby(F.LANG, sort=True)}
    figures["all"] = {"p_at_1": round(float(frame["p1"].mean()), 4),
                      "greedy_exact": round(float(frame["greedy"].mean()), 4), "queries": int(len(frame))}
    return figures


def _sample_per_lang(queries: pd.DataFrame, limit: Optional[int], seed: int) -> pd.DataFrame:
    if limit is None:
        return queries
    keyed = queries.assign(_key=[stable_key(seed, q) for q in queries[F.QUERY]]).sort_values("_key")
    return keyed.groupby(F.LANG, sort=True).head(limit).drop(columns="_key").sort_index()


# ------------------------------------------------------------------------------------------- the whole job
@dataclass
class TrainingResult:
    model: object
    tokenizer: object
    facts: list[str]
    heldout: list[str]
    report: dict = field(default_factory=dict)
    design: Optional[pd.DataFrame] = None  # the control/transfer design (None for design="all")


def _choose(data: pd.DataFrame, config: TrainConfig) -> tuple[list[str], Optional[pd.DataFrame]]:
    if config.design == "all":
        return select_facts(data, config.facts, config.seed, config.langs), None
    if config.design != "transfer":
        raise RmlLamaError(f"unknown design {config.design!r} (transfer or all)")
    design = design_facts(data, config.seed, config.langs, config.objects_per_relation, config.control_per_object,
                          config.transfer_per_object, config.heldout_window, max_relations=config.max_relations)
    return sorted(design[F.FACT_ID]), design


def _extra_lines(data: pd.DataFrame, seen: pd.DataFrame, config: TrainConfig) -> dict[str, tuple[list, list]]:
    extra = {}
    if config.dictionary_per_entity:
        extra["dictionary"] = dictionary_lines(data, config.langs, config.seed, config.dictionary_per_entity)
    if config.translation_per_fact_lang:
        extra["translation"] = translation_lines(seen, config.seed, config.translation_per_fact_lang)
    if config.code_switch_share:
        names = data.drop_duplicates([F.SUB_URI, F.LANG]).set_index([F.SUB_URI, F.LANG])[F.SUB_LABEL]
        extra["code_switch"] = code_switched_lines(seen, names, config.langs, config.seed, config.code_switch_share)
    return extra


def transfer_report(model, tokenizer, data: pd.DataFrame, parts: dict[str, pd.DataFrame], config: TrainConfig) -> dict:
    """p@1 with chance, majority prior and 95% intervals, per language / script group / all, for each part
    (seen, heldout, heldout_langs); candidates are the objects of every chosen fact of the relation."""
    out = {}
    for name, rows in parts.items():
        if name != "heldout_langs":  # the transfer figures are always measured on every held-out-language query
            rows = _sample_per_lang(rows, config.eval_max_queries, config.seed)
        if rows.empty:
            continue
        hits, n_candidates = rank_rows(model, tokenizer, rows, pool=data)
        prior = majority_prior(rows, parts["seen"])
        out[name] = grouped_figures(rows, hits, n_candidates, prior, config.seed)
    return out


def train_default_model(release: pd.DataFrame, config: TrainConfig, progress: bool = True) -> TrainingResult:
    """Choose facts (control/transfer design) and held-out templates, train tokenizer and model with the
    configured sharing recipes, measure p@1; nothing is written."""
    import torch
    import transformers

    started = time.time()
    torch.manual_seed(config.seed)
    torch.set_num_threads(config.threads)
    torch.use_deterministic_algorithms(True, warn_only=config.device != "cpu")
    data = release[release[F.LANG].isin(config.langs)]
    facts, design = _choose(data, config)
    data = data[data[F.FACT_ID].isin(facts)].drop_duplicates([F.LANG, F.QUERY, F.OBJ_LABEL])
    data = data.sort_values([F.FACT_ID, F.LANG, F.TEMPLATE_ID]).reset_index(drop=True)
    heldout = heldout_templates(data, config.heldout_share, config.seed)
    if design is None:
        is_heldout = data[F.TEMPLATE_ID].isin(heldout)
        parts = {"seen": data[~is_heldout], "heldout": data[is_heldout]}
    else:
        parts = split_queries(data, design, set(heldout))
    seen, unseen = parts["seen"], parts["heldout"]
    extra = _extra_lines(data, seen, config)

    everything = release[release[F.LANG].isin(config.langs)]
    labels = tuple(sorted(set(everything[F.SUB_LABEL]) | set(everything[F.OBJ_LABEL])))
    pieces = train_tokenizer_pieces(list(data[F.QUERY]), list(data[F.OBJ_LABEL]), config.vocab_size, labels)
    tokenizer = build_tokenizer(pieces)
    train_q, train_a = list(seen[F.QUERY]), list(seen[F.OBJ_LABEL])
    for queries, answers in extra.values():
        train_q += queries
        train_a += answers
    encoded = encode_queries(tokenizer, train_q, train_a)
    partners = parallel_partners(list(seen[F.FACT_ID]), list(seen[F.LANG])) if config.align_weight > 0 else None
    all_lengths = [len(ids) for ids in encode_queries(tokenizer, list(data[F.QUERY]) + train_q,
                                                      list(data[F.OBJ_LABEL]) + train_a).input_ids]
    model = build_model(len(tokenizer), config, max_length=max(64, max(all_lengths))).to(config.device)
    trained_at = time.time()
    losses = train_model(model, tokenizer, encoded, config, progress=progress, partners=partners)
    train_seconds = time.time() - trained_at
    figures = {
        "seen": precision_at_1(model, tokenizer, _sample_per_lang(seen, config.eval_max_queries, config.seed), data),
        "heldout": precision_at_1(model, tokenizer, _sample_per_lang(unseen, config.eval_max_queries, config.seed),
                                  data),
    }
    if design is not None:
        figures["transfer"] = transfer_report(model, tokenizer, data, parts, config)
    report = {
        "config": {k: (list(v) if isinstance(v, tuple) else v) for k, v in asdict(config).items()},
        "facts": len(facts), "relations": int(data[F.RELATION].nunique()),
        "train_queries": int(len(seen)), "heldout_queries": int(len(unseen)), "heldout_templates": len(heldout),
        "extra_lines": {name: len(q) for name, (q, _) in extra.items()},
        "vocab_size": len(tokenizer), "parameters": int(sum(p.numel() for p in model.parameters())),
        "epoch_losses": [round(x, 4) for x in losses], "train_seconds": round(train_seconds, 1),
        "total_seconds": round(time.time() - started, 1), "figures": figures,
        "versions": {"torch": torch.__version__, "transformers": transformers.__version__,
                     "python": platform.python_version()},
    }
    if design is not None:
        report["design"] = {
            "control_facts": int((design["role"] == "control").sum()),
            "transfer_facts": int((design["role"] == "transfer").sum()),
            "heldout_language_queries": int(len(parts["heldout_langs"])),
            "facts_per_relation_min": int(design.groupby(F.RELATION).size().min()),
        }
    return TrainingResult(model=model.to("cpu"), tokenizer=tokenizer, facts=facts, heldout=heldout, report=report,
                          design=design)


def save_trained(result: TrainingResult, out: Path, release_note: Optional[str] = None) -> None:
    """Write the checkpoint folder atomically: model, tokenizer, rml_lama_facts.json, training_report.json; an
    existing `out` is replaced only if it is a model this toolkit wrote and nobody changed (io.check_replaceable)."""
    with atomic_directory(out, "model") as tmp:
        result.model.save_pretrained(tmp)
        result.tokenizer.save_pretrained(tmp)
        config = result.report["config"]
        atomic_write_json(tmp / MODEL_FACTS_FILE, {
            "facts": result.facts, "heldout_templates": result.heldout, "seed": config["seed"],
            "langs": config["langs"], "release": release_note, "figures": result.report["figures"],
            **({"roles": {fid: {"role": role, "heldout_langs": list(langs)} for fid, role, langs in
                          zip(design[F.FACT_ID], design["role"], design["heldout_langs"])}}
               if (design := result.design) is not None else {}),
        })
        atomic_write_json(tmp / TRAINING_REPORT_FILE, {**result.report, "release": release_note})


def cmd_train_model(args: argparse.Namespace) -> int:
    """`rml-lama train-model`: train the default model on a release and save it with its report."""
    check_replaceable(args.out, "model")  # before training for minutes, not after
    config = TrainConfig(facts=args.facts, seed=args.seed, threads=args.threads)
    if args.epochs is not None:
        config.epochs = args.epochs
    for name in ("max_steps", "code_switch_share", "dictionary_per_entity", "translation_per_fact_lang",
                 "align_weight", "design"):
        if getattr(args, name, None) is not None:
            setattr(config, name, getattr(args, name))
    release = read_facts_frame(args.release, config.langs)
    result = train_default_model(release, config)
    save_trained(result, Path(args.out), release_note=str(args.release or "shipped release"))
    print(json.dumps(result.report["figures"], indent=2))
    print(f"saved {args.out} ({result.report['parameters']:,} parameters, "
          f"{result.report['train_seconds']:.0f} s training)")
    return 0
