"""The Velodyne driver: sweeps, stamps, counted drops, hostile bytes and port conflicts."""

from __future__ import annotations

import struct

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from config.models import LidarModel
from sensors.errors import PortInUseError
from sensors.lidar.driver import VelodyneDriver
from sensors.lidar.errors import LidarPacketError
from sensors.lidar.velodyne import (
    PACKET_BYTES,
    block_azimuths_deg,
    encode_packet,
    packet_period_ns,
    parse_packet_header,
    timestamp_us_of,
)
from tests.sensors.lidar._support import MODELS, any_port, lidar_config

_START_NS = 1_767_261_600_000_000_000 + 5 * 60 * 10**9  # 10:05 UTC
_LATENCY_NS = 2_000_000  # sensor clock 2 ms behind the host


def _stream(model: LidarModel, count: int, first: int = 0, distance_m: float = 6.0):
    """``count`` packets of a head spinning at 10 Hz: (host receive ns, payload)."""
    out = []
    for p in range(first, first + count):
        sensor_ns = _START_NS + p * packet_period_ns(model)
        payload = encode_packet(model, block_azimuths_deg(model, 10.0, p), np.full((12, 32), distance_m),
                                np.full((12, 32), 40), timestamp_us_of(sensor_ns))
        out.append((sensor_ns + _LATENCY_NS, payload))
    return out


_VALID = {m: _stream(m, 4) for m in MODELS}


@pytest.mark.parametrize("model", MODELS)
def test_one_cloud_per_rotation_with_stamps(model):
    clouds = []
    driver = VelodyneDriver(lidar_config(model), on_cloud=clouds.append)
    packets = _stream(model, 4 * int(1e8 / packet_period_ns(model)))
    returned = [driver.decode_datagram(payload, host_ns) for host_ns, payload in packets]
    assert [c for c in returned if c is not None] == clouds and driver.latest() is clouds[-1]
    assert driver.sweeps == len(clouds) >= 2 and driver.partial_sweeps == 1
    lasers = 16 if model is LidarModel.VLP16 else 32
    per_rotation = 1e8 / packet_period_ns(model)  # packets per 0.1 s
    host_by_first_ns = {host_ns - _LATENCY_NS: host_ns for host_ns, _ in packets}
    for cloud in clouds:
        assert len(cloud) % 384 == 0 and len(cloud) // 384 in (int(per_rotation), int(per_rotation) + 1)
        assert cloud.xyz_m.dtype == np.float32 and cloud.xyz_m.shape == (len(cloud), 3)
        assert cloud.ring.dtype == np.uint16 and set(np.unique(cloud.ring)) == set(range(lasers))
        assert cloud.frame_id == "lidar" and np.all(cloud.intensity == 40)
        assert cloud.stamp.sensor_ns == cloud.t_ns.min()
        # Stamped with the host time of the sweep's last packet: the one whose first firing is latest.
        last_first_ns = max(t for t in host_by_first_ns if t <= cloud.t_ns.max())
        assert cloud.stamp.host_ns == host_by_first_ns[last_first_ns]
        assert np.all(np.diff(cloud.t_ns[cloud.ring == 0]) > 0)
    snap = driver.stats.snapshot()
    assert snap.received == snap.decoded == len(packets) and snap.dropped == 0
    assert snap.clock is not None and snap.clock.offset_ms == pytest.approx(_LATENCY_NS / 1e6, abs=0.001)


def test_sweeps_without_returns_are_empty_clouds():
    driver = VelodyneDriver(lidar_config(LidarModel.VLP16))
    packets = _stream(LidarModel.VLP16, 230, distance_m=float("inf"))
    clouds = [c for host_ns, p in packets for c in [driver.decode_datagram(p, host_ns)] if c is not None]
    assert len(clouds) == 2 and all(len(c) == 0 and c.xyz_m.shape == (0, 3) for c in clouds)
    assert clouds[1].stamp.sensor_ns - clouds[0].stamp.sensor_ns == pytest.approx(1e8, abs=1.5e6)
    assert driver.stats.dropped == 0


def test_bad_packets_are_counted_by_reason():
    driver = VelodyneDriver(lidar_config(LidarModel.VLP16))
    good = _VALID[LidarModel.VLP16][0][1]
    bad = {
        "length": [b"", good[:-1], good + b"\0", bytes(65000)],
        "flag": [b"\0" + good[1:]],
        "product": [good[:-1] + b"\x99"],
        "model": [_VALID[LidarModel.VLP32C][0][1]],
        "timestamp": [good[:-6] + struct.pack("<I", 0xFFFFFFFF) + good[-2:]],
        "azimuth": [good[:2] + struct.pack("<H", 65535) + good[4:]],
        "return_mode": [good[:-2] + b"\x00" + good[-1:]],
    }
    for payloads in bad.values():
        for payload in payloads:
            assert driver.decode_datagram(payload, _START_NS) is None
    for reason, payloads in bad.items():
        assert driver.stats.drops(reason) == len(payloads), reason
    assert driver.stats.received == sum(map(len, bad.values())) and driver.stats.decoded == 0
    assert isinstance(driver.last_drop, LidarPacketError)


def _mutations(draw_bytes):
    return st.one_of(
        st.binary(max_size=3 * PACKET_BYTES),  # random
        st.integers(0, PACKET_BYTES - 1).map(lambda n: _VALID[LidarModel.VLP16][1][1][:n]),  # truncated
        st.binary(min_size=1, max_size=4000).map(lambda tail: _VALID[LidarModel.VLP16][1][1] + tail),  # oversized
        st.binary(min_size=PACKET_BYTES, max_size=PACKET_BYTES),  # random, right length
        draw_bytes,  # a valid packet with bytes overwritten
    )


_mutated = st.tuples(
    st.sampled_from([p for _, p in _VALID[LidarModel.VLP16]]),
    st.lists(st.tuples(st.integers(0, PACKET_BYTES - 1), st.integers(0, 255)), min_size=1, max_size=6),
).map(lambda args: bytes(_overwrite(*args)))


def _overwrite(payload: bytes, edits) -> bytearray:
    out = bytearray(payload)
    for index, value in edits:
        out[index] = value
    return out


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_mutations(_mutated), min_size=1, max_size=8))
def test_hostile_bytes_never_escape_and_are_all_counted(payloads):
    driver = VelodyneDriver(lidar_config(LidarModel.VLP16))
    stream = [p for _, p in _VALID[LidarModel.VLP16]]
    for i, payload in enumerate([stream[0], *payloads, *stream[1:]]):
        before_drop, before_ok = driver.stats.dropped, driver.stats.decoded
        driver.decode_datagram(payload, _START_NS + i * 1_000_000)  # must not raise
        try:
            parse_packet_header(payload)
            valid = True
        except LidarPacketError:
            valid = False
        if valid:
            after = (driver.stats.dropped, driver.stats.decoded)
            assert after in ((before_drop, before_ok + 1), (before_drop + 1, before_ok))
        else:
            assert (driver.stats.dropped, driver.stats.decoded) == (before_drop + 1, before_ok)
    snap = driver.stats.snapshot()
    assert snap.received == snap.decoded + snap.dropped == len(payloads) + len(stream)


def test_second_driver_on_the_same_port_is_refused():
    config = any_port(lidar_config(LidarModel.VLP16))
    with VelodyneDriver(config) as first:
        assert first.port != 0
        second = VelodyneDriver(config.model_copy(update={"port": first.port}))
        with pytest.raises(PortInUseError) as info:
            second.start()
        assert f"127.0.0.1:{first.port}" in str(info.value) and config.name in str(info.value)
        second.close()  # closing a driver that never opened is harmless
    # The port is free again once the first driver closed.
    with VelodyneDriver(config.model_copy(update={"port": first.port})) as again:
        assert again.port == first.port
