"""The wire format on its own: roundtrip of every field, no copies, versioning, hostile parts."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from edge.stream.errors import FrameContractError, WireError, WireFormatError, WireVersionError
from edge.stream.wire import MAGIC, MAX_HEADER_BYTES, WIRE_VERSION, WireMeta, decode_frame, encode_frame
from sensors.vocabulary import FusedFrame
from tests.edge.stream.frames import assert_same_frame, fused_frames, make_frame

META = WireMeta(stream_id="0123456789abcdef", seq=7, sent_ns=1_800_000_000_000_000_123)


def _header(parts) -> dict:
    return json.loads(bytes(parts[0]))


def _with_header(parts, header: dict) -> list:
    return [json.dumps(header).encode()] + list(parts[1:])


@settings(max_examples=150)
@given(frame=fused_frames(), as_bytes=st.booleans())
def test_roundtrip_every_field(frame: FusedFrame, as_bytes: bool) -> None:
    parts = encode_frame(frame, META)
    received = [bytes(memoryview(p)) for p in parts] if as_bytes else [memoryview(p) for p in parts]
    got, meta = decode_frame(received)
    assert meta == META
    assert_same_frame(got, frame)
    assert not got.rgb.flags.writeable and not got.depth_m.flags.writeable


def test_header_documents_arrays_and_is_strict_json() -> None:
    frame = make_frame(3)
    header = _header(encode_frame(frame, META))
    assert header["magic"] == MAGIC and header["version"] == WIRE_VERSION
    assert header["arrays"] == [{"name": "rgb", "dtype": "|u1", "shape": [360, 640, 3]},
                                {"name": "depth_m", "dtype": "<f4", "shape": [360, 640]}]
    assert header["timecode"] == {"label": "01:00:10;12", "rate": "29.97DF"}
    assert header["sync"][1]["gap_ms"] == "Infinity"  # non-finite floats as strings: strict JSON
    json.loads(bytes(encode_frame(frame, META)[0]), parse_constant=pytest.fail)


def test_contiguous_arrays_leave_without_copy() -> None:
    frame = make_frame(1)
    parts = encode_frame(frame, META)
    assert parts[1] is frame.rgb and parts[2] is frame.depth_m


def test_non_contiguous_array_is_copied_once_in_c_order() -> None:
    base = make_frame(1)
    wide = np.zeros((360, 1280, 3), dtype=np.uint8)
    wide[:, ::2] = base.rgb
    frame = FusedFrame(**{**base.__dict__, "rgb": wide[:, ::2]})
    parts = encode_frame(frame, META)
    assert parts[1].flags.c_contiguous and not np.shares_memory(parts[1], wide)
    got, _ = decode_frame([bytes(memoryview(p)) for p in parts])
    np.testing.assert_array_equal(got.rgb, base.rgb)


def test_decode_is_a_view_of_the_part() -> None:
    parts = [bytes(memoryview(p)) for p in encode_frame(make_frame(2), META)]
    got, _ = decode_frame(parts)
    assert got.rgb.base is parts[1] or got.rgb.base.base is parts[1]
    assert np.shares_memory(got.depth_m, np.frombuffer(parts[2], dtype=np.uint8))


@pytest.mark.parametrize("bad", [
    {"rgb": np.zeros((4, 4, 3), dtype=np.float32)},
    {"rgb": np.zeros((4, 4), dtype=np.uint8)},
    {"depth_m": np.zeros((4, 5), dtype=np.float32)},
    {"depth_m": np.zeros((4, 4), dtype=np.int32)},
    {"K": np.eye(4)},
    {"frame_index": 1.5},
    {"t_ns": 2**63},
    {"points_used": -1},
    {"sync": ("lidar0",)},
    {"distortion": tuple(range(17))},
    {"pose": "T_stage_rig"},
])
def test_encoder_refuses_frames_that_break_the_contract(bad: dict) -> None:
    fields = {**make_frame(0, 4, 4).__dict__, **bad}
    with pytest.raises(FrameContractError):
        encode_frame(FusedFrame(**fields), META)


def test_unknown_keys_and_arrays_of_the_same_major_version_are_ignored() -> None:
    frame = make_frame(5, 8, 8)
    parts = encode_frame(frame, META)
    header = _header(parts)
    header.update(minor=3, exposure_us=8333, lens={**header["lens"], "iris_raw": 412})
    header["arrays"].append({"name": "confidence", "dtype": "|u1", "shape": [8, 8]})
    got, meta = decode_frame(_with_header(parts, header) + [bytes(64)])
    assert meta.minor == 3
    assert_same_frame(got, frame)


@pytest.mark.parametrize("change, error", [
    ({"version": 2}, WireVersionError),
    ({"version": True}, WireVersionError),
    ({"version": "1"}, WireVersionError),
    ({"magic": "ONSETFX"}, WireVersionError),
    ({"seq": -1}, WireFormatError),
    ({"t_ns": 1.0}, WireFormatError),
    ({"t_ns": 2**63}, WireFormatError),
    ({"K": [1, 2, 3]}, WireFormatError),
    ({"timecode": {"label": "01:00:00:00", "rate": "29.97DF"}}, WireFormatError),  # NDF separator at DF
    ({"timecode": {"label": "00:01:00;00", "rate": "29.97DF"}}, WireFormatError),  # a dropped label
    ({"timecode": {"label": "01:00:00:00", "rate": "12"}}, WireFormatError),
    ({"sync": [{"sensor": "lidar0", "status": "great", "gap_ms": 0, "residual_jitter_ms": 0}]}, WireFormatError),
    ({"pose": {"t_ns": 0, "position_m": [0, 0], "orientation_xyzw": [0, 0, 0, 1]}}, WireFormatError),
    ({"lens": {"focal_length_mm": "35"}}, WireFormatError),
    ({"arrays": [{"name": "rgb", "dtype": "<f8", "shape": [8, 8, 3]}, {"name": "depth_m", "dtype": "<f4", "shape": [8, 8]}]},
     WireFormatError),
    ({"arrays": [{"name": "rgb", "dtype": "|u1", "shape": [8, 8, 4]}, {"name": "depth_m", "dtype": "<f4", "shape": [8, 8]}]},
     WireFormatError),
    ({"arrays": [{"name": "rgb", "dtype": "|u1", "shape": [8, 8, 3]}, {"name": "rgb", "dtype": "<f4", "shape": [8, 8]}]},
     WireFormatError),
    ({"arrays": [{"name": "rgb", "dtype": "|u1", "shape": [8, 8, 3]}]}, WireFormatError),  # part count
])
def test_bad_headers_are_rejected_narrowly(change: dict, error: type) -> None:
    parts = encode_frame(make_frame(0, 8, 8), META)
    with pytest.raises(error):
        decode_frame(_with_header(parts, {**_header(parts), **change}))


def test_missing_key_sizes_and_part_count_are_rejected() -> None:
    parts = [bytes(memoryview(p)) for p in encode_frame(make_frame(0, 8, 8), META)]
    header = _header(parts)
    del header["points_used"]
    with pytest.raises(WireFormatError, match="points_used"):
        decode_frame(_with_header(parts, header))
    with pytest.raises(WireFormatError, match="needs 256 bytes, its part has 255"):
        decode_frame(parts[:2] + [parts[2][:-1]])  # 8x8 float32 depth, one byte short
    with pytest.raises(WireFormatError, match="parts"):
        decode_frame(parts + [b""])
    with pytest.raises(WireFormatError):
        decode_frame([])
    with pytest.raises(WireFormatError, match="exceeds"):
        decode_frame([b" " * (MAX_HEADER_BYTES + 1)] + parts[1:])
    with pytest.raises(WireFormatError):
        decode_frame([b"[" * 60_000] + parts[1:])  # nesting deeper than the JSON parser recurses


@settings(max_examples=300)
@given(parts=st.lists(st.binary(max_size=300), min_size=0, max_size=5))
def test_random_parts_raise_only_wire_errors(parts: list) -> None:
    with pytest.raises(WireError):
        decode_frame(parts)


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats() | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)


@settings(max_examples=300)
@given(data=st.data())
def test_mutated_headers_decode_or_raise_wire_errors(data) -> None:
    """A real message with one header value replaced or removed, or its header truncated."""
    parts = [bytes(memoryview(p)) for p in encode_frame(make_frame(0, 2, 3), META)]
    header = _header(parts)
    key = data.draw(st.sampled_from(sorted(header)))
    action = data.draw(st.sampled_from(["replace", "delete", "truncate", "nest"]))
    if action == "replace":
        header[key] = data.draw(_JSON)
    elif action == "delete":
        del header[key]
    elif action == "nest" and isinstance(header[key], dict) and header[key]:
        inner = data.draw(st.sampled_from(sorted(header[key])))
        header[key] = {**header[key], inner: data.draw(_JSON)}
    blob = json.dumps(header).encode()
    if action == "truncate":
        blob = blob[: data.draw(st.integers(0, len(blob) - 1))]
    try:
        frame, _ = decode_frame([blob] + parts[1:])
    except WireError:
        return
    assert isinstance(frame, FusedFrame) and frame.rgb.shape == (2, 3, 3)
