"""Readers of the vendored sources and of user folders: typed rows, checksums, one clear error per bad line."""
from __future__ import annotations

import gzip
import hashlib
import json
from pathlib import Path

import pytest

from rml_lama.dataset.sources import (
    MLAMA_DIR,
    MPARAREL_PATTERNS_DIR,
    MPARAREL_TUPLES_DIR,
    QLOC_DIR,
    Fact,
    SourceSet,
    read_fact_dir,
    read_template_dir,
)
from rml_lama.errors import InputError

FACT = {"sub_uri": "Q142", "obj_uri": "Q90", "sub_label": "France", "obj_label": "Paris", "lineid": 7,
        "uuid": "u-1"}


def jsonl(rows) -> str:
    return "".join((row if isinstance(row, str) else json.dumps(row, ensure_ascii=False)) + "\n" for row in rows)


def write_source(root: Path, rel: str, text: str, sums: dict, compress: bool = True) -> Path:
    data = text.encode("utf-8")
    sums[rel] = hashlib.sha256(data).hexdigest()
    path = root / (rel + ".gz" if compress else rel)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress(data, mtime=0) if compress else data)
    return path


def write_sums(root: Path, sums: dict) -> None:
    (root / "SHA256SUMS").write_text("".join(f"{d}  {rel}\n" for rel, d in sorted(sums.items())))


@pytest.fixture
def tiny_sources(tmp_path: Path) -> Path:
    sums: dict = {}
    write_source(tmp_path, f"{MLAMA_DIR}/en/P36.jsonl", jsonl([FACT]), sums)
    write_source(tmp_path, f"{MLAMA_DIR}/en/templates.jsonl",
                 jsonl([{"relation": "P36", "template": "The capital of [X] is [Y] ."}]), sums)
    write_source(tmp_path, f"{MPARAREL_PATTERNS_DIR}/zh-hans/P36.jsonl",
                 jsonl([{"pattern": "[X]的首都是[Y]", "checked-by-human": True}]), sums, compress=False)
    write_source(tmp_path, f"{MPARAREL_TUPLES_DIR}/zh-hans/P36.jsonl",
                 jsonl([{k: v for k, v in FACT.items() if k != "uuid"} | {"obj_label": "巴黎"}]), sums)
    for qloc, rows in {"en_fr/en": ["[X]'s capital is [Y].", "The capital of [X] is [Y]."],
                       "en_fr/fr": ["La capitale de [X] est [Y].", "[X] a pour capitale [Y]."],
                       "ja_ko/ja": ["[X]の首都は[Y]です。"]}.items():
        write_source(tmp_path, f"{QLOC_DIR}/{qloc}/final_template.jsonl",
                     jsonl([{"relation": "P36", "pattern": p} for p in rows]), sums)
    write_sums(tmp_path, sums)
    return tmp_path


def test_source_set_reads_typed_rows(tiny_sources: Path) -> None:
    sources = SourceSet(tiny_sources)
    assert sources.facts("en") == [Fact("P36", "Q142", "Q90", "France", "Paris", 7, "u-1")]
    assert sources.facts("en")[0].key == ("P36", "Q142", "Q90")
    assert sources.zh_hans_facts()[0].obj_label == "巴黎" and sources.zh_hans_facts()[0].uuid is None
    assert [t.pattern for t in sources.mlama_templates("en")] == ["The capital of [X] is [Y] ."]
    # "zh" maps to mParaRel's zh-hans; an uncompressed file is read too
    [zh] = sources.mpararel_templates("zh")
    assert (zh.relation, zh.pattern, zh.checked_by_human) == ("P36", "[X]的首都是[Y]", True)
    assert sources.mpararel_templates("fi") == []
    assert sources.verify() == 7


def test_qloc_alignment_only_where_counts_match_english(tiny_sources: Path) -> None:
    sources = SourceSet(tiny_sources)
    assert [t.aligned_index for t in sources.qloc_templates("fr")] == [0, 1]
    assert [t.aligned_index for t in sources.qloc_templates("en")] == [0, 1]
    assert [t.aligned_index for t in sources.qloc_templates("ja")] == [None]  # 1 line vs 2 in English
    assert sources.qloc_templates("zh") == []


def test_checksum_mismatch_names_the_file(tiny_sources: Path) -> None:
    path = tiny_sources / f"{MLAMA_DIR}/en/P36.jsonl.gz"
    path.write_bytes(gzip.compress(jsonl([FACT | {"obj_label": "Lyon"}]).encode(), mtime=0))
    with pytest.raises(InputError, match="sha256 mismatch") as info:
        SourceSet(tiny_sources).facts("en")
    assert info.value.path == path
    assert SourceSet(tiny_sources, verify_checksums=False).facts("en")[0].obj_label == "Lyon"


def test_file_missing_from_checksums_is_an_error(tiny_sources: Path) -> None:
    sums_path = tiny_sources / "SHA256SUMS"
    sums_path.write_text("".join(line + "\n" for line in sums_path.read_text().splitlines() if "en/P36" not in line))
    with pytest.raises(InputError, match="not listed in"):
        SourceSet(tiny_sources).facts("en")


@pytest.mark.parametrize(
    "line, field, message",
    [
        ('{"sub_uri": "Q1", oops}', None, "invalid JSON"),
        ("[1, 2]", None, "expected a JSON object"),
        (json.dumps({k: v for k, v in FACT.items() if k != "obj_label"}), "obj_label", "missing field"),
        (json.dumps(FACT | {"lineid": "7"}), "lineid", "expected an integer"),
        (json.dumps(FACT | {"lineid": True}), "lineid", "expected an integer"),
        (json.dumps(FACT | {"sub_label": 3}), "sub_label", "expected a string"),
        (json.dumps(FACT | {"sub_label": "  "}), "sub_label", "empty string"),
        (json.dumps(FACT | {"uuid": None}), "uuid", "expected a string"),
    ],
)
def test_bad_fact_line_names_file_line_and_field(tmp_path: Path, line: str, field, message: str) -> None:
    path = tmp_path / "P36.jsonl"
    path.write_text(jsonl([FACT, line]))
    with pytest.raises(InputError, match=message) as info:
        read_fact_dir(tmp_path)
    error = info.value
    assert (error.path, error.line, error.field) == (path, 2, field)
    assert str(error).startswith(f"{path}:2")


def test_bad_utf8_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "P36.jsonl"
    path.write_bytes(jsonl([FACT]).encode() + b'{"sub_uri": "\xff"}\n')
    with pytest.raises(InputError, match="not valid UTF-8") as info:
        read_fact_dir(tmp_path)
    assert info.value.line == 2


def test_template_dir_reads_patterns_and_rejects_bad_ones(tmp_path: Path) -> None:
    (tmp_path / "P36.jsonl").write_text(jsonl([{"pattern": "[X]s huvudstad är [Y]", "checked-by-human": True},
                                               {"pattern": "[Y] är huvudstaden i [X]"}]))
    (tmp_path / "P19.jsonl.gz").write_bytes(gzip.compress(jsonl([{"pattern": "[X] föddes i [Y]"}]).encode()))
    (tmp_path / "notes.txt").write_text("ignored")
    templates = read_template_dir(tmp_path)
    assert list(templates) == ["P19", "P36"]
    assert [(t.pattern, t.checked_by_human) for t in templates["P36"]] == [
        ("[X]s huvudstad är [Y]", True), ("[Y] är huvudstaden i [X]", False)]
    (tmp_path / "P36.jsonl").write_text(jsonl([{"pattern": "[X] i [Y]", "checked-by-human": "yes"}]))
    with pytest.raises(InputError, match="expected true or false") as info:
        read_template_dir(tmp_path)
    assert (info.value.line, info.value.field) == (1, "checked-by-human")


def test_unknown_relation_file_and_empty_folder(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no P"):
        read_template_dir(tmp_path)
    (tmp_path / "P9999.jsonl").write_text(jsonl([{"pattern": "[X] [Y]"}]))
    with pytest.raises(InputError, match="unknown relation P9999"):
        read_template_dir(tmp_path)
    with pytest.raises(InputError, match="not a folder"):
        read_fact_dir(tmp_path / "absent")


def test_shipped_sources_verify_and_hold_the_expected_counts() -> None:
    sources = SourceSet()
    assert len(sources.facts("en")) == 33981  # the sources README's count
    assert len(sources.zh_hans_facts()) == 10697
    assert len(sources.mlama_templates("sv")) == 49
    assert sources.fact_languages() == sorted(["en", "fr", "fi", "hu", "ja", "ko", "zh", "de", "es", "ru", "ar", "hi"])
