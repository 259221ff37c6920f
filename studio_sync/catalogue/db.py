"""One small adapter over the catalogue's two databases: SQLite (the default) and PostgreSQL by URL.

The catalogue's SQL is written once, with ``?`` placeholders and types both databases read the
same way (``TEXT``, ``INTEGER``, ``BIGINT``, ``DOUBLE PRECISION``); each backend turns the
placeholders into its driver's style (sqlite3 takes ``?``, psycopg 3 ``%s``). Backends are chosen
by the URL's scheme from :data:`BACKENDS`:

* ``sqlite:///PATH``: the file at ``PATH`` (``sqlite:////srv/catalogue.sqlite`` is absolute,
  ``sqlite:///catalogue.sqlite`` relative to the working folder, ``~`` expands;
  ``sqlite:///:memory:`` a private in-memory catalogue). Write-ahead logging lets ``find`` read
  while an ingest writes; foreign keys are enforced.
* ``postgresql://user@host:port/db`` (or ``postgres://``): any libpq URL, through psycopg 3,
  imported only when such a URL is opened.

:meth:`Catalogue.transaction` is all or nothing on both: the ingest replaces a take's rows inside
one, so a reader sees the take's old rows or its new ones, never a mix. Driver errors become
:class:`~.errors.CatalogueQueryError` naming the catalogue (its password masked).
"""

from __future__ import annotations

import contextlib
import re
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Mapping, Optional, Sequence, Type

from studio_sync.catalogue.errors import (
    CatalogueDriverError,
    CatalogueNotFoundError,
    CatalogueQueryError,
    CatalogueUrlError,
)

__all__ = ["CatalogueUrl", "Catalogue", "BACKENDS", "parse_catalogue_url", "open_catalogue", "mask_url"]

_PASSWORD = re.compile(r"^(?P<head>[a-z]+://[^:/@]*:)(?P<password>[^@]*)(?P<tail>@.*)$")
_SQLITE_PREFIX = "sqlite:///"


def mask_url(url: str) -> str:
    """``url`` with its password (if any) replaced by ``***``, for messages and reports."""
    match = _PASSWORD.match(url)
    return url if match is None else f"{match.group('head')}***{match.group('tail')}"


@dataclass(frozen=True)
class CatalogueUrl:
    """A parsed catalogue URL: ``backend`` (a key of :data:`BACKENDS`) and what it opens:
    ``path`` for SQLite (None: in memory), ``dsn`` for PostgreSQL."""

    url: str
    backend: str
    path: Optional[Path] = None
    dsn: Optional[str] = None

    @property
    def shown(self) -> str:
        return mask_url(self.url)


def parse_catalogue_url(url: str) -> CatalogueUrl:
    """The backend and target of ``url`` (module docstring); :class:`CatalogueUrlError` otherwise."""
    text = str(url).strip()
    if text.startswith(_SQLITE_PREFIX):
        rest = text[len(_SQLITE_PREFIX):]
        if not rest:
            raise CatalogueUrlError(f"catalogue url {text!r} names no file: write sqlite:///PATH "
                                    "(sqlite:////srv/catalogue.sqlite for an absolute path)")
        if rest == ":memory:":
            return CatalogueUrl(text, "sqlite")
        return CatalogueUrl(text, "sqlite", path=Path(rest).expanduser())
    if text.startswith("sqlite:"):
        raise CatalogueUrlError(f"catalogue url {text!r}: a SQLite catalogue is sqlite:///PATH (three slashes)")
    for scheme in ("postgresql://", "postgres://"):
        if text.startswith(scheme):
            if len(text) == len(scheme):
                raise CatalogueUrlError(f"catalogue url {text!r} names no server: write "
                                        "postgresql://user@host:port/database")
            return CatalogueUrl(text, "postgresql", dsn=text)
    raise CatalogueUrlError(f"catalogue url {mask_url(text)!r} is neither sqlite:///PATH nor "
                            "postgresql://user@host:port/database")


class _Backend:
    """What one database needs beyond the shared SQL: connecting, placeholders, transactions."""

    name = ""

    def __init__(self, target: CatalogueUrl, create: bool) -> None:
        self.target = target

    def convert(self, sql: str) -> str:
        return sql

    def execute(self, sql: str, params: Sequence[Any]) -> List[Dict[str, Any]]:
        raise NotImplementedError

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        raise NotImplementedError

    def transaction(self) -> contextlib.AbstractContextManager:
        raise NotImplementedError

    def table_names(self) -> List[str]:
        raise NotImplementedError

    def errors(self) -> tuple:
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError


class _Sqlite(_Backend):
    name = "sqlite"

    def __init__(self, target: CatalogueUrl, create: bool) -> None:
        super().__init__(target, create)
        path = target.path
        if path is not None and not path.exists():
            if not create:
                raise CatalogueNotFoundError(f"no catalogue at {path} ({target.shown}): ingest takes first "
                                             "(onset studio ingest), or give --catalogue URL")
            path.parent.mkdir(parents=True, exist_ok=True)
        try:
            # Autocommit mode: transactions are begun and ended here, explicitly.
            self.conn = sqlite3.connect(":memory:" if path is None else str(path), isolation_level=None, timeout=60.0)
            self.conn.row_factory = sqlite3.Row
            self.conn.execute("PRAGMA foreign_keys = ON")
            if path is not None:
                self.conn.execute("PRAGMA journal_mode = WAL")
        except sqlite3.Error as err:
            raise CatalogueQueryError(f"cannot open the catalogue {target.shown}: {err}") from err

    def execute(self, sql: str, params: Sequence[Any]) -> List[Dict[str, Any]]:
        cursor = self.conn.execute(sql, tuple(params))
        return [dict(row) for row in cursor.fetchall()] if cursor.description else []

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        self.conn.executemany(sql, [tuple(r) for r in rows])

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        # IMMEDIATE takes the write lock at once: two ingests queue instead of failing half-way.
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        self.conn.execute("COMMIT")

    def table_names(self) -> List[str]:
        return [r["name"] for r in self.execute("SELECT name FROM sqlite_master WHERE type = 'table'", ())]

    def errors(self) -> tuple:
        return (sqlite3.Error,)

    def close(self) -> None:
        self.conn.close()


class _Postgres(_Backend):
    name = "postgresql"

    def __init__(self, target: CatalogueUrl, create: bool) -> None:
        super().__init__(target, create)
        try:
            import psycopg
            from psycopg.rows import dict_row
        except ImportError as err:
            raise CatalogueDriverError(f"the catalogue {target.shown} is PostgreSQL, which needs psycopg 3: "
                                       "pip install 'psycopg[binary]'") from err
        self._psycopg = psycopg
        try:
            self.conn = psycopg.connect(str(target.dsn), autocommit=True, row_factory=dict_row, connect_timeout=20)
        except psycopg.Error as err:
            raise CatalogueQueryError(f"cannot connect to the catalogue {target.shown}: "
                                      f"{str(err).strip() or type(err).__name__}") from err

    def convert(self, sql: str) -> str:
        # psycopg's placeholder is %s, so a literal % doubles; the catalogue's SQL holds no '?' literal.
        return sql.replace("%", "%%").replace("?", "%s")

    def execute(self, sql: str, params: Sequence[Any]) -> List[Dict[str, Any]]:
        with self.conn.cursor() as cursor:
            cursor.execute(sql, tuple(params))
            return [dict(row) for row in cursor.fetchall()] if cursor.description else []

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        with self.conn.cursor() as cursor:
            cursor.executemany(sql, [tuple(r) for r in rows])

    def transaction(self) -> contextlib.AbstractContextManager:
        return self.conn.transaction()

    def table_names(self) -> List[str]:
        rows = self.execute("SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()",
                            ())
        return [r["table_name"] for r in rows]

    def errors(self) -> tuple:
        return (self._psycopg.Error,)

    def close(self) -> None:
        self.conn.close()


#: The catalogue's backends by :attr:`CatalogueUrl.backend`.
BACKENDS: Mapping[str, Type[_Backend]] = {"sqlite": _Sqlite, "postgresql": _Postgres}


class Catalogue:
    """An open catalogue: the shared SQL run on its backend (module docstring). Use as a context
    manager, or :meth:`close` it."""

    def __init__(self, target: CatalogueUrl, backend: _Backend) -> None:
        self.target = target
        self._backend = backend
        self._in_transaction = False

    @property
    def backend(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return self._backend.name

    @property
    def url(self) -> str:
        """The catalogue's URL with its password masked."""
        return self.target.shown

    def _run(self, what: str, call: Callable[[], Any]) -> Any:
        try:
            return call()
        except self._backend.errors() as err:
            reason = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
            raise CatalogueQueryError(f"catalogue {self.url}: {what} failed: {reason}") from err

    def rows(self, sql: str, params: Sequence[Any] = ()) -> List[Dict[str, Any]]:
        """Run one statement; its rows as dicts (empty for a statement that returns none)."""
        converted = self._backend.convert(sql)
        return self._run(_first_words(sql), lambda: self._backend.execute(converted, params))

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        """Run one statement, ignoring any rows."""
        self.rows(sql, params)

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        """Run one statement for each parameter row."""
        if rows:
            converted = self._backend.convert(sql)
            self._run(_first_words(sql), lambda: self._backend.executemany(converted, rows))

    def scalar(self, sql: str, params: Sequence[Any] = ()) -> Any:
        """The first column of the first row, or None."""
        found = self.rows(sql, params)
        return next(iter(found[0].values())) if found else None

    @contextlib.contextmanager
    def transaction(self) -> Iterator["Catalogue"]:
        """All statements inside commit together or not at all (one level; not nested)."""
        if self._in_transaction:
            raise CatalogueQueryError(f"catalogue {self.url}: a transaction is already open")
        self._in_transaction = True
        try:
            manager = self._run("beginning a transaction", self._backend.transaction)
            try:
                with manager:
                    yield self
            except self._backend.errors() as err:
                raise CatalogueQueryError(f"catalogue {self.url}: the transaction failed and was rolled back: "
                                          f"{str(err).strip() or type(err).__name__}") from err
        finally:
            self._in_transaction = False

    def table_names(self) -> List[str]:
        """The tables the catalogue holds (any, not only Onset's)."""
        return sorted(self._run("listing tables", self._backend.table_names))

    def close(self) -> None:
        self._backend.close()

    def __enter__(self) -> "Catalogue":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _first_words(sql: str) -> str:
    words = " ".join(sql.split()[:3])
    return f"'{words} ...'"


def open_catalogue(url: str, create: bool = True) -> Catalogue:
    """Open the catalogue at ``url`` (module docstring). ``create``: make a missing SQLite file (and
    its folder); without it a missing file is :class:`CatalogueNotFoundError`. The tables are not
    touched here: :func:`studio_sync.catalogue.schema.ensure_schema` creates or checks them."""
    target = parse_catalogue_url(url)
    backend = BACKENDS[target.backend](target, create)
    return Catalogue(target, backend)
