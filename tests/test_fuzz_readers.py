"""Readers and validators survive garbage: empty files, binary data, truncated JSON, wrong encodings, huge
lines. Each gives one clear error (RmlLamaError / InputError; exit 2 from the CLI), never a traceback."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rml_lama.checks.expectations import load_expectations
from rml_lama.cli import main
from rml_lama.dataset.release import parquet_path, write_release
from rml_lama.dataset.sources import read_fact_dir, read_template_dir
from rml_lama.errors import InputError, RmlLamaError
from tests.support.checks_data import clean_records

FUZZ = settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

GOOD_TEMPLATE = '{"pattern": "[X] is the capital of [Y]", "checked-by-human": false}\n'
GOOD_FACT = '{"sub_uri": "Q142", "obj_uri": "Q90", "sub_label": "Ranska", "obj_label": "Pariisi", "lineid": 0}\n'
GARBAGE = {
    "empty": b"",
    "binary": bytes(range(256)) * 4,
    "truncated-json": GOOD_TEMPLATE.encode()[:25],
    "latin-1": '{"pattern": "[X] est née à [Y]", "sub_label": "Québec"}\n'.encode("latin-1"),
    "utf-16": GOOD_TEMPLATE.encode("utf-16"),
    "huge-line": b'{"pattern": "' + b"a" * 3_000_000,
    "not-an-object": b"[1, 2, 3]\n",
    "null-bytes": b"\x00" * 1000,
}
lines = st.one_of(
    st.binary(max_size=300),
    st.text(max_size=200).map(lambda t: t.encode("utf-8")),
    st.sampled_from([GOOD_TEMPLATE, GOOD_FACT]).flatmap(
        lambda good: st.integers(0, len(good)).map(lambda n: good.encode()[:n])),
    st.dictionaries(st.sampled_from(["pattern", "checked-by-human", "sub_uri", "obj_uri", "sub_label",
                                     "obj_label", "lineid", "uuid"]),
                    st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=20)))
    .map(lambda d: json.dumps(d).encode()),
)


def _non_blank_lines(data: bytes) -> int:
    return sum(1 for line in data.decode("utf-8").splitlines() if line.strip())


def _write(folder: Path, name: str, data: bytes) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(data)
    return folder


@FUZZ
@given(st.lists(lines, max_size=6))
def test_template_reader_returns_or_raises_input_error(tmp_path_factory, chunks):
    data = b"\n".join(chunks)
    folder = _write(tmp_path_factory.mktemp("t"), "P36.jsonl", data)
    try:
        templates = read_template_dir(folder)
    except InputError as error:
        assert "P36.jsonl" in str(error) and "\n" not in str(error)
    else:  # returned: then every non-blank line was a template, and none was dropped
        assert len(templates.get("P36", [])) == _non_blank_lines(data)


@FUZZ
@given(st.lists(lines, max_size=6))
def test_fact_reader_returns_or_raises_input_error(tmp_path_factory, chunks):
    data = b"\n".join(chunks)
    folder = _write(tmp_path_factory.mktemp("f"), "P36.jsonl", data)
    try:
        facts = read_fact_dir(folder)
    except InputError as error:
        assert "P36.jsonl" in str(error) and "\n" not in str(error)
    else:  # returned: then every non-blank line was a fact, and none was dropped
        assert len(facts) == _non_blank_lines(data)


def test_the_readers_return_every_good_line(tmp_path):
    templates = _write(tmp_path / "t", "P36.jsonl", (GOOD_TEMPLATE * 3).encode())
    facts = _write(tmp_path / "f", "P36.jsonl", (GOOD_FACT * 2).encode())
    assert [t.pattern for t in read_template_dir(templates)["P36"]] == ["[X] is the capital of [Y]"] * 3
    assert [(f.sub_label, f.obj_label) for f in read_fact_dir(facts)] == [("Ranska", "Pariisi")] * 2


@FUZZ
@given(st.one_of(st.binary(max_size=200), st.text(max_size=200).map(str.encode),
                 st.recursive(st.one_of(st.none(), st.integers(), st.text(max_size=5)),
                              lambda inner: st.dictionaries(st.text(max_size=8), inner, max_size=4)
                              | st.lists(inner, max_size=3), max_leaves=8).map(lambda v: json.dumps(v).encode())))
def test_expectations_reader_returns_or_raises_a_clear_error(tmp_path_factory, data):
    path = tmp_path_factory.mktemp("e") / "languages.json"
    path.write_bytes(data)
    try:
        load_expectations(path)
    except RmlLamaError as error:
        assert "\n" not in str(error)


@pytest.fixture(scope="module")
def release(tmp_path_factory) -> Path:
    return write_release(clean_records(), tmp_path_factory.mktemp("release") / "rel")


@pytest.mark.parametrize("kind", sorted(GARBAGE))
@pytest.mark.parametrize("target", ["stats.json", "parquet"])
def test_validate_on_a_corrupted_release_is_one_clear_error(release, tmp_path, kind, target, capsys):
    import shutil

    copy = Path(shutil.copytree(release, tmp_path / "rel"))
    path = copy / ("stats.json" if target == "stats.json" else parquet_path("ja", "test"))
    path.write_bytes(GARBAGE[kind])
    code = main(["validate", str(copy), "--report-dir", str(tmp_path / "reports")])
    err = capsys.readouterr().err.strip()
    assert code == 2, err
    assert err.startswith("rml-lama validate: error:") and "\n" not in err and "Traceback" not in err


@pytest.mark.parametrize("kind", sorted(GARBAGE))
@pytest.mark.parametrize("which", ["templates", "facts"])
def test_validate_language_on_garbage_input_is_one_clear_error(release, tmp_path, kind, which, capsys):
    good = {"templates": GOOD_TEMPLATE, "facts": GOOD_FACT}
    folders = {name: _write(tmp_path / name, "P36.jsonl", GARBAGE[kind] if name == which else text.encode())
               for name, text in good.items()}
    code = main(["validate-language", "--lang", "de", "--templates", str(folders["templates"]),
                 "--facts", str(folders["facts"]), "--release", str(release),
                 "--report-dir", str(tmp_path / "reports")])
    err = capsys.readouterr().err.strip()
    assert code == 2, err
    assert err.startswith("rml-lama validate-language: error:") and "\n" not in err
    assert "P36.jsonl" in err or (kind == "empty" and f"no {which[:-1]} in any P*.jsonl file" in err)


def test_validate_language_names_a_missing_folder_and_an_unknown_language(release, tmp_path, capsys):
    assert main(["validate-language", "--lang", "de", "--templates", str(tmp_path / "nope"),
                 "--facts", str(tmp_path), "--release", str(release)]) == 2
    assert "nope" in capsys.readouterr().err
    assert main(["validate-language", "--lang", "xx", "--templates", str(tmp_path), "--facts", str(tmp_path),
                 "--release", str(release)]) == 2
    assert "no expectations for language 'xx'" in capsys.readouterr().err


def test_validate_a_folder_that_is_not_a_release(tmp_path, capsys):
    assert main(["validate", str(tmp_path)]) == 2
    assert "is not an RML-LAMA release" in capsys.readouterr().err
