"""The main job end to end (slow: builds the full release): every step succeeds and leaves its outputs."""
import json

import pytest

from rml_lama.cli import main


@pytest.mark.slow
def test_pipeline_builds_validates_evaluates_and_reports(tmp_path):
    assert main(["pipeline", "--out", str(tmp_path), "--facts", "2", "--max-rephrasings", "2"]) == 0
    stats = json.loads((tmp_path / "rml-lama" / "stats.json").read_text())
    assert stats["facts_parallel_core"] >= 7849
    validation = json.loads((tmp_path / "validation" / "validation_report.json").read_text())
    assert validation["passed"] is True and validation["errors"] == []
    results = tmp_path / "results"
    from rml_lama.evaluation.store import read_all_records

    assert len(read_all_records(results)) == 2 * (4 + 1)  # 2 facts x (4 localizers + the oracle), 2 workers
    summary = json.loads((results / "summary.json").read_text())
    assert {"matrice", "amig", "kn", "random"} <= set(json.dumps(summary).split('"'))
    assert {"interventions.png", "language_overlap.png", "layers.png"} <= {p.name for p in results.glob("*.png")}
