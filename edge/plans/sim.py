"""A planned take on the simulated stage: the rig profile that makes the stage shoot it.

:func:`stage_take` turns a :class:`~edge.plans.types.PlannedTake` and a stage seed into a
:class:`StagedTake`: the chosen profile with the stage's ``seed`` replaced (new set dressing, new
actors' walks; ``sensors/sim/lighting.py`` gives each seed its lights), the take's shot
keyframes. The shot begins no earlier than ``lead_s`` of plan time (the stage's clock, whose 0
is the profile's start timecode), so the node can have its clocks in sync by then; before its
first key the rig holds still.

**The shot repeats** (``loop: true``), so a node that syncs late records the next repeat, not a
broken take: after its last key the rig holds for :data:`REPEAT_HOLD_S`, goes back to the first
key's pose over :data:`REPEAT_RETURN_S` (a smooth ease: the shot plan's cubic between two keys
at rest) and holds again before the shot starts over. When the take follows an actor (a framing
or focal-sweep take) the period is a whole number of the actor's walks, so every repeat finds it
where the first did and shoots the same take; a movement take's period is the shot, the holds
and the return. Between the first and last key of the shot the curves are exactly those of the
shot played once (its first and last keys stay at rest either way).

- ``shot_size`` (framing sweep): the actor held at the size by ``sensors/sim/framing.py``. The
  windows tried start every eighth of the actor's walk from ``lead_s`` on: ``framing_take``'s
  first (the dolly follows the actor), then ``framing_plan``'s (the dolly parked where the track
  comes nearest the walk, pan and tilt following). The first window the zoom holds with nothing
  hiding the actor's face (:func:`hidden_keys`) is taken, as an operator waits for the actor to
  come out from behind a column. The actors walk 4.5-8 m from the track, so the tightest sizes
  need more than a 15-300 mm zoom (an ECU 330-800 mm): then the first window with the actor in
  sight is taken and the profile's lens table widened to the focal lengths it needs, a longer
  lens for that take as a crew would fit one (the focal-length labels still come from the lens
  table). An actor whose walk passes behind a column in every window gets the window with the
  fewest hidden keys;
- ``focal_length_mm`` (focal sweep): the rig parked where a full shot of the actor (found as for
  ``shot_size``) has it at the middle of its window, the lens at eye height, panned onto the
  actor there and tilted onto its eyes, the focus on them; two keys hold it, the value as the
  focal length. The actor walks across the frame: a long lens holds it for a fraction of the take
  (a 200 mm at 6 m sees 0.75 m of the walk);
- ``movement`` (movement sweep): ``sensors/sim/shots.py``'s plan of that name at its default
  speed; the handheld shake is drawn from the stage seed.

:attr:`StagedTake.shot` is what the stage was told to shoot (plan times, focal lengths, focus
distances, the lens, the actor's distance, ``hidden_keys``); it goes into ``take.json`` beside
the plan. It is the commanded shot, like a motion-control rig's program, not a measurement: the
captioner labels takes from the sensors and never reads it.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Callable, Dict, List, Mapping, NamedTuple, Optional, Tuple

from config.models import CameraConfig, LensCalibrationConfig, RigConfig, ShotKeyframe, StageConfig
from edge.plans.errors import PlanTakeError
from edge.plans.types import PlannedTake
from sensors.sim.framing import EYE_HEIGHT_M, TAKE_LENS_MM, framing_plan, framing_take, reachable_span
from sensors.sim.shots import (
    FOCUS_PULL,
    HANDHELD,
    MOVEMENTS,
    focus_pull_plan,
    handheld_plan,
    movement_plan,
)

__all__ = [
    "DEFAULT_LEAD_S",
    "FACE_HEIGHT_M",
    "REPEAT_HOLD_S",
    "REPEAT_RETURN_S",
    "StagedTake",
    "hidden_keys",
    "stage_take",
    "zoom_range_mm",
]

#: Plan time (s) before which no take's shot begins: the node's clock models converge first (7 to
#: 15 s of plan time on a loaded 2-core box; plan time starts about 3.5 s after the node does). A
#: node not in sync by then records a later repeat of the shot.
DEFAULT_LEAD_S = 12.0
#: The rig's rest after the shot and before it starts over, s (longer than a take's pre- and post-roll).
REPEAT_HOLD_S = 1.0
#: How long the rig takes to go back to the shot's first pose, s.
REPEAT_RETURN_S = 2.0
# How much longer than needed a widened lens table reaches, mm (a round lens, and some room).
_LENS_STEP_MM = 50.0
#: A piece of dressing at least this tall (m) hides an actor's face from a lens at eye height when
#: the sightline crosses it: the chin's height (0.13 of 1.75 m below the top).
FACE_HEIGHT_M = 1.52
# Windows tried per walk of the actor (a start every eighth of it).
_WINDOWS_PER_WALK = 8


@dataclass(frozen=True)
class StagedTake:
    """A planned take on the simulated stage: ``rig`` (the profile to run), the plan times (s) of
    the shot's first and last keys (its first repeat), the repeat period (s), the crew's line with
    the stage's figures, and ``shot`` (the module docstring)."""

    take: PlannedTake
    seed: int
    rig: RigConfig
    start_s: float
    end_s: float
    period_s: float
    instruction: str
    shot: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "shot", MappingProxyType(dict(self.shot)))

    @property
    def shot_keys(self) -> List[ShotKeyframe]:
        """The keys of the shot itself (the profile's shot also holds the way back to its start)."""
        return list(self.rig.stage.shot[: int(self.shot["keys"])])

    def window(self, repeat: int = 0) -> Tuple[float, float]:
        """Plan times (s) of the first and last key of repeat number ``repeat`` (0: the first)."""
        return self.start_s + repeat * self.period_s, self.end_s + repeat * self.period_s

    def document(self, repeat: int = 0) -> Dict[str, Any]:
        """The take's ``plan`` object for ``take.json``: the planned take with this seed and
        instruction, plus ``shot`` (its ``plan_time_s`` those of the repeat recorded)."""
        doc = self.take.to_document(self.seed, self.instruction)
        start, end = self.window(repeat)
        doc["shot"] = dict(self.shot, plan_time_s=[round(start, 3), round(end, 3)], repeat=int(repeat))
        return doc


def zoom_range_mm(rig: RigConfig) -> Tuple[float, float]:
    """The focal lengths (mm) the rig's lens table spans (its first telemetry feed's); the sim
    stage's zoom when the rig has none."""
    if not rig.telemetry:
        return TAKE_LENS_MM
    table = rig.telemetry[0].lens.focal_length_mm
    return float(min(table)), float(max(table))


def _keys_range(keys: List[ShotKeyframe], name: str) -> List[float]:
    values = [float(getattr(k, name)) for k in keys]
    return [round(min(values), 3), round(max(values), 3)]


def _lens_height_m(stage: StageConfig, crane_lift_deg: float) -> float:
    """Height of the lens above the floor (m) with the crane lifted ``crane_lift_deg``."""
    arm = float(stage.crane_arm_m) * math.sin(math.radians(crane_lift_deg))
    return float(stage.track_origin_m[2]) + float(stage.crane_pivot_height_m) + arm


def _eye_distance_m(stage: StageConfig, key: ShotKeyframe) -> Tuple[float, float]:
    """(horizontal distance, height of the eyes above the lens), m, of a key whose focus is on the eyes."""
    rise = EYE_HEIGHT_M - _lens_height_m(stage, key.crane_lift_deg)
    return math.sqrt(max(key.focus_distance_m ** 2 - rise ** 2, 0.0)), rise


def hidden_keys(stage: StageConfig, keys: List[ShotKeyframe], actor: int) -> List[bool]:
    """For each key, whether the sightline from the lens to actor number ``actor``'s axis crosses
    another actor or a piece of dressing at least :data:`FACE_HEIGHT_M` tall (their bounding
    circles on the floor, so a near miss counts as hidden): ``stage``'s own layout (its seed)."""
    from sensors.sim.actors import ACTOR_RADIUS_M, actor_poses, generate_actors
    from sensors.sim.dressing import generate_dressing
    from sensors.sim.layout import segment_distance
    from sensors.sim.stage import stage_rngs

    rng_actors, rng_dressing = stage_rngs(stage.seed)
    actors = generate_actors(stage, rng_actors)
    dressing = generate_dressing(stage, rng_dressing, keep_clear=[a.path.footprint() for a in actors])
    tall = [p.footprint() for p in dressing if p.size_m[2] >= FACE_HEIGHT_M]
    heading = math.radians(stage.track_heading_deg)
    along = (math.cos(heading), math.sin(heading))
    origin = stage.track_origin_m
    hidden = []
    for key in keys:
        reach = key.dolly_m + float(stage.crane_arm_m) * math.cos(math.radians(key.crane_lift_deg))
        lens = (origin[0] + reach * along[0], origin[1] + reach * along[1])
        subject = actor_poses(actors[actor].path, float(key.t_s))[0][:2]
        blocked = any(segment_distance(lens, subject, c.a_xy, c.b_xy) < c.radius_m for c in tall)
        for other, person in enumerate(actors):
            if other != actor and not blocked:
                where = actor_poses(person.path, float(key.t_s))[0][:2]
                blocked = segment_distance(lens, subject, where, where) < 2.0 * ACTOR_RADIUS_M
        hidden.append(bool(blocked))
    return hidden


def _framed(size: str, stage: StageConfig, actor: int, rig: RigConfig, duration_s: float,
            after_s: float) -> Tuple[StageConfig, List[ShotKeyframe], bool, int]:
    """``(stage, keys, by_take, hidden keys)`` of the best window at or after ``after_s`` (module
    docstring): ``framing_take``'s windows, then ``framing_plan``'s (``by_take`` False), the first
    with the actor in sight within the zoom; else the actor in sight on a longer lens; else the
    fewest hidden keys, within the zoom first."""
    # The search costs up to a few seconds for a size the zoom cannot hold; a focal sweep asks for
    # the same one eight times.
    found = _framed_search(size, stage.model_dump_json(), int(actor), rig.camera.model_dump_json(),
                           zoom_range_mm(rig), float(duration_s), float(after_s))
    take_stage, keys, by_take, hidden = found
    return take_stage, list(keys), by_take, hidden


@functools.lru_cache(maxsize=64)
def _framed_search(size: str, stage_json: str, actor: int, camera_json: str, zoom_mm: Tuple[float, float],
                   duration_s: float, after_s: float) -> Tuple[StageConfig, tuple, bool, int]:
    """:func:`_framed` of a stage and camera given as JSON (hashable), its keys as a tuple."""
    from sensors.sim.actors import generate_actors
    from sensors.sim.stage import stage_rngs

    stage = StageConfig.model_validate_json(stage_json)
    camera = CameraConfig.model_validate_json(camera_json)
    path = generate_actors(stage, stage_rngs(stage.seed)[0])[actor].path
    period_s = path.length_m / max(path.speed_mps, 1e-9)
    starts = [after_s + k * period_s / _WINDOWS_PER_WALK for k in range(_WINDOWS_PER_WALK)]
    lo, hi = zoom_mm
    best: Optional[Tuple[tuple, StageConfig, List[ShotKeyframe], bool]] = None
    problem = "no window found"
    for by_take in (True, False):
        for order, start in enumerate(starts):
            try:
                if by_take:
                    take_stage, keys = framing_take(size, stage, actor, duration_s=duration_s, start_s=start,
                                                    camera=camera)
                else:
                    span_start, _ = reachable_span(size, stage, actor, duration_s=duration_s, after_s=start,
                                                   camera=camera)
                    take_stage = stage.model_copy()
                    keys = framing_plan(size, stage, actor, duration_s=duration_s, start_s=span_start,
                                        camera=camera)
            except ValueError as err:
                problem = str(err)
                continue
            hidden = sum(hidden_keys(take_stage, keys, actor))
            f_lo, f_hi = _keys_range(keys, "focal_length_mm")
            longer = not (lo <= f_lo and f_hi <= hi)
            if hidden == 0 and not longer:
                return take_stage, tuple(keys), by_take, 0
            rank = (hidden > 0, longer, hidden, not by_take, order)
            if best is None or rank < best[0]:
                best = (rank, take_stage, keys, by_take)
    if best is None:
        raise PlanTakeError(f"{size} on actor {actor} cannot be framed on stage seed {stage.seed}: {problem}")
    return best[1], tuple(best[2]), best[3], best[0][2]


def _with_lens(rig: RigConfig, keys: List[ShotKeyframe]) -> Tuple[RigConfig, Tuple[float, float]]:
    """The rig with its lens tables widened to the keys' focal lengths where they leave the zoom."""
    lo, hi = zoom_range_mm(rig)
    need_lo, need_hi = (float(v) for v in _keys_range(keys, "focal_length_mm"))
    if lo <= need_lo and need_hi <= hi:
        return rig, (lo, hi)
    lo = min(lo, math.floor(need_lo))
    hi = max(hi, _LENS_STEP_MM * math.ceil(need_hi / _LENS_STEP_MM))
    telemetry = []
    for feed in rig.telemetry:
        lens = LensCalibrationConfig(zoom_raw=[0, 65535], focal_length_mm=[lo, hi],
                                     focus_raw=list(feed.lens.focus_raw), focus_distance_m=list(feed.lens.focus_distance_m))
        telemetry.append(feed.model_copy(update={"lens": lens}))
    return rig.model_copy(update={"telemetry": telemetry}), (lo, hi)


class _Staged(NamedTuple):
    """What a parameter's stager makes of a take: the stage, the shot, the rig, the crew's line,
    the figures for ``shot`` and the actor the take follows (None: none)."""

    stage: StageConfig
    keys: List[ShotKeyframe]
    rig: RigConfig
    words: str
    extra: Dict[str, Any]
    walker: Optional[int]


def _focal(take: PlannedTake, rig: RigConfig, stage: StageConfig, lead_s: float) -> _Staged:
    focal = float(take.value)
    lo, hi = zoom_range_mm(rig)
    if not lo <= focal <= hi:
        raise PlanTakeError(f"{take.plan} take {take.index}: {focal:g} mm is outside the rig's zoom, {lo:g}-{hi:g} mm")
    actor = int(take.fixed["actor"])
    take_stage, framing, _, _ = _framed("FS", stage, actor, rig, take.duration_s, lead_s)
    middle = framing[len(framing) // 2]
    distance, rise = _eye_distance_m(take_stage, middle)
    hold = dict(dolly_m=middle.dolly_m, crane_lift_deg=middle.crane_lift_deg, pan_deg=middle.pan_deg,
                tilt_deg=math.degrees(math.atan2(rise, distance)), focal_length_mm=focal,
                focus_distance_m=middle.focus_distance_m)
    keys = [ShotKeyframe(t_s=framing[0].t_s, **hold), ShotKeyframe(t_s=framing[-1].t_s, **hold)]
    words = (f"static, {focal:g} mm, lens level at eye height on actor {actor}'s eyes as it walks past "
             f"{distance:.1f} m away, {take.duration_s:g} s")
    return _Staged(take_stage, keys, rig, words, {"distance_m": round(distance, 3)}, actor)


def _movement(take: PlannedTake, rig: RigConfig, stage: StageConfig, lead_s: float) -> _Staged:
    kind = str(take.value)
    duration = take.duration_s
    try:
        if kind == HANDHELD:
            keys = handheld_plan(stage, seed=stage.seed, duration_s=duration, start_s=lead_s)
        elif kind == FOCUS_PULL:
            keys = focus_pull_plan(stage, from_m=float(take.settings["focus_from_m"]),
                                   to_m=float(take.settings["focus_to_m"]), duration_s=duration, start_s=lead_s)
        elif kind in MOVEMENTS:
            keys = movement_plan(kind, stage, speed=take.settings.get("speed"), duration_s=duration, start_s=lead_s)
        else:
            raise PlanTakeError(f"{take.plan} take {take.index}: no shot plan for movement {kind!r}")
    except ValueError as err:
        if isinstance(err, PlanTakeError):
            raise
        raise PlanTakeError(f"{take.plan} take {take.index} ({kind}) cannot be shot on this stage: {err}") from err
    return _Staged(stage.model_copy(), keys, rig, take.instruction, {}, None)


def _framing(take: PlannedTake, rig: RigConfig, stage: StageConfig, lead_s: float) -> _Staged:
    size, actor = str(take.value), int(take.fixed["actor"])
    take_stage, keys, _, hidden = _framed(size, stage, actor, rig, take.duration_s, lead_s)
    zoom = zoom_range_mm(rig)
    rig, lens = _with_lens(rig, keys)
    distances = [_eye_distance_m(take_stage, k)[0] for k in keys]
    d_lo, d_hi = min(distances), max(distances)
    f_lo, f_hi = _keys_range(keys, "focal_length_mm")
    dolly = _keys_range(keys, "dolly_m")
    followed = dolly[1] - dolly[0] > 1e-3  # framing_take parks the dolly for a WS too
    how = "dolly following" if followed else "dolly parked, pan and tilt following"
    longer = "" if lens == zoom else f" on a {lens[0]:g}-{lens[1]:g} mm lens"
    words = (f"{size} on actor {actor} at {d_lo:.1f}-{d_hi:.1f} m, {f_lo:.0f}-{f_hi:.0f} mm{longer}, {how}, "
             f"{take.duration_s:g} s")
    extra = {"distance_m": [round(d_lo, 3), round(d_hi, 3)], "followed": followed, "hidden_keys": hidden}
    return _Staged(take_stage, keys, rig, words, extra, actor)


_STAGERS: Mapping[str, Callable[[PlannedTake, RigConfig, StageConfig, float], _Staged]] = MappingProxyType(
    {"focal_length_mm": _focal, "movement": _movement, "shot_size": _framing}
)


def stage_take(take: PlannedTake, rig: RigConfig, seed: Optional[int] = None, *,
               lead_s: float = DEFAULT_LEAD_S) -> StagedTake:
    """The simulated stage's profile for ``take`` on stage seed ``seed`` (None: the profile's own)
    with the shot beginning at plan time ``lead_s`` (s) or later (module docstring). Raises
    :class:`PlanTakeError` for a profile that is not simulated, a parameter with no stage shot, or
    a take the stage cannot shoot (the message names the take and why)."""
    if not rig.simulated:
        raise PlanTakeError(f"the profile {rig.name!r} is a real rig (simulated: false): a plan runs on the "
                            f"simulated stage; on a real stage the crew shoots it (onset plan show)")
    if take.parameter not in _STAGERS:
        raise PlanTakeError(f"{take.plan} take {take.index} varies {take.parameter!r}: the stage shoots "
                            f"{', '.join(_STAGERS)}")
    lead = float(lead_s)
    if not (math.isfinite(lead) and lead >= 0.0):
        raise PlanTakeError(f"lead_s must be a plan time >= 0 s, got {lead_s!r}")
    chosen = rig.stage.seed if seed is None else int(seed)
    stage = rig.stage.model_copy(update={"seed": chosen})
    staged = _STAGERS[take.parameter](take, rig, stage, lead)
    keys = staged.keys
    walk_s = None if staged.walker is None else _walk_period_s(staged.stage, staged.walker)
    looped, period_s = _repeating(keys, walk_s)
    played = staged.stage.model_copy(update={"seed": chosen, "shot": looped, "loop": True})
    take_rig = staged.rig.model_copy(update={"stage": StageConfig.model_validate(played.model_dump())})
    start_s, end_s = float(keys[0].t_s), float(keys[-1].t_s)
    shot = {
        "plan_time_s": [round(start_s, 3), round(end_s, 3)],
        "period_s": round(period_s, 6),
        "keys": len(keys),
        "focal_length_mm": _keys_range(keys, "focal_length_mm"),
        "focus_distance_m": _keys_range(keys, "focus_distance_m"),
        "lens_mm": list(zoom_range_mm(take_rig)),
        **staged.extra,
    }
    return StagedTake(take=take, seed=chosen, rig=take_rig, start_s=start_s, end_s=end_s, period_s=period_s,
                      instruction=staged.words, shot=shot)


def _walk_period_s(stage: StageConfig, actor: int) -> float:
    """Seconds actor number ``actor`` of ``stage`` takes to walk its loop once."""
    from sensors.sim.actors import generate_actors
    from sensors.sim.stage import stage_rngs

    path = generate_actors(stage, stage_rngs(stage.seed)[0])[actor].path
    return path.length_m / max(path.speed_mps, 1e-9)


def _repeating(keys: List[ShotKeyframe], walk_s: Optional[float]) -> Tuple[List[ShotKeyframe], float]:
    """The shot's keys with the hold, the way back and the hold before it starts over (module
    docstring), and the period (s): a whole number of ``walk_s`` when given."""
    first, last = keys[0], keys[-1]
    least_s = (last.t_s - first.t_s) + 2.0 * REPEAT_HOLD_S + REPEAT_RETURN_S
    period_s = least_s if walk_s is None else walk_s * math.ceil(least_s / walk_s - 1e-9)
    back = [
        last.model_copy(update={"t_s": last.t_s + REPEAT_HOLD_S}),
        first.model_copy(update={"t_s": first.t_s + period_s - REPEAT_HOLD_S}),
        first.model_copy(update={"t_s": first.t_s + period_s}),
    ]
    return [*keys, *back], period_s
