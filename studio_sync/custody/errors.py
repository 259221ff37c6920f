"""What can go wrong with a take's chain of custody, in words a data wrangler can act on.

Every message names the take or the file and says what to do next. Nothing is written when one
of these is raised: a seal, a verify or a copy that fails leaves the take (and the destination)
as it found them.
"""

from __future__ import annotations

from typing import Any, Optional

__all__ = [
    "CustodyError",
    "NotATakeError",
    "TakeStillRecordingError",
    "UnsafePathError",
    "UnexpectedFileError",
    "UnreadableFileError",
    "UnsupportedHashFormatError",
    "MissingHistoryError",
    "HistoryError",
    "CorruptHistoryError",
    "TamperedHistoryError",
    "ChainMismatchError",
    "TakeChangedError",
    "CopyError",
]


class CustodyError(Exception):
    """Root of every error of the chain of custody: sealing, verifying and copying takes."""


class NotATakeError(CustodyError):
    """A folder that is not a take: missing, no ``take.json`` or bag folder, or an unreadable ``take.json``."""


class TakeStillRecordingError(CustodyError):
    """A take a recorder is writing, or was writing when it died: sealed or verified only once closed."""


class UnsafePathError(CustodyError):
    """A path that could lead out of the take folder: a symbolic link, ``..``, an absolute path, a device."""


class UnexpectedFileError(CustodyError):
    """Something a closed take never holds: a recorder's leftovers, a half-written file, a nested history."""


class UnreadableFileError(CustodyError):
    """A file of the take that cannot be read (permissions, a failing drive)."""


class UnsupportedHashFormatError(CustodyError, ValueError):
    """A hash format Onset does not write or check (it writes and checks xxh64 and xxh128)."""


class MissingHistoryError(CustodyError):
    """A take without an ASC MHL history (no ``ascmhl/`` folder) where one is needed."""


class HistoryError(CustodyError):
    """A take's ASC MHL history that cannot be trusted: damaged, edited by hand, or incomplete."""


class CorruptHistoryError(HistoryError):
    """An MHL or chain file that is not ASC MHL XML: cut short, not XML, or lacking what ASC MHL requires."""


class TamperedHistoryError(HistoryError):
    """A generation file whose digest is not the one the chain file recorded: it changed after it was written."""


class ChainMismatchError(HistoryError):
    """The chain file and the generation files disagree: one listed but absent, one present but not listed."""


class TakeChangedError(CustodyError):
    """A take whose files no longer match its history, so no generation is written on top of it.

    ``report`` is the :class:`~studio_sync.custody.types.CustodyReport` naming what differs."""

    def __init__(self, message: str, report: Optional[Any] = None) -> None:
        super().__init__(message)
        self.report = report


class CopyError(CustodyError):
    """An offload copy that could not be made or did not verify; no copy is left at the destination."""
