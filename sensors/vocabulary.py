"""Onset's shared vocabulary: the value objects every layer speaks.

Dependency-free (numpy only). Every physical quantity carries its unit in its name:
``t_ns`` is an int of nanoseconds, ``*_m`` metres, ``*_mm`` millimetres, ``*_deg`` degrees.

Frames (REP-103/105): ``stage`` is the world (x forward along the set, y left, z up);
``rig`` is the camera body (x forward, y left, z up); ``camera_optical`` has z forward, x right,
y down; ``lidar`` is the LiDAR's own frame (x forward, y left, z up, as Velodyne defines it).
Transforms are named ``T_<to>_<from>``: ``p_stage = T_stage_rig @ p_rig``.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Optional

import numpy as np

__all__ = [
    "NS_PER_S",
    "NS_PER_MS",
    "NS_PER_US",
    "Stamp",
    "FrameRate",
    "Timecode",
    "ImageFrame",
    "PointCloud",
    "RigPose",
    "LensState",
    "TelemetrySample",
    "TimecodeSample",
    "SyncStatus",
    "SensorSync",
    "FusedFrame",
    "quat_to_matrix",
    "matrix_to_quat",
    "rotation_from_pan_tilt_roll",
    "pan_tilt_roll_from_rotation",
    "T_RIG_CAMERA_OPTICAL",
]

NS_PER_S = 1_000_000_000
NS_PER_MS = 1_000_000
NS_PER_US = 1_000


@dataclass(frozen=True)
class Stamp:
    """When a sample happened, by two clocks.

    ``sensor_ns`` is the sensor's own clock (it drifts); ``host_ns`` is the edge host's master
    clock at the moment the sample was received. A clock model maps one to the other.
    ``sensor_ns`` is None when the wire format carries no sensor time.
    """

    sensor_ns: Optional[int]
    host_ns: int


class FrameRate(enum.Enum):
    """Project frame rates of SMPTE ST 12-1, as (numerator, denominator, drop_frame)."""

    FPS_23_976 = (24000, 1001, False)
    FPS_24 = (24, 1, False)
    FPS_25 = (25, 1, False)
    FPS_29_97_NDF = (30000, 1001, False)
    FPS_29_97_DF = (30000, 1001, True)
    FPS_30 = (30, 1, False)
    FPS_48 = (48, 1, False)
    FPS_50 = (50, 1, False)
    FPS_59_94_NDF = (60000, 1001, False)
    FPS_59_94_DF = (60000, 1001, True)
    FPS_60 = (60, 1, False)

    @property
    def fps(self) -> Fraction:
        """Exact frames per second."""
        num, den, _ = self.value
        return Fraction(num, den)

    @property
    def nominal_fps(self) -> int:
        """Frames counted per timecode second (24 for 23.976, 30 for 29.97)."""
        num, den, _ = self.value
        return -(-num // den)

    @property
    def drop_frame(self) -> bool:
        return self.value[2]

    @property
    def label(self) -> str:
        """Human label as used in profiles: ``"23.976"``, ``"29.97DF"``, ``"25"``."""
        return _RATE_LABELS[self]

    @classmethod
    def parse(cls, text: str | float | int) -> "FrameRate":
        """Parse a label such as ``"29.97DF"``, ``"29.97"`` (NDF), ``24`` or ``"59.94 DF"``."""
        key = str(text).strip().upper().replace(" ", "").replace("NDF", "")
        for rate, label in _RATE_LABELS.items():
            if key == label.upper().replace("NDF", ""):
                return rate
        if key.endswith(".0") and key[:-2].isdigit():
            return cls.parse(key[:-2])
        known = ", ".join(_RATE_LABELS.values())
        raise ValueError(f"unknown frame rate {text!r}; expected one of {known}")


_RATE_LABELS = {
    FrameRate.FPS_23_976: "23.976",
    FrameRate.FPS_24: "24",
    FrameRate.FPS_25: "25",
    FrameRate.FPS_29_97_NDF: "29.97",
    FrameRate.FPS_29_97_DF: "29.97DF",
    FrameRate.FPS_30: "30",
    FrameRate.FPS_48: "48",
    FrameRate.FPS_50: "50",
    FrameRate.FPS_59_94_NDF: "59.94",
    FrameRate.FPS_59_94_DF: "59.94DF",
    FrameRate.FPS_60: "60",
}


@dataclass(frozen=True, order=True)
class Timecode:
    """A SMPTE ST 12-1 timecode label. Arithmetic lives in ``sensors.timecode.smpte``.

    Fields are the label's digits, not a duration: at 29.97 DF the label 00:01:00;00 does not
    exist (frames 0 and 1 are dropped at the start of every minute not divisible by ten).
    """

    hours: int
    minutes: int
    seconds: int
    frames: int
    rate: FrameRate = field(compare=False)

    def __post_init__(self) -> None:
        nominal = self.rate.nominal_fps
        if not (0 <= self.hours < 24 and 0 <= self.minutes < 60 and 0 <= self.seconds < 60):
            raise ValueError(f"timecode {self.hours}:{self.minutes}:{self.seconds} out of range")
        if not 0 <= self.frames < nominal:
            raise ValueError(f"frame {self.frames} out of range 0..{nominal - 1} at {self.rate.label} fps")
        if self.rate.drop_frame and self.seconds == 0 and self.minutes % 10 != 0:
            dropped = 2 if nominal == 30 else 4
            if self.frames < dropped:
                raise ValueError(
                    f"{self.hours:02d}:{self.minutes:02d}:00;{self.frames:02d} does not exist in drop-frame "
                    f"timecode (frames 0..{dropped - 1} are dropped in minute {self.minutes})"
                )

    def __str__(self) -> str:
        sep = ";" if self.rate.drop_frame else ":"
        return f"{self.hours:02d}:{self.minutes:02d}:{self.seconds:02d}{sep}{self.frames:02d}"


@dataclass(frozen=True)
class ImageFrame:
    """One camera frame.

    ``rgb`` is HxWx3 uint8; ``exposure_mid`` stamps the middle of the exposure;
    ``timecode`` is what the timecode reader stamped on this frame (None if no LTC was read).
    """

    rgb: np.ndarray
    exposure_mid: Stamp
    frame_index: int
    timecode: Optional[Timecode] = None

    @property
    def height_px(self) -> int:
        return int(self.rgb.shape[0])

    @property
    def width_px(self) -> int:
        return int(self.rgb.shape[1])


@dataclass(frozen=True)
class PointCloud:
    """LiDAR points in the sensor's frame with per-point time.

    ``xyz_m`` (N,3) float32 in ``frame_id``; ``intensity`` (N,) float32; ``ring`` (N,) uint16
    laser index sorted by elevation; ``t_ns`` (N,) int64 per-point sensor-clock time.
    ``stamp`` is the sweep's first point (sensor clock) and the host time its last packet came in.
    """

    xyz_m: np.ndarray
    intensity: np.ndarray
    ring: np.ndarray
    t_ns: np.ndarray
    stamp: Stamp
    frame_id: str = "lidar"

    def __len__(self) -> int:
        return int(self.xyz_m.shape[0])


def quat_to_matrix(q_xyzw: np.ndarray) -> np.ndarray:
    """Rotation matrix (3,3) of a unit quaternion given as (x, y, z, w)."""
    x, y, z, w = (float(v) for v in q_xyzw)
    return np.array(
        [
            [1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
            [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
            [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)],
        ]
    )


def matrix_to_quat(R: np.ndarray) -> np.ndarray:
    """Unit quaternion (x, y, z, w), w >= 0, of a rotation matrix (3,3)."""
    m = np.asarray(R, dtype=float)
    tr = m[0, 0] + m[1, 1] + m[2, 2]
    if tr > 0:
        s = 2.0 * np.sqrt(tr + 1.0)
        q = [(m[2, 1] - m[1, 2]) / s, (m[0, 2] - m[2, 0]) / s, (m[1, 0] - m[0, 1]) / s, 0.25 * s]
    elif m[0, 0] > m[1, 1] and m[0, 0] > m[2, 2]:
        s = 2.0 * np.sqrt(1.0 + m[0, 0] - m[1, 1] - m[2, 2])
        q = [0.25 * s, (m[0, 1] + m[1, 0]) / s, (m[0, 2] + m[2, 0]) / s, (m[2, 1] - m[1, 2]) / s]
    elif m[1, 1] > m[2, 2]:
        s = 2.0 * np.sqrt(1.0 + m[1, 1] - m[0, 0] - m[2, 2])
        q = [(m[0, 1] + m[1, 0]) / s, 0.25 * s, (m[1, 2] + m[2, 1]) / s, (m[0, 2] - m[2, 0]) / s]
    else:
        s = 2.0 * np.sqrt(1.0 + m[2, 2] - m[0, 0] - m[1, 1])
        q = [(m[0, 2] + m[2, 0]) / s, (m[1, 2] + m[2, 1]) / s, 0.25 * s, (m[1, 0] - m[0, 1]) / s]
    q = np.array(q)
    q /= np.linalg.norm(q)
    return -q if q[3] < 0 else q


def rotation_from_pan_tilt_roll(pan_deg: float, tilt_deg: float, roll_deg: float) -> np.ndarray:
    """``R_stage_rig`` (3,3) of a head at pan/tilt/roll, in Onset's (REP-103) convention.

    Pan turns about stage z, positive counter-clockwise seen from above (to the left); tilt is
    positive nose up; roll turns about the lens axis, positive clockwise seen from behind the
    camera. Applied in that order: ``R = Rz(pan) @ Ry(-tilt) @ Rx(roll)``.
    """
    p, t, r = np.radians([pan_deg, tilt_deg, roll_deg])
    cp, sp, ct, st, cr, sr = np.cos(p), np.sin(p), np.cos(-t), np.sin(-t), np.cos(r), np.sin(r)
    Rz = np.array([[cp, -sp, 0.0], [sp, cp, 0.0], [0.0, 0.0, 1.0]])
    Ry = np.array([[ct, 0.0, st], [0.0, 1.0, 0.0], [-st, 0.0, ct]])
    Rx = np.array([[1.0, 0.0, 0.0], [0.0, cr, -sr], [0.0, sr, cr]])
    return Rz @ Ry @ Rx


def pan_tilt_roll_from_rotation(R: np.ndarray) -> tuple[float, float, float]:
    """Inverse of :func:`rotation_from_pan_tilt_roll`: (pan_deg, tilt_deg, roll_deg)."""
    m = np.asarray(R, dtype=float)
    tilt = np.arcsin(np.clip(m[2, 0], -1.0, 1.0))  # m[2,0] = -sin(-tilt) = sin(tilt)
    pan = np.arctan2(m[1, 0], m[0, 0])
    roll = np.arctan2(m[2, 1], m[2, 2])
    return float(np.degrees(pan)), float(np.degrees(tilt)), float(np.degrees(roll))


#: ``T_rig_camera_optical``: the optical frame (z forward, x right, y down) in the rig frame.
T_RIG_CAMERA_OPTICAL = np.array(
    [[0.0, 0.0, 1.0, 0.0], [-1.0, 0.0, 0.0, 0.0], [0.0, -1.0, 0.0, 0.0], [0.0, 0.0, 0.0, 1.0]]
)


@dataclass(frozen=True)
class RigPose:
    """Pose of the camera body (frame ``rig``) in ``stage``: ``T_stage_rig``.

    ``position_m`` (3,) in stage; ``orientation_xyzw`` (4,) unit quaternion rotating rig into stage.
    """

    t_ns: int
    position_m: np.ndarray
    orientation_xyzw: np.ndarray

    def matrix(self) -> np.ndarray:
        """4x4 homogeneous ``T_stage_rig``."""
        T = np.eye(4)
        T[:3, :3] = quat_to_matrix(self.orientation_xyzw)
        T[:3, 3] = self.position_m
        return T


@dataclass(frozen=True)
class LensState:
    """What the lens is doing: focal length, focus distance and aperture (T-stop).

    ``t_stop`` is None when the source does not report the iris (FreeD carries none).
    """

    focal_length_mm: float
    focus_distance_m: float
    t_stop: Optional[float] = None


@dataclass(frozen=True)
class TelemetrySample:
    """One crane/dolly/head telemetry reading (e.g. one FreeD D1 packet), decoded.

    ``pan_deg``, ``tilt_deg``, ``roll_deg`` and ``position_m`` are the camera's pose in stage
    as the tracking system reports it; ``zoom_raw`` and ``focus_raw`` are the lens encoders'
    counts, mapped to ``lens`` by the lens calibration. ``counter`` is the packet sequence
    number when the sender provides one (FreeD spare bytes), else None.
    """

    camera_id: int
    pan_deg: float
    tilt_deg: float
    roll_deg: float
    position_m: np.ndarray
    zoom_raw: int
    focus_raw: int
    stamp: Stamp
    lens: Optional[LensState] = None
    counter: Optional[int] = None


@dataclass(frozen=True)
class TimecodeSample:
    """A timecode read off the LTC (or another source) and when its frame started."""

    timecode: Timecode
    stamp: Stamp


class SyncStatus(str, enum.Enum):
    """How a sensor contributed to a fused frame."""

    OK = "ok"  # samples on both sides of the frame time, within the deadline
    LATE = "late"  # the newest sample is older than the frame time: held or extrapolated
    MISSING = "missing"  # nothing usable from this sensor for this frame
    UNSYNCED = "unsynced"  # its clock model has not converged yet


@dataclass(frozen=True)
class SensorSync:
    """One sensor's part in a fused frame.

    ``gap_ms``: frame time minus the time of the newest sample used (master clock; positive
    when the sample is older). ``residual_jitter_ms``: that sensor's clock-model jitter.
    """

    sensor: str
    status: SyncStatus
    gap_ms: float
    residual_jitter_ms: float


@dataclass(frozen=True)
class FusedFrame:
    """A camera frame that knows its depth, pose, lens and timecode, on the master clock.

    ``t_ns``: exposure mid-time on the master clock. ``rgb`` (H,W,3) uint8. ``depth_m`` (H,W)
    float32, distance along the optical axis, NaN where no LiDAR point landed (REP-118).
    ``pose``: ``T_stage_rig`` at ``t_ns``. ``K`` (3,3) and ``distortion`` (k1,k2,p1,p2,k3): the
    intrinsics the depth was projected with. ``points_used``: LiDAR points that reached the depth map.
    """

    frame_index: int
    t_ns: int
    timecode: Optional[Timecode]
    rgb: np.ndarray
    depth_m: np.ndarray
    pose: Optional[RigPose]
    lens: Optional[LensState]
    K: np.ndarray
    distortion: tuple
    sync: tuple = ()
    points_used: int = 0

    def sync_of(self, sensor: str) -> Optional[SensorSync]:
        for entry in self.sync:
            if entry.sensor == sensor:
                return entry
        return None

    @property
    def complete(self) -> bool:
        """True when every sensor was in sync for this frame."""
        return all(entry.status is SyncStatus.OK for entry in self.sync)
