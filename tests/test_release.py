import json
import os

import pytest

from rml_lama.dataset import release
from rml_lama.errors import RmlLamaError
from rml_lama.schema import F, split_of


@pytest.fixture()
def tiny_release(tmp_path, tiny_release_records):
    return release.write_release(tiny_release_records, tmp_path / "rml-lama", {"rejected": {"ja": {"slot-count": 2}}})


def test_stats_are_counted_from_the_rows(tiny_release):
    stats = json.loads((tiny_release / "stats.json").read_text())
    assert stats["languages"] == ["en", "fr", "ja"]
    assert stats["core_languages"] == ["en", "fr", "ja"]
    assert stats["facts_parallel_core"] == 4
    assert stats["queries"] == {"en": 8, "fr": 8, "ja": 8}
    assert stats["queries_core_total"] == 24
    assert stats["splits"]["validation"]["facts_parallel_core"] == 1  # P36:Q159:Q649 (Russia)
    assert stats["rephrasings_min"] == {"en": 2, "fr": 2, "ja": 2}
    # en: every fact has an object-final template; ja: "[X]の首都は[Y]です。" only for P36 facts (3 of 4)
    assert stats["object_final_fact_coverage"]["en"] == 1.0
    assert stats["object_final_fact_coverage"]["ja"] == 0.75


def test_splits_follow_the_fact_id(tiny_release):
    frame = release.read_release(tiny_release)
    assert len(frame) == 24
    for fact_id, split in zip(frame[F.FACT_ID], frame["split"]):
        assert split == split_of(fact_id)


def test_two_builds_are_byte_identical(tmp_path, tiny_release_records):
    first = release.write_release(tiny_release_records, tmp_path / "a")
    second = release.write_release(tiny_release_records[::-1], tmp_path / "b")
    files = sorted(p.relative_to(first) for p in first.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(second) for p in second.rglob("*") if p.is_file())
    for name in files:
        assert (first / name).read_bytes() == (second / name).read_bytes(), name


def test_card_declares_one_config_per_language_plus_all(tiny_release):
    card = (tiny_release / "README.md").read_text()
    header = card.split("---")[1]
    for config in ("en", "fr", "ja", "all"):
        assert f"config_name: {config}" in header
    assert "license: cc-by-nc-4.0" in header
    assert "| `ja` | Japanese |" in card
    assert "| ja / slot-count | 2 |" in card


def test_load_dataset_reads_configs_offline(tiny_release, monkeypatch, tmp_path, tiny_release_records):
    datasets = pytest.importorskip("datasets")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_DATASETS_CACHE", str(tmp_path / "cache"))
    by_path = datasets.load_dataset(str(tiny_release), "fr")
    assert set(by_path) == {"validation", "test"}
    assert [len(by_path["validation"]), len(by_path["test"])] == [2, 6]
    assert set(by_path["test"][F.LANG]) <= {"fr"}
    monkeypatch.chdir(tiny_release.parent)
    by_name = datasets.load_dataset("rml-lama", "all", split="test")
    assert len(by_name) == sum(split_of(r.fact_id) == "test" for r in tiny_release_records)


def test_a_failed_write_leaves_the_old_release_untouched(tiny_release, monkeypatch, tiny_release_records):
    before = (tiny_release / "stats.json").read_bytes()

    def explode(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(release, "render_card", explode)
    with pytest.raises(RuntimeError, match="disk full"):
        release.write_release(tiny_release_records, tiny_release)
    assert (tiny_release / "stats.json").read_bytes() == before
    assert not [p for p in tiny_release.parent.iterdir() if p.name.startswith(".")]


def test_reading_a_folder_that_is_no_release_is_a_clear_error(tmp_path):
    with pytest.raises(RmlLamaError, match="not an RML-LAMA release"):
        release.read_release(tmp_path)
    os.makedirs(tmp_path / "data")
    (tmp_path / "stats.json").write_text("{}")
    with pytest.raises(RmlLamaError, match="no config for de"):
        release.read_release(tmp_path, langs=["de"])
