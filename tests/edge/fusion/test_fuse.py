"""Fusing one frame: what goes in comes out, whatever is missing, and the view cut never changes
the depth map."""

from __future__ import annotations

import numpy as np
import pytest

from config.models import CameraConfig
from edge.fusion import (
    LidarPoints,
    PoseTrack,
    camera_intrinsics,
    fuse_frame,
    lidar_in_optical,
    project_to_depth,
    window_bounds,
)
from sensors.vocabulary import FrameRate, ImageFrame, LensState, SensorSync, Stamp, SyncStatus, Timecode

EPOCH_NS = 1_767_225_600_000_000_000
CAMERA = CameraConfig(width_px=160, height_px=90)
MOUNT = np.eye(4)
MOUNT[2, 3] = 0.12


def _image(index: int = 7) -> ImageFrame:
    return ImageFrame(np.zeros((90, 160, 3), dtype=np.uint8), Stamp(1, EPOCH_NS), index, None)


def _room_points(n: int, seed: int = 0):
    """A sweep's worth of points on the walls of a 10 m box around the LiDAR, over +/- 60 ms."""
    rng = np.random.default_rng(seed)
    d = rng.normal(size=(n, 3))
    d /= np.linalg.norm(d, axis=1, keepdims=True)
    xyz = d * (5.0 / np.abs(d).max(axis=1, keepdims=True))
    t = EPOCH_NS + np.sort(rng.integers(-60_000_000, 60_000_001, n))
    return xyz.astype(np.float32), t


def _panning(rate_dps: float) -> PoseTrack:
    t = EPOCH_NS + np.arange(-100, 101, 10, dtype=np.int64) * 1_000_000
    yaw = np.radians(rate_dps * (t - EPOCH_NS) / 1e9)
    quats = np.stack([np.zeros_like(yaw), np.zeros_like(yaw), np.sin(yaw / 2), np.cos(yaw / 2)], axis=1)
    positions = np.stack([(t - EPOCH_NS) / 1e9, np.zeros(t.size), np.full(t.size, 1.5)], axis=1)
    return PoseTrack.from_samples(t, positions, quats)


@pytest.mark.parametrize("rate_dps", [30.0, 360.0])
def test_the_view_cut_never_changes_the_depth_map(rate_dps):
    xyz, t = _room_points(40_000)
    poses = _panning(rate_dps)
    lens = LensState(24.0, 3.0)
    fused = fuse_frame(_image(), EPOCH_NS, None, LidarPoints(xyz, t, MOUNT), poses, lens, CAMERA, 50_000_000)
    keep = (t >= EPOCH_NS - 50_000_000) & (t <= EPOCH_NS + 50_000_000)
    every = lidar_in_optical(LidarPoints(xyz[keep], t[keep], MOUNT), EPOCH_NS, poses)
    K, distortion = camera_intrinsics(CAMERA, 24.0)
    reference = project_to_depth(every, K, distortion, 160, 90)
    np.testing.assert_allclose(fused.depth_m, reference.depth_m, atol=1e-6, equal_nan=True)
    assert fused.points_used == reference.index.size > 100


def test_the_frame_carries_its_inputs():
    xyz, t = _room_points(5_000)
    image = _image(11)
    poses = _panning(30.0)
    lens = LensState(35.0, 2.5, 2.8)
    timecode = Timecode(1, 0, 0, 5, FrameRate.FPS_24)
    sync = (SensorSync("lidar", SyncStatus.OK, -40.0, 0.01), SensorSync("freed", SyncStatus.LATE, 12.0, 0.2))
    fused = fuse_frame(image, EPOCH_NS + 3, timecode, [LidarPoints(xyz, t, MOUNT)], poses, lens, CAMERA,
                       (50_000_000, 10_000_000), sync)
    assert fused.frame_index == 11 and fused.t_ns == EPOCH_NS + 3 and fused.timecode == timecode
    assert fused.rgb is image.rgb  # no copy of the image
    assert fused.lens == lens and fused.sync == sync and not fused.complete
    np.testing.assert_allclose(fused.K, camera_intrinsics(CAMERA, 35.0)[0])
    assert fused.pose is not None and fused.pose.t_ns == EPOCH_NS + 3
    np.testing.assert_allclose(fused.pose.position_m, [3e-9, 0.0, 1.5], atol=1e-15)
    assert fused.depth_m.shape == (90, 160) and fused.depth_m.dtype == np.float32
    assert window_bounds(EPOCH_NS, (50_000_000, 10_000_000)) == (EPOCH_NS - 50_000_000, EPOCH_NS + 10_000_000)


def test_without_lidar_pose_or_lens_it_still_fuses():
    image = _image()
    empty = fuse_frame(image, EPOCH_NS, None, [], None, None, CAMERA, 50_000_000)
    assert np.isnan(empty.depth_m).all() and empty.points_used == 0 and empty.pose is None and empty.lens is None
    np.testing.assert_allclose(empty.K, camera_intrinsics(CAMERA, 35.0)[0])  # the default focal length
    # No pose: the points go through the extrinsics alone, as if the rig stood still.
    xyz, t = _room_points(5_000)
    still = fuse_frame(image, EPOCH_NS, None, LidarPoints(xyz, t, MOUNT), None, None, CAMERA, 50_000_000,
                       default_focal_length_mm=20.0)
    keep = np.abs(t - EPOCH_NS) <= 50_000_000
    K, distortion = camera_intrinsics(CAMERA, 20.0)
    reference = project_to_depth(lidar_in_optical(LidarPoints(xyz[keep], t[keep], MOUNT), EPOCH_NS, None), K,
                                 distortion, 160, 90)
    np.testing.assert_array_equal(still.depth_m, reference.depth_m)
    # Points all outside the window: nothing lands.
    late = fuse_frame(image, EPOCH_NS + 10**9, None, LidarPoints(xyz, t, MOUNT), None, None, CAMERA, 50_000_000)
    assert late.points_used == 0


def test_two_lidars_merge_nearest_first():
    image = _image()
    near = LidarPoints(np.array([[2.0, 0.0, -0.12]], dtype=np.float32), np.array([EPOCH_NS]), MOUNT)
    far = LidarPoints(np.array([[3.0, 0.0, -0.12]], dtype=np.float32), np.array([EPOCH_NS]), MOUNT)
    fused = fuse_frame(image, EPOCH_NS, None, [far, near], None, LensState(35.0, 3.0), CAMERA, 1_000)
    assert fused.points_used == 1 and np.nanmin(fused.depth_m) == pytest.approx(2.0)
    with pytest.raises(ValueError):
        window_bounds(EPOCH_NS, (-1, 5))
