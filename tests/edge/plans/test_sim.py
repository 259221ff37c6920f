"""Planned takes on the simulated stage: the profile each take runs holds the take's shot, on the
seed asked for, after the lead; the framing takes frame their actor at their size on new seeds
(scored by the stage's own truth, tests/harness/captions.py)."""

from __future__ import annotations

import numpy as np
import pytest
import yaml

from config import load_profile
from config.loader import load_rig
from edge.plans import (
    DEFAULT_LEAD_S,
    FOCAL_SWEEP,
    FRAMING_SWEEP,
    MOVEMENT_SWEEP,
    PlanTakeError,
    plan_takes,
    stage_take,
    zoom_range_mm,
)
from edge.plans.sim import hidden_keys
from sensors.sim.shots import handheld_plan, movement_plan
from sensors.telemetry.lens import lens_from_raw, raw_from_lens
from sensors.vocabulary import LensState

#: Seeds other than the profile's (7): new dressing, walks and lights.
NEW_SEEDS = (3, 11)


@pytest.fixture(scope="module")
def rig():
    return load_profile()


def test_a_staged_take_is_a_profile_the_node_loads(rig, tmp_path):
    take = plan_takes(FRAMING_SWEEP, camera=rig.camera)[0]  # ECU: a longer lens than the zoom
    staged = stage_take(take, rig, 3)
    path = tmp_path / "take.yaml"
    path.write_text(yaml.safe_dump(staged.rig.model_dump(mode="json")))
    loaded = load_rig(yaml.safe_load(path.read_text()), str(path))
    assert loaded == staged.rig
    assert loaded.stage.seed == 3 and loaded.stage.loop is True
    assert loaded.stage.shot[0].t_s == pytest.approx(staged.start_s) and staged.start_s >= DEFAULT_LEAD_S
    # Everything but the stage and the lens is the profile's.
    assert loaded.camera == rig.camera and loaded.lidars == rig.lidars and loaded.timecode == rig.timecode


def test_the_focal_sweep_changes_the_focal_length_only(rig):
    staged = [stage_take(t, rig, 3) for t in plan_takes(FOCAL_SWEEP, camera=rig.camera)]
    first = staged[0].shot_keys
    for s in staged:
        keys = s.shot_keys
        assert len(keys) == 2 and keys[0].t_s >= DEFAULT_LEAD_S
        assert keys[1].t_s - keys[0].t_s == pytest.approx(s.take.duration_s)
        assert all(k.focal_length_mm == s.take.value for k in keys)
        for name in ("t_s", "dolly_m", "crane_lift_deg", "pan_deg", "tilt_deg", "roll_deg", "focus_distance_m"):
            assert [getattr(k, name) for k in keys] == [getattr(k, name) for k in first], name
        assert keys[0].model_dump(exclude={"t_s"}) == keys[1].model_dump(exclude={"t_s"})  # static
        assert s.rig.telemetry == rig.telemetry and s.rig.stage.seed == 3


def test_the_movement_sweep_plays_the_stage_s_shot_plans_after_the_lead(rig):
    for take in plan_takes(MOVEMENT_SWEEP, camera=rig.camera):
        staged = stage_take(take, rig, 11, lead_s=9.0)
        keys = staged.shot_keys
        stage = rig.stage.model_copy(update={"seed": 11})
        if take.value == "handheld":
            assert keys == handheld_plan(stage, seed=11, duration_s=take.duration_s, start_s=9.0)
            assert keys != handheld_plan(stage, seed=12, duration_s=take.duration_s, start_s=9.0)
        elif take.value == "focus_pull":
            focus = [k.focus_distance_m for k in keys]
            assert focus[0] == pytest.approx(take.settings["focus_from_m"]) and focus[-1] == pytest.approx(8.0)
            assert len({(k.dolly_m, k.pan_deg, k.tilt_deg, k.focal_length_mm) for k in keys}) == 1
        else:
            assert keys == movement_plan(take.value, stage, duration_s=take.duration_s, start_s=9.0)
        assert staged.start_s == pytest.approx(9.0) and staged.end_s == pytest.approx(9.0 + take.duration_s)


@pytest.mark.parametrize("index", [0, 14, 16 + 8 + 3])  # focal 18 mm, handheld, MS on actor 0
def test_every_repeat_of_the_shot_is_the_first_one_again(rig, index):
    from sensors.sim.stage import Stage
    from tests.harness.replay import EPOCH_NS

    take = plan_takes("full", camera=rig.camera)[index]
    staged = stage_take(take, rig, 11)
    assert staged.rig.stage.loop is True and staged.period_s >= staged.end_s - staged.start_s + 4.0
    stage = Stage(staged.rig.stage, EPOCH_NS, nthreads=1)
    walker = take.fixed.get("actor")
    for t_s in np.linspace(staged.start_s - 0.5, staged.end_s + 0.5, 23):
        first = EPOCH_NS + int(round(t_s * 1e9))
        for repeat in (1, 3):
            later = first + int(round(repeat * staged.period_s * 1e9))
            assert np.allclose(stage.T_stage_optical(later), stage.T_stage_optical(first), atol=1e-6)
            a, b = stage.lens(later), stage.lens(first)
            assert (a.focal_length_mm, a.focus_distance_m) == pytest.approx((b.focal_length_mm, b.focus_distance_m), abs=1e-6)
            if walker is not None:  # the actor the take follows is where it was
                assert np.allclose(stage.actor_matrices(later)[walker], stage.actor_matrices(first)[walker], atol=1e-6)
    assert staged.window(2) == pytest.approx((staged.start_s + 2 * staged.period_s, staged.end_s + 2 * staged.period_s))
    doc = staged.document(2)
    assert doc["shot"]["repeat"] == 2 and doc["shot"]["plan_time_s"][0] == pytest.approx(staged.window(2)[0], abs=1e-3)


def test_a_take_the_zoom_cannot_hold_gets_a_lens_that_can(rig):
    zoom = zoom_range_mm(rig)
    for take in plan_takes(FRAMING_SWEEP, camera=rig.camera):
        staged = stage_take(take, rig, 7)
        focal = [k.focal_length_mm for k in staged.rig.stage.shot]
        lo, hi = zoom_range_mm(staged.rig)
        assert lo <= min(focal) and max(focal) <= hi
        if (lo, hi) != zoom:
            assert max(focal) > zoom[1] and f"{lo:g}-{hi:g} mm lens" in staged.instruction
            # The FreeD lens encodes the take's focal lengths within a hundredth of a millimetre.
            table = staged.rig.telemetry[0].lens
            for f in (min(focal), max(focal)):
                back = lens_from_raw(*raw_from_lens(LensState(f, 3.0, 2.8), table), table)
                assert back.focal_length_mm == pytest.approx(f, abs=0.01)
        assert staged.shot["lens_mm"] == [lo, hi]


def test_a_real_rig_or_an_unknown_parameter_is_refused(rig):
    take = plan_takes(FOCAL_SWEEP)[0]
    with pytest.raises(PlanTakeError, match="real rig"):
        stage_take(take, load_profile("stage-a-real"))
    with pytest.raises(PlanTakeError, match="stage shoots"):
        stage_take(take.__class__(**{**take.__dict__, "parameter": "t_stop"}), rig)
    with pytest.raises(PlanTakeError, match="outside the rig's zoom"):
        stage_take(take.__class__(**{**take.__dict__, "value": 400.0}), rig)


@pytest.mark.parametrize("seed", NEW_SEEDS)
def test_framing_takes_frame_their_actor_at_their_size_on_a_new_seed(rig, seed):
    from sensors.sim.stage import Stage
    from tests.harness.captions import truth_shot
    from tests.harness.replay import EPOCH_NS

    scored = in_sight = 0
    for take in plan_takes(FRAMING_SWEEP, camera=rig.camera):
        staged = stage_take(take, rig, seed)
        keys = staged.shot_keys
        hidden = hidden_keys(staged.rig.stage, keys, take.fixed["actor"])
        assert staged.shot["hidden_keys"] == sum(hidden)
        stage = Stage(staged.rig.stage, EPOCH_NS, nthreads=1)
        # Every fifth key, the first and last key steps left out (the head eases from rest there
        # while the actor walks on): where the plan has the actor in sight, the truth frames it so.
        for i in range(2, len(keys) - 2, 5):
            scored += 1
            if hidden[i]:
                continue
            truth = truth_shot(stage, staged.rig.camera, EPOCH_NS + int(round(keys[i].t_s * 1e9)))
            assert (truth.size.value, truth.actor) == (take.value, take.fixed["actor"]), (take.value, i)
            in_sight += 1
    assert in_sight >= 0.8 * scored, f"{in_sight} of {scored} keys in sight"


def test_hidden_keys_never_call_a_blocked_actor_in_sight(rig):
    """The referee is the stage's own ray caster: a ray from the lens to the actor's head."""
    from sensors.sim.stage import Stage
    from tests.harness.replay import EPOCH_NS

    blocked_seen = 0
    for take in plan_takes(FRAMING_SWEEP, camera=rig.camera)[7:]:  # actor 1 of seed 3 walks behind a column
        staged = stage_take(take, rig, 3)
        keys, actor = staged.shot_keys, take.fixed["actor"]
        hidden = hidden_keys(staged.rig.stage, keys, actor)
        stage = Stage(staged.rig.stage, EPOCH_NS, nthreads=1)
        first_actor = stage.scene.first_actor_id
        for key, flagged in zip(keys[::4], hidden[::4]):
            t_ns = EPOCH_NS + int(round(key.t_s * 1e9))
            lens = stage.T_stage_optical(t_ns)[:3, 3]
            head = stage.actor_matrices(t_ns)[actor, :3, 3] + np.array([0.0, 0.0, 1.6])
            ray = (head - lens) / np.linalg.norm(head - lens)
            hit = int(stage.cast_rays(lens[None, :], ray[None, :], t_ns).object_id[0])
            if not flagged:
                assert hit == first_actor + actor, (take.value, key.t_s, stage.objects[hit].name)
            elif hit != first_actor + actor:
                blocked_seen += 1
    assert blocked_seen > 0, "no hidden key was blocked: the test does not test"
