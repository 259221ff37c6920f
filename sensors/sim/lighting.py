"""Stage lighting: a key light, a fill light and ambient (studio bounce), Lambertian shading.

Lights are directional (far compared with the set). Irradiance is in relative units chosen so
that, with the default lights, a wall facing the camera across the set receives about 1.0: a
mid-grey (18 %) surface there renders mid-grey at the reference exposure (T2.8, see
:mod:`sensors.sim.render`). No shadows: every surface facing a light is lit by it.

**Seeded lighting.** :func:`seeded_lighting` gives each stage seed its own lights, drawn from the
seed's own generator (apart from the actors' and the dressing's, so one does not move the
others): the key turned up to :data:`KEY_AZIMUTH_SPREAD_DEG` either way from the default's
azimuth, 25-50 deg high, 0.6-0.9 strong, from warm to tungsten-warmer; the fill on the other side
of the camera, 5-25 deg high, 0.2-0.4, cool; ambient 0.22-0.38 grey. Key and fill are then
scaled together so that a wall facing the camera across the set (normal -y) receives 0.85 to
1.15 times what it does under the default lights (0.98): the renderer's reference exposure
still renders a mid-grey wall there mid-grey to within a fifth of a stop; the floor gets 0.5 to
1.5 (the default: 0.84) as the key stands higher or lower. The default seed
(:data:`REFERENCE_SEED`, the profiles' and ``StageConfig``'s) keeps :data:`DEFAULT_LIGHTING`:
the reference exposure is set against it.

:class:`sensors.sim.stage.Stage` takes its lights as an argument (default:
:data:`DEFAULT_LIGHTING`); ``seeded_lighting(config.seed)`` gives a seed's own.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Tuple

import numpy as np

from config.models import StageConfig

__all__ = [
    "Light",
    "Lighting",
    "DEFAULT_LIGHTING",
    "REFERENCE_SEED",
    "KEY_AZIMUTH_SPREAD_DEG",
    "seeded_lighting",
    "irradiance",
]


@dataclass(frozen=True)
class Light:
    """A directional light: ``towards_light`` (3,) points from the set to the light (stage
    frame, normalised on use), ``intensity`` in relative irradiance units, ``colour_rgb`` linear."""

    towards_light: Tuple[float, float, float]
    intensity: float
    colour_rgb: Tuple[float, float, float] = (1.0, 1.0, 1.0)

    def unit_direction(self) -> np.ndarray:
        d = np.asarray(self.towards_light, dtype=float)
        return d / np.linalg.norm(d)


@dataclass(frozen=True)
class Lighting:
    """Key, fill and ambient. The key is warm and high behind-left of the camera's side of the
    set (stage -y looking to +y); the fill is cool, low and from the other side."""

    key: Light = Light((0.5, -1.0, 1.0), 0.75, (1.0, 0.96, 0.9))
    fill: Light = Light((-1.0, -1.0, 0.3), 0.30, (0.9, 0.95, 1.0))
    ambient_rgb: Tuple[float, float, float] = field(default=(0.30, 0.30, 0.30))


DEFAULT_LIGHTING = Lighting()

#: The stage seed whose lighting is :data:`DEFAULT_LIGHTING` (``StageConfig``'s default seed).
REFERENCE_SEED = int(StageConfig.model_fields["seed"].default)
#: How far a seed may turn the key light from the default key's azimuth, either way, deg.
KEY_AZIMUTH_SPREAD_DEG = 30.0


def _towards(azimuth_deg: float, elevation_deg: float) -> Tuple[float, float, float]:
    """Unit vector (stage frame) towards a light at an azimuth (from +x, counter-clockwise) and elevation."""
    a, e = math.radians(azimuth_deg), math.radians(elevation_deg)
    return (math.cos(e) * math.cos(a), math.cos(e) * math.sin(a), math.sin(e))


def seeded_lighting(seed: int) -> Lighting:
    """The lights of stage seed ``seed`` (module docstring): :data:`DEFAULT_LIGHTING` for
    :data:`REFERENCE_SEED`, else key, fill and ambient drawn from the seed. Deterministic."""
    if int(seed) == REFERENCE_SEED:
        return DEFAULT_LIGHTING
    rng = np.random.default_rng([int(seed) % (1 << 64), 3])  # stage_rngs uses streams 1 and 2
    key_dir = np.asarray(DEFAULT_LIGHTING.key.towards_light, dtype=float)
    key_azimuth = math.degrees(math.atan2(key_dir[1], key_dir[0]))
    azimuth = key_azimuth + float(rng.uniform(-KEY_AZIMUTH_SPREAD_DEG, KEY_AZIMUTH_SPREAD_DEG))
    key = Light(
        _towards(azimuth, float(rng.uniform(25.0, 50.0))),
        float(rng.uniform(0.6, 0.9)),
        (1.0, 1.0 - float(rng.uniform(0.0, 0.08)), 1.0 - float(rng.uniform(0.05, 0.2))),
    )
    # The fill comes from the camera's side of the set too (-y), on the other side of it from the key.
    fill_azimuth = -180.0 - azimuth + float(rng.uniform(-20.0, 20.0))
    fill = Light(
        _towards(fill_azimuth, float(rng.uniform(5.0, 25.0))),
        float(rng.uniform(0.2, 0.4)),
        (1.0 - float(rng.uniform(0.0, 0.12)), 1.0 - float(rng.uniform(0.0, 0.06)), 1.0),
    )
    grey = float(rng.uniform(0.22, 0.38))
    drawn = Lighting(key=key, fill=fill, ambient_rgb=(grey, grey, grey))
    # Scale key and fill so the wall facing the camera gets the default's irradiance, +-15 %.
    wall = np.array([[0.0, -1.0, 0.0]])
    target = float(np.mean(irradiance(wall, DEFAULT_LIGHTING))) * float(rng.uniform(0.85, 1.15))
    lit = float(np.mean(irradiance(wall, drawn))) - grey  # > 0: both lights are on the camera's side
    gain = max(target - grey, 0.0) / lit
    return Lighting(
        key=Light(key.towards_light, key.intensity * gain, key.colour_rgb),
        fill=Light(fill.towards_light, fill.intensity * gain, fill.colour_rgb),
        ambient_rgb=(grey, grey, grey),
    )


def irradiance(normals: np.ndarray, lighting: Lighting = DEFAULT_LIGHTING) -> np.ndarray:
    """Irradiance (N,3) float32 (per linear RGB channel) on surfaces with unit ``normals`` (N,3)."""
    n = np.asarray(normals, dtype=np.float32).reshape(-1, 3)
    out = np.empty((n.shape[0], 3), dtype=np.float32)
    out[:] = np.asarray(lighting.ambient_rgb, dtype=np.float32)
    for light in (lighting.key, lighting.fill):
        # Written per component: tiny matrix products go through BLAS threads, which stall
        # on a busy machine.
        lx, ly, lz = (np.float32(v) for v in light.unit_direction())
        cos = n[:, 0] * lx + n[:, 1] * ly + n[:, 2] * lz
        np.maximum(cos, np.float32(0.0), out=cos)
        for c in range(3):
            out[:, c] += cos * np.float32(light.colour_rgb[c] * light.intensity)
    return out
