"""Measuring grain in an image: RMS, radially averaged power spectrum, lag-one correlation.

These read a *grain field*: a patch of a flat field (or an image minus its grain-free version),
(H, W) or (H, W, C). Each channel's slow variation is removed first: by default its least-squares
quadratic surface in x and y (a flat field's vignette is quadratic near the centre and is not
grain; six fitted terms take 6/N of the variance and only the lowest frequency bin's power),
with ``detrend=False`` its mean alone. With ``N = H W`` pixels:

- RMS: ``sqrt(mean((f - mean f)^2))`` per channel.
- Power spectrum: the periodogram ``|FFT(f - mean f)|^2 / N``, whose mean over the frequency grid
  is the variance (Parseval), so white noise of variance ``v`` reads ``v`` at every frequency and
  a field with spectrum density ``P(nu)`` reads ``P`` (frequencies in cycles per pixel, the grid's
  area being 1). It is averaged over annuli of ``|nu|`` in ``bins`` equal bins from 0 to 0.5
  (the zero-frequency term, the removed mean, is left out; the corners beyond 0.5 too).
- Lag-one correlation: the mean of the horizontal and vertical correlation coefficients between
  neighbouring pixels, ``sum_nu P(nu) cos(2 pi nu) / sum_nu P(nu)`` along each axis; 0 for white
  noise, growing toward 1 as the grain's clumps grow in pixels.

A periodogram value scatters by its own size, and half the grid's values are independent (the
spectrum of a real field is symmetric), so a bin of ``K`` frequencies is good to about
``sqrt(2 / K)``: on a 640 x 360 patch in 8 bins, 3 % for the lowest (about 2,800 frequencies) and
under 1 % for the others. The RMS of ``N`` pixels is good to ``1 / sqrt(2N)`` (0.15 %) for white
noise, a little worse for correlated grain.
"""

from __future__ import annotations

import numpy as np

from engines.style.film.errors import FilmInputError

__all__ = ["grain_rms", "grain_power_spectrum", "grain_correlation", "radial_average"]


def _channels(field: np.ndarray, detrend: bool) -> np.ndarray:
    f = np.asarray(field, dtype=np.float64)
    if f.ndim == 2:
        f = f[..., None]
    if f.ndim != 3 or f.shape[0] < 4 or f.shape[1] < 4:
        raise FilmInputError(f"a grain field is (H, W) or (H, W, C) with H, W >= 4, got shape {np.shape(field)}")
    if not np.all(np.isfinite(f)):
        raise FilmInputError("a grain field must be finite; it has NaN or infinite values")
    if not detrend:
        return f - f.mean(axis=(0, 1), keepdims=True)
    height, width, count = f.shape
    y, x = np.meshgrid(np.linspace(-1.0, 1.0, height), np.linspace(-1.0, 1.0, width), indexing="ij")
    basis = np.stack([np.ones_like(x), x, y, x * x, x * y, y * y], axis=-1).reshape(-1, 6)
    values = f.reshape(-1, count)
    coefficients, *_ = np.linalg.lstsq(basis, values, rcond=None)
    return (values - basis @ coefficients).reshape(f.shape)


def _squeeze(values: np.ndarray, field: np.ndarray) -> np.ndarray:
    return values[..., 0] if np.ndim(field) == 2 else values


def grain_rms(field: np.ndarray, detrend: bool = True) -> np.ndarray:
    """RMS of each channel about its mean (or its quadratic trend): a 0-d array for (H, W), (C,)
    for (H, W, C)."""
    f = _channels(field, detrend)
    return _squeeze(np.sqrt(np.mean(f**2, axis=(0, 1))), field)


def radial_average(power: np.ndarray, bins: int = 16) -> tuple[np.ndarray, np.ndarray]:
    """A spectrum (H, W) or (H, W, C) on the FFT frequency grid averaged over annuli of ``|nu|``:
    ``(nu_centres (bins,), mean power (bins,) or (bins, C))``."""
    height, width = power.shape[:2]
    radius = np.hypot(np.fft.fftfreq(height)[:, None], np.fft.fftfreq(width)[None, :])
    edges = np.linspace(0.0, 0.5, bins + 1)
    index = np.digitize(radius, edges) - 1
    keep = (radius > 0.0) & (index < bins)
    counts = np.bincount(index[keep], minlength=bins).astype(np.float64)
    flat = power.reshape(height, width, -1)[keep]
    sums = np.stack([np.bincount(index[keep], weights=flat[:, c], minlength=bins) for c in range(flat.shape[1])], -1)
    means = sums / np.maximum(counts, 1.0)[:, None]
    centres = 0.5 * (edges[:-1] + edges[1:])
    return centres, (means[:, 0] if power.ndim == 2 else means)


def grain_power_spectrum(field: np.ndarray, bins: int = 16, detrend: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Radially averaged periodogram of ``field`` (less its mean or its quadratic trend):
    ``(nu_centres in cycles/pixel (bins,), power (bins,) or (bins, C))`` in (field units)^2 per
    unit frequency area."""
    f = _channels(field, detrend)
    spectrum = np.abs(np.fft.fft2(f, axes=(0, 1))) ** 2 / (f.shape[0] * f.shape[1])
    nu, power = radial_average(spectrum, bins)
    return nu, _squeeze(power, field)


def grain_correlation(field: np.ndarray, detrend: bool = True) -> np.ndarray:
    """Lag-one correlation coefficient (mean of horizontal and vertical) of each channel, about
    its mean (or its quadratic trend)."""
    f = _channels(field, detrend)
    var = np.mean(f**2, axis=(0, 1))
    horizontal = np.mean(f[:, 1:] * f[:, :-1], axis=(0, 1))
    vertical = np.mean(f[1:, :] * f[:-1, :], axis=(0, 1))
    return _squeeze(0.5 * (horizontal + vertical) / var, field)
