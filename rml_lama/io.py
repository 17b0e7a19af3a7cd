"""Atomic file and folder writes: an output is complete or absent, never half-written."""
from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Union

PathLike = Union[str, Path]


def atomic_write_bytes(path: PathLike, data: bytes, exclusive: bool = False) -> bool:
    """Write `data` to a temporary sibling, fsync it, and move it into place. With `exclusive`, the file is
    created only if it does not exist yet (atomically, also against another process doing the same): returns
    False, writing nothing, when it exists. Returns True when written."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        if not exclusive:
            os.replace(tmp, path)
            return True
        try:
            os.link(tmp, path)  # fails if the file exists, whoever created it
        except FileExistsError:
            return False
        finally:
            os.unlink(tmp)
        return True
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def atomic_write_text(path: PathLike, text: str, exclusive: bool = False) -> bool:
    return atomic_write_bytes(path, text.encode("utf-8"), exclusive)


def json_text(obj: Any) -> str:
    """The one JSON layout of the files the toolkit writes: indented, sorted keys, UTF-8 as is."""
    return json.dumps(obj, indent=2, ensure_ascii=False, sort_keys=True) + "\n"


def atomic_write_json(path: PathLike, obj: Any, exclusive: bool = False) -> bool:
    return atomic_write_text(path, json_text(obj), exclusive)


@contextlib.contextmanager
def atomic_directory(out: PathLike, overwrite: bool = True) -> Iterator[Path]:
    """Yield a temporary sibling folder; on success it replaces `out` whole, on failure it is removed."""
    out = Path(out)
    if out.exists() and not overwrite:
        raise FileExistsError(f"{out} exists; refusing to overwrite it")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent))
    try:
        yield tmp
        if out.exists():
            old = out.with_name(f".{out.name}.old")
            if old.exists():
                shutil.rmtree(old)
            os.replace(out, old)
            os.replace(tmp, out)
            shutil.rmtree(old)
        else:
            os.replace(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
