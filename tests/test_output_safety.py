"""Output folders: `build` never replaces files it did not write, and a kill at any step of the swap leaves
the old or the new release in place (issue 14)."""
from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from rml_lama import io
from rml_lama.dataset import release
from rml_lama.paths import CHECKSUMS_FILE, NO_EXCHANGE_ENV, OUTPUT_MARKER_FILE
from tests.support.cli import one_line_error
from tests.support.disk_state import snapshot
from tests.support.releases import tiny_records

REPO = Path(__file__).resolve().parents[1]




@pytest.fixture()
def decoy_home(tmp_path, monkeypatch):
    home = tmp_path / "home"
    (home / "projects").mkdir(parents=True)
    (home / "notes.txt").write_text("my notes\n")
    (home / "projects" / "main.py").write_text("print('hello')\n")
    monkeypatch.setenv("HOME", str(home))
    return home


def test_build_into_a_home_folder_with_foreign_files_is_refused_and_keeps_them(decoy_home, capsys, tmp_path):
    before = snapshot(tmp_path)
    one_line_error(capsys, ["build", "--out", str(Path("~").expanduser())], "notes.txt", "projects",
            "did not write", "refusing")
    assert snapshot(tmp_path) == before


@pytest.mark.parametrize("target, expected", [(".", "current folder"), ("..", "current folder"),
                                              ("/", "filesystem root")])
def test_build_into_the_current_folder_its_parent_or_root_is_refused(target, expected, tmp_path, monkeypatch,
                                                                      capsys):
    work = tmp_path / "work"
    work.mkdir()
    (work / "keep.txt").write_text("x")
    monkeypatch.chdir(work)
    before = snapshot(tmp_path)
    one_line_error(capsys, ["build", "--out", target], expected)
    assert snapshot(tmp_path) == before


def test_build_onto_an_existing_file_is_refused_and_the_file_kept(tmp_path, capsys):
    target = tmp_path / "release"
    target.write_text("not a folder")
    before = snapshot(tmp_path)
    one_line_error(capsys, ["build", "--out", str(target)], "existing file")
    assert snapshot(tmp_path) == before


def test_a_release_is_marked_and_can_be_rebuilt_with_its_validation_reports_beside_it(tmp_path):
    out = release.write_release(tiny_records(), tmp_path / "rml-lama")
    assert json.loads((out / OUTPUT_MARKER_FILE).read_text())["kind"] == "release"
    sums = dict(reversed(line.split("  ")) for line in (out / CHECKSUMS_FILE).read_text().splitlines())
    assert set(sums) == {"README.md", "stats.json", "build_report.json", OUTPUT_MARKER_FILE,
                         *(p.relative_to(out).as_posix() for p in out.glob("data/*/*.parquet"))}
    (out / "validation_report.md").write_text("report\n")
    release.write_release(tiny_records(langs=("en", "fr")), out)
    assert release.release_languages(out) == ["en", "fr"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["rml-lama"]  # no temporaries, no old copy


def test_a_release_with_a_changed_or_an_added_file_is_not_replaced(tmp_path, capsys):
    out = release.write_release(tiny_records(), tmp_path / "rml-lama")
    (out / "README.md").write_text("my edits\n")
    before = snapshot(tmp_path)
    one_line_error(capsys, ["build", "--out", str(out)], "README.md changed since the release was written")
    assert snapshot(tmp_path) == before
    out2 = release.write_release(tiny_records(), tmp_path / "second")
    (out2 / "data" / "mine.csv").write_text("a,b\n")
    before = snapshot(tmp_path)
    one_line_error(capsys, ["build", "--out", str(out2)], "data/mine.csv", "did not have")
    assert snapshot(tmp_path) == before


def test_build_into_an_empty_folder_keeps_the_umask_permissions(tmp_path):
    os.umask(old := os.umask(0o022))
    try:
        os.umask(0o022)
        (tmp_path / "empty").mkdir()
        out = release.write_release(tiny_records(), tmp_path / "empty")
        assert stat.S_IMODE(out.stat().st_mode) == 0o755
        assert {stat.S_IMODE(p.stat().st_mode) for p in out.rglob("*") if p.is_file()} == {0o644}
    finally:
        os.umask(old)


# ---------------------------------------------------------------------------------------- the swap, killed
KILL_SCRIPT = """
import os, sys
from pathlib import Path
from rml_lama import io
step, out, version = sys.argv[1], Path(sys.argv[2]), sys.argv[3]
io._after_step = lambda name: os._exit(9) if name == step else None
with io.atomic_directory(out, "release") as tmp:
    (tmp / "data").mkdir()
    (tmp / "data" / "rows.txt").write_text(version)
"""


def _write(out: Path, version: str, step: str = "never", exchange: bool = True) -> int:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    env.pop(NO_EXCHANGE_ENV, None)
    if not exchange:
        env[NO_EXCHANGE_ENV] = "1"
    return subprocess.run([sys.executable, "-c", KILL_SCRIPT, step, str(out), version], env=env).returncode


@pytest.mark.parametrize("exchange, step", [
    (True, "written"), (True, "exchanged"), (True, "removed"),
    (False, "written"), (False, "moved-old"), (False, "renamed"), (False, "removed"),
])
def test_a_kill_at_each_step_of_the_swap_leaves_the_old_or_the_new_release(tmp_path, exchange, step):
    out = tmp_path / "rel"
    assert _write(out, "old") == 0
    assert _write(out, "new", step, exchange) == 9  # killed by os._exit(9) right after `step`
    io.recover_directory(out)  # what any later write into `out` does first
    assert (out / "data" / "rows.txt").read_text() == ("old" if step in ("written", "moved-old") else "new")
    io.check_replaceable(out, "release")  # complete and unchanged: marker and checksums agree
    assert _write(out, "third", exchange=exchange) == 0  # the next build succeeds and cleans up
    assert (out / "data" / "rows.txt").read_text() == "third"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["rel"]


def test_temporaries_of_dead_processes_are_cleaned_and_live_ones_kept(tmp_path):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    stale = tmp_path / f".summary.json.{int(dead.stdout)}-0123abcd.tmp"
    stale.write_text("half")
    legacy = tmp_path / ".summary.json.k2j4x9zq.tmp"
    legacy.write_text("half")
    mine = io.temp_path(tmp_path / "summary.json")
    mine.write_text("in progress")
    (tmp_path / ".hidden.tmp").write_text("not ours")
    assert sorted(io.clean_temporaries(tmp_path)) == sorted([stale, legacy])
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([mine.name, ".hidden.tmp"])
