"""A take's chain of custody on the edge box: its ASC MHL history, sealed, verified and carried on copies.

Every take closes with an ASC MHL history in ``<take>/ascmhl/``: one generation file per seal or
copy (xxh64 digests by default, xxh128 selectable) and the chain file holding each generation
file's c4 digest. :func:`seal_take` writes the next in-place generation (the recorder calls it
when a take closes, :mod:`studio_sync.custody.hook`); :func:`verify_take` re-hashes a take and
names every missing, extra or altered file; :func:`copy_take` offloads a take to another drive,
verifies every byte, and adds a ``transfer`` generation to the copy without touching the earlier
ones. Histories are read and written through the ``ascmhl`` library's Python API, which never
reaches the network (only its command line checks for updates). See docs/studio-sync/custody.md.

Modules: ``digests`` (streaming xxHash), ``paths`` (what a take holds, what is refused),
``history`` (reading and checking a history, writing a generation), ``entries`` (a generation's
entries), ``seal``, ``verify``, ``copy``, ``hook`` (the recorder's), ``types``, ``errors``.
"""

from __future__ import annotations

from studio_sync.custody.copy import copy_take
from studio_sync.custody.digests import READ_BYTES, ByteMeter, file_digest, file_digests, new_hasher
from studio_sync.custody.errors import (
    ChainMismatchError,
    CopyError,
    CorruptHistoryError,
    CustodyError,
    HistoryError,
    MissingHistoryError,
    NotATakeError,
    TakeChangedError,
    TakeStillRecordingError,
    TamperedHistoryError,
    UnexpectedFileError,
    UnreadableFileError,
    UnsafePathError,
    UnsupportedHashFormatError,
)
from studio_sync.custody.history import CHAIN_FILE, Generation, RecordedFile, TakeHistory, read_history
from studio_sync.custody.hook import custody_settings, seal_closed_take
from studio_sync.custody.paths import HISTORY_DIRNAME
from studio_sync.custody.seal import seal_take
from studio_sync.custody.types import (
    DEFAULT_HASH_FORMAT,
    HASH_FORMATS,
    AlteredFile,
    CopyResult,
    CustodyReport,
    ExtraFile,
    MissingFile,
    Progress,
    SealResult,
)
from studio_sync.custody.verify import verify_take

__all__ = [
    "seal_take",
    "verify_take",
    "copy_take",
    "read_history",
    "seal_closed_take",
    "custody_settings",
    "file_digest",
    "file_digests",
    "new_hasher",
    "ByteMeter",
    "READ_BYTES",
    "HASH_FORMATS",
    "DEFAULT_HASH_FORMAT",
    "HISTORY_DIRNAME",
    "CHAIN_FILE",
    "Progress",
    "CustodyReport",
    "MissingFile",
    "ExtraFile",
    "AlteredFile",
    "SealResult",
    "CopyResult",
    "TakeHistory",
    "Generation",
    "RecordedFile",
    "CustodyError",
    "NotATakeError",
    "TakeStillRecordingError",
    "UnsafePathError",
    "UnexpectedFileError",
    "UnreadableFileError",
    "UnsupportedHashFormatError",
    "MissingHistoryError",
    "HistoryError",
    "CorruptHistoryError",
    "TamperedHistoryError",
    "ChainMismatchError",
    "TakeChangedError",
    "CopyError",
]
