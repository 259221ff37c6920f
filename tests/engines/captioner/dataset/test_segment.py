"""Shot segmentation on label sequences made by hand: cuts only where a label changes for good."""

from __future__ import annotations

from typing import List, Optional

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engines.captioner.dataset.records import FrameRecord
from engines.captioner.dataset.segment import (
    MIN_STABLE_S,
    lens_jumps,
    segment_shots,
    shot_labels,
    stable_changes,
)

FPS = 12
STEP_NS = 1_000_000_000 // FPS


def _t(n: int) -> List[int]:
    return [5_000_000_000 + i * STEP_NS for i in range(n)]


def _records(movement: List[Optional[str]], size: Optional[List[Optional[str]]] = None,
             focal: Optional[List[Optional[float]]] = None, distance: Optional[List[Optional[float]]] = None,
             speed: float = 10.0) -> List[FrameRecord]:
    n = len(movement)
    size = size or ["MS"] * n
    focal = focal or [35.0] * n
    distance = distance or [3.0] * n
    out = []
    for i, t in enumerate(_t(n)):
        missing = {}
        if movement[i] is None:
            missing["movement"] = "telemetry dropped out"
        if focal[i] is None:
            missing["focal_length_mm"] = missing["focal_35mm_mm"] = "no lens"
        if size[i] is None:
            missing["shot_size"] = missing["subject_distance_m"] = "no LiDAR return in this frame"
        moving = movement[i] not in (None, "static")
        out.append(FrameRecord(
            key=f"t__{i:06d}", take_id="t", scene="s", frame_index=2 * i, t_ns=t, timecode=None, timecode_rate=None,
            timecode_verdict=None, focal_length_mm=focal[i],
            focal_35mm_mm=None if focal[i] is None else focal[i] * 1.446,
            movement=movement[i], movement_speed=speed if moving else None,
            movement_speed_unit="deg/s" if moving else None, shot_size=size[i],
            subject_distance_m=None if size[i] is None else distance[i], height_assumed=False, points_used=100,
            missing=missing))
    return out


def test_a_class_held_half_a_second_at_a_new_value_starts_a_shot():
    six = int(MIN_STABLE_S * FPS)  # six frames at 12 fps span 0.5 s
    values = ["static"] * 10 + ["pan_left"] * six + ["static"] * 10
    assert stable_changes(_t(len(values)), values) == [10, 10 + six]
    shorter = ["static"] * 10 + ["pan_left"] * (six - 1) + ["static"] * 10
    assert stable_changes(_t(len(shorter)), shorter) == []  # a flicker stays in its shot


def test_missing_frames_neither_cut_nor_break_a_run():
    values = ["static"] * 8 + [None] * 12 + ["static"] * 8 + ["tilt_up"] * 3 + [None] * 2 + ["tilt_up"] * 3
    # The dropout is not a cut; tilt_up's run spans its gap: 0.5 s from its first frame to its last + 1.
    assert stable_changes(_t(len(values)), values) == [28]


def test_a_blip_back_to_the_old_value_is_not_a_new_shot():
    values = ["pan_right"] * 12 + ["static"] * 2 + ["pan_right"] * 12
    assert stable_changes(_t(len(values)), values) == []


def test_a_lens_jump_that_settles_cuts_a_steady_zoom_does_not():
    zoom = [35.0 * 1.008 ** i for i in range(40)]  # 10 %/s at 12 fps
    assert lens_jumps(_t(40), zoom) == []
    swap = [35.0] * 15 + [85.0] * 15
    assert lens_jumps(_t(30), swap) == [15]
    glitch = [35.0] * 15 + [85.0] + [35.0] * 14
    assert lens_jumps(_t(30), glitch) == []  # jumps out and back: it did not settle
    snap = [35.0] * 10 + [50.0, 70.0] + [85.0] * 12
    assert lens_jumps(_t(24), snap) == [12]  # the shot starts where the snap zoom settled
    assert lens_jumps(_t(20), [35.0] * 10 + [None] * 3 + [35.5] * 7) == []


def test_shots_cover_the_take_and_changes_within_half_a_second_merge():
    movement = ["static"] * 12 + ["pan_right"] * 14 + ["static"] * 12
    size = ["MS"] * 14 + ["none"] * 24  # the subject leaves two frames after the pan held
    shots = segment_shots(_records(movement, size))
    assert [(s.first, s.last) for s in shots] == [(0, 11), (12, 25), (26, 37)]
    assert shots[0].causes == ("take start",) and shots[1].causes == ("movement", "shot_size")
    assert [s.labels.movement for s in shots] == ["static", "pan_right", "static"]
    assert [s.labels.shot_size for s in shots] == ["MS", "none", "none"]
    assert shots[1].labels.shot_size_share == pytest.approx(12 / 14)


def test_shot_labels_are_means_and_majorities_and_say_what_no_frame_had():
    records = _records(["pan_left"] * 7 + ["static"] * 3, size=["CU"] * 4 + ["MCU"] * 6,
                       focal=[50.0] * 5 + [60.0] * 5, distance=[2.0] * 5 + [3.0] * 5, speed=12.0)
    labels = shot_labels(records)
    assert (labels.frames, labels.movement, labels.shot_size) == (10, "pan_left", "MCU")
    assert labels.movement_share == pytest.approx(0.7) and labels.shot_size_share == pytest.approx(0.6)
    assert labels.mean_focal_length_mm == pytest.approx(55.0) and labels.mean_subject_distance_m == pytest.approx(2.5)
    assert labels.movement_speed == pytest.approx(12.0) and labels.movement_speed_unit == "deg/s"
    assert labels.missing == {}
    blind = shot_labels(_records(["static"] * 6, size=[None] * 6, focal=[None] * 6))
    assert blind.shot_size is None and blind.mean_focal_length_mm is None and blind.mean_subject_distance_m is None
    assert blind.missing == {"mean_focal_length_mm": "no lens", "shot_size": "no LiDAR return in this frame",
                             "mean_subject_distance_m": "no LiDAR return in this frame"}
    assert segment_shots([]) == []


@given(st.lists(st.sampled_from(["static", "pan_left", "tilt_up", None]), min_size=1, max_size=80))
def test_shots_partition_the_take_and_last_at_least_the_stable_time(values):
    shots = segment_shots(_records(values))
    assert shots[0].first == 0 and shots[-1].last == len(values) - 1
    assert all(b.first == a.last + 1 for a, b in zip(shots, shots[1:]))
    t = _t(len(values))
    for shot in shots[1:]:
        assert t[shot.first] - t[shots[shot.index - 1].first] >= MIN_STABLE_S * 1e9 - 1e6
        assert shot.labels.frames == shot.last - shot.first + 1
