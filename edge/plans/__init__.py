"""Capture plans: take series that vary one cinematic parameter while the rest stay fixed.

:func:`plan_takes` gives a plan's takes (:mod:`edge.plans.catalogue`: ``focal-sweep``,
``movement-sweep``, ``framing-sweep``, ``full``), each a :class:`PlannedTake` a crew can read;
:func:`stage_take` turns one into the simulated stage's profile (:mod:`edge.plans.sim`), and
:class:`PlanRunner` records it through a real edge node (:mod:`edge.plans.runner`), the plan
named in the take's ``take.json`` (checked by :func:`check_take`, :mod:`edge.plans.check`). ``onset plan ls|show|run`` (``edge/cli/plan_cmd.py``) drives
them; ``docs/plans.md`` says what each plan shoots.
"""

from __future__ import annotations

from edge.plans.catalogue import (
    FOCAL_LENGTHS_MM,
    MIN_MOVE_S,
    MOVEMENT_FOCAL_MM,
    PLAN_DESCRIPTIONS,
    approximate_focal_mm,
    plan_takes,
)
from edge.plans.check import check_take
from edge.plans.errors import PlanError, PlanRunError, PlanTakeError, TakeCheckError, UnknownPlanError
from edge.plans.runner import PlanRunner, TakeOutcome
from edge.plans.sim import DEFAULT_LEAD_S, StagedTake, stage_take, zoom_range_mm
from edge.plans.types import FOCAL_SWEEP, FRAMING_SWEEP, FULL, MOVEMENT_SWEEP, PLAN_NAMES, PlannedTake

__all__ = [
    "DEFAULT_LEAD_S",
    "FOCAL_LENGTHS_MM",
    "FOCAL_SWEEP",
    "FRAMING_SWEEP",
    "FULL",
    "MIN_MOVE_S",
    "MOVEMENT_FOCAL_MM",
    "MOVEMENT_SWEEP",
    "PLAN_DESCRIPTIONS",
    "PLAN_NAMES",
    "PlanError",
    "PlanRunner",
    "PlanRunError",
    "PlanTakeError",
    "PlannedTake",
    "StagedTake",
    "TakeCheckError",
    "TakeOutcome",
    "UnknownPlanError",
    "approximate_focal_mm",
    "check_take",
    "plan_takes",
    "stage_take",
    "zoom_range_mm",
]
