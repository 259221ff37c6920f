"""The style model's errors: one root, narrow subclasses that say what was wrong."""

from __future__ import annotations

__all__ = ["StyleModelError", "StyleFitError", "LookFileError", "UnknownLookError"]


class StyleModelError(Exception):
    """Root of the style model's errors."""


class StyleFitError(StyleModelError, ValueError):
    """A look could not be fitted to the samples given (too few, wrong shape, not finite)."""


class LookFileError(StyleModelError):
    """A look file is missing, corrupt, or not one this Onset reads."""


class UnknownLookError(StyleModelError, KeyError):
    """A look name that no shipped or given look has; the message lists the valid names."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""
