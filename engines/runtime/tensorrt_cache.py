"""Where built TensorRT engines and timing caches are kept on disk, and under which key.

A serialized engine only runs on the GPU model and TensorRT version that built it, and is only the
model it was built from. Building one takes seconds to minutes, so each is kept under a key of:

* the GPU's name and compute capability (``NVIDIA H200``, ``(9, 0)``; an Orin is ``(8, 7)``);
* the TensorRT version (``10.3.0``);
* the model: its weights hash (``onset.model_sha256``) and the SHA-256 of the whole ONNX file, which
  also covers the graph and its static shapes (the same weights exported for other input shapes
  are another engine);
* the precision the engine computes in (``fp16``, ``tf32``, ``fp32``).

The engine is ``<stem>.engine`` with a ``<stem>.json`` beside it recording the key and the engine's
own SHA-256; an engine whose record is missing, names another key, or whose bytes do not hash to
it is ignored and rebuilt (a crash between the two writes leaves an engine without a record, which
is rebuilt). Both are written atomically.

The timing cache (the builder's measured tactic timings) is per GPU, TensorRT version and precision
and is shared by every model built there: ``timing-<gpu>-sm<cc>-trt<version>-<precision>.cache``.

Nothing here imports TensorRT: the key is derived from plain values, so it is tested anywhere.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Optional, Tuple, Union

from engines.runtime._files import atomic_write_bytes

__all__ = ["EngineCacheKey", "EngineCache", "slug"]

_log = logging.getLogger(__name__)


def slug(text: str) -> str:
    """``NVIDIA H200 NVL`` -> ``nvidia-h200-nvl``: safe in a file name, still readable."""
    out = re.sub(r"[^a-z0-9.]+", "-", text.lower()).strip("-.")
    return out or "unknown"


@dataclass(frozen=True)
class EngineCacheKey:
    """Everything a built engine depends on (module docstring)."""

    gpu_name: str
    compute_capability: Tuple[int, int]
    tensorrt_version: str
    model_name: str
    model_sha256: str
    onnx_sha256: str
    precision: str

    def __post_init__(self) -> None:
        cc = tuple(int(v) for v in self.compute_capability)
        if len(cc) != 2:
            raise ValueError(f"compute_capability must be (major, minor), got {self.compute_capability!r}")
        object.__setattr__(self, "compute_capability", cc)

    def fields(self) -> dict:
        d = asdict(self)
        d["compute_capability"] = list(self.compute_capability)
        return d

    @property
    def digest(self) -> str:
        """SHA-256 (hex) of every field, in a canonical JSON form."""
        return hashlib.sha256(json.dumps(self.fields(), sort_keys=True).encode()).hexdigest()

    @property
    def device_stem(self) -> str:
        major, minor = self.compute_capability
        return f"{slug(self.gpu_name)}-sm{major}{minor}-trt{slug(self.tensorrt_version)}"

    @property
    def stem(self) -> str:
        """The engine's file name without suffix: readable parts, then a digest of all of them."""
        return f"{slug(self.model_name)}-{self.device_stem}-{self.precision}-{self.digest[:16]}"

    @property
    def timing_cache_name(self) -> str:
        return f"timing-{self.device_stem}-{self.precision}.cache"


class EngineCache:
    """Engines and timing caches in one directory (created on first write)."""

    def __init__(self, directory: Union[str, Path]) -> None:
        self.directory = Path(directory)

    def engine_path(self, key: EngineCacheKey) -> Path:
        return self.directory / f"{key.stem}.engine"

    def record_path(self, key: EngineCacheKey) -> Path:
        return self.directory / f"{key.stem}.json"

    def timing_cache_path(self, key: EngineCacheKey) -> Path:
        return self.directory / key.timing_cache_name

    def load_engine(self, key: EngineCacheKey) -> Optional[bytes]:
        """The cached engine for ``key``, or None when there is none that can be trusted."""
        engine, record = self.engine_path(key), self.record_path(key)
        if not engine.is_file():
            return None
        try:
            stored = json.loads(record.read_text())
            data = engine.read_bytes()
        except (OSError, ValueError) as err:
            _log.warning("ignoring cached TensorRT engine %s: its record is unreadable (%s)", engine, err)
            return None
        if not isinstance(stored, dict) or stored.get("key") != key.fields():
            _log.warning("ignoring cached TensorRT engine %s: its record names another key", engine)
            return None
        if stored.get("engine_sha256") != hashlib.sha256(data).hexdigest():
            _log.warning("ignoring cached TensorRT engine %s: its bytes do not match its record", engine)
            return None
        return data

    def store_engine(self, key: EngineCacheKey, data: bytes) -> Path:
        """Keep ``data`` as the engine for ``key``; returns its path."""
        engine = self.engine_path(key)
        atomic_write_bytes(engine, data)
        record = {"key": key.fields(), "engine_sha256": hashlib.sha256(data).hexdigest(), "engine_bytes": len(data)}
        atomic_write_bytes(self.record_path(key), (json.dumps(record, indent=2, sort_keys=True) + "\n").encode())
        return engine

    def load_timing_cache(self, key: EngineCacheKey) -> bytes:
        """The stored timing cache for ``key``'s GPU, TensorRT version and precision (empty if none)."""
        try:
            return self.timing_cache_path(key).read_bytes()
        except FileNotFoundError:
            return b""
        except OSError as err:
            _log.warning("starting a new TensorRT timing cache: %s", err)
            return b""

    def store_timing_cache(self, key: EngineCacheKey, data: bytes) -> None:
        if data:
            atomic_write_bytes(self.timing_cache_path(key), data)
