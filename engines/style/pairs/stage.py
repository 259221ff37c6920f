"""Pairs from the simulated stage: recorded takes' camera frames as controls, the film pipeline's
development of each as the test (``onset style pairs``).

**Controls** are the takes' own camera frames (the bag's images, 8-bit Rec.709, written as they
are to lossless PNG), one every ``every_s`` seconds of each take, from takes shot across shot
types, set dressings and lighting (``onset plan run full --seed N``). **Tests** are each control
developed by the reference film pipeline (``engines.style.film.develop``, docs/film-pipeline.md)
for each look, seeded by the pair's index so a rebuild makes the same grain, written as 16-bit
PNG. A selection (``exposure``, ``hue``, ``plan_value``) keeps only the frames where a look was
found weakest, for a new round of pairs.

**Layout** (a pairs folder per look, the ``control/`` + ``test/`` layout a user's own pairs use)::

    OUT/pairs.json                    manifest: takes, looks, and per pair its tags
    OUT/<look>/control/<name>.png     the control (8-bit)
    OUT/<look>/test/<name>.png        its film test (16-bit)
    OUT/<look>/truth/<name>.png       the pipeline's colour part of the control (16-bit): scoring only

The pairs are aligned to the pixel by construction; the manifest says so (``aligned``), and the
trainer uses them without registering them. ``truth/`` is what an evaluation scores the learned
colour against; training never reads it.

Tags per pair: take, plan name and value, the stage seed (``stage_seed``; ``seed`` is the grain's),
the control's median luma (exposure)
and its dominant hue (hue sector of the mean chroma of the frame's coloured pixels, or
``neutral``).
"""

from __future__ import annotations

import json
import math
import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Dict, Iterator, List, Optional, Sequence, Tuple

import numpy as np

from engines.style.pairs.errors import PairsError

__all__ = ["MANIFEST", "HUE_SECTORS", "StageSelection", "frame_tags", "build_stage_pairs", "read_manifest",
           "write_png8", "write_png16"]

MANIFEST = "pairs.json"
FORMAT_NAME = "onset-style-pairs"
HUE_SECTORS = ("red", "yellow", "green", "cyan", "blue", "magenta")
#: Chroma (Rec.709 code values, max minus min channel) under which a pixel counts as neutral.
NEUTRAL_CHROMA = 0.08
_LUMA = np.array([0.2126, 0.7152, 0.0722])


@dataclass(frozen=True)
class StageSelection:
    """Which frames make pairs: all by default; or only those whose median luma lies in
    ``exposure`` (lo, hi), whose dominant hue is ``hue``, whose take's plan value is ``plan_value``."""

    exposure: Optional[Tuple[float, float]] = None
    hue: Optional[str] = None
    plan_value: Optional[str] = None

    def keeps(self, tags: Dict[str, object]) -> bool:
        if self.exposure is not None and not (self.exposure[0] <= float(tags["exposure"]) <= self.exposure[1]):
            return False
        if self.hue is not None and tags["hue"] != self.hue:
            return False
        return self.plan_value is None or str(tags.get("plan_value")) == self.plan_value


def frame_tags(rgb: np.ndarray) -> Dict[str, object]:
    """A control's exposure (median Rec.709 luma) and dominant hue (module docstring)."""
    x = np.asarray(rgb, np.float64)
    luma = x @ _LUMA
    chroma = x.max(axis=-1) - x.min(axis=-1)
    coloured = chroma > NEUTRAL_CHROMA
    hue = "neutral"
    if coloured.mean() > 0.05:
        mean = x[coloured].mean(axis=0)
        r, g, b = mean
        angle = math.degrees(math.atan2(math.sqrt(3.0) * (g - b), 2 * r - g - b)) % 360.0
        hue = HUE_SECTORS[int(((angle + 30.0) % 360.0) // 60.0)]
    return {"exposure": round(float(np.median(luma)), 4), "hue": hue}


def write_png8(path: Path, rgb_u8: np.ndarray) -> None:
    import cv2

    if not cv2.imwrite(str(path), np.ascontiguousarray(rgb_u8[..., ::-1])):
        raise PairsError(f"could not write {path}")


def write_png16(path: Path, rgb: np.ndarray) -> None:
    import cv2

    u16 = np.round(np.clip(rgb, 0.0, 1.0) * 65535.0).astype(np.uint16)
    if not cv2.imwrite(str(path), np.ascontiguousarray(u16[..., ::-1])):
        raise PairsError(f"could not write {path}")


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]", "-", name)


def _take_frames(take: Path, every_s: float) -> Iterator[Tuple[int, np.ndarray]]:
    """(t_ns, rgb uint8) of the take's camera frames, one every ``every_s`` seconds."""
    from engines.captioner.dataset import open_take
    from engines.captioner.dataset.bag import CameraImage, iter_frames_and_sweeps

    source = open_take(take)
    last: Optional[int] = None
    for item in iter_frames_and_sweeps(source):
        if isinstance(item, CameraImage) and (last is None or item.t_ns - last >= every_s * 1e9):
            last = item.t_ns
            yield item.t_ns, item.rgb


def _plan(take: Path) -> Dict[str, object]:
    try:
        doc = json.loads((take / "take.json").read_text())
    except (OSError, json.JSONDecodeError):
        return {}
    plan = doc.get("plan") or {}
    return {"plan": plan.get("name"), "plan_value": plan.get("value"), "stage_seed": plan.get("seed")}


def read_manifest(folder: Path) -> Optional[dict]:
    """The manifest of a stage pairs folder (``folder`` or its parent holds it), else None."""
    for where in (Path(folder), Path(folder).parent):
        path = where / MANIFEST
        if path.is_file():
            try:
                data = json.loads(path.read_text())
            except (OSError, json.JSONDecodeError) as err:
                raise PairsError(f"{path} is not a pairs manifest (JSON expected): {err}") from err
            if data.get("format") == FORMAT_NAME:
                return data
    return None


def build_stage_pairs(takes: Sequence[Path], out: Path, looks: Sequence[str], every_s: float = 1.0,
                      selection: StageSelection = StageSelection(), overwrite: bool = False,
                      progress: Optional[Callable[[str], None]] = None) -> dict:
    """Pairs of ``looks`` from ``takes`` into ``out`` (module docstring); returns the manifest.
    Built in ``out`` + ".partial" and renamed when whole: an interrupted build leaves no pairs folder."""
    from engines.style.film import LOOK_NAMES

    unknown = [name for name in looks if name not in LOOK_NAMES]
    if unknown:
        raise PairsError(f"no look named {', '.join(unknown)}; the looks are {', '.join(LOOK_NAMES)}")
    if every_s <= 0:
        raise PairsError(f"--every must be positive seconds; got {every_s}")
    out = Path(out)
    if out.exists() and not overwrite:
        raise PairsError(f"{out} exists; give another --out or --overwrite")
    partial = out.with_name(out.name + ".partial")
    if partial.exists():
        shutil.rmtree(partial)
    try:
        return _build(takes, out, partial, looks, every_s, selection, progress)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)  # nothing half-built is left behind
        raise


def _build(takes: Sequence[Path], out: Path, partial: Path, looks: Sequence[str], every_s: float,
           selection: StageSelection, progress: Optional[Callable[[str], None]]) -> dict:
    from engines.style.film import develop
    from engines.style.film import colour as film_colour

    for look in looks:
        for sub in ("control", "test", "truth"):
            (partial / look / sub).mkdir(parents=True)
    pairs: List[dict] = []
    for take in takes:
        take = Path(take)
        plan = _plan(take)
        for t_ns, rgb_u8 in _take_frames(take, every_s):
            control = rgb_u8.astype(np.float32) / 255.0
            tags = {"take": take.name, "t_ns": int(t_ns), **plan, **frame_tags(control)}
            if not selection.keeps(tags):
                continue
            name = _safe(f"{take.name}_{t_ns}")
            index = len(pairs)
            for look in looks:
                write_png8(partial / look / "control" / f"{name}.png", rgb_u8)
                write_png16(partial / look / "test" / f"{name}.png", develop(control, look, seed=index).image)
                write_png16(partial / look / "truth" / f"{name}.png", film_colour(control, look))
            pairs.append({"name": name, **tags, "seed": index})
            if progress is not None:
                progress(name)
    if not pairs:
        raise PairsError("no frame of the takes made a pair (no camera frames, or the selection kept none)")
    manifest = {"format": FORMAT_NAME, "format_version": 1, "aligned": True, "looks": list(looks),
                "every_s": every_s, "takes": [str(Path(t).resolve()) for t in takes],
                "selection": {"exposure": selection.exposure, "hue": selection.hue,
                              "plan_value": selection.plan_value},
                "pairs": pairs}
    tmp = partial / (MANIFEST + ".tmp")
    tmp.write_text(json.dumps(manifest, indent=1) + "\n")
    os.replace(tmp, partial / MANIFEST)
    if out.exists():
        shutil.rmtree(out)
    os.replace(partial, out)
    return manifest
