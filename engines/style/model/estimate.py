"""Estimating a look's texture from pairs, once its colour is known: halation, then grain.

**Halation.** The control's scene-linear light (after the learned vignette) predicts the test
through the colour part; where the test is brighter and redder than predicted around highlights,
light came back from the film base. For each spread ``sigma_frac`` of :data:`HALATION_SIGMAS` and
threshold of :data:`HALATION_THRESHOLDS` (scene-linear red), the source ``max(lin_R - t, 0)``
blurred by the spread gives a halo shape ``s``; the test's residual is linear in the gains for a
small halo, ``residual ~ J(lin) g s`` with ``J`` the colour part's 3x3 derivative to linear light
at each pixel (finite differences), so the gains are a least-squares solve over the pixels the
halo reaches; the (spread, threshold) with the smallest remaining error wins, and two
Gauss-Newton steps at the found halo finish the gains. It runs on the :data:`HALATION_PAIRS`
pairs with the most light over the lowest threshold, at half resolution. Pairs without such light
say nothing about halation, and a halo that takes away less than :data:`MIN_HALATION_GAIN` of the
error where it reaches explains nothing: the look then has none, and its card says why.

**Grain.** The residual ``test - (look without grain)(control)`` under each pair's mask is the
grain plus what the colour part misses. Per channel, its RMS in :data:`GRAIN_LEVELS` bins of the
predicted display value makes the ``rms`` table (a bin with fewer than :data:`MIN_BIN_SAMPLES`
samples takes its nearest neighbours' values); the residual divided by that RMS is a unit field
whose channel correlation and radially averaged power spectrum (``engines.style.film.measure``,
over the largest masked rectangle of each pair, averaged over pairs) complete the grain.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import List, Optional, Sequence, Tuple

import numpy as np

from engines.style.model.colour import ColourTransform, apply_colour
from engines.style.model.texture import (
    NO_HALATION, Grain, Halation, Vignette, apply_halation, apply_vignette, gaussian_blur, to_display, to_linear,
)

__all__ = ["HALATION_SIGMAS", "HALATION_THRESHOLDS", "GRAIN_LEVELS", "MIN_BIN_SAMPLES", "PSD_BINS", "TexturePair",
           "estimate_halation", "estimate_grain"]

#: Candidate halo spreads, Gaussian sigma over the frame width (1/400 to 1/25: at least 1.6 px at
#: 640 px wide; a narrower "halo" is the colour part's error at an edge, not light from the base).
HALATION_SIGMAS = tuple(float(v) for v in np.geomspace(0.0025, 0.04, 8))
#: Candidate thresholds, scene-linear red (0.18 is the grey card).
HALATION_THRESHOLDS = (0.25, 0.36, 0.51, 0.66, 0.8)
#: Halation is estimated on the pairs with the most light over the lowest threshold, at most this
#: many, each at half resolution (2x2 means: the grain averages down, a halo keeps its shape).
HALATION_PAIRS = 8
#: A halo is kept only when it takes away at least this share of the error where it reaches.
MIN_HALATION_GAIN = 0.05
GRAIN_LEVELS = 16
MIN_BIN_SAMPLES = 400
PSD_BINS = 32
_JACOBIAN_STEP = 1e-3


@dataclass(frozen=True, eq=False)
class TexturePair:
    """One pair as texture estimation reads it: control and test (H, W, 3) in [0, 1], and the
    mask (H, W) of pixels where they agree."""

    control: np.ndarray
    test: np.ndarray
    mask: np.ndarray


def _half(p: TexturePair) -> TexturePair:
    """The pair at half resolution (2x2 means; a block is in the mask when all four pixels are)."""
    h, w = (p.mask.shape[0] // 2) * 2, (p.mask.shape[1] // 2) * 2

    def down(a: np.ndarray) -> np.ndarray:
        return a[:h, :w].reshape(h // 2, 2, w // 2, 2, *a.shape[2:]).mean(axis=(1, 3))

    return TexturePair(down(p.control), down(p.test), p.mask[:h, :w].reshape(h // 2, 2, w // 2, 2).all(axis=(1, 3)))


def _predict(lin: np.ndarray, colour: ColourTransform) -> np.ndarray:
    return apply_colour(to_display(lin), colour).astype(np.float64)


def _jacobian(lin: np.ndarray, colour: ColourTransform) -> np.ndarray:
    """(..., 3 out, 3 in): the colour part's derivative to scene-linear light, per pixel."""
    base = _predict(lin, colour)
    cols = []
    for c in range(3):
        bumped = lin.copy()
        bumped[..., c] += _JACOBIAN_STEP
        cols.append((_predict(bumped, colour) - base) / _JACOBIAN_STEP)
    return np.stack(cols, axis=-1)


def estimate_halation(pairs: Sequence[TexturePair], colour: ColourTransform, vignette: Vignette
                      ) -> Tuple[Halation, Optional[str]]:
    """The halation that best explains the pairs (module docstring), and a note when none could be seen."""
    lit = []
    for p in pairs:
        over = int((to_linear(p.control)[..., 0] > min(HALATION_THRESHOLDS)).sum())
        if over:
            lit.append((over, p))
    lit.sort(key=lambda item: -item[0])
    prepared = []
    for _, p in lit[:HALATION_PAIRS]:
        p = _half(p)
        lin = apply_vignette(to_linear(p.control), vignette)
        prepared.append((p, lin, _predict(lin, colour), _jacobian(lin, colour)))
    if not prepared:
        return NO_HALATION, f"no light over {min(HALATION_THRESHOLDS)} (scene-linear red) in the pairs: halation not seen"
    best: Optional[Tuple[float, float, float, np.ndarray]] = None
    rests: dict = {}

    def best_rest(b) -> float:
        return rests[(b[1], b[2])]
    for t in HALATION_THRESHOLDS:
        for sigma in HALATION_SIGMAS:
            a_rows, b_rows, rest = [], [], 0.0
            for p, lin, pred, jac in prepared:
                shape = gaussian_blur(np.maximum(lin[..., 0] - t, 0.0), sigma * lin.shape[1])
                reach = p.mask & (shape > 1e-4)
                resid = (p.test - pred)[reach]  # (n, 3)
                a_rows.append(jac[reach] * shape[reach][:, None, None])  # (n, 3 out, 3 in)
                b_rows.append(resid)
                rest += float((resid ** 2).sum())
            a = np.concatenate(a_rows).reshape(-1, 3)
            b = np.concatenate(b_rows).reshape(-1)
            if len(b) < 30:
                continue
            gains, *_ = np.linalg.lstsq(a, b, rcond=None)
            gains = np.maximum(gains, 0.0)
            err = float(((a @ gains - b) ** 2).sum())
            # compare candidates on the same pixels: those no halo of the candidate reaches keep their error
            if best is None or err - rest < best[0]:
                best = (err - rest, t, sigma, gains)
                rests[(t, sigma)] = rest
    if best is None or not (best[3] > 1e-4).any() or -best[0] < MIN_HALATION_GAIN * best_rest(best):
        return NO_HALATION, "the pairs' highlights show no halo that explains them"
    _, t, sigma, gains = best
    for _ in range(2):  # Gauss-Newton at the found halo
        halation = Halation(t, sigma, tuple(float(g) for g in gains))  # type: ignore[arg-type]
        a_rows, b_rows = [], []
        for p, lin, _, _ in prepared:
            shape = gaussian_blur(np.maximum(lin[..., 0] - t, 0.0), sigma * lin.shape[1])
            haloed = apply_halation(lin, halation)
            reach = p.mask & (shape > 1e-4)
            jac = _jacobian(haloed, colour)[reach]
            a_rows.append(jac * shape[reach][:, None, None])
            b_rows.append((p.test - _predict(haloed, colour))[reach])
        step, *_ = np.linalg.lstsq(np.concatenate(a_rows).reshape(-1, 3), np.concatenate(b_rows).reshape(-1),
                                   rcond=None)
        gains = np.maximum(gains + step, 0.0)
    return Halation(t, sigma, tuple(float(g) for g in gains)), None  # type: ignore[arg-type]


def _largest_rectangle(mask: np.ndarray) -> Tuple[slice, slice]:
    """The rows and columns of a large all-true rectangle of ``mask`` (trimmed from its bounding box)."""
    rows, cols = np.where(mask.all(axis=1))[0], np.where(mask.all(axis=0))[0]
    if len(rows) >= 16 and len(cols) >= 16:
        return slice(rows[0], rows[-1] + 1), slice(cols[0], cols[-1] + 1)
    ys, xs = np.where(mask)
    if len(ys) == 0:
        return slice(0, 0), slice(0, 0)
    y0, y1, x0, x1 = ys.min(), ys.max() + 1, xs.min(), xs.max() + 1
    while (y1 - y0) > 16 and (x1 - x0) > 16 and not mask[y0:y1, x0:x1].all():
        y0, y1, x0, x1 = y0 + 1, y1 - 1, x0 + 1, x1 - 1
    return slice(y0, y1), slice(x0, x1)


def estimate_grain(pairs: Sequence[TexturePair], colour: ColourTransform, vignette: Vignette,
                   halation: Halation) -> Grain:
    """The grain of the pairs (module docstring)."""
    from engines.style.film.measure import grain_power_spectrum

    edges = np.linspace(0.0, 1.0, GRAIN_LEVELS + 1)
    levels = 0.5 * (edges[:-1] + edges[1:])
    sums, squares, counts = (np.zeros((3, GRAIN_LEVELS)) for _ in range(3))
    residuals: List[Tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    for p in pairs:
        pred = _predict(apply_halation(apply_vignette(to_linear(p.control), vignette), halation), colour)
        resid = p.test - pred
        residuals.append((resid, pred, p.mask))
        for c in range(3):
            k = np.clip(np.digitize(pred[..., c][p.mask], edges) - 1, 0, GRAIN_LEVELS - 1)
            r = resid[..., c][p.mask]
            sums[c] += np.bincount(k, r, GRAIN_LEVELS)
            squares[c] += np.bincount(k, r * r, GRAIN_LEVELS)
            counts[c] += np.bincount(k, minlength=GRAIN_LEVELS)
    rms = np.zeros((3, GRAIN_LEVELS))
    for c in range(3):
        ok = counts[c] >= MIN_BIN_SAMPLES
        if not ok.any():
            ok = counts[c] > 0
        mean = sums[c] / np.maximum(counts[c], 1)
        std = np.sqrt(np.maximum(squares[c] / np.maximum(counts[c], 1) - mean ** 2, 0.0))
        rms[c] = np.interp(levels, levels[ok], std[ok]) if ok.any() else 0.0
    spectra, units = [], []
    for resid, pred, mask in residuals:
        rs, cs = _largest_rectangle(mask)
        if (rs.stop - rs.start) < 16 or (cs.stop - cs.start) < 16:
            continue
        level_rms = np.stack([np.interp(pred[rs, cs, c], levels, rms[c]) for c in range(3)], axis=-1)
        unit = resid[rs, cs] / np.maximum(level_rms, 1e-6)
        units.append(unit.reshape(-1, 3))
        nu, power = grain_power_spectrum(unit, bins=PSD_BINS)
        spectra.append(power.mean(axis=1))
    if spectra:
        weights = np.array([u.shape[0] for u in units], np.float64)
        psd = np.average(np.stack(spectra), axis=0, weights=weights)
        correlation = np.corrcoef(np.concatenate(units).T)
    else:
        nu, psd, correlation = np.linspace(0.0, 0.5, PSD_BINS), np.ones(PSD_BINS), np.eye(3)
    width = int(pairs[0].control.shape[1]) if pairs else 640
    freq = np.concatenate([[0.0], nu, [math.sqrt(0.5)]])
    psd = np.concatenate([[psd[0]], psd, [psd[-1]]])
    return Grain(levels, rms, correlation, freq, psd / max(float(psd.max()), 1e-12), width)
