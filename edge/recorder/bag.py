"""A rosbag2 bag with MCAP storage that reaches the disk chunk by chunk.

Layout (what ``ros2 bag record -s mcap`` writes on Humble)::

    bag/                      the bag folder
      metadata.yaml           rosbag2 metadata, version 5
      bag_0.mcap              MCAP, profile ros2, schemas ros2msg, messages cdr

``metadata.yaml`` is version 5, the version ROS 2 Humble reads (see :mod:`edge.recorder.metadata`).
rosbags' own ``Writer`` only writes versions 8 and 9 and keeps a chunk in memory until it fills,
without flushing, so this module writes the bag itself with the ``mcap`` package.

**Crash safety.** The ``mcap`` writer emits a chunk (and its message indexes) as soon as it
holds ``chunk_size_bytes``; after every call :class:`BagWriter` checks whether the file grew and
then flushes it to the operating system, so a killed process leaves every complete chunk in the
file. :meth:`BagWriter.flush_chunk` closes a chunk that is still filling (the recorder calls it
on its flush interval) and :meth:`BagWriter.fsync` pushes the file to the disk.
"""

from __future__ import annotations

import io
import os
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Dict, List, Optional

from mcap.writer import CompressionType, Writer

from config.recorder import BagCompression
from edge.recorder.errors import BagError
from edge.recorder.metadata import (
    BAG_METADATA_VERSION,
    QOS_METADATA_KEY,
    STORAGE_IDENTIFIER,
    BagSummary,
    TopicStats,
    fsync_dir,
    write_metadata_yaml,
)
from edge.recorder.typestore import MESSAGE_ENCODING, SCHEMA_ENCODING

__all__ = ["BAG_METADATA_VERSION", "STORAGE_IDENTIFIER", "MCAP_PROFILE", "BagWriter"]

MCAP_PROFILE = "ros2"
_QOS_KEY = QOS_METADATA_KEY
_MAX_U64 = (1 << 64) - 1

_COMPRESSION = {
    BagCompression.NONE: CompressionType.NONE,
    BagCompression.ZSTD: CompressionType.ZSTD,
    BagCompression.LZ4: CompressionType.LZ4,
}


def _package_version(name: str) -> str:
    try:
        return version(name)
    except PackageNotFoundError:
        return "unknown"


def _open_for_write(path: Path) -> io.BufferedWriter:
    """Create the MCAP file (never over an existing one). A seam for tests that simulate a full disk."""
    return open(path, "xb")  # noqa: SIM115 - closed by BagWriter.close/abort


class BagWriter:
    """Writes one rosbag2 bag (MCAP storage) chunk by chunk. Not thread-safe: one writer thread owns it.

    ``bag_dir`` is created (its parent must exist); ``file_name`` defaults to ``<bag_dir name>_0.mcap``.
    Every method that writes may raise ``OSError`` (a full disk: ``errno.ENOSPC``).
    """

    def __init__(
        self,
        bag_dir: Path,
        *,
        compression: BagCompression = BagCompression.NONE,
        chunk_size_bytes: int = 1 << 20,
        file_name: Optional[str] = None,
        create_dir: bool = True,
    ) -> None:
        self.bag_dir = Path(bag_dir)
        self.file_name = file_name or f"{self.bag_dir.name}_0.mcap"
        self.path = self.bag_dir / self.file_name
        self._compression = _COMPRESSION[BagCompression(compression)]
        self._chunk_size_bytes = int(chunk_size_bytes)
        self._create_dir = create_dir
        self._stream: Optional[io.BufferedWriter] = None
        self._mcap: Optional[Writer] = None
        self._schemas: Dict[str, int] = {}
        self._topics: Dict[str, TopicStats] = {}
        self._offset = 0
        self.messages_written = 0
        self.messages_flushed = 0
        self.chunks_written = 0
        self.start_ns: Optional[int] = None
        self.end_ns: Optional[int] = None

    # -- lifecycle -----------------------------------------------------------------------------
    def open(self) -> "BagWriter":
        if self._create_dir:
            self.bag_dir.mkdir()
        self._stream = _open_for_write(self.path)
        self._mcap = Writer(
            self._stream,
            chunk_size=self._chunk_size_bytes,
            compression=self._compression,
            enable_crcs=True,
        )
        library = f"onset-edge {_package_version('onset-edge')}; mcap {_package_version('mcap')}"
        self._mcap.start(profile=MCAP_PROFILE, library=library)
        self._after_write()
        fsync_dir(self.bag_dir)
        return self

    def close(self, write_metadata: bool = True, relative_path: Optional[str] = None) -> BagSummary:
        """Write the summary and footer, fsync, then (by default) ``metadata.yaml``."""
        mcap, stream = self._require()
        mcap.finish()
        stream.flush()
        os.fsync(stream.fileno())
        size = stream.tell()
        stream.close()
        self._stream = self._mcap = None
        self.messages_flushed = self.messages_written
        for stats in self._topics.values():
            stats.flushed_count = stats.message_count
        summary = self.summary(relative_path)
        summary.size_bytes = size
        if write_metadata:
            write_metadata_yaml(self.bag_dir, summary)
        return summary

    def abort(self) -> None:
        """Close the file without a footer (after a write error); never raises."""
        stream, self._stream, self._mcap = self._stream, None, None
        if stream is None:
            return
        try:
            stream.close()  # flushes what it can
        except OSError:
            try:
                os.close(stream.fileno())
            except (OSError, ValueError):
                pass

    @property
    def is_open(self) -> bool:
        return self._mcap is not None

    # -- topics and messages -------------------------------------------------------------------
    def has_topic(self, topic: str) -> bool:
        return topic in self._topics

    def add_topic(self, topic: str, msgtype: str, msg_definition: str, qos_yaml: str,
                  schema_encoding: str = SCHEMA_ENCODING) -> TopicStats:
        """Register ``topic`` (once) with its type's full ``.msg`` definition and offered QoS YAML."""
        mcap, _ = self._require()
        if topic in self._topics:
            existing = self._topics[topic]
            if existing.msgtype != msgtype:
                raise BagError(f"topic {topic} is already recorded as {existing.msgtype}, not {msgtype}")
            return existing
        schema_id = self._schemas.get(msgtype)
        if schema_id is None:
            schema_id = mcap.register_schema(name=msgtype, encoding=schema_encoding,
                                             data=msg_definition.encode("utf-8"))
            self._schemas[msgtype] = schema_id
        channel_id = mcap.register_channel(topic=topic, message_encoding=MESSAGE_ENCODING,
                                           schema_id=schema_id, metadata={_QOS_KEY: qos_yaml})
        stats = TopicStats(topic, msgtype, qos_yaml, channel_id)
        self._topics[topic] = stats
        self._after_write()
        return stats

    def write(self, topic: str, log_time_ns: int, data: bytes, publish_time_ns: Optional[int] = None,
              sequence: int = 0) -> bool:
        """Add one CDR message to the current chunk; True when a chunk was completed and flushed."""
        mcap, _ = self._require()
        stats = self._topics.get(topic)
        if stats is None:
            raise BagError(f"topic {topic} was not added to the bag before its first message")
        if not 0 <= log_time_ns <= _MAX_U64:
            raise BagError(f"log time {log_time_ns} ns is outside MCAP's unsigned 64-bit range")
        publish = log_time_ns if publish_time_ns is None else publish_time_ns
        mcap.add_message(channel_id=stats.channel_id, log_time=log_time_ns, data=data,
                         publish_time=publish, sequence=sequence & 0xFFFFFFFF)
        stats.count(log_time_ns)
        self.messages_written += 1
        self.start_ns = log_time_ns if self.start_ns is None else min(self.start_ns, log_time_ns)
        self.end_ns = log_time_ns if self.end_ns is None else max(self.end_ns, log_time_ns)
        return self._after_write()

    def flush_chunk(self) -> bool:
        """Close the chunk still filling (if it holds messages) and hand the file to the OS."""
        mcap, _ = self._require()
        if self.messages_flushed == self.messages_written:
            return False
        mcap.flush()
        return self._after_write(force=True)

    def fsync(self) -> None:
        """Push what was written to the disk (power-loss safety)."""
        _, stream = self._require()
        os.fsync(stream.fileno())

    # -- state ---------------------------------------------------------------------------------
    @property
    def pending_messages(self) -> int:
        """Messages in the chunk still filling (lost if the process dies now)."""
        return self.messages_written - self.messages_flushed

    @property
    def size_bytes(self) -> int:
        return self._offset

    @property
    def topics(self) -> List[TopicStats]:
        return list(self._topics.values())

    def summary(self, relative_path: Optional[str] = None) -> BagSummary:
        return BagSummary(relative_path or self.file_name, self.topics, self.start_ns, self.end_ns,
                          self.chunks_written, self._offset)

    def _require(self):
        if self._mcap is None or self._stream is None:
            raise BagError(f"bag {self.bag_dir} is not open")
        return self._mcap, self._stream

    def _after_write(self, force: bool = False) -> bool:
        """When the mcap writer emitted a chunk, flush it to the OS so a killed process keeps it."""
        stream = self._stream
        assert stream is not None
        offset = stream.tell()
        if offset == self._offset and not force:
            return False
        stream.flush()
        if offset != self._offset and self.messages_written != self.messages_flushed:
            self.chunks_written += 1
        self._offset = offset
        if self.messages_flushed != self.messages_written:
            for stats in self._topics.values():
                stats.flushed_count = stats.message_count
        self.messages_flushed = self.messages_written
        return True

