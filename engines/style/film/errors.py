"""Errors of the film-emulation pipeline: one root, narrow subclasses that name the values involved.

Every error raised by :mod:`engines.style.film` is a :class:`FilmError`. A pair generator that only
wants to skip a bad frame catches the root; a command line that reports to the user picks the
subclass (a bad frame is the caller's data, an unknown look is a typo, a bad spec is a code bug).
"""

from __future__ import annotations

__all__ = ["FilmError", "FilmInputError", "UnknownLookError", "FilmSpecError"]


class FilmError(Exception):
    """Root of every error raised by :mod:`engines.style.film`."""


class FilmInputError(FilmError, ValueError):
    """A frame or argument the pipeline cannot take: wrong dtype or shape, NaN, code values outside
    [0, 1], a non-finite exposure, a bad seed or output width (the message names the value)."""


class UnknownLookError(FilmError, ValueError):
    """A look name that is not one of :data:`~engines.style.film.looks.LOOK_NAMES` (the message lists them)."""


class FilmSpecError(FilmError, ValueError):
    """A stock, format or development spec whose numbers are not physical (e.g. D-max below D-min)."""
