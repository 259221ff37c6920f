"""Scoring a learned look on held-out pairs: its colour against the reference pipeline's, its grain
against the pipeline's grain, per format.

**Colour.** On a stage pairs folder (``onset style pairs``), ``truth/`` holds the pipeline's
colour part of each control (never read by training). Every pixel's ΔE2000 between the look's
colour part of the control and that truth makes the figures: mean and p95 over all pixels of all
pairs, against :data:`COLOUR_TARGETS`. A folder without ``truth/`` (a user's pairs) is scored by
the trainer's block ΔE against the test (``train.score_pairs``: blocks average the grain out).

**Grain.** Flat grey fields of the pairs' size at the code values :data:`GRAIN_LEVELS`, with a new
seed each (:data:`GRAIN_FIELDS` of them), go through the pipeline's ``develop`` and through the
look; on the centre half of each field in each direction (where the gate's falloff is gentle:
beyond it, what a quadratic trend leaves of either vignette is not grain but reads as
low-frequency power), the grain is the field less its quadratic trend, read with
``engines.style.film.measure``: RMS per channel, and the radially averaged power spectrum in 16
bins. The look's grain is within target when, per level and channel, its RMS is within
:data:`GRAIN_TOLERANCE` (10 %) of the pipeline's, and its spectrum's relative L1 difference
``sum |P_look - P_pipeline| / sum P_pipeline`` is within the same 10 %.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence

import numpy as np

from engines.style.model.look import Look, colour_only, style_frame

__all__ = ["COLOUR_TARGETS", "GRAIN_LEVELS", "GRAIN_FIELDS", "GRAIN_TOLERANCE", "evaluate_colour", "evaluate_grain",
           "format_evaluation"]

COLOUR_TARGETS = {"mean": 1.0, "p95": 2.5}
GRAIN_LEVELS = (0.25, 0.41, 0.6)
GRAIN_FIELDS = 2
GRAIN_TOLERANCE = 0.10


def evaluate_colour(look: Look, controls: Sequence[np.ndarray], truths: Sequence[np.ndarray]) -> dict:
    """ΔE2000 of the look's colour part against the pipeline's, over every pixel of the pairs."""
    from engines.style.colour.delta_e import delta_e_2000

    values = [delta_e_2000(colour_only(c, look), t).ravel() for c, t in zip(controls, truths)]
    if not values:
        return {"pairs": 0}
    de = np.concatenate(values)
    mean, p95 = float(de.mean()), float(np.percentile(de, 95))
    return {"pairs": len(values), "pixels": int(de.size), "mean": mean, "p95": p95, "max": float(de.max()),
            "targets": COLOUR_TARGETS, "met": mean < COLOUR_TARGETS["mean"] and p95 < COLOUR_TARGETS["p95"]}


def evaluate_grain(look: Look, film_look: str, shape: Sequence[int] = (360, 640),
                   progress: Optional[Callable[[str], None]] = None) -> dict:
    """The look's grain against the pipeline's ``film_look`` on flat fields (module docstring)."""
    from engines.style.film import develop, grain_power_spectrum, grain_rms

    rows: List[dict] = []
    for level in GRAIN_LEVELS:
        flat = np.full((int(shape[0]), int(shape[1]), 3), level, np.float32)
        rms_p, rms_l, psd_p, psd_l = [], [], [], []
        for k in range(GRAIN_FIELDS):
            ref = _centre(develop(flat, film_look, seed=1000 + k).image)
            ours = _centre(style_frame(flat, look, seed=2000 + k))
            rms_p.append(grain_rms(ref))
            rms_l.append(grain_rms(ours))
            psd_p.append(grain_power_spectrum(ref)[1])
            psd_l.append(grain_power_spectrum(ours)[1])
        rp, rl = np.mean(rms_p, axis=0), np.mean(rms_l, axis=0)
        pp, pl = np.mean(psd_p, axis=0), np.mean(psd_l, axis=0)
        rms_err = np.abs(rl - rp) / np.maximum(rp, 1e-9)
        psd_err = np.abs(pl - pp).sum(axis=0) / np.maximum(pp.sum(axis=0), 1e-12)
        rows.append({"level": level, "rms_pipeline": rp.tolist(), "rms_look": rl.tolist(),
                     "rms_rel_error": rms_err.tolist(), "psd_rel_l1_error": psd_err.tolist(),
                     "met": bool((rms_err <= GRAIN_TOLERANCE).all() and (psd_err <= GRAIN_TOLERANCE).all())})
        if progress is not None:
            progress(f"grain at {level}: RMS error {100 * rms_err.max():.1f} %, spectrum {100 * psd_err.max():.1f} %")
    return {"film_look": film_look, "shape": list(shape), "fields_per_level": GRAIN_FIELDS, "levels": rows,
            "tolerance": GRAIN_TOLERANCE, "met": all(r["met"] for r in rows)}


def _centre(field: np.ndarray) -> np.ndarray:
    """The centre half of a field in each direction (module docstring)."""
    h, w = field.shape[:2]
    return field[h // 4: h - h // 4, w // 4: w - w // 4]


def _verdict(met: bool) -> str:
    return "met" if met else "MISSED"


def format_evaluation(result: Dict[str, dict]) -> str:
    """The evaluation as the terminal shows it."""
    lines = []
    colour = result.get("colour")
    if colour and colour.get("pairs"):
        lines.append(f"colour vs the pipeline's colour part, {colour['pairs']} pairs, {colour['pixels']} pixels: "
                     f"ΔE2000 mean {colour['mean']:.3f} (target < {COLOUR_TARGETS['mean']}), p95 {colour['p95']:.3f} "
                     f"(target < {COLOUR_TARGETS['p95']}), max {colour['max']:.2f}: {_verdict(colour['met'])}")
    blocks = result.get("blocks")
    if blocks:
        lines.append(f"look vs test, {blocks['pairs']} pairs, {BLOCK_NOTE}: ΔE2000 mean {blocks['mean']:.3f}, "
                     f"p95 {blocks['p95']:.3f}")
    grain = result.get("grain")
    if grain:
        lines.append(f"grain vs the pipeline's {grain['film_look']} on flat fields {grain['shape'][1]}x{grain['shape'][0]}"
                     f", their centre halves ({grain['fields_per_level']} per level; tolerance "
                     f"{100 * grain['tolerance']:.0f} %):")
        lines.append(f"  {'level':>6}  {'RMS pipeline R G B':>22}  {'RMS look R G B':>22}  {'RMS err':>8}  "
                     f"{'spectrum err':>12}")
        for r in grain["levels"]:
            lines.append(f"  {r['level']:>6.2f}  {' '.join(f'{v:.4f}' for v in r['rms_pipeline']):>22}  "
                         f"{' '.join(f'{v:.4f}' for v in r['rms_look']):>22}  {100 * max(r['rms_rel_error']):>7.1f}%"
                         f"  {100 * max(r['psd_rel_l1_error']):>11.1f}%  {_verdict(r['met'])}")
    elif "grain_note" in result:
        lines.append(f"grain: {result['grain_note']}")
    return "\n".join(lines)


BLOCK_NOTE = "8-pixel blocks (grain averaged out)"


def truth_of(folder: Path, name: str) -> Optional[Path]:
    path = Path(folder) / "truth" / f"{name}.png"
    return path if path.is_file() else None
