"""Checking a look's ``.cube`` or ``.cc`` the way a set would use it: read strictly, then through
OpenColorIO.

For a ``.cube``: size (and whether it is one this package writes), domain, title, header comments
and the input encoding they name, the value range per output channel, whether each channel is
non-decreasing along the grey axis (``table[i, i, i]``; a look that is not may band or solarise),
and OpenColorIO's output at every lattice point (tetrahedral interpolation, the default CPU
processor a LUT player uses) against the table as read: they differ by float32 rounding only
(<= 1e-6), else the file is read differently by OpenColorIO and the check fails. For a ``.cc``:
the ten CDL numbers, the range and grey-axis monotony of the CDL on [0, 1], and OpenColorIO's
output against :func:`engines.style.colour.cdl.apply_cdl` (``clamp=False``, its style for ``.cc``
files) on a 9^3 lattice (<= 1e-4: its default processor uses a fast power approximation).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, Optional, Tuple, Union

import numpy as np

from engines.style.colour.cc import read_cc
from engines.style.colour.cdl import Cdl, apply_cdl
from engines.style.colour.cube import LUT_SIZES, read_cube
from engines.style.colour.errors import LutFormatError, OcioLoadError

__all__ = ["CUBE_TOLERANCE", "CC_TOLERANCE", "LutReport", "check_lut_file", "format_report", "report_json"]

#: Largest difference allowed between OpenColorIO and the file as read, at a ``.cube``'s lattice points.
CUBE_TOLERANCE = 1e-6

#: Largest difference allowed between OpenColorIO and :func:`apply_cdl` for a ``.cc``.
CC_TOLERANCE = 1e-4

Triple = Tuple[float, float, float]


@dataclass(frozen=True)
class LutReport:
    """What :func:`check_lut_file` found; ``kind`` is ``"cube"`` or ``"cc"`` (``size``, ``domain_*``,
    ``title`` are None for a ``.cc``; ``cdl`` is None for a ``.cube``)."""

    path: Path
    kind: str
    value_min: Triple
    value_max: Triple
    grey_monotone: Tuple[bool, bool, bool]
    ocio_max_difference: float
    size: Optional[int] = None
    domain_min: Optional[Triple] = None
    domain_max: Optional[Triple] = None
    title: Optional[str] = None
    comments: Tuple[str, ...] = ()
    header: Dict[str, str] = field(default_factory=dict)
    input_encoding: Optional[str] = None
    cdl: Optional[Cdl] = None
    notes: Tuple[str, ...] = ()


def _ocio_apply(path: Path, rgb: np.ndarray, cube: bool) -> np.ndarray:
    import PyOpenColorIO as ocio

    ocio.ClearAllCaches()  # a file rewritten under the same name must be read again
    try:
        transform = ocio.FileTransform(str(path), interpolation=ocio.INTERP_TETRAHEDRAL if cube else ocio.INTERP_DEFAULT)
        processor = ocio.Config.CreateRaw().getProcessor(transform).getDefaultCPUProcessor()
        out = np.ascontiguousarray(rgb, dtype=np.float32).copy()
        processor.applyRGB(out)
    except Exception as err:  # PyOpenColorIO raises its own Exception type for every failure
        raise OcioLoadError(path, str(err)) from err
    return out


def _monotone(grey: np.ndarray) -> Tuple[bool, bool, bool]:
    steps = np.diff(grey, axis=0)
    return tuple(bool(np.all(steps[:, c] >= 0.0)) for c in range(3))


def _range(values: np.ndarray) -> Tuple[Triple, Triple]:
    flat = values.reshape(-1, 3)
    return tuple(float(v) for v in flat.min(axis=0)), tuple(float(v) for v in flat.max(axis=0))


def _check_cube(path: Path) -> LutReport:
    lut = read_cube(path)
    n = lut.size
    lo, hi = np.array(lut.domain_min), np.array(lut.domain_max)
    axis = np.linspace(0.0, 1.0, n)
    grid = np.stack(np.meshgrid(axis, axis, axis, indexing="ij"), axis=-1).reshape(-1, 3) * (hi - lo) + lo
    difference = float(np.abs(_ocio_apply(path, grid, True) - lut.table.reshape(-1, 3)).max())
    notes = []
    if n not in LUT_SIZES:
        notes.append(f"size {n} is not one Onset writes ({', '.join(map(str, LUT_SIZES))})")
    if difference > CUBE_TOLERANCE:
        raise OcioLoadError(path, f"OpenColorIO reads values up to {difference:.3g} away from the file's table "
                                  f"at its lattice points (allowed {CUBE_TOLERANCE:g})")
    encoding = lut.header.get("input encoding", "").split(" ", 1)[0] or None
    value_min, value_max = _range(lut.table)
    grey = lut.table[np.arange(n), np.arange(n), np.arange(n)]
    return LutReport(path, "cube", value_min, value_max, _monotone(grey), difference, size=n,
                     domain_min=lut.domain_min, domain_max=lut.domain_max, title=lut.title, comments=lut.comments,
                     header=dict(lut.header), input_encoding=encoding, notes=tuple(notes))


def _check_cc(path: Path) -> LutReport:
    cc = read_cc(path)
    axis = np.linspace(0.0, 1.0, 9)
    grid = np.stack(np.meshgrid(axis, axis, axis, indexing="ij"), axis=-1).reshape(-1, 3)
    difference = float(np.abs(_ocio_apply(path, grid, False) - apply_cdl(cc.cdl, grid, clamp=False)).max())
    if difference > CC_TOLERANCE:
        raise OcioLoadError(path, f"OpenColorIO applies the CDL up to {difference:.3g} away from the ASC formula "
                                  f"(allowed {CC_TOLERANCE:g})")
    value_min, value_max = _range(apply_cdl(cc.cdl, grid))
    grey = apply_cdl(cc.cdl, np.repeat(np.linspace(0.0, 1.0, 256)[:, None], 3, axis=1))
    encoding = (cc.input_description or "").split(" ", 1)[0] or None
    return LutReport(path, "cc", value_min, value_max, _monotone(grey), difference, title=cc.id,
                     comments=cc.descriptions, input_encoding=encoding, cdl=cc.cdl)


def check_lut_file(path: Union[str, Path]) -> LutReport:
    """Check the ``.cube`` or ``.cc`` at ``path`` (see the module docstring). A file that breaks its
    format raises :class:`~engines.style.colour.errors.LutFormatError` or ``CdlFormatError`` (file
    and line); one OpenColorIO refuses or reads differently, :class:`OcioLoadError`."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".cube":
        return _check_cube(path)
    if suffix == ".cc":
        return _check_cc(path)
    raise LutFormatError(path, None, "not a .cube or .cc file (the suffix says which format it holds)")


def _triple(values) -> str:
    return " ".join(f"{v:.6g}" for v in values)


def format_report(report: LutReport) -> str:
    """``report`` as the lines ``onset style check-lut`` prints."""
    lines = [f"{report.path}: {'3D LUT (.cube)' if report.kind == 'cube' else 'ASC CDL (.cc)'}"]
    if report.kind == "cube":
        lines += [f"  size           {report.size} x {report.size} x {report.size}",
                  f"  domain         {_triple(report.domain_min)} to {_triple(report.domain_max)}",
                  f"  title          {report.title if report.title is not None else '(none)'}"]
    else:
        cdl = report.cdl
        lines += [f"  id             {report.title or '(none)'}", f"  slope          {_triple(cdl.slope)}",
                  f"  offset         {_triple(cdl.offset)}", f"  power          {_triple(cdl.power)}",
                  f"  saturation     {cdl.saturation:.6g}"]
    lines.append(f"  input encoding {report.input_encoding or '(not stated)'}")
    label = "comment" if report.kind == "cube" else "description"
    lines += [f"  {label:<14} {c}" for c in report.comments]
    lines.append(f"  values         {_triple(report.value_min)} to {_triple(report.value_max)} (r g b)")
    mono = ", ".join(f"{c} {'yes' if ok else 'NO'}" for c, ok in zip("rgb", report.grey_monotone))
    lines.append(f"  grey monotone  {mono}")
    lines.append(f"  OpenColorIO    loads it; largest difference from the file {report.ocio_max_difference:.2g}")
    lines += [f"  note           {n}" for n in report.notes]
    return "\n".join(lines)


def report_json(report: LutReport) -> dict:
    """``report`` as plain JSON types."""
    cdl = report.cdl
    return {
        "path": str(report.path), "kind": report.kind, "size": report.size, "title": report.title,
        "domain_min": report.domain_min, "domain_max": report.domain_max, "comments": list(report.comments),
        "header": report.header, "input_encoding": report.input_encoding,
        "value_min": report.value_min, "value_max": report.value_max, "grey_monotone": report.grey_monotone,
        "ocio_loaded": True, "ocio_max_difference": report.ocio_max_difference, "notes": list(report.notes),
        "cdl": None if cdl is None else {"slope": cdl.slope, "offset": cdl.offset, "power": cdl.power,
                                         "saturation": cdl.saturation},
    }
