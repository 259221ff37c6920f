"""Learning a look from pairs, in rounds: fit, score every pair, report the worst, refit where weakest.

**A round** (the iteration of the style method: a look is refined against the pairs it matches
worst):

1. colour samples: up to ``samples_per_pair`` pixels of each pair's mask (fewer when the pairs
   would give over :data:`MAX_SAMPLES` in all), drawn with the round's weights; the colour part and the vignette are fitted to them (``fit.fit_colour``), the
   current halation's light added to each sample's control first;
2. halation from the highlights, with that colour (``estimate.estimate_halation``);
3. every pair scored: the look without grain on the control against the test, both averaged over
   :data:`BLOCK_PX`-pixel blocks inside the mask (the grain averages out, the colour does not), as
   ΔE2000 per block; a pair's score is its blocks' mean;
4. the worst pairs are reported, with the mean ΔE of each exposure band (the block's control
   luma in :data:`EXPOSURE_BANDS`), each hue sector and each tag value (the take's plan value):
   where the look is weakest, and where a new round of pairs would help
   (``onset style pairs --exposure LO-HI`` / ``--hue NAME``);
5. the next round draws samples with weights that grow with their band's and hue's mean ΔE
   over the whole's (at most :data:`MAX_WEIGHT`), so the fit spends itself where it was weakest.

After the last round the grain is estimated with the final colour and halation
(``estimate.estimate_grain``).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np

from engines.style.model.errors import StyleFitError
from engines.style.model.estimate import TexturePair, estimate_grain, estimate_halation
from engines.style.model.fit import DEFAULT_STEPS, fit_colour, rec709_encode
from engines.style.model.look import Look
from engines.style.model.texture import (
    NO_HALATION, NO_VIGNETTE, Halation, Vignette, apply_halation, apply_vignette, radius_map, to_display, to_linear,
)

__all__ = ["BLOCK_PX", "EXPOSURE_BANDS", "MAX_WEIGHT", "TrainingPair", "PairScore", "RoundReport", "TrainReport",
           "train_look", "score_pairs", "block_means"]

BLOCK_PX = 8
EXPOSURE_BANDS = ((0.0, 0.1), (0.1, 0.25), (0.25, 0.5), (0.5, 0.75), (0.75, 1.0))
MAX_WEIGHT = 4.0
#: Colour samples of a round in all (fewer per pair when there are many pairs), and the least per pair.
MAX_SAMPLES = 40000
MIN_SAMPLES_PER_PAIR = 200
_HUES = ("red", "yellow", "green", "cyan", "blue", "magenta", "neutral")
_LUMA = np.array([0.2126, 0.7152, 0.0722])


@dataclass(frozen=True, eq=False)
class TrainingPair:
    """One pair to learn from: control and test (H, W, 3) float in [0, 1], aligned (registered),
    the mask (H, W) of pixels where they agree, and tags (take, plan value, ...)."""

    name: str
    control: np.ndarray
    test: np.ndarray
    mask: np.ndarray
    tags: Dict[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class PairScore:
    name: str
    delta_e_mean: float
    delta_e_p95: float
    blocks: int


@dataclass(frozen=True)
class RoundReport:
    round: int
    fit_rms: float
    delta_e_mean: float
    delta_e_p95: float
    worst: Tuple[PairScore, ...]
    by_exposure: Dict[str, float]
    by_hue: Dict[str, float]
    by_tag: Dict[str, float]
    seconds: float

    def weakest(self) -> List[str]:
        """Where a new round of pairs would help most: the worst exposure band and hue."""
        out = []
        if self.by_exposure:
            band, de = max(self.by_exposure.items(), key=lambda kv: kv[1])
            out.append(f"exposure {band} (ΔE {de:.2f}): onset style pairs --exposure {band}")
        if self.by_hue:
            hue, de = max(self.by_hue.items(), key=lambda kv: kv[1])
            out.append(f"hue {hue} (ΔE {de:.2f}): onset style pairs --hue {hue}")
        return out


@dataclass(frozen=True)
class TrainReport:
    rounds: Tuple[RoundReport, ...]
    halation_note: Optional[str]
    pairs: int
    samples: int


def block_means(image: np.ndarray, mask: np.ndarray, block: int = BLOCK_PX) -> Tuple[np.ndarray, np.ndarray]:
    """(means (n, 3), (row, col) block index (n, 2)) of the ``block``-pixel blocks wholly inside ``mask``."""
    h, w = mask.shape
    hb, wb = h // block, w // block
    img = image[:hb * block, :wb * block].reshape(hb, block, wb, block, 3).mean(axis=(1, 3))
    full = mask[:hb * block, :wb * block].reshape(hb, block, wb, block).all(axis=(1, 3))
    rows, cols = np.nonzero(full)
    return img[rows, cols], np.stack([rows, cols], axis=1)


def _hue_of(rgb: np.ndarray) -> np.ndarray:
    chroma = rgb.max(axis=-1) - rgb.min(axis=-1)
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    angle = np.degrees(np.arctan2(np.sqrt(3.0) * (g - b), 2 * r - g - b)) % 360.0
    sector = (((angle + 30.0) % 360.0) // 60.0).astype(int)
    return np.where(chroma > 0.08, sector, 6)


def _band_of(luma: np.ndarray) -> np.ndarray:
    edges = np.array([hi for _, hi in EXPOSURE_BANDS[:-1]])
    return np.digitize(luma, edges)


def _band_name(k: int) -> str:
    lo, hi = EXPOSURE_BANDS[k]
    return f"{lo:g}-{hi:g}"


def _pre_colour(control: np.ndarray, vignette: Vignette, halation: Halation) -> np.ndarray:
    return to_display(apply_halation(apply_vignette(to_linear(control), vignette), halation))


def score_pairs(pairs: Sequence[TrainingPair], look: Look) -> Tuple[List[PairScore], Dict[str, Dict[str, float]]]:
    """Each pair's block ΔE2000 (module docstring, step 3) and the means by exposure band, hue, tag."""
    from engines.style.colour.delta_e import delta_e_2000
    from engines.style.model.colour import apply_colour

    scores: List[PairScore] = []
    by: Dict[str, Dict[str, List[float]]] = {"exposure": {}, "hue": {}, "tag": {}}
    for p in pairs:
        styled = apply_colour(_pre_colour(p.control, look.vignette, look.halation), look.colour)
        a, _ = block_means(styled, p.mask)
        b, _ = block_means(p.test, p.mask)
        c, _ = block_means(p.control, p.mask)
        if len(a) == 0:
            continue
        de = delta_e_2000(a, b)
        scores.append(PairScore(p.name, float(de.mean()), float(np.percentile(de, 95)), len(de)))
        for k, v in zip(_band_of(c @ _LUMA), de):
            by["exposure"].setdefault(_band_name(int(k)), []).append(float(v))
        for k, v in zip(_hue_of(c), de):
            by["hue"].setdefault(_HUES[int(k)], []).append(float(v))
        tag = p.tags.get("plan_value")
        if tag is not None:
            by["tag"].setdefault(str(tag), []).extend(de.tolist())
    means = {kind: {k: float(np.mean(v)) for k, v in sorted(d.items())} for kind, d in by.items()}
    return scores, means


def _samples(pairs: Sequence[TrainingPair], per_pair: int, rng: np.random.Generator, vignette: Vignette,
             halation: Halation, weights_of: Optional[Callable[[np.ndarray], np.ndarray]]):
    xs, ys, rs, ws = [], [], [], []
    for p in pairs:
        rows, cols = np.nonzero(p.mask)
        if len(rows) == 0:
            continue
        pick = rng.choice(len(rows), size=min(per_pair, len(rows)), replace=False)
        rr, cc = rows[pick], cols[pick]
        lin = to_linear(p.control)
        # The fit applies its own vignette gain to each sample; the halation's light (made from the
        # vignetted light, as when a frame is styled) goes in before that gain, divided by it.
        vignetted = apply_vignette(lin, vignette)
        halo = apply_halation(vignetted, halation) - vignetted
        radius = radius_map(*p.mask.shape)[rr, cc]
        gain = np.exp(vignette.a * radius ** 2 + vignette.b * radius ** 4)[:, None]
        # Not clipped at 1: light over white that the fit's gain (< 1) brings back under it.
        x = rec709_encode(lin[rr, cc] + halo[rr, cc] / gain)
        xs.append(x)
        ys.append(p.test[rr, cc])
        rs.append(radius)
        ws.append(np.ones(len(rr)) if weights_of is None else weights_of(p.control[rr, cc]))
    if not xs:
        raise StyleFitError("no pair has a pixel to learn from (every mask is empty)")
    return np.concatenate(xs), np.concatenate(ys), np.concatenate(rs), np.concatenate(ws)


def train_look(pairs: Sequence[TrainingPair], name: str, *, rounds: int = 3, samples_per_pair: int = 3000,
               max_samples: int = MAX_SAMPLES, steps: int = DEFAULT_STEPS, seed: int = 0, worst: int = 5,
               progress: Optional[Callable[[str], None]] = None) -> Tuple[Look, TrainReport]:
    """The look learned from ``pairs`` (module docstring) and the report of every round."""
    if not pairs:
        raise StyleFitError("no pairs to learn a look from")
    if rounds < 1:
        raise StyleFitError(f"rounds must be at least 1; got {rounds}")
    rng = np.random.default_rng(seed)
    samples_per_pair = max(MIN_SAMPLES_PER_PAIR, min(samples_per_pair, max_samples // len(pairs)))
    vignette, halation, note = NO_VIGNETTE, NO_HALATION, None
    weights_of = None
    reports: List[RoundReport] = []
    look: Optional[Look] = None
    n_samples = 0
    for k in range(1, rounds + 1):
        t0 = time.monotonic()
        x, y, r, w = _samples(pairs, samples_per_pair, rng, vignette, halation, weights_of)
        n_samples = len(x)
        fit = fit_colour(x, y, weights=w, radius=r, steps=steps, seed=seed + k)
        vignette = Vignette(*fit.vignette)
        halation, note = estimate_halation(
            [TexturePair(p.control, p.test, p.mask) for p in pairs], fit.colour, vignette)
        look = Look(name=name, colour=fit.colour, vignette=vignette, halation=halation)
        scores, means = score_pairs(pairs, look)
        all_de = np.array([s.delta_e_mean for s in scores])
        report = RoundReport(
            round=k, fit_rms=fit.rms, delta_e_mean=float(all_de.mean()) if len(all_de) else math.nan,
            delta_e_p95=float(np.percentile(all_de, 95)) if len(all_de) else math.nan,
            worst=tuple(sorted(scores, key=lambda s: -s.delta_e_mean)[:worst]),
            by_exposure=means["exposure"], by_hue=means["hue"], by_tag=means["tag"],
            seconds=time.monotonic() - t0)
        reports.append(report)
        if progress is not None:
            progress(f"round {k}: fit RMS {fit.rms:.4f}, pairs' ΔE2000 mean {report.delta_e_mean:.2f} "
                     f"(p95 {report.delta_e_p95:.2f}), {report.seconds:.0f} s")
        overall = max(report.delta_e_mean, 1e-6)
        band_w = {name: min(MAX_WEIGHT, max(1.0, v / overall)) for name, v in means["exposure"].items()}
        hue_w = {name: min(MAX_WEIGHT, max(1.0, v / overall)) for name, v in means["hue"].items()}

        def weights_of(rgb: np.ndarray, band_w=band_w, hue_w=hue_w) -> np.ndarray:
            bands = [band_w.get(_band_name(int(b)), 1.0) for b in _band_of(rgb @ _LUMA)]
            hues = [hue_w.get(_HUES[int(h)], 1.0) for h in _hue_of(rgb)]
            return np.minimum(MAX_WEIGHT, np.array(bands) * np.array(hues))
    assert look is not None
    grain = estimate_grain([TexturePair(p.control, p.test, p.mask) for p in pairs], look.colour, vignette, halation)
    look = Look(name=name, colour=look.colour, vignette=vignette, halation=halation, grain=grain)
    return look, TrainReport(rounds=tuple(reports), halation_note=note, pairs=len(pairs), samples=n_samples)
