"""The stage seed: another seed gives another set dressing, other actors' walks and other lights;
the default seed gives exactly the stage it always gave (the benchmarks and truth tests rely on it)."""

from __future__ import annotations

import numpy as np
import pytest

from config.models import StageConfig
from sensors.sim.actors import generate_actors
from sensors.sim.dressing import generate_dressing
from sensors.sim.lighting import DEFAULT_LIGHTING, REFERENCE_SEED, irradiance, seeded_lighting
from sensors.sim.stage import stage_rngs

OTHER_SEEDS = (3, 11, 31)


def _layout(seed: int):
    stage = StageConfig(seed=seed)
    rng_actors, rng_dressing = stage_rngs(stage.seed)
    actors = generate_actors(stage, rng_actors)
    return actors, generate_dressing(stage, rng_dressing, keep_clear=[a.path.footprint() for a in actors])


def test_the_default_seed_gives_the_stage_it_always_gave():
    assert REFERENCE_SEED == StageConfig().seed == 7
    actors, dressing = _layout(REFERENCE_SEED)
    first = actors[0].path
    assert first.centre_xy == pytest.approx((2.5759473915717166, 2.868709732886243), abs=1e-12)
    assert (first.yaw_deg, first.straight_m, first.speed_mps, first.clockwise) == pytest.approx(
        (-12.828630189864555, 2.7004017052171116, 1.082678326325059, False), abs=1e-12)
    assert actors[1].path.centre_xy == pytest.approx((-1.7249284990366416, 5.05896248135244), abs=1e-12)
    assert actors[1].path.clockwise is True
    assert [p.name for p in dressing[:3]] == ["column_1", "sofa_1", "column_2"] and len(dressing) == 8
    assert dressing[2].centre_xy == pytest.approx((-1.5816788545220355, -0.5456601079040233), abs=1e-12)
    assert seeded_lighting(REFERENCE_SEED) is DEFAULT_LIGHTING


@pytest.mark.parametrize("seed", OTHER_SEEDS)
def test_another_seed_gives_another_dressing_other_walks_and_other_lights(seed):
    actors, dressing = _layout(seed)
    default_actors, default_dressing = _layout(REFERENCE_SEED)
    for mine, theirs in zip(actors, default_actors):
        assert np.hypot(*np.subtract(mine.path.centre_xy, theirs.path.centre_xy)) > 0.1
        assert mine.path.phase_m != theirs.path.phase_m and mine.path.speed_mps != theirs.path.speed_mps
    assert [p.centre_xy for p in dressing] != [p.centre_xy for p in default_dressing]
    lights = seeded_lighting(seed)
    assert lights != DEFAULT_LIGHTING
    key, default_key = np.asarray(lights.key.towards_light), np.asarray(DEFAULT_LIGHTING.key.towards_light)
    cos = key @ default_key / np.linalg.norm(key) / np.linalg.norm(default_key)
    assert cos < np.cos(np.radians(1.0)), "the key light did not move"
    # The same seed gives the same stage.
    again_actors, again_dressing = _layout(seed)
    assert again_actors == actors and again_dressing == dressing and seeded_lighting(seed) == lights


def test_seeded_lights_keep_the_reference_exposure_on_the_wall_the_camera_faces():
    wall = np.array([[0.0, -1.0, 0.0]])
    reference = float(np.mean(irradiance(wall, DEFAULT_LIGHTING)))
    for seed in range(60):
        lights = seeded_lighting(seed)
        ratio = float(np.mean(irradiance(wall, lights))) / reference
        assert 0.85 - 1e-9 <= ratio <= 1.15 + 1e-9, (seed, ratio)
        assert lights.key.towards_light[1] < 0.0 and lights.fill.towards_light[1] < 0.0  # the camera's side
        assert 0.22 <= lights.ambient_rgb[0] <= 0.38
