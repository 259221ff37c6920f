"""What a capture plan is made of: planned takes, one cinematic parameter varied per plan.

A :class:`PlannedTake` is what the crew sets for one take: the parameter the plan varies and its
value (with its unit), the settings every take of the plan shares (``fixed``), the settings that
follow from the value (``settings``: a movement's speed, a shot size's distance), the take's
length and a line the crew can read aloud. It knows nothing of the simulated stage:
:mod:`edge.plans.sim` turns it into the stage's shot. ``to_document`` is the ``plan`` object a
take carries into its ``take.json``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Dict, Mapping, Optional, Union

__all__ = ["PlannedTake", "FOCAL_SWEEP", "MOVEMENT_SWEEP", "FRAMING_SWEEP", "FULL", "PLAN_NAMES"]

FOCAL_SWEEP = "focal-sweep"
MOVEMENT_SWEEP = "movement-sweep"
FRAMING_SWEEP = "framing-sweep"
FULL = "full"
#: Every plan of the catalogue, in the order ``full`` plays them.
PLAN_NAMES = (FOCAL_SWEEP, MOVEMENT_SWEEP, FRAMING_SWEEP, FULL)


def _frozen(values: Mapping[str, Any]) -> Mapping[str, Any]:
    return MappingProxyType(dict(values))


@dataclass(frozen=True)
class PlannedTake:
    """One take of a plan (the module docstring). ``index`` counts from 0 within ``plan``;
    ``value`` is a number in ``unit`` or a name (``unit`` None); ``duration_s`` is the planned
    shot, s, from the move's first key to its last (a static take's hold)."""

    plan: str
    index: int
    parameter: str
    value: Union[float, str]
    unit: Optional[str]
    duration_s: float
    instruction: str
    fixed: Mapping[str, Any] = field(default_factory=dict)
    settings: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "fixed", _frozen(self.fixed))
        object.__setattr__(self, "settings", _frozen(self.settings))

    @property
    def value_text(self) -> str:
        """The value as the crew says it: ``50 mm``, ``dolly_in``, ``MCU``."""
        if self.unit is None:
            return str(self.value)
        return f"{self.value:g} {self.unit}"

    def to_document(self, seed: Optional[int], instruction: Optional[str] = None) -> Dict[str, Any]:
        """The ``plan`` object of a take's ``take.json``: ``name``, ``index``, ``parameter``,
        ``value``, ``unit``, ``fixed``, ``settings``, ``duration_s``, ``seed`` (None on a real
        stage) and ``instruction`` (``instruction`` replaces the crew's line, e.g. with what the
        simulated stage shot)."""
        return {
            "name": self.plan,
            "index": int(self.index),
            "parameter": self.parameter,
            "value": self.value,
            "unit": self.unit,
            "fixed": dict(self.fixed),
            "settings": dict(self.settings),
            "duration_s": float(self.duration_s),
            "seed": None if seed is None else int(seed),
            "instruction": self.instruction if instruction is None else str(instruction),
        }
