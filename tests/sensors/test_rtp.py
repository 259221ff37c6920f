"""The shared RTP header parser: hand-built packets, and any bytes at all."""

from __future__ import annotations

import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sensors.rtp import RtpHeaderError, build_rtp, parse_rtp_header


def test_a_built_packet_reads_back():
    packet = build_rtp(65535 + 3, (1 << 32) + 7, 0xABCDEF01, 96, b"payload", marker=True)
    h = parse_rtp_header(packet)
    assert (h.sequence, h.timestamp, h.ssrc, h.payload_type, h.marker) == (2, 7, 0xABCDEF01, 96, True)
    assert packet[h.payload_start:h.payload_end] == b"payload"


def test_csrcs_an_extension_and_padding_are_skipped():
    csrcs = struct.pack("!II", 1, 2)
    extension = struct.pack("!HH", 0xBEDE, 2) + b"\0" * 8
    packet = struct.pack("!BBHII", 0x80 | 0x30 | 2, 96, 1, 2, 3) + csrcs + extension + b"data" + b"\0\0\3"
    h = parse_rtp_header(packet)
    assert packet[h.payload_start:h.payload_end] == b"data"


@pytest.mark.parametrize("packet, reason", [
    (b"\x80\x60\0\1", "short"),
    (struct.pack("!BBHII", 0x40, 96, 1, 2, 3) + b"x", "version"),
    (struct.pack("!BBHII", 0x80 | 0x20, 96, 1, 2, 3) + b"ab\0", "padding"),  # padding of 0 bytes
    (struct.pack("!BBHII", 0x80 | 0x20, 96, 1, 2, 3) + b"ab\x09", "padding"),  # more than the payload
    (struct.pack("!BBHII", 0x80 | 0x10, 96, 1, 2, 3) + b"\xbe\xde", "short"),  # extension cut off
    (struct.pack("!BBHII", 0x80 | 0x0F, 96, 1, 2, 3), "short"),  # 15 CSRCs announced, none there
])
def test_malformed_headers_name_what_is_wrong(packet, reason):
    with pytest.raises(RtpHeaderError) as err:
        parse_rtp_header(packet)
    assert err.value.reason == reason


@given(st.binary(max_size=80))
def test_any_bytes_give_a_header_inside_the_packet_or_an_rtp_header_error(data):
    try:
        h = parse_rtp_header(data)
    except RtpHeaderError:
        return
    assert 12 <= h.payload_start <= h.payload_end <= len(data)
