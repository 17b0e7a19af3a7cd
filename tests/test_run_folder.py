"""Results folders (issue 14): every garbage shard or config is one line naming file, line and field (exit 2),
a corrupt complete line is never appended after, a folder is locked while written, and a failed `evaluate`
leaves no config.json behind. Each case checks that nothing else on disk changed."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from rml_lama.cli import main
from rml_lama.dataset.release import write_release
from rml_lama.evaluation.store import RunLock, read_records, repair_shard
from rml_lama.paths import RUN_CONFIG_FILE, lock_path, shard_path
from tests.support.checkpoints import save_without
from tests.support.cli import one_line_error
from tests.support.disk_state import snapshot
from tests.support.planted import planted_bundle, records

REPO = Path(__file__).resolve().parents[1]
GOOD = b'{"fact_id": "P36:Q142:Q90", "localizer": "kn"}\n'
CONFIG = {"options": {"seed": 0, "localizers": ["kn"]}, "model": "m"}




def run_folder_with(tmp_path, shard: bytes, config: bytes = json.dumps(CONFIG).encode()) -> Path:
    out = tmp_path / "run"
    out.mkdir()
    (out / RUN_CONFIG_FILE).write_bytes(config)
    shard_path(out, 0).write_bytes(shard)
    return out


GARBAGE = {  # name: (shard bytes, fragments of the one-line error)
    "not-an-object": (GOOD + b"[1, 2]\n", ["results.rank0.jsonl:2", "must be a JSON object, not list"]),
    "no-fact-id": (b'{"localizer": "kn"}\n' + GOOD, ["results.rank0.jsonl:1", "field 'fact_id'", "missing"]),
    "fact-id-not-a-string": (b'{"fact_id": 7, "localizer": "kn"}\n', [":1: field 'fact_id'", "not a string"]),
    "invalid-utf8": (GOOD + b'{"fact_id": "\xff\xfe", "localizer": "kn"}\n', [":2:", "not UTF-8 text"]),
    "utf16": (GOOD.decode().encode("utf-16") + b"\n", [":1:", "not UTF-8 text (a UTF-16 file?)"]),
    "corrupt-middle": (GOOD + b'{"fact_id": \n' + GOOD, [":2:", "corrupt result line", "sed -i '2d'"]),
    "corrupt-complete-last": (GOOD + b'{"fact_id": "x", "localizer": }\n', [":2:", "corrupt result line"]),
    "binary-no-newline": (bytes(range(128, 256)) * 8, [":1:", "not UTF-8 text"]),
    "5MB-garbage": (b"\x00garbage " * 600_000 + b"\n", [":1:", "corrupt result line"]),
    "text-no-newline": (GOOD + b"hello", [":2:", "corrupt result line"]),
}


@pytest.mark.parametrize("case", sorted(GARBAGE))
def test_report_on_a_garbage_shard_is_one_line_and_changes_nothing(tmp_path, capsys, case):
    shard, fragments = GARBAGE[case]
    out = run_folder_with(tmp_path, shard)
    before = snapshot(tmp_path)
    one_line_error(capsys, ["report", str(out)], *fragments)
    assert snapshot(tmp_path) == before


@pytest.mark.parametrize("config, fragments", [
    (b'{"options": {"seed": 0,}', ["config.json:1", "not valid JSON"]),
    (b"[1, 2]", ["config.json", "must be a JSON object, not list"]),
    (b'{"model": "m"}', ["config.json: field 'options'"]),
    ("{\"options\": {}}".encode("utf-16"), ["config.json:1", "not UTF-8"]),
])
def test_report_on_a_garbage_config_is_one_line_and_changes_nothing(tmp_path, capsys, config, fragments):
    out = run_folder_with(tmp_path, GOOD, config)
    before = snapshot(tmp_path)
    one_line_error(capsys, ["report", str(out)], *fragments)
    assert snapshot(tmp_path) == before


def test_a_torn_last_line_is_skipped_and_dropped_before_appending(tmp_path):
    path = tmp_path / "results.rank0.jsonl"
    path.write_bytes(GOOD + b'{"fact_id": "P36:Q17')  # a kill in the middle of writing line 2
    assert len(read_records(path)) == 1
    repair_shard(path)
    assert path.read_bytes() == GOOD


def test_resume_refuses_to_append_after_a_corrupt_complete_line(tmp_path):
    path = tmp_path / "results.rank0.jsonl"
    path.write_bytes(GOOD + b'{"fact_id": "x", "localizer": }\n')
    before = snapshot(tmp_path)
    with pytest.raises(Exception, match="corrupt result line"):
        repair_shard(path)
    assert snapshot(tmp_path) == before


# ------------------------------------------------------------------------------------------- evaluate
@pytest.fixture
def setup(tmp_path):
    """A tiny release and a saved tiny model; the evaluate arguments for them."""
    from rml_lama.testbeds.tiny import tiny_tokenizer

    write_release(records(), tmp_path / "release")
    planted_bundle().model.save_pretrained(tmp_path / "model")
    tiny_tokenizer().save_pretrained(tmp_path / "model")
    return ["evaluate", "--release", str(tmp_path / "release"), "--model", str(tmp_path / "model"), "--langs",
            "en,fr", "--facts", "1", "--localizers", "kn", "--steps", "2", "--out", str(tmp_path / "run")]


@pytest.mark.parametrize("change, fragments", [
    (["--facts", "0"], ["--facts 0: must be at least 1"]),
    (["--facts", "-1"], ["--facts -1: must be at least 1"]),
    (["--steps", "0"], ["--steps 0: must be at least 1"]),
    (["--layers", "99-100"], ["--layers 99-100: the model has 2 layers, 0-1"]),
    (["--layers", "5-2"], ["the range 5-2 is empty"]),
    (["--max-candidates", "1"], ["--max-candidates 1: must be at least 2"]),
    (["--model", "models/typo"], ["--model models/typo: no such folder"]),
    (["--threads", "0"], ["--threads 0: must be at least 1"]),
])
def test_a_bad_option_is_refused_before_loading_and_leaves_no_run_folder(tmp_path, capsys, setup, change, fragments,
                                                                        monkeypatch):
    monkeypatch.chdir(tmp_path)
    before = snapshot(tmp_path)
    (tmp_path / "models").mkdir()  # so that models/typo reads as a local path
    one_line_error(capsys, setup + change, *fragments)
    (tmp_path / "models").rmdir()
    assert snapshot(tmp_path) == before  # no config.json: the corrected command is not refused


def test_a_headless_model_fails_after_the_lock_and_leaves_nothing(tmp_path, capsys, setup):
    save_without(tmp_path / "headless", "bert", "cls.")
    argv = [*setup, "--model", str(tmp_path / "headless")]
    before = snapshot(tmp_path)
    one_line_error(capsys, argv, "weight(s) missing from the checkpoint", "cls.predictions")
    assert snapshot(tmp_path) == before


def test_a_locked_folder_is_refused_and_a_dead_writers_lock_taken_over(tmp_path, capsys, setup):
    out = tmp_path / "run"
    out.mkdir()
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time; from rml_lama.evaluation.store import RunLock; "
         f"RunLock({str(out)!r}, 0); print('locked', flush=True); time.sleep(60)"],
        stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": str(REPO)})
    try:
        assert holder.stdout.readline().strip() == "locked"
        before = snapshot(tmp_path)
        one_line_error(capsys, setup, f"is being written by process {holder.pid}", "choose another --out")
        assert snapshot(tmp_path) == before
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    assert lock_path(out, 0).read_text().strip() == str(holder.pid)  # the dead writer's lock is still there
    lock = RunLock(out, 0)
    assert lock.took_over == str(holder.pid) and lock_path(out, 0).read_text().strip() == str(os.getpid())
    lock.release()
    assert not lock_path(out, 0).exists()


def test_a_second_writer_in_the_same_process_is_refused_too(tmp_path):
    first = RunLock(tmp_path, 0)
    try:
        with pytest.raises(Exception, match=f"being written by process {os.getpid()}"):
            RunLock(tmp_path, 0)
        RunLock(tmp_path, 1).release()  # another rank's shard has its own lock
    finally:
        first.release()


def test_evaluate_after_a_failed_option_then_resumes_into_the_same_folder(tmp_path, capsys, setup):
    old_umask = os.umask(0o022)
    try:
        _failed_then_resumed(tmp_path, capsys, setup)
    finally:
        os.umask(old_umask)


def _failed_then_resumed(tmp_path, capsys, setup):
    assert main([*setup, "--layers", "99-100"]) == 2
    assert main(setup) == 0  # the corrected command is accepted: no config.json was left behind
    out = tmp_path / "run"
    assert json.loads((out / RUN_CONFIG_FILE).read_text())["options"]["facts"] == 1
    assert not lock_path(out, 0).exists()
    # written with the umask's permissions (022 here), readable by the other users of a shared machine
    assert {p.name: oct(p.stat().st_mode & 0o777) for p in out.iterdir() if p.name != "plots"} == {
        name: "0o644" for name in ("config.json", "plan.json", "results.rank0.jsonl", "summary.json", "report.md",
                                   *(p.name for p in out.glob("*.png")))}
    # temporaries a killed run left are cleaned when a process starts into the folder; a rerun resumes
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    (out / f".summary.json.{int(dead.stdout)}-0123abcd.tmp").write_text("half")
    (out / ".config.k2j4x9zq.tmp").write_text("half")
    lines = shard_path(out, 0).read_bytes()
    assert main(setup) == 0
    assert shard_path(out, 0).read_bytes() == lines and not list(out.glob(".*.tmp"))
    # a corrupt complete last line: the rerun refuses to append after it, and leaves the folder as it was
    with open(shard_path(out, 0), "ab") as handle:
        handle.write(b'{"fact_id": "x", "localizer": }\n')
    before = snapshot(tmp_path)
    bad = len(lines.splitlines()) + 1  # after the localizer's and the oracle's lines
    one_line_error(capsys, setup, f"results.rank0.jsonl:{bad}", "corrupt result line", f"sed -i '{bad}d'")
    assert snapshot(tmp_path) == before


def test_a_planted_model_defaults_to_its_planted_facts(tmp_path, setup):
    from rml_lama.cli import build_parser
    from rml_lama.evaluation.run import resolve_inputs

    model = tmp_path / "planted"
    model.mkdir()
    (model / "config.json").write_text("{}")
    plant = {"kind": "agnostic", "langs": ["en"], "neurons": [[0, 1]]}
    (model / "truth.json").write_text(json.dumps({"plants": [
        {**plant, "fact_id": "P36:Q142:Q90"}, {**plant, "fact_id": "P36:Q17:Q1490"},
        {**plant, "fact_id": "P36:Q142:Q90", "neurons": [[1, 2]]}]}))  # two plants of one fact
    without_facts = [a for i, a in enumerate(setup) if a != "--facts" and setup[i - 1] != "--facts"]
    assert resolve_inputs(build_parser().parse_args([*without_facts, "--model", str(model)])).options.facts == 2
    assert resolve_inputs(build_parser().parse_args([*setup, "--model", str(model)])).options.facts == 1
    (model / "truth.json").write_text(json.dumps({"plants": [{"fact_id": "P36:Q142:Q90"}]}))
    with pytest.raises(Exception, match="truth.json: field 'plants\\[0\\].kind': missing or of the wrong type"):
        resolve_inputs(build_parser().parse_args([*setup, "--model", str(model)]))
