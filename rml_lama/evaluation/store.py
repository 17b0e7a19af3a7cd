"""The run store: a results folder's config.json and its JSONL shards, shared by the run loop and the report.

Layout of a results folder:
    config.json             how the run was made; a rerun with other options into the folder is refused
    results.rank<R>.jsonl   one line per (fact, localizer), appended, flushed and fsynced when done
    summary.json, report.md, *.png   written by `rml-lama report DIR` (and at the end of a run)
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Optional

import numpy as np

from ..errors import RmlLamaError
from ..io import atomic_write_json
from ..paths import MODEL_FACTS_FILE, RUN_CONFIG_FILE, SHARD_GLOB


def write_or_check_config(out: Path, config: dict) -> None:
    """Create out/config.json, or check that the one there is the same; never overwrite (race-free for ranks)."""
    path = Path(out) / RUN_CONFIG_FILE
    if atomic_write_json(path, config, exclusive=True):
        return
    try:
        existing = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as error:
        raise RmlLamaError(f"{path}: not valid JSON ({error}); refusing to write into {out}") from None
    if existing != config:
        differs = sorted(key for key in set(existing) | set(config) if existing.get(key) != config.get(key))
        detail = differs
        if "options" in differs:
            old, new = existing.get("options", {}), config.get("options", {})
            detail = [k for k in differs if k != "options"] + [
                f"options.{k}" for k in sorted(set(old) | set(new)) if old.get(k) != new.get(k)
            ]
        raise RmlLamaError(
            f"{out} holds a run of another configuration (differs in: {', '.join(detail)}); "
            "choose another --out (existing results are never overwritten)"
        )


def read_records(path: Path) -> list[dict]:
    """The complete lines of a shard (a truncated or corrupt last line, from a killed run, is ignored)."""
    records = []
    if not path.exists():
        return records
    lines = path.read_text(encoding="utf-8").split("\n")
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            records.append(json.loads(line))
        except ValueError:
            if number < len(lines) - 1:
                raise RmlLamaError(f"{path}:{number}: corrupt result line (not the last one); fix or remove it") from None
    return records


def read_all_records(out: Path) -> list[dict]:
    return [record for path in sorted(Path(out).glob(SHARD_GLOB)) for record in read_records(path)]


def repair_shard(path: Path) -> None:
    """Drop a partial last line (a run killed mid-write), so appended lines start on a line of their own."""
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
        self.handle = open(path, "a", encoding="utf-8")

    def write(self, record: dict) -> None:
        self.handle.write(json.dumps(record, sort_keys=True, ensure_ascii=False) + "\n")
        self.handle.flush()
        os.fsync(self.handle.fileno())

    def close(self) -> None:
        self.handle.close()


def read_json(path: Path, what: str) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise RmlLamaError(f"{path}: cannot read {what} ({error})") from None


def model_facts(model_dir: Path) -> Optional[list[str]]:
    path = model_dir / MODEL_FACTS_FILE
    return list(read_json(path, "the model's fact list")["facts"]) if path.is_file() else None


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
