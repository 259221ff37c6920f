"""``onset studio ingest``: every take in the studio's storage verified against its ASC MHL, then catalogued.

Runs on any machine that reaches the storage, with the **reader** identity (list and read only).
For each take under ``<prefix>`` (or each one named), in name order:

1. :func:`~.verify.fetch_verified_take` lists its objects, reads its history, and streams every
   object down into a temporary folder while hashing it against the digest and size the history
   recorded; a take that does not verify is **refused**: its result names each bad file, nothing
   of it is catalogued, and rows an earlier ingest left of it are withdrawn (:mod:`.write`);
2. the verified copy is labelled through the dataset builder's code path (:mod:`.labels`), its
   ``captions.json`` read when it has one (:mod:`.captions`);
3. its rows (:mod:`.rows`) replace any it had, in one transaction with its result.

A take that verified but cannot be labelled (its bag unreadable), or that could not be read from
the store (a connection lost half-way), **failed**: its result says why and its earlier rows, if
any, stay. Every run is recorded in ``ingest_runs``, each take's outcome in ``ingest_results``.
The temporary copy is removed after each take. A storage that cannot be listed at all (wrong
keys, no studio) stops the run with :class:`~.errors.IngestError`, a catalogue that refuses a
write with its :class:`~.errors.CatalogueError`; the run is then recorded ``failed`` with why,
and the take being written keeps the rows it had (its transaction rolled back).
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

from config.studio import StudioConfig
from engines.captioner.dataset.provenance import software_provenance
from studio_sync.catalogue.captions import read_captions
from studio_sync.catalogue.db import Catalogue
from studio_sync.catalogue.errors import CatalogueError, IngestError, LabelError, TakeRefusedError
from studio_sync.catalogue.labels import DEFAULT_FPS, label_take
from studio_sync.catalogue.rows import take_rows
from studio_sync.catalogue.schema import ensure_schema, utc_now
from studio_sync.catalogue.store import list_take_names, name_problem
from studio_sync.catalogue.verify import fetch_verified_take
from studio_sync.catalogue.write import finish_run, record_result, replace_take, start_run, withdraw_take
from studio_sync.storage import CredentialsError, StudioStorageError, s3_client
from studio_sync.storage.objects import take_prefix

__all__ = ["INGESTED", "REFUSED", "FAILED", "IngestOptions", "TakeOutcome", "IngestReport", "ingest_takes"]

INGESTED, REFUSED, FAILED = "ingested", "refused", "failed"

#: ``progress(take, bytes_done, bytes_in_all)`` while a take's objects are hashed.
IngestProgress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class IngestOptions:
    """``fps``: frames catalogued per second of each take (the dataset builder's default);
    ``work_dir``: where takes are copied down to be checked and labelled (None: the system's
    temporary folder); each take's copy is removed once it is catalogued or refused."""

    fps: float = DEFAULT_FPS
    work_dir: Optional[Path] = None


@dataclass(frozen=True)
class TakeOutcome:
    """What became of one take: ``status`` (ingested, refused, failed), ``reason`` in one sentence,
    ``problems`` one per bad file; what was checked and catalogued."""

    take: str
    status: str
    reason: Optional[str] = None
    problems: Tuple[str, ...] = ()
    files_checked: int = 0
    bytes_checked: int = 0
    frames: int = 0
    shots: int = 0
    hash_formats: Tuple[str, ...] = ()
    generation: Optional[int] = None
    withdrawn: bool = False
    notes: Tuple[str, ...] = ()

    def to_dict(self) -> Dict[str, Any]:
        return {"take": self.take, "status": self.status, "reason": self.reason, "problems": list(self.problems),
                "files_checked": self.files_checked, "bytes_checked": self.bytes_checked, "frames": self.frames,
                "shots": self.shots, "hash_formats": list(self.hash_formats), "generation": self.generation,
                "withdrawn": self.withdrawn, "notes": list(self.notes)}


@dataclass(frozen=True)
class IngestReport:
    """One run: its id, the catalogue, the storage it read, and every take's outcome in order."""

    run_id: str
    catalogue: str
    source: str
    outcomes: Tuple[TakeOutcome, ...] = field(default=())

    def _count(self, status: str) -> int:
        return sum(o.status == status for o in self.outcomes)

    @property
    def ingested(self) -> int:
        return self._count(INGESTED)

    @property
    def refused(self) -> int:
        return self._count(REFUSED)

    @property
    def failed(self) -> int:
        return self._count(FAILED)

    @property
    def ok(self) -> bool:
        """True when no take was refused or failed."""
        return self.refused == 0 and self.failed == 0

    def to_dict(self) -> Dict[str, Any]:
        return {"run_id": self.run_id, "catalogue": self.catalogue, "source": self.source, "ok": self.ok,
                "ingested": self.ingested, "refused": self.refused, "failed": self.failed,
                "takes": [o.to_dict() for o in self.outcomes]}


def _ingest_one(catalogue: Catalogue, client: Any, config: StudioConfig, name: str, run_id: str,
                options: IngestOptions, software: Dict[str, Any], progress: Optional[IngestProgress]) -> TakeOutcome:
    storage = config.storage
    endpoint = config.endpoint_url()
    problem = name_problem(name)
    if problem:
        record_result(catalogue, run_id, name, REFUSED, reason=problem)
        return TakeOutcome(name, REFUSED, problem)
    work = Path(tempfile.mkdtemp(prefix="onset-ingest-", dir=None if options.work_dir is None
                                 else str(Path(options.work_dir).expanduser())))
    try:
        hashing = None if progress is None else (lambda done, total: progress(name, done, total))
        try:
            fetched = fetch_verified_take(client, storage.bucket, storage.prefix, name, work, endpoint, hashing)
        except TakeRefusedError as refusal:
            report = refusal.report
            checked = (report.files_checked, report.bytes_checked) if report is not None else (None, None)
            withdrawn = withdraw_take(catalogue, name, run_id, REFUSED, refusal.reason, refusal.problems, *checked)
            return TakeOutcome(name, REFUSED, refusal.reason, refusal.problems, checked[0] or 0, checked[1] or 0,
                               withdrawn=withdrawn)
        except CredentialsError:
            raise  # the keys are refused for every take: the run stops
        except (StudioStorageError, OSError) as err:
            reason = f"could not be read from the store: {err}"
            record_result(catalogue, run_id, name, FAILED, reason=reason)
            return TakeOutcome(name, FAILED, reason)
        report = fetched.report
        formats = tuple(sorted({f.hash_format for f in fetched.history.files.values()}))
        try:
            labels = label_take(fetched.folder, options.fps)
        except LabelError as err:
            record_result(catalogue, run_id, name, FAILED, reason=str(err), files_checked=report.files_checked,
                          bytes_checked=report.bytes_checked)
            return TakeOutcome(name, FAILED, str(err), (), report.files_checked, report.bytes_checked,
                               hash_formats=formats, generation=report.generation)
        captions, caption_note = read_captions(fetched.folder)
        notes = tuple(n for n in (labels.note, caption_note) if n)
        rows = take_rows(fetched, labels, captions, bucket=storage.bucket,
                         storage_key=take_prefix(storage.prefix, name), run_id=run_id, ingested_at=utc_now(),
                         labels_software=dict(software, fps=float(options.fps)), notes=notes)
        replace_take(catalogue, rows, run_id, files_checked=report.files_checked, bytes_checked=report.bytes_checked)
        return TakeOutcome(name, INGESTED, None, (), report.files_checked, report.bytes_checked, len(rows.frames),
                           len(rows.shots), formats, report.generation, notes=notes)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def ingest_takes(config: StudioConfig, catalogue: Catalogue, takes: Optional[Sequence[str]] = None, *,
                 options: IngestOptions = IngestOptions(), client: Any = None,
                 progress: Optional[IngestProgress] = None,
                 on_outcome: Optional[Callable[[TakeOutcome], None]] = None) -> IngestReport:
    """Verify and catalogue ``takes`` (None: every take under the storage's prefix) from the studio's
    storage into ``catalogue`` (module docstring). ``client``: an S3 client (default: the reader
    identity's); ``on_outcome`` hears each take's outcome as it is decided."""
    ensure_schema(catalogue)
    storage = config.storage
    endpoint = config.endpoint_url()
    source = f"s3://{storage.bucket}/{storage.prefix}"
    software = software_provenance()
    run_id = start_run(catalogue, endpoint=endpoint, bucket=storage.bucket, prefix=storage.prefix,
                       requested=None if takes is None else list(takes), software=software)
    outcomes: List[TakeOutcome] = []
    try:
        if client is None:
            client = s3_client(config, "reader")
        names = list(dict.fromkeys(takes)) if takes is not None else list_take_names(client, storage.bucket,
                                                                                      storage.prefix, endpoint)
        for name in names:
            outcome = _ingest_one(catalogue, client, config, name, run_id, options, software, progress)
            outcomes.append(outcome)
            if on_outcome is not None:
                on_outcome(outcome)
    except (StudioStorageError, CatalogueError) as err:
        try:
            finish_run(catalogue, run_id, seen=len(outcomes), ingested=sum(o.status == INGESTED for o in outcomes),
                       refused=sum(o.status == REFUSED for o in outcomes),
                       failed=sum(o.status == FAILED for o in outcomes), error=str(err))
        except CatalogueError:
            pass  # the catalogue itself failed: the run's row says running, as for a run that died
        if isinstance(err, CatalogueError):
            raise
        raise IngestError(f"ingest from {source} stopped: {err}") from err
    report = IngestReport(run_id, catalogue.url, source, tuple(outcomes))
    finish_run(catalogue, run_id, seen=len(outcomes), ingested=report.ingested, refused=report.refused,
               failed=report.failed)
    return report
