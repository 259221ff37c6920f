"""What can go wrong with the studio's catalogue and its ingest, in words a data wrangler can act on.

Every message names the catalogue (its URL, password masked), the take or the object, and what to
do next. A take that does not verify is not an error of the ingest: it is refused, reported and
recorded (:class:`TakeRefusedError` carries the reasons between the ingest's own modules).
"""

from __future__ import annotations

from typing import Any, Optional, Sequence, Tuple

__all__ = [
    "CatalogueError",
    "CatalogueUrlError",
    "CatalogueDriverError",
    "CatalogueNotFoundError",
    "CatalogueSchemaError",
    "CatalogueQueryError",
    "IngestError",
    "TakeRefusedError",
    "LabelError",
]


class CatalogueError(Exception):
    """Root of every error of :mod:`studio_sync.catalogue`."""


class CatalogueUrlError(CatalogueError, ValueError):
    """A catalogue URL that is neither ``sqlite:///PATH`` nor ``postgresql://...``."""


class CatalogueDriverError(CatalogueError):
    """The database driver a URL needs is not installed (psycopg for PostgreSQL)."""


class CatalogueNotFoundError(CatalogueError):
    """A catalogue that does not exist yet where one is only read (``onset studio find``)."""


class CatalogueSchemaError(CatalogueError):
    """A catalogue whose tables are not the ones this version of Onset reads and writes."""


class CatalogueQueryError(CatalogueError):
    """A statement the database refused, or a connection that failed, with the database's reason."""


class IngestError(CatalogueError):
    """The ingest cannot go on at all: the storage cannot be listed, the keys are refused."""


class LabelError(CatalogueError):
    """A take that verified but whose bag cannot be read into frame labels (it is not catalogued)."""


class TakeRefusedError(CatalogueError):
    """A take that does not verify against its ASC MHL history; nothing of it is catalogued.

    ``take`` names it, ``problems`` holds one sentence per bad file (altered, missing, extra) or
    the history's own damage, ``report`` the :class:`~studio_sync.custody.CustodyReport` when the
    files were compared."""

    def __init__(self, take: str, reason: str, problems: Sequence[str] = (), report: Optional[Any] = None) -> None:
        self.take = take
        self.reason = reason
        self.problems: Tuple[str, ...] = tuple(problems)
        self.report = report
        super().__init__(f"take {take} refused: {reason}")
