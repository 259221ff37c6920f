"""The style engine's look model (docs/style-model.md): what a look is, how it is learned from pairs,
how it is scored, and where the shipped looks lie.

``colour`` (the colour part: curves, crosstalk, curves), ``texture`` (vignette, halation, grain),
``look`` (a look's file and styling a frame), ``fit`` (the colour part and vignette fitted in
torch), ``estimate`` (halation and grain from pairs), ``train`` (rounds, scores, the weakest
bands), ``data`` (pairs folders as the trainer reads them), ``evaluate`` (against the reference
pipeline), ``shipped`` (the looks that ship, by name), ``errors``.
"""

from engines.style.model.colour import CURVE_KNOTS, OUT_DOMAIN, ColourTransform, apply_colour, identity_colour
from engines.style.model.errors import LookFileError, StyleFitError, StyleModelError, UnknownLookError
from engines.style.model.look import LOOK_SUFFIX, Look, colour_only, identity_look, load_look, save_look, style_frame
from engines.style.model.shipped import OFF, SHIPPED_LOOKS_DIR, resolve_look, shipped_look_names
from engines.style.model.texture import Grain, Halation, Vignette

__all__ = [
    "CURVE_KNOTS", "OUT_DOMAIN", "ColourTransform", "apply_colour", "identity_colour",
    "StyleModelError", "StyleFitError", "LookFileError", "UnknownLookError",
    "LOOK_SUFFIX", "Look", "colour_only", "identity_look", "load_look", "save_look", "style_frame",
    "OFF", "SHIPPED_LOOKS_DIR", "resolve_look", "shipped_look_names",
    "Grain", "Halation", "Vignette",
]
