"""Framing plans: one walking actor held at one shot size, as a camera operator would hold it.

:func:`framing_plan` writes the :class:`~config.models.ShotKeyframe` list that keeps one of a
stage's actors (``sensors/sim/actors.py``) framed at one of :data:`SIZES` while it walks its
loop; :func:`reachable_span` says when the rig can hold that framing, and :func:`framing_series`
gives every size on every actor. Each plan is meant to be played with ``loop=False``.

**Shot sizes** are those of the captioner (``engines/captioner/shot_size.py``): the *cut* is
where the frame's lower edge meets the vertical plane through the subject's axis, facing the
camera, as a fraction of the subject's height from the top of its head. A size is held by two
points of the actor's axis (:data:`FRAMINGS`): the frame's lower edge meets the actor's plane at
a chosen height, and one landmark (the eyes at :data:`EYE_HEIGHT_M` or the crown at 1.75 m) sits
on a chosen image row:

- ECU to MLS: the lower edge at the middle of the size's band of cuts, :data:`CUT_BANDS` (the
  captioner's bounds; ECU's band starts at the eye line, not the top of the head: a lower edge
  above the eyes frames hair, not a face). The eyes sit on the upper third line, unless that
  would put the crown out of the frame or within :data:`HEADROOM_FRACTION` of the frame's height
  of its upper edge; then the crown sits that far under the upper edge (CU). ECU's crown is on
  the upper edge: the face, mouth to crown, fills the frame (the eyes sit low in it);
- FS: the eyes on the upper third line, the lower edge :data:`FOOTROOM_FRACTION` of the frame
  under the feet, so the whole figure fills about 0.67 of the frame's height;
- WS: the eyes on the upper third line, the figure about :data:`WIDE_FIGURE_FRACTION` of the
  frame's height (the lower edge is set for that share on the actor's plane; a wide lens's
  perspective moves the share a little).

**The rig.** The dolly is parked for the whole plan and the crane holds the lens at the eyes'
height (a neutral angle; as near as the crane's +-60 deg reaches), roll 0, the T-stop at
``ShotKeyframe``'s default. ECU to FS park the lens where the track comes nearest the centre of
the actor's loop (the subject stays as close as the track allows: the shortest lens for the
tight sizes); WS parks it at the end of the track farthest from that centre (a longer distance
and a less wide lens, so the set does not bend around the actor).

**Each key** (every :data:`KEY_STEP_S` at most, at the actor's true pose, which the stage
generates from its seed as :class:`~sensors.sim.stage.Stage` does): the pan is the heading from
the lens to the actor's axis (unwrapped), so the axis stands on the frame's centre column. On
that column an image row ``v`` leaves the lens at elevation ``tilt - atan(k / f)``, ``k = v -
c_y`` (``f`` and ``k`` in px), and meets the actor's plane, ``d`` m away horizontally, at
``z_lens + d tan(elevation)``. The lower edge (row ``H - 1/2``, ``k_low``) and the landmark's
row (``k_up``) at their heights give elevations ``e_low`` and ``e_up``; ``f`` solves
``atan(k_low / f) - atan(k_up / f) = e_up - e_low`` (decreasing in ``f`` while the principal
point's row lies between the two: bisection), ``tilt = e_low + atan(k_low / f)`` and
``focal_length_mm = f sensor_width_mm / W``. Focus follows the actor: the distance from the lens
to its eyes. An off-centre principal point column moves the aim by its offset (pixels).

Keys are exact; between them the shot plan's monotone cubic follows the walk (the actor covers
under 7 cm per key): on the default stage the lower edge stays within 0.1 mm of its height and
the axis within 0.3 px of the centre column. Only over the first and last key step, where a plan
that does not loop starts and ends at rest while the actor walks on, does the head lag: up to
about 3 % of the frame's width for an ECU (17 px of 640), 4 mm on a WS's lower edge. Limits met
at the keys hold between them (the cubic does not overshoot).

**Limits.** A key that needs a focal length, tilt or focus distance outside ``ShotKeyframe``'s
limits, or an actor nearer the lens than :data:`MIN_SUBJECT_DISTANCE_M`, cannot be framed; a
plan over such a key raises ``ValueError`` naming the limit and, where there is one, the first
window when the actor can be framed. ``start_s=None`` picks that window (:func:`reachable_span`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from types import MappingProxyType
from typing import Dict, List, Mapping, NamedTuple, Optional, Tuple

import numpy as np

from config.models import CameraConfig, ShotKeyframe, StageConfig
from sensors.sim.actors import ACTOR_HEIGHT_M, ActorPath, actor_poses, generate_actors
from sensors.sim.dressing import generate_dressing
from sensors.sim.layout import capsules_clear, inside_room, track_corridor
from sensors.sim.shots import DEFAULT_DURATION_S, KEY_STEP_S
from sensors.sim.stage import stage_rngs

__all__ = [
    "SIZES",
    "EYE_HEIGHT_M",
    "CUT_BANDS",
    "HEADROOM_FRACTION",
    "FOOTROOM_FRACTION",
    "WIDE_FIGURE_FRACTION",
    "MIN_SUBJECT_DISTANCE_M",
    "Framing",
    "FRAMINGS",
    "reachable_span",
    "framing_plan",
    "framing_series",
    "TAKE_DISTANCES_M",
    "TAKE_LENS_MM",
    "framing_take",
]

#: Every shot size :func:`framing_plan` can hold, tightest first (the captioner's, but ``none``).
SIZES = ("ECU", "CU", "MCU", "MS", "MLS", "FS", "WS")

#: Height of the actors' eyes above the floor, m (their head's centre is at 1.635 m).
EYE_HEIGHT_M = 1.62

#: Cuts (fraction of the actor's height from the top of its head) bounding ECU to MLS, as the
#: captioner bounds them; ECU's band starts at the eye line (see the module docstring).
CUT_BANDS: Mapping[str, Tuple[float, float]] = MappingProxyType(
    {
        "ECU": ((ACTOR_HEIGHT_M - EYE_HEIGHT_M) / ACTOR_HEIGHT_M, 0.13),
        "CU": (0.13, 0.25),
        "MCU": (0.25, 0.36),
        "MS": (0.36, 0.55),
        "MLS": (0.55, 0.78),
    }
)
#: Least room above the crown, as a share of the frame's height (where the eyes' third would cut the head).
HEADROOM_FRACTION = 0.05
#: FS: room under the feet, as a share of the frame's height.
FOOTROOM_FRACTION = 0.05
#: WS: the whole figure's share of the frame's height (the captioner's wide shots are under 0.4).
WIDE_FIGURE_FRACTION = 0.25
#: Nearest the actor's axis may come to the lens, m (its body is 0.36 m in radius).
MIN_SUBJECT_DISTANCE_M = 0.6


class Framing(NamedTuple):
    """How a size is held: the frame's lower edge meets the actor's plane ``lower_edge_m`` above the
    floor, and the point of the actor's axis ``anchor_m`` above the floor sits on the image row
    ``anchor_row`` of the frame's height down from its upper edge (0: on the upper edge)."""

    lower_edge_m: float
    anchor_m: float
    anchor_row: float


def _framing(size: str) -> Framing:
    """The :class:`Framing` of ``size`` (the module docstring's rules)."""
    top, eyes, third = ACTOR_HEIGHT_M, EYE_HEIGHT_M, 1.0 / 3.0
    if size == "ECU":
        low, high = CUT_BANDS[size]
        return Framing(top * (1.0 - 0.5 * (low + high)), top, 0.0)
    if size in CUT_BANDS:
        low_cut, high_cut = CUT_BANDS[size]
        lower = top * (1.0 - 0.5 * (low_cut + high_cut))
        # Eyes on the upper third line (2/3 of the frame above its lower edge) unless the crown would
        # then fall out of the frame or nearer its edge than the headroom (on the actor's plane).
        if 1.5 * (eyes - lower) * (1.0 - HEADROOM_FRACTION) >= top - lower:
            return Framing(lower, eyes, third)
        return Framing(lower, top, HEADROOM_FRACTION)
    if size == "FS":
        frame = eyes / (2.0 / 3.0 - FOOTROOM_FRACTION)
    else:  # WS
        frame = top / WIDE_FIGURE_FRACTION
    return Framing(eyes - 2.0 * frame / 3.0, eyes, third)


#: How each size of :data:`SIZES` is held (heights in m above the floor, on the actor's plane).
FRAMINGS: Mapping[str, Framing] = MappingProxyType({size: _framing(size) for size in SIZES})

# Bisection bounds on the focal length in pixels: far beyond ShotKeyframe's limits both ways.
_F_PX_RANGE = (1e-3, 1e9)


@dataclass(frozen=True)
class _Setup:
    """One (size, actor) framing: the actor's loop and the parked rig (lens position in stage, m)."""

    size: str
    actor_name: str
    path: ActorPath
    dolly_m: float
    crane_lift_deg: float
    lens_xyz_m: np.ndarray
    camera: CameraConfig
    #: None: the dolly stays parked at ``dolly_m``; else (track origin xy, unit direction, crane
    #: reach along the track, track length): the dolly follows the actor, keeping the lens abeam.
    follow: Optional[Tuple[np.ndarray, np.ndarray, float, float]] = None


def _setup(size: str, stage: StageConfig, actor: int, camera: Optional[CameraConfig]) -> _Setup:
    """Check the arguments and park the rig for ``size`` on ``stage``'s actor number ``actor``."""
    if size not in FRAMINGS:
        raise ValueError(f"unknown shot size {size!r}, expected one of {', '.join(SIZES)}")
    if not 0 <= int(actor) < stage.actor_count or int(actor) != actor:
        raise ValueError(f"actor {actor!r} is not on the stage: expected 0..{stage.actor_count - 1} (actor_count)")
    chosen = generate_actors(stage, stage_rngs(stage.seed)[0])[int(actor)]
    arm, pivot = float(stage.crane_arm_m), float(stage.crane_pivot_height_m)
    lift_limit = min(abs(float(getattr(b, a))) for b in ShotKeyframe.model_fields["crane_lift_deg"].metadata
                     for a in ("ge", "le") if getattr(b, a, None) is not None)
    # The lens at eye height, as near as the crane lifts it.
    sine = 0.0 if arm <= 0.0 else float(np.clip((EYE_HEIGHT_M - pivot) / arm, -1.0, 1.0))
    lift_deg = float(np.clip(math.degrees(math.asin(sine)), -lift_limit, lift_limit))
    reach = arm * math.cos(math.radians(lift_deg))  # lens ahead of the dolly along the track, m
    heading = math.radians(stage.track_heading_deg)
    along = np.array([math.cos(heading), math.sin(heading)])
    origin = np.asarray(stage.track_origin_m, dtype=float)
    centre = np.asarray(chosen.path.centre_xy, dtype=float)
    if size == "WS":
        ends = (0.0, float(stage.track_length_m))
        dolly = max(ends, key=lambda s: float(np.linalg.norm(origin[:2] + (s + reach) * along - centre)))
    else:
        dolly = float(np.clip(float((centre - origin[:2]) @ along) - reach, 0.0, stage.track_length_m))
    lens_xy = origin[:2] + (dolly + reach) * along
    lens_z = origin[2] + pivot + arm * math.sin(math.radians(lift_deg))
    return _Setup(
        size=size,
        actor_name=chosen.name,
        path=chosen.path,
        dolly_m=dolly,
        crane_lift_deg=lift_deg,
        lens_xyz_m=np.array([lens_xy[0], lens_xy[1], lens_z]),
        camera=camera if camera is not None else CameraConfig(),
    )


def _focal_px(k_low: float, k_up: float, spread_rad: np.ndarray) -> np.ndarray:
    """Focal lengths (px) at which rows ``k_low`` > 0 > ``k_up`` px from the principal point's row
    leave the lens ``spread_rad`` apart in elevation (bisection in log f, to 1e-12 relative)."""
    lo = np.full(spread_rad.shape, math.log(_F_PX_RANGE[0]))
    hi = np.full(spread_rad.shape, math.log(_F_PX_RANGE[1]))
    for _ in range(64):
        mid = 0.5 * (lo + hi)
        f = np.exp(mid)
        wide = np.arctan(k_low / f) - np.arctan(k_up / f) > spread_rad  # too wide: a longer lens
        lo, hi = np.where(wide, mid, lo), np.where(wide, hi, mid)
    return np.exp(0.5 * (lo + hi))


def _channels(setup: _Setup, times_s: np.ndarray) -> Dict[str, np.ndarray]:
    """Every channel of the keys at plan times ``times_s`` (s) and ``distance_m``: the actor's axis
    from the lens, horizontally."""
    camera = setup.camera
    width, height = int(camera.width_px), int(camera.height_px)
    framing = FRAMINGS[setup.size]
    pp = camera.intrinsics.principal_point_px
    cy = (height - 1) / 2.0 if pp is None else float(pp[1])
    k_low, k_up = (height - 0.5) - cy, (framing.anchor_row * height - 0.5) - cy
    if not k_low > 0.0 > k_up:
        raise ValueError(
            f"the principal point's row {cy} px must lie between the image's {framing.anchor_row:.3g} line "
            f"({framing.anchor_row * height - 0.5:.1f} px) and its lower edge ({height - 0.5} px) for {setup.size}"
        )
    pos, _ = actor_poses(setup.path, times_s)
    dolly = np.full(times_s.shape, setup.dolly_m)
    lens_xy = np.broadcast_to(setup.lens_xyz_m[:2], pos[:, :2].shape)
    if setup.follow is not None:
        origin, along, reach, length = setup.follow
        dolly = np.clip((pos[:, :2] - origin) @ along - reach, 0.0, length)
        lens_xy = origin + (dolly + reach)[:, None] * along
    offset = pos[:, :2] - lens_xy
    distance = np.hypot(offset[:, 0], offset[:, 1])
    safe = np.maximum(distance, 1e-9)
    pan = np.degrees(np.unwrap(np.arctan2(offset[:, 1], offset[:, 0])))
    z_lens = float(setup.lens_xyz_m[2])
    e_low = np.arctan((framing.lower_edge_m - z_lens) / safe)
    e_anchor = np.arctan((framing.anchor_m - z_lens) / safe)
    f_px = _focal_px(k_low, k_up, e_anchor - e_low)
    tilt = np.degrees(e_low + np.arctan(k_low / f_px))
    n = times_s.shape
    return {
        "dolly_m": dolly,
        "crane_lift_deg": np.full(n, setup.crane_lift_deg),
        "pan_deg": pan,
        "tilt_deg": tilt,
        "focal_length_mm": f_px * float(camera.intrinsics.sensor_width_mm) / width,
        "focus_distance_m": np.hypot(distance, EYE_HEIGHT_M - z_lens),
        "distance_m": distance,
    }


def _broken(name: str, values: np.ndarray) -> Tuple[np.ndarray, str]:
    """Keys whose ``ShotKeyframe.<name>`` breaks one of its bounds, and that bound in words."""
    bad = np.zeros(values.shape, dtype=bool)
    words = []
    for bound in ShotKeyframe.model_fields[name].metadata:
        for attr, breaks, word in (
            ("ge", np.less, "at least"),
            ("gt", np.less_equal, "above"),
            ("le", np.greater, "at most"),
            ("lt", np.greater_equal, "below"),
        ):
            b = getattr(bound, attr, None)
            if b is not None and np.any(breaks(values, b)):
                bad |= breaks(values, b)
                words.append(f"{word} {b}")
    return bad, " and ".join(words)


def _problems(setup: _Setup, times_s: np.ndarray, ch: Dict[str, np.ndarray]) -> Tuple[np.ndarray, Optional[str]]:
    """Keys that cannot be framed, and what the first of them breaks (None when all can)."""
    bad = np.zeros(times_s.shape, dtype=bool)
    first: Optional[Tuple[float, str]] = None
    near = ch["distance_m"] < MIN_SUBJECT_DISTANCE_M
    checks = [(near, "the actor comes {v:.3g} m from the lens, nearer than MIN_SUBJECT_DISTANCE_M "
               f"{MIN_SUBJECT_DISTANCE_M} m", ch["distance_m"])]
    for name in ("focal_length_mm", "tilt_deg", "focus_distance_m", "crane_lift_deg"):
        mask, words = _broken(name, ch[name])
        checks.append((mask, f"needs {name} {{v:.6g}}, ShotKeyframe's limit is {words}", ch[name]))
    for mask, text, values in checks:
        if np.any(mask):
            bad |= mask
            i = int(np.argmax(mask))
            if first is None or times_s[i] < first[0]:
                first = (float(times_s[i]), f"at plan time {times_s[i]:.2f} s " + text.format(v=float(values[i])))
    return bad, None if first is None else first[1]


def _check_window(duration_s: float, start_s: float) -> None:
    if not (math.isfinite(duration_s) and math.isfinite(start_s)) or start_s < 0.0:
        raise ValueError(f"duration_s {duration_s} s and start_s {start_s} s must be finite, start_s >= 0")
    if duration_s < KEY_STEP_S:
        raise ValueError(f"duration_s {duration_s} s is shorter than one key step of {KEY_STEP_S} s")


def _span(setup: _Setup, duration_s: float, after_s: float) -> Tuple[Optional[Tuple[float, float]], Optional[str]]:
    """:func:`reachable_span` of a setup, or None with what the first unframable key breaks."""
    period = setup.path.length_m / max(setup.path.speed_mps, 1e-9)  # the walk repeats, s
    need = math.ceil(duration_s / KEY_STEP_S - 1e-9)  # key steps a window spans
    steps = math.ceil((2.0 * period + duration_s) / KEY_STEP_S) + need
    times = after_s + KEY_STEP_S * np.arange(steps + 1)
    bad, problem = _problems(setup, times, _channels(setup, times))
    ok = np.concatenate([[False], ~bad, [False]])
    starts = np.flatnonzero(ok[1:] & ~ok[:-1])
    ends = np.flatnonzero(~ok[1:] & ok[:-1]) - 1  # last good key of each run
    for first, last in zip(starts, ends):
        if last - first >= need:
            whole_loop = (last - first) * KEY_STEP_S >= period
            return (float(times[first]), math.inf if whole_loop else float(times[last])), None
    return None, problem


def reachable_span(
    size: str,
    stage: StageConfig,
    actor: int,
    *,
    duration_s: float = DEFAULT_DURATION_S,
    after_s: float = 0.0,
    camera: Optional[CameraConfig] = None,
) -> Tuple[float, float]:
    """The first span of plan time ``(start_s, end_s)`` (s) at or after ``after_s`` during which
    ``stage``'s actor number ``actor`` (0-based) can be held at ``size`` for at least
    ``duration_s`` (checked every :data:`KEY_STEP_S`); ``end_s`` is ``math.inf`` when it can be
    held for a whole loop of its walk (then always). ``camera`` gives the sensor width (mm) and
    image size (px); None: :class:`~config.models.CameraConfig`'s defaults. Raises ``ValueError``
    for an unknown size or actor, a bad window, or when no such span exists (the message names the
    limit the first unframable key breaks)."""
    _check_window(float(duration_s), float(after_s))
    setup = _setup(size, stage, actor, camera)
    span, problem = _span(setup, float(duration_s), float(after_s))
    if span is None:
        raise ValueError(f"{size} on {setup.actor_name} cannot be held for {duration_s} s at any time: {problem}")
    return span


def framing_plan(
    size: str,
    stage: StageConfig,
    actor: int,
    *,
    duration_s: float = DEFAULT_DURATION_S,
    start_s: Optional[float] = 0.0,
    camera: Optional[CameraConfig] = None,
) -> List[ShotKeyframe]:
    """Keyframes that hold ``stage``'s actor number ``actor`` (0-based) at shot size ``size`` (one
    of :data:`SIZES`) for ``duration_s`` (s) from plan time ``start_s`` (s), keys every
    :data:`KEY_STEP_S` at most; ``start_s=None`` starts at the first time the size can be held
    that long (:func:`reachable_span`). ``camera`` gives the sensor width (mm) and image size
    (px) the frame is solved for; None: :class:`~config.models.CameraConfig`'s defaults.

    Raises ``ValueError`` for an unknown size or actor, a window that is not finite, starts
    before 0 or is shorter than one key step, or a key that cannot be framed (the message names
    the limit and the first window when the actor can be framed, where there is one).
    """
    setup = _setup(size, stage, actor, camera)
    duration = float(duration_s)
    if start_s is None:
        _check_window(duration, 0.0)
        span, problem = _span(setup, duration, 0.0)
        if span is None:
            raise ValueError(f"{size} on {setup.actor_name} cannot be held for {duration_s} s at any time: {problem}")
        start = span[0]
    else:
        start = float(start_s)
        _check_window(duration, start)
    n = max(1, math.ceil(duration / KEY_STEP_S - 1e-9))
    times = start + np.linspace(0.0, duration, n + 1)
    ch = _channels(setup, times)
    _, problem = _problems(setup, times, ch)
    if problem is not None:
        span, _ = _span(setup, duration, start)
        hint = "" if span is None else f"; it can be held from plan time {span[0]:.2f} s (reachable_span)"
        raise ValueError(f"{size} on {setup.actor_name} for {duration_s} s from {start} s: {problem}{hint}")
    names = ("dolly_m", "crane_lift_deg", "pan_deg", "tilt_deg", "focal_length_mm", "focus_distance_m")
    return [ShotKeyframe(t_s=float(t), **{k: float(ch[k][i]) for k in names}) for i, t in enumerate(times)]


def framing_series(
    stage: StageConfig, camera: Optional[CameraConfig] = None, *, duration_s: float = DEFAULT_DURATION_S
) -> Dict[Tuple[str, int], List[ShotKeyframe]]:
    """Every size of :data:`SIZES` on every actor of ``stage``, each from the first time it can be
    held for ``duration_s`` (s): ``(size, actor index) -> keyframes``, sizes outermost. Raises
    ``ValueError`` (naming the size, the actor and the limit) when one cannot be held at all."""
    return {
        (size, actor): framing_plan(size, stage, actor, duration_s=duration_s, start_s=None, camera=camera)
        for size in SIZES
        for actor in range(stage.actor_count)
    }


#: :func:`framing_take`: the lens-to-actor distance (m, horizontal) a camera operator would choose
#: for each size on a cine zoom; None (WS): the track is left where it is, as :func:`framing_plan`.
TAKE_DISTANCES_M: Mapping[str, Optional[float]] = MappingProxyType(
    {"ECU": 1.2, "CU": 1.8, "MCU": 2.5, "MS": 3.0, "MLS": 4.0, "FS": 5.0, "WS": None}
)
#: The zoom a take must stay within, mm (the sim stage's FreeD lens, ``config/profiles/sim-stage.yaml``).
TAKE_LENS_MM = (15.0, 300.0)
# Gaps the stage's own generators keep between the track corridor and an actor loop / a piece (m).
_ACTOR_GAP_M, _DRESSING_GAP_M = 0.3, 0.2
_FURTHER_M, _STEP_M = 5.0, 0.25  # how much farther than asked a track is tried, and in what steps
_SHIFTS_M = (0.0, -1.0, 1.0, -2.0, 2.0)  # lens abeam the straight's middle off the dolly's mid-travel


def _layout(stage: StageConfig) -> tuple:
    """The actors and dressing ``Stage(stage)`` generates from its seed."""
    rng_actors, rng_dressing = stage_rngs(stage.seed)
    actors = generate_actors(stage, rng_actors)
    return actors, generate_dressing(stage, rng_dressing, keep_clear=[a.path.footprint() for a in actors])


def _straight_window(path: ActorPath, duration_s: float, after_s: float) -> Tuple[float, np.ndarray, np.ndarray]:
    """The first start time >= ``after_s`` (to 0.05 s) whose window is centred on a straight walk
    (the most of it on one heading), the actor's position there and its walking direction."""
    period = path.length_m / max(path.speed_mps, 1e-9)
    starts = after_s + np.arange(0.0, period, 0.05)
    offsets = np.linspace(0.0, duration_s, 41)
    pos, heading = actor_poses(path, (starts[:, None] + offsets[None, :]).ravel())
    heading = heading.reshape(len(starts), -1)
    mid = heading[:, 20:21]
    share = np.mean(np.abs(np.angle(np.exp(1j * (heading - mid)))) < 1e-6, axis=1)
    i = int(np.argmax(share >= share.max() - 1e-9))
    centre_pos, centre_heading = actor_poses(path, np.array([starts[i] + 0.5 * duration_s]))
    h = float(centre_heading[0])
    return float(starts[i]), centre_pos[0, :2], np.array([math.cos(h), math.sin(h)])


def _clear(candidate: StageConfig, layout: tuple) -> bool:
    """The candidate's track corridor in the room and clear of every actor loop and piece."""
    corridor = track_corridor(candidate)
    actors, dressing = layout
    return (
        inside_room(corridor, candidate.width_m, candidate.depth_m)
        and all(capsules_clear(corridor, a.path.footprint(), gap_m=_ACTOR_GAP_M) for a in actors)
        and all(capsules_clear(corridor, p.footprint(), gap_m=_DRESSING_GAP_M) for p in dressing)
    )


def _tracks(stage: StageConfig, path: ActorPath, at_xy: np.ndarray, walk: np.ndarray, distance_m: float):
    """Candidate stages, nearest ``distance_m`` first: the track parallel to the walk through
    ``at_xy`` (direction ``walk``), on the side away from the loop's centre, either way along."""
    normal = np.array([-walk[1], walk[0]])
    if float((np.asarray(path.centre_xy) - at_xy) @ normal) > 0.0:
        normal = -normal
    reach = float(stage.crane_arm_m)  # the lens is held at eye height: near the arm's full reach
    for d in np.arange(distance_m, distance_m + _FURTHER_M + 1e-9, _STEP_M):
        for shift in _SHIFTS_M:
            for along in (walk, -walk):
                origin = at_xy + d * normal - (0.5 * stage.track_length_m + reach + shift) * along
                yield stage.model_copy(
                    update={
                        "track_origin_m": (float(origin[0]), float(origin[1]), float(stage.track_origin_m[2])),
                        "track_heading_deg": math.degrees(math.atan2(along[1], along[0])),
                    }
                )


def _following(setup: _Setup, stage: StageConfig) -> _Setup:
    heading = math.radians(stage.track_heading_deg)
    along = np.array([math.cos(heading), math.sin(heading)])
    reach = float(stage.crane_arm_m) * math.cos(math.radians(setup.crane_lift_deg))
    origin = np.asarray(stage.track_origin_m[:2], dtype=float)
    return _Setup(**{**setup.__dict__, "follow": (origin, along, reach, float(stage.track_length_m))})


def _take_keys(setup: _Setup, times: np.ndarray) -> Tuple[Optional[List[ShotKeyframe]], Optional[str]]:
    """The keys of a setup, or None and why they cannot be played (ShotKeyframe's or the zoom's limits)."""
    ch = _channels(setup, times)
    _, problem = _problems(setup, times, ch)
    if problem is None:
        f = ch["focal_length_mm"]
        lo, hi = TAKE_LENS_MM
        if f.min() < lo or f.max() > hi:
            problem = f"needs focal lengths {f.min():.4g}-{f.max():.4g} mm, the zoom is {lo:g}-{hi:g} mm"
    if problem is not None:
        return None, problem
    names = ("dolly_m", "crane_lift_deg", "pan_deg", "tilt_deg", "focal_length_mm", "focus_distance_m")
    return [ShotKeyframe(t_s=float(t), **{k: float(ch[k][i]) for k in names}) for i, t in enumerate(times)], None


def framing_take(
    size: str,
    stage: StageConfig,
    actor: int,
    *,
    duration_s: float = DEFAULT_DURATION_S,
    start_s: float = 0.0,
    camera: Optional[CameraConfig] = None,
    distance_m: Optional[float] = None,
) -> Tuple[StageConfig, List[ShotKeyframe]]:
    """A take of ``stage``'s actor number ``actor`` held at ``size`` for ``duration_s`` (s) with the
    dolly track laid for the shot: ``(stage with the track moved, keyframes)``, to be played with
    ``loop=False``.

    The take's window is the first one starting at or after ``start_s`` (to 0.05 s) that is centred
    on one of the actor's straight walks. The track (its length unchanged) is laid parallel to that
    walk, ``distance_m`` (None: :data:`TAKE_DISTANCES_M`) from it on the side away from its loop,
    the lens abeam the actor at the window's middle, and the dolly follows the actor along it. A
    track is only laid where its corridor is inside the room, clear of every actor loop (0.3 m) and
    piece of dressing (0.2 m), **and** the stage's seed still generates the same actors and dressing
    (both are laid out clear of the track: on most placements near an actor they change); the
    nearest such placement from ``distance_m`` out to 5 m farther is taken, and failing that the
    track stays where it is with the dolly following the actor. WS keeps the track where it is and
    :func:`framing_plan`'s parked rig. The focal lengths must stay within :data:`TAKE_LENS_MM`.

    Raises ``ValueError`` for an unknown size or actor or a bad window, and when no placement
    (the stage's own track included) holds the size within the zoom and ``ShotKeyframe``'s limits.
    """
    setup = _setup(size, stage, actor, camera)
    duration, after = float(duration_s), float(start_s)
    _check_window(duration, after)
    start, at_xy, walk = _straight_window(setup.path, duration, after)
    n = max(1, math.ceil(duration / KEY_STEP_S - 1e-9))
    times = start + np.linspace(0.0, duration, n + 1)
    target = TAKE_DISTANCES_M[size] if distance_m is None else float(distance_m)
    if target is None:
        keys, problem = _take_keys(setup, times)
        if keys is None:
            raise ValueError(f"{size} on {setup.actor_name} from {start:.2f} s: {problem}")
        return stage.model_copy(), keys
    if not (math.isfinite(target) and target > 0.0):
        raise ValueError(f"distance_m {distance_m} must be a positive distance (m)")
    layout = _layout(stage)
    problem = None
    for candidate in _tracks(stage, setup.path, at_xy, walk, target):
        if not _clear(candidate, layout) or _layout(candidate) != layout:
            continue
        keys, problem = _take_keys(_following(_setup(size, candidate, actor, camera), candidate), times)
        if keys is not None:
            return candidate, keys
    keys, own = _take_keys(_following(setup, stage), times)
    if keys is not None:
        return stage.model_copy(), keys
    raise ValueError(
        f"{size} on {setup.actor_name} from {start:.2f} s cannot be held: no track {target:g}-{target + _FURTHER_M:g} m "
        f"from its walk keeps the stage's layout ({problem or 'none found'}), and on the stage's own track it {own}"
    )
