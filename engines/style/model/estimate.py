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
say nothing about halation, a halo that takes away less than :data:`MIN_HALATION_GAIN` of the
error where it reaches explains nothing, and one whose red gain is not its largest is not light
from the film base (the red-sensitive layer lies nearest the base, so returned light is mostly
red) but what the colour part misses near highlights: the look then has none, and its card says why.

**Grain.** The residual ``test - (look without grain)(control)`` is the grain plus what the
colour part misses, which lies at edges and in textures. So grain is read only on
:data:`TILE_PX`-pixel tiles inside each pair's mask where the control is flat (each channel, less
a least-squares plane, varies by under :data:`FLAT_TILE_STD`; the flattest :data:`MIN_FLAT_TILES`
where fewer are), each tile's residual less its own plane: per channel, the tiles' variance
binned by the predicted level makes the ``rms`` table (:data:`GRAIN_LEVELS` bins; a bin with
fewer than :data:`MIN_BIN_SAMPLES` pixels takes its neighbours' values); the residual divided by
that RMS is unit grain, whose channel correlation and radially averaged periodogram per channel
(mean over tiles, :data:`PSD_BINS` bins: the layers' clumps differ in size) complete the grain.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Optional, Sequence, Tuple

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
PSD_BINS = 16
#: Grain is read on tiles this many pixels square where the control is flat, so that what the
#: colour part misses at edges and textures does not read as grain.
TILE_PX = 64
#: A tile is flat when each channel of the control, less its plane, varies by less than this (code values).
FLAT_TILE_STD = 0.004
#: At least this many tiles are read: the flattest ones where fewer are flat.
MIN_FLAT_TILES = 50
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
    if best[3][0] < max(best[3][1], best[3][2]):
        return NO_HALATION, (f"the best halo found is not red-dominant (gains R {best[3][0]:.3f}, G {best[3][1]:.3f}, "
                             f"B {best[3][2]:.3f}): the colour part's error near highlights, not halation")
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


def _cut(a: np.ndarray, h: int, w: int) -> np.ndarray:
    """The top-left ``h`` x ``w`` of ``a`` as (n, TILE_PX, TILE_PX, ...) tiles, row by row."""
    t = TILE_PX
    return a[:h, :w].reshape(h // t, t, w // t, t, *a.shape[2:]).swapaxes(1, 2).reshape(-1, t, t, *a.shape[2:])


def _flat_tiles(pairs: Sequence[TexturePair], colour: ColourTransform, vignette: Vignette, halation: Halation):
    """(residual tiles (n, T, T, 3) less their planes, predicted mean level (n, 3), control flatness (n,))
    of every :data:`TILE_PX` tile wholly inside a pair's mask."""
    t = TILE_PX
    yy, xx = np.mgrid[0:t, 0:t].astype(np.float64)
    basis = np.stack([np.ones(t * t), yy.ravel() - t / 2, xx.ravel() - t / 2], axis=1)  # (T*T, 3)
    solve = np.linalg.pinv(basis)  # (3, T*T): a tile's least-squares plane coefficients
    tiles, levels, flatness = [], [], []
    for p in pairs:
        pred = _predict(apply_halation(apply_vignette(to_linear(p.control), vignette), halation), colour)
        resid = p.test - pred
        h, w = (p.mask.shape[0] // t) * t, (p.mask.shape[1] // t) * t
        if h == 0 or w == 0:
            continue
        inside = _cut(p.mask, h, w).all(axis=(1, 2))
        control = _cut(p.control, h, w)[inside].reshape(-1, t * t, 3)
        r = _cut(resid, h, w)[inside].reshape(-1, t * t, 3)
        r = r - basis @ (solve @ r)
        tiles.append(r.reshape(-1, t, t, 3))
        levels.append(_cut(pred, h, w)[inside].mean(axis=(1, 2)))
        # flat in every channel: a tile flat in luma may still hold a blue texture the colour part misses
        flatness.append((control - basis @ (solve @ control)).std(axis=1).max(axis=1))
    if not tiles:
        return np.zeros((0, t, t, 3)), np.zeros((0, 3)), np.zeros(0)
    return np.concatenate(tiles), np.concatenate(levels), np.concatenate(flatness)


def estimate_grain(pairs: Sequence[TexturePair], colour: ColourTransform, vignette: Vignette,
                   halation: Halation) -> Grain:
    """The grain of the pairs (module docstring)."""
    from engines.style.film.measure import radial_average

    edges = np.linspace(0.0, 1.0, GRAIN_LEVELS + 1)
    levels = 0.5 * (edges[:-1] + edges[1:])
    tiles, tile_levels, flatness = _flat_tiles(pairs, colour, vignette, halation)
    width = int(pairs[0].control.shape[1]) if pairs else 640
    if len(tiles) == 0:
        return Grain(levels, np.zeros((3, GRAIN_LEVELS)), np.eye(3), np.linspace(0.0, math.sqrt(0.5), PSD_BINS),
                     np.ones(PSD_BINS), width)
    flat = flatness <= FLAT_TILE_STD
    if flat.sum() < MIN_FLAT_TILES:  # too few flat tiles: the flattest ones there are
        flat = flatness <= np.sort(flatness)[min(MIN_FLAT_TILES, len(flatness)) - 1]
    tiles, tile_levels = tiles[flat], tile_levels[flat]
    variance = (tiles ** 2).mean(axis=(1, 2)) * (TILE_PX * TILE_PX) / (TILE_PX * TILE_PX - 3)  # 3 plane terms
    rms = np.zeros((3, GRAIN_LEVELS))
    for c in range(3):
        k = np.clip(np.digitize(tile_levels[:, c], edges) - 1, 0, GRAIN_LEVELS - 1)
        counts = np.bincount(k, minlength=GRAIN_LEVELS)
        mean_var = np.bincount(k, variance[:, c], GRAIN_LEVELS) / np.maximum(counts, 1)
        ok = counts * TILE_PX * TILE_PX >= MIN_BIN_SAMPLES
        if not ok.any():
            ok = counts > 0
        rms[c] = np.interp(levels, levels[ok], np.sqrt(mean_var[ok]))
    tile_rms = np.stack([np.interp(tile_levels[:, c], levels, rms[c]) for c in range(3)], axis=-1)
    unit = tiles / np.maximum(tile_rms, 1e-6)[:, None, None, :]
    power = (np.abs(np.fft.fft2(unit, axes=(1, 2))) ** 2).mean(axis=0) / (TILE_PX * TILE_PX)  # (T, T, 3)
    nu, psd = radial_average(power, bins=PSD_BINS)  # (bins, 3)
    correlation = np.corrcoef(unit.reshape(-1, 3).T)
    freq = np.concatenate([[0.0], nu, [math.sqrt(0.5)]])
    psd = np.concatenate([psd[:1], psd, psd[-1:]]).T  # (3, bins + 2)
    return Grain(levels, rms, correlation, freq, psd / np.maximum(psd.max(axis=1, keepdims=True), 1e-12), width)
