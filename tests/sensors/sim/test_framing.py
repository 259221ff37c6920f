"""Framing plans: each shot size held on each walking actor, read back from the stage's truth by the
captioner's own definition (``engines/captioner/shot_size.py``, the referee): the size on 99 % of
frames, the head (for an ECU the face) in frame, the actor on the centre column, focus on it."""

from __future__ import annotations

import math

import numpy as np
import pytest

from config import load_profile
from config.models import CameraConfig, IntrinsicsConfig, RigConfig, StageConfig
from edge.fusion.depth import camera_intrinsics
from engines.captioner.shot_size import CUT_BOUNDS, WIDE_BELOW_FRAME_FRACTION, frame_cut, shot_size_of
from sensors.sim.actors import ACTOR_HEIGHT_M
from sensors.sim.framing import (
    CUT_BANDS,
    EYE_HEIGHT_M,
    FRAMINGS,
    SIZES,
    framing_plan,
    framing_series,
    reachable_span,
)
from sensors.sim.shots import DEFAULT_DURATION_S, KEY_STEP_S
from sensors.sim.stage import Stage
from sensors.vocabulary import NS_PER_S

from .conftest import EPOCH_NS

SAMPLE_S = 0.1  # 10 Hz
PHASE_S = 0.03  # samples fall between keys, where the interpolation, not the plan, frames the actor
HIT_FRACTION = 0.99
CENTRE_TOLERANCE = 0.10  # of the frame's width
HEAD_RADIUS_M = 0.115
CHIN_M = ACTOR_HEIGHT_M - 2.0 * HEAD_RADIUS_M

#: A track turned off the stage axes, a longer crane, three actors, and an HD camera with a full-frame
#: sensor and a principal point off the image centre.
TURNED = StageConfig(
    seed=11,
    dressing_count=0,
    actor_count=3,
    track_origin_m=(3.0, -5.0, 0.0),
    track_heading_deg=125.0,
    track_length_m=6.0,
    crane_pivot_height_m=1.5,
    crane_arm_m=2.4,
)
HD = CameraConfig(
    width_px=1280, height_px=720, intrinsics=IntrinsicsConfig(sensor_width_mm=36.0, principal_point_px=(641.5, 357.0))
)


@pytest.fixture(scope="module")
def profile() -> RigConfig:
    return load_profile()


def _project(K: np.ndarray, T: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Pixels (N, 2) of stage points (N, 3) seen by a camera at ``T_stage_optical``; all must be in front."""
    optical = (points - T[:3, 3]) @ T[:3, :3]
    assert np.all(optical[:, 2] > 0.0)
    uvw = optical @ K.T
    return uvw[:, :2] / uvw[:, 2:]


def _truth(config: StageConfig, camera: CameraConfig, actor: int, keys) -> list:
    """At 10 Hz over the plan, from the stage's truth: (frame cut, pixels of the actor's landmarks, the
    frame's width (m) at the actor, lens-to-eyes distance (m), focus distance (m))."""
    stage = Stage(config.model_copy(update={"shot": keys, "loop": False}), EPOCH_NS)
    size = (camera.width_px, camera.height_px)
    t0_s, t1_s = keys[0].t_s, keys[-1].t_s
    out = []
    for t_s in np.arange(t0_s + PHASE_S, t1_s, SAMPLE_S):
        t_ns = EPOCH_NS + int(round(t_s * NS_PER_S))
        T = stage.T_stage_optical(t_ns)
        lens = stage.lens(t_ns)
        K, _ = camera_intrinsics(camera, lens.focal_length_mm)
        axis = stage.actor_matrices(t_ns)[actor][:3, 3]
        cut = frame_cut(K, T, size, (axis[0], axis[1]), ACTOR_HEIGHT_M)
        towards = axis[:2] - T[:2, 3]
        side = np.array([-towards[1], towards[0], 0.0]) / np.hypot(*towards)  # across the view, horizontal
        up = np.array([0.0, 0.0, 1.0])
        marks = np.array(
            [
                axis + ACTOR_HEIGHT_M * up,  # crown
                axis + CHIN_M * up,  # chin
                axis + EYE_HEIGHT_M * up,  # eyes, on the axis
                axis + (ACTOR_HEIGHT_M - HEAD_RADIUS_M) * up + HEAD_RADIUS_M * side,  # sides of the head
                axis + (ACTOR_HEIGHT_M - HEAD_RADIUS_M) * up - HEAD_RADIUS_M * side,
            ]
        )
        frame_width_m = (cut.upper_z_m - cut.lower_z_m) * camera.width_px / camera.height_px
        eyes_m = float(np.linalg.norm(axis + EYE_HEIGHT_M * up - T[:3, 3]))
        out.append((cut, _project(K, T, marks), frame_width_m, eyes_m, lens.focus_distance_m))
    return out


def _inside(uv: np.ndarray, camera: CameraConfig) -> bool:
    return bool(np.all((uv >= -0.5) & (uv <= np.array([camera.width_px, camera.height_px]) - 0.5)))


def _assert_framed(size: str, samples: list, camera: CameraConfig) -> float:
    """Every check of a held size on ``samples``; returns the share of them read as ``size``."""
    width, height = camera.width_px, camera.height_px
    assert len(samples) >= 10
    hits = [shot_size_of(cut).value == size for cut, *_ in samples]
    share = sum(hits) / len(hits)
    assert share >= HIT_FRACTION, (size, share, [round(s[0].cut, 3) for s in samples])
    for cut, uv, frame_width_m, eyes_m, focus_m in samples:
        crown, chin, eyes, left, right = uv
        assert abs(eyes[0] - (width - 1) / 2.0) <= CENTRE_TOLERANCE * width, (size, eyes)
        assert focus_m == pytest.approx(eyes_m, rel=0.01)
        if size == "ECU":
            # The face fills the frame: the eyes in it, the head wider than half of it.
            assert _inside(eyes, camera), (size, eyes)
            assert 2.0 * HEAD_RADIUS_M >= 0.5 * frame_width_m
        else:
            assert _inside(uv[[0, 1, 3, 4]], camera), (size, uv)  # the whole head
            assert eyes[1] < height / 2.0  # the eyes in the upper half
        if size in ("MCU", "MS", "MLS", "FS", "WS"):
            assert eyes[1] + 0.5 == pytest.approx(height / 3.0, abs=0.03 * height)  # on the upper third
        if size == "FS":
            assert cut.cut > 1.0 and cut.figure_fraction >= 0.5  # the whole figure, feet in
        if size == "WS":
            assert cut.cut > 1.0 and cut.figure_fraction <= 0.3
    return share


@pytest.mark.parametrize("actor", [0, 1])
@pytest.mark.parametrize("size", SIZES)
def test_each_size_is_held_on_each_actor_of_the_default_stage(profile: RigConfig, size: str, actor: int) -> None:
    keys = framing_plan(size, profile.stage, actor, camera=profile.camera)
    assert keys[0].t_s == 0.0 and keys[-1].t_s == pytest.approx(DEFAULT_DURATION_S)
    assert max(np.diff([k.t_s for k in keys])) <= KEY_STEP_S + 1e-9
    dolly = {k.dolly_m for k in keys}
    assert len(dolly) == 1 and 0.0 <= dolly.pop() <= profile.stage.track_length_m  # parked on the track
    _assert_framed(size, _truth(profile.stage, profile.camera, actor, keys), profile.camera)


@pytest.mark.parametrize(("size", "actor"), [("ECU", 2), ("CU", 0), ("MS", 1), ("FS", 2), ("WS", 0)])
def test_a_turned_track_and_another_camera_hold_the_size_too(size: str, actor: int) -> None:
    keys = framing_plan(size, TURNED, actor, duration_s=3.0, start_s=1.5, camera=HD)
    _assert_framed(size, _truth(TURNED, HD, actor, keys), HD)


def test_the_bands_are_the_captioners_and_each_frame_aims_inside_its_band() -> None:
    bounds = dict((size.value, bound) for size, bound in CUT_BOUNDS)
    previous = 0.0
    for size, bound in bounds.items():
        low, high = CUT_BANDS[size]
        assert high == bound and (size == "ECU" or low == previous)
        previous = bound
        cut = (ACTOR_HEIGHT_M - FRAMINGS[size].lower_edge_m) / ACTOR_HEIGHT_M
        assert low + 0.2 * (high - low) < cut < high - 0.2 * (high - low), size
    assert CUT_BANDS["ECU"][0] == pytest.approx((ACTOR_HEIGHT_M - EYE_HEIGHT_M) / ACTOR_HEIGHT_M)
    # The crown anchors the tight sizes, the eyes on the upper third line the others.
    assert {s: (f.anchor_m, f.anchor_row) for s, f in FRAMINGS.items() if s in ("ECU", "CU")} == {
        "ECU": (ACTOR_HEIGHT_M, 0.0),
        "CU": (ACTOR_HEIGHT_M, pytest.approx(0.05)),
    }
    for size in ("MCU", "MS", "MLS", "FS", "WS"):
        assert FRAMINGS[size].anchor_m == EYE_HEIGHT_M and FRAMINGS[size].anchor_row == pytest.approx(1.0 / 3.0)
    for size, most in (("FS", 1.0), ("WS", WIDE_BELOW_FRAME_FRACTION)):
        framing = FRAMINGS[size]
        frame_m = 1.5 * (framing.anchor_m - framing.lower_edge_m)  # on the plane, the eyes at a third
        assert framing.lower_edge_m < 0.0 and ACTOR_HEIGHT_M / frame_m < most


def test_a_window_is_chosen_when_the_actor_walks_out_of_the_lenses_reach(profile: RigConfig) -> None:
    # A 40 mm sensor needs 1.6x the focal length: actor 2's far end needs more than 1000 mm for an ECU.
    camera = CameraConfig(intrinsics=IntrinsicsConfig(sensor_width_mm=40.0))
    start_s, end_s = reachable_span("ECU", profile.stage, 1, camera=camera)
    assert end_s - start_s >= DEFAULT_DURATION_S and math.isfinite(end_s)
    with pytest.raises(ValueError, match=r"focal_length_mm .*at most 1000.*reachable_span"):
        framing_plan("ECU", profile.stage, 1, start_s=end_s - 1.0, camera=camera)
    keys = framing_plan("ECU", profile.stage, 1, start_s=None, camera=camera)
    assert keys[0].t_s == pytest.approx(start_s)
    assert max(k.focal_length_mm for k in keys) <= 1000.0
    later_s, _ = reachable_span("ECU", profile.stage, 1, after_s=end_s, camera=camera)
    assert later_s > end_s
    keys = framing_plan("ECU", profile.stage, 1, start_s=later_s, camera=camera)
    _assert_framed("ECU", _truth(profile.stage, camera, 1, keys), camera)


def test_a_default_stage_actor_is_always_in_reach(profile: RigConfig) -> None:
    for size in SIZES:
        for actor in range(profile.stage.actor_count):
            assert reachable_span(size, profile.stage, actor, camera=profile.camera) == (0.0, math.inf)


@pytest.mark.parametrize(
    ("size", "sensor_width_mm", "limit"),
    [
        ("ECU", 60.0, r"focal_length_mm .*at most 1000"),  # needs 1150 mm and more all round the loop
        ("WS", 0.5, r"focal_length_mm .*above 1\.0"),  # needs under 0.5 mm
    ],
)
def test_a_size_the_lens_cannot_reach_names_the_limit(profile: RigConfig, size, sensor_width_mm, limit) -> None:
    camera = CameraConfig(intrinsics=IntrinsicsConfig(sensor_width_mm=sensor_width_mm))
    with pytest.raises(ValueError, match="cannot be held for 4.0 s at any time: .*" + limit):
        reachable_span(size, profile.stage, 0, camera=camera)
    with pytest.raises(ValueError, match=limit):
        framing_plan(size, profile.stage, 0, camera=camera)
    with pytest.raises(ValueError, match=limit):
        framing_plan(size, profile.stage, 0, start_s=None, camera=camera)


@pytest.mark.parametrize(
    ("size", "actor", "kwargs", "match"),
    [
        ("XCU", 0, {}, "unknown shot size"),
        ("CU", 2, {}, r"actor 2 .*0\.\.1 \(actor_count\)"),
        ("CU", -1, {}, "actor_count"),
        ("CU", 0, {"start_s": -1.0}, "start_s"),
        ("CU", 0, {"duration_s": float("nan")}, "duration_s"),
        ("CU", 0, {"duration_s": 0.01}, "key step"),
    ],
)
def test_bad_requests_raise(profile: RigConfig, size, actor, kwargs, match) -> None:
    with pytest.raises(ValueError, match=match):
        framing_plan(size, profile.stage, actor, **kwargs)


def test_the_series_holds_every_size_on_every_actor(profile: RigConfig) -> None:
    series = framing_series(profile.stage, profile.camera)
    assert list(series) == [(size, actor) for size in SIZES for actor in range(profile.stage.actor_count)]
    for (size, actor), keys in series.items():
        assert keys == framing_plan(size, profile.stage, actor, start_s=None, camera=profile.camera)
