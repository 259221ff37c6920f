"""Fixtures of the telemetry tests."""

from __future__ import annotations

import pytest

from config.models import TelemetryConfig
from tests.sensors.telemetry.support import sim_stage_config


@pytest.fixture
def telemetry_config() -> TelemetryConfig:
    return sim_stage_config()
