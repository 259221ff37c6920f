"""The simulated camera's image: content, determinism, exposure, vignetting, distortion, depth."""

from __future__ import annotations

import numpy as np
import pytest

from config.models import CameraConfig, IntrinsicsConfig, ShotKeyframe, StageConfig
from sensors.camera import optics
from sensors.sim.pixel_grid import pixel_grid_for
from sensors.sim.render import encode_srgb, exposure_gain
from sensors.sim.stage import Stage

from .conftest import EPOCH_NS

SMALL = CameraConfig(width_px=160, height_px=90)


def _pixel_hits(stage: Stage, t_ns: int, camera: CameraConfig):
    """Ground truth per pixel from ``cast_rays``: (z-depth (H,W), object ids (H,W))."""
    K = stage.camera_matrix(t_ns, camera)
    rays = optics.pixel_rays(K, camera.intrinsics.distortion, camera.width_px, camera.height_px)
    T = stage.T_stage_optical(t_ns)
    d = rays @ T[:3, :3].T
    hits = stage.cast_rays(np.broadcast_to(T[:3, 3], d.shape), d, t_ns)
    shape = (camera.height_px, camera.width_px)
    return (hits.distance_m * rays[:, 2]).reshape(shape), hits.object_id.reshape(shape)


def test_render_is_a_real_image_and_deterministic(stage: Stage, rig) -> None:
    t = EPOCH_NS + 2_000_000_000
    img = stage.render(t, rig.camera)
    assert img.shape == (360, 640, 3) and img.dtype == np.uint8
    assert img.std() > 20 and 40 < img.mean() < 200
    assert len(np.unique(img.reshape(-1, 3), axis=0)) > 200
    again = Stage(stage.config, EPOCH_NS).render(t, rig.camera)
    np.testing.assert_array_equal(img, again)


def test_the_image_changes_as_the_shot_moves(stage: Stage) -> None:
    a = stage.render(EPOCH_NS, SMALL).astype(int)
    b = stage.render(EPOCH_NS + 500_000_000, SMALL).astype(int)
    assert np.mean(np.abs(a - b)) > 5.0


@pytest.mark.parametrize("t_s", [0.0, 2.0, 5.0, 9.5])
def test_render_depth_agrees_with_cast_rays(stage: Stage, t_s: float) -> None:
    t = EPOCH_NS + int(t_s * 1e9)
    rgb, depth = stage.render(t, SMALL, with_depth=True)
    assert depth.shape == (90, 160) and depth.dtype == np.float32 and rgb.shape == (90, 160, 3)
    want, _ = _pixel_hits(stage, t, SMALL)
    np.testing.assert_array_equal(np.isinf(depth), np.isinf(want))
    finite = np.isfinite(want)
    assert np.max(np.abs(depth[finite] - want[finite])) < 1e-3


def test_actors_are_in_the_picture_where_cast_rays_sees_them(bare_stage: Stage) -> None:
    """A locked-off camera facing an actor: its pixels render in its clothes' colour."""
    actor = bare_stage.actors[0]
    from sensors.sim.actors import actor_poses

    pos, _ = actor_poses(actor.path, 0.0)
    cam_xy = np.array(bare_stage.config.track_origin_m[:2]) + [bare_stage.config.crane_arm_m, 0.0]
    look = pos[:2] - cam_xy
    pan = float(np.degrees(np.arctan2(look[1], look[0])))
    tilt = float(np.degrees(np.arctan2(1.0 - 1.2, np.hypot(*look))))
    config = bare_stage.config.model_copy(update={"shot": [ShotKeyframe(t_s=0.0, pan_deg=pan, tilt_deg=tilt)]})
    facing = Stage(config, EPOCH_NS)
    _, ids = _pixel_hits(facing, EPOCH_NS, SMALL)
    mask = ids == facing.scene.first_actor_id
    assert mask.sum() > 20
    img = facing.render(EPOCH_NS, SMALL).astype(float)
    albedo = np.array(actor.albedo_rgb)
    dominant = int(np.argmax(albedo))
    actor_px = img[mask]
    assert np.mean(actor_px[:, dominant]) > np.mean(np.delete(actor_px, dominant, axis=1)) + 10


def _grey_room(t_stop: float, vignetting: float, pan: float = 90.0):
    """A bare stage looking straight at the north wall (18 % grey) from the middle."""
    config = StageConfig(
        actor_count=0,
        dressing_count=0,
        track_origin_m=(-1.5, -4.0, 0.0),
        track_length_m=1.0,
        shot=[ShotKeyframe(t_s=0.0, pan_deg=pan, focal_length_mm=50.0, t_stop=t_stop)],
    )
    camera = CameraConfig(width_px=160, height_px=90, intrinsics=IntrinsicsConfig(vignetting=vignetting))
    stage = Stage(config, EPOCH_NS)
    return stage, camera


def test_mid_grey_wall_renders_mid_grey_at_t2_8() -> None:
    stage, camera = _grey_room(2.8, 0.0)
    assert stage.objects[3].name == "wall_north" and stage.objects[3].albedo_rgb == (0.18, 0.18, 0.18)
    _, ids = _pixel_hits(stage, EPOCH_NS, camera)
    img = stage.render(EPOCH_NS, camera)
    wall = img[ids == 3]
    assert wall.size > 1000
    assert 100 < wall.mean() < 140  # sRGB of 18 % grey is 118


def test_higher_t_stop_is_darker_by_the_square() -> None:
    bright = _grey_room(2.8, 0.0)
    dark = _grey_room(5.6, 0.0)
    a = bright[0].render(EPOCH_NS, bright[1]).astype(float)
    b = dark[0].render(EPOCH_NS, dark[1]).astype(float)
    assert b.mean() < a.mean() - 30
    assert exposure_gain(5.6) == pytest.approx(0.25)
    # In linear light, two stops is a factor of four (checked on the encoder's inverse).
    lin = np.linspace(0.05, 0.2, 5)
    assert np.all(encode_srgb(lin / 4) < encode_srgb(lin))


def test_vignetting_darkens_the_corners() -> None:
    flat_stage, flat_camera = _grey_room(2.8, 0.0)
    vig_stage, vig_camera = _grey_room(2.8, 0.5)
    flat = flat_stage.render(EPOCH_NS, flat_camera).astype(float)
    vig = vig_stage.render(EPOCH_NS, vig_camera).astype(float)
    centre = (slice(40, 50), slice(75, 85))
    corners = [(rows, cols) for rows in (slice(0, 6), slice(-6, None)) for cols in (slice(0, 6), slice(-6, None))]
    assert np.abs(vig[centre] - flat[centre]).max() <= 2
    for c in corners:
        assert vig[c].mean() < flat[c].mean() - 15
    grid = pixel_grid_for(vig_camera, 50.0)
    assert grid.vignette.max() == pytest.approx(1.0, abs=1e-3) and grid.vignette.min() == pytest.approx(0.5, abs=1e-6)


def test_focal_length_comes_from_the_lens_and_grids_are_cached(stage: Stage, rig) -> None:
    t = EPOCH_NS + 4_000_000_000
    K = stage.camera_matrix(t, rig.camera)
    assert K[0, 0] == pytest.approx(stage.lens(t).focal_length_mm * 640 / rig.camera.intrinsics.sensor_width_mm)
    assert pixel_grid_for(rig.camera, 40.0) is pixel_grid_for(rig.camera, 40.0)
    assert pixel_grid_for(rig.camera, 40.0) is not pixel_grid_for(rig.camera, 41.0)


@pytest.mark.parametrize(
    "distortion", [(-0.05, 0.01, 0.0, 0.0, 0.0), (0.08, -0.02, 0.0, 0.0, 0.004), (-0.05, 0.01, 0.002, -0.001, 0.0)]
)
def test_rendered_pixels_are_natively_distorted(distortion) -> None:
    """Each rendered pixel's ray projects back onto that pixel with the optics model."""
    camera = CameraConfig(width_px=160, height_px=90, intrinsics=IntrinsicsConfig(distortion=distortion))
    grid = pixel_grid_for(camera, 24.0)
    uv, in_front = optics.project_points(grid.dirs_optical.astype(float) * 7.0, grid.K, distortion)
    assert in_front.all()
    assert np.max(np.abs(uv - optics.pixel_grid(160, 90))) < 1e-3
    np.testing.assert_allclose(np.linalg.norm(grid.dirs_optical, axis=1), 1.0, atol=1e-6)
