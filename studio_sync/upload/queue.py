"""The persistent upload queue: SQLite at ``studio.upload.queue_path``, kept across crashes and reboots.

Three tables (schema version :data:`SCHEMA_VERSION`, in SQLite's ``user_version``; the file is
marked as Onset's with ``application_id``):

- ``takes``: one row per take: name, source folder, the studio it goes to (endpoint, bucket,
  prefix), the MHL generation it was verified against, state, reason, bytes total and sent, times;
- ``objects``: one row per file of the take (its path, size, modification time and MHL digest as
  hashed, key, multipart upload id and part size, state);
- ``parts``: one row per part the store acknowledged (upload id, number, offset, size, MD5, ETag).

Every change is one ``BEGIN IMMEDIATE`` transaction, the database is in WAL mode with
``synchronous=FULL``: a process killed at any instant (or a machine losing power) leaves the queue
as it was before or after a change, never between. Which parts the store really holds is asked
of the store on resume (ListParts); the parts table is what Onset sent and the ETags it must hand
to CompleteMultipartUpload.

One ``onset sync push`` at a time uploads from a queue (:mod:`studio_sync.upload.lock`).
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import sqlite3
import threading
from pathlib import Path
from typing import Dict, Iterable, Iterator, List, Optional, Sequence, Tuple

from studio_sync.upload.errors import QueueError
from studio_sync.upload.types import (
    ObjectState,
    QueuedObject,
    QueuedTake,
    StoredPart,
    TakePlan,
    TakeState,
)

__all__ = ["SCHEMA_VERSION", "APPLICATION_ID", "UploadQueue", "utc_now"]

SCHEMA_VERSION = 1
APPLICATION_ID = 0x4F4E5351  # "ONSQ"

_SCHEMA = """
CREATE TABLE takes (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    source TEXT NOT NULL,
    endpoint TEXT NOT NULL,
    bucket TEXT NOT NULL,
    prefix TEXT NOT NULL,
    generation INTEGER NOT NULL,
    generation_file TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('queued', 'uploading', 'verified', 'failed')),
    reason TEXT,
    bytes_total INTEGER NOT NULL CHECK (bytes_total >= 0),
    bytes_sent INTEGER NOT NULL DEFAULT 0 CHECK (bytes_sent >= 0),
    queued_utc TEXT NOT NULL,
    updated_utc TEXT NOT NULL,
    started_utc TEXT,
    finished_utc TEXT
);
CREATE TABLE objects (
    id INTEGER PRIMARY KEY,
    take_id INTEGER NOT NULL REFERENCES takes(id) ON DELETE CASCADE,
    ordinal INTEGER NOT NULL,
    rel TEXT NOT NULL,
    size INTEGER NOT NULL CHECK (size >= 0),
    mtime_ns INTEGER NOT NULL,
    hash_format TEXT NOT NULL,
    digest TEXT NOT NULL,
    key TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('pending', 'uploading', 'uploaded', 'verified')),
    upload_id TEXT,
    part_size INTEGER CHECK (part_size IS NULL OR part_size > 0),
    etag TEXT,
    UNIQUE (take_id, rel)
);
CREATE TABLE parts (
    object_id INTEGER NOT NULL REFERENCES objects(id) ON DELETE CASCADE,
    upload_id TEXT NOT NULL,
    part_number INTEGER NOT NULL CHECK (part_number BETWEEN 1 AND 10000),
    "offset" INTEGER NOT NULL CHECK ("offset" >= 0),
    size INTEGER NOT NULL CHECK (size >= 0),
    md5 TEXT NOT NULL,
    etag TEXT NOT NULL,
    PRIMARY KEY (upload_id, part_number)
);
CREATE TABLE stale_uploads (
    bucket TEXT NOT NULL,
    key TEXT NOT NULL,
    upload_id TEXT NOT NULL PRIMARY KEY
);
CREATE INDEX objects_by_take ON objects (take_id, ordinal);
CREATE INDEX parts_by_object ON parts (object_id);
"""

_TAKE_COLUMNS = """t.id, t.name, t.source, t.endpoint, t.bucket, t.prefix, t.generation, t.generation_file, t.state,
    t.reason, t.bytes_total, t.bytes_sent,
    (SELECT COUNT(*) FROM objects o WHERE o.take_id = t.id),
    (SELECT COUNT(*) FROM objects o WHERE o.take_id = t.id AND o.state = 'verified'),
    t.queued_utc, t.updated_utc, t.started_utc, t.finished_utc"""
_OBJECT_COLUMNS = "id, take_id, ordinal, rel, size, mtime_ns, hash_format, digest, key, state, upload_id, part_size, etag"


def utc_now() -> str:
    """Now, UTC, to the second: ``2027-01-15T08:10:02Z``."""
    return _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _take(row: Sequence) -> QueuedTake:
    return QueuedTake(row[0], row[1], row[2], row[3], row[4], row[5], row[6], row[7], TakeState(row[8]), row[9],
                      row[10], row[11], row[12], row[13], row[14], row[15], row[16], row[17])


def _object(row: Sequence) -> QueuedObject:
    return QueuedObject(row[0], row[1], row[2], row[3], row[4], row[5], row[6], row[7], row[8], ObjectState(row[9]),
                        row[10], row[11], row[12])


class UploadQueue:
    """The queue file at ``path`` (see the module docstring). Thread-safe: one connection, one lock."""

    def __init__(self, path: Path, create: bool = True) -> None:
        self.path = Path(path)
        if not create and not self.path.exists():
            raise QueueError(f"no upload queue at {self.path}")
        if create:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        try:
            self._db = sqlite3.connect(str(self.path), isolation_level=None, check_same_thread=False, timeout=10.0)
        except sqlite3.Error as err:
            raise QueueError(f"cannot open the upload queue {self.path}: {err}") from err
        try:
            self._prepare()
        except sqlite3.OperationalError as err:
            self._db.close()
            raise QueueError(f"cannot prepare the upload queue {self.path}: {err}") from err
        except sqlite3.DatabaseError as err:
            self._db.close()
            raise QueueError(f"{self.path} is not an Onset upload queue (SQLite said: {err}); move it away and "
                             "push the takes again") from err
        except BaseException:
            self._db.close()
            raise

    # ---- opening ------------------------------------------------------------------------------

    def _prepare(self) -> None:
        db = self._db
        db.execute("PRAGMA busy_timeout = 10000")
        application_id = db.execute("PRAGMA application_id").fetchone()[0]
        version = db.execute("PRAGMA user_version").fetchone()[0]
        tables = db.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()[0]
        if application_id == 0 and version == 0 and tables == 0:
            db.execute("PRAGMA journal_mode = WAL")
            with self._tx():
                for statement in _SCHEMA.split(";"):
                    if statement.strip():
                        db.execute(statement)
                db.execute(f"PRAGMA application_id = {APPLICATION_ID}")
                db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        elif application_id != APPLICATION_ID:
            raise QueueError(f"{self.path} is an SQLite file but not an Onset upload queue "
                             f"(application_id {application_id:#x}); move it away or set studio.upload.queue_path")
        elif version != SCHEMA_VERSION:
            raise QueueError(f"{self.path} is an upload queue of schema version {version}; this Onset reads version "
                             f"{SCHEMA_VERSION}: use the Onset that wrote it, or move it away and push the takes again")
        mode = db.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if str(mode).lower() != "wal":
            raise QueueError(f"{self.path}: SQLite refused WAL mode ({mode}); keep the queue on a local drive")
        db.execute("PRAGMA synchronous = FULL")
        db.execute("PRAGMA foreign_keys = ON")

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self) -> "UploadQueue":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextlib.contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        """One ``BEGIN IMMEDIATE`` transaction: committed whole, or rolled back whole."""
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
                try:
                    yield self._db
                except BaseException:
                    self._db.execute("ROLLBACK")
                    raise
                self._db.execute("COMMIT")
            except sqlite3.OperationalError as err:
                # A full disk, a read-only file: the transaction is rolled back whole; say where.
                raise QueueError(f"the upload queue {self.path} could not be written: {err}; what it held "
                                 "before is intact") from err

    def _query(self, sql: str, args: Iterable = ()) -> List[Tuple]:
        with self._lock:
            return list(self._db.execute(sql, tuple(args)))

    # ---- reading ------------------------------------------------------------------------------

    def take(self, name: str) -> Optional[QueuedTake]:
        rows = self._query(f"SELECT {_TAKE_COLUMNS} FROM takes t WHERE t.name = ?", (name,))
        return _take(rows[0]) if rows else None

    def takes(self, states: Optional[Iterable[TakeState]] = None) -> List[QueuedTake]:
        """Every take (in the order they were first queued), or those in ``states``."""
        rows = [_take(r) for r in self._query(f"SELECT {_TAKE_COLUMNS} FROM takes t ORDER BY t.queued_utc, t.id")]
        if states is None:
            return rows
        wanted = {TakeState(s) for s in states}
        return [r for r in rows if r.state in wanted]

    def objects(self, take_id: int) -> List[QueuedObject]:
        """The take's objects in upload order (data files, then the history, the chain file last)."""
        return [_object(r) for r in self._query(
            f"SELECT {_OBJECT_COLUMNS} FROM objects WHERE take_id = ? ORDER BY ordinal", (take_id,))]

    def object(self, object_id: int) -> QueuedObject:
        rows = self._query(f"SELECT {_OBJECT_COLUMNS} FROM objects WHERE id = ?", (object_id,))
        if not rows:
            raise QueueError(f"{self.path}: object {object_id} is not in the queue")
        return _object(rows[0])

    def parts(self, object_id: int) -> Dict[int, StoredPart]:
        """``{part number: part}`` the store acknowledged for the object's current upload id."""
        rows = self._query(
            'SELECT p.upload_id, p.part_number, p."offset", p.size, p.md5, p.etag FROM parts p JOIN objects o '
            "ON o.id = p.object_id AND o.upload_id = p.upload_id WHERE p.object_id = ?", (object_id,))
        return {r[1]: StoredPart(*r) for r in rows}

    def stale_uploads(self) -> List[Tuple[str, str, str]]:
        """``(bucket, key, upload id)`` of multipart uploads Onset started and no longer needs."""
        return [(r[0], r[1], r[2]) for r in self._query("SELECT bucket, key, upload_id FROM stale_uploads")]

    # ---- writing ------------------------------------------------------------------------------

    @staticmethod
    def _refresh_bytes(db: sqlite3.Connection, take_id: int, now: str) -> None:
        db.execute(
            """UPDATE takes SET updated_utc = ?, bytes_sent = COALESCE((
                   SELECT SUM(o.size) FROM objects o WHERE o.take_id = takes.id AND o.state IN ('uploaded', 'verified')
               ), 0) + COALESCE((
                   SELECT SUM(p.size) FROM parts p JOIN objects o ON o.id = p.object_id AND o.upload_id = p.upload_id
                   WHERE o.take_id = takes.id AND o.state = 'uploading'
               ), 0) WHERE id = ?""", (now, take_id))

    @staticmethod
    def _retire_upload(db: sqlite3.Connection, object_id: int) -> None:
        """Remember the object's multipart upload (if any) for aborting, and drop its parts."""
        db.execute("""INSERT OR IGNORE INTO stale_uploads (bucket, key, upload_id)
                      SELECT t.bucket, o.key, o.upload_id FROM objects o JOIN takes t ON t.id = o.take_id
                      WHERE o.id = ? AND o.upload_id IS NOT NULL AND o.state = 'uploading'""", (object_id,))
        db.execute("DELETE FROM parts WHERE object_id = ?", (object_id,))

    def enqueue(self, plan: TakePlan, reason: Optional[str] = None) -> QueuedTake:
        """Queue the take of ``plan`` (state ``queued``), or queue it again with this plan.

        A take queued before keeps every object whose size, digest and key are unchanged, with its
        state and upload id (so a resumed upload re-sends nothing); other objects start over, and
        their unfinished uploads are remembered for aborting."""
        now = utc_now()
        with self._tx() as db:
            row = db.execute("SELECT id, endpoint, bucket, prefix FROM takes WHERE name = ?", (plan.name,)).fetchone()
            if row is None:
                take_id = db.execute(
                    """INSERT INTO takes (name, source, endpoint, bucket, prefix, generation, generation_file, state,
                       reason, bytes_total, bytes_sent, queued_utc, updated_utc) VALUES (?,?,?,?,?,?,?,?,?,?,0,?,?)""",
                    (plan.name, plan.source, plan.endpoint, plan.bucket, plan.prefix, plan.generation,
                     plan.generation_file, TakeState.QUEUED.value, reason, plan.bytes_total, now, now)).lastrowid
                existing: Dict[str, Tuple] = {}
                same_studio = True
            else:
                take_id = row[0]
                same_studio = tuple(row[1:]) == (plan.endpoint, plan.bucket, plan.prefix)
                existing = {r[1]: r for r in db.execute(
                    "SELECT id, rel, size, hash_format, digest, key FROM objects WHERE take_id = ?", (take_id,))}
                db.execute(
                    """UPDATE takes SET source = ?, endpoint = ?, bucket = ?, prefix = ?, generation = ?,
                       generation_file = ?, state = ?, reason = ?, bytes_total = ?, updated_utc = ?,
                       started_utc = NULL, finished_utc = NULL WHERE id = ?""",
                    (plan.source, plan.endpoint, plan.bucket, plan.prefix, plan.generation, plan.generation_file,
                     TakeState.QUEUED.value, reason, plan.bytes_total, now, take_id))
            planned = {o.rel for o in plan.objects}
            for rel, old in existing.items():
                if rel not in planned:
                    self._retire_upload(db, old[0])
                    db.execute("DELETE FROM objects WHERE id = ?", (old[0],))
            for ordinal, o in enumerate(plan.objects):
                old = existing.get(o.rel)
                if old is not None and same_studio and tuple(old[2:]) == (o.size, o.hash_format, o.digest, o.key):
                    db.execute("UPDATE objects SET ordinal = ?, mtime_ns = ? WHERE id = ?",
                               (ordinal, o.mtime_ns, old[0]))
                    continue
                if old is not None:
                    self._retire_upload(db, old[0])
                    db.execute("DELETE FROM objects WHERE id = ?", (old[0],))
                db.execute(
                    """INSERT INTO objects (take_id, ordinal, rel, size, mtime_ns, hash_format, digest, key, state)
                       VALUES (?,?,?,?,?,?,?,?,?)""",
                    (take_id, ordinal, o.rel, o.size, o.mtime_ns, o.hash_format, o.digest, o.key,
                     ObjectState.PENDING.value))
            self._refresh_bytes(db, take_id, now)
        found = self.take(plan.name)
        assert found is not None
        return found

    def set_take_state(self, take_id: int, state: TakeState, reason: Optional[str] = None) -> None:
        """Move a take to ``state`` with ``reason`` (None clears it)."""
        now = utc_now()
        state = TakeState(state)
        with self._tx() as db:
            db.execute("UPDATE takes SET state = ?, reason = ?, updated_utc = ? WHERE id = ?",
                       (state.value, reason, now, take_id))
            if state is TakeState.UPLOADING:
                db.execute("UPDATE takes SET started_utc = COALESCE(started_utc, ?), finished_utc = NULL "
                           "WHERE id = ?", (now, take_id))
            elif state in (TakeState.VERIFIED, TakeState.FAILED):
                db.execute("UPDATE takes SET finished_utc = ? WHERE id = ?", (now, take_id))

    def set_reason(self, take_ids: Iterable[int], reason: Optional[str]) -> None:
        """Say why these takes are still queued (a studio that refused the keys, or is unreachable)."""
        now = utc_now()
        with self._tx() as db:
            for take_id in take_ids:
                db.execute("UPDATE takes SET reason = ?, updated_utc = ? WHERE id = ?", (reason, now, take_id))

    def start_upload(self, object_id: int, upload_id: str, part_size: int) -> None:
        """Keep a new multipart upload id for the object (before any part of it is sent)."""
        with self._tx() as db:
            self._retire_upload(db, object_id)
            db.execute("DELETE FROM stale_uploads WHERE upload_id = ?", (upload_id,))
            db.execute("UPDATE objects SET state = ?, upload_id = ?, part_size = ?, etag = NULL WHERE id = ?",
                       (ObjectState.UPLOADING.value, upload_id, part_size, object_id))
            take_id = db.execute("SELECT take_id FROM objects WHERE id = ?", (object_id,)).fetchone()[0]
            self._refresh_bytes(db, take_id, utc_now())

    def record_parts(self, object_id: int, parts: Sequence[StoredPart]) -> None:
        """Keep parts the store acknowledged (or was found holding) for the object's upload."""
        if not parts:
            return
        with self._tx() as db:
            for p in parts:
                db.execute('INSERT OR REPLACE INTO parts (object_id, upload_id, part_number, "offset", size, md5, etag) '
                           "VALUES (?,?,?,?,?,?,?)",
                           (object_id, p.upload_id, p.part_number, p.offset, p.size, p.md5, p.etag))
            take_id = db.execute("SELECT take_id FROM objects WHERE id = ?", (object_id,)).fetchone()[0]
            self._refresh_bytes(db, take_id, utc_now())

    def forget_parts(self, object_id: int, part_numbers: Iterable[int]) -> None:
        """Drop kept parts the store no longer holds (ListParts did not list them)."""
        numbers = list(part_numbers)
        if not numbers:
            return
        with self._tx() as db:
            for n in numbers:
                db.execute("DELETE FROM parts WHERE object_id = ? AND part_number = ?", (object_id, n))
            take_id = db.execute("SELECT take_id FROM objects WHERE id = ?", (object_id,)).fetchone()[0]
            self._refresh_bytes(db, take_id, utc_now())

    def object_uploaded(self, object_id: int, etag: str) -> None:
        """The object is complete in the studio (not yet read back)."""
        self._set_object(object_id, ObjectState.UPLOADED, etag)

    def object_verified(self, object_id: int) -> None:
        """The object was read back from the studio and matches its MHL digest."""
        self._set_object(object_id, ObjectState.VERIFIED, None)

    def _set_object(self, object_id: int, state: ObjectState, etag: Optional[str]) -> None:
        with self._tx() as db:
            db.execute("UPDATE objects SET state = ?, etag = COALESCE(?, etag) WHERE id = ?",
                       (state.value, etag, object_id))
            if state in (ObjectState.UPLOADED, ObjectState.VERIFIED):
                db.execute("DELETE FROM parts WHERE object_id = ?", (object_id,))
            take_id = db.execute("SELECT take_id FROM objects WHERE id = ?", (object_id,)).fetchone()[0]
            self._refresh_bytes(db, take_id, utc_now())

    def reset_object(self, object_id: int) -> None:
        """Start the object over: nothing of it counts as sent (its upload is remembered for aborting)."""
        with self._tx() as db:
            self._retire_upload(db, object_id)
            db.execute("UPDATE objects SET state = ?, upload_id = NULL, part_size = NULL, etag = NULL WHERE id = ?",
                       (ObjectState.PENDING.value, object_id))
            take_id = db.execute("SELECT take_id FROM objects WHERE id = ?", (object_id,)).fetchone()[0]
            self._refresh_bytes(db, take_id, utc_now())

    def drop_stale(self, upload_id: str) -> None:
        """An upload remembered for aborting was aborted (or the store no longer has it)."""
        with self._tx() as db:
            db.execute("DELETE FROM stale_uploads WHERE upload_id = ?", (upload_id,))
