"""Value objects of the timecode family (shared ones, ``Timecode`` and ``TimecodeSample``, live in
:mod:`sensors.vocabulary`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Tuple

from sensors.vocabulary import Timecode, TimecodeSample

__all__ = ["LtcFrame", "LtcReading"]


@dataclass(frozen=True)
class LtcFrame:
    """Everything one 80-bit SMPTE 12M LTC frame carries.

    ``user_bits`` packs the eight 4-bit user groups as one 32-bit int, group 1 (bits 4..7) in the
    lowest nibble and group 8 (bits 60..63) in the highest, so ``f"{user_bits:08X}"`` reads in
    the order groups are usually displayed (8 first). ``binary_group_flags`` packs BGF0 (bit 0),
    BGF1 (bit 1) and BGF2 (bit 2) wherever the rate's layout puts them on the wire.
    """

    timecode: Timecode
    user_bits: int = 0
    colour_frame: bool = False
    binary_group_flags: int = 0


@dataclass(frozen=True)
class LtcReading(TimecodeSample):
    """A :class:`~sensors.vocabulary.TimecodeSample` as the LTC driver decoded it, with what it knows
    beyond the label: the frame's ``user_bits`` and ``flags`` naming what was unusual about it
    (``"gap"``: LTC frames were missing before it; ``"jump"``: its label does not follow the last
    one, e.g. a re-jam or record-run timecode restarting). Consumers that only know
    ``TimecodeSample`` read it as one."""

    user_bits: int = 0
    flags: Tuple[str, ...] = ()
