"""The style engine's reference film emulation: a control frame to the same scene as if shot on film.

A *control* frame (the digital camera's Rec.709 code values, float32 (H, W, 3) in [0, 1]) becomes
a *test* frame by a documented, deterministic chain (docs/film-pipeline.md): the BT.709 OETF undone
to scene light; the gate's vignette on the exposure; halation; the negative's per-layer H&D curves
after development (normal, push +1/+2, bleach bypass); grain in density on the negative; dye
crosstalk and retained silver as one 3x3 mix in density; a print film's curves (or a scan) and the
BT.709 OETF again. The colour part (:func:`colour`) is a per-pixel *curves, matrix, curves*
function; the texture part (:func:`texture_parts`) is the vignette, halation and grain. The curves
are approximations of Kodak's published data-sheet curves (stocks.py says which and with what
numbers); the looks the engine ships are learned from this pipeline, not from scanned film.

Modules: ``stocks`` (H&D curves and the stocks), ``formats`` (gates), ``process`` (development,
crosstalk, print and scan), ``grain``, ``halation``, ``vignette``, ``encoding`` (BT.709),
``looks`` (the six named looks), ``pipeline`` (colour, develop), ``measure`` and ``nominal``
(grain read from an image, and what each look's grain should read), ``frames`` (input checks),
``errors``.
"""

from engines.style.film.encoding import GREY_CODE_VALUE, GREY_LINEAR, bt709_inverse_oetf, bt709_oetf
from engines.style.film.errors import FilmError, FilmInputError, FilmSpecError, UnknownLookError
from engines.style.film.formats import FORMATS, SUPER8, SUPER16, SUPER35, FilmFormat, pixel_pitch_um
from engines.style.film.grain import FOG_GRAIN_DENSITY, GRANULARITY_APERTURE_UM, pixel_rms_density
from engines.style.film.halation import VISION3_HALATION, HalationSpec
from engines.style.film.looks import LOOK_NAMES, LOOKS, FilmLook, look_spec
from engines.style.film.measure import grain_correlation, grain_power_spectrum, grain_rms
from engines.style.film.nominal import GrainNominal, grain_nominal, nominal_power_spectrum
from engines.style.film.pipeline import (
    FilmTest,
    TextureParts,
    colour,
    colour_curves_in,
    colour_curves_out,
    colour_matrix,
    develop,
    texture_parts,
)
from engines.style.film.process import (
    BLEACH_BYPASS,
    NORMAL,
    PUSH_1,
    PUSH_2,
    SCAN,
    Development,
    Finish,
    Scan,
)
from engines.style.film.stocks import (
    NEGATIVE_STOCKS,
    PRINT_STOCKS,
    VISION3_50D,
    VISION3_250D,
    VISION3_500T,
    VISION_2383,
    VISION_2393,
    LayerCurve,
    NegativeStock,
    PrintStock,
    layer_density,
)

__all__ = [
    "LOOK_NAMES",
    "LOOKS",
    "FilmLook",
    "look_spec",
    "colour",
    "colour_curves_in",
    "colour_matrix",
    "colour_curves_out",
    "develop",
    "texture_parts",
    "FilmTest",
    "TextureParts",
    "grain_nominal",
    "GrainNominal",
    "nominal_power_spectrum",
    "grain_rms",
    "grain_power_spectrum",
    "grain_correlation",
    "pixel_rms_density",
    "GRANULARITY_APERTURE_UM",
    "FOG_GRAIN_DENSITY",
    "HalationSpec",
    "VISION3_HALATION",
    "FilmFormat",
    "FORMATS",
    "SUPER35",
    "SUPER16",
    "SUPER8",
    "pixel_pitch_um",
    "Development",
    "Finish",
    "Scan",
    "NORMAL",
    "PUSH_1",
    "PUSH_2",
    "BLEACH_BYPASS",
    "SCAN",
    "LayerCurve",
    "NegativeStock",
    "PrintStock",
    "layer_density",
    "NEGATIVE_STOCKS",
    "PRINT_STOCKS",
    "VISION3_500T",
    "VISION3_250D",
    "VISION3_50D",
    "VISION_2383",
    "VISION_2393",
    "GREY_LINEAR",
    "GREY_CODE_VALUE",
    "bt709_oetf",
    "bt709_inverse_oetf",
    "FilmError",
    "FilmInputError",
    "UnknownLookError",
    "FilmSpecError",
]
