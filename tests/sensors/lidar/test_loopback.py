"""Sim and driver over real UDP on 127.0.0.1, in real time."""

from __future__ import annotations

import time

import numpy as np
import pytest

from config.models import LidarModel
from sensors.lidar.driver import VelodyneDriver
from sensors.lidar.sim import VelodyneSender, VelodyneSim
from sensors.lidar.velodyne import packet_period_ns
from tests.sensors.lidar._support import BoxStage, any_port, lidar_config
from tests.polling import wait_for


def test_sim_to_driver_over_udp_for_a_second():
    clouds = []
    config = any_port(lidar_config(LidarModel.VLP16))
    with VelodyneDriver(config, on_cloud=clouds.append) as driver:
        epoch_ns = time.time_ns()
        sim = VelodyneSim(config, BoxStage(epoch_ns), epoch_ns, seed=1)
        with VelodyneSender(sim, "127.0.0.1", driver.port) as sender:
            assert wait_for(lambda: driver.sweeps >= 9, timeout_s=8.0), (driver.sweeps, sender.sent)
        elapsed_s = (time.time_ns() - epoch_ns) / 1e9
        assert wait_for(lambda: driver.stats.received == sender.sent, timeout_s=2.0)
    snap = driver.stats.snapshot()
    assert snap.dropped == 0 and sender.send_errors == 0 and sender.skipped == 0
    # Real time: about one packet per packet period, no faster (packets leave at their firing times).
    assert sender.sent <= elapsed_s * 1e9 / packet_period_ns(LidarModel.VLP16) + 2
    assert all(len(c) // 384 in (75, 76) and len(c) % 384 == 0 for c in clouds)
    # Sweeps come 0.1 s apart on the sensor clock and arrive about as far apart on the host.
    starts = np.array([c.stamp.sensor_ns for c in clouds])
    arrivals = np.array([c.stamp.host_ns for c in clouds])
    assert np.all(np.abs(np.diff(starts) - 100_000_000) < 1_500_000)
    assert np.median(np.diff(arrivals)) == pytest.approx(1e8, rel=0.05)
    # The clock fit sees the sensor clock 1.2 ms behind, plus the 1.3 ms a packet takes to fill.
    assert snap.clock is not None and 2.3 < snap.clock.offset_ms < 30.0
