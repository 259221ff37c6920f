"""The auto-labeler on fused frames: every label from the frame's own measurements, none invented."""

from __future__ import annotations

import numpy as np
import pytest

from engines.captioner.labeler import STANDING_HEIGHT_M, AutoLabeler
from engines.captioner.movement import MovementClass
from engines.captioner.shot_size import ShotSize
from sensors.vocabulary import FusedFrame, LensState, RigPose, matrix_to_quat, rotation_from_pan_tilt_roll
from tests.engines.captioner.test_subject import HEIGHT, WIDTH, _camera, _depth, _floor, _person

FPS = 24


def _frame(k, depth, K, position, pan_deg=0.0, focal_mm=25.0, lens=True, pose=True):
    t_ns = 1_000_000_000 + k * 1_000_000_000 // FPS
    rig = RigPose(t_ns, np.asarray(position, dtype=float),
                  matrix_to_quat(rotation_from_pan_tilt_roll(pan_deg, 0.0, 0.0))) if pose else None
    return FusedFrame(frame_index=k, t_ns=t_ns, timecode=None, rgb=np.zeros((HEIGHT, WIDTH, 3), np.uint8),
                      depth_m=depth, pose=rig, lens=LensState(focal_mm, 3.0) if lens else None, K=K,
                      distortion=(0.0,) * 5)


def test_a_static_full_shot_of_a_person_is_labelled_from_the_frame():
    K, T = _camera(focal_mm=20.0)
    depth = _depth(np.concatenate([_floor(), _person((4.0, 0.0))]), K, T)
    labeler = AutoLabeler(24.89)
    labels = [labeler.label(_frame(k, depth, K, (0.0, 0.0, 1.5), focal_mm=20.0)) for k in range(20)]
    last = labels[-1]
    assert last.focal.focal_length_mm == 20.0 and last.focal.equivalent_35mm_mm == pytest.approx(28.93, abs=0.01)
    assert last.movement.movement is MovementClass.STATIC
    assert last.subject is not None and last.subject_distance_m == pytest.approx(3.85, abs=0.03)
    # 20 mm from 1.5 m high, the person's front 3.85 m away: the frame spans 0.15 .. 2.85 m there,
    # the whole figure (its highest return 1.71 m) in 63 % of it: a full shot. (At 25 mm the lower
    # edge would fall at 0.42 m, just above the knees' bound: a medium long shot.)
    assert last.shot_size is ShotSize.FS and not last.height_assumed
    assert last.missing == ()
    assert labels[0].movement.missing  # one pose is no window yet


def test_a_tight_frame_takes_the_standing_height_when_the_head_is_cut():
    K, T = _camera(position=(0.0, 0.0, 1.4), focal_mm=75.0)
    depth = _depth(np.concatenate([_floor(), _person((2.5, 0.0))]), K, T, rings_deg=np.arange(-15.0, 15.01, 0.5))
    labels = AutoLabeler(24.89).label(_frame(0, depth, K, (0.0, 0.0, 1.4), focal_mm=75.0))
    assert labels.subject is not None and labels.height_assumed
    assert labels.cut is not None and labels.cut.cut == pytest.approx(
        (STANDING_HEIGHT_M - labels.cut.lower_z_m) / STANDING_HEIGHT_M)
    assert labels.shot_size in (ShotSize.CU, ShotSize.MCU)


def test_no_person_is_the_none_class_and_missing_inputs_are_marked_not_invented():
    K, T = _camera()
    empty = _depth(_floor(), K, T)
    labeler = AutoLabeler()
    no_subject = labeler.label(_frame(0, empty, K, (0.0, 0.0, 1.5)))
    assert no_subject.subject is None and no_subject.shot_size is ShotSize.NONE
    assert "subject" not in dict(no_subject.missing)  # measured: nobody there
    blind = labeler.label(_frame(1, np.full((HEIGHT, WIDTH), np.nan), K, (0.0, 0.0, 1.5), lens=False))
    assert dict(blind.missing)["subject"] == "no LiDAR return in this frame"
    assert blind.focal.focal_length_mm is None and "focal_length" in dict(blind.missing)
    lost = AutoLabeler().label(_frame(2, empty, K, (0.0, 0.0, 1.5), pose=False))
    assert dict(lost.missing)["shot_size"] == "no rig pose for this frame" and lost.movement.missing


def test_telemetry_between_sparse_frames_gives_the_movement_the_frames_alone_cannot():
    """Frames 4 a second (a dataset's rate after drops) with the rig's 100 Hz poses between them:
    a 20 deg/s pan is read from the telemetry; the frames alone are too few for the window."""
    K, T = _camera()
    depth = _depth(_floor(), K, T)
    sparse, fed = AutoLabeler(), AutoLabeler()

    def pose_at(t_ns):
        pan = 20.0 * (t_ns - 1_000_000_000) / 1e9
        return RigPose(int(t_ns), np.array([0.0, 0.0, 1.5]), matrix_to_quat(rotation_from_pan_tilt_roll(pan, 0.0, 0.0)))

    for k in range(8):
        t_ns = 1_000_000_000 + k * 250_000_000
        for j in range(1, 25):  # the telemetry since the previous frame, 100 Hz
            fed.observe(pose_at(t_ns - 250_000_000 + j * 10_000_000), 25.0)
        pose = pose_at(t_ns)
        frame = FusedFrame(frame_index=k, t_ns=t_ns, timecode=None, rgb=np.zeros((HEIGHT, WIDTH, 3), np.uint8),
                           depth_m=depth, pose=pose, lens=LensState(25.0, 3.0), K=K, distortion=(0.0,) * 5)
        alone, with_telemetry = sparse.label(frame), fed.label(frame)
    assert alone.movement.missing and "samples in the window" in alone.movement.missing_reason
    assert with_telemetry.movement.movement in (MovementClass.PAN_LEFT, MovementClass.PAN_RIGHT)
    assert with_telemetry.movement.speed == pytest.approx(20.0, rel=0.05)
