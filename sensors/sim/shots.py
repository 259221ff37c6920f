"""Named shot plans: one camera movement at a time, on a stage's own track and crane.

:func:`movement_plan` writes the :class:`~config.models.ShotKeyframe` list that makes the rig
(``sensors/sim/rig.py``) perform exactly one of :data:`MOVEMENTS`, using only the existing
channels; :func:`plan_series` gives every one of them at its default speed. Each plan is meant to
be played with ``loop=False`` (the rig rests before the first key and after the last).

**Timeline.** A move of ``duration_s`` starts at rest at ``start_s`` and ends at rest
``duration_s`` later. Its progress ``p(t)`` (in the movement's unit: deg, m or %) eases in over
:data:`EASE_S` at constant acceleration (speed ``v t / EASE_S``), holds the speed ``v`` and eases
out symmetrically, so the whole move covers ``v (duration_s - EASE_S)``, centred on the rig's
rest position. Keys are written every :data:`KEY_STEP_S` (at most) and the shot plan's monotone
cubic passes through them. That cubic's tangent at a key is a harmonic mean of the slopes either
side, so it reaches ``v`` only between keys on one straight line: the speed rises monotonically
from 0 through the ease, overshoots ``v`` by under 1 % in the one segment after it (and before
the ease-out), and is exactly ``v`` between (for the linear channels; to well under 1 % for the
pedestal's and zoom's curved keys). :func:`steady_span_s` is that constant-speed span.

**Movements** (rest pose: dolly at the track's middle, crane level, head facing along the track,
tilt and roll 0, the lens at ``ShotKeyframe``'s defaults):

- ``static``: nothing moves; ``pan_left``/``pan_right`` (pan up/down, +pan turns left),
  ``tilt_up``/``tilt_down``, ``roll``: the head turns at ``speed`` deg/s;
- ``dolly_in``/``dolly_out``: the head faces along the track (pan = ``track_heading_deg``) and the
  dolly runs forward/back at ``speed`` m/s;
- ``truck_left``/``truck_right``: the head is panned to ``track_heading_deg - 90`` (looking to
  the track's right), so the dolly running forward/back moves the camera to its left/right;
- ``pedestal_up``/``pedestal_down``: the crane lifts/lowers the head at ``speed`` m/s vertically.
  The head is levelled by the crane's parallelogram (tilt is relative to the horizon), so the lens
  stays level with tilt held at 0; no counter-tilt is needed. The arm's tip moves on an arc: at
  lift ``a`` a vertical speed ``v`` comes with ``v tan(a)`` along the track (``0.2 m/s`` at 13.5
  deg: 0.048 m/s, almost the classifier's 0.05 m/s static threshold). So the lift is keyed as
  ``asin(z / crane_arm_m)`` for a height ``z`` linear in time, centred on a level arm, and the
  dolly is keyed to ``c - crane_arm_m cos(lift)``, which keeps the head's position along the track
  constant: the forward component left is the interpolation's, under 1 mm/s at the default
  speed (0.039 m/s over the steady span without the dolly's help);
- ``zoom_in``/``zoom_out``: the focal length grows/shrinks by ``speed`` % of itself per second
  (exponentially, so the relative rate is the same at every focal length) with the rig still.

A requested speed and duration that would leave the track, the crane's or head's limits of
``ShotKeyframe``, or the lens's focal range raise ``ValueError`` naming the limit. The movement
classifier (``engines/captioner/movement.py``) cannot label a lens within 5 deg of vertical, so a
tilt plan reaching that far is valid here but not labelled there.

**Beyond the movements** (:data:`SHOT_KINDS` adds them to :data:`MOVEMENTS`):

- ``handheld`` (:func:`handheld_plan`): the rest pose shaken as an operator's body shakes a camera
  held on the shoulder: pan and tilt :data:`HANDHELD_ANGLE_RMS_DEG` RMS, roll
  :data:`HANDHELD_ROLL_RMS_DEG`, the position :data:`HANDHELD_POSITION_RMS_M` RMS along the lens
  axis (the dolly) and vertically (the crane's lift, ``asin(z / crane_arm_m)``; the arc's swing
  along the track is ``z^2 / 2 crane_arm_m``, a fifth of a millimetre at most on a 1.5 m arm).
  The rig has no sideways channel, so the sideways shake is the pan's. Each channel is a sum of
  :data:`HANDHELD_TONES` sinusoids of seeded random frequency in :data:`HANDHELD_BAND_HZ` and
  random phase, scaled to its RMS over the plan's middle; it fades in over :data:`EASE_S` (a
  smoothstep) and out the same way, so the plan starts and ends at rest. Keys every :data:`HANDHELD_KEY_STEP_S`, ten or more per period of the
  fastest tone. The same seed gives the same shake;
- ``focus_pull`` (:func:`focus_pull_plan`): the rig at rest while the focus racks from one
  distance to another, eased as the moves are, linear in dioptres (1 / distance, as a focus ring's
  travel is nearer linear in it than in metres). The camera does not move: the classifier's
  ``static``.
"""

from __future__ import annotations

import math
from types import MappingProxyType
from typing import Callable, Dict, List, Mapping, Optional, Tuple

import numpy as np

from config.models import ShotKeyframe, StageConfig

__all__ = [
    "MOVEMENTS",
    "PAN_SPEED_DEG_PER_S",
    "TILT_SPEED_DEG_PER_S",
    "ROLL_SPEED_DEG_PER_S",
    "DOLLY_SPEED_M_PER_S",
    "TRUCK_SPEED_M_PER_S",
    "PEDESTAL_SPEED_M_PER_S",
    "ZOOM_SPEED_PCT_PER_S",
    "DEFAULT_DURATION_S",
    "EASE_S",
    "KEY_STEP_S",
    "MIN_STEADY_S",
    "DEFAULT_SPEEDS",
    "SPEED_UNITS",
    "steady_span_s",
    "movement_plan",
    "plan_series",
    "HANDHELD",
    "FOCUS_PULL",
    "SHOT_KINDS",
    "HANDHELD_ANGLE_RMS_DEG",
    "HANDHELD_ROLL_RMS_DEG",
    "HANDHELD_POSITION_RMS_M",
    "HANDHELD_BAND_HZ",
    "HANDHELD_TONES",
    "HANDHELD_KEY_STEP_S",
    "FOCUS_PULL_FROM_M",
    "FOCUS_PULL_TO_M",
    "handheld_plan",
    "focus_pull_plan",
]

#: Every movement :func:`movement_plan` can shoot (the classifier's classes but handheld/missing).
MOVEMENTS = (
    "static",
    "pan_left",
    "pan_right",
    "tilt_up",
    "tilt_down",
    "roll",
    "dolly_in",
    "dolly_out",
    "truck_left",
    "truck_right",
    "pedestal_up",
    "pedestal_down",
    "zoom_in",
    "zoom_out",
)

#: A steady pan across a set, deg/s.
PAN_SPEED_DEG_PER_S = 15.0
#: A tilt (slower than a pan: the frame is shorter than it is wide), deg/s.
TILT_SPEED_DEG_PER_S = 10.0
#: A slow Dutch roll, deg/s.
ROLL_SPEED_DEG_PER_S = 5.0
#: A walking-pace dolly push, m/s.
DOLLY_SPEED_M_PER_S = 0.5
#: A truck alongside the action, m/s.
TRUCK_SPEED_M_PER_S = 0.5
#: A crane's vertical speed for a pedestal move, m/s.
PEDESTAL_SPEED_M_PER_S = 0.2
#: A slow zoom, percent of the focal length per second.
ZOOM_SPEED_PCT_PER_S = 10.0

#: Default length of a move from rest to rest, s.
DEFAULT_DURATION_S = 4.0
#: Length of the ease-in and of the ease-out, s.
EASE_S = 0.5
#: Longest time between two keys, s (short enough for the ease's ramp to stay monotone).
KEY_STEP_S = 0.05
#: Shortest constant-speed span a move must hold (one classifier window), s.
MIN_STEADY_S = 0.5

_DEG, _M, _PCT = "deg/s", "m/s", "%/s"

#: Default speed of each movement in its unit (:data:`SPEED_UNITS`); static has none.
DEFAULT_SPEEDS: Mapping[str, Optional[float]] = MappingProxyType(
    {
        "static": None,
        "pan_left": PAN_SPEED_DEG_PER_S,
        "pan_right": PAN_SPEED_DEG_PER_S,
        "tilt_up": TILT_SPEED_DEG_PER_S,
        "tilt_down": TILT_SPEED_DEG_PER_S,
        "roll": ROLL_SPEED_DEG_PER_S,
        "dolly_in": DOLLY_SPEED_M_PER_S,
        "dolly_out": DOLLY_SPEED_M_PER_S,
        "truck_left": TRUCK_SPEED_M_PER_S,
        "truck_right": TRUCK_SPEED_M_PER_S,
        "pedestal_up": PEDESTAL_SPEED_M_PER_S,
        "pedestal_down": PEDESTAL_SPEED_M_PER_S,
        "zoom_in": ZOOM_SPEED_PCT_PER_S,
        "zoom_out": ZOOM_SPEED_PCT_PER_S,
    }
)

#: Unit of each movement's speed: deg/s (head), m/s (dolly, truck, pedestal), %/s (zoom).
SPEED_UNITS: Mapping[str, Optional[str]] = MappingProxyType(
    {
        "static": None,
        "pan_left": _DEG,
        "pan_right": _DEG,
        "tilt_up": _DEG,
        "tilt_down": _DEG,
        "roll": _DEG,
        "dolly_in": _M,
        "dolly_out": _M,
        "truck_left": _M,
        "truck_right": _M,
        "pedestal_up": _M,
        "pedestal_down": _M,
        "zoom_in": _PCT,
        "zoom_out": _PCT,
    }
)

# Channels a plan writes; the others keep ShotKeyframe's defaults.
_CHANNELS = ("dolly_m", "crane_lift_deg", "pan_deg", "tilt_deg", "roll_deg", "focal_length_mm")


def _timeline(duration_s: float, start_s: float) -> Tuple[np.ndarray, float]:
    """Key times (s, plan time) of a move and the spacing of its constant-speed keys (s)."""
    if not (math.isfinite(duration_s) and math.isfinite(start_s)) or start_s < 0.0:
        raise ValueError(f"duration_s {duration_s} s and start_s {start_s} s must be finite, start_s >= 0")
    middle = duration_s - 2.0 * EASE_S
    n = max(1, math.ceil(middle / KEY_STEP_S - 1e-9))
    spacing = middle / n
    if middle - 2.0 * spacing < MIN_STEADY_S - 1e-9:
        shortest = 2.0 * EASE_S + 2.0 * KEY_STEP_S + MIN_STEADY_S
        raise ValueError(
            f"duration_s {duration_s} s is too short: eases of {EASE_S} s at both ends and {MIN_STEADY_S} s "
            f"at constant speed need at least {shortest:.2f} s"
        )
    n_ease = round(EASE_S / KEY_STEP_S)
    ease = np.linspace(0.0, EASE_S, n_ease + 1)
    times = np.concatenate([ease, EASE_S + spacing * np.arange(1, n), duration_s - ease[::-1]])
    return start_s + times, spacing


def steady_span_s(duration_s: float = DEFAULT_DURATION_S, start_s: float = 0.0) -> Tuple[float, float]:
    """Plan times (s) between which a move of ``duration_s`` starting at ``start_s`` holds its speed."""
    _, spacing = _timeline(duration_s, start_s)
    return start_s + EASE_S + spacing, start_s + duration_s - EASE_S - spacing


def _progress(t_rel_s: np.ndarray, duration_s: float) -> np.ndarray:
    """Distance covered at unit speed (s x 1 unit/s) ``t_rel_s`` (s) into a move: constant
    acceleration over :data:`EASE_S` at both ends, speed 1 between; ``duration_s - EASE_S`` at the end."""

    def eased(t: np.ndarray) -> np.ndarray:
        u = np.clip(t / EASE_S, 0.0, 1.0)
        return EASE_S * 0.5 * u**2  # speed u

    t = np.asarray(t_rel_s, dtype=float)
    total = duration_s - EASE_S
    middle = 0.5 * EASE_S + (t - EASE_S)
    return np.where(t <= EASE_S, eased(t), np.where(t >= duration_s - EASE_S, total - eased(duration_s - t), middle))


def _bound_problem(name: str, values: np.ndarray) -> Optional[str]:
    """Which of ``ShotKeyframe.<name>``'s bounds the values break, or None."""
    lo, hi = float(np.min(values)), float(np.max(values))
    for bound in ShotKeyframe.model_fields[name].metadata:
        for attr, broken, word in (
            ("ge", lambda b: lo < b, "at least"),
            ("gt", lambda b: lo <= b, "above"),
            ("le", lambda b: hi > b, "at most"),
            ("lt", lambda b: hi >= b, "below"),
        ):
            b = getattr(bound, attr, None)
            if b is not None and broken(b):
                return f"{name} spans {lo:.6g}..{hi:.6g}, ShotKeyframe's limit is {word} {b}"
    return None


# Each movement: progress p (its unit, centred on 0) -> the channels it changes.
_Shape = Callable[[np.ndarray, StageConfig], Dict[str, np.ndarray]]


def _head(channel: str, sign: float) -> _Shape:
    def shape(p: np.ndarray, stage: StageConfig) -> Dict[str, np.ndarray]:
        base = stage.track_heading_deg if channel == "pan_deg" else 0.0
        return {channel: base + sign * p}

    return shape


def _along_track(sign: float, pan_offset_deg: float) -> _Shape:
    def shape(p: np.ndarray, stage: StageConfig) -> Dict[str, np.ndarray]:
        pan = np.full(p.shape, stage.track_heading_deg + pan_offset_deg)
        return {"dolly_m": 0.5 * stage.track_length_m + sign * p, "pan_deg": pan}

    return shape


def _pedestal(sign: float) -> _Shape:
    def shape(p: np.ndarray, stage: StageConfig) -> Dict[str, np.ndarray]:
        arm = stage.crane_arm_m
        height = sign * p  # above the level arm's tip, m
        if arm <= 0.0 or float(np.max(np.abs(height))) > arm:
            raise ValueError(
                f"a pedestal of {2.0 * float(np.max(np.abs(height))):.3f} m needs crane_arm_m of at least "
                f"half that, the stage's is {arm} m"
            )
        lift = np.arcsin(height / arm)
        # The arm's tip swings back by arm (1 - cos lift); the dolly makes up for it, centred on the track.
        swing = arm * (1.0 - np.cos(lift))
        dolly = 0.5 * stage.track_length_m + swing - 0.5 * float(np.max(swing))
        return {"crane_lift_deg": np.degrees(lift), "dolly_m": dolly}

    return shape


def _zoom(sign: float) -> _Shape:
    def shape(p: np.ndarray, stage: StageConfig) -> Dict[str, np.ndarray]:
        focal = ShotKeyframe.model_fields["focal_length_mm"].default
        return {"focal_length_mm": focal * np.exp(sign * p / 100.0)}

    return shape


def _still(p: np.ndarray, stage: StageConfig) -> Dict[str, np.ndarray]:
    return {}


_SHAPES: Mapping[str, _Shape] = MappingProxyType(
    {
        "static": _still,
        "pan_left": _head("pan_deg", 1.0),
        "pan_right": _head("pan_deg", -1.0),
        "tilt_up": _head("tilt_deg", 1.0),
        "tilt_down": _head("tilt_deg", -1.0),
        "roll": _head("roll_deg", 1.0),
        "dolly_in": _along_track(1.0, 0.0),
        "dolly_out": _along_track(-1.0, 0.0),
        "truck_left": _along_track(1.0, -90.0),
        "truck_right": _along_track(-1.0, -90.0),
        "pedestal_up": _pedestal(1.0),
        "pedestal_down": _pedestal(-1.0),
        "zoom_in": _zoom(1.0),
        "zoom_out": _zoom(-1.0),
    }
)


def movement_plan(
    kind: str,
    stage: StageConfig,
    *,
    speed: Optional[float] = None,
    duration_s: float = DEFAULT_DURATION_S,
    start_s: float = 0.0,
) -> List[ShotKeyframe]:
    """Keyframes that make ``stage``'s rig perform movement ``kind`` (one of :data:`MOVEMENTS`).

    ``speed``: the constant speed between the eases, in :data:`SPEED_UNITS` ``[kind]`` (deg/s,
    m/s or %/s; positive, the direction is in ``kind``); None takes :data:`DEFAULT_SPEEDS`, and
    ``static`` takes none. ``duration_s``: rest to rest, s; ``start_s``: plan time of the first
    key, s. Raises ``ValueError`` for an unknown kind, a speed that is not a positive number, a
    duration too short to hold the speed for :data:`MIN_STEADY_S`, or a move that leaves the
    track (0..``track_length_m``), the crane's reach or a ``ShotKeyframe`` limit (the message
    names it).
    """
    if kind not in _SHAPES:
        raise ValueError(f"unknown movement {kind!r}, expected one of {', '.join(MOVEMENTS)}")
    if kind == "static":
        if speed is not None:
            raise ValueError(f"static has no speed, got {speed}")
        rate = 0.0
    else:
        rate = DEFAULT_SPEEDS[kind] if speed is None else float(speed)
        if not (math.isfinite(rate) and rate > 0.0):
            raise ValueError(f"{kind} speed must be a positive number of {SPEED_UNITS[kind]}, got {speed!r}")
    times, _ = _timeline(float(duration_s), float(start_s))
    if kind == "static":
        times = times[[0, -1]]
    progress = rate * _progress(times - start_s, float(duration_s))
    progress = progress - 0.5 * rate * (duration_s - EASE_S)  # centred on the rest pose
    rest = {
        "dolly_m": np.full(times.shape, 0.5 * stage.track_length_m),
        "pan_deg": np.full(times.shape, float(stage.track_heading_deg)),
    }
    channels = {**rest, **_SHAPES[kind](progress, stage)}
    what = f"{kind} at {rate} {SPEED_UNITS[kind]} for {duration_s} s"
    dolly = channels["dolly_m"]
    if float(np.min(dolly)) < 0.0 or float(np.max(dolly)) > stage.track_length_m:
        raise ValueError(
            f"{what} runs the dolly over {float(np.max(dolly) - np.min(dolly)):.3f} m, "
            f"more than the track_length_m of {stage.track_length_m} m"
        )
    for name, values in channels.items():
        problem = _bound_problem(name, values)
        if problem is not None:
            raise ValueError(f"{what}: {problem}")
    return [
        ShotKeyframe(t_s=float(t), **{name: float(channels[name][i]) for name in _CHANNELS if name in channels})
        for i, t in enumerate(times)
    ]


def plan_series(
    stage: StageConfig, *, duration_s: float = DEFAULT_DURATION_S, start_s: float = 0.0
) -> Dict[str, List[ShotKeyframe]]:
    """Every movement of :data:`MOVEMENTS` (in that order) at its default speed: name -> keyframes."""
    return {kind: movement_plan(kind, stage, duration_s=duration_s, start_s=start_s) for kind in MOVEMENTS}


#: A camera on an operator's shoulder, and the rig at rest while the focus racks: the shot plans
#: besides :data:`MOVEMENTS` (the classifier reads them as ``handheld`` and ``static``).
HANDHELD = "handheld"
FOCUS_PULL = "focus_pull"
#: Every shot plan of this module, in the order a movement sweep plays them.
SHOT_KINDS = MOVEMENTS + (HANDHELD, FOCUS_PULL)

#: RMS shake of pan and of tilt, deg (the classifier's handheld threshold is 0.15 deg for the three together).
HANDHELD_ANGLE_RMS_DEG = 0.3
#: RMS shake of roll, deg (a shoulder rig rolls less than it pans or tilts).
HANDHELD_ROLL_RMS_DEG = 0.15
#: RMS shake of the camera's position along the lens axis and vertically, m.
HANDHELD_POSITION_RMS_M = 0.005
#: Frequencies of the shake, Hz: an operator's breathing and steps to the body's tremor.
HANDHELD_BAND_HZ = (1.0, 5.0)
#: Sinusoids summed per channel.
HANDHELD_TONES = 6
#: Time between a handheld plan's keys, s.
HANDHELD_KEY_STEP_S = 0.02

#: Default rack of a focus pull, m (from a near subject to the back of the set).
FOCUS_PULL_FROM_M = 1.5
FOCUS_PULL_TO_M = 8.0

# Channels the shake moves (the rest are held at the rest pose).
_SHAKEN = ("pan_deg", "tilt_deg", "roll_deg", "dolly_m", "lift_m")


def _rest_channels(stage: StageConfig, n: int) -> Dict[str, np.ndarray]:
    """The rest pose's channels at ``n`` keys (dolly at the track's middle, head along the track)."""
    return {
        "dolly_m": np.full(n, 0.5 * stage.track_length_m),
        "pan_deg": np.full(n, float(stage.track_heading_deg)),
    }


def _fade(t_rel_s: np.ndarray, duration_s: float) -> np.ndarray:
    """0 at both ends of a plan, 1 between: a smoothstep over :data:`EASE_S` at each end."""
    u = np.clip(np.minimum(t_rel_s, duration_s - t_rel_s) / EASE_S, 0.0, 1.0)
    return u * u * (3.0 - 2.0 * u)


def _shake(rng: np.random.Generator, t_s: np.ndarray, steady: np.ndarray, rms: float) -> np.ndarray:
    """A sum of :data:`HANDHELD_TONES` sinusoids in :data:`HANDHELD_BAND_HZ` at times ``t_s`` (s),
    scaled so that its RMS over the keys where ``steady`` is ``rms``."""
    lo, hi = HANDHELD_BAND_HZ
    freq = rng.uniform(lo, hi, HANDHELD_TONES)
    phase = rng.uniform(0.0, 2.0 * math.pi, HANDHELD_TONES)
    wave = np.cos(2.0 * math.pi * freq[None, :] * t_s[:, None] + phase[None, :]).sum(axis=1)
    scale = float(np.sqrt(np.mean(wave[steady] ** 2)))
    return wave * (rms / scale if scale > 0.0 else 0.0)


def handheld_plan(
    stage: StageConfig,
    *,
    seed: int = 0,
    duration_s: float = DEFAULT_DURATION_S,
    start_s: float = 0.0,
    angle_rms_deg: float = HANDHELD_ANGLE_RMS_DEG,
    roll_rms_deg: float = HANDHELD_ROLL_RMS_DEG,
    position_rms_m: float = HANDHELD_POSITION_RMS_M,
) -> List[ShotKeyframe]:
    """Keyframes that hold ``stage``'s rig at the rest pose with a handheld shake (module docstring):
    ``duration_s`` (s) from plan time ``start_s`` (s), keys every :data:`HANDHELD_KEY_STEP_S`, the
    shake drawn from ``seed``. RMS figures hold over the plan but its fades (:data:`EASE_S` at each
    end). Raises ``ValueError`` for a window too short to hold the shake for :data:`MIN_STEADY_S`,
    a negative RMS, a crane too short for the vertical shake or a ``ShotKeyframe`` limit broken."""
    duration, start = float(duration_s), float(start_s)
    if not (math.isfinite(duration) and math.isfinite(start)) or start < 0.0:
        raise ValueError(f"duration_s {duration_s} s and start_s {start_s} s must be finite, start_s >= 0")
    if duration - 2.0 * EASE_S < MIN_STEADY_S - 1e-9:
        raise ValueError(
            f"duration_s {duration_s} s is too short: fades of {EASE_S} s at both ends and {MIN_STEADY_S} s "
            f"of shake need at least {2.0 * EASE_S + MIN_STEADY_S:.2f} s"
        )
    rms = {"pan_deg": angle_rms_deg, "tilt_deg": angle_rms_deg, "roll_deg": roll_rms_deg,
           "dolly_m": position_rms_m, "lift_m": position_rms_m}
    for name, value in rms.items():
        if not (math.isfinite(float(value)) and float(value) >= 0.0):
            raise ValueError(f"the handheld shake's RMS of {name} must be a number >= 0, got {value!r}")
    n = max(2, math.ceil(duration / HANDHELD_KEY_STEP_S - 1e-9)) + 1
    t_rel = np.linspace(0.0, duration, n)
    fade = _fade(t_rel, duration)
    steady = fade >= 1.0
    rng = np.random.default_rng([int(seed) % (1 << 64), 0x4848])
    offsets = {name: fade * _shake(rng, t_rel, steady, float(rms[name])) for name in _SHAKEN}
    channels = _rest_channels(stage, n)
    channels["dolly_m"] = channels["dolly_m"] + offsets["dolly_m"]
    channels["pan_deg"] = channels["pan_deg"] + offsets["pan_deg"]
    channels["tilt_deg"] = offsets["tilt_deg"]
    channels["roll_deg"] = offsets["roll_deg"]
    arm = float(stage.crane_arm_m)
    lift = offsets["lift_m"]
    if float(np.max(np.abs(lift))) > 0.0:
        if arm <= float(np.max(np.abs(lift))):
            raise ValueError(f"a vertical shake of {float(np.max(np.abs(lift))):.4f} m needs a crane_arm_m longer "
                             f"than that, the stage's is {arm} m")
        channels["crane_lift_deg"] = np.degrees(np.arcsin(lift / arm))
    what = f"handheld shake for {duration_s} s"
    dolly = channels["dolly_m"]
    if float(np.min(dolly)) < 0.0 or float(np.max(dolly)) > stage.track_length_m:
        raise ValueError(f"{what} runs the dolly off the {stage.track_length_m} m track")
    for name, values in channels.items():
        problem = _bound_problem(name, values)
        if problem is not None:
            raise ValueError(f"{what}: {problem}")
    times = start + t_rel
    return [
        ShotKeyframe(t_s=float(t), **{name: float(channels[name][i]) for name in _CHANNELS if name in channels})
        for i, t in enumerate(times)
    ]


def focus_pull_plan(
    stage: StageConfig,
    *,
    from_m: float = FOCUS_PULL_FROM_M,
    to_m: float = FOCUS_PULL_TO_M,
    duration_s: float = DEFAULT_DURATION_S,
    start_s: float = 0.0,
) -> List[ShotKeyframe]:
    """Keyframes that hold ``stage``'s rig at the rest pose while the focus racks from ``from_m`` to
    ``to_m`` (m) over ``duration_s`` (s) from plan time ``start_s`` (s): eased as a move, linear in
    dioptres. Raises ``ValueError`` for distances that are not positive and different, or a
    window too short for the eases (as :func:`movement_plan`)."""
    near, far = float(from_m), float(to_m)
    if not (math.isfinite(near) and math.isfinite(far)) or near == far:
        raise ValueError(f"a focus pull needs two different finite distances, got {from_m!r} and {to_m!r} m")
    problem = _bound_problem("focus_distance_m", np.array([near, far]))
    if problem is not None:
        raise ValueError(f"focus pull from {from_m} m to {to_m} m: {problem}")
    times, _ = _timeline(float(duration_s), float(start_s))
    share = _progress(times - start_s, float(duration_s)) / (float(duration_s) - EASE_S)
    focus = 1.0 / ((1.0 - share) / near + share / far)
    channels = {**_rest_channels(stage, times.size), "focus_distance_m": focus}
    return [
        ShotKeyframe(t_s=float(t), **{name: float(values[i]) for name, values in channels.items()})
        for i, t in enumerate(times)
    ]
