"""What can go wrong building a training dataset from the studio, in words a data wrangler can act on.

Every error may cross a process boundary (a Ray worker fetches and encodes a take, the driver
reports it): each pickles with its message and values.
"""

from __future__ import annotations

from typing import Sequence, Tuple

__all__ = [
    "StudioDatasetError",
    "SelectionError",
    "NothingSelectedError",
    "CatalogueMismatchError",
    "FetchError",
    "TakeNotVerifiedError",
    "EngineError",
    "RayNotInstalledError",
    "RayUnreachableError",
]


class StudioDatasetError(Exception):
    """Root of every error of :mod:`studio_sync.datasets`."""


class SelectionError(StudioDatasetError):
    """A selection that cannot be made: a flag that names no shot size or movement, filters that
    contradict each other, a catalogue that cannot be read."""


class NothingSelectedError(SelectionError):
    """The catalogue holds no take (or no frame) that the query selects."""


class CatalogueMismatchError(StudioDatasetError):
    """A take whose copy in the store no longer matches its catalogue rows (another scene, frames
    the catalogue names but the take does not give): the catalogue is stale, ingest again."""


class FetchError(StudioDatasetError):
    """A take that could not be read from the store (listing or a download failed)."""


class TakeNotVerifiedError(StudioDatasetError):
    """A take in the store that does not verify against its ASC MHL history; nothing of it is
    exported. ``take`` names it, ``problems`` holds one sentence per bad file (or the history's
    own damage)."""

    def __init__(self, take: str, reason: str, problems: Sequence[str] = ()) -> None:
        self.take = take
        self.reason = reason
        self.problems: Tuple[str, ...] = tuple(problems)
        lines = [f"take {take} does not verify and is not exported: {reason}"]
        lines += [f"  {p}" for p in self.problems[:20]]
        if len(self.problems) > 20:
            lines.append(f"  ... and {len(self.problems) - 20} more")
        super().__init__("\n".join(lines))

    def __reduce__(self):
        return (type(self), (self.take, self.reason, self.problems))


class EngineError(StudioDatasetError):
    """The engine the build was asked to run on cannot be used."""


class RayNotInstalledError(EngineError):
    """``--ray`` without Ray installed."""


class RayUnreachableError(EngineError):
    """No Ray cluster answers at the address given, or the local instance did not start."""
