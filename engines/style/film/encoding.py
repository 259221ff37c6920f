"""The Rec.709 encoding the pipeline reads and writes: the BT.709 OETF and its inverse.

Frames are display-referred Rec.709 code values ``V`` in [0, 1], the simulated camera's encoding of
scene-linear Rec.709 light ``L`` (1.0 = the camera's clip, 0.18 = the grey card) by ITU-R BT.709::

    V = 4.5 L                      L <  0.018
    V = 1.099 L^0.45 - 0.099       L >= 0.018

and back, ``L = V / 4.5`` below ``V = 0.081``, else ``((V + 0.099) / 1.099)^(1 / 0.45)``. The two
branches of the standard's rounded constants meet within 6e-5 in ``V`` at the knee (between
``L = 0.01795`` and ``0.018`` a round trip moves ``V`` by up to 2.5e-4); elsewhere round trips are
exact to float64 rounding. The grey card encodes to ``V = 0.409``.
"""

from __future__ import annotations

import numpy as np

__all__ = ["GREY_LINEAR", "GREY_CODE_VALUE", "bt709_oetf", "bt709_inverse_oetf"]

#: Scene-linear value of the 18 % grey card.
GREY_LINEAR = 0.18


def bt709_oetf(linear: np.ndarray) -> np.ndarray:
    """Scene-linear light (>= 0) to BT.709 code values, float64 (not clipped)."""
    L = np.maximum(np.asarray(linear, dtype=np.float64), 0.0)
    return np.where(L < 0.018, 4.5 * L, 1.099 * np.power(L, 0.45) - 0.099)


def bt709_inverse_oetf(code_values: np.ndarray) -> np.ndarray:
    """BT.709 code values in [0, 1] to scene-linear light, float64."""
    V = np.asarray(code_values, dtype=np.float64)
    return np.where(V < 0.081, V / 4.5, np.power((np.maximum(V, 0.081) + 0.099) / 1.099, 1.0 / 0.45))


#: BT.709 code value of the grey card (0.409).
GREY_CODE_VALUE = float(bt709_oetf(GREY_LINEAR))
