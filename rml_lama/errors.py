"""Errors a user can act on: each names the file, line and field at fault, in one line."""
from __future__ import annotations

from pathlib import Path
from typing import Optional, Union


class RmlLamaError(Exception):
    """Any error the CLI reports as one clear line (exit code 2) instead of a traceback."""


class InputError(RmlLamaError):
    """Bad input data: names the file, the 1-based line and the field where it is known."""

    def __init__(
        self,
        message: str,
        path: Union[str, Path, None] = None,
        line: Optional[int] = None,
        field: Optional[str] = None,
    ):
        self.path, self.line, self.field, self.reason = path, line, field, message
        where = str(path) if path is not None else ""
        if line is not None:
            where += f":{line}"
        if field is not None:
            where += f": field {field!r}"
        super().__init__(f"{where}: {message}" if where else message)
