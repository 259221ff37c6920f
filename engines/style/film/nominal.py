"""What each look's grain should measure: RMS, spatial scale, lag-one correlation and power spectrum.

A learned grain model is checked against the pipeline on a flat field of code value ``V``: the
layers sit at net densities ``n = curves_in(V)``, each with grain of RMS ``sigma_i =
sigma_pix k sqrt((n_i + 0.15) / 1.15)`` (grain.py; ``k`` the push gain), and the output code
values move by ``J = d curves_out(M n) / d n`` (3x3, by central differences of 1e-5 density) times
the grain, so to first order the output channel ``j`` has RMS ``sqrt(sum_i (J_ji sigma_i)^2)``. The
three layers' fields share one spectrum shape, so every output channel has the radially averaged
spectrum ``rms_j^2 P1 P1 / mean(P1 P1)``; the second-order terms of the print's curve change the
RMS by under 1 % at 640 px wide (the tests measure it). The figures are for a frame without
vignette (the loss grows as ``rho^2``: 0.8 % of exposure at a tenth of the half-diagonal on
Super 8), and a flat field has no halation.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from typing import Tuple, Union

import numpy as np

from engines.style.film.encoding import GREY_CODE_VALUE
from engines.style.film.errors import FilmInputError
from engines.style.film.formats import pixel_pitch_um
from engines.style.film.grain import grain_rms_at_density, grid_spectrum, pixel_rms_density, pixel_spectrum_1d
from engines.style.film.looks import FilmLook, as_look
from engines.style.film.measure import radial_average
from engines.style.film.pipeline import colour_curves_in, colour_curves_out, colour_matrix

__all__ = ["GrainNominal", "grain_nominal", "nominal_power_spectrum"]

_STEP_DENSITY = 1e-5


@dataclass(frozen=True)
class GrainNominal:
    """The grain a look should show at an output ``width_px`` pixels wide, on a flat field of
    ``code_value``: the film's pixel pitch (um), the dye-clump sigma in output pixels (the spatial
    scale), the per-pixel RMS density at net density 1.0 (push gain in), the RMS density of each
    layer on the flat field, the expected RMS of each output channel in code values, and the
    expected lag-one correlation of the grain."""

    look: str
    width_px: int
    code_value: float
    pixel_pitch_um: float
    clump_sigma_px: float
    rms_density_at_one: float
    rms_density: Tuple[float, float, float]
    rms_code_value: Tuple[float, float, float]
    correlation: float


def _correlation(sigma_px: float) -> float:
    nu = (np.arange(4096) + 0.5) / 4096 - 0.5
    p1 = pixel_spectrum_1d(nu, sigma_px)
    return float(np.sum(p1 * np.cos(2.0 * math.pi * nu)) / np.sum(p1))


def grain_nominal(look: Union[FilmLook, str], width_px: int, code_value: float = GREY_CODE_VALUE) -> GrainNominal:
    """The nominal grain of ``look`` at ``width_px`` on a flat field of ``code_value`` (default the grey card)."""
    look = as_look(look)
    pitch_um = pixel_pitch_um(look.film_format, width_px)
    if isinstance(code_value, bool) or not isinstance(code_value, numbers.Real) or not 0.0 <= float(code_value) <= 1.0:
        raise FilmInputError(f"code_value must be a number in [0, 1], got {code_value!r}")
    net = colour_curves_in(np.full(3, float(code_value)), look)
    at_one = pixel_rms_density(look.stock.rms_granularity, look.stock.grain_clump_um, pitch_um)
    at_one *= look.development.grain_gain
    sigma = grain_rms_at_density(at_one, net)
    matrix = colour_matrix(look)
    jacobian = np.empty((3, 3))
    for i in range(3):
        step = np.zeros(3)
        step[i] = _STEP_DENSITY
        up, down = colour_curves_out(matrix @ (net + step), look), colour_curves_out(matrix @ (net - step), look)
        jacobian[:, i] = (up - down) / (2.0 * _STEP_DENSITY)
    rms_out = np.sqrt(((jacobian * sigma[None, :]) ** 2).sum(axis=1))
    clump_px = look.stock.grain_clump_um / pitch_um
    return GrainNominal(
        look=look.name,
        width_px=int(width_px),
        code_value=float(code_value),
        pixel_pitch_um=pitch_um,
        clump_sigma_px=clump_px,
        rms_density_at_one=at_one,
        rms_density=tuple(float(s) for s in sigma),  # type: ignore[arg-type]
        rms_code_value=tuple(float(s) for s in rms_out),  # type: ignore[arg-type]
        correlation=_correlation(clump_px),
    )


def nominal_power_spectrum(
    nominal: GrainNominal, shape: Tuple[int, int], bins: int = 16
) -> tuple[np.ndarray, np.ndarray]:
    """The radially averaged power spectrum (code values^2 per unit frequency area) that
    ``measure.grain_power_spectrum`` should read, in expectation, from a flat-field patch of
    ``shape`` (H, W): ``(nu_centres (bins,), power (bins, 3))``."""
    sigma_px = nominal.clump_sigma_px
    spectrum = grid_spectrum(shape, sigma_px)
    spectrum = spectrum / spectrum.mean()
    nu, shape_power = radial_average(spectrum, bins)
    return nu, shape_power[:, None] * np.square(nominal.rms_code_value)[None, :]
