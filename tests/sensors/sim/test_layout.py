"""Stage layout: seeded dressing and actors, clearances, ids, actors that always move."""

from __future__ import annotations

import numpy as np
import pytest

from config.models import StageConfig
from sensors.sim.actors import ACTOR_RADIUS_M, actor_poses
from sensors.sim.layout import capsules_clear, inside_room, track_corridor
from sensors.sim.stage import Stage

from .conftest import EPOCH_NS


def _layout(stage: Stage):
    return [(o.name, o.kind, o.albedo_rgb) for o in stage.objects], stage.dressing, [a.path for a in stage.actors]


def test_the_same_seed_gives_the_identical_stage(stage: Stage) -> None:
    again = Stage(stage.config, EPOCH_NS)
    assert _layout(again) == _layout(stage)


def test_another_seed_gives_another_dressing(stage: Stage) -> None:
    other = Stage(stage.config.model_copy(update={"seed": stage.config.seed + 1}), EPOCH_NS)
    assert other.dressing != stage.dressing
    assert [a.path for a in other.actors] != [a.path for a in stage.actors]


@pytest.mark.parametrize("seed", range(6))
def test_dressing_keeps_clear_of_the_track_the_actors_and_itself(seed: int) -> None:
    config = StageConfig(seed=seed, dressing_count=12)
    stage = Stage(config, EPOCH_NS)
    corridor = track_corridor(config)
    walks = [a.path.footprint() for a in stage.actors]
    feet = [p.footprint() for p in stage.dressing]
    assert len(feet) >= 8  # a 12 x 16 m room has space for most of them
    for i, foot in enumerate(feet):
        assert inside_room(foot, config.width_m, config.depth_m)
        assert capsules_clear(foot, corridor)
        assert all(capsules_clear(foot, walk) for walk in walks)
        assert all(capsules_clear(foot, other) for other in feet[i + 1 :])
    for walk in walks:
        assert inside_room(walk, config.width_m, config.depth_m)
        assert capsules_clear(walk, corridor)


def test_objects_have_unique_ids_names_and_valid_albedo(stage: Stage) -> None:
    ids = [o.object_id for o in stage.objects]
    assert ids == list(range(len(ids)))
    assert len({o.name for o in stage.objects}) == len(ids)
    kinds = {o.kind for o in stage.objects}
    assert {"floor", "wall", "actor"} <= kinds and len(kinds) >= 4
    for o in stage.objects:
        assert len(o.albedo_rgb) == 3 and all(0.0 <= c <= 1.0 for c in o.albedo_rgb)
    assert sum(o.kind == "actor" for o in stage.objects) == stage.config.actor_count >= 2


@pytest.mark.parametrize(
    "config",
    [
        StageConfig(),
        StageConfig(dressing_count=0, actor_count=3, seed=11),
        StageConfig(width_m=4.0, depth_m=4.0, track_origin_m=(-1.5, -1.5, 0.0), track_length_m=2.0, dressing_count=3),
    ],
    ids=["default", "three-actors-bare", "tiny-room"],
)
def test_actors_move_in_every_profile(config: StageConfig) -> None:
    stage = Stage(config, EPOCH_NS)
    assert len(stage.actors) == config.actor_count
    a0, a1 = stage.actor_matrices(EPOCH_NS), stage.actor_matrices(EPOCH_NS + 500_000_000)
    moved = np.linalg.norm(a1[:, :3, 3] - a0[:, :3, 3], axis=1)
    assert np.all(moved > 0.2)
    for actor in stage.actors:
        assert 0.8 <= actor.path.speed_mps <= 1.4


def test_actors_face_where_they_walk_at_their_speed(stage: Stage) -> None:
    t = np.linspace(0.0, 30.0, 601)
    for actor in stage.actors:
        pos, heading = actor_poses(actor.path, t)
        h = 1e-5
        ahead, _ = actor_poses(actor.path, t + h)
        velocity = (ahead - pos) / h
        speed = np.linalg.norm(velocity, axis=1)
        np.testing.assert_allclose(speed, actor.path.speed_mps, rtol=1e-4)
        facing = np.stack([np.cos(heading), np.sin(heading)], axis=1)
        np.testing.assert_allclose(np.sum(facing * velocity[:, :2], axis=1) / speed, 1.0, atol=1e-4)
        assert np.all(pos[:, 2] == 0.0)
        # vectorised poses equal one-at-a-time poses
        single = np.array([actor_poses(actor.path, float(v))[0] for v in t[::50]])
        np.testing.assert_allclose(single, pos[::50], atol=1e-12)


def test_actor_matrices_are_rigid_and_upright(stage: Stage) -> None:
    for T in stage.actor_matrices(EPOCH_NS + 1_234_567_890):
        R = T[:3, :3]
        np.testing.assert_allclose(R @ R.T, np.eye(3), atol=1e-12)
        np.testing.assert_allclose(R[:, 2], [0.0, 0.0, 1.0], atol=1e-12)
    assert ACTOR_RADIUS_M > 0.3
