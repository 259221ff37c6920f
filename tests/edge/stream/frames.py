"""Fused frames for the stream tests: a fixed realistic one and hypothesis strategies over every field."""

from __future__ import annotations

import math
from typing import Optional

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from sensors.vocabulary import FrameRate, FusedFrame, LensState, RigPose, SensorSync, SyncStatus, Timecode

INT64 = st.integers(-(2**63), 2**63 - 1)
FLOATS = st.floats(allow_nan=True, allow_infinity=True)


def make_frame(index: int = 0, height_px: int = 360, width_px: int = 640, seed: int = 1) -> FusedFrame:
    """A 640x360 frame with every field set; ``rgb[0, 0, 0]`` is ``index % 256``."""
    rng = np.random.default_rng(seed)
    rgb = rng.integers(0, 256, (height_px, width_px, 3), dtype=np.uint8)
    rgb[0, 0, 0] = index % 256
    depth = np.full((height_px, width_px), np.nan, dtype=np.float32)
    depth[::7, ::5] = rng.uniform(0.5, 40.0, depth[::7, ::5].shape).astype(np.float32)
    return FusedFrame(
        frame_index=index,
        t_ns=1_800_000_000_000_000_000 + index * 41_708_333,
        timecode=Timecode(1, 0, 10, 12, FrameRate.FPS_29_97_DF),
        rgb=rgb,
        depth_m=depth,
        pose=RigPose(1_800_000_000_000_000_000, np.array([1.5, -0.25, 1.6]), np.array([0.0, 0.0, 0.38268343, 0.92387953])),
        lens=LensState(focal_length_mm=35.0, focus_distance_m=3.2, t_stop=2.8),
        K=np.array([[800.0, 0.0, 320.0], [0.0, 800.0, 180.0], [0.0, 0.0, 1.0]]),
        distortion=(-0.12, 0.03, 0.0005, -0.0002, 0.0),
        sync=(SensorSync("lidar0", SyncStatus.OK, 12.5, 0.21), SensorSync("freed0", SyncStatus.LATE, math.inf, 0.05)),
        points_used=12873,
    )


@st.composite
def timecodes(draw) -> Timecode:
    rate = draw(st.sampled_from(list(FrameRate)))
    h, m, s = draw(st.integers(0, 23)), draw(st.integers(0, 59)), draw(st.integers(0, 59))
    f = draw(st.integers(0, rate.nominal_fps - 1))
    if rate.drop_frame and s == 0 and m % 10 != 0:
        f = max(f, 2 if rate.nominal_fps == 30 else 4)  # labels drop-frame timecode skips
    return Timecode(h, m, s, f, rate)


@st.composite
def fused_frames(draw) -> FusedFrame:
    h, w = draw(st.integers(0, 12)), draw(st.integers(0, 12))
    depth_dtype = draw(st.sampled_from(["<f4", ">f4", "<f8", ">f8", "<f2"]))
    rgb = draw(hnp.arrays(np.uint8, (h, w, 3)))
    bits = 8 * np.dtype(depth_dtype).itemsize
    depth = draw(hnp.arrays(np.dtype(depth_dtype), (h, w), elements=st.floats(allow_nan=True, width=bits)))
    if draw(st.booleans()):  # a view that is not C-contiguous: the encoder copies it once
        rgb = np.asfortranarray(rgb)
    pose: Optional[RigPose] = draw(st.none() | st.builds(
        RigPose, INT64, hnp.arrays(np.float64, 3, elements=FLOATS), hnp.arrays(np.float64, 4, elements=FLOATS)))
    lens = draw(st.none() | st.builds(LensState, FLOATS, FLOATS, st.none() | FLOATS))
    sync = tuple(draw(st.lists(st.builds(SensorSync, st.text(max_size=20), st.sampled_from(list(SyncStatus)),
                                         FLOATS, FLOATS), max_size=4)))
    return FusedFrame(
        frame_index=draw(INT64), t_ns=draw(INT64), timecode=draw(st.none() | timecodes()),
        rgb=rgb, depth_m=depth, pose=pose, lens=lens,
        K=draw(hnp.arrays(np.float64, (3, 3), elements=FLOATS)),
        distortion=tuple(draw(st.lists(FLOATS, max_size=14))),
        sync=sync, points_used=draw(st.integers(0, 2**63 - 1)),
    )


def _same(a, b) -> bool:
    a, b = float(a), float(b)
    return (math.isnan(a) and math.isnan(b)) or (a == b and math.copysign(1, a) == math.copysign(1, b))


def _same_floats(a, b) -> bool:
    a, b = np.asarray(a, dtype=float).ravel(), np.asarray(b, dtype=float).ravel()
    return a.shape == b.shape and all(_same(x, y) for x, y in zip(a, b))


def assert_same_frame(got: FusedFrame, want: FusedFrame) -> None:
    """Every field equal: arrays bit for bit with dtype and shape, floats NaN-aware."""
    assert got.frame_index == want.frame_index and got.t_ns == want.t_ns
    assert got.points_used == want.points_used
    assert got.timecode == want.timecode
    if want.timecode is not None:
        assert got.timecode.rate is want.timecode.rate
    assert got.rgb.dtype == want.rgb.dtype and got.rgb.shape == want.rgb.shape
    assert got.rgb.tobytes() == np.ascontiguousarray(want.rgb).tobytes()
    assert got.depth_m.dtype == want.depth_m.dtype and got.depth_m.shape == want.depth_m.shape
    assert got.depth_m.tobytes() == np.ascontiguousarray(want.depth_m).tobytes()
    assert (got.pose is None) == (want.pose is None)
    if want.pose is not None:
        assert got.pose.t_ns == want.pose.t_ns
        assert _same_floats(got.pose.position_m, want.pose.position_m)
        assert _same_floats(got.pose.orientation_xyzw, want.pose.orientation_xyzw)
    assert (got.lens is None) == (want.lens is None)
    if want.lens is not None:
        assert _same(got.lens.focal_length_mm, want.lens.focal_length_mm)
        assert _same(got.lens.focus_distance_m, want.lens.focus_distance_m)
        assert (got.lens.t_stop is None) == (want.lens.t_stop is None)
        if want.lens.t_stop is not None:
            assert _same(got.lens.t_stop, want.lens.t_stop)
    assert got.K.shape == (3, 3) and _same_floats(got.K, want.K)
    assert isinstance(got.distortion, tuple) and _same_floats(got.distortion, want.distortion)
    assert len(got.sync) == len(want.sync)
    for g, w in zip(got.sync, want.sync):
        assert g.sensor == w.sensor and g.status is w.status
        assert _same(g.gap_ms, w.gap_ms) and _same(g.residual_jitter_ms, w.residual_jitter_ms)
