"""A query as a capture plan: the takes the simulated stage shoots for what a phrase asks.

The stage shoots three kinds of take (``edge/plans/sim.py``), each varying one parameter as the
catalogue's sweeps do (``edge/plans/catalogue.py``), and :func:`plan_from_query` makes one take
per distinct value the query asks for, of the kind that shoots it:

- **shot sizes**: a framing take per size (tightest first) on actor ``actor``, the rig following
  it (the framing sweep's take: the dolly along the track, pan and tilt holding the size);
- otherwise **movements** (or a pace or speed alone: every movement with a speed): a movement
  take per class (the movement sweep's: from the track's middle, the lens at
  :data:`~edge.plans.catalogue.MOVEMENT_FOCAL_MM`), at the default speed of
  ``sensors/sim/shots.py`` when the query allows it, else at the middle of the speeds it allows
  (from the label's static threshold up; an open range is taken up to twice its low end);
- otherwise **focal lengths** (alone, or with "static"): a static take on actor ``actor`` per
  focal length of the focal sweep (:data:`~edge.plans.catalogue.FOCAL_LENGTHS_MM`) in the range,
  or the range's middle when none is;
- otherwise a **distance** alone: a framing take per size framed within it.

On a simulated profile every take is staged (:func:`~edge.plans.sim.stage_take`, the stage seed
given or the profile's) and checked against what the stage would shoot: the subject's distance
and the focal lengths over the take must lie within the query's ranges. On a real rig's profile
the crew shoots the plan, and the takes are checked against what it sets (the working distance of
each size, the focal length that frames it there).

**What the stage cannot shoot** (refused with :class:`~.errors.UnshootableError`, every reason
listed): a shot size together with a movement (a size is held by following the actor, a movement
is shot with no subject framed); a distance with a movement (no subject); a focal length with a
movement other than the one its takes are shot at; a frame without a subject on a stage with
actors; a movement the labels call missing; a speed or a zoom past the stage's track, crane or
lens; and any take whose staged distance or focal lengths fall outside the query's ranges.
"""

from __future__ import annotations

import dataclasses
import math
from typing import List, NamedTuple, Optional, Sequence, Tuple

from config.models import RigConfig
from edge.plans.catalogue import FOCAL_LENGTHS_MM, FOCAL_SWEEP_ACTOR, MOVEMENT_FOCAL_MM, plan_takes
from edge.plans.errors import PlanTakeError
from edge.plans.sim import stage_take, zoom_range_mm
from edge.plans.types import FOCAL_SWEEP, FRAMING_SWEEP, MOVEMENT_SWEEP, PlannedTake
from engines.captioner.lens import crop_factor
from engines.captioner.movement import MovementClass
from engines.captioner.shot_size import ShotSize
from sensors.sim.framing import TAKE_DISTANCES_M
from sensors.sim.shots import DEFAULT_DURATION_S, DEFAULT_SPEEDS
from studio_sync.vocabulary.errors import UnshootableError
from studio_sync.vocabulary.lexicon import MOVING_FROM
from studio_sync.vocabulary.query import SPEED_UNIT_OF, Range, ShotQuery, SpeedRange, number_text

__all__ = ["DESCRIBED", "plan_from_query"]

#: The plan name of every take :func:`plan_from_query` makes (the takes' scene is ``described-s<seed>``).
DESCRIBED = "described"
# An open speed range is planned up to this many times its low end.
_OPEN_SPAN = 2.0


class _Context(NamedTuple):
    query: ShotQuery
    rig: RigConfig
    seed: Optional[int]
    actor: int
    duration_s: float
    crop: float


class _Problem(NamedTuple):
    field: str  # the ShotQuery field the reason is about (its words are named)
    text: str


def _words(query: ShotQuery, field: str) -> str:
    texts = [f'"{r.text}"' for r in query.readings if field in r.fields]
    return " and ".join(texts) if texts else query.describe_field(field)


def _within(inner: Range, outer: Range) -> bool:
    return outer.low <= inner.low and inner.high <= outer.high


def _span(value) -> Range:
    """A staged figure (one number or ``[low, high]``) as a range."""
    if isinstance(value, (list, tuple)):
        return Range(float(min(value)), float(max(value)))
    return Range(float(value), float(value))


def _lens_mm(ctx: _Context) -> Tuple[Optional[Range], Optional[_Problem]]:
    """The lens's own focal lengths (mm) both focal filters allow on this camera, or None for no filter."""
    q = ctx.query
    lens = q.focal_mm
    if q.focal_35mm_mm is not None:
        own = Range(q.focal_35mm_mm.low / ctx.crop, q.focal_35mm_mm.high / ctx.crop)
        lens = own if lens is None else lens.intersect(own)
        if lens is None:
            return None, _Problem("focal_mm", f"{_words(q, 'focal_mm')} and {_words(q, 'focal_35mm_mm')} leave no "
                                              f"focal length on a {ctx.crop:.3g}x crop camera")
    return lens, None


def _staged_figures(ctx: _Context, take: PlannedTake) -> Tuple[Optional[Range], Optional[Range], str]:
    """(subject distance m, focal lengths mm, where) of a take: as the simulated stage shoots it, or
    as the crew sets it on a real rig (None: no set distance or focal length)."""
    if ctx.rig.simulated:
        staged = stage_take(take, ctx.rig, ctx.seed)
        distance = staged.shot.get("distance_m")
        return (None if distance is None else _span(distance), _span(staged.shot["focal_length_mm"]),
                f"on stage seed {staged.seed}")
    if take.parameter == "focal_length_mm":  # the rig parked where a full shot frames the actor
        distance, focal = TAKE_DISTANCES_M["FS"], take.value
    else:
        distance, focal = take.settings.get("distance_m"), take.settings.get("focal_length_mm")
    return (None if distance is None else _span(distance), None if focal is None else _span(focal),
            "as the crew sets it")


def _check_figures(ctx: _Context, take: PlannedTake, what: str) -> List[_Problem]:
    """What of a framing or focal take falls outside the query's distance and focal ranges."""
    q = ctx.query
    lens, problem = _lens_mm(ctx)
    if q.distance_m is None and lens is None:
        return [problem] if problem else []
    try:
        distance, focal, where = _staged_figures(ctx, take)
    except PlanTakeError as err:
        return [_Problem("shot_sizes", f"{what} cannot be staged: {err}")]
    problems = [problem] if problem else []
    if q.distance_m is not None:
        if distance is None:
            problems.append(_Problem("distance_m", f"{what} is shot at no set distance ({where}), not "
                                                   f"{_words(q, 'distance_m')} ({q.distance_m.describe('m')})"))
        elif not _within(distance, q.distance_m):
            problems.append(_Problem("distance_m", f"{what} is framed from {distance.describe('m')} {where}, not "
                                                   f"{_words(q, 'distance_m')} ({q.distance_m.describe('m')})"))
    if lens is not None:
        field = "focal_mm" if q.focal_mm is not None else "focal_35mm_mm"
        if focal is None:
            problems.append(_Problem(field, f"{what} is shot at no set focal length ({where})"))
        elif not _within(focal, lens):
            problems.append(_Problem(field, f"{what} is framed on {focal.describe('mm')} {where}, not "
                                            f"{_words(q, field)} ({lens.describe('mm')} on this camera)"))
    return problems


def _framing(ctx: _Context, sizes: Sequence[ShotSize]) -> List[Tuple[PlannedTake, List[_Problem]]]:
    """Each size's framing take on the actor, and what of the query it does not meet."""
    catalogue = plan_takes(FRAMING_SWEEP, actor_count=ctx.rig.stage.actor_count, camera=ctx.rig.camera,
                           duration_s=ctx.duration_s)
    out = []
    for size in sizes:
        take = next(t for t in catalogue if t.fixed["actor"] == ctx.actor and t.value == size.value)
        take = dataclasses.replace(take, plan=DESCRIBED, index=len(out))
        out.append((take, _check_figures(ctx, take, f"{size.value} on actor {ctx.actor}")))
    return out


def _speed_for(kind: MovementClass, speed: Optional[SpeedRange]) -> Tuple[Optional[float], Optional[str]]:
    """The speed a movement take is shot at (module docstring) in the class's unit, or why none fits."""
    default = DEFAULT_SPEEDS.get(kind.value)
    unit = SPEED_UNIT_OF[kind]
    if speed is None or unit is None:
        return default, None
    allowed = speed.for_unit(unit)
    if allowed is None:
        return None, f"{kind.value} is measured in {unit}, and the speed asked is in {', '.join(speed.ranges())}"
    if default is not None and default in allowed:
        return default, None
    low = max(allowed.low, MOVING_FROM[unit])
    high = allowed.high if math.isfinite(allowed.high) else _OPEN_SPAN * low
    if high < low:
        return None, (f"{kind.value} under {number_text(MOVING_FROM[unit])} {unit} is labelled static: "
                      f"{allowed.describe(unit)} cannot be shot as a move")
    return float(number_text(0.5 * (low + high))), None


def _movement(ctx: _Context, kinds: Sequence[MovementClass]) -> Tuple[List[PlannedTake], List[_Problem]]:
    q = ctx.query
    problems: List[_Problem] = []
    if q.distance_m is not None:
        problems.append(_Problem("distance_m", f"{_words(q, 'distance_m')}: a movement take frames no subject "
                                               f"(the set ahead, from the track's middle)"))
    lens, problem = _lens_mm(ctx)
    if problem is not None:
        problems.append(problem)
    elif lens is not None and MOVEMENT_FOCAL_MM not in lens:
        field = "focal_mm" if q.focal_mm is not None else "focal_35mm_mm"
        problems.append(_Problem(field, f"{_words(q, field)}: movement takes are shot at {MOVEMENT_FOCAL_MM:g} mm "
                                        f"(a zoom from it), not {lens.describe('mm')}"))
    catalogue = {t.value: t for t in plan_takes(MOVEMENT_SWEEP, actor_count=ctx.rig.stage.actor_count,
                                                camera=ctx.rig.camera, duration_s=ctx.duration_s)}
    takes = []
    for kind in kinds:
        if kind.value not in catalogue:
            problems.append(_Problem("movements", f"{kind.value}: the stage shoots movements, not a label that "
                                                  f"could not be measured"))
            continue
        template = catalogue[kind.value]
        speed, why = _speed_for(kind, q.speed)
        if why is not None:
            problems.append(_Problem("speed", f"{_words(q, 'speed')}: {why}"))
            continue
        settings = dict(template.settings)
        instruction = template.instruction
        if speed is not None and speed != settings.get("speed"):
            settings["speed"] = speed
            instruction = (f"{kind.value.replace('_', ' ')} at {speed:g} {settings['speed_unit']}, "
                           f"{MOVEMENT_FOCAL_MM:g} mm, from the track's middle, {ctx.duration_s:g} s rest to rest")
        take = dataclasses.replace(template, plan=DESCRIBED, index=len(takes), settings=settings,
                                   instruction=instruction)
        problems += _movement_problems(ctx, take)
        takes.append(take)
    return takes, problems


def _movement_problems(ctx: _Context, take: PlannedTake) -> List[_Problem]:
    """Whether the stage can shoot a movement take: its track, crane and head (simulated profiles)."""
    if not ctx.rig.simulated:
        return []
    try:
        staged = stage_take(take, ctx.rig, ctx.seed)
    except PlanTakeError as err:
        speed = take.settings.get("speed")
        at = "" if speed is None else f" at {speed:g} {take.settings['speed_unit']}"
        return [_Problem("movements", f"{take.value_text}{at}: {err}")]
    focal, lens = _span(staged.shot["focal_length_mm"]), _span(staged.shot["lens_mm"])
    if not _within(focal, lens):
        return [_Problem("movements", f"{take.value_text} runs the zoom over {focal.describe('mm')}, the lens "
                                      f"spans {lens.describe('mm')}")]
    return []


def _focal(ctx: _Context, lens: Range) -> Tuple[List[PlannedTake], List[_Problem]]:
    template = plan_takes(FOCAL_SWEEP, actor_count=ctx.rig.stage.actor_count, camera=ctx.rig.camera,
                          duration_s=ctx.duration_s)[0]
    zoom = Range(*zoom_range_mm(ctx.rig))
    values = [f for f in FOCAL_LENGTHS_MM if f in lens]
    if not values:
        low, high = max(lens.low, zoom.low), min(lens.high, zoom.high)
        values = [float(number_text(math.sqrt(low * high)))] if low <= high else []
    values = [f for f in values if f in zoom]
    if not values:
        field = "focal_mm" if ctx.query.focal_mm is not None else "focal_35mm_mm"
        return [], [_Problem(field, f"{_words(ctx.query, field)}: {lens.describe('mm')} on this camera is outside "
                                    f"the rig's zoom, {zoom.describe('mm')}")]
    takes, problems = [], []
    for focal in values:
        take = dataclasses.replace(
            template, plan=DESCRIBED, index=len(takes), value=float(focal),
            fixed=dict(template.fixed, actor=ctx.actor),
            instruction=f"static, {focal:g} mm, lens level at eye height on actor {ctx.actor}'s eyes as it walks "
                        f"past, {ctx.duration_s:g} s")
        takes.append(take)
        problems += _check_figures(ctx, take, f"{focal:g} mm on actor {ctx.actor}")
    return takes, problems


def _kind(query: ShotQuery, sizes: Sequence[ShotSize], lens: Optional[Range]) -> str:
    """Which takes shoot the query (the module docstring): framing, movement, focal or distance."""
    if sizes:
        return "framing"
    if query.movements - {MovementClass.STATIC} or query.speed is not None or ShotSize.NONE in query.shot_sizes:
        return "movement"
    if lens is not None:  # alone, or with static
        return "focal"
    return "movement" if query.movements else "distance"


def _plan(ctx: _Context) -> Tuple[List[PlannedTake], List[_Problem]]:
    q = ctx.query
    actors = ctx.rig.stage.actor_count
    sizes = [s for s in ShotSize if s in q.shot_sizes and s is not ShotSize.NONE]
    lens, _ = _lens_mm(ctx)
    kind = _kind(q, sizes, lens)
    problems: List[_Problem] = []
    if ShotSize.NONE in q.shot_sizes and actors > 0:
        problems.append(_Problem("shot_sizes", f"{_words(q, 'shot_sizes')}: the stage's {actors} actors walk its set "
                                               f"all take long, so a frame without them cannot be promised (a "
                                               f"profile whose stage has actor_count 0 can)"))
    if kind != "movement" and not 0 <= ctx.actor < actors:
        numbered = f"numbered 0..{actors - 1}" if actors else "none"
        problems.append(_Problem("shot_sizes", f"the takes frame actor {ctx.actor}; the stage's actors: {numbered}"))
        return [], problems
    if kind == "framing":
        if q.movements or q.speed is not None:
            field = "movements" if q.movements else "speed"
            problems.append(_Problem(field, f"{_words(q, 'shot_sizes')} with {_words(q, field)}: the stage holds a "
                                            f"shot size by following the actor (dolly, pan and tilt keep the size) "
                                            f"and shoots a movement from the track's middle with no subject framed; "
                                            f"ask for one or the other"))
        framed = _framing(ctx, sizes)
        return [t for t, _ in framed], problems + [p for _, found in framed for p in found]
    if kind == "movement":
        kinds = [m for m in MovementClass if m in q.movements]
        if not kinds and q.speed is not None:  # a pace alone: every movement with a speed
            kinds = [m for m in MovementClass if q.speed.for_unit(SPEED_UNIT_OF[m]) is not None]
        takes, found = _movement(ctx, kinds or [MovementClass.STATIC])
        return takes, problems + found
    if kind == "focal":
        takes, found = _focal(ctx, lens)
        return takes, problems + found
    framed = _framing(ctx, [s for s in ShotSize if s is not ShotSize.NONE])
    kept = [t for t, found in framed if not found]
    if not kept:  # every size's reason
        problems += [p for _, found in framed for p in found]
    return kept, problems


def plan_from_query(query: ShotQuery, rig: RigConfig, *, seed: Optional[int] = None, actor: int = FOCAL_SWEEP_ACTOR,
                    duration_s: float = DEFAULT_DURATION_S) -> List[PlannedTake]:
    """The capture plan that shoots what ``query`` asks on ``rig``'s stage (the module docstring):
    :class:`~edge.plans.types.PlannedTake` objects of plan :data:`DESCRIBED`, numbered from 0,
    each holding the phrase in ``fixed``. ``seed``: the stage seed the takes are checked on (None:
    the profile's); ``actor``: the actor framed (0-based); ``duration_s``: each take's length, s.

    Raises :class:`~.errors.UnshootableError` listing what the stage cannot shoot, and
    :class:`~edge.plans.errors.PlanTakeError` for a length too short for the takes."""
    ctx = _Context(query, rig, seed, int(actor), float(duration_s),
                   crop_factor(float(rig.camera.intrinsics.sensor_width_mm)))
    if query.empty:
        raise UnshootableError("an empty query asks for no take in particular", phrase=query.phrase)
    takes, problems = _plan(ctx)
    problems = list(dict.fromkeys(problems))  # one reason per take may repeat
    if problems:
        first = next((r for r in query.readings if problems[0].field in r.fields),
                     query.readings[0] if query.readings else None)
        where = {"word": first.text, "position": first.position} if first is not None else {}
        stage = "the simulated stage" if rig.simulated else f"a crew on {rig.name!r}"
        raise UnshootableError(f'{stage} cannot shoot "{query.phrase or "the query"}" as a capture plan:',
                               problems=[p.text for p in problems], phrase=query.phrase, **where)
    return [dataclasses.replace(t, plan=DESCRIBED, index=i, fixed=dict(t.fixed, phrase=query.phrase))
            for i, t in enumerate(takes)]
