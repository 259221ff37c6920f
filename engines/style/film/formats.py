"""Film formats: the camera gate's size and its vignette, and the pixel pitch they give an output.

An output ``width_px`` pixels wide covers the gate's width, so one pixel is
``pixel_pitch_um = gate_width_mm * 1000 / width_px`` of film: at 640 px, 38.9 um on Super 35,
19.6 um on 16 mm (Super 16 gate) and 9.0 um on Super 8. Everything that has a size on the film
(grain clumps, the halation spread) is divided by this pitch, which is why it looks coarser in
pixels on a smaller gate. The gates are the camera apertures: Super 35 24.89 x 18.66 mm,
Super 16 12.52 x 7.41 mm, Super 8 5.79 x 4.01 mm; the output's aspect need not match the gate's
(a 16:9 output is taken as an extraction of the gate's full width).

The vignette is the light falloff at the frame's corner, in stops (``vignette.py`` for the law):
0.35 on Super 35, 0.6 on 16 mm and 1.0 on Super 8, the smaller formats' lenses and gates
vignetting more. These are chosen as typical of each format's lenses near full aperture, not
measured from one lens.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass

from engines.style.film.errors import FilmInputError, FilmSpecError

__all__ = ["FilmFormat", "SUPER35", "SUPER16", "SUPER8", "FORMATS", "pixel_pitch_um"]


@dataclass(frozen=True)
class FilmFormat:
    """A camera gate (mm) and the vignette at its corner (stops of exposure lost)."""

    name: str
    gate_width_mm: float
    gate_height_mm: float
    vignette_corner_stops: float

    def __post_init__(self) -> None:
        if not (self.gate_width_mm > 0.0 and self.gate_height_mm > 0.0 and self.vignette_corner_stops >= 0.0):
            raise FilmSpecError(
                f"format {self.name!r} needs a positive gate and vignette >= 0 stops, got "
                f"{self.gate_width_mm} x {self.gate_height_mm} mm, {self.vignette_corner_stops} stops"
            )


#: 35 mm, the Super 35 camera gate.
SUPER35 = FilmFormat("Super 35", gate_width_mm=24.89, gate_height_mm=18.66, vignette_corner_stops=0.35)

#: 16 mm, the Super 16 camera gate.
SUPER16 = FilmFormat("16 mm (Super 16)", gate_width_mm=12.52, gate_height_mm=7.41, vignette_corner_stops=0.6)

#: Super 8.
SUPER8 = FilmFormat("Super 8", gate_width_mm=5.79, gate_height_mm=4.01, vignette_corner_stops=1.0)

#: The formats by the names the looks use.
FORMATS = {"35mm": SUPER35, "16mm": SUPER16, "super8": SUPER8}


def pixel_pitch_um(film_format: FilmFormat, width_px: int) -> float:
    """Width of one output pixel on the film, um, for an output ``width_px`` pixels wide."""
    if isinstance(width_px, bool) or not isinstance(width_px, numbers.Integral) or width_px < 1:
        raise FilmInputError(f"output width must be a positive whole number of pixels, got {width_px!r}")
    return film_format.gate_width_mm * 1000.0 / int(width_px)
