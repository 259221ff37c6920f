"""Errors of :mod:`engines.style.colour`: one root, narrow subclasses that name the file, the line
and the values involved (and pickle with them, for errors raised in a worker process)."""

from __future__ import annotations

from pathlib import Path
from typing import Iterable, Optional, Union

__all__ = [
    "ColourError",
    "UnknownEncodingError",
    "ColourInputError",
    "LookFunctionError",
    "LutSizeError",
    "LutFormatError",
    "CdlFormatError",
    "ColourWriteError",
    "OcioLoadError",
]

PathLike = Union[str, Path]


class ColourError(Exception):
    """Root of every error raised by :mod:`engines.style.colour`."""


class UnknownEncodingError(ColourError, ValueError):
    """An input encoding this package does not know; the message lists the valid ones."""

    def __init__(self, encoding: object, valid: Iterable[str]) -> None:
        self.encoding = encoding
        self.valid = tuple(valid)
        super().__init__(f"unknown input encoding {encoding!r}; valid encodings: {', '.join(self.valid)}")

    def __reduce__(self):
        return type(self), (self.encoding, self.valid)


class ColourInputError(ColourError, ValueError):
    """An array that is not RGB triples ``(..., 3)`` of finite numbers."""


class LookFunctionError(ColourError, ValueError):
    """A look function that returned the wrong shape or non-finite values."""


class LutSizeError(ColourError, ValueError):
    """A 3D LUT size this package does not write (it offers 17, 33 and 65)."""

    def __init__(self, size: object, offered: Iterable[int]) -> None:
        self.size = size
        self.offered = tuple(offered)
        sizes = ", ".join(str(s) for s in self.offered)
        super().__init__(f"LUT size {size!r} is not offered; choose one of {sizes} (points per axis)")

    def __reduce__(self):
        return type(self), (self.size, self.offered)


class _FileProblem(ColourError):
    """A problem in a file, at a line when one is known (1-based)."""

    kind = "file"

    def __init__(self, path: PathLike, line: Optional[int], reason: str) -> None:
        self.path = Path(path)
        self.line = line
        self.reason = reason
        where = f"{self.path}" if line is None else f"{self.path} line {line}"
        super().__init__(f"{where}: {reason}")

    def __reduce__(self):
        return type(self), (self.path, self.line, self.reason)


class LutFormatError(_FileProblem):
    """A ``.cube`` file that breaks the format: ``path``, ``line`` (1-based) and ``reason``."""


class CdlFormatError(_FileProblem):
    """A ``.cc`` file that is not one ASC ColorCorrection: ``path``, ``line`` (when the XML parser
    knows it) and ``reason``."""


class ColourWriteError(ColourError, OSError):
    """A LUT or CDL file that could not be written; nothing is left at ``path`` or beside it."""

    def __init__(self, path: PathLike, reason: str) -> None:
        self.path = Path(path)
        self.reason = reason
        super().__init__(f"cannot write {self.path}: {reason}")

    def __reduce__(self):
        return type(self), (self.path, self.reason)


class OcioLoadError(ColourError):
    """A file OpenColorIO refuses to load or apply (so a LUT box would refuse it too)."""

    def __init__(self, path: PathLike, reason: str) -> None:
        self.path = Path(path)
        self.reason = reason
        super().__init__(f"OpenColorIO cannot load {self.path}: {reason}")

    def __reduce__(self):
        return type(self), (self.path, self.reason)
