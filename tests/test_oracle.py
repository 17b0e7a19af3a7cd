"""The causal oracle on tiny models whose answer depends on known neurons: it ranks them first, its single
effects equal an independent intervention, and the joint effect equals the one computed by hand."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from rml_lama.evaluation.oracle import ablation_effects, candidate_pool, oracle_effects
from rml_lama.localizers.budget import top_k
from rml_lama.models import scale_neurons
from rml_lama.probing.ranking import gold_token_log_probs as token_log_probs
from rml_lama.probing.targets import Probe, encode_probes
from rml_lama.testbeds.tiny import tiny_bundle

QUERY = Probe("The capital of France is [MASK].", "Paris")
A, B = 5, 17  # the two last-layer neurons the planted answer depends on


def mean_token_lp(bundle, probe, neurons=None) -> float:
    encoded = encode_probes(bundle, [probe])
    if neurons:
        with scale_neurons(bundle, neurons, 0.0):
            return float(np.mean(token_log_probs(bundle, encoded)[0]))
    return float(np.mean(token_log_probs(bundle, encoded)[0]))


def planted_bundle():
    """A 2-layer XLM-R whose FFNs write nothing except last-layer neurons A (2 units) and B (1 unit) along the
    direction that raises the gold answer: every other neuron's ablation changes nothing, exactly."""
    bundle = tiny_bundle("xlm-roberta", layers=2, hidden=32, d_ff=48)
    model = bundle.model
    layers = model.roberta.encoder.layer
    with torch.no_grad():
        for layer in layers:
            layer.output.dense.weight.zero_()
        layers[1].intermediate.dense.bias[[A, B]] = 4.0  # clearly positive activations at every position
    encoded = encode_probes(bundle, [QUERY])[0]
    target = encoded.target_positions[0]
    ids = torch.tensor([encoded.input_ids])
    grads = {}

    def keep(module, args, out):
        out.retain_grad()
        grads["out"] = out

    hook = layers[1].output.dense.register_forward_hook(keep)
    lp = torch.log_softmax(model(input_ids=ids).logits[0, target], -1)[encoded.answer_ids[0]]
    lp.backward()
    hook.remove()
    direction = grads["out"].grad[0, target]
    direction = direction / direction.norm()
    acts = {}
    hook = layers[1].output.dense.register_forward_pre_hook(lambda m, a: acts.__setitem__("x", a[0].detach()))
    with torch.no_grad():
        model(input_ids=ids)
    hook.remove()
    with torch.no_grad():
        layers[1].output.dense.weight[:, A] = 2.0 * direction / acts["x"][0, target, A]
        layers[1].output.dense.weight[:, B] = 1.0 * direction / acts["x"][0, target, B]
    model.zero_grad()
    return bundle


def test_oracle_ranks_the_known_neurons_first_and_its_joint_effect_is_the_hand_computed_one():
    bundle = planted_bundle()
    effects = oracle_effects(bundle, {"en": encode_probes(bundle, [QUERY])}, layers=[0, 1])
    by_lang = effects.by_lang["en"]
    assert top_k(effects.ranking("en"), effects.layers, 2) == [(1, A), (1, B)]
    others = np.ones_like(by_lang, dtype=bool)
    others[1, [A, B]] = False
    assert np.all(by_lang[others] == 0.0)  # nothing else writes to the residual: exactly no effect
    natural = mean_token_lp(bundle, QUERY)
    # by hand: without neuron A (B) the last FFN writes 1 (2) unit(s) along the direction; check both against
    # the model with that output column removed (in the last layer, all positions = the answer position)
    model = bundle.model
    weight = model.roberta.encoder.layer[1].output.dense.weight
    for neuron in (A, B):
        saved = weight[:, neuron].clone()
        with torch.no_grad():
            weight[:, neuron] = 0.0
        expected = mean_token_lp(bundle, QUERY) - natural
        with torch.no_grad():
            weight[:, neuron] = saved
        assert by_lang[1, neuron] == pytest.approx(expected, abs=1e-6)  # float32 model
    assert by_lang[1, A] < by_lang[1, B] < 0.0
    # joint: without both the last FFN writes its bias only, i.e. the model with the whole weight zeroed
    joint = mean_token_lp(bundle, QUERY, {1: [A, B]}) - natural
    saved = weight.clone()
    with torch.no_grad():
        weight.zero_()
    by_hand = mean_token_lp(bundle, QUERY) - natural
    with torch.no_grad():
        weight.copy_(saved)
    assert joint == pytest.approx(by_hand, abs=1e-9)
    assert joint < by_lang[1, A]  # removing both hurts more than removing the stronger one alone


@pytest.mark.parametrize("family", ["xlm-roberta", "gpt2", "llama"])
def test_single_ablations_equal_independent_interventions(family):
    bundle = tiny_bundle(family, layers=3, hidden=32, d_ff=48)
    probes = [Probe("The capital of France is [MASK]", "Paris"), Probe("La capitale de l'Italie est [MASK]", "Rome")]
    encoded = encode_probes(bundle, probes)
    effects = ablation_effects(bundle, encoded, layers=[0, 1, 2], rows_per_pass=17)  # chunks cross rows
    assert effects.shape == (2, 3, 48) and np.isfinite(effects).all()
    rng = np.random.default_rng(0)
    for q, probe in enumerate(probes):
        natural = mean_token_lp(bundle, probe)
        for layer in range(3):
            for index in rng.choice(48, size=3, replace=False):
                expected = mean_token_lp(bundle, probe, {layer: [int(index)]}) - natural
                assert effects[q, layer, index] == pytest.approx(expected, abs=1e-5)  # float32 models


def test_candidates_restrict_the_ablations_and_the_pool_is_seeded():
    bundle = tiny_bundle("xlm-roberta", layers=2, hidden=32, d_ff=48)
    encoded = encode_probes(bundle, [QUERY])
    full = ablation_effects(bundle, encoded, layers=[0, 1])
    part = ablation_effects(bundle, encoded, layers=[0, 1], candidates={1: [3, 7]})
    assert np.isnan(part[0, 0]).all() and np.isnan(np.delete(part[0, 1], [3, 7])).all()
    assert part[0, 1, [3, 7]] == pytest.approx(full[0, 1, [3, 7]], abs=1e-6)  # float32 batches
    scores = np.zeros((2, 48))
    scores[0, 4], scores[1, 9] = 2.0, 1.0
    pool = candidate_pool([scores], (0, 1), 48, top=2, random=5, seed=0, fact_id="f")
    assert 4 in pool[0] and 9 in pool[1] and sum(map(len, pool.values())) <= 7
    assert pool == candidate_pool([scores], (0, 1), 48, top=2, random=5, seed=0, fact_id="f")


def test_agnostic_by_oracle_needs_harm_in_every_language():
    from rml_lama.evaluation.oracle import OracleEffects

    en = np.array([[-0.5, -0.2, 0.0, 0.1]])
    fr = np.array([[-0.3, 0.0, -0.4, -0.2]])
    effects = OracleEffects((2,), {"en": en, "fr": fr}, {"en": 1, "fr": 1})
    assert effects.agnostic_by_oracle(["en", "fr"], hurt=0.1) == [(2, 0)]
    assert top_k(effects.agnostic_ranking(["en", "fr"]), (2,), 2) == [(2, 0), (2, 1)]  # worst language first
    assert top_k(effects.ranking("fr"), (2,), 2) == [(2, 2), (2, 0)]
