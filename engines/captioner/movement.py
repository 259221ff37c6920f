"""Camera movement class over a short window of rig telemetry (and, optionally, focal lengths).

Input: the rig poses ``T_stage_rig`` (REP-103: rig x forward along the lens axis, y left, z up)
that the tracking system measured, and the lens' focal lengths; never simulator internals. The
window is the :data:`DEFAULT_WINDOW_S` up to ``end_ns`` (default: the newest pose); it must pass
``lens.window_problem`` (enough samples, no gaps, edges covered) or the label is missing.

**Rates.** Over the window, least-squares lines (time centred on the window's mean) give:

- the stage velocity ``v`` (m/s), split along the camera's *levelled* axes at the window: forward
  is the lens axis' heading (the mean pan) in the horizontal plane, left is stage up x forward,
  up is stage z. Dolly is the forward component, truck the lateral, pedestal (crane up/down)
  the vertical. Levelling keeps a pedestal with the lens tilted down a pedestal, and a dolly
  along the floor with a tilted lens a dolly; with roll 0 the lateral axis is the rig's own y;
- the pan, tilt and roll rates (deg/s) of ``sensors.vocabulary.pan_tilt_roll_from_rotation``,
  pan and roll unwrapped. Positive pan turns left, positive tilt nose up;
- the zoom rate (%/s of the focal length) of ``lens.zoom_over_window``.

Pan and roll are not defined when the lens axis is within :data:`GIMBAL_LOCK_MARGIN_DEG` of
vertical, so such a window is missing rather than guessed.

**Presence and dominance.** A motion is present when its own rate reaches its threshold:
:data:`STATIC_TRANSLATION_M_PER_S` per translation axis, :data:`STATIC_ROTATION_DEG_PER_S` per
rotation axis, ``lens.ZOOM_THRESHOLD_PCT_PER_S`` for zoom. None present: ``static``. Several
present: each is put on one scale, the image's angular rate in deg/s. Rotations are already
that. A translation at ``v`` m/s moves a subject at :data:`NOMINAL_SUBJECT_DISTANCE_M` (3 m)
across the picture (truck, pedestal) or scales it (dolly) at ``v / 3`` rad/s; a zoom at ``z``
%/s scales the picture at ``z / 100`` per second, which a dolly matches at ``v / d = z / 100``,
so its equivalent is ``z / 100`` rad/s. The largest equivalent is the class, the others are
``secondary``, largest first.

**Handheld.** The jitter is what a smooth move does not explain: the RMS residual of pan, tilt
and roll (deg, summed over the three) and of the position (mm, summed over x, y, z) after a
quadratic fit over the window. A quadratic follows a head or dolly accelerating steadily; a pan
reaching 20 deg/s in 0.2 s inside a 0.5 s window leaves 0.10 deg, a dolly reaching 1 m/s in 0.3 s
leaves 2.2 mm, encoder and tracker noise ~0.01 deg and ~0.5 mm; an operator's shake is 0.2 deg
and more. Jitter at or above :data:`HANDHELD_ROTATION_RMS_DEG` or :data:`HANDHELD_TRANSLATION_RMS_MM`
is ``handheld``, whatever else the camera does: a handheld camera that also pans is ``handheld``
with the pan as secondary.
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass
from typing import Optional, Sequence

import numpy as np

from engines.captioner.lens import (
    MIN_WINDOW_SPAN_NS,
    ZOOM_THRESHOLD_PCT_PER_S,
    ZoomLabel,
    window_problem,
    zoom_over_window,
)
from sensors.vocabulary import NS_PER_S, RigPose, pan_tilt_roll_from_rotation, quat_to_matrix

__all__ = [
    "DEFAULT_WINDOW_S",
    "STATIC_TRANSLATION_M_PER_S",
    "STATIC_ROTATION_DEG_PER_S",
    "NOMINAL_SUBJECT_DISTANCE_M",
    "HANDHELD_ROTATION_RMS_DEG",
    "HANDHELD_TRANSLATION_RMS_MM",
    "GIMBAL_LOCK_MARGIN_DEG",
    "UNIT_M_PER_S",
    "UNIT_DEG_PER_S",
    "UNIT_PCT_PER_S",
    "MovementClass",
    "Motion",
    "AxisRates",
    "Jitter",
    "MovementLabel",
    "translation_equivalent_deg_per_s",
    "zoom_equivalent_deg_per_s",
    "classify_movement",
]

#: Length of the window a movement is classified over, s.
DEFAULT_WINDOW_S = 0.5

#: Per-axis translation speed below which the camera does not translate, m/s.
STATIC_TRANSLATION_M_PER_S = 0.05

#: Per-axis rotation rate below which the camera does not turn, deg/s.
STATIC_ROTATION_DEG_PER_S = 1.5

#: Subject distance at which a translation is turned into an angular rate for dominance, m.
NOMINAL_SUBJECT_DISTANCE_M = 3.0

#: RMS rotation residual (pan, tilt, roll together) from which a camera is handheld, deg.
HANDHELD_ROTATION_RMS_DEG = 0.15

#: RMS position residual (x, y, z together) from which a camera is handheld, mm.
HANDHELD_TRANSLATION_RMS_MM = 4.0

#: A lens axis closer than this to vertical has no defined pan or roll, deg.
GIMBAL_LOCK_MARGIN_DEG = 5.0

UNIT_M_PER_S = "m/s"
UNIT_DEG_PER_S = "deg/s"
UNIT_PCT_PER_S = "%/s"


class MovementClass(str, enum.Enum):
    """Camera movement over a window. ``missing``: no label could be measured."""

    STATIC = "static"
    PAN_LEFT = "pan_left"
    PAN_RIGHT = "pan_right"
    TILT_UP = "tilt_up"
    TILT_DOWN = "tilt_down"
    ROLL = "roll"
    DOLLY_IN = "dolly_in"
    DOLLY_OUT = "dolly_out"
    TRUCK_LEFT = "truck_left"
    TRUCK_RIGHT = "truck_right"
    PEDESTAL_UP = "pedestal_up"
    PEDESTAL_DOWN = "pedestal_down"
    ZOOM_IN = "zoom_in"
    ZOOM_OUT = "zoom_out"
    HANDHELD = "handheld"
    MISSING = "missing"


@dataclass(frozen=True)
class Motion:
    """One motion present in a window: its class, unsigned speed in ``unit`` (m/s, deg/s or
    %/s), and the image angular rate it is ranked by, deg/s (see the module docstring)."""

    kind: MovementClass
    speed: float
    unit: str
    equivalent_deg_per_s: float


@dataclass(frozen=True)
class AxisRates:
    """Signed rates over a window. Translation in the camera's levelled axes, m/s (forward,
    left, up); rotation, deg/s (pan left, tilt up, roll clockwise seen from behind); zoom, %/s
    of the focal length and mm/s (None when no usable focal lengths were given)."""

    forward_m_per_s: float
    left_m_per_s: float
    up_m_per_s: float
    pan_deg_per_s: float
    tilt_deg_per_s: float
    roll_deg_per_s: float
    zoom_pct_per_s: Optional[float] = None
    zoom_mm_per_s: Optional[float] = None


@dataclass(frozen=True)
class Jitter:
    """RMS residuals after a quadratic fit over the window: rotation, deg; translation, mm."""

    rotation_rms_deg: float
    translation_rms_mm: float


@dataclass(frozen=True)
class MovementLabel:
    """The movement of one window.

    ``movement``: the class. ``speed`` in ``speed_unit``: the class' unsigned speed (None for
    ``static``, ``handheld`` and ``missing``). ``secondary``: the other motions present, largest
    first. ``zoom``: the zoom label of the focal lengths (None when none were given; a missing one
    says why, and the class then comes from the poses alone). ``missing_reason``: why there is no
    label (then ``rates`` and ``jitter`` are None).
    """

    movement: MovementClass
    speed: Optional[float]
    speed_unit: Optional[str]
    secondary: tuple[Motion, ...]
    rates: Optional[AxisRates]
    jitter: Optional[Jitter]
    zoom: Optional[ZoomLabel]
    samples: int
    window_s: float
    missing_reason: Optional[str] = None

    @property
    def missing(self) -> bool:
        return self.movement is MovementClass.MISSING


def translation_equivalent_deg_per_s(speed_m_per_s: float, distance_m: float = NOMINAL_SUBJECT_DISTANCE_M) -> float:
    """Angular rate, deg/s, at which a translation of ``speed_m_per_s`` moves a subject
    ``distance_m`` away across (or scales it in) the picture: ``v / d`` rad/s."""
    return math.degrees(speed_m_per_s / distance_m)


def zoom_equivalent_deg_per_s(rate_pct_per_s: float) -> float:
    """Angular rate, deg/s, of the dolly that scales the picture as a zoom of ``rate_pct_per_s``
    (%/s of the focal length) does: ``z / 100`` rad/s."""
    return math.degrees(rate_pct_per_s / 100.0)


def _fit(t_s: np.ndarray, y: np.ndarray, degree: int) -> tuple[np.ndarray, np.ndarray]:
    """Least-squares polynomial of ``degree`` through each column of ``y`` (N,k) at ``t_s`` (N,),
    centred times in s: (coefficients (degree+1,k), lowest power first; residuals (N,k))."""
    V = np.vander(t_s, degree + 1, increasing=True)
    coef, *_ = np.linalg.lstsq(V, y, rcond=None)
    return coef, y - V @ coef


def _rms_norm(residuals: np.ndarray) -> float:
    """RMS over samples of the residual vector's length (N,k)."""
    return float(np.sqrt(np.mean(np.sum(residuals * residuals, axis=1))))


def _pan_tilt_roll_deg(poses: Sequence[RigPose]) -> np.ndarray:
    """(N,3) pan, tilt, roll in deg of each pose, pan and roll unwrapped across +-180."""
    angles = np.array([pan_tilt_roll_from_rotation(quat_to_matrix(p.orientation_xyzw)) for p in poses])
    for col in (0, 2):
        angles[:, col] = np.degrees(np.unwrap(np.radians(angles[:, col])))
    return angles


def _levelled(v_stage: np.ndarray, heading_deg: float) -> tuple[float, float, float]:
    """Stage velocity (3,) as (forward, left, up) along a heading (deg, counter-clockwise from
    stage x) in the horizontal plane."""
    h = math.radians(heading_deg)
    c, s = math.cos(h), math.sin(h)
    vx, vy, vz = (float(v) for v in v_stage)
    return vx * c + vy * s, -vx * s + vy * c, vz


def _signed(rate: float, threshold: float, positive: MovementClass, negative: MovementClass) -> Optional[MovementClass]:
    if rate >= threshold:
        return positive
    if rate <= -threshold:
        return negative
    return None


def _rotation_equivalent_deg_per_s(rate_deg_per_s: float) -> float:
    return rate_deg_per_s


#: How a speed in each unit becomes the image's angular rate (deg/s) that dominance compares.
_EQUIVALENT_DEG_PER_S = {
    UNIT_M_PER_S: translation_equivalent_deg_per_s,
    UNIT_DEG_PER_S: _rotation_equivalent_deg_per_s,
    UNIT_PCT_PER_S: zoom_equivalent_deg_per_s,
}

C = MovementClass
#: Per axis: the AxisRates field, its threshold, the classes of a positive and a negative rate, the unit.
_AXES = (
    ("forward_m_per_s", STATIC_TRANSLATION_M_PER_S, C.DOLLY_IN, C.DOLLY_OUT, UNIT_M_PER_S),
    ("left_m_per_s", STATIC_TRANSLATION_M_PER_S, C.TRUCK_LEFT, C.TRUCK_RIGHT, UNIT_M_PER_S),
    ("up_m_per_s", STATIC_TRANSLATION_M_PER_S, C.PEDESTAL_UP, C.PEDESTAL_DOWN, UNIT_M_PER_S),
    ("pan_deg_per_s", STATIC_ROTATION_DEG_PER_S, C.PAN_LEFT, C.PAN_RIGHT, UNIT_DEG_PER_S),
    ("tilt_deg_per_s", STATIC_ROTATION_DEG_PER_S, C.TILT_UP, C.TILT_DOWN, UNIT_DEG_PER_S),
    ("roll_deg_per_s", STATIC_ROTATION_DEG_PER_S, C.ROLL, C.ROLL, UNIT_DEG_PER_S),
    ("zoom_pct_per_s", ZOOM_THRESHOLD_PCT_PER_S, C.ZOOM_IN, C.ZOOM_OUT, UNIT_PCT_PER_S),
)
del C


def _present_motions(rates: AxisRates) -> list[Motion]:
    """Every motion whose rate reaches its threshold, largest angular equivalent first."""
    motions = []
    for field, threshold, positive, negative, unit in _AXES:
        rate = getattr(rates, field)
        kind = None if rate is None else _signed(rate, threshold, positive, negative)
        if kind is not None:
            motions.append(Motion(kind, abs(rate), unit, _EQUIVALENT_DEG_PER_S[unit](abs(rate))))
    # sorted() is stable: equal equivalents keep _AXES' order (translation, rotation, zoom).
    return sorted(motions, key=lambda m: -m.equivalent_deg_per_s)


def _pose_problem(poses: Sequence[RigPose]) -> Optional[str]:
    """Why a pose cannot be used (wrong shape, not finite, not a unit quaternion), or None."""
    for i, pose in enumerate(poses):
        position = np.asarray(pose.position_m, dtype=np.float64)
        q = np.asarray(pose.orientation_xyzw, dtype=np.float64)
        if position.shape != (3,) or q.shape != (4,):
            return f"pose {i}: position {position.shape} / orientation {q.shape}, expected (3,) / (4,)"
        if not (np.all(np.isfinite(position)) and np.all(np.isfinite(q))):
            return f"pose {i} is not finite"
        if abs(float(np.linalg.norm(q)) - 1.0) > 1e-3:
            return f"pose {i}: orientation is not a unit quaternion (norm {float(np.linalg.norm(q)):.4f})"
    return None


def _missing(reason: str, samples: int, window_s: float, zoom: Optional[ZoomLabel] = None) -> MovementLabel:
    return MovementLabel(MovementClass.MISSING, None, None, (), None, None, zoom, samples, window_s, reason)


def _measure(poses: Sequence[RigPose], zoom: Optional[ZoomLabel]) -> tuple[AxisRates, Jitter, float]:
    """Rates, jitter and the largest |tilt| (deg) of a window of valid poses (see the module docstring)."""
    t = np.array([p.t_ns for p in poses], dtype=np.int64)
    t_s = (t - t[0]) / NS_PER_S
    t_s = t_s - t_s.mean()
    position_m = np.array([np.asarray(p.position_m, dtype=np.float64) for p in poses])
    angles_deg = _pan_tilt_roll_deg(poses)
    both = np.hstack([position_m, angles_deg])
    line, _ = _fit(t_s, both, 1)
    _, residual = _fit(t_s, both, 2)
    v_stage, omega_deg_per_s = line[1, :3], line[1, 3:]
    # The line's value at the centred window's mean time is its intercept: the mean pan.
    forward, left, up = _levelled(v_stage, float(line[0, 3]))
    rates = AxisRates(
        forward_m_per_s=forward,
        left_m_per_s=left,
        up_m_per_s=up,
        pan_deg_per_s=float(omega_deg_per_s[0]),
        tilt_deg_per_s=float(omega_deg_per_s[1]),
        roll_deg_per_s=float(omega_deg_per_s[2]),
        # A missing zoom label's rates are None.
        zoom_pct_per_s=None if zoom is None else zoom.rate_pct_per_s,
        zoom_mm_per_s=None if zoom is None else zoom.rate_mm_per_s,
    )
    jitter = Jitter(rotation_rms_deg=_rms_norm(residual[:, 3:]), translation_rms_mm=1000.0 * _rms_norm(residual[:, :3]))
    return rates, jitter, float(np.max(np.abs(angles_deg[:, 1])))


def classify_movement(
    poses: Sequence[RigPose],
    focal_lengths_mm: Optional[Sequence[Optional[float]]] = None,
    *,
    window_s: float = DEFAULT_WINDOW_S,
    end_ns: Optional[int] = None,
) -> MovementLabel:
    """Camera movement over the ``window_s`` (s) up to ``end_ns`` (int ns; default: the newest pose).

    ``poses``: measured ``T_stage_rig`` samples; ``focal_lengths_mm``: one focal length (mm, or
    None where the lens reported none) per pose, or None when there is no lens data. Poses outside
    the window are ignored. A window that is too short, has gaps, holds an unusable pose, or looks
    (nearly) straight up or down gives a ``missing`` label saying why. Raises ``ValueError`` for a
    ``window_s`` shorter than ``lens.MIN_WINDOW_SPAN_NS`` or focal lengths not one per pose.
    """
    window_ns = int(round(window_s * NS_PER_S))
    if window_ns < MIN_WINDOW_SPAN_NS:
        raise ValueError(f"window_s {window_s} s is shorter than the {MIN_WINDOW_SPAN_NS / NS_PER_S} s a label needs")
    if focal_lengths_mm is not None and len(focal_lengths_mm) != len(poses):
        raise ValueError(f"{len(focal_lengths_mm)} focal lengths for {len(poses)} poses: one per pose expected")
    if not poses:
        return _missing("no poses", 0, window_s)
    end = int(poses[-1].t_ns) if end_ns is None else int(end_ns)
    start = end - window_ns
    inside = [i for i, p in enumerate(poses) if start <= int(p.t_ns) <= end]
    window = [poses[i] for i in inside]
    samples = len(window)
    problem = window_problem([p.t_ns for p in window], start_ns=start, end_ns=end) or _pose_problem(window)
    if problem is not None:
        return _missing(problem, samples, window_s)
    zoom = None
    if focal_lengths_mm is not None:
        zoom = zoom_over_window([p.t_ns for p in window], [focal_lengths_mm[i] for i in inside])
    rates, jitter, max_tilt_deg = _measure(window, zoom)
    if max_tilt_deg > 90.0 - GIMBAL_LOCK_MARGIN_DEG:
        reason = (
            f"tilt reaches {max_tilt_deg:.1f} deg: pan and roll are undefined within "
            f"{GIMBAL_LOCK_MARGIN_DEG} deg of vertical"
        )
        return _missing(reason, samples, window_s, zoom)
    motions = _present_motions(rates)
    handheld = (
        jitter.rotation_rms_deg >= HANDHELD_ROTATION_RMS_DEG or jitter.translation_rms_mm >= HANDHELD_TRANSLATION_RMS_MM
    )
    if handheld:
        return MovementLabel(MovementClass.HANDHELD, None, None, tuple(motions), rates, jitter, zoom, samples, window_s)
    if not motions:
        return MovementLabel(MovementClass.STATIC, None, None, (), rates, jitter, zoom, samples, window_s)
    main, *others = motions
    return MovementLabel(main.kind, main.speed, main.unit, tuple(others), rates, jitter, zoom, samples, window_s)
