"""What ``onset sync status`` shows, and what the preview's takes page asks: each take's sync state.

States: ``hashed`` (sealed in the takes folder, not queued), ``queued``, ``uploading`` (a push is
sending it), ``interrupted`` (it was being sent when its push died: the next push resumes it),
``verified`` (in the studio, every object read back and matching the MHL) and ``failed`` (with the
reason). Reading the status writes nothing: a queue that does not exist is an empty queue.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Dict, List, Optional

from config.studio import StudioConfig
from studio_sync.upload.lock import lock_holder
from studio_sync.upload.queue import UploadQueue
from studio_sync.upload.types import TakeState

__all__ = ["SyncRow", "status_rows", "sync_states", "HASHED", "INTERRUPTED", "STATES"]

HASHED = "hashed"
INTERRUPTED = "interrupted"
#: Every state a take can show, in the order a take passes through them.
STATES = (HASHED, TakeState.QUEUED.value, TakeState.UPLOADING.value, INTERRUPTED, TakeState.VERIFIED.value,
          TakeState.FAILED.value)
_INTERRUPTED_REASON = "its push stopped (killed, crashed or rebooted) while sending it; `onset sync push` resumes it"


@dataclass(frozen=True)
class SyncRow:
    """One take's sync state. Bytes: ``bytes_sent`` are in the studio (parts or whole objects)."""

    name: str
    state: str
    reason: Optional[str]
    bytes_sent: int
    bytes_total: int
    files_verified: int
    files_total: int
    updated_utc: Optional[str]
    source: str
    destination: Optional[str]

    def to_dict(self) -> Dict[str, Any]:
        return asdict(self)


def _hashed(takes_dir: Path) -> List[Path]:
    from studio_sync.custody import CHAIN_FILE, HISTORY_DIRNAME

    root = Path(takes_dir).expanduser()
    if not root.is_dir():
        return []
    return sorted(p for p in root.iterdir() if p.is_dir() and (p / HISTORY_DIRNAME / CHAIN_FILE).is_file())


def status_rows(config: StudioConfig, takes_dir: Optional[Path] = None) -> List[SyncRow]:
    """Every take of the queue (in queueing order), then the sealed takes of ``takes_dir`` not queued."""
    path = config.upload.queue_path
    rows: List[SyncRow] = []
    if path.exists():
        pushing = lock_holder(path) is not None
        with UploadQueue(path, create=False) as queue:
            for take in queue.takes():
                state, reason = take.state.value, take.reason
                if take.state is TakeState.UPLOADING and not pushing:
                    state, reason = INTERRUPTED, reason or _INTERRUPTED_REASON
                rows.append(SyncRow(take.name, state, reason, take.bytes_sent, take.bytes_total, take.files_verified,
                                    take.files_total, take.updated_utc, take.source,
                                    f"s3://{take.bucket}/{take.prefix}{take.name}/"))
    if takes_dir is not None:
        queued = {r.name for r in rows}
        for folder in _hashed(takes_dir):
            if folder.name not in queued:
                rows.append(SyncRow(folder.name, HASHED, None, 0, 0, 0, 0, None, str(folder), None))
    return rows


def sync_states(config: StudioConfig, takes_dir: Optional[Path] = None) -> Dict[str, Dict[str, Any]]:
    """``{take name: {state, reason, bytes_sent, bytes_total, updated_utc}}`` for the preview's takes page."""
    return {r.name: {"state": r.state, "reason": r.reason, "bytes_sent": r.bytes_sent, "bytes_total": r.bytes_total,
                     "updated_utc": r.updated_utc} for r in status_rows(config, takes_dir)}
