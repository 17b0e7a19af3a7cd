"""Model-side scores the studies compare: per (query, answer) the mean per-token log-probability of the answer
(teacher-forced on the gold prefix for causal LMs, one mask per answer token for masked LMs, exactly as the
project's ranker scores candidates) and the model's argmax token at each answer slot.

`ProbeTable` encodes its pairs once and is re-scored under any edit or intervention that is active.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..errors import RmlLamaError
from ..probing.ranking import target_log_probs
from ..probing.targets import Probe, encode_probes


@dataclass(frozen=True)
class Scores:
    """Per pair: mean per-token log-probability of the answer, and the argmax token ids at its slots."""

    log_prob: np.ndarray  # float64 [n]
    argmax: tuple[tuple[int, ...], ...]

    @property
    def prob(self) -> np.ndarray:
        """exp(mean per-token log-probability): the per-token geometric-mean probability (ROME's P)."""
        return np.exp(self.log_prob)


class ProbeTable:
    """(query, answer) pairs encoded once; `score()` runs them under whatever edit is active."""

    def __init__(self, bundle, pairs: Sequence[tuple[str, str]], batch_size: int = 64):
        self.bundle, self.batch_size = bundle, batch_size
        self.pairs = list(pairs)
        self.encoded = encode_probes(bundle, [Probe(q, a) for q, a in self.pairs]) if self.pairs else []

    def __len__(self) -> int:
        return len(self.pairs)

    def score(self) -> Scores:
        if not self.encoded:
            return Scores(np.zeros(0), ())
        log_probs = target_log_probs(self.bundle, self.encoded, self.batch_size)
        means, argmax = [], []
        for lp, item in zip(log_probs, self.encoded):
            tokens = list(item.answer_ids)
            means.append(float(np.mean(lp[np.arange(len(tokens)), tokens])))
            argmax.append(tuple(int(t) for t in lp.argmax(axis=1)))
        return Scores(np.asarray(means, dtype=np.float64), tuple(argmax))


def encodable(bundle, query: str, answer: str) -> bool:
    """The model's tokenizer can encode (query, answer) as a probe."""
    try:
        encode_probes(bundle, [Probe(query, answer)])
    except RmlLamaError:
        return False
    return True


def answer_ids(bundle, query: str, answer: str) -> tuple[int, ...]:
    """The answer's token ids as the probe encoding makes them."""
    return tuple(encode_probes(bundle, [Probe(query, answer)])[0].answer_ids)



class AnswerLengths:
    """Number of tokens of an answer in a query, as the probe encoding makes them (cached per pair)."""

    def __init__(self, bundle):
        self.bundle, self._cache = bundle, {}

    def __call__(self, query: str, answer: str) -> int:
        if (query, answer) not in self._cache:
            self._cache[(query, answer)] = len(answer_ids(self.bundle, query, answer))
        return self._cache[(query, answer)]
