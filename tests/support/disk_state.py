"""A folder's state on disk (every path, its kind, mode and sha256) to assert that nothing else changed."""
from __future__ import annotations

import hashlib
import os
import stat
from pathlib import Path


def snapshot(root) -> dict[str, tuple]:
    root = Path(root)
    state: dict[str, tuple] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            path = Path(dirpath) / name
            info = path.lstat()
            rel = path.relative_to(root).as_posix()
            if stat.S_ISREG(info.st_mode):
                state[rel] = ("file", stat.S_IMODE(info.st_mode), hashlib.sha256(path.read_bytes()).hexdigest())
            elif stat.S_ISLNK(info.st_mode):
                state[rel] = ("link", os.readlink(path))
            else:
                state[rel] = ("dir", stat.S_IMODE(info.st_mode))
    return state
