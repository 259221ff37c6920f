"""rosbag2 ``metadata.yaml`` (version 5, what ROS 2 Humble reads and writes) and durable file writes.

**Why version 5.** ROS 2 Humble's rosbag2 (0.15.x) writes ``version: 5`` and its reader decodes
the fields it knows for the version it finds: v6 added ``custom_data``, v7
``type_description_hash``, v8 ``ros_distro``, and v9 turned ``offered_qos_profiles`` from a YAML
string into a YAML list, which Humble's ``as<std::string>()`` cannot read. So the bag says
version 5 with the QoS as a string of integer enums and ``{sec, nsec}`` durations, the format
Humble reads and writes; every later rosbag2, rosbags and the ``mcap`` readers read it too.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional

import yaml

from config.recorder import QosPreset
from edge.recorder.typestore import MESSAGE_ENCODING

__all__ = [
    "BAG_METADATA_VERSION",
    "STORAGE_IDENTIFIER",
    "QOS_METADATA_KEY",
    "TopicStats",
    "BagSummary",
    "qos_profiles_yaml",
    "metadata_document",
    "write_metadata_yaml",
    "write_bytes_atomic",
    "fsync_dir",
]

BAG_METADATA_VERSION = 5
STORAGE_IDENTIFIER = "mcap"
QOS_METADATA_KEY = "offered_qos_profiles"
_QOS_KEY = QOS_METADATA_KEY

# rmw enums (rmw/types.h): history keep_last=1; reliability reliable=1, best_effort=2;
# durability transient_local=1, volatile=2; liveliness automatic=1. Durations {0, 0}: the default.
_QOS_FIELDS = {
    QosPreset.SENSOR_DATA: (1, 5, 2, 2),
    QosPreset.RELIABLE: (1, 10, 1, 2),
    QosPreset.LATCHED: (1, 1, 1, 1),
}


def qos_profiles_yaml(preset: QosPreset) -> str:
    """``offered_qos_profiles`` as rosbag2 Humble stores it: a YAML string holding a list of one profile."""
    history, depth, reliability, durability = _QOS_FIELDS[QosPreset(preset)]
    zero = {"sec": 0, "nsec": 0}
    profile = {
        "history": history, "depth": depth, "reliability": reliability, "durability": durability,
        "deadline": dict(zero), "lifespan": dict(zero), "liveliness": 1,
        "liveliness_lease_duration": dict(zero), "avoid_ros_namespace_conventions": False,
    }
    return yaml.safe_dump([profile], sort_keys=False, default_flow_style=False).strip()


def fsync_dir(path: Path) -> None:
    """Make a rename or a new file in ``path`` durable (a no-op where directories cannot be opened)."""
    try:
        fd = os.open(str(path), os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def write_bytes_atomic(path: Path, data: bytes) -> None:
    """Write ``path`` so that a reader sees the old content or the new one, never a part: temp, fsync, rename."""
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        with open(tmp, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            tmp.unlink()
        except OSError:
            pass
        raise
    fsync_dir(path.parent)


@dataclass
class TopicStats:
    """One topic of a bag: its type, offered QoS (YAML string), message count and log-time span (ns)."""

    name: str
    msgtype: str
    qos_yaml: str
    channel_id: int
    message_count: int = 0
    first_ns: Optional[int] = None
    last_ns: Optional[int] = None
    max_gap_ns: int = 0
    flushed_count: int = 0  # messages of this topic in complete chunks (what a killed take keeps)

    def count(self, log_time_ns: int) -> None:
        if self.first_ns is None:
            self.first_ns = log_time_ns
        elif self.last_ns is not None and log_time_ns - self.last_ns > self.max_gap_ns:
            self.max_gap_ns = log_time_ns - self.last_ns
        self.last_ns = log_time_ns if self.last_ns is None else max(self.last_ns, log_time_ns)
        self.message_count += 1


@dataclass
class BagSummary:
    """What ``metadata.yaml`` says: the storage file, the topics and the message span (ns, log time)."""

    relative_path: str
    topics: List[TopicStats] = field(default_factory=list)
    start_ns: Optional[int] = None
    end_ns: Optional[int] = None
    chunks: int = 0
    size_bytes: int = 0

    @property
    def message_count(self) -> int:
        return sum(t.message_count for t in self.topics)

    @property
    def duration_ns(self) -> int:
        return 0 if self.start_ns is None or self.end_ns is None else self.end_ns - self.start_ns


def metadata_document(summary: BagSummary) -> Dict[str, Any]:
    """The ``metadata.yaml`` mapping, version 5, keys in the order Humble writes them."""
    start = summary.start_ns or 0
    duration = summary.duration_ns
    count = summary.message_count
    return {
        "rosbag2_bagfile_information": {
            "version": BAG_METADATA_VERSION,
            "storage_identifier": STORAGE_IDENTIFIER,
            "duration": {"nanoseconds": duration},
            "starting_time": {"nanoseconds_since_epoch": start},
            "message_count": count,
            "topics_with_message_count": [
                {
                    "topic_metadata": {
                        "name": t.name,
                        "type": t.msgtype,
                        "serialization_format": MESSAGE_ENCODING,
                        _QOS_KEY: t.qos_yaml,
                    },
                    "message_count": t.message_count,
                }
                for t in summary.topics
            ],
            # MCAP compresses inside its chunks; these name rosbag2's own file/message compression.
            "compression_format": "",
            "compression_mode": "",
            "relative_file_paths": [summary.relative_path],
            "files": [
                {
                    "path": summary.relative_path,
                    "starting_time": {"nanoseconds_since_epoch": start},
                    "duration": {"nanoseconds": duration},
                    "message_count": count,
                }
            ],
        }
    }


def write_metadata_yaml(bag_dir: Path, summary: BagSummary) -> Path:
    """Write ``bag_dir/metadata.yaml`` atomically; returns its path."""
    # One line per scalar (no folding): the QoS string comes out as Humble writes it, a single
    # double-quoted line with \n escapes.
    text = yaml.safe_dump(metadata_document(summary), sort_keys=False, default_flow_style=False, width=1 << 30)
    path = bag_dir / "metadata.yaml"
    write_bytes_atomic(path, text.encode("utf-8"))
    return path
