"""The one gold-probability / candidate-ranking implementation, against a plain reference written here: one
unbatched full forward of the model per (probe, candidate), log-softmax at the target positions."""
import numpy as np
import pytest
import torch

from rml_lama.models import scale_neurons
from rml_lama.probing.ranking import (
    CandidateRanker,
    ProbeSet,
    aggregate_token_probs,
    answer_probabilities,
    neuron_map,
    rank_candidates,
)
from rml_lama.probing.targets import Probe, encode_probes
from rml_lama.testbeds.tiny import UNENCODABLE, tiny_bundle

PROBES = [Probe("The capital of France is [MASK].", "Paris"), Probe("La capitale de l'Italie est [MASK].", "Rome"),
          Probe("Ranskan pääkaupunki on [MASK].", "Pariisi")]  # Pariisi: three answer tokens
CANDIDATES = [["Paris", "Rome", "Tokyo", "Berlin", UNENCODABLE], ["Paris", "Rome", "Pariisi", "Budapest"],
              ["Pariisi", "Paris", "suomi", "Tokyo"]]


def reference_token_log_probs(bundle, probe: Probe) -> np.ndarray:
    (item,) = encode_probes(bundle, [probe])
    with torch.no_grad():
        logits = bundle.model(input_ids=torch.tensor([item.input_ids])).logits[0].double()
    log_probs = torch.log_softmax(logits[list(item.target_positions)], dim=-1)
    return log_probs[torch.arange(len(item.answer_ids)), torch.tensor(item.answer_ids)].numpy()


def reference_rank(bundle, probe: Probe, candidates: list[str]) -> int:
    scores = {}
    for candidate in candidates:
        try:
            scores[candidate] = float(np.mean(reference_token_log_probs(bundle, Probe(probe.query, candidate))))
        except Exception:  # a candidate the tokenizer cannot encode is never produced
            continue
    return sum(score > scores[probe.answer] for score in scores.values())


@pytest.mark.parametrize("family", ["bert", "gpt2"])
def test_candidate_ranks_match_a_plain_forward_per_candidate(family):
    bundle = tiny_bundle(family, layers=2, hidden=32, d_ff=48, seed=1)
    ranker = CandidateRanker(bundle, PROBES, CANDIDATES)
    expected = [reference_rank(bundle, p, c) for p, c in zip(PROBES, CANDIDATES)]
    assert ranker.ranks().tolist() == expected
    assert rank_candidates(bundle, PROBES, CANDIDATES).tolist() == expected
    with scale_neurons(bundle, {1: [0, 5, 9]}, 0.0, positions="all"):
        suppressed = [reference_rank(bundle, p, c) for p, c in zip(PROBES, CANDIDATES)]
    if family == "bert":  # a masked LM: the answer positions are the only positions that matter for the head
        assert ranker.ranks_with([(1, 0), (1, 5), (1, 9)], 0.0).tolist() == suppressed
    assert ranker.ranks_with([], 0.0, [2]).tolist() == expected[2:]


def test_gold_must_be_a_candidate_and_encodable():
    bundle = tiny_bundle("bert", layers=1, hidden=16, d_ff=24, seed=0)
    with pytest.raises(Exception, match="not among its candidates"):
        CandidateRanker(bundle, PROBES[:1], [["Rome"]])
    with pytest.raises(Exception, match="unknown token"):
        CandidateRanker(bundle, [Probe(PROBES[0].query, UNENCODABLE)], [[UNENCODABLE, "Paris"]])


@pytest.mark.parametrize("family", ["bert", "gpt2"])
def test_probe_set_and_answer_probabilities_match_a_plain_forward(family):
    bundle = tiny_bundle(family, layers=2, hidden=32, d_ff=48, seed=2)
    expected = np.array([np.exp(reference_token_log_probs(bundle, p).sum()) for p in PROBES])
    probe_set = ProbeSet(bundle, PROBES)
    assert probe_set.probs_with([], 1.0) == pytest.approx(expected, rel=1e-6)
    assert answer_probabilities(bundle, PROBES, batch_size=2) == pytest.approx(expected, rel=1e-6)
    assert probe_set.probs_with([], 1.0, [2]) == pytest.approx(expected[2:], rel=1e-6)
    per_token = np.exp(reference_token_log_probs(bundle, PROBES[2]))
    assert answer_probabilities(bundle, PROBES[2:], aggregation="mean")[0] == pytest.approx(per_token.mean(), rel=1e-6)
    assert answer_probabilities(bundle, PROBES[2:], aggregation="first")[0] == pytest.approx(per_token[0], rel=1e-6)


def test_aggregations_by_hand():
    log_probs = np.log(np.array([0.5, 0.2]))
    assert aggregate_token_probs(log_probs, "sum") == pytest.approx(0.1)
    assert aggregate_token_probs(log_probs, "joint") == pytest.approx(0.1)
    assert aggregate_token_probs(log_probs, "mean") == pytest.approx(0.35)
    assert aggregate_token_probs(log_probs, "first") == pytest.approx(0.5)
    with pytest.raises(Exception, match="unknown aggregation"):
        aggregate_token_probs(log_probs, "max")


def test_neuron_map_groups_by_layer():
    assert neuron_map([(2, 7), (0, 1), (2, 6), (2, 7)]) == {0: [1], 2: [6, 7]}
