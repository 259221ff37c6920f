"""The simulated Velodyne against its own ground truth, decoded by the driver (velodyne-decoder inside)."""

from __future__ import annotations

import numpy as np
import pytest

from config.models import ClockConfig, LidarModel
from sensors.lidar.driver import VelodyneDriver
from sensors.lidar.sim import VelodyneSim
from sensors.lidar.velodyne import last_firing_offset_ns, packet_period_ns, parse_packet_header, timestamp_us_of
from tests.sensors.lidar._support import (
    EPOCH_NS,
    MODELS,
    azimuth_deg,
    laser_origins,
    lidar_config,
    match_truth,
)

_WINDOW_NS = 420_000_000  # four rotations at 10 Hz; the hour wraps 0.2 s in


def _decode(sim: VelodyneSim, packets):
    driver = VelodyneDriver(sim.config)
    clouds = [c for send_ns, payload in packets for c in [driver.decode_datagram(payload, send_ns)] if c is not None]
    return driver, clouds


@pytest.fixture(scope="module", params=[(m, s) for s in ("box", "real") for m in MODELS],
                ids=lambda p: f"{p[0].value}-{p[1]}")
def decoded(request):
    model, stage_name = request.param
    stage = request.getfixturevalue("box_stage" if stage_name == "box" else "real_stage")
    sim = VelodyneSim(lidar_config(model), stage, EPOCH_NS, seed=3)
    packets, truth = sim.simulate_between(EPOCH_NS, EPOCH_NS + _WINDOW_NS)
    driver, clouds = _decode(sim, packets)
    return sim, packets, truth, driver, clouds


def test_points_match_ground_truth(decoded):
    """Acceptance: every decoded point within 1 cm in range and 0.05 deg in azimuth of the true hit,
    at the true firing time on the sensor clock (within 1 us), on the right ring."""
    sim, packets, truth, driver, clouds = decoded
    assert len(clouds) >= 3 and driver.stats.dropped == 0
    covered = np.zeros(len(truth), dtype=bool)
    for cloud in clouds:
        index = match_truth(cloud, truth)
        assert np.all(index >= 0) and np.unique(index).size == len(cloud)  # one firing per point
        covered[index] = True
        assert np.all(truth.returned[index])
        dt_ns = cloud.t_ns - truth.t_sensor_ns[index]
        assert np.max(np.abs(dt_ns)) < 1000
        assert np.array_equal(cloud.ring, truth.ring[index].astype(np.uint16))
        range_m = np.linalg.norm(cloud.xyz_m - laser_origins(sim.model, truth.laser[index]), axis=1)
        assert np.max(np.abs(range_m - truth.range_m[index])) < 0.01
        daz = (azimuth_deg(cloud.xyz_m) - truth.azimuth_deg[index] + 180.0) % 360.0 - 180.0
        assert np.max(np.abs(daz)) < 0.05
        assert np.max(np.linalg.norm(cloud.xyz_m - truth.point_lidar_m[index], axis=1)) < 0.01
        # Each sweep holds every return of whole packets.
        packets_in = np.unique(truth.packet_index[index])
        assert np.array_equal(packets_in, np.arange(packets_in[0], packets_in[-1] + 1))
        assert len(cloud) == int(truth.returned[np.isin(truth.packet_index, packets_in)].sum())
    # The sweeps follow one another without a gap.
    first_packets = [int(truth.packet_index[match_truth(c, truth)].min()) for c in clouds]
    last_packets = [int(truth.packet_index[match_truth(c, truth)].max()) for c in clouds]
    assert all(b == a + 1 for a, b in zip(last_packets, first_packets[1:]))


def test_sweeps_cross_the_top_of_the_hour(decoded):
    sim, _, _, driver, clouds = decoded
    hour_ns = 3_600_000_000_000
    # Times keep increasing through the hour wrap of the packets' past-the-hour stamps.
    assert any(c.t_ns.min() % hour_ns > hour_ns / 2 and c.t_ns.max() % hour_ns < hour_ns / 2 for c in clouds)
    for c in clouds:
        assert c.t_ns.max() - c.t_ns.min() < 110_000_000
    # The clock fit saw one continuous sensor clock: 1.2 ms behind, plus the time to fill a packet
    # (and 16 us of mean latency from the 20 us jitter).
    fit = driver.stats.snapshot().clock
    expected_ms = 1.2 + last_firing_offset_ns(sim.model) / 1e6 + 0.016
    assert fit is not None and fit.jitter_ms < 0.05 and fit.offset_ms == pytest.approx(expected_ms, abs=0.02)
    assert fit.drift_ppm == pytest.approx(-35.0, abs=10.0)  # 0.4 s of 12 us latency noise


def test_sweep_point_count_in_a_closed_room(box_stage):
    """In a closed room every firing returns: a sweep is whole packets of a full rotation."""
    for model in MODELS:
        sim = VelodyneSim(lidar_config(model), box_stage, EPOCH_NS, seed=3)
        _, clouds = _decode(sim, sim.packets_between(EPOCH_NS, EPOCH_NS + _WINDOW_NS))
        per_rotation = 1e9 / sim.rotation_hz / packet_period_ns(model)
        counts = [len(c) for c in clouds]
        assert len(counts) >= 3
        assert all(n % 384 == 0 and n // 384 in (int(per_rotation), int(per_rotation) + 1) for n in counts), counts


def test_packets_are_sent_after_their_last_firing(box_stage):
    config = lidar_config(LidarModel.VLP16)
    sim = VelodyneSim(config, box_stage, EPOCH_NS, seed=3)
    packets = sim.packets_between(EPOCH_NS, EPOCH_NS + 50_000_000)
    truth = sim.ground_truth_between(EPOCH_NS, EPOCH_NS + 50_000_000)
    last_firing = truth.t_master_ns.reshape(len(packets), -1).max(axis=1)
    latency = np.array([t for t, _ in packets]) - last_firing
    assert np.all(latency >= 0) and np.all(latency <= 5 * config.clock.jitter_ns) and latency.std() > 0
    first_sensor = truth.t_sensor_ns.reshape(len(packets), -1).min(axis=1)
    assert [parse_packet_header(p).timestamp_us for _, p in packets] == list(timestamp_us_of(first_sensor))
    # Without jitter a packet leaves exactly at its last firing.
    calm = VelodyneSim(config.model_copy(update={"clock": ClockConfig(offset_ns=5_000, drift_ppm=80.0)}),
                       box_stage, EPOCH_NS, seed=3)
    calm_packets = calm.packets_between(EPOCH_NS, EPOCH_NS + 20_000_000)
    sensor_last = calm.packet_sensor_ns(np.arange(len(calm_packets))) + last_firing_offset_ns(LidarModel.VLP16)
    assert [t for t, _ in calm_packets] == list(calm.clock.master_ns(sensor_last))


def test_ground_truth_uses_the_pose_at_each_firing(box_stage):
    """Motion distortion is real: each hit is where the LiDAR was when that laser fired."""
    sim = VelodyneSim(lidar_config(LidarModel.VLP16), box_stage, EPOCH_NS, seed=3)
    truth = sim.ground_truth_between(EPOCH_NS, EPOCH_NS + 30_000_000)
    T = box_stage.rig_matrices(truth.t_master_ns) @ sim.T_rig_lidar
    p_lidar = np.concatenate([truth.point_lidar_m, np.ones((len(truth), 1))], axis=1)
    p_stage = np.einsum("nij,nj->ni", T, p_lidar)[:, :3]
    assert np.max(np.linalg.norm(p_stage - truth.point_stage_m, axis=1)) < 1e-5
    # The rig moves 0.8 m/s: a sweep-long time shift would move points by centimetres.
    T_late = box_stage.rig_matrices(truth.t_master_ns + 50_000_000) @ sim.T_rig_lidar
    p_late = np.einsum("nij,nj->ni", T_late, p_lidar)[:, :3]
    assert np.median(np.linalg.norm(p_late - truth.point_stage_m, axis=1)) > 0.03


def test_deterministic_for_a_seed_and_any_window(real_stage):
    config = lidar_config(LidarModel.VLP16)
    a = VelodyneSim(config, real_stage, EPOCH_NS, seed=5).packets_between(EPOCH_NS, EPOCH_NS + 60_000_000)
    b_sim = VelodyneSim(config, real_stage, EPOCH_NS, seed=5)
    b = b_sim.packets_between(EPOCH_NS + 20_000_000, EPOCH_NS + 60_000_000)
    b = b_sim.packets_between(EPOCH_NS, EPOCH_NS + 20_000_000) + b
    assert a == b and len(a) > 40
    other = VelodyneSim(config, real_stage, EPOCH_NS, seed=6).packets_between(EPOCH_NS, EPOCH_NS + 60_000_000)
    assert [p for _, p in other] != [p for _, p in a]


def test_reflectivity_follows_the_stage_albedo(decoded):
    sim, packets, truth, driver, clouds = decoded
    assert all(np.all((c.intensity >= 1) & (c.intensity <= 100)) for c in clouds)
    objects = getattr(sim.stage, "objects", None)
    if objects:  # the real stage names its albedos: reflectivity never exceeds albedo * 100
        albedo = {o.object_id: float(np.mean(o.albedo_rgb)) for o in objects}
        cloud = clouds[0]
        index = match_truth(cloud, truth)
        bound = np.array([albedo[int(i)] for i in truth.object_id[index]]) * 100 + 0.5
        assert np.all(cloud.intensity <= bound)
