"""The messages: the binary frame layout read back byte by byte, and the page's messages, where
nothing a page sends raises anything but an error that says what was expected."""

from __future__ import annotations

import json
import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st

from edge.preview.errors import ClientMessageError
from edge.preview.protocol import Drawn, PartsRequest, Ping, json_text, pack_frame, parse_client_message, unpack_frame


def test_a_frame_message_is_magic_length_header_parts():
    header = json.dumps({"type": "frame", "parts": [{"kind": "styled", "bytes": 3}, {"kind": "depth", "bytes": 2}]})
    data = pack_frame(header, [b"abc", b"de"])
    assert data[:4] == b"OPF1" and struct.unpack(">I", data[4:8])[0] == len(header.encode())
    assert data[8:8 + len(header)].decode() == header and data[8 + len(header):] == b"abcde"
    assert unpack_frame(data) == (json.loads(header), [b"abc", b"de"])
    for broken in (data[:-1], data + b"x", b"OPF2" + data[4:], data[:6]):
        with pytest.raises(ValueError):
            unpack_frame(broken)


def test_the_pages_messages_are_read():
    assert parse_client_message('{"type": "parts", "parts": ["raw", "depth", "raw"]}') == PartsRequest(
        frozenset({"raw", "depth"}))
    assert parse_client_message('{"type": "parts", "parts": []}') == PartsRequest(frozenset())
    assert parse_client_message('{"type": "ping", "id": "a", "client_ms": 5}') == Ping("a", 5.0)
    assert parse_client_message('{"type": "drawn", "seq": 3, "drawn_ns": 1800000000000000000}') == Drawn(
        3, 1800000000000000000)
    with pytest.raises(ClientMessageError, match="finite"):
        parse_client_message('{"type": "ping", "id": 1, "client_ms": NaN}')
    with pytest.raises(ClientMessageError, match="whole number"):
        parse_client_message('{"type": "drawn", "seq": 1, "drawn_ns": 1e18}')


@given(st.text(max_size=300) | st.builds(json.dumps, st.dictionaries(
    st.sampled_from(["type", "parts", "id", "client_ms", "seq", "drawn_ns"]),
    st.sampled_from(["parts", "ping", "drawn", None, 1, -1, 2**70, 1.5, "x", [], ["raw"], {}]), max_size=4)))
def test_anything_a_page_sends_is_a_message_or_a_clear_error(text):
    try:
        parse_client_message(text)
    except ClientMessageError as err:
        assert str(err)


def test_json_out_has_no_nan():
    assert json_text({"a": float("nan"), "b": [float("inf"), 1.5]}) == '{"a":null,"b":[null,1.5]}'
