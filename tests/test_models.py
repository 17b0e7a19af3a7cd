"""Adapters registry, model loading and the neuron-scaling intervention, on tiny random models."""
from __future__ import annotations

from types import SimpleNamespace

import pytest
import torch

from rml_lama.errors import RmlLamaError
from rml_lama.models import ADAPTERS, bundle_from, get_adapter, load_model, scale_neurons, target_positions
from rml_lama.probing.ranking import answer_probabilities
from rml_lama.probing.targets import Probe
from rml_lama.testbeds.tiny import FAMILIES, tiny_bundle, tiny_model, tiny_tokenizer

EXPECTED_ADAPTER = {"bert": "bert", "roberta": "roberta", "xlm-roberta": "roberta", "gpt2": "gpt2",
                    "gpt_neox": "gpt_neox", "gptj": "gptj", "phi": "phi", "bloom": "bloom", "llama": "llama", "mistral": "llama", "qwen2": "llama"}
PROBES = [Probe("The capital of France is [MASK].", "Paris"), Probe("法国的首都是[MASK]。", "巴黎")]


@pytest.mark.parametrize("family", FAMILIES)
def test_adapter_finds_one_output_projection_per_layer_whose_input_is_the_neuron_vector(family):
    bundle = tiny_bundle(family)
    assert bundle.adapter.name == EXPECTED_ADAPTER[family] and get_adapter(bundle.model) is bundle.adapter
    assert bundle.kind == ("masked" if family in ("bert", "roberta", "xlm-roberta") else "causal")
    projections = bundle.adapter.ffn_out_projections(bundle.model)
    assert len(projections) == bundle.n_layers == 3
    widths = []
    handles = [p.register_forward_pre_hook(lambda m, a: widths.append(a[0].shape[-1])) for p in projections]
    try:
        with torch.no_grad():
            bundle.model(input_ids=torch.tensor([[0, 5, 6, 7]]))
    finally:
        for h in handles:
            h.remove()
    assert widths == [bundle.d_ff] * 3 and bundle.d_ff == (128 if family == "bloom" else 48)


def test_unknown_architecture_lists_supported_types():
    fake = SimpleNamespace(config=SimpleNamespace(model_type="t5"))
    with pytest.raises(RmlLamaError) as error:
        get_adapter(fake)
    assert "'t5'" in str(error.value) and all(t in str(error.value) for t in ("bert", "gpt2", "llama", "bloom"))
    assert set(ADAPTERS) >= {"bert", "roberta", "gpt2", "gpt_neox", "bloom", "llama"}


def test_bundle_from_rejects_a_model_without_lm_head():
    from transformers import BertModel

    with pytest.raises(RmlLamaError, match="no language-model head"):
        bundle_from(BertModel(tiny_model("bert").config), tiny_tokenizer())


def test_load_model_round_trip_and_errors(tmp_path):
    model = tiny_model("llama")
    model.save_pretrained(tmp_path / "llama")
    tiny_tokenizer().save_pretrained(tmp_path / "llama")
    bundle = load_model(tmp_path / "llama", device="cpu")
    assert bundle.kind == "causal" and bundle.adapter.name == "llama" and not bundle.model.training
    ids = torch.tensor([[0, 5, 6, 7]])
    with torch.no_grad():
        assert torch.allclose(bundle.model(input_ids=ids).logits, model(input_ids=ids).logits, atol=1e-6)
    with pytest.raises(RmlLamaError, match="no such folder"):
        load_model(tmp_path / "missing")
    from transformers import BertModel, T5Config

    BertModel(tiny_model("bert").config).save_pretrained(tmp_path / "encoder-only")
    with pytest.raises(RmlLamaError, match="not a language model with its LM head"):
        load_model(tmp_path / "encoder-only")

    T5Config(vocab_size=10, d_model=8, num_layers=1, num_heads=1, d_ff=8, d_kv=8).save_pretrained(tmp_path / "t5")
    with pytest.raises(RmlLamaError, match="unsupported architecture 't5'"):
        load_model(tmp_path / "t5")


def _manual_scaled_probs(bundle, layer, indices, factor, positions_mask):
    """The same intervention written out: a hook multiplying x[..., indices] at the masked positions."""
    proj = bundle.adapter.ffn_out_projections(bundle.model)[layer]

    def hook(module, args):
        x = args[0].clone()
        rows, cols = positions_mask.nonzero(as_tuple=True)
        x[rows[:, None], cols[:, None], torch.tensor(indices)[None, :]] *= factor
        return (x,)

    handle = proj.register_forward_pre_hook(hook)
    try:
        return answer_probabilities(bundle, PROBES[:1], batch_size=1)
    finally:
        handle.remove()


@pytest.mark.parametrize("family", ["bert", "gpt2", "qwen2"])
def test_scale_neurons_matches_a_hand_written_hook_and_restores_the_model(family):
    bundle = tiny_bundle(family, dtype=torch.float64)
    before = answer_probabilities(bundle, PROBES)
    from rml_lama.probing.targets import encode_probes, pad_batch

    _, _, targets = pad_batch(bundle, encode_probes(bundle, PROBES[:1]))
    for factor in (0.0, 2.0):
        with scale_neurons(bundle, {1: [0, 3, 7]}, factor):
            ours = answer_probabilities(bundle, PROBES[:1])
        assert ours == pytest.approx(_manual_scaled_probs(bundle, 1, [0, 3, 7], factor, targets), rel=1e-10)
        assert abs(ours[0] - before[0]) > 1e-9  # the intervention does something
    mask = torch.zeros(bundle.n_layers, bundle.d_ff, dtype=torch.bool)
    mask[1, [0, 3, 7]] = True
    with scale_neurons(bundle, mask, 0.0):
        assert answer_probabilities(bundle, PROBES[:1]) == pytest.approx(ours * 0 + _manual_scaled_probs(bundle, 1, [0, 3, 7], 0.0, targets))
    with scale_neurons(bundle, {1: [0, 3, 7]}, 1.0):
        assert answer_probabilities(bundle, PROBES) == pytest.approx(before, rel=1e-12)
    with scale_neurons(bundle, {1: [0, 3, 7]}, 0.0, positions="all"):
        everywhere = answer_probabilities(bundle, PROBES[:1])
    assert everywhere == pytest.approx(_manual_scaled_probs(bundle, 1, [0, 3, 7], 0.0, torch.ones_like(targets)))
    assert answer_probabilities(bundle, PROBES) == pytest.approx(before, rel=1e-12)


def test_scale_neurons_removes_hooks_on_exceptions_and_uses_fallback_targets():
    bundle = tiny_bundle("bert")
    modules = [bundle.model, *bundle.adapter.ffn_out_projections(bundle.model)]
    with pytest.raises(ZeroDivisionError, match="division"), scale_neurons(bundle, {0: [1]}, 0.0):
        _ = 1 / 0
    assert all(not m._forward_pre_hooks for m in modules)
    with pytest.raises(RmlLamaError, match="out of range"), scale_neurons(bundle, {0: [999]}, 0.0):
        pass
    # a plain forward (no target_positions block) scales at the mask token, as targets.py declares it
    ids = torch.tensor([[0, 11, 12, bundle.tokenizer.mask_token_id, 2]])
    with torch.no_grad(), scale_neurons(bundle, {2: list(range(48))}, 0.0):
        fallback = bundle.model(input_ids=ids).logits
    declared = torch.zeros_like(ids, dtype=torch.bool)
    declared[0, 3] = True
    with torch.no_grad(), scale_neurons(bundle, {2: list(range(48))}, 0.0), target_positions(declared):
        explicit = bundle.model(input_ids=ids).logits
    assert torch.equal(fallback, explicit)
