"""The simulated stage as the synchronizer's tests drive it: :mod:`tests.harness.replay` (the sensor
sims' pure paths, decoded by the real drivers, replayed in host-arrival order into a
:class:`~edge.sync.Synchronizer` with a pinned clock), re-exported for the tests here.
"""

from __future__ import annotations

from tests.harness.replay import (
    EPOCH_NS,
    Event,
    SphereStage,
    StageRun,
    build_run,
    feed,
    moving_shot,
    replay,
    rig_config,
    sync_config,
)
from sensors.vocabulary import NS_PER_MS, NS_PER_S


def ms(ns: float) -> float:
    return float(ns) / NS_PER_MS


__all__ = [
    "EPOCH_NS",
    "NS_PER_S",
    "Event",
    "SphereStage",
    "StageRun",
    "build_run",
    "feed",
    "moving_shot",
    "ms",
    "replay",
    "rig_config",
    "sync_config",
]
