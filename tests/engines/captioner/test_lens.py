"""Lens labels: focal length, 35 mm equivalent (by width) and zoom over a window."""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from config.models import IntrinsicsConfig
from engines.captioner.lens import (
    MAX_SAMPLE_GAP_NS,
    SUPER35_WIDTH_MM,
    ZOOM_THRESHOLD_PCT_PER_S,
    ZoomDirection,
    crop_factor,
    equivalent_focal_length_mm,
    focal_label,
    horizontal_fov_deg,
    window_problem,
    zoom_over_window,
)
from sensors.vocabulary import NS_PER_MS, NS_PER_S, LensState

T0_NS = 5 * NS_PER_S


def _times(duration_s: float = 0.5, rate_hz: float = 100.0) -> list[int]:
    count = int(round(duration_s * rate_hz)) + 1
    return [T0_NS + int(round(i * NS_PER_S / rate_hz)) for i in range(count)]


def _ramp(t_ns: list[int], start_mm: float, rate_mm_per_s: float) -> list[float]:
    return [start_mm + rate_mm_per_s * (t - t_ns[0]) / NS_PER_S for t in t_ns]


def test_50mm_on_super35_is_a_72_3mm_full_frame_equivalent():
    assert round(equivalent_focal_length_mm(50.0, 24.89), 1) == 72.3
    label = focal_label(LensState(focal_length_mm=50.0, focus_distance_m=3.0), 24.89)
    assert label.focal_length_mm == 50.0
    assert label.equivalent_35mm_mm == pytest.approx(72.3, abs=0.05)
    assert label.crop_factor == pytest.approx(36.0 / 24.89)
    assert not label.missing


def test_default_sensor_width_is_the_configs_super35():
    assert SUPER35_WIDTH_MM == IntrinsicsConfig().sensor_width_mm == 24.89
    assert focal_label(LensState(50.0, 3.0)).equivalent_35mm_mm == pytest.approx(72.3, abs=0.05)


def test_full_frame_is_its_own_equivalent():
    assert crop_factor(36.0) == 1.0
    assert equivalent_focal_length_mm(35.0, 36.0) == 35.0


@given(st.floats(8.0, 600.0), st.floats(5.0, 60.0))
def test_equivalent_keeps_the_horizontal_angle_of_view(focal_mm, width_mm):
    equivalent = equivalent_focal_length_mm(focal_mm, width_mm)
    assert horizontal_fov_deg(equivalent, 36.0) == pytest.approx(horizontal_fov_deg(focal_mm, width_mm), rel=1e-9)


def test_horizontal_equivalence_differs_from_a_diagonal_one_on_16_by_9():
    # The docstring's numbers: a diagonal equivalence would call 50 mm on Super 35 16:9 a 75.8.
    diagonal_factor = math.hypot(36.0, 24.0) / math.hypot(24.89, 24.89 * 9 / 16)
    assert 50.0 * diagonal_factor == pytest.approx(75.8, abs=0.05)
    assert equivalent_focal_length_mm(50.0) < 50.0 * diagonal_factor


def test_super35_horizontal_angle_of_view():
    # 2 atan(24.89 / 100) = 27.95 deg for 50 mm.
    assert horizontal_fov_deg(50.0) == pytest.approx(27.95, abs=0.01)


def test_missing_lens_is_marked_missing_never_invented():
    label = focal_label(None)
    assert label.missing and "no lens" in label.missing_reason
    assert label.focal_length_mm is None and label.equivalent_35mm_mm is None and label.horizontal_fov_deg is None
    assert label.sensor_width_mm == 24.89


@pytest.mark.parametrize("focal_mm", [0.0, -35.0, float("nan"), float("inf")])
def test_unusable_focal_length_is_missing(focal_mm):
    label = focal_label(LensState(focal_length_mm=focal_mm, focus_distance_m=2.0))
    assert label.missing and "not a positive number" in label.missing_reason
    assert label.equivalent_35mm_mm is None


@pytest.mark.parametrize("width_mm", [0.0, -24.89, float("nan")])
def test_bad_sensor_width_is_a_configuration_error(width_mm):
    with pytest.raises(ValueError, match="sensor_width_mm"):
        focal_label(LensState(50.0, 3.0), width_mm)


@pytest.mark.parametrize(
    ("start_mm", "rate_mm_per_s", "direction"),
    [(24.0, 6.0, ZoomDirection.IN), (50.0, 10.0, ZoomDirection.IN), (200.0, -40.0, ZoomDirection.OUT),
     (80.0, -2.0, ZoomDirection.OUT)],
)
def test_zoom_ramp_direction_and_rates_within_2_percent(start_mm, rate_mm_per_s, direction):
    t = _times()
    label = zoom_over_window(t, _ramp(t, start_mm, rate_mm_per_s))
    mid_mm = start_mm + rate_mm_per_s * 0.25
    assert label.direction is direction and not label.missing
    assert label.rate_mm_per_s == pytest.approx(rate_mm_per_s, rel=0.02)
    assert label.rate_pct_per_s == pytest.approx(100.0 * rate_mm_per_s / mid_mm, rel=0.02)
    assert label.mean_focal_length_mm == pytest.approx(mid_mm, rel=1e-9)


@pytest.mark.parametrize("rate_hz", [24.0, 100.0])
def test_encoder_noise_is_not_a_zoom(rate_hz):
    rng = np.random.default_rng(7)
    t = _times(rate_hz=rate_hz)
    focal = list(50.0 + rng.normal(0.0, 0.05, len(t)))
    label = zoom_over_window(t, focal)
    assert label.direction is ZoomDirection.STATIC
    assert abs(label.rate_pct_per_s) < ZOOM_THRESHOLD_PCT_PER_S / 2


@pytest.mark.parametrize(("factor", "direction"), [(1.1, ZoomDirection.IN), (0.9, ZoomDirection.STATIC),
                                                   (-1.1, ZoomDirection.OUT), (-0.9, ZoomDirection.STATIC)])
def test_zoom_threshold_just_above_and_below(factor, direction):
    t = _times()
    # A ramp whose rate over the mean focal length is factor * threshold.
    mean_mm = 50.0
    rate_mm_per_s = factor * ZOOM_THRESHOLD_PCT_PER_S / 100.0 * mean_mm
    label = zoom_over_window(t, _ramp(t, mean_mm - rate_mm_per_s * 0.25, rate_mm_per_s))
    assert label.direction is direction
    assert label.rate_pct_per_s == pytest.approx(factor * ZOOM_THRESHOLD_PCT_PER_S, rel=1e-6)


def test_zoom_with_a_missing_focal_length_is_missing():
    t = _times()
    focal = _ramp(t, 50.0, 10.0)
    focal[10] = None
    label = zoom_over_window(t, focal)
    assert label.missing and label.direction is ZoomDirection.MISSING
    assert "sample 10" in label.missing_reason and label.rate_pct_per_s is None


@pytest.mark.parametrize(
    ("t_ns", "reason"),
    [
        ([T0_NS + i * 10 * NS_PER_MS for i in range(5)], "at least 6"),
        ([T0_NS + i * 100 * NS_PER_MS for i in range(3)] + [T0_NS + (350 + i * 50) * NS_PER_MS for i in range(4)],
         "gap of 150.0 ms"),
        ([T0_NS + i * 10 * NS_PER_MS for i in range(20)], "span 190.0 ms"),
        ([T0_NS + i * 50 * NS_PER_MS for i in range(6)] + [T0_NS + 250 * NS_PER_MS], "do not increase"),
    ],
)
def test_zoom_window_too_short_gapped_or_unordered_is_missing(t_ns, reason):
    label = zoom_over_window(t_ns, [50.0] * len(t_ns))
    assert label.missing and reason in label.missing_reason


def test_window_edges_must_be_covered():
    t = _times(duration_s=0.3)
    assert window_problem(t) is None
    late_start = window_problem(t, start_ns=t[0] - MAX_SAMPLE_GAP_NS - 1)
    assert late_start is not None and "first" in late_start
    early_end = window_problem(t, end_ns=t[-1] + 2 * MAX_SAMPLE_GAP_NS)
    assert early_end is not None and "last 200.0 ms" in early_end
    assert window_problem(t, start_ns=t[0] - MAX_SAMPLE_GAP_NS, end_ns=t[-1] + MAX_SAMPLE_GAP_NS) is None


def test_zoom_needs_one_focal_length_per_time():
    with pytest.raises(ValueError, match="focal lengths"):
        zoom_over_window(_times(), [50.0])
