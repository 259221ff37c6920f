"""Film grain: a seeded, spatially correlated density noise whose size follows the gate.

**On the film.** Each layer's grain is a stationary Gaussian field in density: white noise of
intensity ``S^2`` (density^2 um^2) blurred by a unit-sum Gaussian of the dye-cloud size
``sigma_g`` (um, the stock's ``grain_clump_um``). Read through an aperture much larger than a
clump, its variance is ``S^2 / area``: Selwyn's law, which the data sheets' figure fixes. The
diffuse RMS granularity ``G`` is 1000 sigma_D through a 48 um circular aperture at net density
1.0, so ``S = (G / 1000) sqrt(pi 24^2)`` (500T, G = 7: S = 0.298 density um).

**In the output.** A pixel ``p`` um wide (``formats.pixel_pitch_um``) averages the field over its
square; in pixel units (``sigma_px = sigma_g / p``, frequencies ``nu`` in cycles per pixel) the
sampled field has the alias-summed spectrum, separable in x and y,

    P(nu_x, nu_y) = (S / p)^2 P1(nu_x) P1(nu_y),    P1(nu) = sum_k exp(-4 pi^2 sigma_px^2 (nu + k)^2) sinc^2(nu + k)

(k = -4..4; the terms left out weigh under 1e-10) and the per-pixel RMS
``sigma_pix = (S / p) I``, ``I = int P1 = 2 [Phi(1/s) - 1/2 - s (phi(0) - phi(1/s))]``,
``s = sqrt(2) sigma_px`` (``Phi``, ``phi`` the standard normal CDF and density): ``I -> 1`` for
clumps much smaller than a pixel (Selwyn for the pixel's area), ``I -> 1 / (2 sqrt(pi) sigma_px)``
for clumps much larger. At 640 px wide 500T has sigma_px = 0.13 (Super 35), 0.26 (16 mm),
0.55 (Super 8) and sigma_pix = 0.0065, 0.0108, 0.0148 density at net density 1.0: the grain is
rougher and coarser in pixels as the gate shrinks.

**Density dependence.** The Poisson grain model (Nutting, Siedentopf) makes the density variance
proportional to the developed density, with the fog's grains left at none; the RMS at net density
``d`` is ``sigma_pix sqrt((d + 0.15) / 1.15)`` (0.36 sigma_pix at D-min, 0.88 at the grey card's
0.75, 1.0 at 1.0), times the development's push gain. The three layers' fields are independent.

**Synthesis** is seeded (numpy's PCG64 from ``seed``) and exact in its second moments: unit white
noise on the pixel grid, filtered by FFT with ``sqrt(P1 P1)`` normalised by the grid's mean of
``P1 P1``, has unit variance and spectrum shape ``P1 P1`` in expectation. ``measure.py`` reads the
RMS and the radially averaged power spectrum back from an image.
"""

from __future__ import annotations

import math
from typing import Tuple

import numpy as np

__all__ = [
    "GRANULARITY_APERTURE_UM",
    "FOG_GRAIN_DENSITY",
    "selwyn_granularity",
    "pixel_integral",
    "pixel_rms_density",
    "grain_rms_at_density",
    "pixel_spectrum_1d",
    "grid_spectrum",
    "unit_grain_fields",
]

#: Diameter of the aperture the data sheets' diffuse RMS granularity is read through, um.
GRANULARITY_APERTURE_UM = 48.0

#: Density offset in the square-root law: the fog's share of the grain, at net density 0.
FOG_GRAIN_DENSITY = 0.15

_ALIASES = 4


def selwyn_granularity(rms_granularity: float) -> float:
    """Selwyn granularity ``S`` (density um) from a data sheet's diffuse RMS granularity."""
    aperture_area_um2 = math.pi * (GRANULARITY_APERTURE_UM / 2.0) ** 2
    return rms_granularity / 1000.0 * math.sqrt(aperture_area_um2)


def _phi(u: float) -> float:
    return math.exp(-0.5 * u * u) / math.sqrt(2.0 * math.pi)


def _cdf(u: float) -> float:
    return 0.5 * (1.0 + math.erf(u / math.sqrt(2.0)))


def pixel_integral(sigma_px: float) -> float:
    """``I = int P1(nu) d nu`` over all frequencies (see the module docstring), dimensionless."""
    if sigma_px <= 0.0:
        return 1.0
    s = math.sqrt(2.0) * sigma_px
    return 2.0 * (_cdf(1.0 / s) - 0.5 - s * (_phi(0.0) - _phi(1.0 / s)))


def pixel_rms_density(rms_granularity: float, clump_um: float, pixel_pitch_um: float) -> float:
    """Per-pixel RMS density at net density 1.0 for pixels ``pixel_pitch_um`` wide on the film."""
    return selwyn_granularity(rms_granularity) / pixel_pitch_um * pixel_integral(clump_um / pixel_pitch_um)


def grain_rms_at_density(rms_at_one: float, net_density: np.ndarray) -> np.ndarray:
    """RMS density of the grain at net densities ``net_density`` given its RMS at net density 1.0."""
    d = np.maximum(np.asarray(net_density, dtype=np.float64), 0.0)
    return rms_at_one * np.sqrt((d + FOG_GRAIN_DENSITY) / (1.0 + FOG_GRAIN_DENSITY))


def pixel_spectrum_1d(nu: np.ndarray, sigma_px: float) -> np.ndarray:
    """``P1(nu)`` at frequencies ``nu`` (cycles per pixel), float64."""
    nu = np.asarray(nu, dtype=np.float64)
    total = np.zeros(nu.shape)
    for k in range(-_ALIASES, _ALIASES + 1):
        f = nu + k
        total += np.exp(-4.0 * math.pi**2 * sigma_px**2 * f**2) * np.sinc(f) ** 2
    return total


def grid_spectrum(shape: Tuple[int, int], sigma_px: float) -> np.ndarray:
    """``P1(nu_y) P1(nu_x)`` on the FFT frequency grid of a (H, W) frame, float64 (H, W)."""
    height, width = shape
    return pixel_spectrum_1d(np.fft.fftfreq(height), sigma_px)[:, None] * pixel_spectrum_1d(
        np.fft.fftfreq(width), sigma_px
    )[None, :]


def unit_grain_fields(shape: Tuple[int, int], sigma_px: float, rng: np.random.Generator, count: int = 3) -> np.ndarray:
    """``count`` independent grain fields (H, W, count) float64 of unit variance (in expectation)
    and spectrum shape ``P1 P1``, from ``rng``."""
    height, width = shape
    white = rng.standard_normal((count, height, width))
    py = pixel_spectrum_1d(np.fft.fftfreq(height), sigma_px)
    px_full = pixel_spectrum_1d(np.fft.fftfreq(width), sigma_px)
    px = pixel_spectrum_1d(np.fft.rfftfreq(width), sigma_px)
    transfer = np.sqrt(py[:, None] * px[None, :] / (py.mean() * px_full.mean()))
    fields = np.fft.irfft2(np.fft.rfft2(white) * transfer, s=(height, width))
    return np.moveaxis(fields, 0, -1)
