"""Make an interrupted take a valid bag again: keep every complete chunk, drop the torn tail.

A take whose recorder was killed (or whose disk filled) has an MCAP file with no summary or
footer, ending somewhere inside a chunk, and no ``metadata.yaml``. :func:`recover_take` reads the
file record by record, keeps the messages of every chunk that is whole and passes its CRC, stops
at the first record that is cut short or damaged, and writes them into a new MCAP file with a
summary and footer plus ``metadata.yaml``. The original file is kept, renamed ``*.partial``; the
new one is written beside it and renamed into place only when complete, so a recovery that is
itself interrupted can simply be run again. ``take.json`` becomes ``recovered`` with the counts,
and the take is sealed with an ASC MHL history (the ``studio.custody`` of the rig in ``take.json``).
"""

from __future__ import annotations

import fcntl
import io
import os
import struct
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, Dict, Iterator, List, Optional, Tuple

from mcap.data_stream import ReadDataStream
from mcap.opcode import Opcode
from mcap.records import Channel, Chunk, Message, Schema
from mcap.stream_reader import breakup_chunk

from edge.recorder.bag import BagWriter
from config.recorder import BagCompression
from edge.recorder.errors import RecoveryError, TakeFileError
from edge.recorder.metadata import fsync_dir, write_metadata_yaml
from edge.recorder.take import (
    BAG_DIRNAME,
    LOCK_FILE,
    RESERVE_FILE,
    TAKE_FORMAT,
    TAKE_FORMAT_VERSION,
    TAKE_JSON,
    TakeStatus,
    live_recorder_pid,
    parse_take_name,
    read_take_json,
    topics_document,
    utc_iso,
    write_take_json,
)

__all__ = ["RecoveryReport", "recover_take", "recover_all", "bag_is_complete", "PARTIAL_SUFFIX"]

PARTIAL_SUFFIX = ".partial"
_TMP_SUFFIX = ".recovering"
_MAGIC = b"\x89MCAP0\r\n"
_FOOTER_LEN = 1 + 8 + 20  # opcode, length, summary start + summary offset start + crc
_QOS_KEY = "offered_qos_profiles"


@dataclass(frozen=True)
class RecoveryReport:
    """What :func:`recover_take` did. ``action``: ``recovered``, ``nothing to do`` or ``skipped``."""

    take: Path
    action: str
    reason: str
    messages: int = 0
    chunks: int = 0
    topics: Dict[str, int] = field(default_factory=dict)
    bytes_kept: int = 0
    bytes_discarded: int = 0
    original: Optional[Path] = None

    def __str__(self) -> str:
        if self.action != "recovered":
            return f"{self.take.name}: {self.action}: {self.reason}"
        return (f"{self.take.name}: recovered {self.messages} messages in {self.chunks} complete chunks "
                f"({self.bytes_discarded} bytes of an unfinished chunk discarded); original kept as "
                f"{self.original.relative_to(self.take) if self.original else '-'}")


def bag_is_complete(bag_dir: Path, file_name: str) -> bool:
    """True when the bag has ``metadata.yaml`` and its MCAP file ends with a footer and the magic."""
    path = bag_dir / file_name
    if not (bag_dir / "metadata.yaml").is_file() or not path.is_file():
        return False
    try:
        with open(path, "rb") as f:
            size = f.seek(0, io.SEEK_END)
            if size < len(_MAGIC) * 2 + _FOOTER_LEN:
                return False
            f.seek(size - len(_MAGIC) - _FOOTER_LEN)
            tail = f.read()
    except OSError:
        return False
    return tail[-8:] == _MAGIC and tail[0] == Opcode.FOOTER and struct.unpack_from("<Q", tail, 1)[0] == 20


def _records(f: BinaryIO, size: int) -> Iterator[Tuple[int, int, bytes]]:
    """(offset, opcode, body) of each whole top-level record; stops at a record cut short."""
    magic = f.read(8)
    if magic != _MAGIC:
        if _MAGIC.startswith(magic):
            return  # killed before the header reached the disk: an empty bag
        raise RecoveryError("not an MCAP file (bad magic at the start)")
    offset = 8
    while offset + 9 <= size:
        opcode, length = struct.unpack("<BQ", f.read(9))
        if length > size - offset - 9:
            return
        body = f.read(length)
        if len(body) != length:
            return
        yield offset, opcode, body
        offset += 9 + length


class _Copier:
    """Copies schemas, channels and messages into a new bag as they are found."""

    def __init__(self, bag: BagWriter) -> None:
        self.bag = bag
        self.schemas: Dict[int, Schema] = {}
        self.channels: Dict[int, Channel] = {}
        self.orphans = 0

    def take(self, record: Any) -> None:
        if isinstance(record, Schema):
            self.schemas[record.id] = record
        elif isinstance(record, Channel):
            self.channels[record.id] = record
        elif isinstance(record, Message):
            channel = self.channels.get(record.channel_id)
            schema = self.schemas.get(channel.schema_id) if channel else None
            if channel is None or schema is None:
                self.orphans += 1
                return
            if not self.bag.has_topic(channel.topic):
                self.bag.add_topic(channel.topic, schema.name, schema.data.decode("utf-8", "replace"),
                                   channel.metadata.get(_QOS_KEY, ""), schema_encoding=schema.encoding)
            self.bag.write(channel.topic, record.log_time, record.data, record.publish_time, record.sequence)


def _copy_prefix(source: Path, bag: BagWriter) -> Tuple[int, int, int]:
    """Copy every whole, CRC-clean chunk of ``source`` into ``bag``: (chunks, bytes kept, size)."""
    copier = _Copier(bag)
    chunks = 0
    with open(source, "rb") as f:
        size = f.seek(0, io.SEEK_END)
        f.seek(0)
        kept = 8
        for offset, opcode, body in _records(f, size):
            if opcode in (Opcode.DATA_END, Opcode.FOOTER):
                break
            try:
                if opcode == Opcode.CHUNK:
                    inner = breakup_chunk(Chunk.read(ReadDataStream(io.BytesIO(body))), validate_crc=True)
                elif opcode in (Opcode.SCHEMA, Opcode.CHANNEL):
                    inner = [{Opcode.SCHEMA: Schema, Opcode.CHANNEL: Channel}[opcode].read(
                        ReadDataStream(io.BytesIO(body)))]
                elif opcode == Opcode.MESSAGE:
                    inner = [Message.read(ReadDataStream(io.BytesIO(body)), len(body))]
                else:
                    inner = []
            except Exception:  # noqa: BLE001 - a damaged record ends what can be trusted
                break
            for record in inner:
                copier.take(record)
            chunks += opcode == Opcode.CHUNK
            kept = offset + 9 + len(body)
    return chunks, kept, size


def _document_for(folder: Path) -> Tuple[Dict[str, Any], Optional[str]]:
    """The take's document, or a minimal one when take.json is missing or unreadable."""
    try:
        return read_take_json(folder), None
    except TakeFileError as err:
        slate = parse_take_name(folder.name)
        doc: Dict[str, Any] = {
            "format": TAKE_FORMAT, "format_version": TAKE_FORMAT_VERSION, "name": folder.name,
            "status": TakeStatus.RECORDING.value,
            "slate": {"scene": slate.scene, "shot": slate.shot, "take": slate.take} if slate else None,
            "timecode": {"rate": None, "in": None, "out": None},
            "master_time": {"start_ns": None, "start_utc": None, "stop_ns": None, "stop_utc": None},
            "bag": {"path": BAG_DIRNAME, "file": f"{BAG_DIRNAME}_0.mcap", "storage": "mcap"},
            "notes": [], "errors": [],
        }
        return doc, str(err)


@contextmanager
def _holding_lock(folder: Path) -> Iterator[None]:
    """Hold the take's lock while recovering, so neither a recorder nor a second recovery runs beside."""
    pid = live_recorder_pid(folder)
    if pid is not None:
        raise RecoveryError(f"take {folder.name} is being recorded by a running process (pid {pid}): "
                            "stop the take first (onset take stop)")
    fd = os.open(str(folder / LOCK_FILE), os.O_CREAT | os.O_RDWR, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as err:
            raise RecoveryError(f"take {folder.name} is held by another process right now; try again") from err
        yield
    finally:
        os.close(fd)


def recover_take(path: Path) -> RecoveryReport:
    """Make the take in folder ``path`` a valid bag again; see the module docstring.

    Raises :class:`RecoveryError` when a live process is still recording it, when there is no bag
    file, or when writing the new file fails (the original is untouched then).
    """
    folder = Path(path)
    if not folder.is_dir():
        raise RecoveryError(f"{folder} is not a take folder")
    with _holding_lock(folder):
        report = _recover_locked(folder)
    _clean_markers(folder)
    if report.action == "recovered":
        _seal(folder)
    return report


def _seal(folder: Path) -> None:
    """Seal the recovered take with the custody settings of the rig it was recorded with (take.json ``rig``);
    a failure is kept in take.json's errors, never raised."""
    from studio_sync.custody.hook import seal_closed_take

    try:
        doc = read_take_json(folder)
    except TakeFileError:
        return  # recovery has just written it: nothing here to seal with
    problem = seal_closed_take(folder, doc.get("rig"))
    if problem:
        doc["errors"] = list(doc.get("errors") or []) + [{"t_ns": time.time_ns(), "message": problem}]
        try:
            write_take_json(folder, doc)
        except OSError:
            pass  # the problem is logged; the recovered take stands


def _recover_locked(folder: Path) -> RecoveryReport:
    doc, doc_problem = _document_for(folder)
    bag_info = doc.get("bag") or {}
    bag_dir = folder / str(bag_info.get("path") or BAG_DIRNAME)
    file_name = str(bag_info.get("file") or f"{bag_dir.name}_0.mcap")
    final, partial, tmp = (bag_dir / file_name, bag_dir / (file_name + PARTIAL_SUFFIX),
                           bag_dir / (file_name + _TMP_SUFFIX))
    status = doc.get("status")
    if bag_is_complete(bag_dir, file_name):
        if status != TakeStatus.RECORDING.value:
            return RecoveryReport(folder, "nothing to do", f"the bag is complete (take status {status})")
        if not partial.exists():
            return _mark_closed_bag(folder, doc, doc_problem)
        # else: a recovery was interrupted before take.json said so; redo it from the kept original.
    source = partial if partial.exists() else final
    if not source.is_file():
        raise RecoveryError(f"take {folder.name} has no bag file to recover ({final} is missing)")

    compression = BagCompression(bag_info.get("compression") or "none")
    chunk_size = int(bag_info.get("chunk_size_bytes") or (1 << 20))
    if tmp.exists():
        tmp.unlink()  # left by a recovery that was itself interrupted
    bag = BagWriter(bag_dir, compression=compression, chunk_size_bytes=chunk_size,
                    file_name=tmp.name, create_dir=False)
    try:
        bag.open()
        chunks, kept, size = _copy_prefix(source, bag)
        summary = bag.close(write_metadata=False, relative_path=file_name)
    except BaseException as err:
        bag.abort()
        try:
            tmp.unlink()
        except OSError:
            pass
        if isinstance(err, RecoveryError):
            raise
        raise RecoveryError(f"recovering {folder.name} failed, the original file is untouched: {err}") from err
    if source == final:
        os.replace(final, partial)
    os.replace(tmp, final)
    fsync_dir(bag_dir)
    write_metadata_yaml(bag_dir, summary)

    topics = {t.name: t.message_count for t in summary.topics}
    note = (f"recovered after the recording stopped without closing the bag: {summary.message_count} messages "
            f"in {chunks} complete chunks kept, {size - kept} bytes of an unfinished chunk discarded")
    doc.update(
        status=TakeStatus.RECOVERED.value,
        message_count=summary.message_count,
        size_bytes=summary.size_bytes,
        topics=topics_document(summary.topics),
        recovery={
            "previous_status": status,
            "recovered_utc": utc_iso(time.time_ns()),
            "chunks": chunks,
            "messages": summary.message_count,
            "bytes_kept": kept,
            "bytes_discarded": size - kept,
            "original_file": str(partial.relative_to(folder)),
            "last_message_ns": summary.end_ns,
        },
    )
    master = dict(doc.get("master_time") or {})
    if master.get("stop_ns") is None and summary.end_ns is not None:
        # The recording never stopped: its last kept message (log time = master clock) ends it.
        master.update(stop_ns=summary.end_ns, stop_utc=utc_iso(summary.end_ns))
        if isinstance(master.get("start_ns"), int):
            doc["duration_s"] = round(max(0, summary.end_ns - master["start_ns"]) / 1e9, 6)
    doc["master_time"] = master
    doc["notes"] = list(doc.get("notes") or []) + [note]
    if doc_problem:
        doc["errors"] = list(doc.get("errors") or []) + [{"t_ns": time.time_ns(), "message": doc_problem}]
    write_take_json(folder, doc)
    return RecoveryReport(folder, "recovered", note, summary.message_count, chunks, topics, kept, size - kept, partial)


def _mark_closed_bag(folder: Path, doc: Dict[str, Any], doc_problem: Optional[str]) -> RecoveryReport:
    """The bag was closed but take.json still says recording (it could not be rewritten at stop)."""
    from edge.recorder.catalog import bag_topic_counts

    counts = bag_topic_counts(folder / str((doc.get("bag") or {}).get("path") or BAG_DIRNAME))
    doc.update(status=TakeStatus.RECOVERED.value, message_count=sum(counts.values()))
    doc["notes"] = list(doc.get("notes") or []) + ["the bag was complete; take.json had not been finalized"]
    if doc_problem:
        doc["errors"] = list(doc.get("errors") or []) + [{"t_ns": time.time_ns(), "message": doc_problem}]
    write_take_json(folder, doc)
    return RecoveryReport(folder, "recovered", "the bag was complete; take.json finalized",
                          sum(counts.values()), 0, counts)


def _clean_markers(folder: Path) -> None:
    for name in (LOCK_FILE, RESERVE_FILE):
        try:
            (folder / name).unlink()
        except FileNotFoundError:
            pass


def recover_all(takes_dir: Path) -> List[RecoveryReport]:
    """Recover every take in ``takes_dir`` that needs it; live takes are reported as skipped."""
    reports: List[RecoveryReport] = []
    root = Path(takes_dir)
    if not root.is_dir():
        raise RecoveryError(f"takes folder {root} does not exist")
    for folder in sorted(p for p in root.iterdir() if p.is_dir() and (p / TAKE_JSON).exists()):
        try:
            doc = read_take_json(folder)
        except TakeFileError:
            doc = {}
        if doc.get("status") in (TakeStatus.COMPLETE.value, TakeStatus.RECOVERED.value):
            continue
        pid = live_recorder_pid(folder)
        if pid is not None:
            reports.append(RecoveryReport(folder, "skipped", f"being recorded by a running process (pid {pid})"))
            continue
        try:
            reports.append(recover_take(folder))
        except RecoveryError as err:
            reports.append(RecoveryReport(folder, "skipped", str(err)))
    return reports
