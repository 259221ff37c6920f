"""Project frame rates as profiles spell them, validated without the sensors' vocabulary.

The rates of SMPTE ST 12-1 that Onset supports, by their profile label, as exact
``(numerator, denominator, drop_frame)``: frames per second is ``numerator / denominator``.
:class:`sensors.vocabulary.FrameRate` has one member per label here, with these values (a test
holds the two to each other). Config validates a label with :func:`parse_rate`; only
:func:`as_frame_rate`, which the models' ``frame_rate`` properties call for the layers that use a
``FrameRate``, reaches into the vocabulary, and only when it is called (importing config imports
no sensors module).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Dict, Tuple, Union

if TYPE_CHECKING:
    from sensors.vocabulary import FrameRate

__all__ = ["RATES", "as_frame_rate", "nominal_fps", "parse_rate"]

#: Profile label -> (numerator, denominator, drop_frame); labels without "DF" are non-drop.
RATES: Dict[str, Tuple[int, int, bool]] = {
    "23.976": (24000, 1001, False),
    "24": (24, 1, False),
    "25": (25, 1, False),
    "29.97": (30000, 1001, False),
    "29.97DF": (30000, 1001, True),
    "30": (30, 1, False),
    "48": (48, 1, False),
    "50": (50, 1, False),
    "59.94": (60000, 1001, False),
    "59.94DF": (60000, 1001, True),
    "60": (60, 1, False),
}


def parse_rate(text: Union[str, float, int]) -> str:
    """The label of :data:`RATES` that ``text`` names: ``"29.97DF"`` for ``"29.97 df"``,
    ``"29.97"`` for ``"29.97NDF"``, ``"24"`` for ``24`` or ``"24.0"``; ValueError for any other."""
    key = str(text).strip().upper().replace(" ", "").replace("NDF", "")
    if key.endswith(".0") and key[:-2].isdigit():
        key = key[:-2]
    for label in RATES:
        if key == label.upper():
            return label
    raise ValueError(f"unknown frame rate {text!r}; expected one of {', '.join(RATES)}")


def nominal_fps(text: Union[str, float, int]) -> int:
    """Frames counted per timecode second at the rate ``text`` names (24 for 23.976, 30 for 29.97,
    60 for 59.94)."""
    num, den, _ = RATES[parse_rate(text)]
    return -(-num // den)


def as_frame_rate(text: Union[str, float, int]) -> "FrameRate":
    """The :class:`sensors.vocabulary.FrameRate` member that ``text`` names (see :func:`parse_rate`)."""
    from sensors.vocabulary import FrameRate  # deferred: config stays importable without sensors

    return FrameRate(RATES[parse_rate(text)])
