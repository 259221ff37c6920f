"""LiDAR slices: a few packets at a time, exactly the points and times of the sweeps, sweeps as
velodyne-decoder's own stream decoder cuts them."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from config.models import LidarModel
from sensors.lidar.driver import CUT_AZIMUTH_DEG, VelodyneDriver
from sensors.lidar.slices import packets_per_slice
from sensors.lidar.velodyne import (
    MIN_RANGE_M,
    PACKET_BYTES,
    block_azimuths_deg,
    encode_packet,
    firing_schedule,
    laser_table,
    packet_period_ns,
    timestamp_us_of,
)
from tests.sensors.lidar._support import MODELS, lidar_config

_START_NS = 1_767_261_600_000_000_000 + 59 * 60 * 10**9 + 59 * 10**9 + 800_000_000  # 0.2 s before an hour
_LATENCY_NS = 1_500_000
_HOUR_NS = 3_600_000_000_000


def _stream(model: LidarModel, packets, seed: int = 0, all_return: bool = False):
    """Packets ``packets`` (indices from the head at azimuth 0) of a head spinning at 10 Hz.

    Distances are random, with no-returns, returns in the blind zone and beyond range unless
    ``all_return``. Returns (host arrival ns, payload, distances (12,32)) per packet."""
    rng = np.random.default_rng([seed, 0x511CE])
    out = []
    for p in packets:
        sensor_ns = _START_NS + int(p) * packet_period_ns(model)
        if all_return:
            distance = np.full((12, 32), 7.5)
        else:
            distance = rng.uniform(0.05, 120.0, (12, 32))
            distance[rng.random((12, 32)) < 0.2] = np.inf
            # Nothing within a centimetre of the range limits, where float rounding decides.
            for limit_m in (MIN_RANGE_M, 100.0):
                near = np.abs(distance - limit_m) < 0.01
                distance[near] += 0.02
        reflectivity = rng.integers(0, 256, (12, 32))
        payload = encode_packet(model, block_azimuths_deg(model, 10.0, int(p)), distance, reflectivity,
                                timestamp_us_of(sensor_ns))
        host_ns = sensor_ns + _LATENCY_NS + int(rng.integers(0, 50_000))
        out.append((host_ns, payload, distance))
    return out


def _run(model, stream, **config):
    slices, sweeps, events = [], [], []
    driver = VelodyneDriver(
        lidar_config(model, **config),
        on_slice=lambda c: (slices.append(c), events.append(("slice", len(events)))),
        on_cloud=lambda c: (sweeps.append(c), events.append(("cloud", len(events)))),
        on_stamp=lambda s, h: events.append(("stamp", h)),
    )
    for host_ns, payload, _ in stream:
        driver.decode_datagram(payload, host_ns)
    return driver, slices, sweeps, events


def _referee_sweeps(model, stream):
    """velodyne-decoder's StreamDecoder over the same packets, cut at the same azimuth:
    (xyz, intensity, ring, t_ns) per sweep, the first (partial) one left out as the driver does."""
    import velodyne_decoder as vd

    resolution = laser_table(model).distance_resolution_m
    decoder = vd.StreamDecoder(vd.Config(
        model=vd.Model.VLP16 if model is LidarModel.VLP16 else vd.Model.VLP32C,
        min_range=MIN_RANGE_M - resolution, max_range=100.0 + resolution,
        cut_angle=CUT_AZIMUTH_DEG, timestamp_first_packet=True,
    ))
    base_ns = stream[0][0] - stream[0][0] % _HOUR_NS
    out = []
    for host_ns, payload, _ in stream:
        result = decoder.decode((host_ns - base_ns) / 1e9, payload, False)
        if result is None:
            continue
        stamp, points = result
        points = np.asarray(points, dtype=np.float32).reshape(-1, 8)
        first_ns = base_ns + int(round(stamp.device * 1e6)) * 1000
        t_ns = first_ns + np.rint(points[:, 4].astype(np.float64) * 1e9).astype(np.int64)
        out.append((points[:, 0:3], points[:, 3], points[:, 6].astype(np.uint16), t_ns))
    return out[1:]


def _concat(clouds):
    return (np.concatenate([c.xyz_m for c in clouds]), np.concatenate([c.intensity for c in clouds]),
            np.concatenate([c.ring for c in clouds]), np.concatenate([c.t_ns for c in clouds]))


@pytest.mark.parametrize("model", MODELS)
def test_sweeps_are_the_stream_decoders_sweeps(model):
    """Referee: the same packets in each sweep, the same points, times within float32's 0.1 s
    resolution of the referee's (it keeps offsets from the sweep's start; the driver is exact)."""
    per_turn = int(1e8 / packet_period_ns(model))
    # Three and a half turns, a 0.4 s gap (the sensor paused), two more turns; crosses the hour.
    packets = list(range(37, 37 + 7 * per_turn // 2)) + list(range(37 + 7 * per_turn, 37 + 9 * per_turn))
    stream = _stream(model, packets, seed=1)
    driver, _, sweeps, _ = _run(model, stream)
    referee = _referee_sweeps(model, stream)
    assert len(sweeps) == len(referee) >= 4 and driver.partial_sweeps == 1
    for cloud, (xyz, intensity, ring, t_ns) in zip(sweeps, referee):
        assert len(cloud) == len(xyz)
        assert np.array_equal(cloud.xyz_m, xyz) and np.array_equal(cloud.intensity, intensity)
        assert np.array_equal(cloud.ring, ring)
        assert np.max(np.abs(cloud.t_ns - t_ns)) <= 8
    assert any(c.t_ns.min() % _HOUR_NS > _HOUR_NS // 2 > c.t_ns.max() % _HOUR_NS for c in sweeps)


@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("slice_ms", [0.0, 5.0, 12.0])
def test_slices_hold_exactly_the_points_and_times_of_the_sweeps(model, slice_ms):
    per_turn = int(1e8 / packet_period_ns(model))
    stream = _stream(model, range(11, 11 + 4 * per_turn), seed=2)
    driver, slices, sweeps, _ = _run(model, stream, slice_ms=slice_ms)
    assert len(sweeps) >= 2
    first_ns, last_ns = sweeps[0].t_ns.min(), sweeps[-1].t_ns.max()
    inside = [s for s in slices if s.t_ns.min() >= first_ns and s.t_ns.max() <= last_ns]
    for got, want in zip(_concat(inside), _concat(sweeps)):
        assert got.dtype == want.dtype and np.array_equal(got, want)
    # No slice straddles two sweeps, and the slices before the first sweep end where it begins.
    bounds = [(c.t_ns.min(), c.t_ns.max()) for c in sweeps]
    for s in slices:
        assert s.t_ns.max() < first_ns or s.t_ns.min() > last_ns or any(
            lo <= s.t_ns.min() and s.t_ns.max() <= hi for lo, hi in bounds)
    assert driver.slices == len(slices)
    assert driver.points_in_sweeps == sum(len(c) for c in sweeps)


@pytest.mark.parametrize("model, slice_ms, packets", [
    (LidarModel.VLP16, 5.0, 4), (LidarModel.VLP32C, 5.0, 8), (LidarModel.VLP16, 0.0, 1), (LidarModel.VLP16, 20.0, 15),
])
def test_a_slice_is_every_n_packets_with_exact_per_point_times(model, slice_ms, packets):
    assert packets_per_slice(model, slice_ms) == packets
    per_turn = int(1e8 / packet_period_ns(model))
    stream = _stream(model, range(3 * per_turn), all_return=True)
    driver, slices, sweeps, events = _run(model, stream, slice_ms=slice_ms)
    records = 12 * 32
    sizes = [len(s) // records for s in slices]
    assert all(len(s) % records == 0 for s in slices)
    # Every slice holds n packets, but the last of a sweep, which ends with the sweep.
    assert sizes.count(packets) >= len(sizes) - len(sweeps) - 1 and max(sizes) == packets
    period_ns = packet_period_ns(model)
    offsets = np.sort(firing_schedule(model, 10.0, 0)[0].reshape(-1))
    fed = 0
    for s, n in zip(slices, sizes):
        first_packet = int(np.rint((s.t_ns.min() - _START_NS) / period_ns))
        # Each packet's first firing as its timestamp carries it (whole us), plus the firing offsets.
        expected = np.concatenate([(_START_NS + p * period_ns + 500) // 1000 * 1000 + offsets
                                   for p in range(first_packet, first_packet + n)])
        assert np.array_equal(np.sort(s.t_ns), np.sort(expected))  # exact to the ns
        # Stamped with the arrival of its last packet, the one it was handed on with.
        fed = first_packet + n
        assert s.stamp.host_ns == stream[fed - 1][0] and s.stamp.sensor_ns == s.t_ns.min()
    # Each packet's stamp pair is heard before the slice it completes, the slice before the sweep.
    kinds = [k for k, _ in events]
    assert kinds[0] == "stamp" and all(a == "stamp" for a, b in zip(kinds, kinds[1:]) if b == "slice")
    assert all(a == "slice" for a, b in zip(kinds, kinds[1:]) if b == "cloud")
    assert driver.packets_decoded == len(stream) and driver.points_decoded == len(stream) * records


def test_counts_of_packets_and_points_decoded():
    model = LidarModel.VLP16
    stream = _stream(model, range(500), seed=3)
    returned = 0
    driver = VelodyneDriver(lidar_config(model))
    for i, (host_ns, payload, distance) in enumerate(stream):
        returned += int(np.count_nonzero((distance >= MIN_RANGE_M) & (distance <= 100.0)))
        driver.decode_datagram(payload, host_ns)
        if i % 50 == 0:
            driver.decode_datagram(payload[:-1], host_ns)  # a bad one: counted dropped, not decoded
    assert driver.packets_decoded == 500 == driver.stats.decoded and driver.stats.drops("length") == 10
    assert driver.points_decoded == returned


_GOOD = [p for _, p, _ in _stream(LidarModel.VLP16, range(200), seed=4)]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.one_of(
    st.integers(0, len(_GOOD) - 1).map(lambda i: _GOOD[i]),  # valid packets, in any order
    st.binary(min_size=PACKET_BYTES, max_size=PACKET_BYTES),
    st.tuples(st.integers(0, len(_GOOD) - 1), st.integers(0, PACKET_BYTES - 1), st.integers(0, 255)).map(
        lambda v: _GOOD[v[0]][:v[1]] + bytes([v[2]]) + _GOOD[v[0]][v[1] + 1:]),
), min_size=1, max_size=120), st.sampled_from([0.0, 5.0, 30.0]))
def test_any_packets_in_any_order_slice_without_escaping(payloads, slice_ms):
    slices, sweeps = [], []
    driver = VelodyneDriver(lidar_config(LidarModel.VLP16, slice_ms=slice_ms), on_slice=slices.append,
                            on_cloud=sweeps.append)
    for i, payload in enumerate(payloads):
        driver.decode_datagram(payload, _START_NS + i * 1_327_104)
    assert driver.packets_decoded == driver.stats.decoded
    assert driver.stats.received == driver.stats.decoded + driver.stats.dropped == len(payloads)
    in_slices = sum(len(s) for s in slices)
    assert in_slices <= driver.points_decoded and sum(len(c) for c in sweeps) <= in_slices
    assert all(s.t_ns.dtype == np.int64 and s.xyz_m.shape == (len(s), 3) for s in slices)


def test_a_head_that_does_not_turn_still_ends_its_sweeps():
    """The same packet again and again (a stuck sender): no sweep grows past 0.3 s of packets."""
    model = LidarModel.VLP16
    _, payload, _ = _stream(model, [5], all_return=True)[0]
    sweeps = []
    driver = VelodyneDriver(lidar_config(model), on_cloud=sweeps.append)
    for i in range(1000):
        driver.decode_datagram(payload, _START_NS + i * packet_period_ns(model))
    most = 300_000_000 // packet_period_ns(model) + 1
    assert driver.sweeps + driver.partial_sweeps == 1000 // most and all(len(c) == most * 384 for c in sweeps)
