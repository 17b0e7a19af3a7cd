"""The `release-card` check (issue 14): a missing or broken dataset card fails `validate` (error level), and the
card of a built release passes, including the bare `load_dataset(path)` that its default config serves."""
from __future__ import annotations

import re

import pytest

from rml_lama.checks.runner import validate_release
from rml_lama.cli import main
from rml_lama.dataset.release import write_release
from rml_lama.schema import split_of
from tests.support.checks_data import clean_records
from tests.support.disk_state import snapshot


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    return write_release(clean_records(), tmp_path_factory.mktemp("card") / "rel")


@pytest.fixture
def release(built, tmp_path):
    import shutil

    return shutil.copytree(built, tmp_path / "rel")


def card_result(folder, tmp_path):
    report = validate_release(folder, workers=1, cache_dir=tmp_path / "cache")
    failed = {r.name for r in report.results if not r.passed}
    return failed, next(r for r in report.results if r.name == "release-card")


def edit_card(folder, old, new, count=1):
    card = folder / "README.md"
    text = card.read_text()
    assert old in text
    card.write_text(text.replace(old, new, count))


DEFECTS = {  # name: (edit of the release, a fragment of the check's message)
    "no-card": (lambda f: (f / "README.md").unlink(), "no README.md (dataset card)"),
    "broken-yaml": (lambda f: edit_card(f, "configs:\n", "configs:\n  - config_name: [unclosed\n"),
                    "YAML does not parse at line"),
    "no-yaml": (lambda f: edit_card(f, "---\n", "", 2), "does not start with a YAML block"),
    "missing-file": (lambda f: edit_card(f, "data/fr/test-*.parquet", "data/frr/test-*.parquet"),
                     "'data/frr/test-*.parquet' matches no file"),
    "no-default": (lambda f: edit_card(f, "  default: true\n", ""), "0 configs marked `default: true`"),
    "bad-split-name": (lambda f: edit_card(f, "- split: test\n", "- split: te st\n"),
                       "`datasets` cannot read the metadata"),
    "wrong-size": (lambda f: edit_card(f, "num_examples: ", "num_examples: 1"), "the card says 1"),
}


def test_the_card_of_a_built_release_passes(built, tmp_path):
    failed, result = card_result(built, tmp_path)
    assert failed == set() and result.passed


@pytest.mark.parametrize("defect", sorted(DEFECTS))
def test_a_planted_card_defect_fails_exactly_the_card_check(release, tmp_path, defect):
    edit, fragment = DEFECTS[defect]
    edit(release)
    failed, result = card_result(release, tmp_path)
    assert failed == {"release-card"} and result.severity == "error"
    assert fragment in result.message, result.message


def test_validate_on_a_broken_card_exits_1_names_the_problem_and_changes_nothing(release, tmp_path, capsys,
                                                                                  monkeypatch):
    monkeypatch.setenv("RML_LAMA_CACHE", str(tmp_path / "cache"))
    edit_card(release, "configs:\n", "configs:\n  - config_name: [unclosed\n")
    before = snapshot(release)
    assert main(["validate", str(release), "--report-dir", str(tmp_path / "reports")]) == 1
    out = capsys.readouterr().out
    assert re.search(r"release-card.*YAML does not parse at line \d+", out), out
    assert snapshot(release) == before


def test_a_bare_load_dataset_of_a_release_loads_the_default_config_offline(built, tmp_path, monkeypatch):
    datasets = pytest.importorskip("datasets")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_DATASETS_CACHE", str(tmp_path / "cache"))
    monkeypatch.chdir(built.parent)
    loaded = datasets.load_dataset("rel")  # exactly the README's call: no config name
    records = clean_records()
    sizes = {split: sum(split_of(r.fact_id) == split for r in records) for split in ("validation", "test")}
    assert {name: len(split) for name, split in loaded.items()} == {s: n for s, n in sizes.items() if n}
    assert sum(sizes.values()) == len(records) == 70  # every row of every language: the `all` config
    assert set(loaded["test"]["lang"]) == {r.lang for r in records}
