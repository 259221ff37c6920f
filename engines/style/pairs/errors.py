"""Errors of the pair loader: one root, narrow subclasses that name the folder or file and the values.

A folder that cannot be read at all raises (:class:`PairFolderError`, :class:`NoPairsError`). An
image that cannot be used raises a :class:`PairImageError` from :mod:`.image`; the folder scan and
:func:`~engines.style.pairs.load.load_registered_pairs` turn those into
:class:`~engines.style.pairs.types.PairProblem` entries (with the error's ``kind``) and go on.
"""

from __future__ import annotations

from pathlib import Path

from engines.style.pairs.types import ProblemKind

__all__ = [
    "PairsError",
    "PairFolderError",
    "NoPairsError",
    "PairImageError",
    "NotAnImageError",
    "CorruptImageError",
    "UnsupportedImageError",
    "ImageTooSmallError",
]


class PairsError(Exception):
    """Root of every error raised by :mod:`engines.style.pairs`."""


class PairFolderError(PairsError):
    """A pairs folder that is missing, not a folder, or laid out ambiguously (both ``control/`` and
    ``digital/``, or a ``control/`` without its ``test/``)."""


class NoPairsError(PairsError):
    """A pairs folder that holds no image files in either layout: there is nothing to learn from."""


class PairImageError(PairsError):
    """One image file that cannot be used; ``path`` names it and ``kind`` is how it is reported."""

    kind: ProblemKind = ProblemKind.CORRUPT_IMAGE

    def __init__(self, path: Path, reason: str) -> None:
        self.path = Path(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")


class NotAnImageError(PairImageError):
    """A file whose extension or first bytes are not PNG, JPEG or TIFF (e.g. text named ``.png``)."""

    kind = ProblemKind.NOT_AN_IMAGE


class CorruptImageError(PairImageError):
    """A PNG, JPEG or TIFF that is truncated or does not decode."""

    kind = ProblemKind.CORRUPT_IMAGE


class UnsupportedImageError(PairImageError):
    """An image that decodes but whose samples are not 8- or 16-bit integers (float, 32-bit)."""

    kind = ProblemKind.UNSUPPORTED_IMAGE


class ImageTooSmallError(PairImageError):
    """An image whose shorter side is under :data:`~engines.style.pairs.image.MIN_IMAGE_SIDE_PX`."""

    kind = ProblemKind.TOO_SMALL
