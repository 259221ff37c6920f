"""Stage lighting: a key light, a fill light and ambient (studio bounce), Lambertian shading.

Lights are directional (far compared with the set). Irradiance is in relative units chosen so
that, with the default lights, a wall facing the camera across the set receives about 1.0: a
mid-grey (18 %) surface there renders mid-grey at the reference exposure (T2.8, see
:mod:`sensors.sim.render`). No shadows: every surface facing a light is lit by it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Tuple

import numpy as np

__all__ = ["Light", "Lighting", "DEFAULT_LIGHTING", "irradiance"]


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
