"""Lens calibration: encoder counts <-> focal length and focus distance, both ways, clamped."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from config.models import LensCalibrationConfig
from sensors.telemetry.errors import LensCalibrationError, LensValueError
from sensors.telemetry.lens import (
    focal_length_mm_from_zoom_raw,
    focus_distance_m_from_focus_raw,
    focus_raw_from_focus_distance_m,
    lens_from_raw,
    lens_step_per_count,
    raw_from_lens,
    zoom_raw_from_focal_length_mm,
)
from sensors.vocabulary import LensState
from tests.sensors.telemetry.support import property_settings

DEFAULT = LensCalibrationConfig()
# A zoom that is not linear and a focus ring that counts up towards close focus.
CURVED = LensCalibrationConfig(
    zoom_raw=[0, 16384, 32768, 49152, 65535],
    focal_length_mm=[19.0, 28.0, 40.0, 58.0, 80.0],
    focus_raw=[1000, 20000, 40000, 60000],
    focus_distance_m=[1000.0, 10.0, 2.0, 0.6],
)
CALIBRATIONS = [DEFAULT, CURVED]


def test_table_points_map_exactly():
    for raw, mm in zip(CURVED.zoom_raw, CURVED.focal_length_mm):
        assert focal_length_mm_from_zoom_raw(raw, CURVED) == pytest.approx(mm)
        assert zoom_raw_from_focal_length_mm(mm, CURVED) == raw
    for raw, m in zip(CURVED.focus_raw, CURVED.focus_distance_m):
        assert focus_distance_m_from_focus_raw(raw, CURVED) == pytest.approx(m)
        assert focus_raw_from_focus_distance_m(m, CURVED) == raw


def test_linear_between_points():
    assert focal_length_mm_from_zoom_raw(8192, CURVED) == pytest.approx(23.5)
    assert focus_distance_m_from_focus_raw(50000, CURVED) == pytest.approx(1.3)
    assert zoom_raw_from_focal_length_mm(34.0, CURVED) == 24576
    assert focus_raw_from_focus_distance_m(6.0, CURVED) == 30000


def test_out_of_table_values_clamp_to_the_end_stops():
    assert focal_length_mm_from_zoom_raw((1 << 24) - 1, CURVED) == 80.0
    assert focus_distance_m_from_focus_raw(0, CURVED) == 1000.0
    assert focus_distance_m_from_focus_raw(65535, CURVED) == 0.6
    assert zoom_raw_from_focal_length_mm(5.0, CURVED) == 0
    assert zoom_raw_from_focal_length_mm(300.0, CURVED) == 65535
    assert focus_raw_from_focus_distance_m(0.1, CURVED) == 60000
    assert focus_raw_from_focus_distance_m(math.inf, CURVED) == 1000
    assert focus_raw_from_focus_distance_m(math.inf, DEFAULT) == 65535


def test_nan_lens_values_are_refused():
    with pytest.raises(LensValueError, match="focal_length_mm"):
        zoom_raw_from_focal_length_mm(float("nan"), DEFAULT)
    with pytest.raises(LensValueError, match="focus_distance_m"):
        raw_from_lens(LensState(35.0, float("nan")), DEFAULT)


def test_a_table_that_is_not_monotonic_cannot_be_inverted():
    cal = LensCalibrationConfig(focus_raw=[0, 100, 200], focus_distance_m=[1.0, 5.0, 3.0])
    assert focus_distance_m_from_focus_raw(150, cal) == pytest.approx(4.0)  # forward still works
    with pytest.raises(LensCalibrationError, match="not strictly monotonic"):
        focus_raw_from_focus_distance_m(4.0, cal)


@pytest.mark.parametrize("cal", CALIBRATIONS, ids=["default", "curved"])
@property_settings(max_examples=150)
@given(data=st.data())
def test_counts_roundtrip_exactly(cal, data):
    zoom = data.draw(st.integers(cal.zoom_raw[0], cal.zoom_raw[-1]))
    focus = data.draw(st.integers(cal.focus_raw[0], cal.focus_raw[-1]))
    lens = lens_from_raw(zoom, focus, cal, t_stop=5.6)
    assert lens.t_stop == 5.6
    assert raw_from_lens(lens, cal) == (zoom, focus)


@pytest.mark.parametrize("cal", CALIBRATIONS, ids=["default", "curved"])
@property_settings(max_examples=150)
@given(data=st.data())
def test_physical_values_roundtrip_within_half_a_count(cal, data):
    focal_mm = data.draw(st.floats(min(cal.focal_length_mm), max(cal.focal_length_mm)))
    focus_m = data.draw(st.floats(min(cal.focus_distance_m), max(cal.focus_distance_m)))
    focal_step, focus_step = lens_step_per_count(cal)
    back = lens_from_raw(*raw_from_lens(LensState(focal_mm, focus_m), cal), cal)
    assert abs(back.focal_length_mm - focal_mm) <= focal_step / 2 + 1e-9
    assert abs(back.focus_distance_m - focus_m) <= focus_step / 2 + 1e-9


def test_step_per_count_is_the_steepest_segment():
    focal_step, focus_step = lens_step_per_count(CURVED)
    assert focal_step == pytest.approx(22.0 / 16383)
    assert focus_step == pytest.approx(990.0 / 19000)
