"""Loading a model: a checkpoint without some weights (its LM head) is an error naming them; a path-like
--model that does not exist is a one-line error at once, never a Hub lookup (issue 14)."""
from __future__ import annotations

import time

import pytest

from rml_lama.cli import main
from rml_lama.errors import RmlLamaError
from rml_lama.models import load_model
from rml_lama.models.bundle import check_model_path, looks_like_path
from tests.support.checkpoints import save_without
from tests.support.disk_state import snapshot


@pytest.mark.parametrize("family, prefix", [("xlm-roberta", "lm_head."), ("llama", "lm_head."),
                                            ("llama", "model.layers.1.mlp.")])
def test_a_checkpoint_missing_weights_is_an_error_naming_them(tmp_path, family, prefix):
    dropped = save_without(tmp_path / "headless", family, prefix)
    with pytest.raises(RmlLamaError) as error:
        load_model(tmp_path / "headless", device="cpu")
    message = str(error.value)
    assert "\n" not in message and "missing from the checkpoint" in message
    assert dropped[0] in message


def test_plant_on_a_headless_model_exits_2_with_one_line_and_writes_nothing(tmp_path, capsys):
    save_without(tmp_path / "headless", "xlm-roberta", "lm_head.")
    before = snapshot(tmp_path)
    capsys.readouterr()
    assert main(["plant", "--model", str(tmp_path / "headless"), "--out", str(tmp_path / "planted")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "lm_head.dense.weight" in err, err
    assert snapshot(tmp_path) == before


@pytest.mark.parametrize("name, pathlike", [
    ("models/plantd", True), ("./plantd", True), ("../x/y", True), ("/no/such/model", True), ("~/m", True),
    ("a/b/c", True), ("gpt2", False), ("HuggingFaceTB/SmolLM2-135M", False),
])
def test_what_counts_as_a_path(tmp_path, monkeypatch, name, pathlike):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "models").mkdir()
    assert looks_like_path(name) is pathlike


def test_a_path_like_model_that_does_not_exist_fails_at_once(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "models").mkdir()
    (tmp_path / "weights.bin").write_bytes(b"\0")
    for name, expected in [("models/plantd", "no such folder"), ("weights.bin", "a file, not a model folder"),
                           ("models", "has no config.json")]:
        started = time.perf_counter()
        with pytest.raises(RmlLamaError, match=expected):
            check_model_path(name)
        with pytest.raises(RmlLamaError, match=expected):
            load_model(name)
        assert time.perf_counter() - started < 5  # no Hub lookup, no retries


def test_converted_models_are_cached_under_the_variable_that_moves_the_cache(tmp_path, monkeypatch):
    from rml_lama.paths import CACHE_ENV
    from rml_lama.testbeds.pretrained import cache_root

    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "cache"))
    assert cache_root() == tmp_path / "cache"
    assert cache_root(tmp_path / "given") == tmp_path / "given"
