"""The auto-labeler against the simulated stage's truth, on takes it was not tuned on.

Each movement plan (``sensors/sim/shots.py``) is played on a stage of another seed than the
default profile's (other set dressing, other actors' walks), at speeds other than the plans'
defaults, through the real drivers and synchronizer (:mod:`tests.harness.captions`). Over the
plan's constant-speed span, once a whole movement window lies inside it, every frame's movement
class must be the plan's (>= 98 % of frames, per class), its speed within 5 % of the plan's, and
every frame's focal length within 1 % of the lens's true one.
"""

from __future__ import annotations

import numpy as np
import pytest

from config import load_profile
from engines.captioner.movement import DEFAULT_WINDOW_S
from sensors.sim.shots import MOVEMENTS, movement_plan, steady_span_s
from tests.harness.captions import labelled_replay

WARMUP_S = 2.0
DURATION_S = 4.0
#: Not the plans' defaults (15 deg/s, 10, 5, 0.5 m/s, 0.2, 10 %/s): the labeler is tuned on neither.
SPEEDS = {"pan": 22.0, "tilt": 7.0, "roll": 8.0, "dolly": 0.35, "truck": 0.7, "pedestal": 0.15, "zoom": 6.0}
UNTUNED_SEED = 31


def _speed(kind: str):
    return None if kind == "static" else SPEEDS[kind.split("_")[0]]


@pytest.mark.slow
@pytest.mark.parametrize("kind", MOVEMENTS)
def test_every_movement_and_focal_length_agrees_with_the_stage(kind):
    base = load_profile()
    base = base.model_copy(update={"stage": base.stage.model_copy(update={"seed": UNTUNED_SEED})})
    plan = movement_plan(kind, base.stage, speed=_speed(kind), duration_s=DURATION_S, start_s=WARMUP_S)
    stage, frames = labelled_replay(base, plan, DURATION_S, WARMUP_S)
    lo, hi = steady_span_s(duration_s=DURATION_S, start_s=WARMUP_S)
    scored = [f for f in frames if lo + DEFAULT_WINDOW_S <= f.plan_s <= hi]
    assert len(scored) >= 40, f"only {len(scored)} frames in the steady span"
    classes = [f.labels.movement.movement.value for f in scored]
    agree = np.mean([c == kind for c in classes])
    assert agree >= 0.98, f"{kind}: {100 * agree:.1f} % agree: {sorted(set(classes))}"
    if kind != "static":
        speeds = np.array([f.labels.movement.speed for f in scored if f.labels.movement.movement.value == kind])
        assert np.all(np.abs(speeds / _speed(kind) - 1.0) < 0.05), (speeds.min(), speeds.max())
    for f in frames:
        true_mm = stage.lens(f.master_ns).focal_length_mm
        assert f.labels.focal.focal_length_mm == pytest.approx(true_mm, rel=0.01)
