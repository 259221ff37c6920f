"""The plan catalogue: each plan varies one parameter, holds the rest fixed, and covers what it names."""

from __future__ import annotations

import json
import math

import pytest

from config import load_profile
from config.models import StageConfig
from edge.plans import (
    FOCAL_LENGTHS_MM,
    FOCAL_SWEEP,
    FRAMING_SWEEP,
    FULL,
    MIN_MOVE_S,
    MOVEMENT_SWEEP,
    PLAN_NAMES,
    PlanTakeError,
    UnknownPlanError,
    approximate_focal_mm,
    plan_takes,
)
from engines.captioner.movement import MovementClass
from sensors.sim.framing import EYE_HEIGHT_M, SIZES, TAKE_DISTANCES_M, framing_plan
from sensors.sim.shots import MOVEMENTS

SWEEPS = (FOCAL_SWEEP, MOVEMENT_SWEEP, FRAMING_SWEEP)


@pytest.fixture(scope="module")
def rig():
    return load_profile()


def _groups(takes):
    """Takes grouped by what they hold fixed (framing-sweep: one group per actor)."""
    groups: dict = {}
    for take in takes:
        groups.setdefault((take.plan, json.dumps(dict(take.fixed), sort_keys=True)), []).append(take)
    return groups


@pytest.mark.parametrize("name", SWEEPS)
def test_a_plan_varies_one_parameter_and_holds_the_rest(name, rig):
    takes = plan_takes(name, actor_count=rig.stage.actor_count, camera=rig.camera)
    assert [t.index for t in takes] == list(range(len(takes)))
    assert {t.plan for t in takes} == {name}
    assert len({t.parameter for t in takes}) == 1
    groups = _groups(takes)
    expected_groups = rig.stage.actor_count if name == FRAMING_SWEEP else 1
    assert len(groups) == expected_groups
    for group in groups.values():
        values = [t.value for t in group]
        assert len(set(values)) == len(values), "a value repeats within a sweep"
        assert len({t.unit for t in group}) == 1 and len({t.duration_s for t in group}) == 1


def test_the_focal_sweep_steps_across_the_zoom(rig):
    takes = plan_takes(FOCAL_SWEEP, camera=rig.camera)
    assert [t.value for t in takes] == list(FOCAL_LENGTHS_MM) and all(t.unit == "mm" for t in takes)
    assert takes[0].fixed["movement"] == "static" and takes[0].fixed["actor"] == 0
    table = rig.telemetry[0].lens.focal_length_mm
    assert min(table) <= min(FOCAL_LENGTHS_MM) and max(FOCAL_LENGTHS_MM) <= max(table)
    assert "static, 50 mm" in takes[FOCAL_LENGTHS_MM.index(50.0)].instruction


def test_the_movement_sweep_holds_every_movement_class_and_handheld(rig):
    takes = plan_takes(MOVEMENT_SWEEP, camera=rig.camera)
    values = [t.value for t in takes]
    assert set(MOVEMENTS) <= set(values)
    # Every class the captioner tells apart is shot (focus_pull reads as static).
    classes = {c.value for c in MovementClass} - {"missing"}
    assert classes <= set(values), classes - set(values)
    assert "focus_pull" in values
    for take in takes:
        if take.value in MOVEMENTS and take.value != "static":
            assert take.settings["speed"] > 0 and take.settings["speed_unit"] in take.instruction


def test_the_framing_sweep_frames_every_size_on_every_actor(rig):
    actors = 3
    takes = plan_takes(FRAMING_SWEEP, actor_count=actors, camera=rig.camera)
    assert {(t.value, t.fixed["actor"]) for t in takes} == {(s, a) for s in SIZES for a in range(actors)}
    assert len(takes) == len(SIZES) * actors
    for take in takes:
        assert take.settings["distance_m"] == TAKE_DISTANCES_M[take.value]
        assert take.value in take.instruction and f"actor {take.fixed['actor']}" in take.instruction


def test_full_is_the_three_sweeps_in_order_each_take_its_own(rig):
    full = plan_takes(FULL, camera=rig.camera)
    parts = [t for name in SWEEPS for t in plan_takes(name, camera=rig.camera)]
    assert full == parts
    assert {t.plan for t in full} == set(SWEEPS) and PLAN_NAMES[-1] == FULL


def test_the_take_document_names_the_plan_and_the_parameter(rig):
    take = plan_takes(FOCAL_SWEEP, camera=rig.camera)[3]
    doc = take.to_document(seed=5)
    assert doc["name"] == FOCAL_SWEEP and doc["index"] == 3 and doc["seed"] == 5
    assert (doc["parameter"], doc["value"], doc["unit"]) == ("focal_length_mm", 50.0, "mm")
    assert doc["fixed"] == dict(take.fixed) and doc["instruction"] == take.instruction
    assert json.loads(json.dumps(doc)) == doc
    assert take.to_document(None, "on a real stage")["instruction"] == "on a real stage"


def test_the_crew_focal_lengths_agree_with_the_framing_solve(rig):
    # The first-order focal length against framing.py's exact solve (a lens at eye height), at the
    # distance the stage's actor is from the lens when framed.
    stage = StageConfig(actor_count=1, dressing_count=0)
    for size in SIZES:
        key = framing_plan(size, stage, 0, duration_s=0.1, start_s=None, camera=rig.camera)[0]
        lens_z_m = stage.crane_pivot_height_m + stage.crane_arm_m * math.sin(math.radians(key.crane_lift_deg))
        horizontal_m = math.sqrt(key.focus_distance_m ** 2 - (EYE_HEIGHT_M - lens_z_m) ** 2)
        approx = approximate_focal_mm(size, horizontal_m, rig.camera)
        assert approx == pytest.approx(key.focal_length_mm, rel=0.03 if size != "WS" else 0.07), (size, horizontal_m)


def test_errors_name_what_was_expected(rig):
    with pytest.raises(UnknownPlanError, match="focal-sweep, movement-sweep, framing-sweep, full"):
        plan_takes("lens-sweep")
    with pytest.raises(PlanTakeError, match=f"at least {MIN_MOVE_S:.2f} s"):
        plan_takes(MOVEMENT_SWEEP, duration_s=1.0)
    with pytest.raises(PlanTakeError, match="no actors"):
        plan_takes(FOCAL_SWEEP, actor_count=0)
    with pytest.raises(PlanTakeError, match="has none"):
        plan_takes(FRAMING_SWEEP, actor_count=0)
