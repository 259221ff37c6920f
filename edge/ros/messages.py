"""Pure conversions between Onset's vocabulary objects and standard ROS 2 messages, both ways.

Every header stamp is an int of master-clock nanoseconds split exactly into ``sec``/``nanosec``
(no float on the way). Conversions from messages validate what they read and raise a narrow
:class:`~edge.ros.errors.RosMessageError` (the node counts those as malformed messages).

Point clouds (``sensor_msgs/PointCloud2``) follow velodyne_pointcloud's XYZIRT layout, packed
little-endian, 22 bytes a point: ``x, y, z, intensity`` float32 at 0/4/8/12, ``ring`` uint16 at 16,
``time`` float32 at 18 = seconds of the point's master time after ``header.stamp`` (the sweep's
stamp; offsets may be negative when the stamp is not the first point). Readers also take the
ouster-ros layout, whose ``t`` field is uint32 nanoseconds after ``header.stamp``; the cloud
conversions live in :mod:`edge.ros.clouds` and the stamp ones in :mod:`edge.ros.stamps`, both
re-exported here. Images are ``rgb8``; arrays are shared with the message where the layout
allows (one copy into the message, none out of it).
"""

from __future__ import annotations

import array
import enum
import re
from typing import Iterable, List, Mapping, NamedTuple, Optional, Sequence, Tuple

import numpy as np

from edge.ros.clouds import CLOUD_DTYPE, cloud_from_msg, cloud_to_msg
from edge.ros.errors import ImageLayoutError, RosMessageError, RosUnavailableError
from edge.ros.lens import LensReading, lens_from_json, lens_to_json
from edge.ros.stamps import as_ns, bytes_into_msg, header, time_from_msg, time_to_msg
from sensors.timecode.smpte import frames_per_day, frames_to_ns, frames_to_timecode, timecode_to_ns
from sensors.vocabulary import (
    NS_PER_S,
    FrameRate,
    ImageFrame,
    LensState,
    RigPose,
    Stamp,
    Timecode,
    TimecodeSample,
    matrix_to_quat,
)

try:
    from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus, KeyValue
    from geometry_msgs.msg import TransformStamped
    from sensor_msgs.msg import CameraInfo, Image, TimeReference
    from std_msgs.msg import String
except ImportError as err:  # pragma: no cover - exercised only where the message packages are missing
    raise RosUnavailableError(getattr(err, "name", None) or "sensor_msgs") from err

__all__ = [
    "time_to_msg",
    "time_from_msg",
    "header",
    "bytes_into_msg",
    "CLOUD_DTYPE",
    "cloud_to_msg",
    "cloud_from_msg",
    "image_to_msg",
    "image_from_msg",
    "CameraCalibration",
    "camera_info_to_msg",
    "camera_info_from_msg",
    "timecode_to_msg",
    "timecode_from_msg",
    "pose_to_msg",
    "pose_from_msg",
    "transform_to_msg",
    "lens_to_msg",
    "lens_from_msg",
    "DiagnosticLevel",
    "DiagnosticEntry",
    "diagnostics_to_msg",
    "diagnostics_from_msg",
    "MAX_IMAGE_SIDE_PX",
]

#: Largest image side accepted from the graph (8K is 7680): a bigger header is hostile or broken.
MAX_IMAGE_SIDE_PX = 16384


# -- images ------------------------------------------------------------------------------------

# encoding -> (channels, channel order giving RGB, or None for grey)
_ENCODINGS = {
    "rgb8": (3, (0, 1, 2)),
    "bgr8": (3, (2, 1, 0)),
    "rgba8": (4, (0, 1, 2)),
    "bgra8": (4, (2, 1, 0)),
    "mono8": (1, None),
}


def image_to_msg(frame: ImageFrame, stamp_ns: int, frame_id: str) -> Image:
    """``sensor_msgs/Image`` rgb8 of ``frame.rgb`` (H,W,3 uint8), stamped ``stamp_ns`` (master)."""
    rgb = frame.rgb
    if rgb.dtype != np.uint8 or rgb.ndim != 3 or rgb.shape[2] != 3:
        raise ValueError(f"frame.rgb must be (H, W, 3) uint8, got {rgb.shape} {rgb.dtype}")
    height, width = int(rgb.shape[0]), int(rgb.shape[1])
    msg = Image(header=header(stamp_ns, frame_id), height=height, width=width, encoding="rgb8", is_bigendian=0, step=width * 3)
    msg.data = bytes_into_msg(rgb)  # after construction: the constructor would copy the array again
    return msg


def image_from_msg(msg: Image, frame_index: int, recv_ns: int) -> ImageFrame:
    """ImageFrame of an rgb8/bgr8/rgba8/bgra8/mono8 image; rows padded past ``width`` are honoured.

    rgb8 comes back as a read-only view of the message's buffer (no copy); other encodings are
    converted (one copy). ``exposure_mid`` is ``Stamp(sensor_ns=header stamp, host_ns=recv_ns)``:
    the publisher's clock, master time for Onset's own topic.
    """
    layout = _ENCODINGS.get(msg.encoding)
    if layout is None:
        raise ImageLayoutError(f"image encoding {msg.encoding!r} is not one of {sorted(_ENCODINGS)}")
    channels, order = layout
    height, width, step = int(msg.height), int(msg.width), int(msg.step)
    if not (0 < height <= MAX_IMAGE_SIDE_PX and 0 < width <= MAX_IMAGE_SIDE_PX):
        raise ImageLayoutError(f"image {width}x{height} px outside 1..{MAX_IMAGE_SIDE_PX} per side")
    row_bytes = width * channels
    if step < row_bytes:
        raise ImageLayoutError(f"step {step} B shorter than a {msg.encoding} row of {width} px ({row_bytes} B)")
    flat = np.frombuffer(msg.data, dtype=np.uint8)
    if flat.size != step * height:
        raise ImageLayoutError(f"image data is {flat.size} B, expected step*height = {step}*{height} = {step * height}")
    pixels = flat.reshape(height, step)[:, :row_bytes].reshape(height, width, channels)
    if order is None:
        rgb = np.repeat(pixels, 3, axis=2)
    elif channels == 3 and order == (0, 1, 2):
        rgb = pixels
        rgb.flags.writeable = False  # shares the message's memory
    else:
        rgb = np.ascontiguousarray(pixels[:, :, list(order)])
    stamp = Stamp(sensor_ns=time_from_msg(msg.header.stamp), host_ns=as_ns(recv_ns, "recv_ns"))
    return ImageFrame(rgb=rgb, exposure_mid=stamp, frame_index=int(frame_index))


# -- camera info -------------------------------------------------------------------------------


class CameraCalibration(NamedTuple):
    """What a ``sensor_msgs/CameraInfo`` says: ``K`` (3,3), ``distortion`` (k1,k2,p1,p2,k3), size, ``P`` (3,4)."""

    K: np.ndarray
    distortion: Tuple[float, float, float, float, float]
    width_px: int
    height_px: int
    P: np.ndarray
    stamp_ns: int
    frame_id: str


def camera_info_to_msg(
    K: np.ndarray,
    distortion: Sequence[float],
    width_px: int,
    height_px: int,
    stamp_ns: int,
    frame_id: str,
    P: Optional[np.ndarray] = None,
) -> CameraInfo:
    """``sensor_msgs/CameraInfo``, plumb_bob model with ``D = (k1, k2, p1, p2, k3)`` (OpenCV order).

    ``P`` (3,4) defaults to ``[K | 0]``: a monocular camera whose rectified image is the distorted
    one with distortion removed, same focal lengths; ``R`` is the identity.
    """
    K = np.asarray(K, dtype=np.float64)
    D = np.asarray(distortion, dtype=np.float64)
    P = np.hstack([K, np.zeros((3, 1))]) if P is None else np.asarray(P, dtype=np.float64)
    if K.shape != (3, 3) or D.shape != (5,) or P.shape != (3, 4):
        raise ValueError(f"need K (3,3), distortion (5,), P (3,4); got {K.shape}, {D.shape}, {P.shape}")
    if not (np.isfinite(K).all() and np.isfinite(D).all() and np.isfinite(P).all()):
        raise ValueError("K, distortion and P must be finite")
    if width_px <= 0 or height_px <= 0:
        raise ValueError(f"image size {width_px}x{height_px} px must be positive")
    return CameraInfo(
        header=header(stamp_ns, frame_id),
        height=int(height_px),
        width=int(width_px),
        distortion_model="plumb_bob",
        d=array.array("d", D.tolist()),
        k=K.reshape(9).copy(),  # copies: the message must not share the caller's arrays
        r=np.eye(3).reshape(9),
        p=P.reshape(12).copy(),
    )


def camera_info_from_msg(msg: CameraInfo) -> CameraCalibration:
    """Read back K, the five plumb_bob coefficients, size and P; other models are rejected."""
    if msg.distortion_model != "plumb_bob" or len(msg.d) != 5:
        raise RosMessageError(
            f"camera info has distortion model {msg.distortion_model!r} with {len(msg.d)} coefficients; "
            "Onset reads plumb_bob with 5 (k1, k2, p1, p2, k3)"
        )
    K = np.asarray(msg.k, dtype=np.float64).reshape(3, 3).copy()
    P = np.asarray(msg.p, dtype=np.float64).reshape(3, 4).copy()
    D = tuple(float(v) for v in msg.d)
    if not (np.isfinite(K).all() and np.isfinite(P).all() and np.isfinite(D).all()):
        raise RosMessageError("camera info K, D or P is not finite")
    if msg.width == 0 or msg.height == 0 or K[0, 0] <= 0 or K[1, 1] <= 0:
        raise RosMessageError(f"camera info without a usable calibration: {msg.width}x{msg.height} px, fx={K[0, 0]}")
    return CameraCalibration(K, D, int(msg.width), int(msg.height), P, time_from_msg(msg.header.stamp), msg.header.frame_id)


# -- timecode ----------------------------------------------------------------------------------

_SOURCE = re.compile(r"^(?P<origin>\S+) (?P<label>\d{2}:\d{2}:\d{2}[:;]\d{2}) @(?P<rate>\S+)$")
#: How far ``time_ref`` may sit from a frame start and still name that frame (ns rounding only).
_FRAME_START_TOLERANCE_NS = 1_000


def timecode_to_msg(tc: Timecode, stamp_ns: int, origin: str = "LTC") -> TimeReference:
    """``sensor_msgs/TimeReference`` of a timecode frame starting at master time ``stamp_ns``.

    ``time_ref`` is the start of the frame in real time since the midnight label (frame count
    times the exact frame duration, so 01:00:00:00 at 23.976 is 3603.6 s); ``source`` says where
    the timecode came from, its label and its rate: ``"LTC 01:00:00:05 @24"``, ``"LTC 00:10:00;02 @29.97DF"``.
    """
    return TimeReference(
        header=header(stamp_ns, ""),
        time_ref=time_to_msg(timecode_to_ns(tc)),
        source=f"{origin} {tc} @{tc.rate.label}",
    )


def timecode_from_msg(msg: TimeReference, recv_ns: int) -> TimecodeSample:
    """TimecodeSample of a TimeReference written by :func:`timecode_to_msg` (or the same layout).

    The frame comes from ``time_ref`` at the rate named in ``source``; the label in ``source``
    must agree with it. ``stamp`` is ``Stamp(sensor_ns=header stamp, host_ns=recv_ns)``.
    """
    match = _SOURCE.match(msg.source)
    if match is None:
        raise RosMessageError(f"time reference source {msg.source!r} is not '<origin> HH:MM:SS:FF @<rate>'")
    try:
        rate = FrameRate.parse(match.group("rate"))
    except ValueError as err:
        raise RosMessageError(f"time reference source {msg.source!r}: {err}") from err
    ref_ns = time_from_msg(msg.time_ref)
    num, den, _ = rate.value
    frames = (2 * ref_ns * num + NS_PER_S * den) // (2 * NS_PER_S * den)  # nearest frame start
    if not 0 <= frames < frames_per_day(rate) or abs(frames_to_ns(frames, rate) - ref_ns) > _FRAME_START_TOLERANCE_NS:
        raise RosMessageError(f"time_ref {ref_ns} ns is not a frame start within a day at {rate.label} fps")
    tc = frames_to_timecode(frames, rate)
    if str(tc).replace(";", ":") != match.group("label").replace(";", ":"):
        raise RosMessageError(f"time reference label {match.group('label')} disagrees with time_ref, which is {tc}")
    stamp = Stamp(sensor_ns=time_from_msg(msg.header.stamp), host_ns=as_ns(recv_ns, "recv_ns"))
    return TimecodeSample(timecode=tc, stamp=stamp)


# -- poses -------------------------------------------------------------------------------------

#: A received quaternion this far from unit length is malformed rather than rounded.
_QUAT_NORM_TOLERANCE = 1e-3


def _transform(stamp_ns: int, parent: str, child: str, xyz: np.ndarray, q_xyzw: np.ndarray) -> TransformStamped:
    msg = TransformStamped(header=header(stamp_ns, parent), child_frame_id=child)
    t, r = msg.transform.translation, msg.transform.rotation
    t.x, t.y, t.z = (float(v) for v in xyz)
    r.x, r.y, r.z, r.w = (float(v) for v in q_xyzw)
    return msg


def pose_to_msg(pose: RigPose, parent: str = "stage", child: str = "rig") -> TransformStamped:
    """``geometry_msgs/TransformStamped`` of ``T_stage_rig`` at ``pose.t_ns`` (parent stage, child rig)."""
    return _transform(pose.t_ns, parent, child, np.asarray(pose.position_m), np.asarray(pose.orientation_xyzw))


def transform_to_msg(T_parent_child: np.ndarray, stamp_ns: int, parent: str, child: str) -> TransformStamped:
    """``TransformStamped`` of a 4x4 rigid transform (static mounts: rig -> camera_optical, rig -> lidar)."""
    T = np.asarray(T_parent_child, dtype=np.float64)
    if T.shape != (4, 4) or not np.isfinite(T).all():
        raise ValueError(f"T_{parent}_{child} must be a finite 4x4 matrix, got shape {T.shape}")
    return _transform(stamp_ns, parent, child, T[:3, 3], matrix_to_quat(T[:3, :3]))


def pose_from_msg(msg: TransformStamped, parent: Optional[str] = "stage", child: Optional[str] = "rig") -> RigPose:
    """RigPose of a TransformStamped; frames must match when given, the quaternion must be unit (±1e-3)."""
    if parent is not None and msg.header.frame_id != parent:
        raise RosMessageError(f"pose parent frame {msg.header.frame_id!r}, expected {parent!r}")
    if child is not None and msg.child_frame_id != child:
        raise RosMessageError(f"pose child frame {msg.child_frame_id!r}, expected {child!r}")
    t, r = msg.transform.translation, msg.transform.rotation
    position = np.array([t.x, t.y, t.z], dtype=np.float64)
    q = np.array([r.x, r.y, r.z, r.w], dtype=np.float64)
    norm = float(np.linalg.norm(q))
    if not (np.isfinite(position).all() and np.isfinite(norm)) or abs(norm - 1.0) > _QUAT_NORM_TOLERANCE:
        raise RosMessageError(f"pose is not a rigid transform: translation {position}, |q| = {norm}")
    return RigPose(t_ns=time_from_msg(msg.header.stamp), position_m=position, orientation_xyzw=q / norm)


# -- lens ------------------------------------------------------------------------------------


def lens_to_msg(lens: LensState, t_ns: int, zoom_raw: int, focus_raw: int) -> String:
    """``std_msgs/String`` holding one lens reading as versioned JSON (:mod:`edge.ros.lens`);
    ``t_ns`` is the telemetry sample's master time, as on its pose."""
    return String(data=lens_to_json(lens, as_ns(t_ns, "t_ns"), zoom_raw, focus_raw))


def lens_from_msg(msg: String) -> LensReading:
    """The lens reading a :func:`lens_to_msg` message carries (RosMessageError if it is not one)."""
    return lens_from_json(msg.data)


# -- diagnostics -------------------------------------------------------------------------------


class DiagnosticLevel(enum.IntEnum):
    """``diagnostic_msgs/DiagnosticStatus`` levels."""

    OK = 0
    WARN = 1
    ERROR = 2
    STALE = 3


class DiagnosticEntry(NamedTuple):
    """One component's health: ``values`` are key/value pairs shown beside the message."""

    name: str
    level: DiagnosticLevel
    message: str
    values: Tuple[Tuple[str, str], ...] = ()
    hardware_id: str = ""


def _entry(item) -> DiagnosticEntry:
    """A DiagnosticEntry from a (name, level, message[, values[, hardware_id]]) tuple or an entry."""
    name, level, message, *rest = item
    if len(rest) > 2:
        raise ValueError(f"diagnostic entry {item!r}: expected (name, level, message[, values[, hardware_id]])")
    values = rest[0] if rest else ()
    pairs = values.items() if isinstance(values, Mapping) else values
    return DiagnosticEntry(
        name=str(name),
        level=DiagnosticLevel(int(level)),
        message=str(message),
        values=tuple((str(k), str(v)) for k, v in pairs),
        hardware_id=str(rest[1]) if len(rest) > 1 else "",
    )


def diagnostics_to_msg(entries: Iterable, stamp_ns: int) -> DiagnosticArray:
    """``diagnostic_msgs/DiagnosticArray`` of (name, level, message, key/values[, hardware_id]) entries."""
    status: List[DiagnosticStatus] = []
    for item in entries:
        e = _entry(item)
        status.append(
            DiagnosticStatus(
                level=bytes([int(e.level)]),  # a ROS 'byte' field is a length-1 bytes in rclpy
                name=e.name,
                message=e.message,
                hardware_id=e.hardware_id,
                values=[KeyValue(key=k, value=v) for k, v in e.values],
            )
        )
    return DiagnosticArray(header=header(stamp_ns, ""), status=status)


def diagnostics_from_msg(msg: DiagnosticArray) -> Tuple[int, List[DiagnosticEntry]]:
    """(stamp_ns, entries) of a DiagnosticArray; an unknown level is malformed."""
    entries = []
    for s in msg.status:
        raw = s.level[0] if isinstance(s.level, (bytes, bytearray)) else int(s.level)
        try:
            level = DiagnosticLevel(raw)
        except ValueError as err:
            raise RosMessageError(f"diagnostic {s.name!r} has level {raw}, expected 0..3") from err
        values = tuple((kv.key, kv.value) for kv in s.values)
        entries.append(DiagnosticEntry(s.name, level, s.message, values, s.hardware_id))
    return time_from_msg(msg.header.stamp), entries
