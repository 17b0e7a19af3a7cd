"""Input that becomes a path is checked (issue 14): a language code from the command line or a custom
expectations file cannot climb out of the working folder, and a P*.jsonl that is a folder or a symlink loop is
one line, not a traceback. Each case: exit 2, one line, nothing on disk changed."""
from __future__ import annotations

import json

import pytest

from rml_lama.checks.expectations import load_expectations
from rml_lama.dataset.release import write_release
from rml_lama.errors import RmlLamaError
from rml_lama.schema import check_lang_code
from tests.support.checks_data import clean_records
from tests.support.cli import one_line_error
from tests.support.disk_state import snapshot


@pytest.mark.parametrize("code, ok", [("de", True), ("zh-hans", True), ("sr_Latn", True), ("fil", True),
                                      ("x/../../../esc", False), ("..", False), ("", False), ("de/", False),
                                      ("a", False), ("de\n", False), ("/tmp", False)])
def test_language_codes_follow_a_strict_pattern(code, ok):
    if ok:
        assert check_lang_code(code) == code
    else:
        with pytest.raises(RmlLamaError, match="not a language code"):
            check_lang_code(code)


@pytest.fixture(scope="module")
def release(tmp_path_factory):
    return write_release(clean_records(), tmp_path_factory.mktemp("release") / "rel")


@pytest.fixture
def proposal(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for name in ("templates", "facts"):
        (tmp_path / name).mkdir()
    (tmp_path / "templates" / "P36.jsonl").write_text('{"pattern": "[X] a [Y]"}\n')
    (tmp_path / "facts" / "P36.jsonl").write_text(
        '{"sub_uri": "Q1", "obj_uri": "Q2", "sub_label": "a", "obj_label": "b", "lineid": 0}\n')
    return ["validate-language", "--templates", "templates", "--facts", "facts", "--release", "nowhere"]


def test_validate_language_refuses_a_code_that_would_escape_the_folder(tmp_path, capsys, proposal):
    before = snapshot(tmp_path.parent)
    one_line_error(capsys, [*proposal, "--lang", "x/../../../esc"], "--lang 'x/../../../esc': not a language code")
    assert snapshot(tmp_path.parent) == before


def test_an_expectations_file_with_such_a_code_is_refused(tmp_path):
    path = tmp_path / "languages.json"
    path.write_text(json.dumps({"languages": {"x/../../../esc": {}}}))
    with pytest.raises(RmlLamaError, match="field 'languages.x/../../../esc'.*not a language code"):
        load_expectations(path)


@pytest.mark.parametrize("kind", ["directory", "symlink-loop"])
def test_a_relation_file_that_is_a_folder_or_a_symlink_loop_is_one_line(tmp_path, capsys, proposal, kind, release):
    bad = tmp_path / "templates" / "P19.jsonl"
    if kind == "directory":
        bad.mkdir()
    else:
        bad.symlink_to(bad)
    before = snapshot(tmp_path)
    one_line_error(capsys, [*proposal, "--lang", "de", "--release", str(release)], "P19.jsonl",
                   "a folder, not a file" if kind == "directory" else "cannot read the file")
    assert snapshot(tmp_path) == before
