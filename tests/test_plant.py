"""Planting: only unknown facts, new neurons that are exactly silent elsewhere, every kind, gated FFNs, truth.json."""
from __future__ import annotations

import copy
import json

import numpy as np
import pytest
import torch

from rml_lama.cli import main
from rml_lama.models import load_model
from rml_lama.paths import TRUTH_FILE
from rml_lama.probing.attribution import attribute
from rml_lama.probing.targets import Probe
from rml_lama.schema import CORE_LANGUAGES, F
from rml_lama.testbeds.plant import (
    AGNOSTIC,
    DISTRIBUTED,
    SCRIPT,
    SPECIFIC,
    PlantOptions,
    PlantSpec,
    _read_fact,
    answer_figures,
    fit_mined_detector,
    grow_ffn,
    kind_plan,
    neuron_activations,
    neuron_outputs,
    plant,
    relation_candidates,
    script_groups,
    set_reading_side,
)
from rml_lama.testbeds.tiny import tiny_bundle
from tests.support.plants import wide_parallel_release

OPTIONS = dict(unrelated_queries=70, seed=0, spare=1.0, steps=80)


def _bundle(family: str = "xlm-roberta", hidden: int = 64):
    return tiny_bundle(family, layers=2, hidden=hidden, d_ff=48)


def _plant(family: str, hidden: int = 64, **options):
    bundle = _bundle(family, hidden)
    base = copy.deepcopy(bundle)
    release = wide_parallel_release()
    result = plant(bundle, release, PlantOptions(**{**OPTIONS, **options}), progress=False)
    return base, bundle, release, result


@pytest.fixture(scope="module")
def planted():
    # specific and distributed plants (one language each) with decoys: what a tiny random model can hold
    return _plant("xlm-roberta", facts=3, agnostic_share=0.0, script_share=0.0, distributed_share=1 / 3,
                  decoy_share=1.0)


def _queries(release, fact_id, langs=None):
    rows = release[release[F.FACT_ID] == fact_id]
    return rows if langs is None else rows[rows[F.LANG].isin(langs)]


def test_kind_plan_interleaves_kinds_in_their_shares():
    plan = kind_plan(10, PlantOptions(agnostic_share=0.3, script_share=0.2, distributed_share=0.2))
    assert [plan.count(k) for k in (AGNOSTIC, SCRIPT, DISTRIBUTED, SPECIFIC)] == [3, 2, 2, 3]
    assert plan[0] == AGNOSTIC and len(set(plan[:4])) == 4  # every kind early, not in blocks


def test_script_groups_split_latin_from_the_rest():
    assert script_groups(CORE_LANGUAGES) == {"Latin": ("en", "fr", "fi", "hu"), "CJK": ("ja", "ko", "zh")}


def test_growing_the_ffn_changes_no_prediction():
    bundle = _bundle()
    release = wide_parallel_release()
    rows = release.iloc[::7]
    candidates = relation_candidates(release, set(), 30, 0)
    before = answer_figures(bundle, rows, candidates)
    old_rows = bundle.adapter.blocks(bundle.model)[1].intermediate.dense.weight.detach().clone()
    new = grow_ffn(bundle, 5, seed=0)
    assert bundle.d_ff == 48 + 5 and bundle.model.config.intermediate_size == 53
    keep = [i for i in range(53) if i not in new[1]]
    assert torch.equal(bundle.adapter.blocks(bundle.model)[1].intermediate.dense.weight[keep], old_rows)
    after = answer_figures(bundle, rows, candidates)
    assert np.allclose(before["p"], after["p"], rtol=1e-5, atol=1e-7)
    assert (before["top"] == after["top"]).all()
    assert (neuron_activations(bundle, list(rows[F.QUERY]), list(rows[F.OBJ_LABEL]), {0: new[0], 1: new[1]}) == 0).all()


def test_only_facts_unknown_in_every_language_are_planted(planted):
    base, _, release, result = planted
    truth = result.truth
    candidates = relation_candidates(release, set(), 30, 0)
    assert truth["plants"]
    for entry in truth["plants"]:
        figures = answer_figures(base, _queries(release, entry["fact_id"]), candidates)
        for lang, g in figures.groupby(F.LANG):
            assert g["top"].sum() == 0 and g["p"].mean() < 0.05  # ranked first nowhere, low probability
            assert entry["unknown_before"][lang]["accuracy"] == 0.0
    for fact_id in truth["screened"]["rejected_as_known"]:  # each was ranked first somewhere (or likely)
        figures = answer_figures(base, _queries(release, fact_id), candidates)
        assert figures["top"].any() or max(g["p"].mean() for _, g in figures.groupby(F.LANG)) >= 0.05


def test_planted_neurons_are_exactly_silent_and_leak_nothing(planted):
    base, bundle, release, result = planted
    unrelated = result.truth["unrelated"]
    assert unrelated["queries"] >= 50
    # held out of the background in a world of 30 made-up subjects and 3 templates a language: a query or two
    # of 70 falls outside the range of the few hundred background vectors the detectors were fitted on
    assert unrelated["silent_queries"] >= 0.95
    silence = result.truth["release_silence"]  # every other query read: exact by construction and checked
    assert silence["queries"] >= 150 and silence["silent_queries"] == 1.0 and silence["loud_queries"] == 0
    assert unrelated["changed_predictions"] <= 0.02 and unrelated["changed_top_candidate"] <= 0.03
    planted_ids = {p["fact_id"] for p in result.truth["plants"]}
    others = release[~release[F.FACT_ID].isin(planted_ids)]
    neurons = {}
    for p in result.truth["plants"]:
        for layer, index in p["neurons"] + p["decoys"]:
            neurons.setdefault(layer, []).append(index)
    last = bundle.n_layers - 1
    peaks = neuron_activations(bundle, list(others[F.QUERY]), list(others[F.OBJ_LABEL]), neurons, last)
    assert (peaks == 0.0).mean() >= 0.95  # also on queries never used to fit the detectors


def test_specific_plant_takes_in_its_language_and_nowhere_else(planted):
    _, _, _, result = planted
    for entry in [p for p in result.truth["plants"] if p["kind"] == SPECIFIC]:
        (lang,) = entry["langs"]
        assert entry["complete"] and entry["took"] == [lang]
        assert entry["effect"][lang]["accuracy_after"] >= 0.8
        for other in set(CORE_LANGUAGES) - {lang}:  # silent there: the answer's probability does not move
            e = entry["effect"][other]
            assert e["p_after"] == pytest.approx(e["p_before"], rel=1e-4)


def test_every_column_is_scaled_down_to_the_least_that_still_takes(planted):
    from rml_lama.testbeds.plant import _projections, _weakest_accuracy, relation_candidates

    _, bundle, release, result = planted
    candidates = relation_candidates(release, set(), PlantOptions().candidates_per_relation, 0)
    for entry in result.truth["plants"]:
        out_proj = _projections(bundle, entry["neurons"][0][0])[2]
        writing = entry["writing"]
        # the tiny model's plants take at an eighth of the optimised column, about the layer's median column norm
        assert entry["complete"] and writing["scale"] == 0.125
        assert all(0.1 < size < 1.5 for size in writing["column_x_median"])
        rows = _queries(release, entry["fact_id"], entry["langs"])
        neurons = [index for _, index in entry["neurons"]]
        written = out_proj.weight[:, neurons].detach().clone()
        with torch.no_grad():  # half of it no longer takes: the search found the least
            out_proj.weight[:, neurons] = written / 2
        halved = _weakest_accuracy(bundle, rows, candidates)
        with torch.no_grad():
            out_proj.weight[:, neurons] = written
        assert halved < 0.8 <= _weakest_accuracy(bundle, rows, candidates)


def test_decoys_fire_with_the_plant_but_write_nothing(planted):
    _, bundle, release, result = planted
    entries = [p for p in result.truth["plants"] if p["decoys"]]
    assert entries
    for entry in entries:
        (layer, decoy), (_, neuron) = entry["decoys"][0], entry["neurons"][0]
        out = bundle.adapter.ffn_out_projections(bundle.model)[layer]
        assert torch.count_nonzero(out.weight[:, decoy]) == 0
        assert torch.count_nonzero(out.weight[:, neuron]) > 0
        rows = _queries(release, entry["fact_id"], entry["langs"])
        decoy_peak = neuron_activations(bundle, list(rows[F.QUERY]), list(rows[F.OBJ_LABEL]), {layer: [decoy]})
        plant_peak = neuron_activations(bundle, list(rows[F.QUERY]), list(rows[F.OBJ_LABEL]), {layer: [neuron]})
        assert (decoy_peak > 0).all() and np.allclose(decoy_peak, plant_peak)


def test_distributed_plant_needs_all_its_neurons(planted):
    _, _, _, result = planted
    (entry,) = [p for p in result.truth["plants"] if p["kind"] == DISTRIBUTED]
    assert 2 <= len(entry["neurons"]) <= 4 and abs(sum(entry["weights"]) - 1) < 1e-3
    assert entry["complete"]
    alone = entry["alone"]["accuracy_alone_min_lang"]
    assert len(alone) == len(entry["neurons"]) and max(alone.values()) < 0.8  # none sufficient alone


def test_attribution_ranks_the_planted_neuron_above_its_decoy(planted):
    _, bundle, release, result = planted
    for entry in [p for p in result.truth["plants"] if p["kind"] == SPECIFIC]:
        rows = _queries(release, entry["fact_id"], entry["langs"])
        attributions = attribute(bundle, [Probe(q, a) for q, a in zip(rows[F.QUERY], rows[F.OBJ_LABEL])], steps=10)
        (layer, index), = entry["neurons"]
        (_, decoy), = entry["decoys"]
        total = sum(a.scores / a.scores.max() for a in attributions)
        row = attributions[0].layers.index(layer)
        order = torch.argsort(total.flatten(), descending=True).tolist()
        planted_rank, decoy_rank = order.index(row * total.shape[1] + index), order.index(row * total.shape[1] + decoy)
        # top 6 of 114 with a column scaled down to about the layer's median size (tiny random model)
        assert planted_rank <= 5 and decoy_rank > 10, entry["fact_id"]


def test_gated_ffn_is_plantable_and_silent():
    # a tiny random causal LM ranks the gold first among 6 cities by chance on some query of nearly every fact,
    # so the unknown screen (tested above on the masked LM) is relaxed here: this pins the gated mechanism
    base, bundle, release, result = _plant("llama", hidden=128, facts=1, agnostic_share=0.0, script_share=0.0,
                                           distributed_share=0.0, decoy_share=0.0, spare=12.0,
                                           tries_per_slot=30, unknown_max_accuracy=0.5, unknown_max_p=1.0,
                                           max_answer_tokens=None,  # no answer is one token to this tokenizer
                                           seed=4)  # seeds 1-3: no fact of this tiny model is readable
    (entry,) = result.truth["plants"]
    (lang,) = entry["langs"]
    effect = entry["effect"][lang]
    # it fires on the fact's queries and ranks the gold first on 2 of its 3 (from 0)
    assert entry["firing"]["fires_on_fact"] >= 0.6
    assert effect["accuracy_after"] >= 0.6 > effect["accuracy_before"] and effect["p_after"] > 2 * effect["p_before"]
    assert bundle.model.config.mlp_bias  # Llama: input biases added (zero for every old neuron)
    layer, index = entry["neurons"][0]
    mlp = bundle.adapter.blocks(bundle.model)[layer].mlp
    assert torch.count_nonzero(mlp.gate_proj.weight[index]) > 0 and torch.count_nonzero(mlp.up_proj.weight[index]) > 0
    assert result.truth["unrelated"]["silent_queries"] == 1.0
    assert result.truth["unrelated"]["changed_predictions"] == 0.0


def test_cmd_plant_writes_a_loadable_grown_model_and_truth_deterministically(tmp_path):
    model_dir = tmp_path / "base"
    bundle = _bundle()
    bundle.model.save_pretrained(model_dir)
    bundle.tokenizer.save_pretrained(model_dir)
    release = tmp_path / "release.parquet"
    wide_parallel_release().to_parquet(release)
    args = ["plant", "--model", str(model_dir), "--release", str(release), "--facts", "1", "--steps", "40",
            "--agnostic-share", "0", "--script-share", "0", "--distributed-share", "0"]
    assert main(args + ["--out", str(tmp_path / "a")]) == 0
    assert main(args + ["--out", str(tmp_path / "b")]) == 0
    truth_a = (tmp_path / "a" / TRUTH_FILE).read_bytes()
    assert truth_a == (tmp_path / "b" / TRUTH_FILE).read_bytes()
    truth = json.loads(truth_a)
    assert truth["base_model"] == str(model_dir) and truth["seed"] == 0
    planted = load_model(tmp_path / "a", device="cpu")
    assert planted.d_ff == truth["d_ff"] > truth["base_d_ff"] == 48
    (entry,) = truth["plants"]
    (layer, index), = entry["neurons"]
    assert index in truth["new_neurons"][str(layer)]
    assert torch.count_nonzero(planted.adapter.ffn_out_projections(planted.model)[layer].weight[:, index]) > 0


def _readable_world(seed: int = 0, n_background: int = 3000, dim: int = 64):
    """A background of standard normal vectors and a fact's vectors per language far out along one axis."""
    g = torch.Generator().manual_seed(seed)
    background = torch.randn(n_background, dim, generator=g)
    axis = torch.zeros(dim)
    axis[0] = 8.0
    target = axis + 0.1 * torch.randn(6 * len(CORE_LANGUAGES), dim, generator=g)
    langs = np.repeat(np.array(CORE_LANGUAGES), 6)
    return target, langs, background


def _grown(family: str = "xlm-roberta"):
    bundle = _bundle(family)
    new = grow_ffn(bundle, 2, seed=0)
    return bundle, new[1]


def test_a_detector_not_exactly_silent_on_the_background_is_rejected_and_silenced():
    bundle, neurons = _grown()
    target, langs, background = _readable_world()
    ok = set_reading_side(bundle, 1, neurons, target, langs, background, PlantOptions())
    assert ok["ok"] and (neuron_outputs(bundle, 1, neurons, background) == 0).all()
    # planted defect: half the fact's own vectors hidden in the background, and the gap rule switched off, so
    # the calibrated detector fires on background vectors: it must be rejected, and the neurons left dead
    leaky = torch.cat([background, target[::2]])
    firing = set_reading_side(bundle, 1, neurons, target, langs, leaky, PlantOptions(min_gap=-1e9))
    assert not firing["ok"] and firing["not_silent_on_background"] >= 1
    gate = bundle.adapter.blocks(bundle.model)[1].intermediate.dense
    assert torch.count_nonzero(gate.weight[neurons]) == 0 and (gate.bias[neurons] == -1e4).all()


def test_hard_negative_mining_finds_the_few_background_vectors_a_subsample_misses():
    g = torch.Generator().manual_seed(0)
    dim = 4
    target = torch.tensor([3.0, 1.0, 0.0, 0.0]) + 0.05 * torch.randn(40, dim, generator=g)
    langs = np.array(["en"] * 40)
    easy = torch.tensor([-2.0, 0.0, 0.0, 0.0]) + 0.5 * torch.randn(20000, dim, generator=g)
    hard = torch.tensor([3.0, -1.0, 0.0, 0.0]) + 0.05 * torch.randn(5, dim, generator=g)
    background = torch.cat([easy, hard])

    def hard_above_fact(rounds: int) -> bool:
        options = PlantOptions(fit_background=100, hard_negatives=50, mining_rounds=rounds, refine_steps=100)
        weights, bias = fit_mined_detector(target, langs, background, True, options)
        return bool((hard @ weights).max() >= (target @ weights).min())

    assert hard_above_fact(1)  # the subsample holds none of the 5: the detector cannot see them
    assert not hard_above_fact(3)


class _FakeReadings:
    def __init__(self, target, langs, background):
        self.target, self.langs, self.background = target, langs, background

    def split(self, layer, fact_id, langs):
        own = np.isin(self.langs, list(langs))
        return self.target[torch.as_tensor(own)], self.langs[own], self.background


def test_an_agnostic_fact_unreadable_in_one_language_is_planted_partial_without_it():
    bundle, neurons = _grown()
    target, langs, background = _readable_world()
    target[torch.as_tensor(langs == "ko")] = background[: int((langs == "ko").sum())]  # ko: inside the background
    spec = PlantSpec("", AGNOSTIC, list(CORE_LANGUAGES), 1, neurons=neurons[:1], decoys=neurons[1:],
                     planned_langs=list(CORE_LANGUAGES))
    firing = _read_fact(bundle, spec, "fact", _FakeReadings(target, langs, background), PlantOptions())
    assert firing["ok"] and firing["unreadable_langs"] == ["ko"]
    assert spec.langs == [lang for lang in CORE_LANGUAGES if lang != "ko"]
    # with fewer languages allowed to go than that, the fact is not read at all
    spec = PlantSpec("", AGNOSTIC, list(CORE_LANGUAGES), 1, neurons=neurons[:1], decoys=neurons[1:],
                     planned_langs=list(CORE_LANGUAGES))
    firing = _read_fact(bundle, spec, "fact", _FakeReadings(target, langs, background),
                        PlantOptions(agnostic_min_langs=7))
    assert not firing["ok"] and spec.langs == list(CORE_LANGUAGES)


def test_the_column_bound_grows_until_the_plant_takes():
    _, _, _, small = _plant("xlm-roberta", facts=1, agnostic_share=0.0, script_share=0.0, distributed_share=0.0,
                            decoy_share=0.0, column_bound=0.25, write_rounds=1)
    _, _, _, grown = _plant("xlm-roberta", facts=1, agnostic_share=0.0, script_share=0.0, distributed_share=0.0,
                            decoy_share=0.0, column_bound=0.25, write_rounds=8)
    (weak,), (strong,) = small.truth["plants"], grown.truth["plants"]
    assert weak["fact_id"] == strong["fact_id"] and not weak["complete"] and weak["writing"]["rounds"] == 1
    assert strong["complete"] and strong["writing"]["rounds"] > 1
    assert strong["writing"]["column_bound"] == 0.25 * 2 ** (strong["writing"]["rounds"] - 1)


def test_a_resumed_writing_round_trains_from_the_written_column_counted_once():
    from rml_lama.probing.ranking import gold_token_log_probs
    from rml_lama.probing.targets import encode_probes, probes_of
    from rml_lama.testbeds.plant import set_writing_side

    bundle = _bundle()
    rows = wide_parallel_release().query("lang == 'en'").iloc[:3]
    queries, answers = list(rows[F.QUERY]), list(rows[F.OBJ_LABEL])
    set_writing_side(bundle, 1, [0], [1.0], queries, answers, PlantOptions(steps=5))  # neuron 0 fires everywhere
    # lr 0: the resumed round's first loss is the loss of the model as written (mean per-token cross-entropy)
    (loss,) = set_writing_side(bundle, 1, [0], [1.0], queries, answers, PlantOptions(steps=1, lr=0.0), resume=True)
    token_log_probs = gold_token_log_probs(bundle, encode_probes(bundle, probes_of(zip(queries, answers))), 32)
    assert loss == pytest.approx(float(np.mean([-np.mean(lp) for lp in token_log_probs])), abs=2e-4)


def test_plants_and_their_decoys_get_new_neurons_in_no_fixed_index_order():
    from rml_lama.testbeds.plant import _give_new_neurons

    bundle = _bundle()
    specs = [PlantSpec("", SPECIFIC, ["en"], 1, neurons=[-1], decoys=[-1]) for _ in range(12)]
    new = _give_new_neurons(bundle, specs, seed=0)
    handed = [i for spec in specs for i in spec.neurons + spec.decoys]
    assert sorted(handed) == sorted(new[1])  # every new neuron of the layer, each once
    decoy_above = [spec.decoys[0] > spec.neurons[0] for spec in specs]
    assert any(decoy_above) and not all(decoy_above)  # a tie broken by index favours neither side
    again = [PlantSpec("", SPECIFIC, ["en"], 1, neurons=[-1], decoys=[-1]) for _ in range(12)]
    _give_new_neurons(_bundle(), again, seed=0)
    assert [s.neurons + s.decoys for s in again] == [s.neurons + s.decoys for s in specs]  # seeded


def test_a_planted_neuron_fires_at_the_models_natural_level_unless_told_otherwise():
    from rml_lama.testbeds.plant import natural_activation

    bundle, neurons = _grown()
    target, langs, background = _readable_world()
    natural = natural_activation(bundle, 1, background, seed=0)
    assert natural > 0  # the tiny model's own neurons fire on the background; the dead new ones are exactly 0
    firing = set_reading_side(bundle, 1, neurons, target, langs, background, PlantOptions())
    acts = neuron_outputs(bundle, 1, neurons[:1], target)[:, 0]
    # the fact sits tightly on one axis, so the floor does not bind: the median of its languages' median
    # pre-activations is the natural level (GELU is about the identity there; the pooled median is near it)
    assert firing["ok"] and firing["activation_target"] == pytest.approx(natural, abs=1e-4)
    assert float(acts.median()) == pytest.approx(natural, rel=0.1) and firing["fires_on_fact"] == 1.0
    # planted defect: an explicit target far above anything the model produces is honoured, and shows
    loud = set_reading_side(bundle, 1, neurons, target, langs, background, PlantOptions(target_activation=50.0))
    acts = neuron_outputs(bundle, 1, neurons[:1], target)[:, 0]
    assert loud["ok"] and float(acts.median()) == pytest.approx(50.0, rel=0.05) and float(acts.median()) > 10 * natural


def test_max_answer_tokens_keeps_only_facts_whose_answer_is_that_short_in_every_language():
    from rml_lama.probing.targets import encode_probes
    from rml_lama.testbeds.plant import candidate_facts

    bundle, release = _bundle(), wide_parallel_release()

    def longest(fact_id):
        rows = _queries(release, fact_id)
        return max(len(item.answer_ids) for item in
                   encode_probes(bundle, [Probe(q, a) for q, a in zip(rows[F.QUERY], rows[F.OBJ_LABEL])]))

    everything = candidate_facts(release, bundle, PlantOptions(facts=3, spare=10.0, max_answer_tokens=None), set())
    assert candidate_facts(release, bundle, PlantOptions(facts=3, spare=10.0), set()) == \
        [f for f in everything if longest(f) == 1]  # the default: one-token answers
    short = candidate_facts(release, bundle, PlantOptions(facts=3, spare=10.0, max_answer_tokens=2), set())
    # the tiny release's answers are 1, 3 or 5 tokens long: the limit drops exactly the longer ones, in order
    assert sorted({longest(f) for f in everything}) == [1, 3, 5]
    assert short == [f for f in everything if longest(f) <= 2] and short


def test_a_max_answer_tokens_below_one_is_a_clear_error(tmp_path, capsys):
    assert main(["plant", "--max-answer-tokens", "0", "--out", str(tmp_path / "m")]) == 2
    assert "--max-answer-tokens must be at least 1, not 0" in capsys.readouterr().err
    assert not (tmp_path / "m").exists()
