"""Atomic file and folder writes: an output is complete or absent, never half-written, and never replaces
files this toolkit did not write.

Temporary files and folders are siblings of their final path, named `.<final name>.<pid>-<random>.tmp`, and
created with the permissions the final file will have (the umask respected; an existing file's mode kept).
`clean_temporaries` removes those of processes that are gone (a killed run), and nothing else.

An output folder (a release, a model) carries a marker file naming its kind and a SHA256SUMS file of every
file in it. `atomic_directory` replaces a folder only when it is absent, empty, or an unchanged output of the
same kind; anything else is refused with one line naming what was found. The swap keeps the old folder until
the new one is in place (an atomic exchange where the system has one; otherwise two renames that the next
start into the same place completes), so a kill at any moment leaves the old or the new folder.
"""
from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import errno
import hashlib
import json
import os
import re
import secrets
import shutil
import stat
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, Optional, Union

from ._version import __version__
from .errors import RmlLamaError
from .paths import CHECKSUMS_FILE, NO_EXCHANGE_ENV, OUTPUT_MARKER_FILE

PathLike = Union[str, Path]

# ------------------------------------------------------------------------------------- temporaries
_TEMP = re.compile(r"^\.(?P<name>.+)\.(?P<pid>\d+)-[0-9a-f]{8}\.tmp$")
_LEGACY_TEMP = re.compile(r"^\.(?P<name>.+)\.[A-Za-z0-9_]{8}\.tmp$")  # tempfile's names, before pids were kept


def current_umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def file_mode(path: Path) -> int:
    """The mode a file written to `path` should have: the existing file's, else 0666 less the umask."""
    with contextlib.suppress(OSError):
        return stat.S_IMODE(os.stat(path).st_mode)
    return 0o666 & ~current_umask()


def temp_path(final: PathLike) -> Path:
    """A fresh temporary sibling of `final` (in the same folder, so a rename puts it in place)."""
    final = Path(final)
    if final.name in ("", ".", ".."):
        raise RmlLamaError(f"{final}: not a file or folder name")
    return final.with_name(f".{final.name}.{os.getpid()}-{secrets.token_hex(4)}.tmp")


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


def clean_temporaries(folder: PathLike, name: Optional[str] = None) -> list[Path]:
    """Remove the temporaries in `folder` left by processes that are gone (of `name` only, if given)."""
    folder = Path(folder)
    removed: list[Path] = []
    if not folder.is_dir():
        return removed
    for entry in folder.iterdir():
        match = _TEMP.match(entry.name)
        if match:
            if _pid_alive(int(match["pid"])):
                continue
        else:
            match = _LEGACY_TEMP.match(entry.name)
            if not match:
                continue
        if name is not None and match["name"] != name:
            continue
        _remove(entry)
        removed.append(entry)
    return removed


# ------------------------------------------------------------------------------------------- files
def atomic_write_bytes(path: PathLike, data: bytes, exclusive: bool = False) -> bool:
    """Write `data` to a temporary sibling, fsync it, and move it into place. With `exclusive`, the file is
    created only if it does not exist yet (atomically, also against another process doing the same): returns
    False, writing nothing, when it exists. Returns True when written."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_path(path)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.fchmod(fd, file_mode(path))
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


# ------------------------------------------------------------------------------ marked output folders
def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _files_under(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file() or p.is_symlink())


def mark_directory(folder: PathLike, kind: str) -> None:
    """Write the marker (kind, version) and SHA256SUMS (`sha256sum -c` format) of every file in `folder`."""
    folder = Path(folder)
    names = [n for n in _files_under(folder) if n not in (CHECKSUMS_FILE, OUTPUT_MARKER_FILE)]
    atomic_write_json(folder / OUTPUT_MARKER_FILE, {"kind": kind, "rml_lama_version": __version__})
    sums = "".join(f"{sha256_file(folder / name)}  {name}\n" for name in names + [OUTPUT_MARKER_FILE])
    atomic_write_text(folder / CHECKSUMS_FILE, sums)


def _read_checksums(folder: Path) -> Optional[dict[str, str]]:
    try:
        lines = (folder / CHECKSUMS_FILE).read_text(encoding="utf-8").splitlines()
        sums = dict(reversed(line.split("  ", 1)) for line in lines if line.strip())
    except (OSError, UnicodeDecodeError, ValueError):
        return None
    if not all(re.fullmatch(r"[0-9a-f]{64}", digest) for digest in sums.values()):
        return None
    return sums


def _marker_kind(folder: Path) -> Optional[str]:
    try:
        marker = json.loads((folder / OUTPUT_MARKER_FILE).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return None
    return marker.get("kind") if isinstance(marker, dict) else None


def _listing(names: Sequence[str], limit: int = 4) -> str:
    shown = ", ".join(names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")


def check_replaceable(out: PathLike, kind: str, extras: Sequence[str] = ()) -> None:
    """Raise RmlLamaError unless `out` is absent, an empty folder, or an unchanged `kind` output of this
    toolkit (its marker and SHA256SUMS agree with its files; `extras` are file names it may also hold)."""
    out = Path(out)
    what = f"--out {out}"
    resolved = Path(os.path.abspath(out))
    if resolved.parent == resolved:
        raise RmlLamaError(f"{what} is the filesystem root; choose a new folder")
    cwd = Path.cwd().resolve()
    if out.exists() and (cwd == out.resolve() or out.resolve() in cwd.parents):
        raise RmlLamaError(f"{what} is the current folder or holds it; choose a new folder")
    if out.is_symlink():
        raise RmlLamaError(f"{what} is a symbolic link; choose a new folder")
    if not out.exists():
        return
    if not out.is_dir():
        raise RmlLamaError(f"{what} is an existing file, not a folder; choose a new folder (it is left as is)")
    entries = sorted(entry.name for entry in out.iterdir() if not _TEMP.match(entry.name))
    if not entries:
        return
    found_kind = _marker_kind(out)
    sums = _read_checksums(out)
    if found_kind is None or sums is None:
        raise RmlLamaError(
            f"{what} holds files this toolkit did not write ({_listing(entries)}; no {OUTPUT_MARKER_FILE} and "
            f"{CHECKSUMS_FILE}); refusing to replace it: choose an empty or new folder"
        )
    if found_kind != kind:
        raise RmlLamaError(f"{what} holds a {found_kind}, not a {kind}; refusing to replace it: choose another folder")
    present = [name for name in _files_under(out) if not any(_TEMP.match(part) for part in name.split("/"))]
    foreign = [name for name in present if name not in sums and name not in (CHECKSUMS_FILE, *extras)]
    if foreign:
        raise RmlLamaError(f"{what} holds files the {kind} did not have ({_listing(foreign)}); refusing to replace "
                           "it: move them elsewhere or choose another folder")
    changed = [name for name, digest in sums.items() if (out / name).is_file() and sha256_file(out / name) != digest]
    if changed:
        raise RmlLamaError(f"{what}: {_listing(changed)} changed since the {kind} was written; refusing to replace "
                           "it: move the changed files elsewhere or choose another folder")


# The swap, step by step; a test may set `_after_step` to kill the process after a given step.
_after_step: Optional[Callable[[str], None]] = None


def _step(name: str) -> None:
    if _after_step is not None:
        _after_step(name)


_RENAME_EXCHANGE = 2
_libc = None


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths atomically (Linux renameat2 RENAME_EXCHANGE); False where the system cannot."""
    global _libc
    if os.environ.get(NO_EXCHANGE_ENV):  # tests of the two-rename path
        return False
    if _libc is None:
        _libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)
    renameat2 = getattr(_libc, "renameat2", None)
    if renameat2 is None:
        return False
    at_fdcwd = -100
    if renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):
        return False
    raise OSError(code, os.strerror(code), str(b))


def _old_path(out: Path) -> Path:
    return out.with_name(f".{out.name}.old")


def recover_directory(out: PathLike) -> None:
    """Finish a swap a kill interrupted: put the old folder back when none is in place, else drop it; remove
    the temporaries of dead processes beside `out`."""
    out = Path(os.path.abspath(out))
    if not out.name:
        return
    old = _old_path(out)
    if old.is_dir() and not old.is_symlink():
        if not out.exists() and not out.is_symlink():
            os.replace(old, out)
        else:
            shutil.rmtree(old)
    clean_temporaries(out.parent, out.name)


def swap_in_directory(tmp: Path, out: Path) -> None:
    """Put the complete folder `tmp` at `out`; an existing `out` stays until `tmp` is in place."""
    if not out.exists():
        os.replace(tmp, out)
        _step("renamed")
        return
    if _exchange(tmp, out):
        _step("exchanged")
        shutil.rmtree(tmp)
        _step("removed")
        return
    old = _old_path(out)
    os.replace(out, old)
    _step("moved-old")
    os.replace(tmp, out)
    _step("renamed")
    shutil.rmtree(old)
    _step("removed")


@contextlib.contextmanager
def atomic_directory(out: PathLike, kind: Optional[str] = None, extras: Sequence[str] = ()) -> Iterator[Path]:
    """Yield a temporary sibling folder; on success it takes the place of `out`, on failure it is removed.

    With `kind`, `out` must be absent, empty or an unchanged output of that kind (checked before any work),
    and the new folder is marked as one (marker + SHA256SUMS)."""
    out = Path(out)
    if kind is not None:
        check_replaceable(out, kind, extras)  # the root, the current folder, a file, foreign files: refused
    recover_directory(out)
    if kind is not None:
        check_replaceable(out, kind, extras)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_path(out)
    os.mkdir(tmp, 0o777 & ~current_umask())
    try:
        yield tmp
        if kind is not None:
            mark_directory(tmp, kind)
            check_replaceable(out, kind, extras)  # again: something may have appeared meanwhile
        _step("written")
        swap_in_directory(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
