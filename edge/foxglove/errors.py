"""Errors of the Foxglove bridge: one root, narrow subclasses that say what went wrong."""

from __future__ import annotations

__all__ = ["FoxgloveError", "FoxgloveUnavailableError", "FoxgloveStartError", "FoxgloveMessageError"]


class FoxgloveError(Exception):
    """Root of every error raised by :mod:`edge.foxglove`."""


class FoxgloveUnavailableError(FoxgloveError, ImportError):
    """The ``foxglove-sdk`` package is not installed; the message says how to install it."""

    def __init__(self, missing: str = "foxglove") -> None:
        super().__init__(
            f"the Foxglove server needs the {missing!r} module: pip install foxglove-sdk "
            "(or set foxglove.enabled: false in the profile)")
        self.missing = missing


class FoxgloveStartError(FoxgloveError):
    """The server could not start: its address is refused (not loopback) or cannot be bound."""


class FoxgloveMessageError(FoxgloveError, ValueError):
    """A value that cannot become a Foxglove message (wrong shape, not finite, a time before 1970)."""
