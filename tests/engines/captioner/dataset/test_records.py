"""Stored frame labels: the labeler's missing names become the stored fields, nothing unmeasured is kept."""

from __future__ import annotations

import math
from types import SimpleNamespace

from engines.captioner.dataset.records import NOT_FINITE, frame_record, stored_missing
from engines.captioner.movement import MovementClass
from engines.captioner.shot_size import ShotSize
from sensors.vocabulary import FrameRate, Timecode


def _frame(missing=(), distance=3.2, speed=14.5, movement=MovementClass.PAN_RIGHT, focal=35.0):
    labels = SimpleNamespace(
        focal=SimpleNamespace(focal_length_mm=focal, equivalent_35mm_mm=None if focal is None else focal * 1.4464),
        movement=SimpleNamespace(movement=movement, speed=speed, speed_unit="deg/s"),
        shot_size=ShotSize.MS, subject_distance_m=distance, height_assumed=True)
    return SimpleNamespace(frame_index=42, t_ns=1_767_225_601_000_000_000,
                           timecode=Timecode(1, 0, 1, 18, FrameRate.FPS_24), timecode_verdict="verified",
                           labels=labels, missing=dict(missing), fused=SimpleNamespace(points_used=2100))


def test_a_measured_frame_keeps_every_label_with_its_unit():
    record = frame_record(_frame(), "take-a", "pan-s7")
    assert record.key == "take-a__000042" and record.timecode == "01:00:01:18" and record.timecode_rate == "24"
    assert record.labels() == {"focal_length_mm": 35.0, "focal_35mm_mm": 35.0 * 1.4464, "movement": "pan_right",
                               "movement_speed": 14.5, "movement_speed_unit": "deg/s", "shot_size": "MS",
                               "subject_distance_m": 3.2}
    assert record.missing == {} and record.height_assumed and record.points_used == 2100


def test_missing_labels_are_none_with_the_reason_on_every_field_they_fill():
    reasons = {"focal_length": "no lens state for the frame", "subject": "no LiDAR return in this frame",
               "shot_size": "no LiDAR return in this frame", "movement": "3 samples in the window, at least 6 needed"}
    record = frame_record(_frame(reasons, movement=MovementClass.MISSING, speed=None, focal=None), "t", "s")
    assert all(value is None for value in record.labels().values())
    assert record.missing == stored_missing(reasons) == {
        "focal_35mm_mm": "no lens state for the frame", "focal_length_mm": "no lens state for the frame",
        "movement": "3 samples in the window, at least 6 needed", "shot_size": "no LiDAR return in this frame",
        "subject_distance_m": "no LiDAR return in this frame"}
    assert record.height_assumed is False


def test_a_value_that_is_not_a_number_is_missing_not_stored():
    record = frame_record(_frame(distance=math.nan, speed=math.inf), "t", "s")
    assert record.subject_distance_m is None and record.missing["subject_distance_m"] == NOT_FINITE
    assert record.movement is None and record.movement_speed is None and record.missing["movement"] == NOT_FINITE
    assert record.shot_size == "MS" and record.focal_length_mm == 35.0
