"""Writing the catalogue: a take's rows replaced in one transaction, and the ingest's own record.

:func:`replace_take` deletes every row the take had (frames, shots, generations, provenance, the
take) and inserts the new ones, with the run's result for it, in one transaction: ingesting a
take again gives the same rows, and a reader meanwhile sees the old take or the new one.
:func:`withdraw_take` does the same for a take that was refused: its result is recorded and any
rows an earlier ingest left of it are removed, so a take whose stored copy no longer verifies is
no longer found (nor exported into a dataset).
"""

from __future__ import annotations

import getpass
import platform
import uuid
from typing import Any, Mapping, Optional, Sequence

from studio_sync.catalogue.db import Catalogue
from studio_sync.catalogue.rows import TakeRows, json_text
from studio_sync.catalogue.schema import TAKE_TABLES, insert_sql, row_values, utc_now

__all__ = ["start_run", "finish_run", "replace_take", "withdraw_take", "record_result", "take_is_catalogued"]


def _user() -> Optional[str]:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry, no LOGNAME in a container
        return None


def start_run(catalogue: Catalogue, *, endpoint: str, bucket: str, prefix: str,
              requested: Optional[Sequence[str]], software: Mapping[str, Any]) -> str:
    """Record a new ingest run (status ``running``); its id."""
    run_id = uuid.uuid4().hex
    row = {"run_id": run_id, "started_at": utc_now(), "status": "running", "host": platform.node(),
           "user_name": _user(), "endpoint": endpoint, "bucket": bucket, "prefix": prefix,
           "requested": json_text(list(requested)) if requested is not None else None,
           "takes_seen": 0, "ingested": 0, "refused": 0, "failed": 0, "software": json_text(dict(software))}
    catalogue.execute(insert_sql("ingest_runs"), row_values("ingest_runs", row))
    return run_id


def finish_run(catalogue: Catalogue, run_id: str, *, seen: int, ingested: int, refused: int, failed: int,
               error: Optional[str] = None) -> None:
    """Close the run: its counts, ``finished`` (or ``failed`` with ``error``)."""
    catalogue.execute(
        "UPDATE ingest_runs SET finished_at = ?, status = ?, takes_seen = ?, ingested = ?, refused = ?, failed = ?, "
        "error = ? WHERE run_id = ?",
        (utc_now(), "failed" if error else "finished", seen, ingested, refused, failed, error, run_id))


def record_result(catalogue: Catalogue, run_id: str, take: str, status: str, *, reason: Optional[str] = None,
                  problems: Sequence[str] = (), files_checked: Optional[int] = None,
                  bytes_checked: Optional[int] = None, frames: Optional[int] = None,
                  shots: Optional[int] = None) -> None:
    """One take's result in a run (inside the caller's transaction, if any)."""
    row = {"run_id": run_id, "take": take, "status": status, "reason": reason,
           "problems": json_text(list(problems)) if problems else None, "files_checked": files_checked,
           "bytes_checked": bytes_checked, "frames": frames, "shots": shots, "finished_at": utc_now()}
    catalogue.execute("DELETE FROM ingest_results WHERE run_id = ? AND take = ?", (run_id, take))
    catalogue.execute(insert_sql("ingest_results"), row_values("ingest_results", row))


def _delete_take(catalogue: Catalogue, take: str) -> None:
    for table in TAKE_TABLES:
        catalogue.execute(f"DELETE FROM {table} WHERE take = ?", (take,))


def take_is_catalogued(catalogue: Catalogue, take: str) -> bool:
    return catalogue.scalar("SELECT COUNT(*) FROM takes WHERE take = ?", (take,)) not in (None, 0)


def replace_take(catalogue: Catalogue, rows: TakeRows, run_id: str, *, files_checked: int,
                 bytes_checked: int) -> None:
    """Replace the take's rows with ``rows`` and record it ingested, all in one transaction."""
    take = rows.take["take"]
    with catalogue.transaction():
        _delete_take(catalogue, take)
        catalogue.execute(insert_sql("takes"), row_values("takes", rows.take))
        catalogue.executemany(insert_sql("shots"), [row_values("shots", r) for r in rows.shots])
        catalogue.executemany(insert_sql("frames"), [row_values("frames", r) for r in rows.frames])
        catalogue.execute(insert_sql("provenance"), row_values("provenance", rows.provenance))
        catalogue.executemany(insert_sql("generations"), [row_values("generations", r) for r in rows.generations])
        record_result(catalogue, run_id, take, "ingested", files_checked=files_checked, bytes_checked=bytes_checked,
                      frames=len(rows.frames), shots=len(rows.shots))


def withdraw_take(catalogue: Catalogue, take: str, run_id: str, status: str, reason: str,
                  problems: Sequence[str] = (), files_checked: Optional[int] = None,
                  bytes_checked: Optional[int] = None) -> bool:
    """Record the take ``status`` (refused or failed) and remove any rows it had; whether it had any."""
    with catalogue.transaction():
        had = take_is_catalogued(catalogue, take)
        _delete_take(catalogue, take)
        record_result(catalogue, run_id, take, status, reason=reason, problems=problems,
                      files_checked=files_checked, bytes_checked=bytes_checked)
    return had
