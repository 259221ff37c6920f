"""Halation: light that crosses the emulsion, scatters in the base and comes back to expose it again.

Light that is not absorbed on its way down reaches the film base; part of it is scattered or
reflected at the base's back surface (the rem-jet backing of VISION3 stocks absorbs most, not all)
and returns to the emulsion from behind, spread over a disc of about twice the base thickness
times the tangent of the scattering angle (a 0.14 mm base and angles up to the critical ~40 deg:
radius up to ~0.25 mm). The layer nearest the base is the red-sensitive one, and the light that
gets through the blue and green layers to the base is mostly red, so the second exposure is mostly
red, a little green, no blue: the red-orange glow round a lamp.

**Model.** On relative exposure ``e`` (1.0 = the grey card at the stock's rating, per channel)::

    source = max(e_red - threshold, 0)
    halo_c = gain_c * G_sigma * source            (c = R, G, B; G_sigma a unit-sum Gaussian)

``sigma`` is a length on the film (``sigma_mm``, 0.12 mm: the halo's radius of about 0.25 mm is
two sigma), so in pixels it is ``sigma_mm / pixel pitch`` and grows as the gate shrinks for the
same output width (Super 35 at 640 px wide: 3.1 px; 16 mm: 6.1 px; Super 8: 13.3 px). Halation is
linear in light; the threshold (2^1.5 = 2.83 x grey, 1.5 stops over the grey card) drops the halo
of everything dimmer, which lies under the grain and is taken out by the print's timing, so a
frame without highlights is left exactly as it was. The gains (R 0.20, G 0.05, B 0) are the
fraction of the over-threshold red exposure that comes back; the numbers are chosen for a glow of
the strength seen round practical lamps on VISION3, not measured.

The blur is a Gaussian applied by FFT on a frame zero-padded by ``4 sigma`` on every side (no
light comes from outside the gate; the padding keeps the FFT's wrap-around out of the frame; the
Gaussian's weight beyond 4 sigma is 6e-5 per axis). Its transfer function is exactly 1 at zero
frequency, so the halo carries ``gain`` times the over-threshold light, less what falls outside
the frame.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from engines.style.film.errors import FilmSpecError

__all__ = ["HalationSpec", "VISION3_HALATION", "gaussian_blur", "halation_exposure"]


@dataclass(frozen=True)
class HalationSpec:
    """Halation of a stock: the relative-exposure threshold (1.0 = grey card), the spread on the
    film (Gaussian sigma, mm) and the R, G, B gains of the returned light."""

    threshold: float
    sigma_mm: float
    gain_rgb: tuple[float, float, float]

    def __post_init__(self) -> None:
        if not (self.threshold > 0.0 and self.sigma_mm > 0.0 and all(g >= 0.0 for g in self.gain_rgb)):
            raise FilmSpecError(
                f"halation needs threshold > 0, sigma_mm > 0 and gains >= 0, got threshold={self.threshold}, "
                f"sigma_mm={self.sigma_mm}, gain_rgb={self.gain_rgb}"
            )


#: Halation of the VISION3 negatives (shared base and rem-jet backing); see the module docstring.
VISION3_HALATION = HalationSpec(threshold=2.0**1.5, sigma_mm=0.12, gain_rgb=(0.20, 0.05, 0.0))


def gaussian_blur(plane: np.ndarray, sigma_px: float) -> np.ndarray:
    """A 2-D plane (H, W) convolved with a unit-sum Gaussian of ``sigma_px`` pixels, zero outside
    the frame (see the module docstring); float64 of the same shape."""
    plane = np.asarray(plane, dtype=np.float64)
    if sigma_px <= 0.0:
        return plane.copy()
    height, width = plane.shape
    pad = int(math.ceil(4.0 * sigma_px))
    padded = np.zeros((height + 2 * pad, width + 2 * pad))
    padded[pad : pad + height, pad : pad + width] = plane
    fy = np.fft.fftfreq(padded.shape[0])[:, None]
    fx = np.fft.rfftfreq(padded.shape[1])[None, :]
    transfer = np.exp(-2.0 * math.pi**2 * sigma_px**2 * (fx**2 + fy**2))
    blurred = np.fft.irfft2(np.fft.rfft2(padded) * transfer, s=padded.shape)
    return blurred[pad : pad + height, pad : pad + width]


def halation_exposure(relative_exposure: np.ndarray, spec: HalationSpec, pixel_pitch_um: float) -> np.ndarray:
    """The relative exposure (H, W, 3) halation adds to ``relative_exposure`` (H, W, 3), for pixels
    ``pixel_pitch_um`` wide on the film; zeros where no red exposure exceeds the threshold."""
    source = np.maximum(relative_exposure[..., 0] - spec.threshold, 0.0)
    halo = np.zeros(relative_exposure.shape, dtype=np.float64)
    if not np.any(source > 0.0):
        return halo
    # FFT round-off leaves ~1e-17 of either sign far from the source; light is never negative.
    spread = np.maximum(gaussian_blur(source, spec.sigma_mm * 1000.0 / pixel_pitch_um), 0.0)
    for channel, gain in enumerate(spec.gain_rgb):
        if gain > 0.0:
            halo[..., channel] = gain * spread
    return halo
