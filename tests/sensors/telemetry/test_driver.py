"""FreeD driver without the sim: datagram decoding, drop counting, counter unwrapping, ports."""

from __future__ import annotations

import socket

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from sensors.errors import PortInUseError
from sensors.telemetry.driver import FreedDriver
from sensors.telemetry.freed import FreedD1, encode_d1
from sensors.vocabulary import pan_tilt_roll_from_rotation, quat_to_matrix
from tests.sensors.telemetry.support import free_udp_port, property_settings, sim_stage_config, wait_for

PERIOD_NS = 10_000_000  # 100 Hz
PER_PACKET_REASONS = ("length", "type", "checksum", "camera_id", "reordered")


def _packet(counter: int = 0, camera_id: int = 1, **fields) -> bytes:
    values = dict(pan_deg=30.0, tilt_deg=-5.0, roll_deg=1.0, x_mm=1000.0, y_mm=-250.5, z_mm=1500.0,
                  zoom_raw=32768, focus_raw=1000)
    values.update(fields)
    return encode_d1(FreedD1(camera_id=camera_id, spare=counter % 65536, **values))


def _feed(driver: FreedDriver, counters, t0_ns: int = 10**18):
    return [driver.decode_datagram(_packet(c), t0_ns + i * PERIOD_NS) for i, c in enumerate(counters)]


def test_a_datagram_becomes_a_sample_in_onset_convention(telemetry_config):
    seen = []
    driver = FreedDriver(telemetry_config, on_sample=seen.append)
    sample = driver.decode_datagram(_packet(7), host_ns=123)
    assert seen == [sample] and driver.latest() is sample
    assert sample.camera_id == 1 and sample.counter == 7
    assert sample.pan_deg == 60.0  # FreeD 30 deg to the right of +Y = 60 deg left of +x
    assert (sample.tilt_deg, sample.roll_deg) == (-5.0, 1.0)
    np.testing.assert_allclose(sample.position_m, [1.0, -0.2505, 1.5])
    assert (sample.zoom_raw, sample.focus_raw) == (32768, 1000)
    assert sample.lens.focal_length_mm == pytest.approx(18.0 + 62.0 * 32768 / 65535)
    assert sample.lens.focus_distance_m == pytest.approx(0.5 + 49.5 * 1000 / 65535)
    assert sample.stamp.host_ns == 123 and sample.stamp.sensor_ns == 0
    pose = driver.pose_of(sample)
    assert pose.t_ns == 123
    np.testing.assert_allclose(pose.position_m, sample.position_m)
    pan, tilt, roll = pan_tilt_roll_from_rotation(quat_to_matrix(pose.orientation_xyzw))
    assert (pan, tilt, roll) == pytest.approx((60.0, -5.0, 1.0))
    snap = driver.stats.snapshot()
    assert (snap.received, snap.decoded, snap.dropped) == (1, 1, 0)


def test_the_stop_the_crew_set_is_in_every_lens_state(telemetry_config):
    assert FreedDriver(telemetry_config).decode_datagram(_packet(1), host_ns=1).lens.t_stop is None
    set_stop = telemetry_config.model_copy(update={"lens": telemetry_config.lens.model_copy(update={"t_stop": 4.0})})
    assert FreedDriver(set_stop).decode_datagram(_packet(1), host_ns=1).lens.t_stop == 4.0


def test_bad_datagrams_are_counted_by_reason(telemetry_config):
    driver = FreedDriver(telemetry_config)
    good = _packet(1)
    bad = [b"", good[:28], good + b"\x00", good * 2, b"\xd0" + good[1:], good[:-1] + bytes([good[-1] ^ 1])]
    assert all(driver.decode_datagram(p, 1) is None for p in bad)
    assert driver.latest() is None
    stats = driver.stats
    assert (stats.received, stats.decoded) == (6, 0)
    assert (stats.drops("length"), stats.drops("type"), stats.drops("checksum")) == (4, 1, 1)
    assert "checksum" in str(driver.last_error)


def test_another_cameras_packets_are_dropped(telemetry_config):
    driver = FreedDriver(telemetry_config)
    assert driver.decode_datagram(_packet(1, camera_id=2), 1) is None
    assert driver.stats.drops("camera_id") == 1


def test_counter_gives_sensor_time_and_unwraps(telemetry_config):
    driver = FreedDriver(telemetry_config)
    samples = _feed(driver, range(65530, 65540))  # wraps 65535 -> 0
    assert [s.counter for s in samples] == [c % 65536 for c in range(65530, 65540)]
    assert [s.stamp.sensor_ns for s in samples] == [i * PERIOD_NS for i in range(10)]
    assert driver.stats.dropped == 0


def test_gaps_count_lost_packets_and_keep_sensor_time(telemetry_config):
    driver = FreedDriver(telemetry_config)
    samples = _feed(driver, [10, 11, 15, 16])
    assert driver.stats.drops("lost") == 3
    assert samples[2].stamp.sensor_ns == 5 * PERIOD_NS


def test_duplicates_and_late_packets_count_as_reordered(telemetry_config):
    driver = FreedDriver(telemetry_config)
    samples = _feed(driver, [1, 2, 4, 3, 4, 5])
    assert samples[3] is None and samples[4] is None
    assert driver.stats.drops("reordered") == 2 and driver.stats.drops("lost") == 1
    assert samples[5].stamp.sensor_ns == 4 * PERIOD_NS
    assert driver.stats.decoded == 4


def test_a_restarted_sender_is_followed_not_dropped(telemetry_config):
    driver = FreedDriver(telemetry_config)
    samples = _feed(driver, [5000, 5001, 0, 1, 2])  # the tracking system rebooted
    assert all(s is not None for s in samples)
    assert driver.counter_resets == 1
    assert driver.stats.drops("reordered") == 0 and driver.stats.drops("lost") == 0
    assert [s.stamp.sensor_ns for s in samples] == [i * PERIOD_NS for i in range(5)]
    # A forward jump the elapsed host time cannot explain is a restart too, not 30000 lost packets.
    _feed(driver, [30000], t0_ns=10**18 + 5 * PERIOD_NS)
    assert driver.counter_resets == 2 and driver.stats.drops("lost") == 0


def test_a_long_outage_counts_its_lost_packets(telemetry_config):
    driver = FreedDriver(telemetry_config)
    driver.decode_datagram(_packet(100), 10**18)
    sample = driver.decode_datagram(_packet(600), 10**18 + 5 * 10**9)
    assert driver.stats.drops("lost") == 499 and driver.counter_resets == 0
    assert sample.stamp.sensor_ns == 500 * PERIOD_NS


def test_spare_that_is_not_a_counter_is_ignored(telemetry_config):
    driver = FreedDriver(telemetry_config, spare_is_counter=False)
    samples = _feed(driver, [0xBEEF, 0xBEEF, 3, 60000])
    assert all(s.counter is None for s in samples)
    # Stamped on the device's schedule by arrival (tests/sensors/telemetry/test_schedule.py), not by the spare bytes.
    assert [s.stamp.sensor_ns for s in samples] == [i * PERIOD_NS for i in range(4)]
    snap = driver.stats.snapshot()
    assert (snap.decoded, snap.dropped) == (4, 0)


def test_the_counter_follows_the_config_unless_told(telemetry_config):
    assert FreedDriver(telemetry_config).spare_is_counter is True
    real = telemetry_config.model_copy(update={"spare_is_counter": False})
    assert FreedDriver(real).spare_is_counter is False
    assert FreedDriver(real, spare_is_counter=True).spare_is_counter is True


def _datagrams():
    valid = st.builds(
        lambda cam, spare, pan, x, zoom: _packet(spare, camera_id=cam, pan_deg=pan, x_mm=x, zoom_raw=zoom),
        st.sampled_from([1, 1, 1, 2]),
        st.integers(0, 65535),
        st.floats(-180.0, 180.0),
        st.floats(-1e5, 1e5),
        st.integers(0, (1 << 24) - 1),
    )
    truncated = st.tuples(valid, st.integers(0, 28)).map(lambda v: v[0][: v[1]])
    oversized = st.tuples(valid, st.binary(min_size=1, max_size=64)).map(lambda v: v[0] + v[1])
    flipped = st.tuples(valid, st.integers(0, 28), st.integers(1, 255)).map(
        lambda v: v[0][: v[1]] + bytes([v[0][v[1]] ^ v[2]]) + v[0][v[1] + 1:]
    )
    return st.one_of(valid, truncated, oversized, flipped, st.binary(max_size=100))


@property_settings(max_examples=150)
@given(st.lists(st.tuples(_datagrams(), st.integers(0, 10**12)), max_size=40), st.booleans())
def test_no_datagram_escapes_and_every_bad_one_is_counted(datagrams, spare_is_counter):
    driver = FreedDriver(sim_stage_config(), spare_is_counter=spare_is_counter)
    decoded = 0
    for payload, host_ns in datagrams:
        sample = driver.decode_datagram(payload, host_ns)
        if sample is not None:
            decoded += 1
            assert np.all(np.isfinite(sample.position_m)) and sample.lens is not None
    stats = driver.stats
    assert stats.received == len(datagrams) and stats.decoded == decoded
    assert decoded + sum(stats.drops(r) for r in PER_PACKET_REASONS) == len(datagrams)


def _port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def test_binds_loopback_and_decodes_what_arrives():
    driver = FreedDriver(sim_stage_config(port=free_udp_port()))
    assert _port_is_free(driver.port)  # nothing bound before start
    with driver, socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as tx:
        assert not _port_is_free(driver.port)
        for counter in range(5):
            tx.sendto(_packet(counter), ("127.0.0.1", driver.port))
        tx.sendto(b"garbage", ("127.0.0.1", driver.port))
        assert wait_for(lambda: driver.stats.received == 6)
    assert _port_is_free(driver.port)  # released on close
    assert driver.stats.decoded == 5 and driver.stats.drops("length") == 1
    assert driver.latest().counter == 4


def test_a_second_driver_on_the_same_port_is_refused_by_name():
    config = sim_stage_config(name="crane", port=free_udp_port())
    with FreedDriver(config) as first:
        with pytest.raises(PortInUseError) as info:
            FreedDriver(config).start()
        assert f"127.0.0.1:{first.port}" in str(info.value) and "crane" in str(info.value)
