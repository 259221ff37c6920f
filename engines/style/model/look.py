"""A look: its colour part, its texture part, and its card, in one JSON file (``NAME.look.json``).

A frame is styled in the order light meets film (texture.py): the vignette and the halation on
the control's scene-linear light, the colour (colour.py) on the result, the grain on the display
value. ``colour_only`` is the colour part alone, the per-pixel function a LUT can hold.

File layout (UTF-8 JSON, written whole or not at all)::

    {"format": "onset-look", "format_version": 1, "name": ..., "input_encoding": "rec709",
     "output_encoding": "rec709", "colour": {...}, "vignette": {...}, "halation": {...},
     "grain": {...} | null, "card": {...}}

A file is refused, saying what was expected, when it is missing, not JSON, of another format or a
newer version, or when its parts do not have the shapes the model needs.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Dict, Optional, Union

import numpy as np

from engines.style.model.colour import ColourTransform, apply_colour, identity_colour
from engines.style.model.errors import LookFileError
from engines.style.model.texture import (
    NO_HALATION, NO_VIGNETTE, Grain, Halation, Vignette, apply_grain, apply_halation, apply_vignette, to_display,
    to_linear,
)

__all__ = ["FORMAT_NAME", "FORMAT_VERSION", "LOOK_SUFFIX", "Look", "save_look", "load_look", "style_frame",
           "colour_only", "identity_look"]

FORMAT_NAME = "onset-look"
FORMAT_VERSION = 1
LOOK_SUFFIX = ".look.json"


@dataclass(frozen=True, eq=False)
class Look:
    """A learned look (module docstring). ``card``: what it was learned from, how, and how well."""

    name: str
    colour: ColourTransform
    vignette: Vignette = NO_VIGNETTE
    halation: Halation = NO_HALATION
    grain: Optional[Grain] = None
    input_encoding: str = "rec709"
    card: Dict[str, Any] = field(default_factory=dict)

    def with_card(self, **entries: Any) -> "Look":
        return replace(self, card={**self.card, **entries})

    def to_dict(self) -> Dict[str, Any]:
        return {"format": FORMAT_NAME, "format_version": FORMAT_VERSION, "name": self.name,
                "input_encoding": self.input_encoding, "output_encoding": "rec709",
                "colour": self.colour.to_dict(), "vignette": self.vignette.to_dict(),
                "halation": self.halation.to_dict(), "grain": None if self.grain is None else self.grain.to_dict(),
                "card": self.card}


def identity_look(name: str = "off") -> Look:
    """The look that changes nothing."""
    return Look(name=name, colour=identity_colour())


def save_look(look: Look, path: Union[str, Path]) -> Path:
    """Write ``look`` to ``path`` (a temporary file beside it, then renamed)."""
    path = Path(path)
    text = json.dumps(look.to_dict(), indent=1, allow_nan=False) + "\n"
    tmp = path.with_name(path.name + ".tmp")
    try:
        with open(tmp, "w", encoding="utf-8") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    return path


def load_look(path: Union[str, Path]) -> Look:
    """The look in ``path`` (module docstring for what is refused)."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise LookFileError(f"no look file at {path}") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise LookFileError(f"{path} is not a look file (JSON expected): {err}") from err
    if not isinstance(data, dict) or data.get("format") != FORMAT_NAME:
        raise LookFileError(f"{path} is not an {FORMAT_NAME} file")
    version = data.get("format_version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise LookFileError(f"{path} is {FORMAT_NAME} version {version!r}; this Onset reads up to {FORMAT_VERSION}")
    try:
        hal = data["halation"]
        return Look(
            name=str(data["name"]), colour=ColourTransform.from_dict(data["colour"]),
            vignette=Vignette(float(data["vignette"]["a"]), float(data["vignette"]["b"])),
            halation=Halation(float(hal["threshold"]), float(hal["sigma_frac"]),
                              tuple(float(g) for g in hal["gain_rgb"])),  # type: ignore[arg-type]
            grain=None if data.get("grain") is None else Grain.from_dict(data["grain"]),
            input_encoding=str(data.get("input_encoding", "rec709")), card=dict(data.get("card") or {}))
    except (KeyError, TypeError, ValueError) as err:
        raise LookFileError(f"{path}: a part of the look is missing or malformed: {err}") from err


def _check_frame(rgb: np.ndarray) -> np.ndarray:
    a = np.asarray(rgb)
    if a.ndim != 3 or a.shape[2] != 3:
        raise ValueError(f"a frame must be (H, W, 3) RGB; got shape {a.shape}")
    if a.dtype == np.uint8:
        return a.astype(np.float64) / 255.0
    return a.astype(np.float64)


def colour_only(rgb: np.ndarray, look: Look) -> np.ndarray:
    """The look's colour part of ``rgb`` (..., 3): what a LUT of the look holds."""
    return apply_colour(rgb, look.colour)


def style_frame(rgb: np.ndarray, look: Look, seed: int = 0, texture: bool = True,
                noise: Optional[np.ndarray] = None) -> np.ndarray:
    """``rgb`` (H, W, 3; float in [0, 1] or uint8) styled by ``look``: float32 in [0, 1]."""
    x = _check_frame(rgb)
    if texture:
        lin = apply_halation(apply_vignette(to_linear(x), look.vignette), look.halation)
        x = to_display(lin)
    y = apply_colour(x, look.colour).astype(np.float64)
    if texture and look.grain is not None:
        y = apply_grain(y, look.grain, seed, noise)
    return np.clip(y, 0.0, 1.0).astype(np.float32)
