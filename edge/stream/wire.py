"""The fused-frame wire format, version 1 (minor 1): a :class:`~sensors.vocabulary.FusedFrame` as a list of parts.

Pure functions, no sockets: :func:`encode_frame` turns a frame into parts for one ZeroMQ multipart
message, :func:`decode_frame` turns received parts back into a frame plus its :class:`WireMeta`.

Message layout
--------------
* **part 0, header**: UTF-8 JSON object, at most :data:`MAX_HEADER_BYTES`, strict JSON (a
  non-finite float is written as the string ``"NaN"``, ``"Infinity"`` or ``"-Infinity"``)::

    {"magic": "ONSETFF", "version": 1, "minor": 1,
     "stream_id": "5f0c...", "seq": 41, "sent_ns": 1800000000123456789,
     "report": "tcp://127.0.0.1:40124",                              # or null (minor 1)
     "frame_index": 41, "t_ns": 1800000000100000000,
     "timecode": {"label": "01:00:01;11", "rate": "29.97DF"},        # or null
     "pose": {"t_ns": ..., "position_m": [x, y, z],
              "orientation_xyzw": [x, y, z, w]},                     # T_stage_rig, or null
     "lens": {"focal_length_mm": 35.0, "focus_distance_m": 3.2,
              "t_stop": 2.8},                                        # t_stop may be null; or null
     "K": [fx, 0, cx, 0, fy, cy, 0, 0, 1],                           # 3x3 row-major, pixels
     "distortion": [k1, k2, p1, p2, k3],
     "sync": [{"sensor": "lidar0", "status": "ok", "gap_ms": 1.5, "residual_jitter_ms": 0.2}],
     "points_used": 12873,
     "arrays": [{"name": "rgb", "dtype": "|u1", "shape": [360, 640, 3]},
                {"name": "depth_m", "dtype": "<f4", "shape": [360, 640]}]}

  ``stream_id`` names one publisher instance and ``seq`` counts every frame it was offered, from
  0: a subscriber counts a jump in ``seq`` within one ``stream_id`` as lost frames. ``sent_ns`` is
  the publisher's master-clock time when it encoded the message. ``report`` (added in minor 1)
  is the endpoint where the publisher hears consumers' loss reports (:mod:`edge.stream.reports`),
  or null when it hears none. Units are those of ``FusedFrame``.
* **parts 1..n**: the raw bytes of each array named in ``arrays``, in that order, C order, in the
  byte order its ``dtype`` says (numpy ``dtype.str``: ``<`` little, ``>`` big, ``|`` single byte).
  ``rgb`` is ``|u1`` of shape (H, W, 3); ``depth_m`` is a float (``f2``/``f4``/``f8``) of shape (H, W).

Versioning rule
---------------
``version`` is the major version. A decoder reads exactly its own major version (:data:`WIRE_VERSION`)
and rejects any other, or a wrong ``magic``, with :class:`~edge.stream.errors.WireVersionError`.
Within a major version, a newer ``minor`` may only *add*: header keys and further entries in
``arrays`` (with their parts). Decoders ignore keys and arrays they do not know, so old consumers
read new producers. Removing or renaming a key, changing a unit or a meaning, or adding a value to
an existing enumeration (e.g. a new sync status) makes a new major version.

Minor versions so far: 0, the first; 1 adds ``report``. A minor-0 producer (no ``report``) is read
as one that hears no reports, so its consumers simply do not report; a minor-0 consumer ignores
``report`` and is absent from the producer's per-consumer loss table. The loss reports travel on
their own socket in their own versioned format, never on the frame stream.

Decoding never copies the arrays: they are ``np.frombuffer`` views of the received parts, made
read-only (with ZeroMQ's inproc transport the memory can be the publisher's own array).
"""

from __future__ import annotations

import json
import math
import operator
import re
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Sequence, Tuple

import numpy as np

from edge.stream.errors import FrameContractError, WireFormatError, WireVersionError
from sensors.vocabulary import FrameRate, FusedFrame, LensState, RigPose, SensorSync, SyncStatus, Timecode

__all__ = ["MAGIC", "WIRE_VERSION", "WIRE_MINOR", "MAX_HEADER_BYTES", "WireMeta", "encode_frame", "decode_frame"]

MAGIC = "ONSETFF"
WIRE_VERSION = 1
WIRE_MINOR = 1
MAX_HEADER_BYTES = 64 * 1024
# Bounds a hostile header cannot push past; real frames are far inside them.
_MAX_DIM = 1 << 16
_MAX_DISTORTION = 16
_MAX_SYNC = 64
_MAX_NAME = 128
_MAX_ENDPOINT = 256
_INT64 = 1 << 63

_RGB_DTYPES = frozenset({"|u1"})
_DEPTH_DTYPES = frozenset({"<f2", ">f2", "<f4", ">f4", "<f8", ">f8"})
_RATES = {rate.label: rate for rate in FrameRate}
_NONFINITE_OUT = {"nan": "NaN", "inf": "Infinity", "-inf": "-Infinity"}
_NONFINITE_IN = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}
_TC_LABEL = re.compile(r"^(\d{2}):(\d{2}):(\d{2})([:;])(\d{2})$")


@dataclass(frozen=True)
class WireMeta:
    """What the wire adds to a frame: publisher ``stream_id``, sequence ``seq``, ``sent_ns``, ``minor``,
    and ``report``, the publisher's loss-report endpoint (None: it hears no reports)."""

    stream_id: str
    seq: int
    sent_ns: int
    minor: int = WIRE_MINOR
    report: Optional[str] = None


# ---------------------------------------------------------------- encode


def _float_out(value: Any) -> Any:
    f = float(value)
    return f if math.isfinite(f) else _NONFINITE_OUT[repr(f)]


def _int_out(value: Any, what: str, low: int = -_INT64) -> int:
    try:
        number = operator.index(value)  # an int or numpy integer; a float is a bug upstream, not rounded
    except TypeError as err:
        raise FrameContractError(f"{what} must be an integer, got {value!r:.80}") from err
    if not low <= number < _INT64:
        raise FrameContractError(f"{what} {number} is outside [{low}, 2**63)")
    return number


def _floats_out(values: Any, count: Optional[int], what: str) -> List[Any]:
    arr = np.asarray(values, dtype=float).reshape(-1)
    if count is not None and arr.size != count:
        raise FrameContractError(f"{what} has {arr.size} values, expected {count}")
    return [_float_out(v) for v in arr]


def _check_arrays(rgb: np.ndarray, depth_m: np.ndarray) -> None:
    """The ``FusedFrame`` contract on its arrays, shared by encoder and decoder."""
    if rgb.dtype.str not in _RGB_DTYPES or rgb.ndim != 3 or rgb.shape[2] != 3:
        raise FrameContractError(f"rgb must be (H, W, 3) uint8, got {rgb.shape} {rgb.dtype}")
    if depth_m.dtype.str not in _DEPTH_DTYPES or depth_m.shape != rgb.shape[:2]:
        raise FrameContractError(
            f"depth_m must be float of shape {rgb.shape[:2]} (the image's), got {depth_m.shape} {depth_m.dtype}"
        )


def _header(frame: FusedFrame, meta: WireMeta, arrays: Sequence[Tuple[str, np.ndarray]]) -> Dict[str, Any]:
    tc = frame.timecode
    pose = frame.pose
    lens = frame.lens
    if tc is not None and not isinstance(tc, Timecode):
        raise FrameContractError(f"timecode must be a Timecode or None, got {type(tc).__name__}")
    if pose is not None and not isinstance(pose, RigPose):
        raise FrameContractError(f"pose must be a RigPose or None, got {type(pose).__name__}")
    if lens is not None and not isinstance(lens, LensState):
        raise FrameContractError(f"lens must be a LensState or None, got {type(lens).__name__}")
    if len(frame.distortion) > _MAX_DISTORTION:
        raise FrameContractError(f"distortion has {len(frame.distortion)} coefficients, at most {_MAX_DISTORTION}")
    if meta.report is not None and (not isinstance(meta.report, str) or len(meta.report) > _MAX_ENDPOINT):
        raise FrameContractError(f"report endpoint must be a string of at most {_MAX_ENDPOINT} characters")
    if len(str(meta.stream_id)) > _MAX_NAME or len(frame.sync) > _MAX_SYNC:
        raise FrameContractError(f"stream_id over {_MAX_NAME} characters or more than {_MAX_SYNC} sync entries")
    sync = []
    for entry in frame.sync:
        if not isinstance(entry, SensorSync):
            raise FrameContractError(f"sync entries must be SensorSync, got {type(entry).__name__}")
        if len(str(entry.sensor)) > _MAX_NAME:
            raise FrameContractError(f"sensor name {str(entry.sensor)[:40]!r}... is over {_MAX_NAME} characters")
        sync.append({"sensor": str(entry.sensor), "status": SyncStatus(entry.status).value,
                     "gap_ms": _float_out(entry.gap_ms), "residual_jitter_ms": _float_out(entry.residual_jitter_ms)})
    return {
        "magic": MAGIC, "version": WIRE_VERSION, "minor": WIRE_MINOR,
        "stream_id": str(meta.stream_id), "seq": _int_out(meta.seq, "seq", 0), "sent_ns": _int_out(meta.sent_ns, "sent_ns"),
        "report": meta.report,
        "frame_index": _int_out(frame.frame_index, "frame_index"), "t_ns": _int_out(frame.t_ns, "t_ns"),
        "timecode": None if tc is None else {"label": str(tc), "rate": tc.rate.label},
        "pose": None if pose is None else {
            "t_ns": _int_out(pose.t_ns, "pose.t_ns"),
            "position_m": _floats_out(pose.position_m, 3, "pose.position_m"),
            "orientation_xyzw": _floats_out(pose.orientation_xyzw, 4, "pose.orientation_xyzw"),
        },
        "lens": None if lens is None else {
            "focal_length_mm": _float_out(lens.focal_length_mm),
            "focus_distance_m": _float_out(lens.focus_distance_m),
            "t_stop": None if lens.t_stop is None else _float_out(lens.t_stop),
        },
        "K": _floats_out(frame.K, 9, "K"),
        "distortion": _floats_out(frame.distortion, None, "distortion"),
        "sync": sync,
        "points_used": _int_out(frame.points_used, "points_used", 0),
        "arrays": [{"name": name, "dtype": arr.dtype.str, "shape": list(arr.shape)} for name, arr in arrays],
    }


def encode_frame(frame: FusedFrame, meta: WireMeta) -> List[Any]:
    """Parts of one message: ``[header bytes, rgb, depth_m]``.

    The array parts are the frame's own arrays when they are C-contiguous (no copy: hand them to
    ``send_multipart(..., copy=False)`` and do not write into them afterwards); a non-contiguous
    array is copied once into C order. Raises :class:`FrameContractError` for a frame that breaks
    the ``FusedFrame`` contract.
    """
    if not isinstance(frame, FusedFrame):
        raise FrameContractError(f"expected a FusedFrame, got {type(frame).__name__}")
    if not isinstance(frame.rgb, np.ndarray) or not isinstance(frame.depth_m, np.ndarray):
        raise FrameContractError("rgb and depth_m must be numpy arrays")
    rgb = np.ascontiguousarray(frame.rgb)  # the same object when already C-contiguous
    depth = np.ascontiguousarray(frame.depth_m)
    _check_arrays(rgb, depth)
    try:
        header = _header(frame, meta, (("rgb", rgb), ("depth_m", depth)))
    except (TypeError, ValueError, KeyError) as err:
        if isinstance(err, FrameContractError):
            raise
        raise FrameContractError(f"fused frame {frame.frame_index!r} cannot be encoded: {err}") from err
    blob = json.dumps(header, allow_nan=False, separators=(",", ":")).encode("utf-8")
    if len(blob) > MAX_HEADER_BYTES:
        raise FrameContractError(f"header of {len(blob)} bytes exceeds {MAX_HEADER_BYTES}")
    return [blob, rgb, depth]


# ---------------------------------------------------------------- decode


def _field(obj: Dict[str, Any], key: str, where: str = "header") -> Any:
    if key not in obj:
        raise WireFormatError(f"{where} lacks {key!r}")
    return obj[key]


def _int(value: Any, what: str, low: int = -_INT64, high: int = _INT64) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value < high:
        raise WireFormatError(f"{what} must be an integer in [{low}, {high}), got {value!r:.80}")
    return value


def _float(value: Any, what: str) -> float:
    if isinstance(value, str) and value in _NONFINITE_IN:
        return _NONFINITE_IN[value]
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise WireFormatError(f"{what} must be a number, got {value!r:.80}")
    return float(value)


def _floats(value: Any, what: str, count: Optional[int], limit: int = _MAX_DISTORTION) -> List[float]:
    if not isinstance(value, list) or (count is not None and len(value) != count) or len(value) > limit:
        want = f"{count}" if count is not None else f"at most {limit}"
        raise WireFormatError(f"{what} must be a list of {want} numbers, got {value!r:.80}")
    return [_float(v, what) for v in value]


def _obj(value: Any, what: str) -> Dict[str, Any]:
    if not isinstance(value, dict):
        raise WireFormatError(f"{what} must be an object, got {value!r:.80}")
    return value


def _str(value: Any, what: str) -> str:
    if not isinstance(value, str) or len(value) > _MAX_NAME:
        raise WireFormatError(f"{what} must be a string of at most {_MAX_NAME} characters, got {value!r:.80}")
    return value


def _report_endpoint(value: Any) -> Optional[str]:
    if value is None:
        return None
    if not isinstance(value, str) or not value or len(value) > _MAX_ENDPOINT:
        raise WireFormatError(f"report must be null or an endpoint of at most {_MAX_ENDPOINT} characters, got {value!r:.80}")
    return value


def _timecode(value: Any) -> Optional[Timecode]:
    if value is None:
        return None
    tc = _obj(value, "timecode")
    label, rate_label = _str(_field(tc, "label", "timecode"), "timecode.label"), _field(tc, "rate", "timecode")
    rate = _RATES.get(rate_label) if isinstance(rate_label, str) else None
    match = _TC_LABEL.match(label)
    if rate is None or match is None:
        raise WireFormatError(f"timecode {label!r} at rate {rate_label!r:.40} is not a SMPTE label at a known rate")
    if (match.group(4) == ";") != rate.drop_frame:
        raise WireFormatError(f"timecode {label!r}: separator does not match rate {rate.label}")
    try:
        return Timecode(int(match.group(1)), int(match.group(2)), int(match.group(3)), int(match.group(5)), rate)
    except ValueError as err:
        raise WireFormatError(f"timecode {label!r}: {err}") from err


def _pose(value: Any) -> Optional[RigPose]:
    if value is None:
        return None
    pose = _obj(value, "pose")
    return RigPose(
        t_ns=_int(_field(pose, "t_ns", "pose"), "pose.t_ns"),
        position_m=np.array(_floats(_field(pose, "position_m", "pose"), "pose.position_m", 3)),
        orientation_xyzw=np.array(_floats(_field(pose, "orientation_xyzw", "pose"), "pose.orientation_xyzw", 4)),
    )


def _lens(value: Any) -> Optional[LensState]:
    if value is None:
        return None
    lens = _obj(value, "lens")
    t_stop = lens.get("t_stop")
    return LensState(
        focal_length_mm=_float(_field(lens, "focal_length_mm", "lens"), "lens.focal_length_mm"),
        focus_distance_m=_float(_field(lens, "focus_distance_m", "lens"), "lens.focus_distance_m"),
        t_stop=None if t_stop is None else _float(t_stop, "lens.t_stop"),
    )


def _sync(value: Any) -> tuple:
    if not isinstance(value, list) or len(value) > _MAX_SYNC:
        raise WireFormatError(f"sync must be a list of at most {_MAX_SYNC} entries")
    entries = []
    for raw in value:
        entry = _obj(raw, "sync entry")
        status = _field(entry, "status", "sync entry")
        try:
            status = SyncStatus(status)
        except ValueError as err:
            raise WireFormatError(f"sync status {status!r:.40} is not one of version {WIRE_VERSION}") from err
        entries.append(SensorSync(
            sensor=_str(_field(entry, "sensor", "sync entry"), "sync.sensor"),
            status=status,
            gap_ms=_float(_field(entry, "gap_ms", "sync entry"), "sync.gap_ms"),
            residual_jitter_ms=_float(_field(entry, "residual_jitter_ms", "sync entry"), "sync.residual_jitter_ms"),
        ))
    return tuple(entries)


def _array(spec: Dict[str, Any], part: Any, name: str) -> np.ndarray:
    dtype_str = _field(spec, "dtype", f"array {name!r}")
    allowed = _RGB_DTYPES if name == "rgb" else _DEPTH_DTYPES
    if not isinstance(dtype_str, str) or dtype_str not in allowed:
        raise WireFormatError(f"array {name!r} has dtype {dtype_str!r:.40}, expected one of {sorted(allowed)}")
    shape = _field(spec, "shape", f"array {name!r}")
    if not isinstance(shape, list) or len(shape) > 3:
        raise WireFormatError(f"array {name!r} shape must be a list of at most 3 sizes, got {shape!r:.80}")
    dims = tuple(_int(d, f"array {name!r} size", 0, _MAX_DIM + 1) for d in shape)
    dtype = np.dtype(dtype_str)
    expected = math.prod(dims) * dtype.itemsize
    nbytes = memoryview(part).nbytes
    if nbytes != expected:
        raise WireFormatError(f"array {name!r} {dtype_str}{list(dims)} needs {expected} bytes, its part has {nbytes}")
    try:
        arr = np.frombuffer(part, dtype=dtype).reshape(dims)  # a view: its base keeps the part alive
    except (TypeError, ValueError) as err:  # e.g. a non-contiguous buffer handed in by a caller
        raise WireFormatError(f"array {name!r}: {err}") from err
    arr.flags.writeable = False
    return arr


def decode_frame(parts: Sequence[Any]) -> Tuple[FusedFrame, WireMeta]:
    """The frame and wire metadata of one message's parts (bytes, memoryviews or ``zmq.Frame``).

    The arrays are read-only views of the parts, without a copy; each keeps its part alive.
    Raises :class:`WireVersionError` for a wrong magic or major version and :class:`WireFormatError`
    for anything else malformed; nothing else escapes.
    """
    try:
        views = [memoryview(part) for part in parts]
    except TypeError as err:
        raise WireFormatError(f"message parts must be buffers: {err}") from err
    if not views:
        raise WireFormatError("empty message")
    if views[0].nbytes > MAX_HEADER_BYTES:
        raise WireFormatError(f"header of {views[0].nbytes} bytes exceeds {MAX_HEADER_BYTES}")
    try:
        header = json.loads(views[0].tobytes().decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as err:
        raise WireFormatError(f"header is not UTF-8 JSON: {str(err):.120}") from err
    header = _obj(header, "header")
    if header.get("magic") != MAGIC:
        raise WireVersionError(f"magic {header.get('magic')!r:.40} is not {MAGIC!r}: not a fused-frame message")
    version = header.get("version")
    if isinstance(version, bool) or version != WIRE_VERSION:
        raise WireVersionError(f"wire version {version!r:.40} is not supported (this decoder reads {WIRE_VERSION})")
    specs = _field(header, "arrays")
    if not isinstance(specs, list) or len(parts) != 1 + len(specs):
        count = len(specs) if isinstance(specs, list) else "?"
        raise WireFormatError(f"message has {len(parts)} parts, the header announces 1 + {count}")
    arrays: Dict[str, np.ndarray] = {}
    for spec, part in zip(specs, parts[1:]):
        name = _str(_field(_obj(spec, "array entry"), "name", "array entry"), "array name")
        if name in arrays:
            raise WireFormatError(f"array {name!r} appears twice")
        if name in ("rgb", "depth_m"):
            arrays[name] = _array(spec, part, name)
        else:
            arrays[name] = np.empty(0)  # a later minor version's array: skipped
    if "rgb" not in arrays or "depth_m" not in arrays:
        raise WireFormatError(f"message lacks rgb or depth_m (has {sorted(arrays)})")
    try:
        _check_arrays(arrays["rgb"], arrays["depth_m"])
    except FrameContractError as err:
        raise WireFormatError(str(err)) from err
    meta = WireMeta(
        stream_id=_str(_field(header, "stream_id"), "stream_id"),
        seq=_int(_field(header, "seq"), "seq", 0),
        sent_ns=_int(_field(header, "sent_ns"), "sent_ns"),
        minor=_int(header.get("minor", 0), "minor", 0),
        report=_report_endpoint(header.get("report")),
    )
    frame = FusedFrame(
        frame_index=_int(_field(header, "frame_index"), "frame_index"),
        t_ns=_int(_field(header, "t_ns"), "t_ns"),
        timecode=_timecode(_field(header, "timecode")),
        rgb=arrays["rgb"],
        depth_m=arrays["depth_m"],
        pose=_pose(_field(header, "pose")),
        lens=_lens(_field(header, "lens")),
        K=np.array(_floats(_field(header, "K"), "K", 9)).reshape(3, 3),
        distortion=tuple(_floats(_field(header, "distortion"), "distortion", None)),
        sync=_sync(_field(header, "sync")),
        points_used=_int(_field(header, "points_used"), "points_used", 0),
    )
    return frame, meta
