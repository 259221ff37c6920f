"""The handheld and focus-pull shot plans (sensors/sim/shots.py): the captioner's movement
classifier (engines/captioner/movement.py, the referee) reads the stage's true rig poses as
handheld and static; the shake is seeded, band-limited and as large as planned."""

from __future__ import annotations

import math

import numpy as np
import pytest

from config.models import StageConfig
from engines.captioner.movement import MovementClass, classify_movement
from sensors.sim.shots import (
    EASE_S,
    FOCUS_PULL,
    HANDHELD,
    HANDHELD_ANGLE_RMS_DEG,
    HANDHELD_BAND_HZ,
    HANDHELD_KEY_STEP_S,
    HANDHELD_POSITION_RMS_M,
    MOVEMENTS,
    SHOT_KINDS,
    focus_pull_plan,
    handheld_plan,
)
from sensors.sim.stage import Stage
from sensors.vocabulary import NS_PER_S

EPOCH_NS = 1_700_000_000_000_000_000
SAMPLE_NS = NS_PER_S // 100  # FreeD's 100 Hz
STAGES = {
    "default": StageConfig(dressing_count=0, actor_count=0),
    "turned": StageConfig(dressing_count=0, actor_count=0, track_origin_m=(3.0, -5.0, 0.0), track_heading_deg=125.0,
                          track_length_m=6.0, crane_pivot_height_m=1.5, crane_arm_m=2.4),
}


def _windows(config: StageConfig, keys, duration_s: float):
    """Classifier labels of every 0.5 s window between the fades, at 100 Hz."""
    stage = Stage(config.model_copy(update={"shot": keys, "loop": False}), EPOCH_NS)
    first, last = math.ceil(EASE_S * 100), math.floor((duration_s - EASE_S) * 100)
    times = [EPOCH_NS + i * SAMPLE_NS for i in range(first, last + 1)]
    poses = [stage.rig_pose(t) for t in times]
    focal = [stage.lens(t).focal_length_mm for t in times]
    ends = range(times[-1], times[0] + NS_PER_S // 2 - 1, -NS_PER_S // 2)
    return [classify_movement(poses, focal, window_s=0.5, end_ns=end) for end in ends], stage


def test_the_new_plans_join_the_movements_without_changing_them():
    assert SHOT_KINDS == MOVEMENTS + (HANDHELD, FOCUS_PULL) and HANDHELD not in MOVEMENTS


@pytest.mark.parametrize("geometry", sorted(STAGES))
@pytest.mark.parametrize("seed", [0, 7, 12345])
def test_the_handheld_plan_is_classified_handheld(geometry, seed):
    config = STAGES[geometry]
    keys = handheld_plan(config, seed=seed)
    labels, _ = _windows(config, keys, 4.0)
    assert len(labels) >= 5
    for label in labels:
        assert label.movement is MovementClass.HANDHELD, (label.movement, label.jitter)


def test_the_shake_is_seeded_band_limited_and_as_large_as_planned():
    config = STAGES["default"]
    keys = handheld_plan(config, seed=3, duration_s=8.0)
    assert keys == handheld_plan(config, seed=3, duration_s=8.0)
    assert keys != handheld_plan(config, seed=4, duration_s=8.0)
    t = np.array([k.t_s for k in keys])
    assert np.allclose(np.diff(t), HANDHELD_KEY_STEP_S, atol=1e-3)
    middle = (t >= EASE_S) & (t <= t[-1] - EASE_S)
    pan = np.array([k.pan_deg for k in keys]) - config.track_heading_deg
    tilt = np.array([k.tilt_deg for k in keys])
    dolly = np.array([k.dolly_m for k in keys]) - 0.5 * config.track_length_m
    lift = config.crane_arm_m * np.sin(np.radians([k.crane_lift_deg for k in keys]))
    for values, rms in ((pan, HANDHELD_ANGLE_RMS_DEG), (tilt, HANDHELD_ANGLE_RMS_DEG),
                        (dolly, HANDHELD_POSITION_RMS_M), (lift, HANDHELD_POSITION_RMS_M)):
        assert np.sqrt(np.mean(values[middle] ** 2)) == pytest.approx(rms, rel=1e-6)
        spectrum = np.abs(np.fft.rfft(values * np.hanning(values.size))) ** 2
        freq = np.fft.rfftfreq(values.size, HANDHELD_KEY_STEP_S)
        lo, hi = HANDHELD_BAND_HZ
        inside = spectrum[(freq >= lo - 0.5) & (freq <= hi + 0.5)].sum()
        assert inside >= 0.95 * spectrum.sum()
    # At rest at both ends: the rest pose of the movement plans.
    for key in (keys[0], keys[-1]):
        assert key.pan_deg == pytest.approx(config.track_heading_deg, abs=1e-9)
        assert key.dolly_m == pytest.approx(0.5 * config.track_length_m, abs=1e-9)
        assert key.tilt_deg == pytest.approx(0.0, abs=1e-9) and key.crane_lift_deg == pytest.approx(0.0, abs=1e-9)


def test_the_handheld_plan_refuses_what_it_cannot_shoot():
    config = STAGES["default"]
    with pytest.raises(ValueError, match="too short"):
        handheld_plan(config, duration_s=1.2)
    with pytest.raises(ValueError, match="RMS of pan_deg"):
        handheld_plan(config, angle_rms_deg=-0.1)
    with pytest.raises(ValueError, match="crane_arm_m"):
        handheld_plan(config.model_copy(update={"crane_arm_m": 0.001}))
    with pytest.raises(ValueError, match="roll_deg spans"):
        handheld_plan(config, roll_rms_deg=30.0)


def test_a_focus_pull_racks_the_focus_with_the_camera_still():
    config = STAGES["default"]
    keys = focus_pull_plan(config, from_m=1.5, to_m=8.0)
    focus = np.array([k.focus_distance_m for k in keys])
    assert focus[0] == pytest.approx(1.5) and focus[-1] == pytest.approx(8.0)
    assert np.all(np.diff(focus) > 0.0)
    # Linear in dioptres over the constant-speed span: equal steps of 1/distance between equal-spaced keys.
    dioptres = 1.0 / focus
    steps = np.diff(dioptres)[12:-12]
    assert np.allclose(steps, steps[0], rtol=1e-6)
    labels, stage = _windows(config, keys, 4.0)
    assert all(label.movement is MovementClass.STATIC for label in labels)
    back = focus_pull_plan(config, from_m=8.0, to_m=1.5)
    assert [k.focus_distance_m for k in back][0] == pytest.approx(8.0)
    with pytest.raises(ValueError, match="two different"):
        focus_pull_plan(config, from_m=3.0, to_m=3.0)
    with pytest.raises(ValueError, match="focus_distance_m"):
        focus_pull_plan(config, from_m=0.05, to_m=3.0)
