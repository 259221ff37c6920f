"""Shot-level captions on a hand-made take: the shots, their captions, outliers and confidence."""

import csv
import io
import json

import numpy as np
import pytest

from engines.captioner.inputs import MOVEMENT_CLASSES, SHOT_SIZE_CLASSES
from engines.captioner.model.errors import ModelInputError
from engines.captioner.model.shots import (
    CSV_COLUMNS, FramePrediction, aggregate_shots, caption_sentence, robust_line, shots_csv, shots_document,
    stable_runs,
)

FPS = 12.0


def _probs(classes, name, p=0.9):
    out = np.full(len(classes), (1.0 - p) / (len(classes) - 1))
    out[classes.index(name)] = p
    return out


def _frame(i, shot, movement, focal_mm=50.0, distance_m=3.0, p=0.9, sigma=0.02):
    return FramePrediction(
        frame_index=i, t_ns=int(round(i * 1e9 / FPS)), timecode=f"01:00:00:{i:02d}" if i < 24 else None,
        shot_size_probs=_probs(SHOT_SIZE_CLASSES, shot, p), movement_probs=_probs(MOVEMENT_CLASSES, movement, p),
        focal_mm=focal_mm, focal_log_sigma=sigma, distance_m=distance_m, distance_log_sigma=sigma)


def test_stable_runs_merge_short_runs_away():
    assert stable_runs([1] * 5 + [2] + [1] * 6, 3) == [(0, 12, 1)]
    # 2 joins the longer 1s; then 3 sits between two runs of six and joins the earlier one
    assert stable_runs([1] * 5 + [2, 3] + [4] * 6, 3) == [(0, 7, 1), (7, 13, 4)]
    assert stable_runs([1] * 4 + [2, 3] + [4] * 6, 3) == [(0, 5, 1), (5, 12, 4)]
    assert stable_runs([1] * 4 + [2] * 4, 3) == [(0, 4, 1), (4, 8, 2)]
    assert stable_runs([1, 2, 1, 2], 3) == [(0, 4, 2)]  # the first 1 joins its only neighbour, then 2 1 2 merge
    assert stable_runs([], 3) == []
    assert stable_runs([7, 7], 5) == [(0, 2, 7)]


def test_robust_line_ignores_outliers():
    t = np.arange(40) / FPS
    y = 1.0 + 0.5 * t
    y[[5, 20, 33]] += [3.0, -2.0, 4.0]
    intercept, slope = robust_line(t, y)
    assert intercept == pytest.approx(1.0, abs=1e-9) and slope == pytest.approx(0.5, abs=1e-9)
    assert robust_line(np.zeros(3), np.array([1.0, 2.0, 4.0])) == (2.0, 0.0)


@pytest.fixture()
def take():
    frames = []
    # shot 0: MS, static, 50 mm, 3 m; two frames flicker to MCU, one frame's focal length jumps to 200 mm
    for i in range(30):
        shot = "MCU" if i in (10, 11) else "MS"
        frames.append(_frame(i, shot, "static", focal_mm=200.0 if i == 20 else 50.0))
    # shot 1: MCU, dolly in from 4.0 m at 0.2 m/s, 75 mm; one frame's distance 3 m off the line
    for k in range(36):
        i = 30 + k
        distance = 4.0 - 0.2 * k / FPS
        frames.append(_frame(i, "MCU", "dolly_in", focal_mm=75.0, distance_m=distance + (3.0 if k == 18 else 0.0)))
    # shot 2: no subject, zoom in from 24 mm at 10 %/s (exponential), less sure of itself
    for k in range(24):
        i = 66 + k
        frames.append(_frame(i, "none", "zoom_in", focal_mm=24.0 * np.exp(0.1 * k / FPS), distance_m=8.0, p=0.6))
    return frames


def test_shots_are_found(take):
    shots = aggregate_shots(take, min_frames=12)
    assert [(s.first_frame, s.last_frame, s.frames) for s in shots] == [(0, 29, 30), (30, 65, 36), (66, 89, 24)]
    assert [(s.shot_size, s.movement) for s in shots] == [("MS", "static"), ("MCU", "dolly_in"), ("none", "zoom_in")]
    assert shots[0].tc_in == "01:00:00:00" and shots[0].start_ns == 0
    assert shots[2].end_ns == take[-1].t_ns
    # frames 24 on carry no timecode: shot 0 ends inside the labelled part, the others have none
    assert shots[0].tc_out == "01:00:00:23" and shots[1].tc_in is None and shots[2].tc_out is None
    assert all(s.conflicts == () for s in shots)


def test_tc_in_and_out_are_the_first_and_last_known_timecodes():
    frames = [_frame(i, "MS", "static") for i in range(20)]
    frames = [FramePrediction(**{**f.__dict__, "timecode": None}) if f.frame_index in (0, 1, 19) else f
              for f in frames]
    (shot,) = aggregate_shots(frames, min_frames=12)
    assert (shot.tc_in, shot.tc_out) == ("01:00:00:02", "01:00:00:18")


def test_neighbours_whose_captions_agree_are_one_shot():
    # 20 static, then a span the frame-by-frame runs call a zoom (two unsure zoom runs around a short
    # static one, merged into one run), then 20 static. That span's mean probabilities read static,
    # so its caption is the same as its neighbours': one shot, not three.
    frames = []
    for i in range(60):
        unsure_zoom = 20 <= i < 27 or 33 <= i < 40
        frames.append(_frame(i, "MS", "zoom_in" if unsure_zoom else "static", p=0.4 if unsure_zoom else 0.9))
    assert len(stable_runs([f.movement_index for f in frames], 12)) == 3
    (shot,) = aggregate_shots(frames, min_frames=12)
    assert (shot.first_frame, shot.last_frame, shot.movement) == (0, 59, "static")


def test_a_zoom_against_its_own_focal_line_is_a_conflict_not_a_speed():
    falling = [_frame(i, "none", "zoom_in", focal_mm=50.0 * np.exp(-0.1 * i / FPS)) for i in range(24)]
    (shot,) = aggregate_shots(falling, min_frames=12)
    assert shot.movement == "zoom_in" and shot.movement_rate is None
    assert len(shot.conflicts) == 1 and "zoom in, but the focal length changes -10.0 %/s" in shot.conflicts[0]
    assert shot.movement_confidence == pytest.approx(0.45, abs=1e-6)  # 0.9, halved
    assert shot.sentence == "No subject, 50-41 mm, zoom in"
    away = [_frame(i, "MCU", "dolly_in", distance_m=3.0 + 0.2 * i / FPS) for i in range(24)]
    (shot,) = aggregate_shots(away, min_frames=12)
    assert shot.movement_rate is None and "dolly in, but the subject distance changes +0.20 m/s" in shot.conflicts[0]


def test_captions_carry_the_measured_values(take):
    s0, s1, s2 = aggregate_shots(take, min_frames=12)
    assert s0.focal_mm_mean == pytest.approx(50.0)  # the 200 mm frame is an outlier, not averaged in
    assert s0.distance_m_median == pytest.approx(3.0)
    assert s0.sentence == "MS on 50 mm, static, subject at 3.0 m"
    assert s1.movement_rate == pytest.approx(-0.2, rel=0.05)  # m/s: the distance line's slope
    assert s1.movement_rate_unit == "m/s"
    assert s1.sentence == f"MCU on 75 mm, slow push-in, subject at {s1.distance_m_median:.1f} m"
    assert s2.distance_m_median is None and s2.distance_confidence is None
    assert s2.movement_rate == pytest.approx(10.0, rel=1e-6) and s2.movement_rate_unit == "%/s"
    assert s2.focal_mm_start == pytest.approx(24.0, rel=1e-6)
    assert s2.focal_mm_end == pytest.approx(24.0 * np.exp(0.1 * 23 / FPS), rel=1e-6)
    assert s2.sentence == "No subject, 24-29 mm, zoom in"


def test_outliers_are_listed_with_reasons(take):
    s0, s1, s2 = aggregate_shots(take, min_frames=12)
    by_frame = {o.frame_index: o.reasons for o in s0.outliers}
    assert sorted(by_frame) == [10, 11, 20]
    assert by_frame[10] == ("shot size MCU, not MS",)
    assert len(by_frame[20]) == 1 and by_frame[20][0].startswith("focal length 200.0 mm is ")
    assert [o.frame_index for o in s1.outliers] == [48]
    assert "subject distance" in s1.outliers[0].reasons[0]
    assert s2.outliers == ()  # a zoom's changing focal length is its line, not a spread


def test_confidence_is_the_product_of_its_parts(take):
    s0, s1, s2 = aggregate_shots(take, min_frames=12)
    for s in (s0, s1):
        parts = [s.shot_size_confidence, s.movement_confidence, s.focal_confidence, s.distance_confidence]
        assert s.confidence == pytest.approx(np.prod(parts))
    assert s2.confidence == pytest.approx(s2.shot_size_confidence * s2.movement_confidence * s2.focal_confidence)
    # the flickering frames lower shot 0's shot-size confidence below the clean shot 1's
    assert s0.shot_size_confidence < s1.shot_size_confidence
    assert s2.confidence < s1.confidence  # p = 0.6 against 0.9
    # a spread of 0.02 in log units puts a frame within 5 % with probability erf(0.0488 / 0.0283)
    assert s1.focal_confidence == pytest.approx(0.985, abs=0.005)


def test_without_a_minimum_every_change_is_a_shot(take):
    shots = aggregate_shots(take, min_frames=1)  # the two flickering frames become a shot of their own
    assert [(s.first_frame, s.last_frame) for s in shots] == [(0, 9), (10, 11), (12, 29), (30, 65), (66, 89)]


def test_frames_out_of_order_are_refused(take):
    with pytest.raises(ModelInputError, match="in order of frame_index"):
        aggregate_shots([take[1], take[0]])
    assert aggregate_shots([]) == []


def test_csv_and_json(take):
    shots = aggregate_shots(take, min_frames=12)
    rows = list(csv.DictReader(io.StringIO(shots_csv(shots))))
    assert tuple(rows[0]) == CSV_COLUMNS
    assert [r["caption"] for r in rows] == [s.sentence for s in shots]
    assert rows[0]["outlier_frames"] == "10 11 20" and rows[0]["outlier_count"] == "3"
    assert rows[2]["distance_m_median"] == ""
    doc = shots_document(shots, take, take={"name": "t"}, model={"weights_sha256": "x"}, min_frames=12)
    text = json.dumps(doc, allow_nan=False)
    back = json.loads(text)
    assert back["format"] == "onset-captions" and len(back["shots"]) == 3 and len(back["frames"]) == len(take)
    assert back["shots"][0]["outliers"][0]["reasons"] == ["shot size MCU, not MS"]


def test_sentences():
    assert caption_sentence("MCU", "dolly_in", 75, 75, 75.2, 2.43, -0.1) == "MCU on 75 mm, slow push-in, subject at 2.4 m"
    assert caption_sentence("WS", "dolly_out", 24, 24, 24, 6.0, 1.5) == "WS on 24 mm, fast pull-out, subject at 6.0 m"
    assert caption_sentence("CU", "pan_left", 50, 50, 50, 1.2, None) == "CU on 50 mm, pan left, subject at 1.2 m"
    assert caption_sentence("MS", "zoom_out", 90, 45, 60, 3.0, -40.0) == "MS on 90-45 mm, fast zoom out, subject at 3.0 m"
