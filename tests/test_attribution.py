"""The attribution engine against a plain per-layer reference (hooks, one full forward per step) and Captum."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from rml_lama.errors import RmlLamaError
from rml_lama.probing.attribution import Attribution, attribute, completeness_gap, path_points
from rml_lama.probing.targets import Probe, encode_probes
from rml_lama.testbeds.tiny import FAMILIES, UNENCODABLE, tiny_bundle

SINGLE = Probe("The capital of France is [MASK].", "Paris")
MULTI = Probe("法国的首都是[MASK]。", "巴黎")  # two answer tokens in the tiny tokenizer


def _prob_with_neurons(bundle, ids, layer, position, acts, token):
    """P(token at position) with the layer's neurons at `position` replaced by `acts` (full forward)."""
    proj = bundle.adapter.ffn_out_projections(bundle.model)[layer]

    def place(module, args):
        x = args[0].clone()
        x[0, position] = acts
        return (x,) + tuple(args[1:])

    handle = proj.register_forward_pre_hook(place)
    try:
        logits = bundle.model(input_ids=ids).logits[0, position]
    finally:
        handle.remove()
    return torch.softmax(logits.double(), dim=-1)[token]


def _natural_neurons(bundle, ids, layer, position):
    seen = {}
    proj = bundle.adapter.ffn_out_projections(bundle.model)[layer]
    handle = proj.register_forward_pre_hook(lambda m, a: seen.setdefault("x", a[0].detach()))
    try:
        with torch.no_grad():
            bundle.model(input_ids=ids)
    finally:
        handle.remove()
    return seen["x"][:, position]


def _amig_reference(bundle, item, layer, position, every_position=False):
    replacement = bundle.tokenizer.mask_token_id if bundle.kind == "masked" else bundle.tokenizer.eos_token_id
    acts = []
    for c in (range(len(item.input_ids)) if every_position else item.context_positions):
        ids = torch.tensor([item.input_ids])
        ids[0, c] = replacement
        acts.append(_natural_neurons(bundle, ids, layer, position)[0])
    return torch.stack(acts).mean(0)


def reference_attribution(bundle, probe, layer, steps, baseline="zero", rule="left", multiplier="delta"):
    """Plain per-layer IG: one full forward per step and answer token, attributions summed over tokens."""
    item = encode_probes(bundle, [probe])[0]
    ids = torch.tensor([item.input_ids])
    alphas, weights = path_points(steps, rule)
    total = torch.zeros(bundle.d_ff, dtype=torch.float64)
    for t, (position, token) in enumerate(zip(item.target_positions, item.answer_ids)):
        w = _natural_neurons(bundle, ids, layer, position)[0]
        b = (_amig_reference(bundle, item, layer, position, baseline == "amig-all") if baseline != "zero"
             else torch.zeros_like(w))
        grad_sum = torch.zeros_like(w)
        for alpha, weight in zip(alphas, weights):
            acts = (b + alpha * (w - b)).requires_grad_(True)
            prob = _prob_with_neurons(bundle, ids, layer, position, acts, token)
            grad_sum += weight * torch.autograd.grad(prob, acts)[0]
        total += ((w if multiplier == "activation" else w - b) * grad_sum).double()
    return total


def _rel_err(a, b):
    return float((a.double() - b.double()).abs().max() / b.double().abs().max())


@pytest.mark.parametrize("family", FAMILIES)
def test_engine_equals_plain_reference_in_float64(family):
    bundle = tiny_bundle(family, dtype=torch.float64)
    results = attribute(bundle, [SINGLE, MULTI], steps=4, internal_batch_size=5)
    for probe, result in zip([SINGLE, MULTI], results):
        assert result.scores.dtype == torch.float32 and result.scores.shape == (bundle.n_layers, bundle.d_ff)
        for layer in range(bundle.n_layers):
            expected = reference_attribution(bundle, probe, layer, steps=4)
            assert _rel_err(result.scores[layer], expected) < 1e-5, (family, probe, layer)


@pytest.mark.parametrize("family", ["bert", "gpt2", "llama"])
@pytest.mark.parametrize("aggregation", ["sum", "mean", "first"])
def test_activation_method_is_what_a_forward_hook_reads_at_the_answer(family, aggregation):
    bundle = tiny_bundle(family, dtype=torch.float64)
    forwards = []
    counter = bundle.model.register_forward_hook(lambda *_: forwards.append(1))
    try:
        results = attribute(bundle, [SINGLE, MULTI], method="activation", layers=[0, 2], aggregation=aggregation)
    finally:
        counter.remove()
    assert len(forwards) == 2  # one forward per query, no gradient passes
    integrated = attribute(bundle, [SINGLE, MULTI], steps=1, layers=[0], aggregation=aggregation)
    for probe, result, reference in zip([SINGLE, MULTI], results, integrated):
        item = encode_probes(bundle, [probe])[0]
        ids = torch.tensor([item.input_ids])
        positions = item.target_positions[:1] if aggregation == "first" else item.target_positions
        assert result.layers == [0, 2] and result.scores.shape == (2, bundle.d_ff)
        for row, layer in enumerate([0, 2]):
            per_token = torch.stack([_natural_neurons(bundle, ids, layer, p)[0] for p in positions])
            expected = per_token.mean(0) if aggregation == "mean" else per_token.sum(0)
            assert torch.allclose(result.scores[row].double(), expected, atol=1e-6), (family, probe, layer)
        assert result.gold_prob == pytest.approx(reference.gold_prob, rel=1e-9)
        assert result.token_probs == pytest.approx(reference.token_probs, rel=1e-9)
        assert result.steps == 0 and result.baseline == "none" and np.isnan(result.baseline_prob)
    assert len(encode_probes(bundle, [MULTI])[0].answer_ids) == 2  # the multi-token case is exercised


def test_an_unknown_attribution_method_is_one_error():
    with pytest.raises(RmlLamaError, match="unknown attribution method"):
        attribute(tiny_bundle("bert"), [SINGLE], method="gradient")


@pytest.mark.parametrize("family", ["bert", "llama", "bloom"])
def test_amig_baseline_equals_reference(family):
    bundle = tiny_bundle(family, dtype=torch.float64)
    result = attribute(bundle, [MULTI], steps=3, baseline="amig", layers=[1])[0]
    expected = reference_attribution(bundle, MULTI, 1, steps=3, baseline="amig")
    assert result.layers == [1] and result.baseline == "amig"
    assert _rel_err(result.scores[0], expected) < 1e-5


@pytest.mark.parametrize("family", ["bert", "llama"])
def test_amig_as_its_authors_code_every_position_and_activation_multiplier(family):
    # Chen et al.'s code: every input position replaced in turn (special tokens and the answer slot too), and
    # the integrated gradient multiplied by the activation w instead of (w - b)
    bundle = tiny_bundle(family, dtype=torch.float64)
    result = attribute(bundle, [MULTI], steps=3, baseline="amig-all", multiplier="activation", layers=[1])[0]
    expected = reference_attribution(bundle, MULTI, 1, steps=3, baseline="amig-all", multiplier="activation")
    assert _rel_err(result.scores[0], expected) < 1e-5
    ig_form = reference_attribution(bundle, MULTI, 1, steps=3, baseline="amig")
    assert _rel_err(result.scores[0], ig_form) > 1e-3  # a different attribution, not a relabelled one


@pytest.mark.parametrize("rule", ["right", "middle", "trapezoid"])
def test_other_riemann_rules_equal_reference(rule):
    bundle = tiny_bundle("gpt2", dtype=torch.float64)
    result = attribute(bundle, [SINGLE], steps=4, rule=rule, layers=[2])[0]
    assert _rel_err(result.scores[0], reference_attribution(bundle, SINGLE, 2, 4, rule=rule)) < 1e-5


@pytest.mark.parametrize("family", ["xlm-roberta", "gpt_neox"])
def test_batching_and_suffix_cache_do_not_change_results(family):
    bundle = tiny_bundle(family, dtype=torch.float64)
    one_row = attribute(bundle, [MULTI], steps=3, internal_batch_size=1)[0].scores
    many_rows = attribute(bundle, [MULTI], steps=3, internal_batch_size=100)[0].scores
    assert _rel_err(many_rows, one_row) < 1e-6
    if bundle.kind == "causal":
        full = attribute(bundle, [MULTI], steps=3, suffix_cache=False)[0].scores
        assert _rel_err(many_rows, full) < 1e-6


CAUSAL_FAMILIES = [f for f in FAMILIES if f not in ("bert", "roberta", "xlm-roberta")]
# different prefix lengths and answer lengths, so a shared pass mixes padded prefixes of several sizes
GROUP = [MULTI, SINGLE, Probe("Ranskan pääkaupunki on [MASK].", "Pariisi"), Probe("[MASK] is the capital of Italy.", "Rome")]


@pytest.mark.parametrize("family", CAUSAL_FAMILIES)
def test_queries_sharing_passes_equal_queries_one_by_one(family):
    bundle = tiny_bundle(family, dtype=torch.float64)
    shared = attribute(bundle, GROUP, steps=2, layers=[0, 2], internal_batch_size=1000)
    for probe, together in zip(GROUP, shared):
        alone = attribute(bundle, [probe], steps=2, layers=[0, 2], internal_batch_size=1)[0]
        assert _rel_err(together.scores, alone.scores) < 1e-6, (family, probe)
        assert together.gold_prob == pytest.approx(alone.gold_prob, rel=1e-9)
        assert torch.allclose(together.baseline_token_probs, alone.baseline_token_probs, rtol=1e-6, atol=0)


def test_causal_queries_are_grouped_while_their_rows_fit_one_pass():
    from rml_lama.probing.attribution import _groups

    rows = {"a": 10, "b": 10, "c": 25, "d": 5}
    capacity = {"a": 40, "b": 40, "c": 40, "d": 30}  # a group's capacity is its tightest member's

    def group_capacity(items):
        return min(capacity[i] for i in items)

    items = list(rows)
    assert list(_groups(items, rows.__getitem__, group_capacity, causal_suffix=True)) == [[0, 1], [2, 3]]
    assert list(_groups(items, rows.__getitem__, group_capacity, causal_suffix=False)) == [[0], [1], [2], [3]]
    assert list(_groups(items, lambda _: 50, lambda _: 40, causal_suffix=True)) == [[0], [1], [2], [3]]


def test_rows_per_pass_counts_suffix_rows_and_pads_their_keys():
    from rml_lama.probing.attribution import estimated_row_bytes, rows_per_pass

    bundle = tiny_bundle("llama")
    short, long = encode_probes(bundle, [SINGLE, Probe("Rome is the capital of Italy and Tokyo is [MASK].", "Japan")])
    assert short.length < long.length
    assert rows_per_pass(bundle, [short], 4) == 4  # encoder-style rows: one each
    assert rows_per_pass(bundle, [short, long], 4, causal_suffix=True) == 4 * short.length
    budget_mb = 3 * estimated_row_bytes(bundle, 1, long.length) / 2**20
    assert rows_per_pass(bundle, [short, long], 10**6, budget_mb, causal_suffix=True) == 3
    assert rows_per_pass(bundle, [short], 10**6, budget_mb, causal_suffix=True) > 3  # shorter keys, more rows


def test_gold_probability_and_its_gradient():
    from rml_lama.probing.attribution import _gold_probability

    logits = torch.tensor([[0.0, 0.0, 0.0, 0.0], [1.0, 2.0, 3.0, 4.0]], dtype=torch.float64, requires_grad=True)
    gold = torch.tensor([2, 3])
    probs = _gold_probability().apply(logits, gold)
    e = np.exp([1.0, 2.0, 3.0, 4.0])
    assert probs.tolist() == pytest.approx([0.25, e[3] / e.sum()])
    (grad,) = torch.autograd.grad(probs[0], logits)
    # dp/dz_j = p (1[j = gold] - softmax_j) = 0.25 * (1[j = 2] - 0.25)
    assert grad[0].tolist() == pytest.approx([-1 / 16, -1 / 16, 3 / 16, -1 / 16]) and grad[1].abs().max() == 0
    fresh = torch.randn(3, 7, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda z: _gold_probability().apply(z, torch.tensor([0, 6, 3])), (fresh,))


def test_left_rule_matches_dai_alphas():
    alphas, weights = path_points(20, "left")
    assert alphas[0] == 0.0 and alphas[-1] == pytest.approx(19 / 20) and len(alphas) == 20
    assert sum(weights) == pytest.approx(1.0)
    t_alphas, t_weights = path_points(5, "trapezoid")
    assert t_alphas == [0, 0.25, 0.5, 0.75, 1.0] and t_weights == [0.125, 0.25, 0.25, 0.25, 0.125]


@pytest.mark.parametrize("family", ["bert", "llama"])
def test_agrees_with_captum_layer_integrated_gradients(family):
    captum_attr = pytest.importorskip("captum.attr")
    bundle = tiny_bundle(family, dtype=torch.float64)
    item = encode_probes(bundle, [SINGLE])[0]
    ids = torch.tensor([item.input_ids])
    position, token, layer = item.target_positions[0], item.answer_ids[0], 1
    site = torch.nn.Identity()  # the neuron vector of `layer` at the target, as a layer Captum can hook

    def forward(acts):
        acts = site(acts)  # Captum swaps in the interpolated batch here
        return torch.stack([_prob_with_neurons(bundle, ids, layer, position, a, token) for a in acts])

    natural = _natural_neurons(bundle, ids, layer, position)
    lig = captum_attr.LayerIntegratedGradients(forward, site)
    expected = lig.attribute(natural, baselines=torch.zeros_like(natural), n_steps=6, method="riemann_left")[0]
    ours = attribute(bundle, [SINGLE], steps=6, layers=[layer])[0].scores[0]
    assert _rel_err(ours, expected) < 1e-5


@pytest.mark.parametrize("family", ["roberta", "qwen2"])
def test_completeness_with_many_steps(family):
    bundle = tiny_bundle(family, dtype=torch.float64)
    attr_sum, prob_diff = completeness_gap(bundle, SINGLE, layer=1, steps=400)
    assert abs(prob_diff) > 1e-5  # the check is meaningful
    assert abs(attr_sum - prob_diff) < 0.01 * abs(prob_diff)
    coarse_sum, _ = completeness_gap(bundle, SINGLE, layer=1, steps=400, rule="trapezoid")
    assert abs(coarse_sum - prob_diff) < 1e-3 * abs(prob_diff)  # trapezoid converges faster than left


def test_attribution_fields_and_probabilities():
    bundle = tiny_bundle("bert", dtype=torch.float64)
    result = attribute(bundle, [MULTI], steps=2, aggregation="mean", layers=[0, 2])[0]
    assert isinstance(result, Attribution) and result.layers == [0, 2] and result.steps == 2
    assert len(result.token_probs) == 2 and result.gold_prob == pytest.approx(np.mean(result.token_probs))
    first = attribute(bundle, [MULTI], steps=2, aggregation="first", layers=[0, 2])[0]
    assert len(first.token_probs) == 1 and first.gold_prob == pytest.approx(result.token_probs[0])
    summed = attribute(bundle, [MULTI], steps=2, layers=[0, 2])[0]
    assert torch.allclose(summed.scores, 2 * result.scores, rtol=1e-5, atol=1e-12)
    assert summed.gold_prob == pytest.approx(np.prod(result.token_probs))


@pytest.mark.parametrize("family", ["gpt2", "bert"])
def test_hooks_are_removed_after_attribution_and_after_failures_midway(family, monkeypatch):
    from rml_lama.probing import attribution as engine

    bundle = tiny_bundle(family)
    modules = list(bundle.model.modules())

    def no_hooks_left() -> bool:
        return all(not m._forward_pre_hooks and not m._forward_hooks for m in modules)

    attribute(bundle, [SINGLE], steps=2)
    assert no_hooks_left()
    with pytest.raises(RmlLamaError, match="baseline"):  # rejected before any work starts
        attribute(bundle, [SINGLE], steps=2, baseline="nonsense")
    assert no_hooks_left()

    calls = {"n": 0}
    real_block_forward = engine._block_forward

    def failing_block_forward(*args, **kwargs):  # fails inside a pass, while the path neurons are hooked in
        calls["n"] += 1
        if calls["n"] == 2:
            assert not no_hooks_left()  # the failure really happens while hooks are registered
            raise RuntimeError("out of memory in a block")
        return real_block_forward(*args, **kwargs)

    monkeypatch.setattr(engine, "_block_forward", failing_block_forward)
    with pytest.raises(RuntimeError, match="out of memory"):
        attribute(bundle, [SINGLE], steps=2, baseline="amig")
    assert no_hooks_left()
    monkeypatch.undo()

    head = bundle.adapter.head(bundle.model)
    handle = head.register_forward_hook(lambda *a: (_ for _ in ()).throw(RuntimeError("failed in the head")))
    with pytest.raises(RuntimeError, match="failed in the head"):  # during the natural pass (recorders hooked)
        attribute(bundle, [SINGLE], steps=2)
    handle.remove()
    assert no_hooks_left()


@pytest.mark.parametrize(
    "probe, words",
    [
        (Probe("The capital of France is Paris.", "Paris"), "exactly one [MASK]"),
        (Probe("[MASK] and [MASK].", "Paris"), "exactly one [MASK]"),
        (Probe("The capital of France is [MASK].", ""), "empty answer"),
        (Probe("The capital of France is [MASK].", UNENCODABLE), "cannot encode"),
    ],
)
def test_bad_probes_raise_clear_errors_naming_the_query(probe, words):
    bundle = tiny_bundle("bert")
    with pytest.raises(RmlLamaError) as error:
        attribute(bundle, [SINGLE, probe], steps=2)
    assert words in str(error.value) and repr(probe.query) in str(error.value)
