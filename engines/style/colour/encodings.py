"""Input encodings a look LUT is baked for, and the path each takes into the look's domain.

A look is a function on **Rec.709 display-referred** RGB in [0, 1]: the BT.709 OETF applied to
linear light on Rec.709 primaries with a D65 white, as a digital control image is. A LUT made for
a log camera takes that camera's code values instead, so the code values are first brought into
the look's domain:

1. **Decode to scene-linear Rec.709 through OpenColorIO** (float32 CPU processor, lossless
   optimisation): the camera's built-in transform to ACES2065-1, then a ``MatrixTransform`` holding
   the ACES2065-1 (AP0, ACES white) to linear Rec.709 (D65) matrix, white adapted with CAT02
   (:data:`engines.style.colour.primaries.AP0_TO_REC709_CAT02`, derived there from the published
   AP0 and Rec.709 chromaticities). CAT02 because OCIO's camera built-ins adapt D65 to D60 with CAT02 (ARRI's and Sony's published
   IDT matrices), so the D60 detour cancels: camera gamut to Rec.709 is the direct D65 to D65
   matrix. (OCIO's "UTILITY - ACES-AP1_to_LINEAR-REC709_BFD" adapts with Bradford; through it a
   saturated colour would land 0.7 % of its largest channel off.)

   =========  =============================================  ===================================
   encoding   OCIO built-in                                  camera
   =========  =============================================  ===================================
   rec709     none (identity: the look's own domain)         any camera rendering to Rec.709
   logc3      ``ARRI_ALEXA-LOGC-EI800-AWG_to_ACES2065-1``    ARRI LogC3, EI 800, ARRI Wide Gamut 3
   logc4      ``ARRI_LOGC4_to_ACES2065-1``                   ARRI LogC4, ARRI Wide Gamut 4
   slog3      ``SONY_SLOG3-SGAMUT3.CINE_to_ACES2065-1``      Sony S-Log3, S-Gamut3.Cine
   =========  =============================================  ===================================

   Code values are full-range and normalised to [0, 1] (10-bit code / 1023), as the vendors'
   formulas and a ``.cube`` domain of [0, 1] take them. The decoding agrees with colour-science's
   independent curves and gamut matrices to 1e-4 relative on the grey axis and 2e-5 of a colour's
   largest channel (float32 processing; tests/engines/style/colour/test_encodings.py).

2. **Render scene light to Rec.709 display-referred**, per channel, in this order:

   - *exposure normalisation*: ``L = g * lin`` with ``g = 0.18 / decode(grey code)``, so an 18 %
     grey card lands at linear 0.18, where Onset's simulated camera puts it (sensors/sim/render.py:
     at T2.8 an 18 % grey renders linear 0.18). The vendors' published grey codes (LogC3 EI 800
     0.391007, LogC4 0.278396, S-Log3 420/1023) decode to 0.18 within 1e-4, so ``g`` is 1 to that
     precision; it is computed, not assumed.
   - *clip negatives* to 0: colours outside the Rec.709 gamut lose their negative channel.
   - *highlight shoulder*: identity up to the knee ``k = 0.8``; above it
     ``S(L) = k + (1 - k) d / (1 + d)`` with ``d = (L - k) / (1 - k)``, continuous in value and
     slope at the knee and approaching 1 (scene 1.0 -> 0.9, 2.0 -> 0.971, 8.0 -> 0.995). Below
     the knee (2.15 stops over grey) the image is exactly what a clipping Rec.709 camera gives.
   - *BT.709 OETF*: ``V = 4.5 L`` below 0.018, ``1.099 L^0.45 - 0.099`` above; 18 % grey -> 0.409.

``rec709`` is the identity: its code values already are the look's domain.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Dict, Optional, Tuple

import numpy as np

from engines.style.colour.errors import ColourInputError, UnknownEncodingError
from engines.style.colour.primaries import AP0_TO_REC709_CAT02

__all__ = [
    "ENCODINGS",
    "ENCODING_INFO",
    "Encoding",
    "MID_GREY_LINEAR",
    "SHOULDER_KNEE_LINEAR",
    "encoding_info",
    "as_rgb",
    "decode_to_linear_rec709",
    "render_to_display",
    "bt709_oetf",
    "to_look_domain",
]

#: Scene-linear value of an 18 % grey card after exposure normalisation.
MID_GREY_LINEAR = 0.18

#: Scene-linear level where the highlight shoulder starts.
SHOULDER_KNEE_LINEAR = 0.8


@dataclass(frozen=True)
class Encoding:
    """One input encoding: its name, what it is, the OCIO built-in that decodes it to ACES2065-1
    (None for the look's own domain) and the code value (normalised, 0-1) of 18 % grey."""

    name: str
    description: str
    ocio_builtin: Optional[str]
    grey_code_value: Optional[float]


#: Every input encoding by name, the look's own domain first.
ENCODING_INFO: Dict[str, Encoding] = {
    e.name: e
    for e in (
        Encoding("rec709", "Rec.709 display-referred (BT.709 OETF, Rec.709 primaries, D65)",
                 None, None),
        Encoding("logc3", "ARRI LogC3, EI 800, ARRI Wide Gamut 3", "ARRI_ALEXA-LOGC-EI800-AWG_to_ACES2065-1",
                 0.391007),
        Encoding("logc4", "ARRI LogC4, ARRI Wide Gamut 4", "ARRI_LOGC4_to_ACES2065-1", 0.278396),
        Encoding("slog3", "Sony S-Log3, S-Gamut3.Cine", "SONY_SLOG3-SGAMUT3.CINE_to_ACES2065-1", 420.0 / 1023.0),
    )
}

#: The names a LUT can be baked for.
ENCODINGS: Tuple[str, ...] = tuple(ENCODING_INFO)


def encoding_info(encoding: str) -> Encoding:
    """The :class:`Encoding` named ``encoding``; :class:`UnknownEncodingError` lists the valid ones."""
    try:
        return ENCODING_INFO[encoding]
    except (KeyError, TypeError):
        raise UnknownEncodingError(encoding, ENCODINGS) from None


def as_rgb(values: object, what: str = "RGB values", dtype: type = np.float32) -> np.ndarray:
    """``values`` as a new ``dtype`` (float32) array shaped (..., 3) of finite numbers."""
    try:
        rgb = np.array(values, dtype=dtype)
    except (TypeError, ValueError) as err:
        raise ColourInputError(f"{what} must be numbers shaped (..., 3): {err}") from err
    if rgb.ndim == 0 or rgb.shape[-1] != 3:
        raise ColourInputError(f"{what} must be shaped (..., 3), got shape {rgb.shape}")
    if not np.all(np.isfinite(rgb)):
        raise ColourInputError(f"{what} hold {int(np.size(rgb) - np.isfinite(rgb).sum())} non-finite numbers")
    return rgb


@functools.lru_cache(maxsize=None)
def _processor(builtin: str):
    import PyOpenColorIO as ocio

    group = ocio.GroupTransform()
    group.appendTransform(ocio.BuiltinTransform(builtin))
    matrix = np.eye(4)
    matrix[:3, :3] = AP0_TO_REC709_CAT02
    group.appendTransform(ocio.MatrixTransform(matrix.ravel().tolist()))
    processor = ocio.Config.CreateRaw().getProcessor(group)
    return processor.getOptimizedCPUProcessor(ocio.BIT_DEPTH_F32, ocio.BIT_DEPTH_F32, ocio.OPTIMIZATION_LOSSLESS)


def _decode(rgb: np.ndarray, builtin: str) -> np.ndarray:
    flat = np.ascontiguousarray(rgb.reshape(-1, 3), dtype=np.float32)
    if flat.size:
        _processor(builtin).applyRGB(flat)
    return flat.reshape(rgb.shape)


@functools.lru_cache(maxsize=None)
def _exposure_gain(encoding: str) -> float:
    info = ENCODING_INFO[encoding]
    if info.ocio_builtin is None:
        return 1.0
    grey = _decode(np.full((1, 3), info.grey_code_value, dtype=np.float32), info.ocio_builtin)
    return MID_GREY_LINEAR / float(np.mean(grey))


def decode_to_linear_rec709(code_values: object, encoding: str) -> np.ndarray:
    """Scene-linear Rec.709 (D65), float32 (..., 3), of a log encoding's code values (0-1), through
    OpenColorIO (step 1 of the module docstring; no exposure normalisation, no clipping)."""
    info = encoding_info(encoding)
    if info.ocio_builtin is None:
        raise UnknownEncodingError(encoding, [e for e in ENCODINGS if ENCODING_INFO[e].ocio_builtin])
    return _decode(as_rgb(code_values, f"{encoding} code values"), info.ocio_builtin)


def bt709_oetf(linear: np.ndarray) -> np.ndarray:
    """BT.709 OETF of linear values in [0, 1] (values outside are clipped first)."""
    lin = np.clip(np.asarray(linear, dtype=np.float32), 0.0, 1.0)
    return np.where(lin < 0.018, 4.5 * lin, 1.099 * np.power(lin, 0.45) - 0.099).astype(np.float32)


def render_to_display(linear: object, exposure_gain: float = 1.0) -> np.ndarray:
    """Scene-linear Rec.709 to Rec.709 display-referred in [0, 1] (step 2 of the module docstring):
    gain, clip negatives, highlight shoulder above :data:`SHOULDER_KNEE_LINEAR`, BT.709 OETF."""
    lin = np.maximum(as_rgb(linear, "scene-linear values") * np.float32(exposure_gain), 0.0)
    k = np.float32(SHOULDER_KNEE_LINEAR)
    d = np.maximum(lin - k, 0.0) / (1.0 - k)
    shouldered = np.where(lin > k, k + (1.0 - k) * d / (1.0 + d), lin)
    return bt709_oetf(shouldered)


def to_look_domain(code_values: object, encoding: str) -> np.ndarray:
    """Code values (..., 3) of ``encoding`` as Rec.709 display-referred RGB in [0, 1], float32: the
    values a look takes. ``rec709`` returns them unchanged (as float32); the log encodings are
    decoded through OpenColorIO and rendered as the module docstring says."""
    info = encoding_info(encoding)
    rgb = as_rgb(code_values, f"{encoding} code values")
    if info.ocio_builtin is None:
        return rgb
    return render_to_display(_decode(rgb, info.ocio_builtin), _exposure_gain(encoding))
