"""Synthetic material for the style model's tests, each with a truth built here, not by the model.

* :func:`scene`: a smooth, colourful frame (each channel a sum of slow plane waves through a
  logistic), deterministic per seed; its exposure scales its linear light, so a set of scenes
  spans dark to bright.
* :func:`truth_colour`: a curves-matrix-curves colour written out by hand (per-channel powers,
  a crosstalk whose rows sum to 1, per-channel S-curves with lift and gain); :data:`TRUTH_MATRIX`.
* :func:`vignette_gain` and :func:`radius_of`: the vignette's gain and a pixel's radius, by hand.
* :data:`COLOUR` (a colour part with a curve of its own per channel and crosstalk), :data:`HALVE`
  (one that halves every value), :func:`grain_of` (a grain with :data:`RMS_TABLE` and
  :data:`CHANNEL_CORRELATION`), :data:`FLAT_GRAIN`, :data:`LOW_PASS_GRAIN` and :func:`hand_look`
  (a look with every part): the model's own types, filled in by hand.
* :func:`write_stage_folder`: a stage pairs folder as ``onset style pairs`` writes one, made from
  the film pipeline's ``develop`` and ``colour`` on :func:`scene` frames.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Sequence

import numpy as np

from engines.style.colour import delta_e_2000
from engines.style.film import colour as film_colour
from engines.style.film import develop
from engines.style.model.colour import ColourTransform
from engines.style.model.look import Look
from engines.style.model.texture import Grain, Halation, Vignette
from engines.style.pairs.stage import MANIFEST, frame_tags, write_png8, write_png16

TRUTH_GAMMA = np.array([0.85, 1.0, 1.2])
TRUTH_MATRIX = np.array([[0.88, 0.09, 0.03], [0.06, 0.86, 0.08], [0.02, 0.12, 0.86]])
TRUTH_S = np.array([0.6, 0.4, 0.3])
TRUTH_LIFT = np.array([0.03, 0.02, 0.05])
TRUTH_GAIN = np.array([0.97, 0.95, 0.9])


_S = np.linspace(0.0, 1.0, 33)
COLOUR = ColourTransform(np.stack([_S ** 1.8, _S ** 2, _S ** 2.3]),
                         np.array([[0.9, 0.08, 0.02], [0.05, 0.9, 0.05], [0.0, 0.1, 0.9]]),
                         np.stack([np.linspace(-0.45, 1.4, 33), np.linspace(-0.5, 1.5, 33),
                                   np.linspace(-0.4, 1.3, 33)]))
HALVE = ColourTransform(np.tile(_S ** 2, (3, 1)), 0.5 * np.eye(3), np.tile(np.linspace(-0.5, 1.5, 33), (3, 1)))

CHANNEL_CORRELATION = np.array([[1.0, 0.6, 0.2], [0.6, 1.0, 0.4], [0.2, 0.4, 1.0]])
RMS_LEVELS = np.array([0.0, 0.25, 0.5, 0.75, 1.0])
RMS_TABLE = np.array([[0.010, 0.020, 0.030, 0.020, 0.010],
                      [0.005, 0.012, 0.016, 0.012, 0.006],
                      [0.020, 0.030, 0.040, 0.035, 0.030]])
PSD_FREQ = np.linspace(0.0, math.sqrt(0.5), 24)


def grain_of(psd: np.ndarray, ref_width_px: int = 320) -> Grain:
    """A grain with :data:`RMS_TABLE` over :data:`RMS_LEVELS`, :data:`CHANNEL_CORRELATION` and the
    spectrum ``psd`` over :data:`PSD_FREQ`."""
    return Grain(RMS_LEVELS, RMS_TABLE, CHANNEL_CORRELATION, PSD_FREQ, psd, ref_width_px)


FLAT_GRAIN = grain_of(np.ones_like(PSD_FREQ))
LOW_PASS_GRAIN = grain_of(np.exp(-((PSD_FREQ / 0.12) ** 2)))


def hand_look(**changes) -> Look:
    """A look with every part (``changes`` replace some)."""
    parts = dict(name="test-look", colour=COLOUR, vignette=Vignette(-0.4, 0.1),
                 halation=Halation(0.5, 0.01, (0.2, 0.05, 0.01)), grain=LOW_PASS_GRAIN, input_encoding="rec709",
                 card={"pairs": 12, "rounds": [{"round": 1, "delta_e_mean": 0.4}], "note": "ΔE2000 ✓"})
    parts.update(changes)
    return Look(**parts)


def truth_colour(rgb: np.ndarray) -> np.ndarray:
    """The hand-built truth (module docstring): (..., 3) in [0, 1] to (..., 3) in [0, 1]."""
    u = np.clip(rgb, 0.0, 1.0) ** TRUTH_GAMMA
    v = np.clip(u @ TRUTH_MATRIX.T, 0.0, 1.0)
    s = (1.0 - TRUTH_S) * v + TRUTH_S * v * v * (3.0 - 2.0 * v)
    return TRUTH_LIFT + (TRUTH_GAIN - TRUTH_LIFT) * s


def bt709_decode(v: np.ndarray) -> np.ndarray:
    v = np.asarray(v, np.float64)
    return np.where(v < 0.081, v / 4.5, ((v + 0.099) / 1.099) ** (1.0 / 0.45))


def bt709_encode(lin: np.ndarray) -> np.ndarray:
    lin = np.maximum(np.asarray(lin, np.float64), 0.0)
    return np.where(lin < 0.018, 4.5 * lin, 1.099 * lin ** 0.45 - 0.099)


def radius_of(height: int, width: int) -> np.ndarray:
    """(H, W) each pixel centre's distance from the frame centre over the half diagonal."""
    y, x = np.mgrid[0:height, 0:width].astype(np.float64)
    return np.hypot(x + 0.5 - width / 2, y + 0.5 - height / 2) / math.hypot(width / 2, height / 2)


def vignette_gain(radius: np.ndarray, a: float, b: float) -> np.ndarray:
    return np.exp(a * radius ** 2 + b * radius ** 4)


def random_colours(count: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).random((count, 3))


def scene(height: int, width: int, seed: int, exposure: float = 1.0) -> np.ndarray:
    """(H, W, 3) float32 in [0, 1]: a smooth colourful frame (module docstring)."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width].astype(np.float64)
    x, y = x / width, y / height
    channels = []
    for _ in range(3):
        field = np.zeros((height, width))
        for _ in range(4):
            fx, fy = rng.uniform(-2.0, 2.0, 2)
            field += rng.uniform(0.5, 1.5) * np.sin(2 * np.pi * (fx * x + fy * y) + rng.uniform(0, 2 * np.pi))
        channels.append(1.0 / (1.0 + np.exp(-1.6 * field + rng.uniform(-0.8, 0.8))))
    rgb = np.stack(channels, axis=-1)
    return np.clip(bt709_encode(bt709_decode(rgb) * exposure), 0.0, 1.0).astype(np.float32)


def mean_delta_e(a: np.ndarray, b: np.ndarray) -> float:
    return float(delta_e_2000(np.asarray(a, np.float64), np.asarray(b, np.float64)).mean())


def write_stage_folder(out: Path, look: str, frames: Sequence[np.ndarray], seed: int = 0) -> Path:
    """``out``/pairs.json and ``out``/``look``/{control,test,truth}/ as ``build_stage_pairs`` writes
    them, from ``frames`` ((H, W, 3) float in [0, 1], quantised to 8 bits as a camera's are);
    returns the look's folder."""
    folder = Path(out) / look
    for sub in ("control", "test", "truth"):
        (folder / sub).mkdir(parents=True)
    pairs = []
    for index, frame in enumerate(frames):
        rgb_u8 = np.round(np.clip(frame, 0.0, 1.0) * 255.0).astype(np.uint8)
        control = rgb_u8.astype(np.float32) / 255.0
        name = f"take{seed}_{index:03d}"
        write_png8(folder / "control" / f"{name}.png", rgb_u8)
        write_png16(folder / "test" / f"{name}.png", develop(control, look, seed=seed + index).image)
        write_png16(folder / "truth" / f"{name}.png", film_colour(control, look))
        pairs.append({"name": name, "seed": seed + index, "take": f"take{seed}", "t_ns": index * 10 ** 9,
                      "plan": "lighting", "plan_value": "day" if index % 2 else "night", **frame_tags(control)})
    manifest = {"format": "onset-style-pairs", "format_version": 1, "aligned": True, "looks": [look],
                "every_s": 1.0, "takes": [f"take{seed}"],
                "selection": {"exposure": None, "hue": None, "plan_value": None}, "pairs": pairs}
    (Path(out) / MANIFEST).write_text(json.dumps(manifest, indent=1) + "\n")
    return folder
