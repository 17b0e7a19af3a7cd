"""The release committed inside the package: its card, its figures, and that users can load it."""
from pathlib import Path

import rml_lama
from rml_lama.dataset.release import CARD_FILE, SHIPPED_RELEASE, read_stats
from rml_lama.schema import CORE_LANGUAGES, F

ROOT = Path(__file__).resolve().parent.parent


def test_dataset_card_is_the_card_of_the_shipped_release():
    assert (ROOT / "dataset_card.md").read_text(encoding="utf-8") == (SHIPPED_RELEASE / CARD_FILE).read_text(
        encoding="utf-8"
    ), "run scripts/build_release.py and commit dataset_card.md"


def test_shipped_release_meets_the_published_size():
    stats = read_stats()
    assert stats["core_languages"] == list(CORE_LANGUAGES)
    assert stats["facts_parallel_core"] >= 7849
    assert stats["queries_core_total"] >= 170_000
    for lang in CORE_LANGUAGES:
        assert stats["rephrasings_min"][lang] >= 2
        assert stats["rephrasings_mean"][lang] >= 4
        assert stats["coverage_of_core_facts"][lang] == 1.0
        assert stats["object_final_fact_coverage"][lang] == 1.0


def test_load_gives_the_shipped_rows_without_a_path(monkeypatch, tmp_path):
    monkeypatch.setenv("HF_DATASETS_CACHE", str(tmp_path))
    row = rml_lama.load("ja", split="validation")[0]
    assert row[F.LANG] == "ja" and "[MASK]" in row[F.QUERY]
