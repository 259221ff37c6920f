"""The subject from LiDAR depth: a person's size is found, furniture and walls are not."""

from __future__ import annotations

import numpy as np
import pytest

from engines.captioner.subject import find_subject
from sensors.camera.optics import intrinsics_matrix
from sensors.vocabulary import T_RIG_CAMERA_OPTICAL, rotation_from_pan_tilt_roll

WIDTH, HEIGHT = 640, 360


def _camera(position=(0.0, 0.0, 1.5), pan_deg=0.0, tilt_deg=0.0, focal_mm=25.0):
    T_stage_rig = np.eye(4)
    T_stage_rig[:3, :3] = rotation_from_pan_tilt_roll(pan_deg, tilt_deg, 0.0)
    T_stage_rig[:3, 3] = position
    return intrinsics_matrix(focal_mm, 24.89, WIDTH, HEIGHT, None), T_stage_rig @ T_RIG_CAMERA_OPTICAL


def _box_surface(centre_xy, size_xyz, step_m=0.005, z0=0.0):
    """Points on the faces of an axis-aligned box standing on the floor (stage metres)."""
    sx, sy, sz = size_xyz
    xs = np.arange(-sx / 2, sx / 2 + 1e-9, step_m)
    ys = np.arange(-sy / 2, sy / 2 + 1e-9, step_m)
    zs = np.arange(z0, z0 + sz + 1e-9, step_m)
    faces = []
    for x in (-sx / 2, sx / 2):
        Y, Z = np.meshgrid(ys, zs)
        faces.append(np.c_[np.full(Y.size, x), Y.ravel(), Z.ravel()])
    for y in (-sy / 2, sy / 2):
        X, Z = np.meshgrid(xs, zs)
        faces.append(np.c_[X.ravel(), np.full(X.size, y), Z.ravel()])
    X, Y = np.meshgrid(xs, ys)
    faces.append(np.c_[X.ravel(), Y.ravel(), np.full(X.size, z0 + sz)])
    return np.concatenate(faces) + [centre_xy[0], centre_xy[1], 0.0]


def _floor(extent_m=8.0, step_m=0.05):
    X, Y = np.meshgrid(np.arange(0.5, extent_m, step_m), np.arange(-extent_m / 2, extent_m / 2, step_m))
    return np.c_[X.ravel(), Y.ravel(), np.zeros(X.size)]


def _depth(points, K, T, rings_deg=None):
    """Z-buffered optical-axis depth (H,W) of stage ``points``, sparse like a spinning LiDAR: only
    the points near ``rings_deg`` elevations seen from the camera (every 2 degrees by default)."""
    inv = np.linalg.inv(T)
    cam = points @ inv[:3, :3].T + inv[:3, 3]
    cam = cam[cam[:, 2] > 0.1]
    elevation = np.degrees(np.arctan2(-cam[:, 1], np.hypot(cam[:, 0], cam[:, 2])))
    rings = np.arange(-15.0, 15.01, 2.0) if rings_deg is None else np.asarray(rings_deg)
    near = np.min(np.abs(elevation[:, None] - rings[None, :]), axis=1) < 0.15
    cam = cam[near]
    uv = cam @ K.T
    u = np.rint(uv[:, 0] / uv[:, 2]).astype(int)
    v = np.rint(uv[:, 1] / uv[:, 2]).astype(int)
    inside = (u >= 0) & (u < WIDTH) & (v >= 0) & (v < HEIGHT)
    depth = np.full((HEIGHT, WIDTH), np.inf)
    np.minimum.at(depth, (v[inside], u[inside]), cam[inside, 2])
    depth[~np.isfinite(depth)] = np.nan
    return depth


PERSON = (0.3, 0.6, 1.75)  # deep, wide, tall: a standing person's box


def _person(centre_xy):
    """A standing person: a body 0.3 deep, 0.6 wide to the shoulders (1.5 m), a 0.2 m head above."""
    body = _box_surface(centre_xy, (0.3, 0.6, 1.5))
    return np.concatenate([body, _box_surface(centre_xy, (0.2, 0.2, 0.25), z0=1.5)])


def test_a_standing_person_is_found_at_its_distance():
    K, T = _camera()
    points = np.concatenate([_floor(), _box_surface((4.0, 0.0), PERSON)])
    subject = find_subject(_depth(points, K, T), K, T)
    assert subject is not None
    assert subject.distance_m == pytest.approx(4.0 - 0.15, abs=0.03)  # its front face
    assert subject.position_xy_m[1] == pytest.approx(0.0, abs=0.05)
    assert 1.6 <= subject.top_z_m <= 1.75 and subject.top_in_frame


@pytest.mark.parametrize("name, centre, size", [
    ("crate", (4.0, 0.0), (0.8, 0.8, 1.0)),
    ("narrow crate", (4.0, 0.0), (0.4, 0.4, 1.1)),
    ("cabinet", (4.0, 0.0), (0.5, 1.2, 1.9)),
    ("column", (4.0, 0.0), (0.5, 0.5, 5.0)),
    ("wall", (6.0, 0.0), (0.1, 8.0, 3.0)),
])
def test_furniture_and_walls_are_no_subject(name, centre, size):
    K, T = _camera()
    points = np.concatenate([_floor(), _box_surface(centre, size)])
    assert find_subject(_depth(points, K, T), K, T) is None, name


def test_an_empty_set_has_no_subject():
    K, T = _camera()
    assert find_subject(_depth(_floor(), K, T), K, T) is None
    assert find_subject(np.full((HEIGHT, WIDTH), np.nan), K, T) is None


def test_the_person_nearest_the_frame_centre_is_the_subject():
    K, T = _camera(pan_deg=0.0)
    off_centre = _box_surface((3.0, 1.0), PERSON)  # nearer, but to the left
    centred = _box_surface((5.0, -0.1), PERSON)
    subject = find_subject(_depth(np.concatenate([_floor(), off_centre, centred]), K, T), K, T)
    assert subject is not None and subject.position_xy_m[0] > 4.5


def test_the_distance_is_the_persons_not_the_set_behind():
    K, T = _camera()
    points = np.concatenate([_floor(), _box_surface((3.0, 0.0), PERSON), _box_surface((7.0, 0.0), (0.1, 8.0, 3.0))])
    subject = find_subject(_depth(points, K, T), K, T)
    assert subject is not None and subject.distance_m == pytest.approx(2.85, abs=0.03)


def test_a_person_beside_a_cabinet_is_found():
    K, T = _camera()
    points = np.concatenate([_floor(), _box_surface((4.0, 0.0), PERSON), _box_surface((5.0, 1.5), (0.5, 1.2, 1.9))])
    subject = find_subject(_depth(points, K, T), K, T)
    assert subject is not None and subject.position_xy_m[1] == pytest.approx(0.0, abs=0.1)


def test_a_head_cut_by_the_top_of_frame_is_flagged():
    K, T = _camera(position=(0.0, 0.0, 1.4), focal_mm=75.0)  # tight: the head leaves the top
    points = np.concatenate([_floor(), _person((2.5, 0.0))])
    subject = find_subject(_depth(points, K, T, rings_deg=np.arange(-15.0, 15.01, 0.5)), K, T)
    assert subject is not None and not subject.top_in_frame


def test_a_column_cut_by_the_top_of_frame_is_no_subject():
    # The same tight frame on a 0.41 m column: its top is out of frame and it is wider than a head.
    K, T = _camera(position=(0.0, 0.0, 1.4), focal_mm=75.0)
    points = np.concatenate([_floor(), _box_surface((2.5, 0.0), (0.41, 0.41, 5.0))])
    assert find_subject(_depth(points, K, T, rings_deg=np.arange(-15.0, 15.01, 0.5)), K, T) is None


def test_a_pole_cut_by_the_top_and_a_side_of_frame_is_no_subject():
    # A head-wide pole at the frame's right edge, its top out of frame: its size is unknown.
    K, T = _camera(position=(0.0, 0.0, 1.4), focal_mm=75.0)
    points = np.concatenate([_floor(), _box_surface((2.5, -0.36), (0.2, 0.2, 5.0))])
    assert find_subject(_depth(points, K, T, rings_deg=np.arange(-15.0, 15.01, 0.5)), K, T) is None
