"""RTP video without GStreamer: timestamps to ns and back, the 32-bit wrap, frames tracked packet by packet."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from sensors.camera.errors import RtpPacketError
from sensors.camera.rtp import (
    RTP_WRAP_TICKS,
    RtpFrameTracker,
    frame_index_from_ticks,
    ns_from_ticks,
    parse_rtp_header,
    ticks_from_ns,
    unwrap_rtp_ticks,
)
from tests.sensors.camera._support import rfc4175_packets

WRAP_NS = ns_from_ticks(RTP_WRAP_TICKS)  # about 13.25 h
NOW_NS = 1_800_000_000_000_000_000


@given(t_ns=st.integers(0, 4 * 10**18))
def test_a_stamp_survives_ticks_within_half_a_tick(t_ns):
    assert abs(ns_from_ticks(ticks_from_ns(t_ns)) - t_ns) <= 5_556
    ticks = ticks_from_ns(t_ns)
    assert ticks_from_ns(ns_from_ticks(ticks)) == ticks


@given(t_ns=st.integers(10**17, 4 * 10**18), skew_ns=st.integers(-6 * 3600 * 10**9, 6 * 3600 * 10**9))
def test_unwrap_finds_the_full_count_within_half_a_wrap_of_host_time(t_ns, skew_ns):
    ticks = ticks_from_ns(t_ns)
    assert unwrap_rtp_ticks(ticks % RTP_WRAP_TICKS, t_ns + skew_ns) == ticks


def test_unwrap_across_the_wrap_both_ways():
    wrap_instant = ns_from_ticks(RTP_WRAP_TICKS * 300_000)  # a wrap in 2032
    before, after = ticks_from_ns(wrap_instant - 10**6), ticks_from_ns(wrap_instant + 10**6)
    assert before % RTP_WRAP_TICKS > RTP_WRAP_TICKS - 100 and after % RTP_WRAP_TICKS < 100
    # A frame stamped just before the wrap, received just after it, and the other way round.
    assert unwrap_rtp_ticks(before % RTP_WRAP_TICKS, wrap_instant + 30 * 10**6) == before
    assert unwrap_rtp_ticks(after % RTP_WRAP_TICKS, wrap_instant - 30 * 10**6) == after
    assert ns_from_ticks(after) - ns_from_ticks(before) == pytest.approx(2 * 10**6, abs=12_000)


@pytest.mark.parametrize(("fps", "ticks_per_frame"), [(Fraction(24), 3750), (Fraction(25), 3600),
                                                     (Fraction(30000, 1001), 3003), (Fraction(60), 1500)])
def test_frame_index_is_the_frame_number_on_the_media_clock(fps, ticks_per_frame):
    base = 123_456_789 * ticks_per_frame
    for n in range(5):
        for wobble in (-ticks_per_frame // 4, 0, ticks_per_frame // 4):
            assert frame_index_from_ticks(base + n * ticks_per_frame + wobble, fps) == 123_456_789 + n
    # 23.976: 3753.75 ticks a frame, exact in rationals.
    assert frame_index_from_ticks(ticks_from_ns(10**18), Fraction(24000, 1001)) == round(10**9 * 24000 / 1001)


def _frame(seed: int = 0, width: int = 32, height: int = 6) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8)


def _feed(tracker, packets):
    kept, closed = 0, []
    for packet in packets:
        keep, reports = tracker.packet(packet)
        kept += keep
        closed.extend(reports)
    return kept, closed


def test_whole_frames_close_on_their_marker():
    tracker = RtpFrameTracker(32, 6)
    packets = rfc4175_packets(_frame(), 1000, 65_530, line_bytes_per_packet=48)  # 2 packets a line, seq wraps
    kept, closed = _feed(tracker, packets + rfc4175_packets(_frame(1), 4750, 65_530 + len(packets), line_bytes_per_packet=48))
    assert kept == 2 * len(packets) == 24
    assert [(r.timestamp, r.problem, r.packets) for r in closed] == [(1000, None, 12), (4750, None, 12)]
    assert tracker.drops == {} and tracker.lost_packets == 0


def test_a_lost_packet_makes_its_frame_incomplete_and_the_next_frame_is_whole():
    tracker = RtpFrameTracker(32, 6)
    first = rfc4175_packets(_frame(), 1000, 10)
    second = rfc4175_packets(_frame(1), 4750, 10 + len(first))
    _, closed = _feed(tracker, first[:2] + first[3:] + second)
    assert [(r.timestamp, r.problem, r.lost_packets) for r in closed] == [(1000, "incomplete", 1), (4750, None, 0)]
    assert tracker.lost_packets == 1


def test_a_lost_marker_closes_the_frame_when_the_next_timestamp_begins():
    tracker = RtpFrameTracker(32, 6)
    first = rfc4175_packets(_frame(), 1000, 10)
    second = rfc4175_packets(_frame(1), 4750, 10 + len(first))
    keep, closed = tracker.packet(first[0])
    assert keep and closed == []
    _feed(tracker, first[1:-1])
    keep, closed = tracker.packet(second[0])  # the depayloader pushes the old frame now
    assert [(r.timestamp, r.problem) for r in closed] == [(1000, "incomplete")]
    _, closed = _feed(tracker, second[1:])
    assert [(r.timestamp, r.problem) for r in closed] == [(4750, None)]


def test_another_resolution_is_a_size_problem_and_the_stream_recovers():
    tracker = RtpFrameTracker(32, 6)
    _, closed = _feed(tracker, rfc4175_packets(_frame(2, width=40, height=8), 1000, 0)
                      + rfc4175_packets(_frame(3, width=16, height=6), 4750, 8)
                      + rfc4175_packets(_frame(4), 8500, 14))
    assert [(r.problem, r.width_px, r.height_px) for r in closed] == [("size", 40, 8), ("size", 16, 6), (None, 32, 6)]


def test_garbage_wrong_payload_type_duplicates_and_late_packets_are_dropped_and_counted():
    tracker = RtpFrameTracker(32, 6)
    packets = rfc4175_packets(_frame(), 1000, 100)
    other_pt = rfc4175_packets(_frame(), 1000, 100, payload_type=97)[0]
    truncated = packets[2][:16]  # sequence 102, cut inside its line header
    stream = [b"", b"\x00" * 40, other_pt, packets[0], packets[0], packets[1], truncated, packets[0]] + packets[3:]
    kept, closed = _feed(tracker, stream)
    assert tracker.drops == {"rtp_short": 1, "rtp_version": 1, "rtp_payload_type": 1, "rtp_duplicate": 1,
                             "rtp_late": 1, "rfc4175_malformed": 1}
    assert kept == len(packets) - 1
    assert [r.problem for r in closed] == ["malformed"]
    # The next frame is whole again.
    _, closed = _feed(tracker, rfc4175_packets(_frame(), 4750, 100 + len(packets)))
    assert [r.problem for r in closed] == [None]


def test_header_parsing_honours_csrcs_extension_and_padding():
    import struct

    body = struct.pack("!HHHH", 0, 3, 0, 0) + b"abc"
    packet = (struct.pack("!BBHII", 0x80 | 0x30 | 1, 0x80 | 96, 7, 99, 5) + b"CSRC"
              + struct.pack("!HH", 0xBEDE, 1) + b"ext!" + body + b"\x00\x00\x03")
    header = parse_rtp_header(packet)
    assert (header.marker, header.payload_type, header.sequence, header.timestamp) == (True, 96, 7, 99)
    assert packet[header.payload_start:header.payload_end] == body
    with pytest.raises(RtpPacketError, match="short"):
        parse_rtp_header(packet[:14])


@given(data=st.binary(max_size=200))
def test_any_bytes_are_a_verdict_never_an_exception(data):
    tracker = RtpFrameTracker(16, 4)
    keep, closed = tracker.packet(data)
    assert isinstance(keep, bool)
    assert all(r.problem is not None for r in closed)  # random bytes never make a whole frame
