"""Errors of the filmmaker's vocabulary: one root, :class:`VocabularyError`, that names the word.

Every error carries the phrase, the word it stopped at and that word's position (0-based
character offset in the phrase), and what the vocabulary knows instead: close matches
(:func:`close_words`, ``difflib``'s ratio) and the categories of words it reads. ``str(err)``
is the whole message, the phrase under it with the word marked, e.g.::

    "dolyl" is not a word the vocabulary knows
      MCU, dolyl in
           ^^^^^
      close: "dolly", "dolly in", "dolly out"
      it knows:
        shot sizes (...)
        movements (...)
        ...
"""

from __future__ import annotations

import difflib
from typing import Iterable, List, Sequence, Tuple

__all__ = [
    "VocabularyError",
    "UnknownWordError",
    "BadTermError",
    "UnitError",
    "ValueOutOfRangeError",
    "ConflictError",
    "NotLabelledError",
    "UnshootableError",
    "close_words",
]

#: How alike (``difflib.SequenceMatcher.ratio``) a known word must be to be offered instead.
CLOSE_CUTOFF = 0.6


def close_words(word: str, known: Iterable[str], n: int = 5) -> List[str]:
    """Up to ``n`` of ``known`` closest to ``word`` (case-insensitive), closest first."""
    return difflib.get_close_matches(word.lower(), sorted(set(known)), n=n, cutoff=CLOSE_CUTOFF)


class VocabularyError(ValueError):
    """Root of every error of :mod:`studio_sync.vocabulary`: a phrase it cannot read, or cannot
    turn into what was asked. ``word`` (as written) starts at character ``position`` of
    ``phrase``; ``suggestions`` are close known words, ``known`` the categories it reads."""

    def __init__(self, reason: str, *, phrase: str = "", word: str = "", position: int = 0,
                 suggestions: Sequence[str] = (), known: Sequence[str] = ()) -> None:
        self.reason = reason
        self.phrase = phrase
        self.word = word
        self.position = int(position)
        self.suggestions: Tuple[str, ...] = tuple(suggestions)
        self.known: Tuple[str, ...] = tuple(known)
        super().__init__(self._message())

    def _message(self) -> str:
        lines = [self.reason]
        if self.phrase and self.word:
            lines.append(f"  {self.phrase}")
            lines.append("  " + " " * self.position + "^" * max(1, len(self.word)))
        if self.suggestions:
            lines.append("  close: " + ", ".join(f'"{s}"' for s in self.suggestions))
        if self.known:
            lines.append("  it knows:")
            lines.extend(f"    {k}" for k in self.known)
        return "\n".join(lines)


class UnknownWordError(VocabularyError):
    """A word (or a symbol) that is in none of the lexicon's tables."""


class BadTermError(VocabularyError):
    """Known words that do not make a term: a comparator without its number, "between" without
    its second number, a unit or a qualifier on its own, a term of filler words only."""


class UnitError(VocabularyError):
    """A number without a unit, or with a unit the vocabulary does not measure in."""


class ValueOutOfRangeError(VocabularyError):
    """A number no label can have: zero, negative, or past what any lens or sensor reaches."""


class ConflictError(VocabularyError):
    """Words that cannot all hold: ranges that do not overlap, a pace for a camera that does
    not move, a distance for a frame without a subject."""


class NotLabelledError(VocabularyError):
    """A production word the vocabulary recognises but no recorded label can answer (lighting,
    how many people are in frame, the camera's angle, focus)."""


class UnshootableError(VocabularyError):
    """A query the simulated stage cannot shoot as a capture plan; ``problems`` says each reason."""

    def __init__(self, reason: str, *, problems: Sequence[str] = (), **where) -> None:
        self.problems: Tuple[str, ...] = tuple(problems)
        full = reason if not self.problems else reason + "\n" + "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(full, **where)
