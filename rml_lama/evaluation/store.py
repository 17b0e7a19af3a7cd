"""The run store: a results folder's config.json and its JSONL shards, shared by the run loop and the report.

Layout of a results folder:
    config.json             how the run was made; a rerun with other options into the folder is refused
    results.rank<R>.jsonl   one line per (fact, localizer), appended, flushed and fsynced when done
    .results.rank<R>.lock   held (flock, with the writer's pid) while a process writes rank R's shard
    summary.json, report.md, *.png   written by `rml-lama report DIR` (and at the end of a run)

Every reader gives one line naming the file, the line and the field at fault (InputError, exit 2). A shard's
last line without its newline is a write a kill interrupted: readers skip it and the next writer drops it. A
complete line that is not a result is never skipped or overwritten: it is reported, with how to repair it.
"""
from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Optional

import numpy as np

from ..errors import InputError, RmlLamaError
from ..io import atomic_write_json, clean_temporaries, file_mode
from ..paths import MODEL_FACTS_FILE, RUN_CONFIG_FILE, RUN_PLAN_FILE, SHARD_GLOB, lock_path
from ..schema import F

RESULT_KEYS = (F.FACT_ID, "localizer")  # what resume and the report need of every result line


# ------------------------------------------------------------------------------------------ JSON files
def _json_error(error: json.JSONDecodeError) -> str:
    return f"not valid JSON ({error.msg} at column {error.colno})"


def read_json(path: Path, what: str, expect: type = dict) -> Any:
    """A JSON file the toolkit wrote (config, truth, fact list): one line naming the file when it is not."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as error:
        raise InputError(f"cannot read {what} ({error.strerror or error})", path) from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise InputError(f"{what} is not UTF-8 text (byte {error.start})", path, line) from None
    try:
        value = json.loads(text)
    except json.JSONDecodeError as error:
        raise InputError(f"{what}: {_json_error(error)}", path, error.lineno) from None
    if not isinstance(value, expect):
        raise InputError(f"{what} must be a JSON {'object' if expect is dict else expect.__name__}, "
                         f"not {type(value).__name__}", path)
    return value


def read_config(out: Path) -> Optional[dict]:
    """The run's config.json, or None when the folder has none yet."""
    path = Path(out) / RUN_CONFIG_FILE
    if not path.exists():
        return None
    config = read_json(path, "the run configuration")
    if not isinstance(config.get("options"), dict):
        raise InputError("missing or not an object", path, field="options")
    return config


def config_differences(existing: dict, config: dict) -> list[str]:
    differs = sorted(key for key in set(existing) | set(config) if existing.get(key) != config.get(key))
    if "options" not in differs:
        return differs
    old, new = existing.get("options", {}), config.get("options", {})
    return [k for k in differs if k != "options"] + [
        f"options.{k}" for k in sorted(set(old) | set(new)) if old.get(k) != new.get(k)]


def check_config(out: Path, config: dict) -> None:
    """Refuse a folder holding a run of another configuration (reads only; nothing is written)."""
    existing = read_config(out)
    if existing is not None and existing != config:
        raise RmlLamaError(
            f"{out} holds a run of another configuration (differs in: {', '.join(config_differences(existing, config))}); "
            "choose another --out (existing results are never overwritten)"
        )


def write_or_check_config(out: Path, config: dict) -> None:
    """Create out/config.json, or check that the one there is the same; never overwrite (race-free for ranks)."""
    path = Path(out) / RUN_CONFIG_FILE
    if path.exists() or not atomic_write_json(path, config, exclusive=True):
        check_config(out, config)


def model_facts(model_dir: Path) -> Optional[list[str]]:
    path = Path(model_dir) / MODEL_FACTS_FILE
    if not path.is_file():
        return None
    facts = read_json(path, "the model's fact list").get("facts")
    if not isinstance(facts, list) or not all(isinstance(fact, str) for fact in facts):
        raise InputError("must be a list of fact ids", path, field="facts")
    return facts


def read_truth(path: Path) -> dict:
    """A planted model's truth.json: its plants, each with a fact id, a kind, languages and neurons."""
    truth = read_json(path, "the planted truth")
    plants = truth.get("plants")
    if not isinstance(plants, list):
        raise InputError("missing or not a list", path, field="plants")
    for number, plant in enumerate(plants):
        where = f"plants[{number}]"
        if not isinstance(plant, dict):
            raise InputError("not an object", path, field=where)
        checks = {"fact_id": lambda v: isinstance(v, str), "kind": lambda v: isinstance(v, str),
                  "langs": lambda v: isinstance(v, list) and all(isinstance(x, str) for x in v),
                  "neurons": lambda v: isinstance(v, list) and all(
                      isinstance(n, list) and len(n) == 2 and all(isinstance(i, int) for i in n) for n in v)}
        for name, ok in checks.items():
            if not ok(plant.get(name)):
                raise InputError("missing or of the wrong type", path, field=f"{where}.{name}")
    return truth


# ------------------------------------------------------------------------------------------------ shards
def _repair_hint(path: Path, line: int) -> str:
    return f"delete that line (sed -i '{line}d' {path}) and rerun: its fact is evaluated again"


def _torn_tail(tail: bytes) -> bool:
    """Whether the bytes after a shard's last newline are a write a kill interrupted (a JSON object begun)."""
    return tail.lstrip(b" ").startswith(b"{")


def _parse_line(path: Path, number: int, raw: bytes) -> dict:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        kind = " (a UTF-16 file?)" if raw[:2] in (b"\xff\xfe", b"\xfe\xff") or b"\x00" in raw else ""
        raise InputError(f"not UTF-8 text{kind} at byte {error.start}; {_repair_hint(path, number)}",
                         path, number) from None
    try:
        record = json.loads(text)
    except json.JSONDecodeError as error:
        raise InputError(f"corrupt result line: {_json_error(error)}; {_repair_hint(path, number)}",
                         path, number) from None
    if not isinstance(record, dict):
        raise InputError(f"a result line must be a JSON object, not {type(record).__name__}; "
                         f"{_repair_hint(path, number)}", path, number)
    for key in RESULT_KEYS:
        if not isinstance(record.get(key), str):
            raise InputError(f"missing or not a string; {_repair_hint(path, number)}", path, number, key)
    return record


def read_records(path: Path) -> list[dict]:
    """The result lines of a shard. A last line without its newline (a write a kill interrupted) is skipped;
    any other line that is not a result object is an InputError naming the file, line and field."""
    path = Path(path)
    if not path.exists():
        return []
    if not path.is_file():
        raise InputError("not a regular file", path)
    try:
        data = path.read_bytes()
    except OSError as error:
        raise InputError(f"cannot read the shard ({error.strerror or error})", path) from None
    lines = data.split(b"\n")
    tail = lines.pop()  # b"" when the file ends with its newline
    records = [_parse_line(path, number, raw) for number, raw in enumerate(lines, start=1) if raw.strip()]
    if tail.strip() and not _torn_tail(tail):
        _parse_line(path, len(lines) + 1, tail)  # raises: garbage, not an interrupted write
        raise InputError(f"the last line has no newline; {_repair_hint(path, len(lines) + 1)}", path, len(lines) + 1)
    return records


def read_all_records(out: Path) -> list[dict]:
    paths = sorted(Path(out).glob(SHARD_GLOB))
    return [record for path in paths for record in read_records(path)]


def repair_shard(path: Path) -> None:
    """Drop a partial last line (a run killed mid-write), so appended lines start on a line of their own.
    Every complete line is checked first: a corrupt one stops the run (it is never appended after)."""
    path = Path(path)
    read_records(path)
    if not path.exists() or path.stat().st_size == 0:
        return
    data = path.read_bytes()
    if data.endswith(b"\n"):
        return
    with open(path, "r+b") as handle:
        handle.truncate(data.rfind(b"\n") + 1)
        handle.flush()
        os.fsync(handle.fileno())


class ShardWriter:
    """Appends one JSON line per result, flushed and fsynced before the next fact starts."""

    def __init__(self, path: Path):
        repair_shard(path)
        self.path = path
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, file_mode(path))
        self.handle = os.fdopen(fd, "a", encoding="utf-8")

    def write(self, record: dict) -> None:
        self.handle.write(json.dumps(record, sort_keys=True, ensure_ascii=False) + "\n")
        self.handle.flush()
        os.fsync(self.handle.fileno())

    def close(self) -> None:
        self.handle.close()


# -------------------------------------------------------------------------------------------------- lock
class RunLock:
    """An advisory lock on one rank's shard of a results folder, held while a process writes into it.

    The lock file holds the writer's pid; the kernel releases the lock when the process ends however it ends,
    so the lock of a dead process is taken over. A second writer is refused in one line."""

    def __init__(self, out: Path, rank: int = 0):
        import fcntl

        self.path = lock_path(Path(out), rank)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, file_mode(self.path))
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 64).decode("ascii", "replace").strip() or "?"
            os.close(fd)
            raise RmlLamaError(f"{out} is being written by process {holder} (lock {self.path}); wait for it to "
                               "finish or choose another --out") from None
        previous = os.read(fd, 64).decode("ascii", "replace").strip()
        self.took_over = previous or None  # the pid of a writer that died holding it
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        self.fd = fd

    def release(self) -> None:
        if self.fd is None:
            return
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.path)
        os.close(self.fd)  # closing releases the flock
        self.fd = None


@contextlib.contextmanager
def run_folder(out: Path, rank: int = 0) -> Iterator[RunLock]:
    """Lock rank `rank` of the results folder `out` (created if needed) and remove the temporaries killed
    processes left there; on leaving, unlock, and remove the folder again if this left it empty."""
    out = Path(out)
    created = not out.exists()
    out.mkdir(parents=True, exist_ok=True)
    lock = RunLock(out, rank)
    try:
        clean_temporaries(out)
        yield lock
    finally:
        lock.release()
        if created:
            with contextlib.suppress(OSError):
                out.rmdir()  # only when empty: a run that failed before writing anything leaves no trace


def rounded(value):
    """A result made JSON-ready: floats to 8 decimals, non-finite ones to null, numpy scalars to Python."""
    if isinstance(value, float):
        return None if not np.isfinite(value) else round(value, 8)
    if isinstance(value, dict):
        return {k: rounded(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [rounded(v) for v in value]
    if isinstance(value, np.generic):
        return rounded(value.item())
    return value


def write_plan(out: Path, fact_ids: list[str]) -> None:
    """out/plan.json: the facts the run evaluates, in order (written once; every rank plans the same facts)."""
    path = Path(out) / RUN_PLAN_FILE
    if not path.exists():
        atomic_write_json(path, {"facts": list(fact_ids)}, exclusive=True)


def read_plan(out: Path) -> Optional[list[str]]:
    """The facts a run planned (None for runs made before plan.json existed)."""
    path = Path(out) / RUN_PLAN_FILE
    return list(read_json(path, "the run's plan")["facts"]) if path.is_file() else None
