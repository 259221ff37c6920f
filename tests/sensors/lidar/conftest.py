"""Fixtures of the LiDAR tests: the box-room stage double and the real simulated stage."""

from __future__ import annotations

import pytest

from tests.sensors.lidar._support import EPOCH_NS, BoxStage


@pytest.fixture(scope="session")
def box_stage() -> BoxStage:
    return BoxStage()


@pytest.fixture(scope="session")
def real_stage():
    """The simulated stage of the default profile, switched on at ``EPOCH_NS``."""
    from config import load_profile
    from sensors.sim.stage import Stage

    return Stage.from_rig(load_profile(), EPOCH_NS)
