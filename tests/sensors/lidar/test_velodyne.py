"""The Velodyne packet, laser tables and timing, held against velodyne-decoder as referee."""

from __future__ import annotations

import struct

import numpy as np
import pytest
import velodyne_decoder as vd
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from config.models import LidarModel
from sensors.lidar.errors import (
    AzimuthError,
    BlockFlagError,
    PacketEncodeError,
    PacketLengthError,
    ReturnModeError,
    TimestampError,
    UnknownProductError,
)
from sensors.lidar.velodyne import (
    FIRING_INTERVAL_NS,
    PACKET_BYTES,
    SEQUENCE_NS,
    US_PER_HOUR,
    block_azimuths_deg,
    encode_packet,
    firing_schedule,
    laser_table,
    packet_period_ns,
    parse_packet_header,
    quantize_distances,
    resolve_hour_ns,
    timestamp_us_of,
)
from tests.sensors.lidar._support import MODELS

_VD_MODEL = {LidarModel.VLP16: vd.Model.VLP16, LidarModel.VLP32C: vd.Model.VLP32C}
_HOUR_NS = US_PER_HOUR * 1000


def _decoder_calibration(model: LidarModel) -> dict:
    return yaml.safe_load(vd.Calibration.default_calibs[_VD_MODEL[model]].to_string())


def _packet(model: LidarModel, packet_index: int = 3, timestamp_us: int = 123_456) -> tuple:
    rng = np.random.default_rng(packet_index)
    azimuths = block_azimuths_deg(model, 10.0, packet_index)
    distances = rng.uniform(0.5, 60.0, (12, 32))
    reflectivity = rng.integers(0, 256, (12, 32))
    return encode_packet(model, azimuths, distances, reflectivity, timestamp_us), azimuths, distances, reflectivity


@pytest.mark.parametrize("model", MODELS)
def test_laser_table_is_velodyne_decoders(model):
    calib = _decoder_calibration(model)
    table = laser_table(model)
    lasers = calib["lasers"]
    assert table.lasers == calib["num_lasers"] == len(lasers)
    def column(key: str) -> list:
        return [laser[key] for laser in lasers]

    np.testing.assert_allclose(np.radians(table.elevation_deg), column("vert_correction"), rtol=0, atol=1e-9)
    # The decoder turns a laser's azimuth by -rot_correction.
    offsets_rad = np.radians(table.azimuth_offset_deg)
    np.testing.assert_allclose(offsets_rad, np.negative(column("rot_correction")), rtol=0, atol=1e-9)
    np.testing.assert_allclose(table.vertical_offset_m, column("vert_offset_correction"), rtol=0, atol=1e-9)
    assert table.distance_resolution_m == pytest.approx(calib["distance_resolution"], abs=1e-9)
    assert sorted(table.ring.tolist()) == list(range(table.lasers))
    assert np.all(np.diff(table.elevation_deg[np.argsort(table.ring)]) > 0)  # ring 0 is the lowest laser


@pytest.mark.parametrize("model", MODELS)
def test_encoded_packet_reads_back_with_velodyne_decoders_parser(model):
    payload, azimuths, distances, reflectivity = _packet(model)
    assert len(payload) == PACKET_BYTES
    blocks, stamp, product_id, mode = vd.util.parse_packet(payload)
    table = laser_table(model)
    assert (stamp, product_id, mode) == (123_456, table.product_id, 0x37)
    assert payload[:2] == b"\xff\xee" and all(payload[i * 100:i * 100 + 2] == b"\xff\xee" for i in range(12))
    np.testing.assert_array_equal(blocks["azimuth"], np.rint(azimuths * 100).astype(int) % 36000)
    got_m = blocks["measurements"]["distance"] * table.distance_resolution_m
    assert np.max(np.abs(got_m - distances)) <= table.distance_resolution_m / 2 + 1e-12
    np.testing.assert_array_equal(blocks["measurements"]["intensity"], reflectivity)


@pytest.mark.parametrize("model", MODELS)
def test_out_of_range_distances_are_no_return(model):
    res = laser_table(model).distance_resolution_m
    d = np.array([np.nan, np.inf, -1.0, 0.0, res * 0.4, 65535 * res, 65536 * res, 1.0])
    np.testing.assert_array_equal(quantize_distances(model, d), [0, 0, 0, 0, 0, 65535, 0, round(1.0 / res)])


def test_firing_timing_is_the_manuals():
    t16, _, laser16 = firing_schedule(LidarModel.VLP16, 10.0, 0)
    # VLP-16: 16 firings 2.304 us apart, two 55.296 us sequences per block.
    np.testing.assert_array_equal(t16[0, :16], np.arange(16) * FIRING_INTERVAL_NS)
    np.testing.assert_array_equal(t16[0, 16:], SEQUENCE_NS + np.arange(16) * FIRING_INTERVAL_NS)
    np.testing.assert_array_equal(t16[:, 0], np.arange(12) * 2 * SEQUENCE_NS)
    np.testing.assert_array_equal(laser16[5], np.tile(np.arange(16), 2))
    t32, _, laser32 = firing_schedule(LidarModel.VLP32C, 10.0, 0)
    # VLP-32C: lasers fire in pairs every 2.304 us, one 55.296 us sequence per block.
    np.testing.assert_array_equal(t32[0], np.repeat(np.arange(16), 2) * FIRING_INTERVAL_NS)
    np.testing.assert_array_equal(t32[:, 0], np.arange(12) * SEQUENCE_NS)
    np.testing.assert_array_equal(laser32[7], np.arange(32))
    assert packet_period_ns(LidarModel.VLP16) == 1_327_104 and packet_period_ns(LidarModel.VLP32C) == 663_552


@pytest.mark.parametrize("model", MODELS)
def test_schedule_azimuths_follow_the_head(model):
    rotation_hz = 10.0
    t, az, laser = firing_schedule(model, rotation_hz, np.array([0, 7]))
    head = (7 * packet_period_ns(model) + t[1]) * rotation_hz * 360.0 / 1e9
    expected = np.mod(head + laser_table(model).azimuth_offset_deg[laser[1]], 360.0)
    np.testing.assert_allclose(az[1], expected, atol=1e-9)
    np.testing.assert_allclose(block_azimuths_deg(model, rotation_hz, 7), np.mod(head[:, 0], 360.0), atol=1e-9)


@pytest.mark.parametrize("model", MODELS)
def test_decoder_times_and_azimuths_match_the_schedule(model):
    """velodyne-decoder, fed a steadily spinning head, puts every point at the scheduled time and azimuth."""
    rotation_hz = 10.0
    count = 3 * int(1e9 / rotation_hz / packet_period_ns(model))
    decoder = vd.StreamDecoder(vd.Config(model=_VD_MODEL[model], cut_angle=180.0, timestamp_first_packet=True))
    clouds = []
    for p in range(count):
        t_us = p * packet_period_ns(model) / 1000
        payload = encode_packet(model, block_azimuths_deg(model, rotation_hz, p), np.full((12, 32), 7.0),
                                np.full((12, 32), 9), round(t_us))
        out = decoder.decode(1.0 + t_us * 1e-6, payload, False)
        if out is not None:
            clouds.append(out)
    stamp, points = clouds[1]
    t_ns = np.rint((stamp.device + points[:, 4].astype(np.float64)) * 1e9).astype(np.int64)
    p = (t_ns + 1000) // packet_period_ns(model)  # stamps are rounded to the microsecond
    t_off, az, laser = firing_schedule(model, rotation_hz, p)
    table = laser_table(model)
    flat = np.arange(p.size)
    rec = (np.abs(t_off.reshape(p.size, -1) - (t_ns - p * packet_period_ns(model))[:, None]) <= 600) & (
        table.ring[laser.reshape(p.size, -1)] == points[:, 6].astype(int)[:, None])
    assert np.all(rec.sum(axis=1) == 1)  # each point is exactly one scheduled firing (time and ring)
    want = az.reshape(p.size, -1)[flat, rec.argmax(axis=1)]
    got = np.degrees(np.arctan2(-points[:, 1], points[:, 0])) % 360.0
    assert np.max(np.abs((got - want + 180.0) % 360.0 - 180.0)) < 0.02  # 0.01 deg encoder + interpolation


@pytest.mark.parametrize(
    "mutate, error, reason",
    [
        (lambda b: b[:-1], PacketLengthError, "length"),
        (lambda b: b + b"\0", PacketLengthError, "length"),
        (lambda b: b[:500] + b"\xff\xdd" + b[502:], BlockFlagError, "flag"),
        (lambda b: b[:-1] + b"\x21", UnknownProductError, "product"),
        (lambda b: b[:-2] + b"\x40" + b[-1:], ReturnModeError, "return_mode"),
        (lambda b: b[:-6] + struct.pack("<I", US_PER_HOUR) + b[-2:], TimestampError, "timestamp"),
        (lambda b: b[:302] + struct.pack("<H", 36000) + b[304:], AzimuthError, "azimuth"),
        (lambda b: b[:302] + struct.pack("<H", (struct.unpack("<H", b[302:304])[0] + 9000) % 36000) + b[304:],
         AzimuthError, "azimuth"),
    ],
    ids=["short", "long", "flag", "product", "mode", "timestamp", "azimuth-range", "azimuth-jump"],
)
def test_header_errors_are_narrow(mutate, error, reason):
    payload, *_ = _packet(LidarModel.VLP16)
    with pytest.raises(error) as info:
        parse_packet_header(mutate(payload))
    assert info.value.reason == reason
    assert str(info.value)  # says what was wrong


@pytest.mark.parametrize("model", MODELS)
def test_header_reads_back(model):
    payload, azimuths, *_ = _packet(model, timestamp_us=3_599_999_999)
    header = parse_packet_header(payload)
    assert header.model is model and header.return_mode == 0x37 and header.timestamp_us == 3_599_999_999
    np.testing.assert_allclose(header.block_azimuths_deg, np.rint(azimuths * 100) / 100 % 360)


def test_encode_rejects_bad_arguments():
    with pytest.raises(PacketEncodeError):
        encode_packet(LidarModel.VLP16, np.zeros(11), np.zeros((12, 32)), np.zeros((12, 32)), 0)
    with pytest.raises(PacketEncodeError):
        encode_packet(LidarModel.VLP16, np.zeros(12), np.zeros((12, 32)), np.zeros((12, 32)), US_PER_HOUR)


def test_hour_wrap_resolution():
    top = 1_767_261_600 * 10**9  # a top of the hour
    assert resolve_hour_ns(3_599_900_000, top + 100_000_000) == top - 100_000_000
    assert resolve_hour_ns(100_000, top - 50_000_000) == top + 100_000_000
    assert resolve_hour_ns(1_800_000_000, top + 1_799_000_000_000) == top + 1_800_000_000_000


@settings(max_examples=200, deadline=None)
@given(sensor_ns=st.integers(0, 2**62), offset_ns=st.integers(-29 * 60 * 10**9, 29 * 60 * 10**9))
def test_hour_resolution_recovers_sensor_time(sensor_ns, offset_ns):
    got = resolve_hour_ns(timestamp_us_of(sensor_ns), sensor_ns + offset_ns)
    assert abs(got - sensor_ns) <= 500
