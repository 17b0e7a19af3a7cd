"""Answer token lengths: how many objects a model must predict as several tokens, per language.

Without `--tokenizer`, one multilingual sentencepiece model is trained on the release text (seeded,
deterministic, cached by the hash of its training text)."""
from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Optional

import pandas as pd

from ..errors import RmlLamaError
from ..paths import cache_dir
from ..schema import MASK, F
from .registry import CheckContext, Finding, register

SPM_VOCAB = 8000
SPM_QUERY_SAMPLE = 20_000


def default_cache_dir() -> Path:
    return cache_dir() / "spm"


def training_lines(frame: pd.DataFrame, seed: int) -> list[str]:
    """Every label and a seeded sample of filled queries, sorted: the tokenizer's corpus."""
    rows = frame[[F.QUERY, F.OBJ_LABEL]]
    if len(rows) > SPM_QUERY_SAMPLE:
        rows = rows.sample(SPM_QUERY_SAMPLE, random_state=seed)
    sample = {q.replace(MASK, o) for q, o in zip(rows[F.QUERY].tolist(), rows[F.OBJ_LABEL].tolist())}
    labels = set(frame[F.SUB_LABEL]) | set(frame[F.OBJ_LABEL])
    return sorted(set(sample) | labels)


def train_sentencepiece(lines: list[str], seed: int, cache_dir: Optional[Path] = None) -> Path:
    """Train (or find in the cache) a unigram sentencepiece model on `lines`; returns the .model path."""
    import sentencepiece as spm

    text = "\n".join(line.replace("\n", " ") for line in lines) + "\n"
    key = hashlib.sha256(f"{seed}|{SPM_VOCAB}|".encode() + text.encode("utf-8")).hexdigest()[:20]
    cache = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    model = cache / f"{key}.model"
    if model.is_file():
        return model
    cache.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=cache) as tmp:
        corpus = Path(tmp) / "corpus.txt"
        corpus.write_text(text, encoding="utf-8")
        spm.set_random_generator_seed(seed)
        try:
            spm.SentencePieceTrainer.train(
                input=str(corpus), model_prefix=str(Path(tmp) / "spm"), vocab_size=SPM_VOCAB,
                model_type="unigram", character_coverage=0.9995, hard_vocab_limit=False, num_threads=1,
                shuffle_input_sentence=False, input_sentence_size=0, minloglevel=2,
            )
        except RuntimeError as error:
            raise RmlLamaError(f"cannot train the validation tokenizer: {error}") from None
        os.replace(Path(tmp) / "spm.model", model)
    return model


def sentencepiece_tokenizer(model: Path) -> Callable[[str], list]:
    import sentencepiece as spm

    processor = spm.SentencePieceProcessor(model_file=str(model))
    return lambda text: processor.encode(text, out_type=str)


def auto_tokenizer(name_or_path: str) -> Callable[[str], list]:
    """A transformers tokenizer from a local path (no download): text -> tokens, without special tokens."""
    try:
        from transformers import AutoTokenizer

        tokenizer = AutoTokenizer.from_pretrained(name_or_path, local_files_only=True)
    except (OSError, ValueError) as error:
        raise RmlLamaError(f"cannot load tokenizer {name_or_path!r}: {str(error).splitlines()[0]}") from None
    return lambda text: tokenizer.tokenize(text)


def resolve_tokenizer(ctx: CheckContext) -> Callable[[str], list]:
    if ctx.tokenizer is None:
        model = train_sentencepiece(training_lines(ctx.frame, ctx.seed), ctx.seed, ctx.cache_dir)
        ctx.tokenizer = sentencepiece_tokenizer(model)
        ctx.memo["tokenizer"] = f"sentencepiece unigram {SPM_VOCAB} trained on the release ({model.name})"
    return ctx.tokenizer


@register("answer-tokens", "warning",
          "share of multi-token objects per language; objects longer than the maximum token count warn")
def check_answer_tokens(ctx: CheckContext) -> Finding:
    frame = ctx.frame
    tokenize = resolve_tokenizer(ctx)
    objects = frame.drop_duplicates([F.LANG, F.OBJ_LABEL])
    lengths = {(lang, o): len(tokenize(o)) for lang, o in zip(objects[F.LANG], objects[F.OBJ_LABEL])}
    shares = {}
    for lang, rows in objects.groupby(F.LANG):
        shares[lang] = sum(lengths[(lang, o)] > 1 for o in rows[F.OBJ_LABEL]) / len(rows)
    limits = {lang: ctx.expectations[lang].max_answer_tokens for lang in shares}
    too_long = {key for key, n in lengths.items() if n > limits[key[0]]}
    rows = zip(ctx.column(F.LANG), ctx.column(F.OBJ_LABEL))
    bad = [(lang, o) in too_long for lang, o in rows] if too_long else [False] * len(frame)
    return Finding(bad=ctx.series(bad), metric_name="multi-token objects", metric=shares)
