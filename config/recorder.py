"""Settings of the take recorder: where takes go, how the bag is chunked, flushed and compressed.

:class:`RecorderConfig` is a frozen pydantic model like the rig's; unknown keys are errors.
Sizes are in bytes, intervals in seconds.
"""

from __future__ import annotations

import enum
import importlib
from pathlib import Path
from typing import Dict

from pydantic import BaseModel, ConfigDict, Field, field_validator

__all__ = ["BagCompression", "QosPreset", "RecorderConfig", "DEFAULT_TAKES_DIR", "compression_available"]

DEFAULT_TAKES_DIR = Path("~/onset/takes")
_MIB = 1 << 20


class BagCompression(str, enum.Enum):
    """MCAP chunk compression. ROS 2 Humble's MCAP storage plugin reads all three."""

    NONE = "none"
    ZSTD = "zstd"
    LZ4 = "lz4"


# The Python module each compressor needs, and the package that provides it.
_COMPRESSOR_MODULES = {BagCompression.ZSTD: ("zstandard", "zstandard"), BagCompression.LZ4: ("lz4.frame", "lz4")}


def compression_available(compression: BagCompression) -> bool:
    """Whether the compressor's module imports on this machine."""
    module = _COMPRESSOR_MODULES.get(BagCompression(compression))
    if module is None:
        return True
    try:
        importlib.import_module(module[0])
    except ImportError:
        return False
    return True


class QosPreset(str, enum.Enum):
    """The QoS a topic's publisher offered, as recorded in the bag (``ros2 bag play`` offers it again).

    ``sensor_data``: best effort, volatile, keep last 5 (streams). ``reliable``: reliable, volatile,
    keep last 10. ``latched``: reliable, transient local, keep last 1 (camera info, calibration).
    """

    SENSOR_DATA = "sensor_data"
    RELIABLE = "reliable"
    LATCHED = "latched"


class RecorderConfig(BaseModel):
    """How takes are recorded. See docs/architecture.md, Studio sync, for what a take folder holds."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    takes_dir: Path = Field(DEFAULT_TAKES_DIR, validate_default=True,
                            description="folder that holds one sub-folder per take")
    chunk_size_bytes: int = Field(
        1 * _MIB, ge=1024, le=256 * _MIB,
        description="an MCAP chunk is closed and written once it holds this many bytes; "
                    "a killed take is readable up to its last complete chunk",
    )
    flush_interval_s: float = Field(
        1.0, gt=0.0, le=60.0,
        description="a chunk still filling is closed and written after this long, so slow topics reach the disk",
    )
    fsync_interval_s: float = Field(
        1.0, ge=0.0, le=60.0,
        description="written chunks are fsynced at most this often (0: after every chunk); "
                    "protects against power loss, a killed process loses nothing already written",
    )
    compression: BagCompression = Field(BagCompression.NONE, description="MCAP chunk compression: none, zstd, lz4")
    queue_max_messages: int = Field(10_000, ge=1, description="messages waiting for the writer thread before drops")
    queue_max_bytes: int = Field(256 * _MIB, ge=_MIB, description="bytes waiting for the writer thread before drops")
    min_free_bytes: int = Field(
        1024 * _MIB, ge=0,
        description="recording stops cleanly (bag closed, take failed) when the takes file system has less free",
    )
    reserve_bytes: int = Field(
        256 * 1024, ge=0,
        description="space held in each take folder while recording, released to write take.json if the disk fills",
    )
    default_qos: QosPreset = Field(QosPreset.RELIABLE, description="offered QoS recorded for undeclared topics")
    topic_qos: Dict[str, QosPreset] = Field(default_factory=dict, description="offered QoS recorded per topic")

    @field_validator("takes_dir")
    @classmethod
    def _expand(cls, value: Path) -> Path:
        return Path(value).expanduser()

    @field_validator("compression")
    @classmethod
    def _compressor_installed(cls, value: BagCompression) -> BagCompression:
        if not compression_available(value):
            _, package = _COMPRESSOR_MODULES[value]
            raise ValueError(f"compression {value.value} needs the {package!r} package: pip install {package}")
        return value
