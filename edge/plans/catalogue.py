"""The capture-plan catalogue: take series that vary one cinematic parameter, the rest held fixed.

The captioner learns what a focal length, a movement or a shot size looks like from takes that
differ in that alone (the controlled capture of ``docs/captioner.md``). Each plan is a list of
:class:`~edge.plans.types.PlannedTake` in the order it is shot:

- ``focal-sweep``: the parameter is ``focal_length_mm`` (:data:`FOCAL_LENGTHS_MM`, across the
  zoom); fixed: a static camera, the lens level at the eye height of actor 0, aimed at its eyes as
  it walks past, and the take's length;
- ``movement-sweep``: the parameter is ``movement``, every shot plan of ``sensors/sim/shots.py``
  (:data:`~sensors.sim.shots.SHOT_KINDS`: the 14 movement classes, handheld shake and a focus
  pull), each at its default speed (``settings``); fixed: :data:`MOVEMENT_FOCAL_MM` at the start,
  the rig at rest at the track's middle looking along it (the trucks square to it), the length;
- ``framing-sweep``: the parameter is ``shot_size`` (:data:`~sensors.sim.framing.SIZES`, tightest
  first) on each actor in turn, held as an operator holds it (``sensors/sim/framing.py``: the
  dolly follows the actor, pan and tilt keep the size); fixed per actor: the subject, the way the
  rig follows, the lens at eye height, the length; ``settings``: the distance an operator works
  at for the size (:data:`~sensors.sim.framing.TAKE_DISTANCES_M`) and the focal length that
  frames it there (:func:`approximate_focal_mm`);
- ``full``: the three, one after the other; each take keeps its own plan's name and index.

Nothing here needs the simulated stage: the catalogue is what a crew reads (``onset plan show``);
:mod:`edge.plans.sim` turns a take into the stage's shot.
"""

from __future__ import annotations

import math
from types import MappingProxyType
from typing import Callable, Dict, List, Mapping, Optional

from config.models import CameraConfig
from edge.plans.errors import PlanTakeError, UnknownPlanError
from edge.plans.types import FOCAL_SWEEP, FRAMING_SWEEP, FULL, MOVEMENT_SWEEP, PLAN_NAMES, PlannedTake
from sensors.sim.framing import EYE_HEIGHT_M, FRAMINGS, SIZES, TAKE_DISTANCES_M
from sensors.sim.shots import (
    DEFAULT_DURATION_S,
    DEFAULT_SPEEDS,
    EASE_S,
    FOCUS_PULL,
    FOCUS_PULL_FROM_M,
    FOCUS_PULL_TO_M,
    HANDHELD,
    HANDHELD_ANGLE_RMS_DEG,
    HANDHELD_BAND_HZ,
    HANDHELD_POSITION_RMS_M,
    KEY_STEP_S,
    MIN_STEADY_S,
    SHOT_KINDS,
    SPEED_UNITS,
)

__all__ = [
    "PLAN_DESCRIPTIONS",
    "FOCAL_LENGTHS_MM",
    "FOCAL_SWEEP_ACTOR",
    "MOVEMENT_FOCAL_MM",
    "MIN_MOVE_S",
    "approximate_focal_mm",
    "plan_takes",
]

#: The focal lengths of ``focal-sweep``, mm: wide to long across a 15-300 mm zoom.
FOCAL_LENGTHS_MM = (18.0, 25.0, 35.0, 50.0, 75.0, 100.0, 135.0, 200.0)
#: The actor ``focal-sweep`` aims at (0-based).
FOCAL_SWEEP_ACTOR = 0
#: The focal length every ``movement-sweep`` take starts at, mm (the shot plans' lens).
MOVEMENT_FOCAL_MM = 35.0
#: Shortest take a movement can be shot in, s: eases at both ends and a constant-speed span.
MIN_MOVE_S = 2.0 * EASE_S + 2.0 * KEY_STEP_S + MIN_STEADY_S

#: One line per plan: what it shoots.
PLAN_DESCRIPTIONS: Mapping[str, str] = MappingProxyType(
    {
        FOCAL_SWEEP: "one static set-up on actor 0, the focal length stepped across the zoom",
        MOVEMENT_SWEEP: "every camera movement (handheld and a focus pull too) at one focal length from the track's middle",
        FRAMING_SWEEP: "every shot size on every actor, the dolly following the actor",
        FULL: "the focal, movement and framing sweeps, one after the other",
    }
)


def approximate_focal_mm(size: str, distance_m: float, camera: Optional[CameraConfig] = None) -> float:
    """The focal length (mm) that holds ``size`` on an actor ``distance_m`` (m) from a lens at eye
    height, to first order in the frame's angles (under 3 % short of the exact solve of
    ``sensors/sim/framing.py`` for the sizes' working distances; 6 % for a WS at 8 m): the frame's
    height at the actor spans the framing's two heights over their rows' share of it."""
    camera = camera if camera is not None else CameraConfig()
    framing = FRAMINGS[size]
    rows = (1.0 - framing.anchor_row) * camera.height_px  # px from the anchor's row to the lower edge
    span_m = framing.anchor_m - framing.lower_edge_m
    focal_px = float(distance_m) * rows / span_m
    return focal_px * float(camera.intrinsics.sensor_width_mm) / camera.width_px


def _check_duration(duration_s: float, least_s: float, plan: str) -> float:
    duration = float(duration_s)
    if not (math.isfinite(duration) and duration >= least_s):
        raise PlanTakeError(f"{plan} takes need a length of at least {least_s:.2f} s, got {duration_s!r} s")
    return duration


def _focal_sweep(actor_count: int, camera: CameraConfig, duration_s: float) -> List[PlannedTake]:
    if actor_count <= FOCAL_SWEEP_ACTOR:
        raise PlanTakeError(f"{FOCAL_SWEEP} aims at actor {FOCAL_SWEEP_ACTOR}: the stage has no actors")
    duration = _check_duration(duration_s, KEY_STEP_S, FOCAL_SWEEP)
    fixed = {
        "movement": "static",
        "actor": FOCAL_SWEEP_ACTOR,
        "aim": f"lens level at eye height ({EYE_HEIGHT_M} m), on the actor's eyes as it walks past",
        "duration_s": duration,
    }
    return [
        PlannedTake(
            plan=FOCAL_SWEEP, index=i, parameter="focal_length_mm", value=float(f), unit="mm",
            duration_s=duration, fixed=fixed,
            instruction=f"static, {f:g} mm, lens level at eye height on actor {FOCAL_SWEEP_ACTOR}'s eyes as it "
                        f"walks past, {duration:g} s",
        )
        for i, f in enumerate(FOCAL_LENGTHS_MM)
    ]


def _movement_words(kind: str, settings: Dict[str, object]) -> str:
    if kind == HANDHELD:
        lo, hi = HANDHELD_BAND_HZ
        return (f"handheld on the shoulder, shake about {HANDHELD_ANGLE_RMS_DEG:g} deg and "
                f"{1000 * HANDHELD_POSITION_RMS_M:g} mm RMS at {lo:g}-{hi:g} Hz")
    if kind == FOCUS_PULL:
        return f"static, focus pulled from {FOCUS_PULL_FROM_M:g} m to {FOCUS_PULL_TO_M:g} m"
    words = kind.replace("_", " ")
    if settings.get("speed") is None:
        return words
    return f"{words} at {settings['speed']:g} {settings['speed_unit']}"


def _movement_sweep(actor_count: int, camera: CameraConfig, duration_s: float) -> List[PlannedTake]:
    duration = _check_duration(duration_s, MIN_MOVE_S, MOVEMENT_SWEEP)
    fixed = {
        "focal_length_mm": MOVEMENT_FOCAL_MM,
        "position": "dolly at the track's middle, crane level",
        "aim": "along the track (trucks: square to it, to the right)",
        "subject": "the set ahead",
        "duration_s": duration,
    }
    takes = []
    for i, kind in enumerate(SHOT_KINDS):
        if kind == HANDHELD:
            settings: Dict[str, object] = {"shake_angle_rms_deg": HANDHELD_ANGLE_RMS_DEG,
                                           "shake_position_rms_m": HANDHELD_POSITION_RMS_M,
                                           "shake_band_hz": list(HANDHELD_BAND_HZ)}
        elif kind == FOCUS_PULL:
            settings = {"focus_from_m": FOCUS_PULL_FROM_M, "focus_to_m": FOCUS_PULL_TO_M}
        else:
            settings = {"speed": DEFAULT_SPEEDS[kind], "speed_unit": SPEED_UNITS[kind]}
        takes.append(PlannedTake(
            plan=MOVEMENT_SWEEP, index=i, parameter="movement", value=kind, unit=None, duration_s=duration,
            fixed=fixed, settings=settings,
            instruction=f"{_movement_words(kind, settings)}, {MOVEMENT_FOCAL_MM:g} mm, from the track's middle, "
                        f"{duration:g} s rest to rest",
        ))
    return takes


def _framing_sweep(actor_count: int, camera: CameraConfig, duration_s: float) -> List[PlannedTake]:
    if actor_count < 1:
        raise PlanTakeError(f"{FRAMING_SWEEP} frames the stage's actors: the stage has none")
    duration = _check_duration(duration_s, KEY_STEP_S, FRAMING_SWEEP)
    takes = []
    for actor in range(actor_count):
        fixed = {
            "actor": actor,
            "movement": "the rig following the actor: the dolly along the track (WS: parked), pan and tilt holding the size",
            "lens_height": f"eye height ({EYE_HEIGHT_M} m)",
            "duration_s": duration,
        }
        for size in SIZES:
            distance = TAKE_DISTANCES_M[size]
            if distance is None:
                settings: Dict[str, object] = {"distance_m": None, "focal_length_mm": None}
                where = "from the far end of the track, the figure a quarter of the frame's height, pan following"
            else:
                focal = round(approximate_focal_mm(size, distance, camera))
                settings = {"distance_m": distance, "focal_length_mm": float(focal)}
                where = f"at {distance:g} m, about {focal} mm, dolly following"
            takes.append(PlannedTake(
                plan=FRAMING_SWEEP, index=len(takes), parameter="shot_size", value=size, unit=None,
                duration_s=duration, fixed=fixed, settings=settings,
                instruction=f"{size} on actor {actor} {where}, {duration:g} s",
            ))
    return takes


_BUILDERS: Mapping[str, Callable[[int, CameraConfig, float], List[PlannedTake]]] = MappingProxyType(
    {FOCAL_SWEEP: _focal_sweep, MOVEMENT_SWEEP: _movement_sweep, FRAMING_SWEEP: _framing_sweep}
)


def plan_takes(
    name: str,
    *,
    actor_count: int = 2,
    camera: Optional[CameraConfig] = None,
    duration_s: float = DEFAULT_DURATION_S,
) -> List[PlannedTake]:
    """The takes of plan ``name`` (one of :data:`~edge.plans.types.PLAN_NAMES`), in shooting order.

    ``actor_count``: the actors on the stage (``framing-sweep`` frames each); ``camera``: the
    camera the approximate focal lengths are worked out for (None:
    :class:`~config.models.CameraConfig`'s defaults); ``duration_s``: each take's length, s.
    Raises :class:`UnknownPlanError` for a name not in the catalogue and :class:`PlanTakeError`
    for a length too short for the plan's takes or a stage without the actors it needs."""
    camera = camera if camera is not None else CameraConfig()
    if name == FULL:
        return [take for part in PLAN_NAMES if part != FULL
                for take in _BUILDERS[part](int(actor_count), camera, duration_s)]
    if name not in _BUILDERS:
        raise UnknownPlanError(f"no capture plan {name!r}: the plans are {', '.join(PLAN_NAMES)}")
    return _BUILDERS[name](int(actor_count), camera, duration_s)
