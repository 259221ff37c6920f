"""Shot sizes from where the frame's lower edge cuts the subject: the geometry and the bounds."""

from __future__ import annotations

import numpy as np
import pytest

from engines.captioner.shot_size import (
    CUT_BOUNDS,
    WIDE_BELOW_FRAME_FRACTION,
    FrameCut,
    ShotSize,
    frame_cut,
    shot_size_of,
)
from sensors.camera.optics import intrinsics_matrix
from sensors.vocabulary import T_RIG_CAMERA_OPTICAL, rotation_from_pan_tilt_roll

WIDTH, HEIGHT = 640, 360
SUPER35_MM = 24.89


def _camera(position, pan_deg=0.0, tilt_deg=0.0, focal_mm=35.0):
    T_stage_rig = np.eye(4)
    T_stage_rig[:3, :3] = rotation_from_pan_tilt_roll(pan_deg, tilt_deg, 0.0)
    T_stage_rig[:3, 3] = position
    return intrinsics_matrix(focal_mm, SUPER35_MM, WIDTH, HEIGHT, None), T_stage_rig @ T_RIG_CAMERA_OPTICAL


def _focal_for_lower_edge(distance_m, camera_z_m, lower_z_m):
    """The focal length (mm) that puts a level camera's lower edge at ``lower_z_m`` on a plane
    ``distance_m`` away: half the frame's height there is ``camera_z - lower_z``."""
    sensor_height_mm = SUPER35_MM * HEIGHT / WIDTH
    return (sensor_height_mm / 2.0) * distance_m / (camera_z_m - lower_z_m)


def test_a_level_camera_cuts_where_its_lower_edge_meets_the_subjects_plane():
    K, T = _camera([0.0, 0.0, 1.5], focal_mm=_focal_for_lower_edge(3.0, 1.5, 1.0))
    cut = frame_cut(K, T, (WIDTH, HEIGHT), (3.0, 0.0), 1.75)
    assert cut.lower_z_m == pytest.approx(1.0, abs=0.005)
    assert cut.upper_z_m == pytest.approx(2.0, abs=0.005)
    assert cut.cut == pytest.approx(0.75 / 1.75, abs=0.003)
    assert cut.figure_fraction == pytest.approx(1.75, abs=0.01)
    assert shot_size_of(cut) is ShotSize.MS


def test_the_plane_faces_the_camera_whatever_the_heading():
    # The same shot turned 130 degrees about the stage: the cut does not change.
    K, T = _camera([0.0, 0.0, 1.5], focal_mm=_focal_for_lower_edge(3.0, 1.5, 1.0))
    a = np.radians(130.0)
    K2, T2 = _camera([1.0, 2.0, 1.5], pan_deg=130.0, focal_mm=_focal_for_lower_edge(3.0, 1.5, 1.0))
    c1 = frame_cut(K, T, (WIDTH, HEIGHT), (3.0, 0.0), 1.75)
    c2 = frame_cut(K2, T2, (WIDTH, HEIGHT), (1.0 + 3.0 * np.cos(a), 2.0 + 3.0 * np.sin(a)), 1.75)
    assert c2.cut == pytest.approx(c1.cut, abs=1e-6)


def test_tilting_down_lowers_the_cut():
    K, level = _camera([0.0, 0.0, 1.5], focal_mm=50.0)
    _, down = _camera([0.0, 0.0, 1.5], tilt_deg=-10.0, focal_mm=50.0)
    c_level = frame_cut(K, level, (WIDTH, HEIGHT), (3.0, 0.0), 1.75)
    c_down = frame_cut(K, down, (WIDTH, HEIGHT), (3.0, 0.0), 1.75)
    assert c_down.lower_z_m < c_level.lower_z_m - 0.4  # 10 degrees at 3 m: about half a metre


@pytest.mark.parametrize(
    "lower_z, expected",
    [(1.60, ShotSize.ECU), (1.45, ShotSize.CU), (1.20, ShotSize.MCU), (0.90, ShotSize.MS),
     (0.50, ShotSize.MLS), (0.20, ShotSize.FS)],
)
def test_each_size_by_its_lower_edge(lower_z, expected):
    camera_z = 1.7 if lower_z > 1.2 else 1.5
    K, T = _camera([0.0, 0.0, camera_z], focal_mm=_focal_for_lower_edge(2.5, camera_z, lower_z))
    assert shot_size_of(frame_cut(K, T, (WIDTH, HEIGHT), (2.5, 0.0), 1.75)) is expected


def test_a_whole_figure_small_in_frame_is_wide():
    K, T = _camera([0.0, 0.0, 1.5], focal_mm=18.0)
    near = frame_cut(K, T, (WIDTH, HEIGHT), (4.0, 0.0), 1.75)
    far = frame_cut(K, T, (WIDTH, HEIGHT), (12.0, 0.0), 1.75)
    assert near.cut > 1.0 and far.cut > 1.0  # both show the feet
    assert near.figure_fraction >= WIDE_BELOW_FRAME_FRACTION > far.figure_fraction
    assert shot_size_of(near) is ShotSize.FS and shot_size_of(far) is ShotSize.WS


def test_the_bounds_are_ordered_and_each_size_is_reached_just_below_its_bound():
    bounds = [b for _, b in CUT_BOUNDS]
    assert bounds == sorted(bounds)
    for size, bound in CUT_BOUNDS:
        assert shot_size_of(FrameCut(bound - 1e-6, 0.0, 1.0, 1.0)) is size
    assert shot_size_of(FrameCut(float("nan"), 0.0, 1.0, 1.0)) is ShotSize.NONE
    assert [s.rank for s in ShotSize] == [0, 1, 2, 3, 4, 5, 6, -1]


def test_a_subject_behind_the_camera_has_no_cut():
    K, T = _camera([0.0, 0.0, 1.5], focal_mm=35.0)
    assert shot_size_of(frame_cut(K, T, (WIDTH, HEIGHT), (-3.0, 0.0), 1.75)) is ShotSize.NONE
    with pytest.raises(ValueError):
        frame_cut(K, T, (WIDTH, HEIGHT), (3.0, 0.0), 0.0)
