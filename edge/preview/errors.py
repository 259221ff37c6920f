"""Errors of the preview server: one root, narrow subclasses that say what went wrong."""

from __future__ import annotations

from typing import Any, Dict, Optional

__all__ = ["PreviewError", "PreviewStartError", "ClientMessageError", "ApiError"]


class PreviewError(Exception):
    """Root of every error raised by :mod:`edge.preview`."""


class PreviewStartError(PreviewError):
    """The server could not start: its address cannot be bound, or a setting is unusable."""


class ClientMessageError(PreviewError, ValueError):
    """A message from a page that the server cannot take; the text says what was expected.

    The viewer gets it back as an ``error`` message and its socket stays open.
    """


class ApiError(PreviewError):
    """A REST request answered with ``status`` and ``{"error": message, **extra}``."""

    def __init__(self, status: int, message: str, extra: Optional[Dict[str, Any]] = None) -> None:
        super().__init__(message)
        self.status = int(status)
        self.message = message
        self.extra = dict(extra or {})

    def body(self) -> Dict[str, Any]:
        return {"error": self.message, **self.extra}
