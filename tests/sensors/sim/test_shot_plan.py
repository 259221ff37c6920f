"""Shot-plan interpolation: keys hit exactly, C1, no overshoot, loops, holds."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from config.models import ShotKeyframe
from sensors.sim.shot_plan import CHANNELS, plan_from_keyframes

PAN = CHANNELS.index("pan_deg")
DOLLY = CHANNELS.index("dolly_m")


def _keys(values, times=None, channel="pan_deg"):
    times = times if times is not None else [2.0 * i for i in range(len(values))]
    return [ShotKeyframe(t_s=t, **{channel: v}) for t, v in zip(times, values)]


@settings(max_examples=40, deadline=None)
@given(st.lists(st.floats(-180, 180), min_size=2, max_size=8), st.booleans())
def test_every_key_is_reached_exactly_at_its_time(values, loop) -> None:
    plan = plan_from_keyframes(_keys(values), loop=loop)
    got = plan.sample(plan.times_s)[:, PAN]
    if loop:  # the loop's end is its start again
        got, values = got[:-1], values[:-1]
    np.testing.assert_allclose(got, values, rtol=0, atol=1e-9)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.floats(-90, 90), min_size=3, max_size=8))
def test_no_overshoot_between_keys(values) -> None:
    plan = plan_from_keyframes(_keys(values), loop=False)
    t = np.linspace(0.0, plan.duration_s, 2001)
    pan = plan.sample(t)[:, PAN]
    for i in range(len(values) - 1):
        seg = pan[(t >= 2.0 * i) & (t <= 2.0 * (i + 1))]
        lo, hi = min(values[i], values[i + 1]), max(values[i], values[i + 1])
        assert seg.min() >= lo - 1e-9 and seg.max() <= hi + 1e-9


def test_velocity_is_continuous_through_keys() -> None:
    plan = plan_from_keyframes(_keys([0.0, 30.0, 45.0, 10.0, 20.0]), loop=False)
    for key_t in plan.times_s[1:-1]:
        left, right = plan.rate(key_t - 1e-9)[PAN], plan.rate(key_t + 1e-9)[PAN]
        assert left == pytest.approx(right, abs=1e-6)


def test_rate_is_the_derivative_of_the_sample() -> None:
    plan = plan_from_keyframes(_keys([0.0, 30.0, 45.0, 10.0]), loop=False)
    t = np.linspace(0.1, 5.9, 50)
    h = 1e-6
    numeric = (plan.sample(t + h) - plan.sample(t - h)) / (2 * h)
    np.testing.assert_allclose(plan.rate(t), numeric, atol=1e-5)


def test_evenly_spaced_keys_on_a_line_give_constant_speed() -> None:
    plan = plan_from_keyframes(_keys([0.0, 2.0, 4.0, 6.0], channel="dolly_m"), loop=False)
    t = np.linspace(2.0, 4.0, 11)  # the middle segment: both end tangents are 1 m/s
    np.testing.assert_allclose(plan.rate(t)[:, DOLLY], 1.0, atol=1e-12)
    np.testing.assert_allclose(plan.sample(t)[:, DOLLY], t, atol=1e-12)


def test_a_plan_that_does_not_loop_starts_and_ends_at_rest_and_holds() -> None:
    plan = plan_from_keyframes(_keys([10.0, 40.0, 20.0]), loop=False)
    assert plan.rate(0.0)[PAN] == 0.0 and plan.rate(4.0)[PAN] == 0.0
    assert plan.sample(-5.0)[PAN] == 10.0 and plan.sample(100.0)[PAN] == pytest.approx(20.0)
    assert plan.rate(100.0)[PAN] == 0.0


def test_a_closed_loop_repeats_and_is_smooth_across_the_wrap() -> None:
    plan = plan_from_keyframes(_keys([0.0, 30.0, 10.0, 0.0]), loop=True)
    t = np.linspace(0.0, 6.0, 37)
    np.testing.assert_allclose(plan.sample(t + 6.0), plan.sample(t), atol=1e-9)
    np.testing.assert_allclose(plan.sample(t + 60.0), plan.sample(t), atol=1e-9)
    assert plan.rate(6.0 - 1e-9)[PAN] == pytest.approx(plan.rate(6.0 + 1e-9)[PAN], abs=1e-6)


def test_single_key_is_a_locked_off_shot() -> None:
    plan = plan_from_keyframes([ShotKeyframe(t_s=0.0, pan_deg=12.0, focal_length_mm=50.0)], loop=True)
    out = plan.sample(np.array([0.0, 3.0, 1e6]))
    np.testing.assert_array_equal(out[:, PAN], 12.0)
    np.testing.assert_array_equal(plan.rate(np.array([0.0, 3.0]))[:, PAN], 0.0)


def test_batches_spanning_several_segments_match_one_by_one() -> None:
    plan = plan_from_keyframes(_keys([0.0, 30.0, 45.0, 10.0, 0.0]), loop=True)
    t = np.linspace(-1.0, 20.0, 301)
    batch = plan.sample(t)
    single = np.array([plan.sample(v) for v in t])
    np.testing.assert_allclose(batch, single, atol=1e-12)
