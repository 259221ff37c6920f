"""What a phrase asks for: :class:`ShotQuery`, filters over the captioner's frame and shot labels.

A query is a conjunction of filters; each filter left empty (an empty set, None) lets every
label through:

- ``shot_sizes``: the label's shot size is one of them (``ShotSize.NONE``: measured, nobody in
  frame; a missing shot size, None, matches no size);
- ``focal_mm`` and ``focal_35mm_mm``: the lens's focal length, and its 35 mm equivalent by the
  horizontal angle of view (``engines/captioner/lens.py``), lie in the range, mm;
- ``movements``: the label's camera movement is one of them (``MovementClass.MISSING``: the
  movement could not be measured, stored as None or ``missing``);
- ``speed``: the movement's speed lies in the range of the label's own unit (m/s for dolly,
  truck and pedestal, deg/s for pan, tilt and roll, %/s of the focal length for zoom);
- ``distance_m``: the subject's optical-axis distance lies in the range, m.

Ranges are :class:`Range`: closed ``[low, high]``, ``high`` infinite when open above. A label
a filter needs but the record lacks (None: missing, or measured and absent, as a static camera's
speed) does not match. :meth:`ShotQuery.matches` reads a stored frame record's labels
(``engines/captioner/dataset/records.py``: ``focal_length_mm``, ``focal_35mm_mm``, ``movement``,
``movement_speed``, ``movement_speed_unit``, ``shot_size``, ``subject_distance_m``) or a shot's
(``engines/captioner/dataset/segment.py``: the same with ``mean_focal_length_mm``,
``mean_focal_35mm_mm`` and ``mean_subject_distance_m``).
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Dict, FrozenSet, Iterable, List, Mapping, NamedTuple, Optional, Tuple

from engines.captioner.movement import UNIT_DEG_PER_S, UNIT_M_PER_S, UNIT_PCT_PER_S, MovementClass
from engines.captioner.shot_size import ShotSize

__all__ = [
    "SPEED_UNITS",
    "SPEED_UNIT_OF",
    "Range",
    "SpeedRange",
    "Reading",
    "ShotQuery",
    "describe_movements",
    "describe_sizes",
    "movement_units",
    "number_text",
]

#: The movement label's speed units, in the order a speed range lists them.
SPEED_UNITS = (UNIT_M_PER_S, UNIT_DEG_PER_S, UNIT_PCT_PER_S)

_M = MovementClass
#: The unit of each movement class's speed label (``engines/captioner/movement.py``: translations
#: in m/s along the camera's levelled axes, rotations in deg/s, zoom in %/s of the focal length);
#: None for the classes that have no speed.
SPEED_UNIT_OF: Mapping[MovementClass, Optional[str]] = MappingProxyType({
    _M.STATIC: None,
    _M.PAN_LEFT: UNIT_DEG_PER_S, _M.PAN_RIGHT: UNIT_DEG_PER_S,
    _M.TILT_UP: UNIT_DEG_PER_S, _M.TILT_DOWN: UNIT_DEG_PER_S,
    _M.ROLL: UNIT_DEG_PER_S,
    _M.DOLLY_IN: UNIT_M_PER_S, _M.DOLLY_OUT: UNIT_M_PER_S,
    _M.TRUCK_LEFT: UNIT_M_PER_S, _M.TRUCK_RIGHT: UNIT_M_PER_S,
    _M.PEDESTAL_UP: UNIT_M_PER_S, _M.PEDESTAL_DOWN: UNIT_M_PER_S,
    _M.ZOOM_IN: UNIT_PCT_PER_S, _M.ZOOM_OUT: UNIT_PCT_PER_S,
    _M.HANDHELD: None,
    _M.MISSING: None,
})
del _M

# Label keys per filter: a frame record's first, then a shot's.
_FOCAL_KEYS = ("focal_length_mm", "mean_focal_length_mm")
_FOCAL_35MM_KEYS = ("focal_35mm_mm", "mean_focal_35mm_mm")
_DISTANCE_KEYS = ("subject_distance_m", "mean_subject_distance_m")


def number_text(value: float) -> str:
    """A value as a crew says it: three significant digits, no exponent (73.1, 0.314, 1000)."""
    return f"{float(f'{value:.3g}'):g}"


class Range(NamedTuple):
    """A closed interval ``[low, high]``; ``high`` is ``inf`` when it is open above."""

    low: float
    high: float

    def __contains__(self, value: object) -> bool:
        if value is None or isinstance(value, bool) or not isinstance(value, (int, float)):
            return False
        return math.isfinite(float(value)) and self.low <= float(value) <= self.high

    def intersect(self, other: "Range") -> Optional["Range"]:
        """The values in both, or None when they do not overlap."""
        low, high = max(self.low, other.low), min(self.high, other.high)
        return Range(low, high) if low <= high else None

    def describe(self, unit: str) -> str:
        """``73.1-76.9 mm``, ``at most 3 m``, ``at least 85 mm``, ``4 m``."""
        if self.low == self.high:
            return f"{number_text(self.low)} {unit}"
        if math.isinf(self.high):
            return f"at least {number_text(self.low)} {unit}"
        if self.low <= 0.0:
            return f"at most {number_text(self.high)} {unit}"
        return f"{number_text(self.low)}-{number_text(self.high)} {unit}"

    def to_list(self) -> List[Optional[float]]:
        """``[low, high]`` for JSON, ``high`` None when open above."""
        return [float(self.low), None if math.isinf(self.high) else float(self.high)]


@dataclass(frozen=True)
class SpeedRange:
    """Speeds a movement may have, one range per unit of the movement label (None: no movement
    in that unit matches). A pace word fills all three; a speed with a unit fills its own."""

    m_per_s: Optional[Range] = None
    deg_per_s: Optional[Range] = None
    pct_per_s: Optional[Range] = None

    @classmethod
    def of(cls, ranges: Mapping[str, Range]) -> "SpeedRange":
        """From a mapping unit (``m/s``, ``deg/s``, ``%/s``) -> range."""
        return cls(ranges.get(UNIT_M_PER_S), ranges.get(UNIT_DEG_PER_S), ranges.get(UNIT_PCT_PER_S))

    def ranges(self) -> Dict[str, Range]:
        """Unit -> range, for the units that have one, in :data:`SPEED_UNITS` order."""
        values = (self.m_per_s, self.deg_per_s, self.pct_per_s)
        return {unit: r for unit, r in zip(SPEED_UNITS, values) if r is not None}

    def for_unit(self, unit: Optional[str]) -> Optional[Range]:
        return self.ranges().get(unit) if unit is not None else None

    def intersect(self, other: "SpeedRange") -> Optional["SpeedRange"]:
        """Per unit, the speeds in both (a unit only one of them has drops out); None when no unit is left."""
        mine, theirs = self.ranges(), other.ranges()
        both = {u: mine[u].intersect(theirs[u]) for u in mine if u in theirs}
        kept = {u: r for u, r in both.items() if r is not None}
        return SpeedRange.of(kept) if kept else None

    def describe(self, units: Optional[Iterable[str]] = None) -> str:
        """``0.05-0.314 m/s, 1.5-6 deg/s``: the ranges of ``units`` (None: every unit it has)."""
        ranges = self.ranges()
        wanted = [u for u in SPEED_UNITS if u in ranges and (units is None or u in set(units))]
        return ", ".join(ranges[u].describe(u) for u in wanted) or "no speed"

    def to_dict(self) -> Dict[str, List[Optional[float]]]:
        return {unit: r.to_list() for unit, r in self.ranges().items()}


class Reading(NamedTuple):
    """How one term of the phrase was read: its ``text`` as written, starting at character
    ``position``, what it means, and the :class:`ShotQuery` fields it set."""

    text: str
    position: int
    meaning: str
    fields: Tuple[str, ...] = ()


def _value(label: Any) -> Any:
    return label.value if isinstance(label, enum.Enum) else label


def _first(labels: Mapping[str, Any], keys: Tuple[str, ...]) -> Any:
    for key in keys:
        if key in labels:
            return labels[key]
    return None


def describe_sizes(sizes: Iterable[ShotSize]) -> str:
    """``shot size is CU or MCU``; nobody in frame said so."""
    ordered = sorted(sizes, key=lambda s: (s.rank < 0, s.rank))
    names = [s.value for s in ordered if s is not ShotSize.NONE]
    parts = [f"shot size is {' or '.join(names)}"] if names else []
    if ShotSize.NONE in ordered:
        parts.append(f"no subject in frame (shot size {ShotSize.NONE.value})")
    return ", or ".join(parts)


def describe_movements(movements: Iterable[MovementClass]) -> str:
    """``movement is pan_left or pan_right`` (in the label's class order)."""
    ordered = [m for m in MovementClass if m in set(movements)]
    return "movement is " + " or ".join(m.value for m in ordered)


def movement_units(movements: Iterable[MovementClass]) -> Tuple[str, ...]:
    """The speed units of ``movements`` (:data:`SPEED_UNIT_OF`), in :data:`SPEED_UNITS` order."""
    units = {SPEED_UNIT_OF[m] for m in movements} - {None}
    return tuple(u for u in SPEED_UNITS if u in units)


@dataclass(frozen=True)
class ShotQuery:
    """Catalogue filters read from a phrase (the module docstring). ``readings`` and ``phrase``
    record how it was read; they take no part in equality."""

    shot_sizes: FrozenSet[ShotSize] = frozenset()
    focal_mm: Optional[Range] = None
    focal_35mm_mm: Optional[Range] = None
    movements: FrozenSet[MovementClass] = frozenset()
    speed: Optional[SpeedRange] = None
    distance_m: Optional[Range] = None
    readings: Tuple[Reading, ...] = field(default=(), compare=False)
    phrase: str = field(default="", compare=False)

    @property
    def no_subject(self) -> bool:
        """The query asks for frames with nobody in them (and nothing else in shot size)."""
        return self.shot_sizes == frozenset({ShotSize.NONE})

    @property
    def empty(self) -> bool:
        """No filter is set: every label matches."""
        return not (self.shot_sizes or self.movements) and all(
            v is None for v in (self.focal_mm, self.focal_35mm_mm, self.speed, self.distance_m))

    def describe_field(self, name: str) -> str:
        """One filter in words, as :meth:`explain` says it."""
        if name == "shot_sizes":
            return describe_sizes(self.shot_sizes)
        if name == "movements":
            return describe_movements(self.movements)
        if name == "focal_mm":
            return f"focal length {self.focal_mm.describe('mm')}"
        if name == "focal_35mm_mm":
            return f"35 mm-equivalent focal length {self.focal_35mm_mm.describe('mm')}"
        if name == "distance_m":
            return f"subject distance {self.distance_m.describe('m')}"
        if name == "speed":
            return f"speed {self.speed.describe(movement_units(self.movements) or None)}"
        raise KeyError(name)

    def explain(self) -> List[str]:
        """How the phrase was read: a line per term (``"MCU" -> shot size is MCU (medium
        close-up)``), then ``together -> ...`` for each filter more than one term set."""
        lines = [f'"{r.text}" -> {r.meaning}' for r in self.readings]
        for name in ("shot_sizes", "focal_mm", "focal_35mm_mm", "movements", "speed", "distance_m"):
            if sum(name in r.fields for r in self.readings) > 1:
                lines.append(f"together -> {self.describe_field(name)}")
        return lines

    def matches(self, labels: Mapping[str, Any]) -> bool:
        """Whether a frame's or a shot's labels (the module docstring's keys) pass every filter."""
        if self.shot_sizes and _value(labels.get("shot_size")) not in {s.value for s in self.shot_sizes}:
            return False
        if self.movements:
            movement = _value(labels.get("movement"))
            movement = MovementClass.MISSING.value if movement is None else movement
            if movement not in {m.value for m in self.movements}:
                return False
        if self.speed is not None:
            allowed = self.speed.for_unit(labels.get("movement_speed_unit"))
            if allowed is None or labels.get("movement_speed") not in allowed:
                return False
        for allowed, keys in ((self.focal_mm, _FOCAL_KEYS), (self.focal_35mm_mm, _FOCAL_35MM_KEYS),
                              (self.distance_m, _DISTANCE_KEYS)):
            if allowed is not None and _first(labels, keys) not in allowed:
                return False
        return True

    def to_dict(self) -> Dict[str, Any]:
        """The query as plain JSON: sets as lists (tightest size first, movements in class order),
        ranges as ``[low, high]`` (``high`` None when open), the speed per unit, the readings."""
        return {
            "phrase": self.phrase,
            "shot_sizes": [s.value for s in ShotSize if s in self.shot_sizes],
            "no_subject": self.no_subject,
            "focal_mm": None if self.focal_mm is None else self.focal_mm.to_list(),
            "focal_35mm_mm": None if self.focal_35mm_mm is None else self.focal_35mm_mm.to_list(),
            "movements": [m.value for m in MovementClass if m in self.movements],
            "speed": None if self.speed is None else self.speed.to_dict(),
            "distance_m": None if self.distance_m is None else self.distance_m.to_list(),
            "readings": [{"text": r.text, "position": r.position, "meaning": r.meaning, "fields": list(r.fields)}
                         for r in self.readings],
        }
