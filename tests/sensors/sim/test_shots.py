"""Named shot plans: each one makes the stage's rig shoot exactly the movement the captioner's
classifier (``engines/captioner/movement.py``, the referee) reads back, at the planned speed."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from config.models import StageConfig
from engines.captioner.movement import (
    STATIC_TRANSLATION_M_PER_S,
    MovementLabel,
    classify_movement,
)
from sensors.sim.shots import (
    DEFAULT_DURATION_S,
    DEFAULT_SPEEDS,
    EASE_S,
    MOVEMENTS,
    SPEED_UNITS,
    movement_plan,
    plan_series,
    steady_span_s,
)
from sensors.sim.stage import Stage
from sensors.vocabulary import NS_PER_S

from .conftest import EPOCH_NS

SAMPLE_NS = NS_PER_S // 100  # 100 Hz, as FreeD
WINDOW_S = 0.5

#: The default stage's track, and one turned and moved off the stage axes with a longer crane arm.
GEOMETRIES = {
    "default": StageConfig(dressing_count=0, actor_count=0),
    "turned": StageConfig(
        dressing_count=0,
        actor_count=0,
        track_origin_m=(3.0, -5.0, 0.0),
        track_heading_deg=125.0,
        track_length_m=6.0,
        crane_pivot_height_m=1.5,
        crane_arm_m=2.4,
    ),
}


def _labels(stage_config: StageConfig, keys, duration_s: float, start_s: float = 0.0) -> list[MovementLabel]:
    """Classify every 0.5 s window of the plan's constant-speed span, sampled at 100 Hz."""
    stage = Stage(stage_config.model_copy(update={"shot": keys, "loop": False}), EPOCH_NS)
    t0_s, t1_s = steady_span_s(duration_s, start_s)
    first = math.ceil(t0_s * NS_PER_S / SAMPLE_NS)
    last = math.floor(t1_s * NS_PER_S / SAMPLE_NS)
    times = [EPOCH_NS + i * SAMPLE_NS for i in range(first, last + 1)]
    poses = [stage.rig_pose(t) for t in times]
    focal = [stage.lens(t).focal_length_mm for t in times]
    window_ns = int(WINDOW_S * NS_PER_S)
    ends = range(times[-1], times[0] + window_ns - 1, -window_ns)
    labels = [classify_movement(poses, focal, window_s=WINDOW_S, end_ns=end) for end in ends]
    assert len(labels) >= 3, "the steady span must hold several windows"
    return labels


def _assert_shoots(labels: list[MovementLabel], kind: str, speed) -> None:
    for label in labels:
        assert label.movement.value == kind, (label.movement, label.rates, label.jitter)
        assert label.secondary == (), label.secondary
        if speed is None:
            assert label.speed is None
        else:
            assert label.speed == pytest.approx(speed, rel=0.05)
            assert label.speed_unit == SPEED_UNITS[kind]


@pytest.mark.parametrize("geometry", sorted(GEOMETRIES))
@pytest.mark.parametrize("kind", MOVEMENTS)
def test_every_movement_is_classified_as_planned(kind: str, geometry: str) -> None:
    config = GEOMETRIES[geometry]
    keys = movement_plan(kind, config)
    labels = _labels(config, keys, DEFAULT_DURATION_S)
    _assert_shoots(labels, kind, DEFAULT_SPEEDS[kind])
    if kind.startswith("pedestal"):
        # The crane's arc, made up for by the dolly: well inside the static threshold.
        for label in labels:
            assert abs(label.rates.forward_m_per_s) < 0.1 * STATIC_TRANSLATION_M_PER_S


@pytest.mark.parametrize(
    ("kind", "speed", "duration_s", "start_s"),
    [
        ("pan_right", 40.0, 3.0, 0.0),
        ("tilt_down", 4.0, 6.0, 1.5),
        ("roll", 12.0, 3.0, 0.0),
        ("dolly_out", 1.2, 5.0, 2.0),
        ("truck_left", 0.2, 6.0, 0.0),
        ("pedestal_down", 0.4, 3.0, 0.0),
        ("pedestal_up", 0.08, 8.0, 0.5),
        ("zoom_in", 25.0, 3.0, 0.0),
        ("zoom_out", 3.0, 5.0, 0.0),
    ],
)
def test_a_chosen_speed_is_shot_at_that_speed(kind: str, speed: float, duration_s: float, start_s: float) -> None:
    config = GEOMETRIES["default"]
    keys = movement_plan(kind, config, speed=speed, duration_s=duration_s, start_s=start_s)
    assert keys[0].t_s == pytest.approx(start_s) and keys[-1].t_s == pytest.approx(start_s + duration_s)
    _assert_shoots(_labels(config, keys, duration_s, start_s), kind, speed)


@pytest.mark.parametrize("geometry", sorted(GEOMETRIES))
def test_the_series_holds_every_movement_on_the_track_at_rest_at_both_ends(geometry: str) -> None:
    config = GEOMETRIES[geometry]
    series = plan_series(config)
    assert tuple(series) == MOVEMENTS
    for kind, keys in series.items():
        played = StageConfig(**{**config.model_dump(), "shot": [k.model_dump() for k in keys], "loop": False})
        assert all(0.0 <= k.dolly_m <= config.track_length_m for k in played.shot), kind
        stage = Stage(config.model_copy(update={"shot": keys, "loop": False}), EPOCH_NS)
        for t_s in (0.0, DEFAULT_DURATION_S):
            velocity, rates = stage.rig_velocity(EPOCH_NS + int(t_s * NS_PER_S))
            np.testing.assert_allclose(velocity, 0.0, atol=1e-9)
            np.testing.assert_allclose(rates, 0.0, atol=1e-9)


def test_steady_span_lies_inside_the_move_after_the_eases() -> None:
    t0_s, t1_s = steady_span_s(4.0, start_s=2.0)
    assert 2.0 + EASE_S < t0_s < t1_s < 6.0 - EASE_S
    assert t1_s - t0_s >= 2.5


@pytest.mark.parametrize(
    ("kind", "speed", "duration_s", "stage_update", "limit"),
    [
        ("dolly_in", 3.0, 4.0, {}, "track_length_m"),
        ("truck_right", 2.5, 4.0, {}, "track_length_m"),
        ("tilt_up", 60.0, 4.0, {}, "tilt_deg"),
        ("tilt_down", 20.0, 10.0, {}, "tilt_deg"),
        ("roll", 30.0, 4.0, {}, "roll_deg"),
        ("pedestal_up", 0.8, 4.0, {}, "crane_lift_deg"),
        ("pedestal_down", 1.0, 4.0, {}, "crane_arm_m"),
        ("pedestal_up", None, 4.0, {"crane_arm_m": 0.0}, "crane_arm_m"),
        ("pedestal_up", 0.7, 4.0, {"track_length_m": 0.5}, "track_length_m"),
        ("zoom_in", 200.0, 4.0, {}, "focal_length_mm"),
        ("pan_left", None, 1.0, {}, "duration_s"),
        ("static", None, 1.5, {}, "duration_s"),
    ],
)
def test_a_move_that_cannot_fit_names_the_limit(kind, speed, duration_s, stage_update, limit) -> None:
    config = GEOMETRIES["default"].model_copy(update=stage_update)
    with pytest.raises(ValueError, match=limit):
        movement_plan(kind, config, speed=speed, duration_s=duration_s)


@pytest.mark.parametrize(
    ("kind", "speed", "start_s", "match"),
    [
        ("handheld", None, 0.0, "unknown movement"),
        ("pan_left", 0.0, 0.0, "positive"),
        ("dolly_in", -0.5, 0.0, "positive"),
        ("zoom_out", float("nan"), 0.0, "positive"),
        ("static", 1.0, 0.0, "static has no speed"),
        ("pan_left", None, -1.0, "start_s"),
    ],
)
def test_bad_requests_raise(kind, speed, start_s, match) -> None:
    with pytest.raises(ValueError, match=match):
        movement_plan(kind, GEOMETRIES["default"], speed=speed, start_s=start_s)


@settings(max_examples=60, deadline=None)
@given(st.floats(0.05, 4.0), st.floats(1.7, 20.0), st.sampled_from(["dolly_in", "dolly_out", "truck_left"]))
def test_a_dolly_move_fits_exactly_when_its_travel_fits_the_track(speed, duration_s, kind) -> None:
    config = GEOMETRIES["turned"]
    travel_m = speed * (duration_s - EASE_S)  # referee: the eases cover half their time at speed
    assume(abs(travel_m - config.track_length_m) > 1e-6)  # not on the float edge of the limit
    if travel_m > config.track_length_m + 1e-9:
        with pytest.raises(ValueError, match="track_length_m"):
            movement_plan(kind, config, speed=speed, duration_s=duration_s)
        return
    keys = movement_plan(kind, config, speed=speed, duration_s=duration_s)
    dolly = [k.dolly_m for k in keys]
    assert min(dolly) >= 0.0 and max(dolly) <= config.track_length_m
    assert max(dolly) - min(dolly) == pytest.approx(travel_m, rel=1e-9)


@settings(max_examples=60, deadline=None)
@given(st.floats(0.5, 90.0), st.floats(1.7, 12.0))
def test_a_tilt_fits_exactly_when_its_sweep_stays_within_the_heads_limit(speed, duration_s) -> None:
    half_sweep_deg = 0.5 * speed * (duration_s - EASE_S)
    assume(abs(half_sweep_deg - 90.0) > 1e-6)
    if half_sweep_deg > 90.0 + 1e-9:
        with pytest.raises(ValueError, match="tilt_deg"):
            movement_plan("tilt_up", GEOMETRIES["default"], speed=speed, duration_s=duration_s)
        return
    tilts = [k.tilt_deg for k in movement_plan("tilt_up", GEOMETRIES["default"], speed=speed, duration_s=duration_s)]
    assert max(tilts) == pytest.approx(half_sweep_deg) and min(tilts) == pytest.approx(-half_sweep_deg)


@pytest.mark.parametrize("kind", ["dolly_in", "pan_left", "zoom_out"])
def test_the_move_eases_in_and_out_without_overshooting_its_speed(kind: str) -> None:
    config = GEOMETRIES["default"]
    speed = DEFAULT_SPEEDS[kind]
    stage = Stage(config.model_copy(update={"shot": movement_plan(kind, config), "loop": False}), EPOCH_NS)
    t_s = np.arange(0, int(DEFAULT_DURATION_S * 100) + 1) / 100.0
    if kind == "dolly_in":
        rate = np.array([stage.rig_velocity(EPOCH_NS + int(round(t * NS_PER_S)))[0][0] for t in t_s])
    elif kind == "pan_left":
        rate = np.array([stage.rig_velocity(EPOCH_NS + int(round(t * NS_PER_S)))[1][0] for t in t_s])
    else:  # %/s of the focal length, made positive
        focal = stage.plan.sample(t_s)[:, 5]
        rate = -100.0 * stage.plan.rate(t_s)[:, 5] / focal
    assert rate[0] == pytest.approx(0.0, abs=1e-9) and rate[-1] == pytest.approx(0.0, abs=1e-9)
    assert np.all(rate >= -1e-9) and np.all(rate <= 1.01 * speed), "no reversal, under 1 % overshoot"
    t0_s, t1_s = steady_span_s()
    ease_in, ease_out = rate[t_s <= t0_s], rate[t_s >= t1_s]
    assert ease_in[-1] == pytest.approx(speed, rel=1e-3) and ease_out[0] == pytest.approx(speed, rel=1e-3)
    up, down = ease_in[: np.argmax(ease_in) + 1], ease_out[np.argmax(ease_out) :]
    assert up[-1] >= 0.99 * speed and down[0] >= 0.99 * speed
    assert np.all(np.diff(up) >= -1e-9), "the ease-in speeds up monotonically"
    assert np.all(np.diff(down) <= 1e-9), "the ease-out slows down monotonically"
    np.testing.assert_allclose(rate[(t_s >= t0_s) & (t_s <= t1_s)], speed, rtol=1e-3)
