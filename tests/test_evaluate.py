"""The evaluation run end to end on a tiny BERT whose answer to one fact hangs on one neuron set by hand.

The model: every FFN output column of every layer is zeroed except neuron (PLANT_LAYER, PLANT_INDEX), whose
input row is set to fire on the target fact's queries (its mean FFN input at the mask, with a bias between
the target's and the other facts' pre-activations) and whose output column is optimised to raise the gold
answer. Every other neuron then has attribution exactly 0, so every working localizer must find the planted
one, and `random` (same count, 96 neurons to draw from) must not.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import pytest

from rml_lama.dataset.release import records_frame, write_release
from rml_lama.errors import RmlLamaError
from rml_lama.evaluation.options import EvalOptions, parse_layers, run_config
from rml_lama.evaluation.report import write_report
from rml_lama.evaluation.run import cmd_evaluate, run_evaluation
from rml_lama.evaluation.store import ShardWriter, read_all_records
from rml_lama.paths import RUN_CONFIG_FILE, shard_path
from rml_lama.probing.ranking import answer_probabilities
from rml_lama.testbeds.tiny import tiny_bundle
from tests.support.planted import (
    ALL_LOCALIZERS,
    DECOY_INDEX,
    LANGS,
    PLANT_INDEX,
    PLANT_LAYER,
    SPECIFIC_INDEX,
    TARGET,
    decoy_bundle,
    planted_bundle,
    probes_for,
    records,
    two_plant_bundle,
)


def options(**overrides) -> EvalOptions:
    base = dict(localizers=ALL_LOCALIZERS, langs=LANGS, facts=3, split=None, steps=4, seed=0)
    base.update(overrides)
    return EvalOptions(**base)


def run(tmp_path: Path, opts: EvalOptions, bundle=None, truth_path=None, **kwargs) -> Path:
    out = tmp_path / "run"
    config = run_config(opts, "planted-tiny-bert", "test-release", truth_path)
    run_evaluation(bundle or planted_bundle(), records_frame(records()), opts, out, config, progress=False, **kwargs)
    return out


# ------------------------------------------------------------------------------------------------ tests
def test_the_planted_neuron_carries_the_target_answer():
    from rml_lama.models import scale_neurons

    bundle = planted_bundle()
    target = probes_for(lambda f: f == TARGET)
    before = answer_probabilities(bundle, target)
    with scale_neurons(bundle, {PLANT_LAYER: [PLANT_INDEX]}, 0.0):
        suppressed = answer_probabilities(bundle, target)
    assert np.all(suppressed < 0.1 * before)  # without the neuron the answer all but disappears


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory) -> Path:
    return run(tmp_path_factory.mktemp("eval"), options())


def by_key(out: Path) -> dict:
    return {(r["fact_id"], r["localizer"]): r for r in read_all_records(out)}


def close(a, b, tol=1e-5) -> bool:
    """Records equal up to float32 rounding (rows batched with other localizers' rows may round differently)."""
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(close(a[k], b[k], tol) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(close(x, y, tol) for x, y in zip(a, b))
    if isinstance(a, float) or isinstance(b, float):
        return a is not None and b is not None and abs(a - b) <= tol
    return a == b


def test_every_working_localizer_finds_the_planted_neuron_and_random_does_not(finished_run):
    results = by_key(finished_run)
    assert len(results) == 3 * (len(ALL_LOCALIZERS) + 1)  # one line per (fact, localizer) and the oracle's
    planted = [PLANT_LAYER, PLANT_INDEX]
    for name in ("matrice", "matrice-no-query-unc", "matrice-no-lang-unc", "amig", "kn"):
        neurons = results[(TARGET, name)]["neurons"]
        assert neurons["agnostic"] == [planted], name  # the only neuron with a non-zero attribution
        assert all(found == [planted] for found in neurons["per_lang"].values()), name
    random_neurons = results[(TARGET, "random")]["neurons"]
    assert len(random_neurons["agnostic"]) == 1 and planted not in random_neurons["agnostic"]
    assert all(planted not in found for found in random_neurons["per_lang"].values())


def test_suppressing_the_found_neuron_lowers_the_gold_probability_and_random_does_not(finished_run):
    results = by_key(finished_run)
    matrice, rand = results[(TARGET, "matrice")]["threshold"], results[(TARGET, "random")]["threshold"]
    # on held-out rephrasings, the log-probability falls by more than log 2 (x2 need not raise it: the column
    # was fitted at x1)
    assert matrice["own_suppress"] < -np.log(2)
    assert abs(rand["own_suppress"]) < abs(matrice["own_suppress"])
    assert matrice["accuracy"]["before"] >= matrice["accuracy"]["suppress"]
    # both halves find the one neuron with the zero baseline (the AMIG-style baseline that MATRICE reads also
    # activates the planted neuron on some masked inputs, so w - b can vanish on a half)
    assert results[(TARGET, "kn")]["stability"]["agnostic"] == 1.0
    assert results[(TARGET, "matrice")]["queries"]["own"] == {"en": 1, "fr": 1, "fi": 1}  # one of two each


def test_the_oracle_ranks_the_planted_neuron_first_and_budgets_give_exactly_k(finished_run):
    results = by_key(finished_run)
    planted = [PLANT_LAYER, PLANT_INDEX]
    oracle = results[(TARGET, "oracle")]
    assert all(found == [planted] for found in oracle["budgets"]["1"]["neurons"]["per_lang"].values())
    assert oracle["budgets"]["1"]["neurons"]["agnostic"] == [planted]
    assert oracle["oracle"]["agnostic"] == [planted]  # its ablation hurts en and fr (fi has no scoring query)
    matrice = results[(TARGET, "matrice")]
    assert matrice["budgets"]["1"]["precision"] == {"per_lang": 1.0, "agnostic": 1.0}
    assert matrice["budgets"]["1"]["own_suppress"] == pytest.approx(oracle["budgets"]["1"]["own_suppress"])
    assert results[(TARGET, "random")]["budgets"]["5"]["draws"] == 3
    for k in ("1", "3", "5", "10", "20"):
        neurons = results[(TARGET, "kn")]["budgets"][k]
        assert neurons["own_suppress"] is not None
    assert len(oracle["budgets"]["20"]["neurons"]["agnostic"]) == 20


def test_report_writes_summary_table_and_plots(finished_run, capsys):
    summary = write_report(finished_run, print_table=True)
    printed = capsys.readouterr().out
    assert "| matrice |" in printed and "| random |" in printed
    assert summary["localizers"]["matrice"]["facts"] == 3
    assert summary["localizers"]["matrice"]["metrics"]["facts_with_lakn"]["mean"] > 0  # the target fact has one
    assert summary["leading_budget"] == "5" and summary["leading"][0]["localizer"] != "oracle"
    assert "paired_difference" in summary["leading"][0]
    assert "At k = 5 neurons per language" in printed and "3 complete of 3 planned" in printed and "PARTIAL" not in printed
    for name in ("summary.json", "report.md", "layers.png", "language_overlap.png", "interventions.png",
                 "effect_vs_k.png", "oracle_recovery_by_lang.png"):
        assert (finished_run / name).stat().st_size > 0, name
    assert json.loads((finished_run / "summary.json").read_text())["duplicates_dropped"] == 0


def test_a_killed_run_resumes_without_losing_or_duplicating_lines(tmp_path, finished_run, monkeypatch):
    calls = {"n": 0}
    original = ShardWriter.write
    opts = options(localizers=("matrice", "random"), facts=2)

    def dying_write(self, record):  # the process "dies" while writing the 3rd line, half of it on disk
        calls["n"] += 1
        if calls["n"] == 3:
            self.handle.write(json.dumps(record)[:40])
            self.handle.flush()
            raise KeyboardInterrupt("killed")
        original(self, record)

    monkeypatch.setattr(ShardWriter, "write", dying_write)
    with pytest.raises(KeyboardInterrupt, match="killed"):
        run(tmp_path, opts)
    out = tmp_path / "run"
    assert len(read_all_records(out)) == 2
    summary = write_report(out, print_table=False)  # a partial run says so
    assert summary["progress"] == {"facts_requested": 2, "facts_complete": 0, "facts_started": 1}
    assert "PARTIAL RUN" in (out / "report.md").read_text()
    monkeypatch.setattr(ShardWriter, "write", original)
    run(tmp_path, opts)
    lines = shard_path(out, 0).read_text(encoding="utf-8").splitlines()
    keys = [(json.loads(line)["fact_id"], json.loads(line)["localizer"]) for line in lines]
    assert len(keys) == len(set(keys)) == 6  # 2 facts x (matrice, random, oracle)
    uninterrupted = by_key(finished_run)  # the same facts come first in the seeded order of the larger run
    assert close(by_key(out), {key: uninterrupted[key] for key in keys})


def test_two_ranks_share_the_facts_and_together_equal_one_run(tmp_path, finished_run):
    opts = options(localizers=("kn",))
    for rank in (0, 1):
        run(tmp_path, opts, rank=rank, world=2)
    out = tmp_path / "run"
    rank0 = {json.loads(line)["fact_id"] for line in shard_path(out, 0).read_text().splitlines()}
    rank1 = {json.loads(line)["fact_id"] for line in shard_path(out, 1).read_text().splitlines()}
    assert rank0 and rank1 and not rank0 & rank1
    strip = lambda rs: {k: {f: x for f, x in v.items() if f != "rank"} for k, v in rs.items()}
    assert close(strip(by_key(out)), {k: v for k, v in strip(by_key(finished_run)).items() if k[1] in ("kn", "oracle")})


def test_a_folder_of_another_configuration_is_refused_and_left_untouched(tmp_path):
    out = run(tmp_path, options(localizers=("kn",), facts=1))
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    with pytest.raises(RmlLamaError, match=r"another configuration \(differs in: options.steps\)"):
        run(tmp_path, options(localizers=("kn",), facts=1, steps=5))
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


def test_layer_subset_restricts_the_neurons(tmp_path):
    out = run(tmp_path, options(localizers=("matrice", "random"), facts=1, layers=(1,)))
    for record in read_all_records(out):
        if record["localizer"] != "oracle":
            assert set(record["layers"]) <= {"1"}
        else:
            assert {n[0] for n in record["budgets"]["20"]["neurons"]["agnostic"]} == {1}


def test_holdout_languages_are_scored_but_not_localized(tmp_path):
    out = run(tmp_path, options(localizers=("matrice",), langs=("en", "fr"), holdout_langs=("fi",), facts=1,
                                min_prob=0.0))  # the Finnish answer is 3 tokens: its joint probability is < 1e-4
    record = next(r for r in read_all_records(out) if r["localizer"] == "matrice")
    assert set(record["neurons"]["per_lang"]) == {"en", "fr"}
    assert set(record["threshold"]["by_lang"]["holdout"]) == {"fi"}
    assert set(record["threshold"]["by_lang"]["own"]) <= {"en", "fr"}
    if record["fact_id"] == TARGET:
        assert record["threshold"]["holdout_suppress"] < 0


def test_report_of_a_folder_that_is_not_a_run_is_a_clear_error(tmp_path):
    with pytest.raises(RmlLamaError, match="is not an evaluation run: no config.json"):
        write_report(tmp_path)


def test_parse_layers():
    assert parse_layers("0-2,5") == (0, 1, 2, 5)
    assert parse_layers(None) is None
    with pytest.raises(RmlLamaError, match="--layers"):
        parse_layers("a-b")


# ------------------------------------------------------------------------------------------- bad input
def cli_args(tmp_path: Path, **overrides) -> argparse.Namespace:
    from rml_lama.cli import build_parser

    args = build_parser().parse_args(["evaluate", "--out", str(tmp_path / "run"), "--release",
                                      str(tmp_path / "release"), "--langs", "en,fr", "--facts", "1"])
    for key, value in overrides.items():
        setattr(args, key, value)
    return args


@pytest.fixture
def release_dir(tmp_path) -> Path:
    return write_release(records(), tmp_path / "release")


def test_unknown_localizer_is_a_clear_error(tmp_path, release_dir):
    with pytest.raises(RmlLamaError, match="unknown localizer.*'bogus'.*known: matrice"):
        cmd_evaluate(cli_args(tmp_path, localizers="matrice,bogus"))


def test_languages_not_in_the_release_are_a_clear_error(tmp_path, release_dir):
    with pytest.raises(RmlLamaError, match="language\\(s\\) ko not in the release; it has en, fr, fi"):
        cmd_evaluate(cli_args(tmp_path, langs="en,ko"))
    with pytest.raises(RmlLamaError, match="unknown language\\(s\\) xx"):
        cmd_evaluate(cli_args(tmp_path, holdout_langs="xx"))
    assert not (tmp_path / "run").exists()


def test_a_path_that_is_not_a_model_is_a_clear_error(tmp_path, release_dir):
    (tmp_path / "notamodel").mkdir()
    with pytest.raises(RmlLamaError, match="notamodel: the folder has no config.json"):
        cmd_evaluate(cli_args(tmp_path, model=str(tmp_path / "notamodel")))


def test_cli_run_on_a_saved_model_writes_results_and_report(tmp_path, release_dir):
    from rml_lama.testbeds.tiny import tiny_tokenizer

    model_dir = tmp_path / "model"
    planted_bundle().model.save_pretrained(model_dir)
    tiny_tokenizer().save_pretrained(model_dir)
    args = cli_args(tmp_path, model=str(model_dir), localizers="matrice,random", steps=2, facts=1, threads=1)
    assert cmd_evaluate(args) == 0
    out = tmp_path / "run"
    assert json.loads((out / RUN_CONFIG_FILE).read_text())["model"] == str(model_dir)
    assert len(read_all_records(out)) == 3 and (out / "report.md").is_file()  # matrice, random, oracle


def test_planted_truth_is_scored_per_localizer(tmp_path):
    # a decoy that writes nothing: any neuron of the planted layer but the plant (all other columns are zero)
    decoy = [PLANT_LAYER, PLANT_INDEX - 1]
    truth = {"plants": [{"fact_id": TARGET, "kind": "agnostic", "langs": list(LANGS),
                         "neurons": [[PLANT_LAYER, PLANT_INDEX]], "decoys": [decoy], "took": list(LANGS)[:1],
                         "effect": {lang: {"accuracy_after": 1.0 if i == 0 else 0.5} for i, lang in enumerate(LANGS)}}],
             "unrelated": {"queries": 40, "changed_predictions": 0.0, "changed_top_candidate": 0.025,
                           "silent_queries": 1.0}}
    truth_path = tmp_path / "truth.json"
    truth_path.write_text(json.dumps(truth))
    out = run(tmp_path, options(localizers=("matrice", "random"), facts=2), truth=truth, truth_path=str(truth_path))
    results = by_key(out)
    assert results[(TARGET, "matrice")]["planted"] == {
        "planted": 1, "recall": 1.0, "precision": 1.0, "decoys": 1, "decoys_avoided": 1.0,
        "recall_agnostic": 1.0, "kind_right_agnostic": 1.0, "recall_specific": None, "kind_right_specific": None}
    assert results[(TARGET, "random")]["planted"]["recall"] == 0.0
    # equal budgets: the agnostic top-1 is the plant (precision 1), the top-3 holds it among 3 (precision 1/3)
    budgets = results[(TARGET, "matrice")]["budgets"]
    assert budgets["1"]["planted"] == {"plants": 1.0, "precision": 1.0, "recall": 1.0, "kind_right": 1.0,
                                       "decoys_avoided": 1.0, "kind_right_agnostic": 1.0}
    assert budgets["3"]["planted"]["precision"] == pytest.approx(1 / 3) and budgets["3"]["planted"]["recall"] == 1.0
    assert results[(TARGET, "oracle")]["budgets"]["1"]["planted"]["recall"] == 1.0
    other = next(r for (fact, name), r in results.items() if fact != TARGET and name == "matrice")
    assert "planted" not in other and "planted" not in other["budgets"]["1"]  # only planted facts are scored
    summary = write_report(out, print_table=False)
    assert summary["localizers"]["matrice"]["metrics"]["planted_recall"]["mean"] == 1.0
    assert summary["planted"]["facts"] == 1 and summary["planted"]["budgets"]["5"]["best"] == "matrice"
    report = (out / "report.md").read_text()
    assert "planted recall" in report and "## Planted ground truth at equal budgets" in report
    assert "| 1 | oracle | 1 | 1.00 [1.00, 1.00] |" in report and "| 5 | matrice | 1 | 0.20 [0.20, 0.20] |" in report
    assert "| 1 | matrice - random |" in report
    # what was planted, from the truth the run names: one agnostic plant that took in its first language only
    assert "1 plants (1 agnostic) and 1 decoys" in report and "0 of 1 take in every language" in report
    assert "0.00% of the greedy predictions on 40 held-out queries" in report and "(top candidate: 2.50%)" in report
    row = "| agnostic | 1 | " + " | ".join(["1.00 (1/1)"] + ["0.50 (0/1)"] * (len(LANGS) - 1)) + " |"
    assert row in report and report.index("## The planted model") < report.index("## Planted ground truth")


def test_a_decoy_catches_the_activation_localizer_but_not_kn(tmp_path):
    # the decoy fires exactly as the plant does on the target's queries and writes nothing
    truth = {"plants": [{"fact_id": TARGET, "kind": "agnostic", "langs": list(LANGS),
                         "neurons": [[PLANT_LAYER, PLANT_INDEX]], "decoys": [[PLANT_LAYER, DECOY_INDEX]]}]}
    results = by_key(run(tmp_path, options(localizers=("kn", "activation"), facts=2), bundle=decoy_bundle(), truth=truth))
    kn, activation = results[(TARGET, "kn")], results[(TARGET, "activation")]
    assert kn["planted"]["recall"] == 1.0 and kn["planted"]["decoys_avoided"] == 1.0
    assert activation["planted"]["recall"] == 1.0 and activation["planted"]["decoys_avoided"] == 0.0
    for k in ("1", "3", "5"):
        assert kn["budgets"][k]["planted"]["recall"] == 1.0 and kn["budgets"][k]["planted"]["decoys_avoided"] == 1.0
    # the plant and its decoy tie for the top: the tie goes to the lower index at k = 1, the decoy is in from k = 2
    assert activation["budgets"]["1"]["planted"]["recall"] == 1.0
    for k in ("3", "5"):
        assert activation["budgets"][k]["planted"]["recall"] == 1.0
        assert activation["budgets"][k]["planted"]["decoys_avoided"] == 0.0


@pytest.mark.parametrize("family", ["gpt2", "llama"])
def test_causal_models_are_evaluated_on_object_final_queries(tmp_path, family):
    bundle = tiny_bundle(family, layers=2, hidden=32, d_ff=48, seed=0)
    opts = options(localizers=("matrice", "amig", "kn", "random"), facts=2, steps=2)
    out = tmp_path / "run"
    run_evaluation(bundle, records_frame(records()), opts, out, run_config(opts, family, "test-release", None),
                   progress=False)
    results = read_all_records(out)
    results = [r for r in results if r["localizer"] != "oracle"]
    assert len(results) == 2 * 4
    assert all(record["threshold"]["accuracy"]["before"] is not None for record in results)
    assert all(set(record["counts"]["per_lang"]) == set(LANGS) for record in results)


def test_left_to_right_models_get_only_object_final_queries():
    from rml_lama.evaluation.sampling import group_facts

    object_final = {r.query for r in records() if r.object_final}
    grouped = group_facts(records_frame(records()), LANGS, None, object_final_only=True)
    asked = {query for fact in grouped.values() for pairs in fact.by_lang.values() for query, _ in pairs}
    assert asked == object_final and len(asked) < len(records())
    target = grouped[TARGET].by_lang
    assert {lang: len(pairs) for lang, pairs in target.items()} == {"en": 2, "fr": 2, "fi": 1}


def test_an_english_only_plant_is_told_apart_from_the_agnostic_one(tmp_path):
    truth = {"plants": [
        {"fact_id": TARGET, "kind": "agnostic", "langs": list(LANGS), "neurons": [[PLANT_LAYER, PLANT_INDEX]]},
        {"fact_id": TARGET, "kind": "specific", "langs": ["en"], "neurons": [[PLANT_LAYER, SPECIFIC_INDEX]]},
    ]}
    names = ("matrice", "matrice-zero", "amig", "kn")
    # in-sample (all rephrasings localize): with one English query per half, the English-only neuron dominates
    # it and the shared one drops below threshold in English, as it does for AMIG's single query (below)
    out = run(tmp_path, options(localizers=names, facts=1, heldout=False), bundle=two_plant_bundle(), truth=truth)
    results = by_key(out)
    for name in ("matrice-zero", "kn"):
        planted = results[(TARGET, name)]["planted"]
        neurons = results[(TARGET, name)]["neurons"]
        assert planted["recall"] == 1.0, (name, neurons)
        assert planted["kind_right_agnostic"] == 1.0 and planted["kind_right_specific"] == 1.0, (name, neurons)
        assert neurons["agnostic"] == [[PLANT_LAYER, PLANT_INDEX]], name
        assert neurons["specific"] == {"en": [[PLANT_LAYER, SPECIFIC_INDEX]], "fr": [], "fi": []}, name
    # MATRICE's default AMIG-style baseline finds both neurons, but the masked inputs of its baseline also
    # activate the shared plant, so in English (where the specific plant dominates) it falls below threshold
    # and is not labelled agnostic: measured here, not hidden
    assert results[(TARGET, "matrice")]["planted"]["recall"] == 1.0
    assert results[(TARGET, "matrice")]["neurons"]["specific"]["en"] == [[PLANT_LAYER, SPECIFIC_INDEX]]
    # AMIG finds both neurons but reads one English query with a 0.3 x max threshold: where the English-only
    # neuron dominates that query, the shared one drops out of the English set and so out of the intersection.
    assert results[(TARGET, "amig")]["planted"]["recall"] == 1.0
