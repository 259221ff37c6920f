"""Seal a take: write its first (or next) in-place generation into ``<take>/ascmhl/`` with the chain.

Every file of the take is read once. A take without a history gets generation 1, each digest
``original``. A take with one gets the next generation, but only while it still matches: a file
recorded earlier must be there with the digest recorded then (``verified``); a file the history
lacks (captions added after the recording) is recorded ``original``. A missing or altered file
stops the seal with :class:`~studio_sync.custody.errors.TakeChangedError` naming it; the history
is not extended over a change nobody vouched for. ``hash_format`` not yet in the history is
recorded beside the old digests (``new``, verified through them).
"""

from __future__ import annotations

from pathlib import Path
from typing import Dict, List, Optional, Union

from studio_sync.custody.digests import ByteMeter, check_hash_format, digest_files
from studio_sync.custody.entries import build_hash_list
from studio_sync.custody.errors import MissingHistoryError, TakeChangedError
from studio_sync.custody.history import (
    PROCESS_IN_PLACE,
    TakeHistory,
    empty_history,
    read_history,
    write_generation,
)
from studio_sync.custody.paths import open_take, walk_take
from studio_sync.custody.types import DEFAULT_HASH_FORMAT, Progress, SealResult
from studio_sync.custody.verify import compare_with_history

__all__ = ["seal_take"]


def _existing(folder: Path) -> Optional[TakeHistory]:
    try:
        return read_history(folder)
    except MissingHistoryError:
        return None


def seal_take(folder: Union[str, Path], hash_format: str = DEFAULT_HASH_FORMAT, author: Optional[str] = None,
              progress: Optional[Progress] = None, comment: Optional[str] = None) -> SealResult:
    """Write the next in-place generation of the take at ``folder`` (the first when it has none).

    ``hash_format``: ``xxh64`` or ``xxh128``; ``author``: the MHL's author (None: the user running
    Onset); ``progress(bytes_done, bytes_in_all)`` follows the reading; ``comment`` goes into the
    MHL's creator info. Raises a :class:`~studio_sync.custody.errors.CustodyError` saying what is
    wrong, with the take left as it was: not a closed take, a link or special file in it, a
    damaged history, or files that no longer match it."""
    check_hash_format(hash_format)
    take = open_take(folder, strict=True)
    tree = walk_take(take.folder, strict=True)
    history = _existing(take.folder)
    recorded = history.files if history is not None else {}
    formats: Dict[str, List[str]] = {}
    for f in tree.files:
        # The digest a verification checks (the original), then the format asked for.
        wanted = [recorded[f.rel].hash_format] if f.rel in recorded else []
        formats[f.rel] = wanted + ([hash_format] if hash_format not in wanted else [])
    digests = digest_files(tree.files, formats, ByteMeter(tree.bytes, progress))
    if history is not None:
        report = compare_with_history(history, tree, digests)
        if report.missing or report.altered:
            raise TakeChangedError(
                f"take {take.name} no longer matches its history (generation {history.latest.number}): "
                + "; ".join(p for p in report.problems() if not p.startswith("extra"))
                + ". No generation was added: find out what changed (onset sync verify) before sealing again",
                report)
    mhl = history.mhl if history is not None else empty_history(take.folder)
    hash_list = build_hash_list(mhl, tree, digests, [hash_format])
    path = write_generation(take.folder, mhl, hash_list, take.name, PROCESS_IN_PLACE, author, comment)
    return SealResult(take.folder, mhl.latest_generation_number(), path, hash_format, len(tree.files), tree.bytes,
                      tuple(f.rel for f in tree.files if f.rel not in recorded))
