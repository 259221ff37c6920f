"""The vocabulary of the upload queue: states, what is queued, what a push reports.

Sizes are bytes, times are UTC ISO 8601 strings (``2027-01-15T08:10:02Z``), paths inside a take
are POSIX paths relative to the take folder (``bag/bag_0.mcap``), digests lower-case hex.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Optional, Protocol, Tuple

__all__ = [
    "TakeState",
    "ObjectState",
    "PlannedObject",
    "TakePlan",
    "QueuedTake",
    "QueuedObject",
    "StoredPart",
    "ObjectResult",
    "TakeOutcome",
    "ProgressSink",
    "NullProgress",
]


class TakeState(str, Enum):
    """Where a take stands in the queue (``hashed`` and ``interrupted`` are derived by the status)."""

    QUEUED = "queued"          # waiting; ``reason`` says why the last attempt stopped, if one did
    UPLOADING = "uploading"    # a push is sending it (or was, when it was killed: "interrupted")
    VERIFIED = "verified"      # every object read back from the studio matches the MHL
    FAILED = "failed"          # its content is wrong (changed since sealed, read back wrong): see reason


class ObjectState(str, Enum):
    """Where one object (one file of the take) stands."""

    PENDING = "pending"        # nothing sent, or a fresh start is needed
    UPLOADING = "uploading"    # a multipart upload id is kept; some parts may be in the studio
    UPLOADED = "uploaded"      # completed in the studio, not yet read back
    VERIFIED = "verified"      # read back and matching the MHL


@dataclass(frozen=True)
class PlannedObject:
    """One file of a take to upload: what was hashed (size, mtime, digest) and its key."""

    rel: str
    size: int
    mtime_ns: int
    hash_format: str
    digest: str
    key: str


@dataclass(frozen=True)
class TakePlan:
    """A take verified against its MHL, ready to queue: every file of its latest generation, then
    the history's own files (generations, then the chain file last)."""

    name: str
    source: str
    endpoint: str
    bucket: str
    prefix: str
    generation: int
    generation_file: str
    objects: Tuple[PlannedObject, ...]

    @property
    def bytes_total(self) -> int:
        return sum(o.size for o in self.objects)


@dataclass(frozen=True)
class QueuedTake:
    """A row of the queue's takes table."""

    id: int
    name: str
    source: str
    endpoint: str
    bucket: str
    prefix: str
    generation: int
    generation_file: str
    state: TakeState
    reason: Optional[str]
    bytes_total: int
    bytes_sent: int
    files_total: int
    files_verified: int
    queued_utc: str
    updated_utc: str
    started_utc: Optional[str]
    finished_utc: Optional[str]


@dataclass(frozen=True)
class QueuedObject:
    """A row of the queue's objects table. ``part_size`` is the one its upload id was started with."""

    id: int
    take_id: int
    ordinal: int
    rel: str
    size: int
    mtime_ns: int
    hash_format: str
    digest: str
    key: str
    state: ObjectState
    upload_id: Optional[str]
    part_size: Optional[int]
    etag: Optional[str]


@dataclass(frozen=True)
class StoredPart:
    """A part Onset sent and the store acknowledged: number (1-based), offset and size in bytes,
    the MD5 of its bytes (hex) and the ETag the store answered."""

    upload_id: str
    part_number: int
    offset: int
    size: int
    md5: str
    etag: str


@dataclass(frozen=True)
class ObjectResult:
    """How one object went up: parts sent now, parts the store already held, bytes sent now;
    ``found_complete``: the object was already complete in the studio (verification decides)."""

    rel: str
    parts_sent: int
    parts_reused: int
    bytes_sent: int
    single_put: bool
    found_complete: bool = False


@dataclass(frozen=True)
class TakeOutcome:
    """What a push did with one take: its state afterwards and why, and its objects' results."""

    name: str
    state: str
    reason: Optional[str] = None
    objects: Tuple[ObjectResult, ...] = field(default=())
    bytes_total: int = 0

    @property
    def ok(self) -> bool:
        return self.state == TakeState.VERIFIED.value

    @property
    def parts_reused(self) -> int:
        return sum(o.parts_reused for o in self.objects)


class ProgressSink(Protocol):
    """Told what a push sends: bytes as they leave (negative when an attempt is rolled back)."""

    def begin(self, takes: Tuple[Tuple[str, int, int], ...]) -> None:
        """``(name, bytes_total, bytes_already_in_the_studio)`` of each take this push will upload."""

    def take_started(self, name: str, total: int, done: int) -> None: ...

    def advance(self, name: str, n: int) -> None: ...

    def take_finished(self, name: str, state: str) -> None: ...

    def close(self) -> None: ...


class NullProgress:
    """A :class:`ProgressSink` that shows nothing."""

    def begin(self, takes: Tuple[Tuple[str, int, int], ...]) -> None:
        pass

    def take_started(self, name: str, total: int, done: int) -> None:
        pass

    def advance(self, name: str, n: int) -> None:
        pass

    def take_finished(self, name: str, state: str) -> None:
        pass

    def close(self) -> None:
        pass
