"""Ray casting against the stage: known geometry, moving actors seen at each ray's own time."""

from __future__ import annotations

import numpy as np
import pytest

from config.models import StageConfig
from sensors.sim.actors import ACTOR_HEIGHT_M, actor_poses
from sensors.sim.scene import FLOOR_ID
from sensors.sim.stage import Stage

from .conftest import EPOCH_NS


def _free_floor_spot(stage: Stage, t_ns: int) -> np.ndarray:
    """A point 1 m above the floor with nothing between it and the floor."""
    rng = np.random.default_rng(0)
    for _ in range(200):
        xy = rng.uniform(-4.0, 4.0, 2)
        hits = stage.cast_rays(np.array([[xy[0], xy[1], 1.0]]), np.array([[0.0, 0.0, -1.0]]), t_ns)
        if hits.object_id[0] == FLOOR_ID:
            return np.array([xy[0], xy[1], 1.0])
    raise AssertionError("no free floor found")


def test_a_ray_straight_down_from_one_metre_hits_the_floor_at_one_metre(stage: Stage) -> None:
    origin = _free_floor_spot(stage, EPOCH_NS)
    hits = stage.cast_rays(origin[None], np.array([[0.0, 0.0, -1.0]]), np.array([EPOCH_NS]))
    assert hits.distance_m[0] == pytest.approx(1.0, abs=1e-6)
    assert hits.object_id[0] == FLOOR_ID and hits.object_id.dtype == np.int32
    np.testing.assert_allclose(hits.normal_stage[0], [0.0, 0.0, 1.0], atol=1e-6)


def test_rays_up_miss_and_horizontal_rays_hit_the_walls(bare_stage: Stage) -> None:
    W, D = bare_stage.config.width_m / 2, bare_stage.config.depth_m / 2
    o = np.array([[0.0, 0.0, 4.9], [0.0, 0.0, 4.9], [0.0, 0.0, 4.9], [0.0, 0.0, 4.9], [0.0, 0.0, 4.9]])
    d = np.array([[0.0, 0.0, 1.0], [1.0, 0.0, 0.0], [-1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, -1.0, 0.0]])
    hits = bare_stage.cast_rays(o, d, EPOCH_NS)  # 4.9 m: above any actor's head
    assert hits.distance_m[0] == np.inf and hits.object_id[0] == -1
    np.testing.assert_array_equal(hits.normal_stage[0], 0.0)
    np.testing.assert_allclose(hits.distance_m[1:], [W, W, D, D], atol=1e-5)
    names = [bare_stage.objects[i].name for i in hits.object_id[1:]]
    assert names == ["wall_east", "wall_west", "wall_north", "wall_south"]
    np.testing.assert_allclose(hits.normal_stage[1:], -d[1:], atol=1e-6)  # normals face the ray


def _straight_walk(stage: Stage, k: int):
    """Times (s) at which actor ``k`` is on its first straight, with its position and heading."""
    path = stage.actors[k].path
    s0 = (-path.phase_m) % path.length_m  # plan time at which the straight starts, times speed
    t0 = s0 / path.speed_mps
    return t0 + 0.2 * path.straight_m / path.speed_mps, t0 + 0.6 * path.straight_m / path.speed_mps


@pytest.mark.parametrize("k", [0, 1])
def test_a_ray_at_an_actor_sees_it_move_by_speed_times_dt(bare_stage: Stage, k: int) -> None:
    actor = bare_stage.actors[k]
    ta, tb = _straight_walk(bare_stage, k)
    pa, heading = actor_poses(actor.path, ta)
    pb, _ = actor_poses(actor.path, tb)
    forward = np.array([np.cos(heading), np.sin(heading), 0.0])
    # A ray from 3 m ahead of the walker's position at tb, looking back along its path at hip height.
    origin = pb + 3.0 * forward + np.array([0.0, 0.0, 1.0])
    t_ns = np.array([EPOCH_NS + int(ta * 1e9), EPOCH_NS + int(tb * 1e9)], dtype=np.int64)
    hits = bare_stage.cast_rays(np.stack([origin, origin]), np.stack([-forward, -forward]), t_ns)
    assert list(hits.object_id) == [bare_stage.scene.first_actor_id + k] * 2
    speed = actor.path.speed_mps
    assert hits.distance_m[0] - hits.distance_m[1] == pytest.approx(speed * (t_ns[1] - t_ns[0]) / 1e9, abs=1e-4)
    # The same rays cast one at a time give the same answer: each ray sees its own instant.
    for i in range(2):
        one = bare_stage.cast_rays(origin[None], -forward[None], int(t_ns[i]))
        assert one.distance_m[0] == pytest.approx(hits.distance_m[i], abs=1e-9)


def test_rays_over_an_actors_head_miss_it(bare_stage: Stage) -> None:
    actor = bare_stage.actors[0]
    pos, heading = actor_poses(actor.path, 1.0)
    origin = pos + np.array([0.0, -3.0, ACTOR_HEIGHT_M + 0.05])
    hits = bare_stage.cast_rays(origin[None], np.array([[0.0, 1.0, 0.0]]), EPOCH_NS + 1_000_000_000)
    assert hits.object_id[0] < bare_stage.scene.first_actor_id


def test_same_seed_same_hits_and_batches_match_single_rays(stage: Stage) -> None:
    rng = np.random.default_rng(3)
    n = 3000
    o = np.column_stack([rng.uniform(-3, 3, n), rng.uniform(-4, 4, n), rng.uniform(0.3, 2.5, n)])
    d = rng.normal(size=(n, 3))
    d /= np.linalg.norm(d, axis=1, keepdims=True)
    t = EPOCH_NS + np.sort(rng.integers(0, 20_000_000_000, n))
    a = stage.cast_rays(o, d, t)
    b = Stage(stage.config, EPOCH_NS).cast_rays(o, d, t)
    np.testing.assert_array_equal(a.distance_m, b.distance_m)
    np.testing.assert_array_equal(a.object_id, b.object_id)
    assert np.all(np.isfinite(a.distance_m) == (a.object_id >= 0))
    assert np.all(a.distance_m[np.isfinite(a.distance_m)] > 0.0)
    hit = np.isfinite(a.distance_m)
    assert np.all(np.einsum("ij,ij->i", a.normal_stage[hit], d[hit]) <= 1e-6)
    for i in rng.choice(n, 25, replace=False):
        one = stage.cast_rays(o[i : i + 1], d[i : i + 1], int(t[i]))
        assert one.object_id[0] == a.object_id[i]
        assert one.distance_m[0] == pytest.approx(a.distance_m[i], abs=1e-9) or np.isinf(a.distance_m[i])


def test_shape_errors_are_clear(stage: Stage) -> None:
    with pytest.raises(ValueError, match="same shape"):
        stage.cast_rays(np.zeros((3, 3)), np.zeros((2, 3)), EPOCH_NS)
    with pytest.raises(ValueError, match="one per ray"):
        stage.cast_rays(np.zeros((3, 3)), np.ones((3, 3)), np.array([EPOCH_NS, EPOCH_NS]))


def test_an_empty_batch_is_fine(stage: Stage) -> None:
    hits = stage.cast_rays(np.zeros((0, 3)), np.zeros((0, 3)), np.zeros(0, dtype=np.int64))
    assert hits.distance_m.shape == (0,) and hits.normal_stage.shape == (0, 3)


def test_a_config_without_actors_casts(stage: Stage) -> None:
    quiet = Stage(StageConfig(actor_count=0, dressing_count=2), EPOCH_NS)
    hits = quiet.cast_rays(np.array([[0.0, 0.0, 1.0]]), np.array([[0.0, 0.0, -1.0]]), EPOCH_NS)
    assert hits.object_id[0] >= 0
