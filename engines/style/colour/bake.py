"""Baking a look into a 3D LUT for an input encoding, and writing it as a ``.cube``.

The lattice is the *input encoding's* code values: point ``(i_r, i_g, i_b)`` of an N-point LUT is the
code triple ``(i_r, i_g, i_b) / (N - 1)``. Each is brought into the look's domain by
:func:`engines.style.colour.encodings.to_look_domain` (the identity for ``rec709``), the look is
applied, and its output, Rec.709 display-referred, is clipped to [0, 1] (a display-referred signal
holds nothing outside it; a LUT box would clip there too). A LUT box interpolates between the
points, so the LUT is as exact as the look and the encoding's rendering are smooth at the lattice
spacing. For a film-like look (per-channel S-curve, mild crosstalk, gamma) read through
OpenColorIO's tetrahedral interpolation, the mean ΔE2000 is 0.006 at 33 points for ``rec709``
input; a log input also carries the log-to-display rendering, whose highlight shoulder falls into a
few cells of log code: 0.3-0.9 at 33 points, 0.1-0.3 at 65 (docs/luts.md has the table,
tests/engines/style/colour/test_cube_ocio.py checks it).

Only the colour part of a look is baked. Grain and halation depend on a pixel's neighbours and on
time; a LUT maps one colour to one colour and cannot hold them, so they are never in a LUT.
"""

from __future__ import annotations

import importlib.metadata
from pathlib import Path
from typing import Callable, List, Union

import numpy as np

from engines.style.colour.cube import check_size, write_cube
from engines.style.colour.encodings import encoding_info, to_look_domain
from engines.style.colour.errors import ColourInputError, LookFunctionError

__all__ = ["LookFunction", "OUTPUT_ENCODING", "lattice", "apply_look", "bake_lut", "look_lut_comments", "write_look_lut"]

#: A look's colour part: (M, 3) float32 Rec.709 display-referred RGB in, the same shape out.
LookFunction = Callable[[np.ndarray], np.ndarray]

#: What every look LUT outputs.
OUTPUT_ENCODING = "rec709 display-referred (BT.709 OETF, Rec.709 primaries, D65), 0-1"


def lattice(size: int) -> np.ndarray:
    """The code values (N, N, N, 3) float32 of an N-point LUT, indexed ``[r, g, b]``."""
    codes = np.linspace(0.0, 1.0, check_size(size), dtype=np.float32)
    return np.stack(np.meshgrid(codes, codes, codes, indexing="ij"), axis=-1)


def apply_look(look_fn: LookFunction, rgb: np.ndarray) -> np.ndarray:
    """``look_fn(rgb)`` as float32 clipped to [0, 1], checked: same shape as ``rgb``, all finite."""
    try:
        out = np.asarray(look_fn(rgb), dtype=np.float32)
    except (TypeError, ValueError) as err:
        raise LookFunctionError(f"the look function failed on {rgb.shape[0]} colours: {err}") from err
    if out.shape != rgb.shape:
        raise LookFunctionError(f"the look function returned shape {out.shape} for input shape {rgb.shape}")
    bad = int(np.size(out) - np.isfinite(out).sum())
    if bad:
        raise LookFunctionError(f"the look function returned {bad} non-finite values")
    return np.clip(out, 0.0, 1.0)


def bake_lut(look_fn: LookFunction, size: int, encoding: str) -> np.ndarray:
    """The N-point 3D LUT (N, N, N, 3) float32, indexed ``[r, g, b]``, of ``look_fn`` for code
    values of ``encoding`` (see the module docstring). ``look_fn`` receives all N^3 colours at once
    as one (N^3, 3) array."""
    encoding_info(encoding)
    codes = lattice(size)
    look_in = to_look_domain(codes.reshape(-1, 3), encoding)
    return apply_look(look_fn, look_in).reshape(codes.shape)


def _software() -> str:
    try:
        version = importlib.metadata.version("onset-edge")
    except importlib.metadata.PackageNotFoundError:
        version = "unknown version"
    return f"Onset {version} (engines.style.colour)"


def look_lut_comments(look_name: str, encoding: str, size: int) -> List[str]:
    """The header comment lines of a look's ``.cube`` (without ``#``; keys as docs/luts.md lists)."""
    info = encoding_info(encoding)
    return [
        f"look: {look_name}",
        f"input encoding: {info.name} ({info.description}; full-range code values 0-1)",
        f"output encoding: {OUTPUT_ENCODING}",
        f"size: {size} x {size} x {size}",
        f"software: {_software()}",
        "order: red changes fastest, then green, then blue",
        "texture: grain and halation are not in this LUT (they depend on neighbours and time)",
    ]


def write_look_lut(look_fn: LookFunction, path: Union[str, Path], size: int, encoding: str, look_name: str) -> Path:
    """Bake ``look_fn`` for ``encoding`` at ``size`` points and write it to ``path`` as a ``.cube``
    (atomically, with the header comments of :func:`look_lut_comments`); returns the path."""
    name = str(look_name).strip()
    if not name:
        raise ColourInputError("a look LUT needs a look name")
    table = bake_lut(look_fn, size, encoding)
    title = f"{name} ({encoding} to Rec.709)"
    return write_cube(path, table, title=title, comments=look_lut_comments(name, encoding, size))
