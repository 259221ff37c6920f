"""Re-hash a take and name every file that is missing, extra or altered against its ASC MHL history.

The history is checked first (:func:`studio_sync.custody.history.read_history`: the chain, every
generation's c4 digest, the XML, the paths): a damaged or hand-edited history raises a
:class:`~studio_sync.custody.errors.HistoryError` rather than yield a report nobody can trust.
Then every file of the take is read once and compared, as ``ascmhl verify`` compares, with the
digest its first generation recorded. Nothing is written.
"""

from __future__ import annotations

from pathlib import Path
from typing import Dict, List, Mapping, Optional, Union

from studio_sync.custody.digests import ByteMeter, digest_files
from studio_sync.custody.history import TakeHistory, read_history
from studio_sync.custody.paths import TakeTree, open_take, walk_take
from studio_sync.custody.types import AlteredFile, CustodyReport, ExtraFile, MissingFile, Progress

__all__ = ["verify_take", "compare_with_history"]


def compare_with_history(history: TakeHistory, tree: TakeTree,
                         digests: Mapping[str, Mapping[str, str]]) -> CustodyReport:
    """What differs between the files of ``tree`` (hashing to ``digests``) and ``history``.

    A file counts as altered when any digest computed for it differs from the first the history
    recorded in that format; files recorded but not in ``digests`` are not judged."""
    on_disk = {f.rel: f for f in tree.files}
    missing = tuple(MissingFile(r.path, r.size, r.hash_format, r.digest, r.generation)
                    for rel, r in sorted(history.files.items()) if rel not in on_disk)
    extra = tuple(ExtraFile(f.rel, f.size) for f in tree.files if f.rel not in history.files)
    altered: List[AlteredFile] = []
    for rel, computed in sorted(digests.items()):
        recorded = history.files.get(rel)
        if recorded is None:
            continue
        formats = [recorded.hash_format] + [f for f in computed if f != recorded.hash_format]
        for fmt in formats:
            expected = recorded.digests.get(fmt)
            if fmt in computed and expected is not None and computed[fmt] != expected:
                altered.append(AlteredFile(rel, fmt, expected, computed[fmt], recorded.size, on_disk[rel].size,
                                           recorded.generation))
                break
    latest = history.latest
    return CustodyReport(history.folder, latest.number, latest.file_name, len(digests),
                         sum(on_disk[rel].size for rel in digests), missing, extra, tuple(altered))


def verify_take(folder: Union[str, Path], progress: Optional[Progress] = None) -> CustodyReport:
    """Re-hash the take at ``folder`` against its history; the report names what is missing, extra, altered.

    ``progress(bytes_done, bytes_in_all)`` follows the reading. Raises
    :class:`~studio_sync.custody.errors.MissingHistoryError` for a take never sealed, a
    :class:`~studio_sync.custody.errors.HistoryError` for a damaged history,
    :class:`~studio_sync.custody.errors.UnsafePathError` for a link or a path out of the take and
    :class:`~studio_sync.custody.errors.TakeStillRecordingError` for a take not closed yet."""
    take = open_take(folder, strict=False)
    history = read_history(take.folder)
    tree = walk_take(take.folder, strict=False)
    to_hash = [f for f in tree.files if f.rel in history.files]
    formats: Dict[str, List[str]] = {f.rel: [history.files[f.rel].hash_format] for f in to_hash}
    meter = ByteMeter(sum(f.size for f in to_hash), progress)
    return compare_with_history(history, tree, digest_files(to_hash, formats, meter))
