"""Shared stages for the simulated-stage tests (built once per session: a stage takes ~0.3 s)."""

from __future__ import annotations

import pytest

from config import load_profile
from config.models import RigConfig, StageConfig
from sensors.sim.stage import Stage

EPOCH_NS = 1_700_000_000_000_000_000


@pytest.fixture(scope="session")
def rig() -> RigConfig:
    return load_profile("sim-stage")


@pytest.fixture(scope="session")
def stage(rig: RigConfig) -> Stage:
    return Stage.from_rig(rig, EPOCH_NS)


@pytest.fixture(scope="session")
def bare_stage() -> Stage:
    """A stage with no dressing: rays from the middle see only floor, walls and actors."""
    return Stage(StageConfig(dressing_count=0), EPOCH_NS)
