"""A take's frames fused again from its bag: the frames the node fused live, and clear errors when
a take cannot give any."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from engines.captioner.dataset import (
    BagReadError,
    NoCameraFramesError,
    NotATakeError,
    TakeFrames,
    iter_take_frames,
)
from engines.captioner.dataset.errors import DatasetError
from engines.captioner.dataset.gather import FrameChooser
from tests.engines.captioner.dataset.conftest import FULL, NO_FRAMES, NO_LIDAR, POSE_ON_TF_ONLY


def _chosen(fps: float, camera_fps: float, seconds: float = 2.0, jitter_ns: int = 0, dropped=(),
            told: bool = True) -> list:
    rng = np.random.default_rng(1)
    chooser = FrameChooser(fps, 1e9 / camera_fps if told else None)
    n = int(seconds * camera_fps)
    stamps = [int(k * 1e9 / camera_fps) + int(rng.integers(-jitter_ns, jitter_ns + 1)) for k in range(n)]
    return [k for k, t in enumerate(stamps) if k not in dropped and chooser.take(t)]


def test_frames_are_chosen_nearest_each_point_of_the_rate():
    assert _chosen(12.0, 24.0, jitter_ns=3_000_000) == list(range(0, 48, 2))
    assert _chosen(12.0, 23.976) == list(range(0, 47, 2))
    assert _chosen(24.0, 24.0) == list(range(48)) and _chosen(60.0, 24.0) == list(range(48))
    assert _chosen(12.0, 24.0, told=False) == list(range(0, 48, 2))  # the camera's rate from its stamps
    # A busy camera drops frames: each drop costs one stored frame, the grid does not drift.
    drops = set(range(3, 48, 5))
    assert _chosen(24.0, 24.0, dropped=drops) == [k for k in range(48) if k not in drops]
    assert _chosen(12.0, 24.0, dropped={4, 5, 10}) == [0, 2, 6, 8, 11, 12] + list(range(14, 48, 2))
    picked = _chosen(12.0, 25.0, seconds=4.0)
    grid = np.arange(48) / 12.0
    times = np.array(picked) / 25.0
    assert len(picked) == 48 and np.abs(times - grid).max() <= 0.5 / 25.0 + 1e-9
    chooser = FrameChooser(12.0)
    assert chooser.take(1000) and not chooser.take(1000) and not chooser.take(999) and chooser.stale == 2
    with pytest.raises(DatasetError, match="positive number of frames per second"):
        FrameChooser(0.0)


def test_every_frame_fused_again_is_the_frame_the_node_fused_live(pan):
    live = {f.t_ns: f for f in pan.fused}
    frames = list(iter_take_frames(pan.takes[FULL], fps=24.0))
    assert len(frames) == len(pan.camera_indices) == len(pan.fused)
    for position, frame in enumerate(frames):
        fused = live[frame.t_ns]  # the same exposure time, to the nanosecond
        assert frame.frame_index == position
        np.testing.assert_array_equal(frame.rgb, pan.image(position))
        assert frame.timecode == fused.timecode and frame.timecode_verdict in ("verified", "corrected", "unverified")
        np.testing.assert_allclose(frame.fused.pose.position_m, fused.pose.position_m, atol=1e-12)
        np.testing.assert_allclose(frame.fused.pose.orientation_xyzw, fused.pose.orientation_xyzw, atol=1e-12)
        assert frame.fused.lens.focal_length_mm == pytest.approx(fused.lens.focal_length_mm, rel=1e-12)
        np.testing.assert_allclose(frame.fused.K, fused.K, rtol=1e-12)
        np.testing.assert_array_equal(np.isfinite(frame.depth_m), np.isfinite(fused.depth_m))
        valid = np.isfinite(fused.depth_m)
        assert valid.sum() > 1000 and frame.fused.points_used == fused.points_used
        np.testing.assert_allclose(frame.depth_m[valid], fused.depth_m[valid], atol=1e-5)


def test_a_take_with_its_pose_on_tf_only_is_labelled_from_tf(pan):
    full = list(iter_take_frames(pan.takes[FULL]))
    from_tf = list(iter_take_frames(pan.takes[POSE_ON_TF_ONLY]))
    assert [f.frame_index for f in from_tf] == [f.frame_index for f in full]
    for a, b in zip(full, from_tf):
        assert a.labels.movement.movement == b.labels.movement.movement and a.labels.shot_size == b.labels.shot_size
        assert dict(a.missing) == dict(b.missing)


def test_a_take_without_lidar_gives_no_depth_and_says_why(pan):
    frames = TakeFrames(pan.takes[NO_LIDAR])
    assert not frames.has_lidar and frames.has_pose and frames.has_lens
    for frame in frames:
        assert frame.depth_m is None and frame.labels.subject is None
        assert "nothing on /onset/lidar/points" in frame.missing["shot_size"]


def test_what_is_not_a_take_or_has_no_frames_is_refused_with_the_reason(pan, tmp_path):
    with pytest.raises(NotATakeError, match="has no take.json"):
        TakeFrames(tmp_path)
    (tmp_path / "take.json").write_text("{}")
    with pytest.raises(NotATakeError, match="not an Onset take document"):
        TakeFrames(tmp_path)
    with pytest.raises(NoCameraFramesError, match="no camera frames on /onset/camera/image_raw"):
        TakeFrames(pan.takes[NO_FRAMES])
    source = pan.takes[NO_FRAMES]
    bare = tmp_path / "bare"
    shutil.copytree(source, bare)
    shutil.rmtree(bare / "bag")
    with pytest.raises(NotATakeError, match="it has no bag folder bag/"):
        TakeFrames(bare)
    torn = tmp_path / "torn"
    shutil.copytree(source, torn)
    (mcap,) = (torn / "bag").glob("*.mcap")
    mcap.write_bytes(mcap.read_bytes()[: mcap.stat().st_size // 2])
    with pytest.raises(BagReadError, match="cannot read the bag of take|stops being readable"):
        TakeFrames(torn)
    unclosed = tmp_path / "unclosed"
    shutil.copytree(source, unclosed)
    (unclosed / "bag" / "metadata.yaml").unlink()
    with pytest.raises(BagReadError, match="the take was not closed: run onset takes recover"):
        TakeFrames(unclosed)
