"""Atomic text files: written to a temporary file in the same folder, then renamed over the target."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Callable, TextIO

from engines.style.colour.errors import ColourWriteError

__all__ = ["write_atomic"]


def write_atomic(path: Path, write: Callable[[TextIO], None]) -> Path:
    """Call ``write(file)`` on a temporary text file beside ``path`` (UTF-8, ``\\n`` line ends), flush
    it to disk and rename it to ``path``. On any error the temporary file is removed and ``path`` is
    left as it was; an ``OSError`` becomes :class:`ColourWriteError`, anything else propagates."""
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    except OSError as err:
        raise ColourWriteError(path, err.strerror or str(err)) from err
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp_name, 0o644)
        os.replace(tmp_name, path)
    except BaseException as err:
        try:
            os.unlink(tmp_name)
        except OSError:
            pass
        if isinstance(err, OSError):
            raise ColourWriteError(path, err.strerror or str(err)) from err
        raise
    return path
