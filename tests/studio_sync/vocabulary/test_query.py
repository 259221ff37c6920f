"""ShotQuery.matches over frame and shot label records, to_dict, and the ranges it is made of."""

from __future__ import annotations

import dataclasses
import json
import math

import pytest

from engines.captioner.dataset.records import LABEL_FIELDS, FrameRecord
from engines.captioner.dataset.segment import ShotLabels
from engines.captioner.movement import MovementClass
from engines.captioner.shot_size import ShotSize
from studio_sync.vocabulary import Range, ShotQuery, SpeedRange, parse_phrase

EXAMPLE = "MCU, 75mm, slow push-in, subject under 3 m"

# A frame the example asks for: an MCU on a 75 mm lens, pushing in at 0.2 m/s, the subject 2.5 m away.
FRAME = {"focal_length_mm": 75.4, "focal_35mm_mm": 109.0, "movement": "dolly_in", "movement_speed": 0.2,
         "movement_speed_unit": "m/s", "shot_size": "MCU", "subject_distance_m": 2.5}


def test_a_frame_with_every_label_asked_for_matches():
    assert parse_phrase(EXAMPLE).matches(FRAME)


@pytest.mark.parametrize(
    "change",
    [
        {"shot_size": "CU"},
        {"shot_size": None},
        {"focal_length_mm": 85.0},
        {"focal_length_mm": 72.9},
        {"focal_length_mm": None},
        {"movement": "pan_left", "movement_speed": 3.0, "movement_speed_unit": "deg/s"},
        {"movement": None},
        {"movement_speed": 0.5},
        {"movement_speed": 0.04},
        {"movement_speed": None, "movement_speed_unit": None},
        {"movement_speed_unit": "%/s", "movement_speed": 50.0},
        {"subject_distance_m": 3.2},
        {"subject_distance_m": None},
        {"subject_distance_m": float("nan")},
    ],
)
def test_a_frame_that_misses_one_filter_does_not_match(change):
    assert not parse_phrase(EXAMPLE).matches({**FRAME, **change})


def test_bounds_are_inclusive():
    q = parse_phrase("MCU, 75mm, slow push-in, subject under 3 m")
    assert q.matches({**FRAME, "subject_distance_m": 3.0, "focal_length_mm": 76.875, "movement_speed": 0.05})


def test_the_labels_a_frame_record_stores_are_the_ones_it_reads():
    record = FrameRecord(key="t__000001", take_id="t", scene="12", frame_index=1, t_ns=0, timecode=None,
                         timecode_rate=None, timecode_verdict=None, height_assumed=False, points_used=100,
                         missing={}, **FRAME)
    assert set(FRAME) == set(LABEL_FIELDS)
    assert parse_phrase(EXAMPLE).matches(record.labels())
    assert not parse_phrase("CU").matches(record.labels())


def test_a_shot_s_labels_match_by_their_means():
    shot = ShotLabels(frames=48, mean_focal_length_mm=75.2, mean_focal_35mm_mm=108.7, shot_size="MCU",
                      shot_size_share=0.9, movement="dolly_in", movement_share=0.8, movement_speed=0.21,
                      movement_speed_unit="m/s", mean_subject_distance_m=2.6)
    labels = dataclasses.asdict(shot)
    assert parse_phrase(EXAMPLE).matches(labels)
    assert not parse_phrase("MCU, 75mm, beyond 3 m").matches(labels)
    assert not parse_phrase("longer than 120mm equivalent").matches(labels)
    assert parse_phrase("longer than 100mm equivalent").matches(labels)


def test_a_pace_checks_the_speed_in_the_label_s_own_unit():
    q = parse_phrase("slow")
    assert q.matches({"movement": "pan_left", "movement_speed": 5.0, "movement_speed_unit": "deg/s"})
    assert not q.matches({"movement": "pan_left", "movement_speed": 15.0, "movement_speed_unit": "deg/s"})
    assert q.matches({"movement": "zoom_in", "movement_speed": 10.0, "movement_speed_unit": "%/s"})
    assert not q.matches({"movement": "static", "movement_speed": None, "movement_speed_unit": None})


def test_labels_may_be_the_captioner_s_enums():
    assert parse_phrase("MCU, push in").matches({"shot_size": ShotSize.MCU, "movement": MovementClass.DOLLY_IN})
    assert not parse_phrase("no subject").matches({"shot_size": ShotSize.MCU})
    assert parse_phrase("no subject").matches({"shot_size": ShotSize.NONE})


def test_nobody_in_frame_is_the_none_size_not_a_missing_one():
    q = parse_phrase("empty frame")
    assert q.no_subject and q.shot_sizes == {ShotSize.NONE}
    assert q.matches({"shot_size": "none", "subject_distance_m": None})
    assert not q.matches({"shot_size": None})
    assert not parse_phrase("MCU, empty frame").no_subject


def test_a_movement_that_could_not_be_measured_is_asked_for_by_name():
    q = parse_phrase("unknown movement")
    assert q.movements == {MovementClass.MISSING}
    assert q.matches({"movement": None}) and q.matches({"movement": "missing"})
    assert not q.matches({"movement": "static"})


def test_an_empty_query_matches_everything():
    assert ShotQuery().empty and ShotQuery().matches({}) and ShotQuery().matches(FRAME)
    assert not parse_phrase("MCU").empty


def test_to_dict_is_plain_json_with_open_ranges_as_null():
    d = parse_phrase("CU and MCU, longer than 85mm, slow pan, beyond 5 m").to_dict()
    assert json.loads(json.dumps(d, allow_nan=False)) == d
    assert d["shot_sizes"] == ["CU", "MCU"] and d["no_subject"] is False
    assert d["focal_mm"] == [85.0, None] and d["focal_35mm_mm"] is None
    assert d["movements"] == ["pan_left", "pan_right"]
    assert d["speed"]["deg/s"] == [1.5, 6.0] and set(d["speed"]) == {"m/s", "deg/s", "%/s"}
    assert d["distance_m"] == [5.0, None]
    assert [r["text"] for r in d["readings"]] == ["CU", "MCU", "longer than 85mm", "slow pan", "beyond 5 m"]


def test_ranges_contain_only_finite_numbers_and_intersect_or_not():
    r = Range(2.0, 4.0)
    assert 2.0 in r and 4.0 in r and 3 in r
    assert all(v not in r for v in (1.99, 4.01, None, True, "3", float("nan"), math.inf))
    assert r.intersect(Range(3.0, math.inf)) == Range(3.0, 4.0) and r.intersect(Range(5.0, 6.0)) is None
    assert [r.describe("m"), Range(0.0, 3.0).describe("m"), Range(85.0, math.inf).describe("mm")] == [
        "2-4 m", "at most 3 m", "at least 85 mm"]


def test_speed_ranges_intersect_per_unit():
    slow = parse_phrase("slow").speed
    exact = SpeedRange(m_per_s=Range(0.27, 0.33))
    both = slow.intersect(exact)
    assert list(both.ranges()) == ["m/s"] and tuple(both.m_per_s) == pytest.approx((0.27, 0.1 * math.pi))
    assert slow.intersect(SpeedRange(deg_per_s=Range(20.0, 30.0))) is None
