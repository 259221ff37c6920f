"""The texture part of a look: vignette, halation and grain, applied around the colour part.

All three act on the frame, not on a colour alone, so none of them can be baked into a LUT.
``rgb`` is Rec.709 display-referred in [0, 1]; ``lin`` its scene-linear value (inverse BT.709
OETF); ``r`` a pixel's distance from the frame centre over the half diagonal (0 centre, 1 corner).

* **Vignette** (on ``lin``, before the colour): ``lin * exp(a r^2 + b r^4)``.
* **Halation** (on ``lin``, before the colour): ``lin_c + gain_c * G_sigma * max(lin_R - t, 0)``:
  the over-threshold red light, spread by a unit-sum Gaussian of ``sigma = sigma_frac * width``
  pixels (a length on the film, so a fraction of the frame's width at any resolution), returned in
  each channel with its gain. Blurred by FFT on a zero-padded frame, as no light comes from outside.
* **Grain** (after the colour, on the display value ``y``): ``y_c + rms_c(y_c) * n_c`` where
  ``rms_c`` is a piecewise-linear table over the output level and ``n`` is a unit-variance noise
  field with the learned 3x3 channel correlation (white noise mixed by its Cholesky factor), then
  each channel filtered to its own learned radial power spectrum (``psd`` over ``psd_freq`` cycles/pixel at
  ``ref_width_px``; at another width the frequencies scale with it, so the grain keeps its size
  on the frame) and the learned 3x3 channel correlation. Each frame's grain is its own: seeded by
  the frame index, so a take re-styled gives the same grain again.

Pure functions of arrays (numpy). Estimating these parameters from pairs is ``.estimate``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Optional, Tuple

import numpy as np

from engines.style.model.fit import rec709_decode, rec709_encode

__all__ = ["Vignette", "Halation", "Grain", "radius_map", "apply_vignette", "apply_halation", "gaussian_blur",
           "grain_noise", "apply_grain", "NO_VIGNETTE", "NO_HALATION"]


@dataclass(frozen=True)
class Vignette:
    """``gain(r) = exp(a r^2 + b r^4)`` on scene-linear light (module docstring)."""

    a: float
    b: float

    def to_dict(self) -> dict:
        return {"a": self.a, "b": self.b}


@dataclass(frozen=True)
class Halation:
    """Threshold ``t`` (scene-linear Rec.709 red), spread ``sigma_frac`` (Gaussian sigma over the
    frame width) and the R, G, B gains of the returned light."""

    threshold: float
    sigma_frac: float
    gain_rgb: Tuple[float, float, float]

    def __post_init__(self) -> None:
        if len(self.gain_rgb) != 3:
            raise ValueError(f"halation gain_rgb must be 3 gains (R, G, B); got {len(self.gain_rgb)}")

    def to_dict(self) -> dict:
        return {"threshold": self.threshold, "sigma_frac": self.sigma_frac, "gain_rgb": list(self.gain_rgb)}


@dataclass(frozen=True, eq=False)
class Grain:
    """Grain on the display value (module docstring): ``levels`` (L,) output code values,
    ``rms`` (3, L) per channel, ``correlation`` (3, 3), ``psd_freq`` (B,) cycles/pixel and
    ``psd`` (3, B) each channel's radial power spectrum's shape at ``ref_width_px`` (a (B,) given
    is taken for all three)."""

    levels: np.ndarray
    rms: np.ndarray
    correlation: np.ndarray
    psd_freq: np.ndarray
    psd: np.ndarray
    ref_width_px: int

    def __post_init__(self) -> None:
        n, b = np.size(self.levels), np.size(self.psd_freq)
        if np.ndim(self.psd) == 1:  # one spectrum for all three channels
            object.__setattr__(self, "psd", np.tile(np.asarray(self.psd, np.float64), (3, 1)))
        for name, shape in (("levels", (n,)), ("rms", (3, n)), ("correlation", (3, 3)), ("psd_freq", (b,)),
                            ("psd", (3, b))):
            a = np.asarray(getattr(self, name))
            if a.shape != shape or not np.isfinite(a).all():
                raise ValueError(f"grain {name} must be finite values shaped {shape}; got shape {a.shape}")

    def to_dict(self) -> dict:
        return {"levels": self.levels.tolist(), "rms": self.rms.tolist(), "correlation": self.correlation.tolist(),
                "psd_freq": self.psd_freq.tolist(), "psd": self.psd.tolist(), "ref_width_px": self.ref_width_px}

    @classmethod
    def from_dict(cls, d: dict) -> "Grain":
        return cls(np.array(d["levels"], np.float64), np.array(d["rms"], np.float64),
                   np.array(d["correlation"], np.float64), np.array(d["psd_freq"], np.float64),
                   np.array(d["psd"], np.float64), int(d["ref_width_px"]))


NO_VIGNETTE = Vignette(0.0, 0.0)
NO_HALATION = Halation(1.0, 0.0, (0.0, 0.0, 0.0))


def radius_map(height: int, width: int) -> np.ndarray:
    """(H, W) distance of each pixel centre from the frame centre over the half diagonal."""
    y = (np.arange(height) + 0.5 - height / 2.0)[:, None]
    x = (np.arange(width) + 0.5 - width / 2.0)[None, :]
    return np.sqrt(x * x + y * y) / math.hypot(width / 2.0, height / 2.0)


def apply_vignette(lin: np.ndarray, vignette: Vignette) -> np.ndarray:
    """Scene-linear ``lin`` (H, W, 3) with the vignette's gain."""
    if vignette.a == 0.0 and vignette.b == 0.0:
        return lin
    r2 = radius_map(*lin.shape[:2]) ** 2
    return lin * np.exp(vignette.a * r2 + vignette.b * r2 * r2)[..., None]


def gaussian_blur(plane: np.ndarray, sigma_px: float) -> np.ndarray:
    """(H, W) convolved with a unit-sum Gaussian, zero outside the frame (the reference pipeline's
    FFT blur, ``engines.style.film.halation.gaussian_blur``), clipped at 0: light is never negative."""
    from engines.style.film.halation import gaussian_blur as film_blur

    return np.maximum(film_blur(plane, sigma_px), 0.0)


def apply_halation(lin: np.ndarray, halation: Halation) -> np.ndarray:
    """Scene-linear ``lin`` (H, W, 3) with the halation's returned light added."""
    if halation.sigma_frac <= 0.0 or not any(g > 0 for g in halation.gain_rgb):
        return lin
    source = np.maximum(lin[..., 0] - halation.threshold, 0.0)
    if not (source > 0).any():
        return lin
    spread = gaussian_blur(source, halation.sigma_frac * lin.shape[1])
    return lin + spread[..., None] * np.asarray(halation.gain_rgb, np.float64)


def grain_noise(height: int, width: int, grain: Grain, seed: int) -> np.ndarray:
    """(H, W, 3) noise with unit variance per channel, the grain's spectrum and channel correlation."""
    rng = np.random.default_rng(seed)
    chol = np.linalg.cholesky(grain.correlation + 1e-9 * np.eye(3))
    white = np.einsum("ij,jhw->ihw", chol, rng.standard_normal((3, height, width)))  # correlated, white
    fy = np.fft.fftfreq(height)[:, None]
    fx = np.fft.rfftfreq(width)[None, :]
    radial = np.sqrt(fx ** 2 + fy ** 2) * (width / grain.ref_width_px)  # the grain's own frequency
    amplitude = np.stack([np.sqrt(np.maximum(np.interp(radial, grain.psd_freq, grain.psd[c], right=0.0), 0.0))
                          for c in range(3)])
    fields = np.fft.irfft2(np.fft.rfft2(white) * amplitude, s=(height, width))  # each channel its spectrum
    fields /= np.maximum(fields.reshape(3, -1).std(axis=1), 1e-12)[:, None, None]
    return np.moveaxis(fields, 0, -1)


def apply_grain(y: np.ndarray, grain: Grain, seed: int, noise: Optional[np.ndarray] = None) -> np.ndarray:
    """Display values ``y`` (H, W, 3) with grain (``noise``: a field from :func:`grain_noise`, made
    here from ``seed`` when not given)."""
    if noise is None:
        noise = grain_noise(y.shape[0], y.shape[1], grain, seed)
    rms = np.stack([np.interp(y[..., c], grain.levels, grain.rms[c]) for c in range(3)], axis=-1)
    return y + rms * noise


def to_linear(rgb: np.ndarray) -> np.ndarray:
    return rec709_decode(np.asarray(rgb, np.float64))


def to_display(lin: np.ndarray) -> np.ndarray:
    return np.clip(rec709_encode(lin), 0.0, 1.0)
