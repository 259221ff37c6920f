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


def test_a_rig_hands_on_slices_and_sweeps_by_sensor_name():
    """SensorRig passes ``on_lidar_slice`` through: packets over UDP come back as slices of the
    configured size, named by their sensor, alongside the whole sweeps."""
    import socket

    from config import load_rig
    from sensors.rig import SensorRig
    from sensors.lidar.velodyne import block_azimuths_deg, encode_packet, timestamp_us_of

    model = LidarModel.VLP16
    rig = load_rig({"lidars": [{"name": "roof", "port": 0, "slice_ms": 5.0}], "telemetry": []})
    slices, sweeps = [], []
    period_ns = packet_period_ns(model)
    count = 3 * int(1e8 / period_ns)  # three turns
    t0_ns = time.time_ns()
    with SensorRig(rig, include_camera=False, on_lidar_slice=lambda n, c: slices.append((n, c)),
                   on_cloud=lambda n, c: sweeps.append((n, c))) as sensors:
        driver = sensors.get("roof").driver
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as tx:
            for p in range(count):
                payload = encode_packet(model, block_azimuths_deg(model, 10.0, p), np.full((12, 32), 5.0),
                                        np.full((12, 32), 9), timestamp_us_of(t0_ns + p * period_ns))
                tx.sendto(payload, ("127.0.0.1", driver.port))
                if p % 16 == 15:  # keep a burst within the socket buffer
                    assert wait_for(lambda sent=p: driver.stats.received > sent - 8, timeout_s=2.0)
            assert wait_for(lambda: driver.stats.received == count, timeout_s=4.0)
    assert driver.packets_decoded == count and driver.points_decoded == count * 384
    assert {n for n, _ in slices} == {n for n, _ in sweeps} == {"roof"}
    assert len(sweeps) >= 2 and max(len(c) for _, c in slices) == 4 * 384
    assert sum(len(c) for _, c in slices) >= count * 384 - 4 * 384  # all but a slice still filling


class _SlowSim:
    """A VelodyneSim that takes twice as long to ray-cast as the packets it casts last."""

    def __init__(self, sim: VelodyneSim) -> None:
        self._sim = sim
        self.config, self.epoch_ns = sim.config, sim.epoch_ns
        self.times = {}  # payload -> the master time it is due on the wire

    def packet_indices_between(self, start_ns, end_ns):
        return self._sim.packet_indices_between(start_ns, end_ns)

    def packets_between(self, start_ns, end_ns):
        time.sleep(2 * (end_ns - start_ns) / 1e9)
        chunk = self._sim.packets_between(start_ns, end_ns)
        self.times.update((payload, send_ns) for send_ns, payload in chunk)
        return chunk


def test_a_sender_too_slow_for_real_time_skips_packets_instead_of_sending_them_late():
    import socket

    config = lidar_config(LidarModel.VLP16)
    epoch_ns = time.time_ns()
    sim = _SlowSim(VelodyneSim(config, BoxStage(epoch_ns), epoch_ns, seed=1))
    lateness = []
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as rx:
        rx.bind(("127.0.0.1", 0))
        rx.settimeout(0.05)
        with VelodyneSender(sim, "127.0.0.1", rx.getsockname()[1], max_lag_ns=25_000_000) as sender:
            stop = time.monotonic() + 1.5
            while time.monotonic() < stop:
                try:
                    payload = rx.recv(2048)
                except socket.timeout:
                    continue
                lateness.append(time.time_ns() - sim.times[payload])
    assert sender.skipped > 0 and 0 < len(lateness) <= sender.sent
    # What went out went out on time (25 ms allowed, plus a scheduler's wake-up on a busy box).
    assert max(lateness) < 25_000_000 + 15_000_000, max(lateness)
