"""Targets: encoding of masked and causal probes, gold probabilities and candidate ranking."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from rml_lama.errors import RmlLamaError
from rml_lama.probing.ranking import answer_probabilities, rank_candidates
from rml_lama.probing.targets import Probe, encode_probes
from rml_lama.testbeds.tiny import UNENCODABLE, tiny_bundle

PARIS = Probe("The capital of France is [MASK].", "Paris")
BEIJING = Probe("法国的首都是[MASK]。", "巴黎")


def test_masked_probe_gets_one_mask_per_answer_token():
    bundle = tiny_bundle("bert")
    tok = bundle.tokenizer
    paris, beijing = encode_probes(bundle, [PARIS, BEIJING])
    assert paris.answer_ids == tuple(tok("Paris", add_special_tokens=False)["input_ids"])
    assert len(beijing.answer_ids) == 2 and tok.decode(list(beijing.answer_ids)) == "巴黎"
    for item in (paris, beijing):
        assert [item.input_ids[p] for p in item.target_positions] == [tok.mask_token_id] * len(item.answer_ids)
        assert item.input_ids[0] == tok.bos_token_id and item.input_ids[-1] == tok.eos_token_id
        assert not set(item.context_positions) & ({0, item.length - 1} | set(item.target_positions))


def test_causal_probe_is_the_prompt_with_the_answer_teacher_forced():
    bundle = tiny_bundle("llama")
    tok = bundle.tokenizer
    item = encode_probes(bundle, [BEIJING])[0]
    prompt = tok("法国的首都是", add_special_tokens=False)["input_ids"]
    assert item.input_ids == (tok.bos_token_id, *prompt, item.answer_ids[0])
    assert item.target_positions == (len(prompt), len(prompt) + 1)
    assert tok.decode(list(item.answer_ids)) == "巴黎"
    paris = encode_probes(bundle, [PARIS])[0]
    assert tok.convert_ids_to_tokens(list(paris.answer_ids)) == ["▁Paris"]  # the space belongs to the answer
    assert paris.target_positions == (paris.length - 1,)


@pytest.mark.parametrize("family", ["xlm-roberta", "gpt_neox"])
def test_answer_probabilities_by_hand_and_independent_of_batching(family):
    bundle = tiny_bundle(family, dtype=torch.float64)
    item = encode_probes(bundle, [BEIJING])[0]
    with torch.no_grad():
        logits = bundle.model(input_ids=torch.tensor([item.input_ids])).logits[0]
    p = [torch.softmax(logits[pos], -1)[tok].item() for pos, tok in zip(item.target_positions, item.answer_ids)]
    probes = [PARIS, BEIJING, PARIS]
    joint = answer_probabilities(bundle, probes, batch_size=3)
    assert joint.dtype == np.float64 and joint[1] == pytest.approx(p[0] * p[1], rel=1e-10)
    assert answer_probabilities(bundle, probes, aggregation="mean")[1] == pytest.approx((p[0] + p[1]) / 2, rel=1e-10)
    assert answer_probabilities(bundle, probes, aggregation="first")[1] == pytest.approx(p[0], rel=1e-10)
    assert answer_probabilities(bundle, probes, batch_size=1) == pytest.approx(joint, rel=1e-10)  # padding-free
    assert joint[0] == pytest.approx(joint[2])


@pytest.mark.parametrize("family", ["roberta", "gpt2"])
def test_rank_candidates_by_mean_log_probability(family):
    bundle = tiny_bundle(family, dtype=torch.float64)
    candidates = ["Rome", "Paris", "Tokyo", "Berlin", UNENCODABLE]
    scores = {c: np.log(answer_probabilities(bundle, [Probe(PARIS.query, c)], aggregation="sum")[0])
              / len(encode_probes(bundle, [Probe(PARIS.query, c)])[0].answer_ids) for c in candidates[:4]}
    expected = sum(score > scores["Paris"] for score in scores.values())
    assert rank_candidates(bundle, [PARIS], [candidates]).tolist() == [expected]
    rome = Probe(PARIS.query, "Rome")
    assert rank_candidates(bundle, [rome], [candidates]).tolist() == [sum(s > scores["Rome"] for s in scores.values())]
    with pytest.raises(RmlLamaError, match="not among its candidates"):
        rank_candidates(bundle, [PARIS], [["Rome"]])


@pytest.mark.parametrize("family", ["bert", "gpt2"])
@pytest.mark.parametrize(
    "probe, words",
    [
        (Probe("no slot here.", "Paris"), "exactly one [MASK] slot, found 0"),
        (Probe("[MASK] of [MASK].", "Paris"), "found 2"),
        (Probe("The capital of France is [MASK].", "  "), "empty answer"),
        (Probe("The capital of France is [MASK].", UNENCODABLE), "cannot encode the answer"),
        (Probe("The capital of France is [MASK].", "Paris Rome " * 5), "max_answer_tokens"),
    ],
)
def test_bad_probes_name_the_query(family, probe, words):
    bundle = tiny_bundle(family)
    with pytest.raises(RmlLamaError) as error:
        answer_probabilities(bundle, [PARIS, probe])
    assert words in str(error.value) and repr(probe.query) in str(error.value)
