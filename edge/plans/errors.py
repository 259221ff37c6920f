"""Errors of capture plans: one root, :class:`PlanError`, and what went wrong with which take."""

from __future__ import annotations

__all__ = ["PlanError", "UnknownPlanError", "PlanTakeError", "PlanRunError", "TakeCheckError"]


class PlanError(Exception):
    """Root of every capture-plan error."""


class UnknownPlanError(PlanError, KeyError):
    """A plan name that is not in the catalogue (the message lists the names that are)."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class PlanTakeError(PlanError, ValueError):
    """A planned take that cannot be shot as asked (a window too short, a stage that cannot hold it)."""


class PlanRunError(PlanError):
    """Running a plan on the simulated stage failed outside one take (a profile that is not simulated)."""


class TakeCheckError(PlanError):
    """A recorded planned take whose ``take.json`` is not what the take was started as."""
