"""Conversions from Onset's value objects to Foxglove's well-known schemas (``foxglove.messages``).

Pure functions: the plain parts (:func:`split_ns`, :func:`rigid_transform`, :func:`rig_transforms`,
:func:`cloud_bytes`, :func:`timecode_document`) need numpy only, :func:`jpeg_bytes` OpenCV; the
builders (:func:`compressed_image`, :func:`camera_calibration`, :func:`frame_transforms`,
:func:`point_cloud`) import ``foxglove`` when called, so this module imports without the SDK.

- **Times**: every ``timestamp`` is master-clock ns split exactly into ``sec``/``nsec`` (no float on
  the way). The SDK's timestamp holds unsigned 32-bit seconds: a time before 1970 or after 2106 is
  refused (:class:`~edge.foxglove.errors.FoxgloveMessageError`), never wrapped.
- **Image**: ``foxglove.CompressedImage``, format ``jpeg``, in the camera's optical frame, encoded
  by the preview's own encoder (:func:`edge.preview.parts.encode_jpeg`: one JPEG path in Onset).
- **Calibration**: ``foxglove.CameraCalibration``, model ``plumb_bob`` with ``D = (k1, k2, p1, p2,
  k3)`` (OpenCV's order), ``K`` row-major, ``R`` the identity, ``P = [K | 0]`` (a monocular camera,
  as ``edge.ros.messages.camera_info_to_msg`` writes CameraInfo), width and height in pixels.
- **Transforms**: ``foxglove.FrameTransforms``, each ``T_parent_child`` as the child's origin in
  the parent (``translation``, metres) and its orientation (``rotation``, unit quaternion x, y, z, w):
  ``p_parent = R p_child + t``, tf2's convention and :mod:`sensors.vocabulary`'s.
- **Cloud**: ``foxglove.PointCloud`` in the LiDAR's frame (``pose`` the identity), 16 bytes a
  point, little-endian float32 ``x, y, z`` (metres) at 0/4/8 and ``intensity`` at 12. Per-point time
  and ring stay on ROS 2 (``edge.ros.clouds``): Foxglove colours a cloud by a field, it does not deskew.
- **Timecode**: no well-known schema fits, so a JSON document (:data:`TIMECODE_SCHEMA`).
- **Engine results**: the engines' own versioned JSON envelope (``engines/worker/results.py``),
  unchanged (:data:`RESULT_SCHEMA` names its outer fields).
"""

from __future__ import annotations

from typing import Any, Dict, List, NamedTuple, Optional, Sequence, Tuple

import numpy as np

from edge.foxglove.errors import FoxgloveMessageError, FoxgloveUnavailableError
from edge.foxglove.frames import RigFrames
from sensors.vocabulary import NS_PER_S, FusedFrame, PointCloud, RigPose, matrix_to_quat

__all__ = [
    "JPEG_FORMAT",
    "DISTORTION_MODEL",
    "CLOUD_DTYPE",
    "CLOUD_FIELDS",
    "TIMECODE_SCHEMA",
    "RESULT_SCHEMA",
    "RigidTransform",
    "split_ns",
    "rigid_transform",
    "rig_transforms",
    "cloud_bytes",
    "timecode_document",
    "jpeg_bytes",
    "compressed_image",
    "camera_calibration",
    "frame_transforms",
    "point_cloud",
]

JPEG_FORMAT = "jpeg"
DISTORTION_MODEL = "plumb_bob"
_MAX_SEC = 2**32 - 1

#: The cloud's packed layout: little-endian float32 x, y, z, intensity, 16 bytes a point.
CLOUD_DTYPE = np.dtype({"names": ["x", "y", "z", "intensity"], "formats": ["<f4"] * 4,
                        "offsets": [0, 4, 8, 12], "itemsize": 16})
#: (name, byte offset) of each field, all float32.
CLOUD_FIELDS: Tuple[Tuple[str, int], ...] = tuple((name, CLOUD_DTYPE.fields[name][1]) for name in CLOUD_DTYPE.names)

#: JSON Schema of the ``/onset/timecode`` documents (:func:`timecode_document`).
TIMECODE_SCHEMA: Dict[str, Any] = {
    "title": "onset.Timecode",
    "description": "A fused frame's SMPTE ST 12-1 label at its exposure, on the master clock",
    "type": "object",
    "properties": {
        "label": {"type": ["string", "null"], "description": "HH:MM:SS:FF (';' before FF when drop-frame)"},
        "rate": {"type": ["string", "null"], "description": "project rate label: 24, 23.976, 29.97DF, ..."},
        "drop_frame": {"type": ["boolean", "null"]},
        "frame_index": {"type": "integer", "description": "the camera's frame index"},
        "t_ns": {"type": "integer", "description": "exposure mid-time, master clock, ns since 1970"},
    },
    "required": ["label", "rate", "drop_frame", "frame_index", "t_ns"],
}

#: JSON Schema of the engine result envelopes relayed as they are (``engines/worker/results.py``).
RESULT_SCHEMA: Dict[str, Any] = {
    "title": "onset.EngineResult",
    "description": "An engine worker's result for one fused frame (versioned envelope, v 1)",
    "type": "object",
    "properties": {
        "v": {"type": "integer"},
        "engine": {"type": "string"},
        "frame_index": {"type": "integer"},
        "t_ns": {"type": "integer", "description": "the frame's exposure mid-time, master clock, ns"},
        "timecode": {"type": ["string", "null"]},
        "rate": {"type": ["string", "null"]},
        "latency_ms": {"type": "number"},
        "result": {"type": "object", "description": "the engine's payload (captions: labels and model)"},
    },
    "required": ["v", "engine", "frame_index", "t_ns", "result"],
}


class RigidTransform(NamedTuple):
    """``T_parent_child`` as Foxglove sends it: translation (m) and rotation (x, y, z, w)."""

    parent: str
    child: str
    translation_m: Tuple[float, float, float]
    rotation_xyzw: Tuple[float, float, float, float]


def split_ns(t_ns: int) -> Tuple[int, int]:
    """(sec, nsec) of an int of ns since 1970, exactly; a time the SDK cannot hold is refused."""
    t_ns = int(t_ns)
    sec, nsec = divmod(t_ns, NS_PER_S)
    if not 0 <= sec <= _MAX_SEC:
        raise FoxgloveMessageError(f"time {t_ns} ns lies outside 1970..2106, which Foxglove timestamps hold")
    return sec, nsec


def _finite(values: np.ndarray, what: str) -> np.ndarray:
    if not np.isfinite(values).all():
        raise FoxgloveMessageError(f"{what} is not finite: {values.tolist()}")
    return values


def rigid_transform(T_parent_child: np.ndarray, parent: str, child: str) -> RigidTransform:
    """The :class:`RigidTransform` of a 4x4 rigid transform (rotation by ``matrix_to_quat``, w >= 0)."""
    T = np.asarray(T_parent_child, dtype=np.float64)
    if T.shape != (4, 4):
        raise FoxgloveMessageError(f"T_{parent}_{child} must be 4x4, got shape {T.shape}")
    _finite(T, f"T_{parent}_{child}")
    q = matrix_to_quat(T[:3, :3])
    return RigidTransform(parent, child, tuple(float(v) for v in T[:3, 3]), tuple(float(v) for v in q))


def rig_transforms(frames: RigFrames, pose: Optional[RigPose]) -> List[RigidTransform]:
    """``stage -> rig`` from ``pose`` (``T_stage_rig``; none without a pose), then the rig's fixed mounts."""
    out = []
    if pose is not None:
        position = _finite(np.asarray(pose.position_m, dtype=np.float64).reshape(3), "rig position")
        q = _finite(np.asarray(pose.orientation_xyzw, dtype=np.float64).reshape(4), "rig orientation")
        norm = float(np.linalg.norm(q))
        if norm == 0.0:
            raise FoxgloveMessageError("rig orientation is the zero quaternion")
        out.append(RigidTransform(frames.stage, frames.rig, tuple(float(v) for v in position),
                                  tuple(float(v) for v in q / norm)))
    out.extend(rigid_transform(T, frames.rig, child) for child, T in frames.mounts)
    return out


def cloud_bytes(cloud: PointCloud) -> bytes:
    """The points of ``cloud`` packed as :data:`CLOUD_DTYPE` (16 bytes a point)."""
    xyz = np.asarray(cloud.xyz_m)
    n = len(cloud)
    if xyz.shape != (n, 3) or np.asarray(cloud.intensity).shape != (n,):
        raise FoxgloveMessageError(
            f"cloud needs xyz_m (N, 3) and intensity (N,), got {xyz.shape} and {np.asarray(cloud.intensity).shape}")
    points = np.empty(n, dtype=CLOUD_DTYPE)
    points["x"], points["y"], points["z"] = xyz[:, 0], xyz[:, 1], xyz[:, 2]
    points["intensity"] = cloud.intensity
    return points.tobytes()


def timecode_document(frame: FusedFrame) -> Dict[str, Any]:
    """The frame's timecode as :data:`TIMECODE_SCHEMA` describes it (label None: no timecode read)."""
    tc = frame.timecode
    return {
        "label": None if tc is None else str(tc),
        "rate": None if tc is None else tc.rate.label,
        "drop_frame": None if tc is None else bool(tc.rate.drop_frame),
        "frame_index": int(frame.frame_index),
        "t_ns": int(frame.t_ns),
    }


def jpeg_bytes(rgb: np.ndarray, quality: int) -> bytes:
    """JPEG of an (H, W, 3) uint8 RGB image at ``quality`` (10-100), by the preview's encoder."""
    from edge.preview.errors import PreviewError
    from edge.preview.parts import encode_jpeg

    rgb = np.asarray(rgb)
    if rgb.dtype != np.uint8 or rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.shape[0] == 0 or rgb.shape[1] == 0:
        raise FoxgloveMessageError(f"the camera image must be (H, W, 3) uint8, got {rgb.shape} {rgb.dtype}")
    try:
        return encode_jpeg(rgb, quality)
    except PreviewError as err:
        raise FoxgloveMessageError(str(err)) from err


# -- the SDK's message objects -----------------------------------------------------------------


def _sdk() -> Any:
    """``foxglove.messages``, or a :class:`FoxgloveUnavailableError` saying what to install."""
    try:
        import foxglove.messages as messages
    except ImportError as err:
        raise FoxgloveUnavailableError(getattr(err, "name", None) or "foxglove") from err
    return messages


def _timestamp(fm: Any, t_ns: int) -> Any:
    sec, nsec = split_ns(t_ns)
    return fm.Timestamp(sec, nsec)


def compressed_image(jpeg: bytes, t_ns: int, frame_id: str) -> Any:
    """``foxglove.CompressedImage`` of JPEG bytes, stamped ``t_ns`` (master exposure mid-time)."""
    fm = _sdk()
    return fm.CompressedImage(timestamp=_timestamp(fm, t_ns), frame_id=frame_id, data=bytes(jpeg), format=JPEG_FORMAT)


def camera_calibration(K: np.ndarray, distortion: Sequence[float], width_px: int, height_px: int, t_ns: int,
                       frame_id: str) -> Any:
    """``foxglove.CameraCalibration``: plumb_bob ``D`` (5), ``K`` (3,3), ``R = I``, ``P = [K | 0]``."""
    K = np.asarray(K, dtype=np.float64)
    D = np.asarray(distortion, dtype=np.float64)
    if K.shape != (3, 3) or D.shape != (5,):
        raise FoxgloveMessageError(f"need K (3,3) and distortion (k1, k2, p1, p2, k3); got {K.shape} and {D.shape}")
    _finite(K, "K")
    _finite(D, "distortion")
    if int(width_px) <= 0 or int(height_px) <= 0:
        raise FoxgloveMessageError(f"image size {width_px}x{height_px} px must be positive")
    P = np.hstack([K, np.zeros((3, 1))])
    fm = _sdk()
    return fm.CameraCalibration(
        timestamp=_timestamp(fm, t_ns), frame_id=frame_id, width=int(width_px), height=int(height_px),
        distortion_model=DISTORTION_MODEL, D=D.tolist(), K=K.reshape(9).tolist(),
        R=np.eye(3).reshape(9).tolist(), P=P.reshape(12).tolist(),
    )


def frame_transforms(transforms: Sequence[RigidTransform], t_ns: int) -> Any:
    """``foxglove.FrameTransforms`` of :class:`RigidTransform` values, all stamped ``t_ns``."""
    fm = _sdk()
    stamp = _timestamp(fm, t_ns)
    out = []
    for tf in transforms:
        (tx, ty, tz), (qx, qy, qz, qw) = tf.translation_m, tf.rotation_xyzw
        out.append(fm.FrameTransform(
            timestamp=stamp, parent_frame_id=tf.parent, child_frame_id=tf.child,
            translation=fm.Vector3(x=tx, y=ty, z=tz), rotation=fm.Quaternion(x=qx, y=qy, z=qz, w=qw),
        ))
    return fm.FrameTransforms(transforms=out)


def point_cloud(data: bytes, t_ns: int, frame_id: str) -> Any:
    """``foxglove.PointCloud`` of :func:`cloud_bytes` output, in ``frame_id``, stamped ``t_ns``."""
    if len(data) % CLOUD_DTYPE.itemsize:
        raise FoxgloveMessageError(
            f"cloud data of {len(data)} B is not a whole number of {CLOUD_DTYPE.itemsize}-B points")
    fm = _sdk()
    float32 = fm.PackedElementFieldNumericType.Float32
    fields = [fm.PackedElementField(name=name, offset=offset, type=float32) for name, offset in CLOUD_FIELDS]
    identity = fm.Pose(position=fm.Vector3(x=0.0, y=0.0, z=0.0), orientation=fm.Quaternion(x=0.0, y=0.0, z=0.0, w=1.0))
    return fm.PointCloud(timestamp=_timestamp(fm, t_ns), frame_id=frame_id, pose=identity,
                         point_stride=CLOUD_DTYPE.itemsize, fields=fields, data=bytes(data))
