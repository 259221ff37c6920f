"""The pipeline: a control frame (Rec.709 code values) to its film test, colour part and texture part.

**Colour part** (``colour``): a per-pixel function of RGB alone, in the form *curves, matrix,
curves*::

    n = curves_in(V)  : V -> L = BT709^-1(V) -> e = 2^s L / 0.18 -> x = log10 e - push log10 2
                        -> net density of each layer's developed H&D curve   (per channel)
    m = M n           : dye crosstalk, then bleach bypass's retained silver (3x3, process.py)
    V' = curves_out(m): print (timed printer lights, print curves, transmittance) or scan,
                        then the BT.709 OETF, clipped to [0, 1]             (per channel)

``colour(V) = curves_out(M curves_in(V))`` exactly; :func:`colour_curves_in`,
:func:`colour_matrix` and :func:`colour_curves_out` give the three stages on their own (a LUT
baker or a learned colour model can fit each).

**Texture part** (``develop``), where each effect happens physically:

1. vignette on the exposure: ``e <- e v(x, y)`` (vignette.py);
2. halation, light in the emulsion: ``e <- e + halo(e)`` (halation.py);
3. the negative's curves, then grain in density on the negative:
   ``n <- n + sigma(n) g(x, y)`` (grain.py; seeded);
4. the mix and ``curves_out`` as in the colour part.

Take the texture away and ``develop``'s chain is ``colour``'s; ``FilmTest.colour_only`` is
``colour`` of the control, the target of a colour model. Everything is float64 inside and float32 out; the same
control, look, seed and exposure give bit-identical frames. The three stages alone return float64
(the precision a LUT baker or a derivative wants); ``colour`` and ``develop`` round to float32.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import NamedTuple, Union

import numpy as np

from engines.style.film.encoding import GREY_LINEAR, bt709_inverse_oetf, bt709_oetf
from engines.style.film.formats import pixel_pitch_um
from engines.style.film.frames import check_code_values, check_exposure_stops, check_seed
from engines.style.film.grain import grain_rms_at_density, pixel_rms_density, unit_grain_fields
from engines.style.film.halation import halation_exposure
from engines.style.film.looks import FilmLook, as_look
from engines.style.film.process import (
    Scan,
    developed_layers,
    film_log_exposure,
    finish_linear,
    grey_net_density,
    mix_matrix,
    net_density,
    printer_lights,
)
from engines.style.film.stocks import Layers
from engines.style.film.vignette import vignette_factor

__all__ = [
    "FilmTest",
    "TextureParts",
    "colour",
    "colour_curves_in",
    "colour_matrix",
    "colour_curves_out",
    "texture_parts",
    "develop",
]

LookLike = Union[FilmLook, str]


@dataclass(frozen=True)
class FilmTest:
    """A developed film test: ``image`` (H, W, 3) float32 code values, ``colour_only`` the colour
    part alone of the same control (no grain, halation or vignette), and what made them."""

    image: np.ndarray
    colour_only: np.ndarray
    look: FilmLook
    seed: int
    exposure_stops: float


@dataclass(frozen=True)
class TextureParts:
    """The texture of a film test, each where it acts: ``vignette`` (H, W) the exposure factor,
    ``halation`` (H, W, 3) the relative exposure added (1.0 = grey card), ``grain`` (H, W, 3) the
    density added to each layer of the negative; float32."""

    vignette: np.ndarray
    halation: np.ndarray
    grain: np.ndarray


class _Tables(NamedTuple):
    layers: Layers
    matrix: np.ndarray
    lights: np.ndarray


@functools.lru_cache(maxsize=64)
def _tables(look: FilmLook) -> _Tables:
    layers = developed_layers(look.stock, look.development)
    if isinstance(look.finish, Scan):
        lights = grey_net_density(layers, look.development)
    else:
        lights = printer_lights(layers, look.development, look.finish)
    return _Tables(layers, mix_matrix(look.development), lights)


def _mix(matrix: np.ndarray, net: np.ndarray) -> np.ndarray:
    # Column by column: numpy's matmul of (..., 3) by a 3x3 takes a slow generic path.
    out = np.empty(net.shape, dtype=np.float64)
    for r in range(3):
        out[..., r] = matrix[r, 0] * net[..., 0] + matrix[r, 1] * net[..., 1] + matrix[r, 2] * net[..., 2]
    return out


def _relative_exposure(code_values: np.ndarray, exposure_stops: float) -> np.ndarray:
    return bt709_inverse_oetf(code_values) * (2.0**exposure_stops / GREY_LINEAR)


def _net(relative_exposure: np.ndarray, look: FilmLook) -> np.ndarray:
    return net_density(film_log_exposure(relative_exposure, look.development), _tables(look).layers)


def _out64(mixed_net: np.ndarray, look: FilmLook) -> np.ndarray:
    tables = _tables(look)
    linear = finish_linear(mixed_net, tables.layers, look.stock, look.development, look.finish, tables.lights)
    return np.clip(bt709_oetf(linear), 0.0, 1.0)


def colour_curves_in(rgb: np.ndarray, look: LookLike, exposure_stops: float = 0.0) -> np.ndarray:
    """First curves: code values (..., 3) to each layer's net negative density, float64."""
    look = as_look(look)
    values = check_code_values(rgb, "rgb", frame=False)
    return _net(_relative_exposure(values, check_exposure_stops(exposure_stops)), look)


def colour_matrix(look: LookLike) -> np.ndarray:
    """The 3x3 density mix (crosstalk, retained silver) on net densities, float64 (a copy)."""
    return _tables(as_look(look)).matrix.copy()


def colour_curves_out(mixed_net: np.ndarray, look: LookLike) -> np.ndarray:
    """Last curves: mixed net negative densities (..., 3) to output code values in [0, 1], float64."""
    return _out64(np.asarray(mixed_net, dtype=np.float64), as_look(look))


def colour(rgb: np.ndarray, look: LookLike, exposure_stops: float = 0.0) -> np.ndarray:
    """The colour part: code values (..., 3) float32/float64 in [0, 1] to the look's, float32."""
    look = as_look(look)
    net = colour_curves_in(rgb, look, exposure_stops)
    return _out64(_mix(_tables(look).matrix, net), look).astype(np.float32)


def _texture(
    values: np.ndarray, look: FilmLook, seed: int, exposure_stops: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(vignette, halation, grain, textured net density), float64."""
    height, width = values.shape[:2]
    pitch_um = pixel_pitch_um(look.film_format, width)
    vignette = vignette_factor(height, width, look.film_format.vignette_corner_stops)
    exposure = _relative_exposure(values, exposure_stops) * vignette[..., None]
    halation = halation_exposure(exposure, look.stock.halation, pitch_um)
    net = _net(exposure + halation, look)
    sigma_at_one = pixel_rms_density(look.stock.rms_granularity, look.stock.grain_clump_um, pitch_um)
    unit = unit_grain_fields((height, width), look.stock.grain_clump_um / pitch_um, np.random.default_rng(seed))
    grain = grain_rms_at_density(sigma_at_one * look.development.grain_gain, net) * unit
    return vignette, halation, grain, net + grain


def texture_parts(control: np.ndarray, look: LookLike, seed: int = 0, exposure_stops: float = 0.0) -> TextureParts:
    """The vignette, halation and grain ``develop`` applies to ``control`` (H, W, 3) with ``seed``."""
    look = as_look(look)
    values = check_code_values(control, "control", frame=True)
    vignette, halation, grain, _ = _texture(values, look, check_seed(seed), check_exposure_stops(exposure_stops))
    return TextureParts(vignette.astype(np.float32), halation.astype(np.float32), grain.astype(np.float32))


def develop(control: np.ndarray, look: LookLike, seed: int = 0, exposure_stops: float = 0.0) -> FilmTest:
    """The film test of ``control`` (H, W, 3) Rec.709 code values in [0, 1]: float32 of the same shape."""
    look = as_look(look)
    values = check_code_values(control, "control", frame=True)
    seed = check_seed(seed)
    stops = check_exposure_stops(exposure_stops)
    _, _, _, net = _texture(values, look, seed, stops)
    image = _out64(_mix(_tables(look).matrix, net), look).astype(np.float32)
    return FilmTest(image, colour(values, look, stops), look, seed, stops)
