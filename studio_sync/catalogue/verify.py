"""A take in the studio's storage checked against its own ASC MHL history, and copied down as it is checked.

:func:`fetch_verified_take` trusts nothing the store says before the history vouches for it:

1. the take's objects are listed; a key that is not a path inside the take refuses it;
2. its ``ascmhl/`` objects (the generations and the chain file) are downloaded and read with
   :func:`studio_sync.custody.read_history`, which checks the chain, each generation's c4 digest,
   the XML and every recorded path; no history, or one that cannot be trusted, refuses the take;
3. the history's newest generation names every file the take must hold, with the digest and
   size its first generation recorded (ASC MHL verifies against those): an object the history
   does not record is **extra**, a recorded file with no object is **missing**, and every other
   object is streamed down and hashed in the recorded format as it passes; a digest or a size
   that differs is **altered** (:mod:`studio_sync.storage.objects`). Names the history's ignore
   list holds (``.DS_Store``) are left out, as ascmhl leaves them out.

Every object is checked even after a first bad one, so the refusal names each bad file (a
:class:`~studio_sync.custody.CustodyReport`, as ``onset sync verify`` reports a local take).
What is left on disk of a take that verified is exactly what its history records, byte for
byte: the copy its labels are then derived from.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

from studio_sync.catalogue.errors import TakeRefusedError
from studio_sync.custody import (
    HISTORY_DIRNAME,
    AlteredFile,
    ByteMeter,
    CustodyError,
    CustodyReport,
    ExtraFile,
    MissingFile,
    TakeHistory,
    read_history,
)
from studio_sync.storage.objects import (
    StoredObject,
    download,
    is_history_path,
    is_ignored,
    list_take_objects,
    take_prefix,
)

__all__ = ["FetchedTake", "fetch_verified_take"]

#: ``progress(bytes_done, bytes_in_all)`` of one take's hashing.
Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class FetchedTake:
    """A take that verified: its local copy in ``folder``, its history, the report and its objects."""

    name: str
    folder: Path
    history: TakeHistory
    report: CustodyReport
    objects: Tuple[StoredObject, ...]

    @property
    def stored_bytes(self) -> int:
        return sum(o.size for o in self.objects)

    @property
    def uploaded_at(self) -> Optional[str]:
        stamps = [o.last_modified for o in self.objects if o.last_modified]
        return max(stamps) if stamps else None


def _read_history(client: Any, bucket: str, name: str, objects: Sequence[StoredObject], folder: Path,
                  endpoint: str, base: str) -> TakeHistory:
    history_objects = [o for o in objects if is_history_path(o.rel)]
    if not history_objects:
        raise TakeRefusedError(name, f"no ASC MHL history in the store (nothing under s3://{bucket}/{base}"
                                     f"{HISTORY_DIRNAME}/): seal the take (onset sync seal) and upload it again")
    for obj in history_objects:
        download(client, bucket, obj.key, folder / obj.rel, endpoint)
    try:
        history = read_history(folder)
    except CustodyError as err:
        raise TakeRefusedError(name, f"its ASC MHL history cannot be trusted: {err}") from err
    if not history.generations:
        raise TakeRefusedError(name, "its ASC MHL history holds no generation: nothing vouches for its files")
    return history


def fetch_verified_take(client: Any, bucket: str, prefix: str, name: str, into: Path, endpoint: str,
                        progress: Optional[Progress] = None) -> FetchedTake:
    """Check take ``name`` in ``bucket`` against its history and copy it into ``into/<name>/``
    (module docstring); :class:`~.errors.TakeRefusedError` naming every bad file when it does not
    verify. Storage failures raise :class:`studio_sync.storage.StorageRequestError`."""
    base = take_prefix(prefix, name)
    objects, unsafe = list_take_objects(client, bucket, prefix, name, endpoint)
    if unsafe:
        raise TakeRefusedError(name, f"{len(unsafe)} key(s) under s3://{bucket}/{base} are not paths inside the "
                                     "take", unsafe)
    if not objects:
        raise TakeRefusedError(name, f"no objects under s3://{bucket}/{base}: the take is not in the store")
    folder = Path(into) / name
    history = _read_history(client, bucket, name, objects, folder, endpoint, base)
    patterns = list(history.mhl.latest_ignore_patterns() or [])
    files = [o for o in objects if not is_history_path(o.rel) and not is_ignored(o.rel, patterns)]
    stored: Dict[str, StoredObject] = {o.rel: o for o in files}
    recorded = history.files
    extra = tuple(ExtraFile(o.rel, o.size) for o in files if o.rel not in recorded)
    missing = tuple(MissingFile(r.path, r.size, r.hash_format, r.digest, r.generation)
                    for rel, r in sorted(recorded.items()) if rel not in stored)
    to_check = [o for o in files if o.rel in recorded]
    meter = ByteMeter(sum(o.size for o in to_check), progress)
    altered: List[AlteredFile] = []
    checked_bytes = 0
    for obj in to_check:
        expected = recorded[obj.rel]
        size, digest = download(client, bucket, obj.key, folder / obj.rel, endpoint, expected.hash_format, meter)
        checked_bytes += size
        if digest != expected.digest or (expected.size is not None and size != expected.size):
            altered.append(AlteredFile(obj.rel, expected.hash_format, expected.digest, str(digest), expected.size,
                                       size, expected.generation))
    latest = history.latest
    report = CustodyReport(Path(name), latest.number, latest.file_name, len(to_check), checked_bytes, missing,
                           extra, tuple(altered))
    if not report.ok:
        summary = report.summary()
        reason = summary[len(name) + 2:] if summary.startswith(f"{name}: ") else summary
        raise TakeRefusedError(name, reason, report.problems(), report)
    return FetchedTake(name, folder, history, report, tuple(objects))
