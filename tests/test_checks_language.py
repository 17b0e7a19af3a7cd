"""validate-language on a small release: a good proposal passes and --add-to writes a valid release with the
new config; a bad one fails and writes nothing; the card's figures agree with the validation report."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from rml_lama.checks.proposal import check_proposal
from rml_lama.checks.runner import validate_release
from rml_lama.cli import main
from rml_lama.dataset.release import SHIPPED_RELEASE, read_release, read_stats, write_release
from rml_lama.schema import LANGUAGES, F
from tests.support.checks_data import clean_records

DE_PATTERNS = ["Die Hauptstadt von [X] ist [Y]", "[Y] ist die Hauptstadt von [X]",
               "Die Regierung von [X] hat ihren Sitz in der Hauptstadt [Y]"]
DE_FACTS = [("Q142", "Q90", "Frankreich", "Paris"), ("Q183", "Q64", "Deutschland", "Berlin"),
            ("Q30", "Q61", "Vereinigte Staaten", "Washington")]  # the third is not a fact of the release
SV_PATTERNS = ["Huvudstaden i [X] är [Y]", "[Y] är huvudstaden i [X]"]
SV_FACTS = [("Q142", "Q90", "Frankrike", "Paris"), ("Q183", "Q64", "Tyskland", "Berlin")]


def write_proposal(root: Path, patterns, facts) -> tuple[Path, Path]:
    templates, fact_dir = root / "templates", root / "facts"
    templates.mkdir(parents=True)
    fact_dir.mkdir(parents=True)
    (templates / "P36.jsonl").write_text("".join(
        json.dumps({"pattern": p, "checked-by-human": True}, ensure_ascii=False) + "\n" for p in patterns))
    (fact_dir / "P36.jsonl").write_text("".join(
        json.dumps({"sub_uri": s, "obj_uri": o, "sub_label": sl, "obj_label": ol, "lineid": i},
                   ensure_ascii=False) + "\n" for i, (s, o, sl, ol) in enumerate(facts)))
    return templates, fact_dir


@pytest.fixture(scope="module")
def release(tmp_path_factory) -> Path:
    return write_release(clean_records(), tmp_path_factory.mktemp("release") / "rel")


def test_good_proposal_passes_and_add_to_writes_a_valid_release(release, tmp_path, capsys):
    templates, facts = write_proposal(tmp_path, DE_PATTERNS, DE_FACTS)
    out = tmp_path / "with-de"
    code = main(["validate-language", "--lang", "de", "--templates", str(templates), "--facts", str(facts),
                 "--release", str(release), "--report-dir", str(tmp_path / "report"), "--add-to", str(out)])
    printed = capsys.readouterr().out
    assert code == 0, printed
    report = json.loads((tmp_path / "report" / "validation_report.json").read_text())
    assert report["passed"] and report["figures"]["queries"] == {"de": 6}
    assert {c["name"] for c in report["checks"]} >= {"relations-covered", "core-coverage", "language-id"}
    de = read_release(out, langs=["de"])
    assert sorted(de[F.QUERY]) == sorted([
        "Die Hauptstadt von Deutschland ist [MASK].", "Die Hauptstadt von Frankreich ist [MASK].",
        "Die Regierung von Deutschland hat ihren Sitz in der Hauptstadt [MASK].",
        "Die Regierung von Frankreich hat ihren Sitz in der Hauptstadt [MASK].",
        "[MASK] ist die Hauptstadt von Deutschland.", "[MASK] ist die Hauptstadt von Frankreich."])
    assert read_stats(out)["queries"]["de"] == 6 and "de" not in read_stats(release)["queries"]
    assert validate_release(out, workers=1, cache_dir=tmp_path / "cache").passed


def test_proposal_without_core_facts_fails_and_writes_nothing(release, tmp_path, capsys):
    templates, facts = write_proposal(tmp_path, DE_PATTERNS, DE_FACTS[2:])
    out = tmp_path / "with-de"
    code = main(["validate-language", "--lang", "de", "--templates", str(templates), "--facts", str(facts),
                 "--release", str(release), "--report-dir", str(tmp_path / "report"), "--add-to", str(out)])
    printed = capsys.readouterr().out
    assert code == 1 and "core-coverage" in printed and "not written" in printed
    assert not out.exists()


def test_a_language_schema_does_not_know_is_checked_with_its_expectations(release, tmp_path):
    templates, facts = write_proposal(tmp_path, SV_PATTERNS, SV_FACTS)
    report, proposal = check_proposal("sv", templates, facts, release, workers=1, cache_dir=tmp_path / "c")
    assert report.passed, [r.to_json() for r in report.results if not r.passed]
    assert sorted(proposal.frame[F.QUERY])[:2] == ["Huvudstaden i Frankrike är [MASK].",
                                                  "Huvudstaden i Tyskland är [MASK]."]
    assert "sv" not in LANGUAGES  # registered only while the proposal is generated and checked
    relations = next(r for r in report.results if r.name == "relations-covered")
    assert relations.passed and relations.metric == {"sv": 1.0}


def test_card_and_stats_agree_with_the_validation_report(release, tmp_path):
    report = validate_release(release, workers=1, cache_dir=tmp_path / "cache")
    stats = read_stats(release)
    for key in ("queries", "facts_parallel_core", "queries_core_total", "queries_total"):
        assert report.figures[key] == stats[key], key
    card = (release / "README.md").read_text(encoding="utf-8")
    assert f"**{report.figures['facts_parallel_core']:,} facts**" in card
    assert f"**{report.figures['queries_core_total']:,} queries**" in card


COMMITTED_REPORT = Path(__file__).resolve().parents[1] / "validation" / "validation_report.json"


def test_committed_report_is_of_the_shipped_release_and_agrees_with_its_card():
    report = json.loads(COMMITTED_REPORT.read_text(encoding="utf-8"))
    stats = read_stats(SHIPPED_RELEASE)
    assert report["provenance"]["release_checksum"] == stats["checksum"]
    for key in ("queries", "facts_parallel_core", "queries_core_total", "queries_total"):
        assert report["figures"][key] == stats[key], key
    card = (SHIPPED_RELEASE / "README.md").read_text(encoding="utf-8")
    assert f"**{stats['facts_parallel_core']:,} facts**" in card
