"""Targets: what a model must predict for a cloze query (its gold answer as token ids at target positions).

Masked LMs: the single `[MASK]` slot becomes k mask tokens (k = number of answer tokens) and token t of the
answer is predicted at mask t. Causal LMs: the text before the slot is the prompt and the answer is
teacher-forced: token t is predicted at the position before it, given the gold tokens before it (the text
after the slot is not used, so probe object-final queries).

Gold probabilities and candidate ranks are computed from these encodings in rml_lama.probing.ranking.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Optional

from ..errors import RmlLamaError
from ..schema import MASK

DEFAULT_MAX_ANSWER_TOKENS = 8


@dataclass(frozen=True)
class Probe:
    """A cloze query holding exactly one schema.MASK, and its gold answer label."""

    query: str
    answer: str


def probes_of(pairs: Sequence[tuple[str, str]]) -> list[Probe]:
    """Probes from (query, answer) pairs."""
    return [Probe(query, answer) for query, answer in pairs]


@dataclass(frozen=True)
class EncodedProbe:
    """A probe as token ids: where each answer token is predicted, and which tokens are context."""

    probe: Probe
    input_ids: tuple[int, ...]
    answer_ids: tuple[int, ...]
    target_positions: tuple[int, ...]  # position predicting answer token t (one per answer token)
    context_positions: tuple[int, ...]  # query tokens that AMIG's baseline replaces one at a time
    kind: str = field(default="masked")

    @property
    def length(self) -> int:
        return len(self.input_ids)


def _fail(probe: Probe, reason: str) -> RmlLamaError:
    return RmlLamaError(f"query {probe.query!r} (answer {probe.answer!r}): {reason}")


def _is_bare_space(tokenizer, token_id: int) -> bool:
    return tokenizer.convert_ids_to_tokens(token_id) in ("▁", "Ġ", " ")


def _plain_ids(tokenizer, text: str) -> list[int]:
    return list(tokenizer(text, add_special_tokens=False)["input_ids"])


def _answer_ids_alone(tokenizer, text: str) -> list[int]:
    ids = _plain_ids(tokenizer, text)
    while ids and _is_bare_space(tokenizer, ids[0]):  # sentencepiece's word-start marker before CJK text
        ids = ids[1:]
    return ids


def _check_answer(tokenizer, probe: Probe, answer_ids: Sequence[int], max_answer_tokens: int) -> None:
    if not answer_ids:
        raise _fail(probe, "the answer encodes to no tokens")
    unk = getattr(tokenizer, "unk_token_id", None)
    if unk is not None and unk in answer_ids:
        raise _fail(probe, "the tokenizer cannot encode the answer (it maps to the unknown token)")
    if len(answer_ids) > max_answer_tokens:
        raise _fail(probe, f"the answer has {len(answer_ids)} tokens, more than max_answer_tokens={max_answer_tokens}")


def _split_query(probe: Probe) -> tuple[str, str]:
    if not probe.answer or not probe.answer.strip():
        raise _fail(probe, "empty answer")
    count = probe.query.count(MASK)
    if count != 1:
        raise _fail(probe, f"the query must hold exactly one {MASK} slot, found {count}")
    left, _, right = probe.query.partition(MASK)
    return left, right


def _adds_bos(tokenizer) -> bool:
    bos = getattr(tokenizer, "bos_token_id", None)
    if bos is None:
        return False
    ids = tokenizer("a")["input_ids"]
    return bool(ids) and ids[0] == bos


def encode_masked_probe(tokenizer, probe: Probe, max_answer_tokens: int = DEFAULT_MAX_ANSWER_TOKENS) -> EncodedProbe:
    """A probe for a masked LM from the tokenizer alone (training encodes its examples with this)."""
    left, right = _split_query(probe)
    answer_ids = _answer_ids_alone(tokenizer, probe.answer)
    _check_answer(tokenizer, probe, answer_ids, max_answer_tokens)
    k = len(answer_ids)
    input_ids = list(tokenizer(left + tokenizer.mask_token * k + right)["input_ids"])
    mask_positions = [i for i, token in enumerate(input_ids) if token == tokenizer.mask_token_id]
    if len(mask_positions) != k:
        raise _fail(probe, f"expected {k} mask tokens after tokenization, found {len(mask_positions)}")
    special = set(tokenizer.all_special_ids)
    context = [i for i, token in enumerate(input_ids) if token not in special and not _is_bare_space(tokenizer, token)]
    return EncodedProbe(probe, tuple(input_ids), tuple(answer_ids), tuple(mask_positions), tuple(context), "masked")


def _encode_causal(tokenizer, probe: Probe, max_answer_tokens: int) -> EncodedProbe:
    left, _ = _split_query(probe)
    spaced = left.endswith(" ")
    prompt_text = left.rstrip(" ") if spaced else left
    prompt_ids = _plain_ids(tokenizer, prompt_text) if prompt_text else []
    full_ids = _plain_ids(tokenizer, prompt_text + (" " if spaced else "") + probe.answer)
    if full_ids[: len(prompt_ids)] == prompt_ids and len(full_ids) > len(prompt_ids):
        answer_ids = full_ids[len(prompt_ids):]
    else:  # the answer merged with the prompt's last token: encode it on its own
        answer_ids = _answer_ids_alone(tokenizer, (" " if spaced else "") + probe.answer)
    _check_answer(tokenizer, probe, answer_ids, max_answer_tokens)
    prefix = [tokenizer.bos_token_id] if _adds_bos(tokenizer) else []
    if not prefix and not prompt_ids:
        raise _fail(probe, f"a causal LM needs text before {MASK} (or a BOS token) to predict the answer")
    start = len(prefix) + len(prompt_ids) - 1
    input_ids = prefix + prompt_ids + answer_ids[:-1]
    targets = tuple(start + t for t in range(len(answer_ids)))
    context = tuple(range(len(prefix), len(prefix) + len(prompt_ids)))
    return EncodedProbe(probe, tuple(input_ids), tuple(answer_ids), targets, context, "causal")


def _max_length(model) -> Optional[int]:
    config = getattr(model, "config", None)
    for name in ("max_position_embeddings", "n_positions"):
        value = getattr(config, name, None)
        if isinstance(value, int) and value > 0:
            return value
    return None


def encode_probes(bundle, probes: Sequence[Probe], max_answer_tokens: int = DEFAULT_MAX_ANSWER_TOKENS) -> list[EncodedProbe]:
    """Token ids, answer ids and target positions of each probe (see the module docstring for the rules).

    Raises RmlLamaError naming the query for: no or several [MASK], an empty answer, an answer the tokenizer
    cannot encode (it contains the unknown token), an answer longer than max_answer_tokens, a too long query.
    """
    encode = encode_masked_probe if bundle.kind == "masked" else _encode_causal
    limit = _max_length(bundle.model)
    encoded = []
    for probe in probes:
        item = encode(bundle.tokenizer, probe, max_answer_tokens)
        if limit is not None and item.length > limit:
            raise _fail(probe, f"{item.length} tokens, more than the model's {limit} positions")
        encoded.append(item)
    return encoded


def pad_batch(bundle, encoded: Sequence[EncodedProbe]):
    """Right-padded input ids, attention mask and the bool target mask [batch, seq] on the bundle's device."""
    import torch

    pad = bundle.tokenizer.pad_token_id
    if pad is None:
        pad = bundle.tokenizer.eos_token_id or 0
    width = max(item.length for item in encoded)
    ids = torch.full((len(encoded), width), pad, dtype=torch.long)
    attention = torch.zeros((len(encoded), width), dtype=torch.long)
    targets = torch.zeros((len(encoded), width), dtype=torch.bool)
    for row, item in enumerate(encoded):
        ids[row, : item.length] = torch.tensor(item.input_ids)
        attention[row, : item.length] = 1
        targets[row, list(item.target_positions)] = True
    return ids.to(bundle.device), attention.to(bundle.device), targets.to(bundle.device)
