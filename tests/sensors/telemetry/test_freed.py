"""FreeD D1 codec: field roundtrips, a hand-built vector, checksum, malformed input, conventions."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from config.models import LensCalibrationConfig
from sensors.errors import DecodeError
from sensors.telemetry.errors import (
    FreedChecksumError,
    FreedDecodeError,
    FreedFieldRangeError,
    FreedLengthError,
    FreedMessageTypeError,
)
from sensors.telemetry.freed import (
    D1_PACKET_BYTES,
    FreedD1,
    d1_checksum,
    decode_d1,
    encode_d1,
    freed_angles_from_onset,
    onset_angles_from_freed,
    pose_from_telemetry,
    telemetry_from_pose,
)
from sensors.telemetry.lens import lens_step_per_count
from sensors.vocabulary import (
    LensState,
    RigPose,
    matrix_to_quat,
    pan_tilt_roll_from_rotation,
    quat_to_matrix,
    rotation_from_pan_tilt_roll,
)
from tests.sensors.telemetry.support import angle_diff_deg, property_settings

ANGLE_LSB = 1.0 / 32768
POSITION_LSB = 1.0 / 64
S24_MAX = (1 << 23) - 1

# Built by hand from the layout: every field's bytes written out, not produced by the encoder.
KNOWN_FIELDS = FreedD1(
    camera_id=7,
    pan_deg=-45.5,  # -45.5 * 32768 = -1490944 = 0x16C000 -> two's complement 0xE94000
    tilt_deg=10.25,  # 10.25 * 32768 = 335872 = 0x052000
    roll_deg=-0.5,  # -16384 -> 0xFFC000
    x_mm=1234.5,  # 1234.5 * 64 = 79008 = 0x0134A0
    y_mm=-100.25,  # -6416 = -0x001910 -> 0xFFE6F0
    z_mm=1500.0,  # 96000 = 0x017700
    zoom_raw=0x00ABCD,
    focus_raw=0x123456,
    spare=0xBEEF,
)
KNOWN_BODY = bytes.fromhex("D1 07 E94000 052000 FFC000 0134A0 FFE6F0 017700 00ABCD 123456 BEEF")
# Byte sum 0xBC8 -> low byte 0xC8; 0x40 - 0xC8 = -0x88 = 0x78 (mod 256).
KNOWN_PACKET = KNOWN_BODY + bytes([0x78])

angles = st.floats(min_value=-256.0, max_value=S24_MAX * ANGLE_LSB, allow_nan=False)
positions = st.floats(min_value=-131072.0, max_value=S24_MAX * POSITION_LSB, allow_nan=False)
packets = st.builds(
    FreedD1,
    camera_id=st.integers(0, 255),
    pan_deg=angles,
    tilt_deg=angles,
    roll_deg=angles,
    x_mm=positions,
    y_mm=positions,
    z_mm=positions,
    zoom_raw=st.integers(0, (1 << 24) - 1),
    focus_raw=st.integers(0, (1 << 24) - 1),
    spare=st.integers(0, 65535),
)


def test_known_vector_encodes_to_the_hand_built_bytes():
    assert len(KNOWN_PACKET) == D1_PACKET_BYTES == 29
    assert encode_d1(KNOWN_FIELDS) == KNOWN_PACKET


def test_known_vector_decodes_to_its_fields():
    assert decode_d1(KNOWN_PACKET) == KNOWN_FIELDS
    assert decode_d1(bytearray(KNOWN_PACKET)) == KNOWN_FIELDS
    assert decode_d1(memoryview(KNOWN_PACKET)) == KNOWN_FIELDS


def test_extreme_values_have_the_expected_bytes():
    low = FreedD1(0, -256.0, 0.0, 0.0, -131072.0, 0.0, 0.0, 0, (1 << 24) - 1, 65535)
    raw = encode_d1(low)
    assert raw[2:5] == b"\x80\x00\x00" and raw[11:14] == b"\x80\x00\x00"
    assert raw[23:26] == b"\xff\xff\xff" and raw[26:28] == b"\xff\xff"
    high = FreedD1(0, S24_MAX * ANGLE_LSB, 0.0, 0.0, S24_MAX * POSITION_LSB, 0.0, 0.0, 0, 0, 0)
    raw = encode_d1(high)
    assert raw[2:5] == b"\x7f\xff\xff" and raw[11:14] == b"\x7f\xff\xff"
    assert decode_d1(raw) == high


def test_checksum_makes_the_byte_sum_0x40():
    assert sum(KNOWN_PACKET) % 256 == 0x40
    assert d1_checksum(KNOWN_BODY) == 0x78
    assert d1_checksum(b"") == 0x40
    assert d1_checksum(bytes([0x40])) == 0x00
    assert d1_checksum(bytes([0xFF, 0xFF])) == (0x40 - 0x1FE) % 256


@property_settings(max_examples=300)
@given(packets)
def test_every_field_roundtrips_within_half_an_lsb(packet):
    raw = encode_d1(packet)
    assert len(raw) == 29 and raw[0] == 0xD1 and sum(raw) % 256 == 0x40
    back = decode_d1(raw)
    for field in ("pan_deg", "tilt_deg", "roll_deg"):
        assert abs(getattr(back, field) - getattr(packet, field)) <= ANGLE_LSB / 2
    for field in ("x_mm", "y_mm", "z_mm"):
        assert abs(getattr(back, field) - getattr(packet, field)) <= POSITION_LSB / 2
    for field in ("camera_id", "zoom_raw", "focus_raw", "spare"):
        assert getattr(back, field) == getattr(packet, field)
    # Decoded values sit exactly on the grid, so a second roundtrip is exact.
    assert decode_d1(encode_d1(back)) == back


@pytest.mark.parametrize(
    "field, value",
    [
        ("pan_deg", 256.0),
        ("pan_deg", 255.99999),  # rounds to 2**23, one past the top
        ("tilt_deg", -256.0001),
        ("roll_deg", float("nan")),
        ("roll_deg", float("inf")),
        ("pan_deg", "12"),
        ("x_mm", 131072.0),
        ("y_mm", -131072.01),
        ("z_mm", float("-inf")),
        ("z_mm", float("nan")),
        ("camera_id", 256),
        ("camera_id", -1),
        ("zoom_raw", 1 << 24),
        ("zoom_raw", -1),
        ("focus_raw", 12.0),
        ("focus_raw", True),
        ("spare", 65536),
    ],
)
def test_encoding_a_value_out_of_range_names_field_and_value(field, value):
    fields = dict(KNOWN_FIELDS.__dict__)
    fields[field] = value
    with pytest.raises(FreedFieldRangeError) as info:
        encode_d1(FreedD1(**fields))
    assert info.value.field == field
    assert field in str(info.value) and repr(value) in str(info.value)
    assert isinstance(info.value, ValueError)


def test_lowest_representable_values_encode():
    assert decode_d1(encode_d1(FreedD1(0, -256.0, -256.0, -256.0, -131072.0, -131072.0, -131072.0, 0, 0))).pan_deg == -256.0


@pytest.mark.parametrize("length", [0, 1, 4, 28, 30, 58, 1500])
def test_wrong_length_says_what_arrived(length):
    data = (KNOWN_PACKET * 60)[:length]
    with pytest.raises(FreedLengthError) as info:
        decode_d1(data)
    assert info.value.received_bytes == length and info.value.expected_bytes == 29
    assert f"received {length} bytes" in str(info.value)
    assert isinstance(info.value, DecodeError) and info.value.reason == "length"


@pytest.mark.parametrize("message_type", [0x00, 0xD0, 0xD2, 0xFF])
def test_wrong_message_type_is_named(message_type):
    body = bytes([message_type]) + KNOWN_BODY[1:]
    with pytest.raises(FreedMessageTypeError) as info:
        decode_d1(body + bytes([d1_checksum(body)]))
    assert info.value.message_type == message_type
    assert f"0x{message_type:02X}" in str(info.value) and info.value.reason == "type"


def test_bad_checksum_carries_both_values():
    corrupt = KNOWN_PACKET[:-1] + bytes([0x79])
    with pytest.raises(FreedChecksumError) as info:
        decode_d1(corrupt)
    assert (info.value.received, info.value.computed) == (0x79, 0x78)
    assert "0x79" in str(info.value) and "0x78" in str(info.value) and info.value.reason == "checksum"


@property_settings(max_examples=200)
@given(packets, st.integers(0, 28), st.integers(1, 255))
def test_every_single_byte_corruption_is_caught(packet, at, flip):
    raw = bytearray(encode_d1(packet))
    raw[at] ^= flip
    expected = FreedMessageTypeError if at == 0 else FreedChecksumError
    with pytest.raises(expected):
        decode_d1(bytes(raw))


@property_settings(max_examples=300)
@given(st.binary(max_size=80))
def test_random_bytes_decode_or_raise_a_decode_error(data):
    try:
        packet = decode_d1(data)
    except FreedDecodeError as err:
        assert err.reason in ("length", "type", "checksum")
    else:
        assert len(data) == 29 and data[0] == 0xD1 and sum(data) % 256 == 0x40
        assert encode_d1(packet) == data


@property_settings(max_examples=200)
@given(packets, st.integers(0, 28), st.binary(min_size=1, max_size=40))
def test_truncated_and_oversized_packets_are_length_errors(packet, keep, extra):
    raw = encode_d1(packet)
    with pytest.raises(FreedLengthError):
        decode_d1(raw[:keep])
    with pytest.raises(FreedLengthError):
        decode_d1(raw + extra)
    with pytest.raises(FreedLengthError):
        decode_d1(raw + raw)  # two packets in one datagram are not one packet


# -- FreeD <-> Onset convention -----------------------------------------------------------------

CAL = LensCalibrationConfig()


def _forward_axis(packet: FreedD1) -> np.ndarray:
    pose, _ = pose_from_telemetry(packet, CAL)
    return quat_to_matrix(pose.orientation_xyzw)


def _level(pan: float = 0.0, tilt: float = 0.0, roll: float = 0.0) -> FreedD1:
    return FreedD1(1, pan, tilt, roll, 0.0, 0.0, 0.0, 0, 0)


def test_freed_pan_zero_looks_along_stage_y():
    R = _forward_axis(_level())
    np.testing.assert_allclose(R[:, 0], [0.0, 1.0, 0.0], atol=1e-12)  # rig x (the lens axis)
    np.testing.assert_allclose(R[:, 2], [0.0, 0.0, 1.0], atol=1e-12)


def test_freed_positive_pan_turns_right_seen_from_above():
    np.testing.assert_allclose(_forward_axis(_level(pan=90.0))[:, 0], [1.0, 0.0, 0.0], atol=1e-12)
    np.testing.assert_allclose(_forward_axis(_level(pan=-90.0))[:, 0], [-1.0, 0.0, 0.0], atol=1e-12)
    assert onset_angles_from_freed(30.0, 0.0, 0.0)[0] == pytest.approx(60.0)


def test_freed_positive_tilt_looks_up_and_positive_roll_turns_the_top_right():
    assert _forward_axis(_level(tilt=20.0))[2, 0] == pytest.approx(math.sin(math.radians(20.0)))
    up = _forward_axis(_level(roll=10.0))[:, 2]  # looking along +Y, the camera's right is +X
    assert up[0] == pytest.approx(math.sin(math.radians(10.0)))


@property_settings(max_examples=200)
@given(st.floats(-180.0, 180.0), st.floats(-90.0, 90.0), st.floats(-180.0, 180.0))
def test_angle_conventions_are_inverse(pan, tilt, roll):
    back = onset_angles_from_freed(*freed_angles_from_onset(pan, tilt, roll))
    assert angle_diff_deg(back[0], pan) < 1e-9 and back[1:] == (tilt, roll)
    assert -180.0 < freed_angles_from_onset(pan, tilt, roll)[0] <= 180.0


@property_settings(max_examples=200)
@given(
    st.floats(-180.0, 180.0),
    st.floats(-89.0, 89.0),
    st.floats(-179.0, 179.0),
    st.tuples(*[st.floats(-100.0, 100.0)] * 3),
    st.floats(18.0, 80.0),
    st.floats(0.5, 50.0),
)
def test_pose_and_lens_roundtrip_through_d1(pan, tilt, roll, xyz_m, focal_mm, focus_m):
    R = rotation_from_pan_tilt_roll(pan, tilt, roll)
    pose = RigPose(t_ns=5, position_m=np.array(xyz_m), orientation_xyzw=matrix_to_quat(R))
    lens = LensState(focal_length_mm=focal_mm, focus_distance_m=focus_m)
    packet = decode_d1(encode_d1(telemetry_from_pose(pose, lens, CAL, camera_id=3, spare=9)))
    assert (packet.camera_id, packet.spare) == (3, 9)
    back_pose, back_lens = pose_from_telemetry(packet, CAL, t_ns=5, t_stop=4.0)
    assert back_pose.t_ns == 5 and back_lens.t_stop == 4.0
    assert np.max(np.abs(back_pose.position_m - pose.position_m)) <= POSITION_LSB / 2 / 1000 + 1e-12
    got = pan_tilt_roll_from_rotation(quat_to_matrix(back_pose.orientation_xyzw))
    want = pan_tilt_roll_from_rotation(R)
    for g, w in zip(got, want):
        assert angle_diff_deg(g, w) <= ANGLE_LSB / 2 + 1e-9
    focal_step, focus_step = lens_step_per_count(CAL)
    assert abs(back_lens.focal_length_mm - focal_mm) <= focal_step / 2 + 1e-9
    assert abs(back_lens.focus_distance_m - focus_m) <= focus_step / 2 + 1e-9
