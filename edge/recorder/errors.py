"""Errors of the take recorder: one root, narrow subclasses that say what went wrong and with what."""

from __future__ import annotations

__all__ = [
    "RecorderError",
    "SlateError",
    "RecorderStateError",
    "UnknownMessageTypeError",
    "DiskSpaceError",
    "BagError",
    "TakeNotFoundError",
    "TakeFileError",
    "RecoveryError",
    "ControlError",
    "ControlUnavailableError",
    "ControlAuthError",
]


class RecorderError(Exception):
    """Root of every error raised by the recorder, its bags, takes, recovery and control API."""


class SlateError(RecorderError, ValueError):
    """A scene, shot or take number that cannot name a take (empty, unsafe characters, take < 1)."""


class RecorderStateError(RecorderError):
    """A start while a take is recording, or a stop while none is."""


class UnknownMessageTypeError(RecorderError, KeyError):
    """A message type the recorder's typestore has no definition for."""

    def __str__(self) -> str:  # KeyError would quote the whole message
        return str(self.args[0]) if self.args else ""


class DiskSpaceError(RecorderError):
    """The takes folder's file system is below the configured free-space floor (or full)."""


class BagError(RecorderError):
    """A bag that cannot be written or read as rosbag2 + MCAP."""


class TakeNotFoundError(RecorderError):
    """A take name or path that is not a take folder."""


class TakeFileError(RecorderError):
    """A ``take.json`` that is missing, not JSON, or not a take document."""


class RecoveryError(RecorderError):
    """A take that could not be made a valid bag again; the original file is kept."""


class ControlError(RecorderError):
    """The control API refused a request or could not be reached; carries the HTTP status if any."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class ControlUnavailableError(ControlError):
    """Nothing listens at the control URL."""


class ControlAuthError(ControlError):
    """The control API answered 401: missing or wrong token."""
