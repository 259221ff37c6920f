"""The clock package's errors: one root, narrow subclasses."""

from __future__ import annotations

__all__ = ["ClockError", "ClockNotReadyError"]


class ClockError(Exception):
    """Root of the clock model's errors."""


class ClockNotReadyError(ClockError):
    """A mapping was asked of a clock model that has seen no sample yet."""
