"""What a take uploads, decided once when it is queued: verified against its ASC MHL history first.

A take is queued only when :func:`studio_sync.custody.verify_take` finds every file matching
its history (nothing missing, extra or altered); a take with no history is refused with the hint
``onset sync seal TAKE``. Its objects are every file its history records, with the digest the
history records (the one the studio re-verifies), then the history's own files: the generation
files in order and the chain file last, so a take is complete in the studio only once its chain
file is there. Each file's size and modification time are taken before the hashing and checked
again after it (a file changed while it was being verified refuses the take); the uploader
checks them again before its first part.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Dict, List, Optional, Tuple

from config.studio import StudioConfig
from studio_sync.upload.errors import TakeRefusedError
from studio_sync.upload.keys import object_key, take_prefix
from studio_sync.upload.types import PlannedObject, TakePlan

__all__ = ["plan_take", "history_files"]

_Stat = Tuple[int, int]


def history_files(generation_files: List[str]) -> List[str]:
    """``ascmhl/…`` paths of a take's history: its generation files in order, then the chain file."""
    from studio_sync.custody import CHAIN_FILE, HISTORY_DIRNAME

    return [f"{HISTORY_DIRNAME}/{name}" for name in generation_files] + [f"{HISTORY_DIRNAME}/{CHAIN_FILE}"]


def _stats(folder: Path, rels: List[str]) -> Dict[str, _Stat]:
    out: Dict[str, _Stat] = {}
    for rel in rels:
        try:
            info = os.lstat(folder / rel)
        except OSError as err:
            raise TakeRefusedError(f"take {folder.name}: cannot read {rel}: {err.strerror or err}") from err
        if not stat.S_ISREG(info.st_mode):
            raise TakeRefusedError(f"take {folder.name}: {rel} is not a plain file; a take holds plain files only")
        out[rel] = (info.st_size, info.st_mtime_ns)
    return out


def plan_take(config: StudioConfig, folder: Path, progress: Optional[object] = None) -> TakePlan:
    """Verify the take at ``folder`` against its MHL history and list what it uploads.

    ``progress(bytes_done, bytes_in_all)`` follows the hashing. Raises :class:`TakeRefusedError`
    (the take is not queued) or :class:`~studio_sync.upload.errors.InvalidKeyError`."""
    from studio_sync.custody import CustodyError, MissingHistoryError, file_digest, read_history, verify_take

    given = Path(folder).expanduser()
    if not given.is_dir():
        raise TakeRefusedError(f"{given} is not a take folder (it does not exist or is not a folder)")
    folder = given.resolve()
    name = folder.name
    storage = config.storage
    take_prefix(storage.prefix, name)
    try:
        history = read_history(folder)
        rels = sorted(history.files)
        mhl_rels = history_files([g.file_name for g in history.generations])
        before = _stats(folder, rels + mhl_rels)
        report = verify_take(folder, progress)  # type: ignore[arg-type]
    except MissingHistoryError as err:
        raise TakeRefusedError(f"take {name} has no ASC MHL history, so nothing could verify it in the studio: "
                               f"seal it first with `onset sync seal {name}`") from err
    except CustodyError as err:
        raise TakeRefusedError(f"take {name} is not queued: {err}") from err
    if not report.ok:
        raise TakeRefusedError(f"take {name} does not match its ASC MHL history ({'; '.join(report.problems())}); "
                               f"it is not queued: find out what changed with `onset sync verify {name}`")
    hash_format = config.custody.hash_format
    mhl_digests = {rel: file_digest(folder / rel, hash_format) for rel in mhl_rels}
    try:
        again = read_history(folder)
    except CustodyError as err:
        raise TakeRefusedError(f"take {name} is not queued: its history changed while it was verified: {err}") from err
    after = _stats(folder, rels + mhl_rels)
    moved = sorted(rel for rel in before if before[rel] != after.get(rel))
    if moved or again.latest.file_name != history.latest.file_name:
        what = ", ".join(moved) if moved else "its history"
        raise TakeRefusedError(f"take {name} changed while it was being verified ({what}); it is not queued: "
                               "push it again once nothing writes to it")
    objects = []
    for rel in rels:
        recorded = history.files[rel]
        size, mtime_ns = before[rel]
        if recorded.size is not None and recorded.size != size:
            raise TakeRefusedError(f"take {name}: {rel} is {size} bytes, its MHL records {recorded.size}")
        objects.append(PlannedObject(rel, size, mtime_ns, recorded.hash_format, recorded.digest,
                                     object_key(storage.prefix, name, rel)))
    for rel in mhl_rels:
        size, mtime_ns = before[rel]
        objects.append(PlannedObject(rel, size, mtime_ns, hash_format, mhl_digests[rel],
                                     object_key(storage.prefix, name, rel)))
    latest = history.latest
    return TakePlan(name, str(folder), config.endpoint_url(), storage.bucket, storage.prefix, latest.number,
                    latest.file_name, tuple(objects))
