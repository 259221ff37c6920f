"""RTP video (RFC 3550 headers, RFC 4175 raw-video payload, as SMPTE ST 2110-20 uses): pure functions.

Time. A camera stamps each frame with a 32-bit RTP timestamp on a 90 kHz media clock: the
exposure mid-time on the camera's own clock, counted from the clock's epoch (ST 2110-10: the
PTP epoch) and wrapped every 2^32 / 90 000 s (about 13.25 h). :func:`unwrap_rtp_ticks` puts the
wrapped count back on the full time line against a reference the receiver knows (its host time,
as the Velodyne driver resolves its hour), assuming the camera's clock is within half a wrap
(6.6 h) of the host's. One tick is 11 111.1 ns: :func:`ns_from_ticks` rounds to the nearest ns,
:func:`ticks_from_ns` to the nearest tick, and a stamp survives the round trip within 5.6 us.

Frames. An RFC 4175 packet carries, after the RTP header, a 16-bit extended sequence number and
one or more 6-byte line headers (length in bytes, field bit + 15-bit line number, continuation
bit + 15-bit pixel offset), then the pixel data of those line segments. The marker bit ends a
frame. :class:`RtpFrameTracker` follows a stream packet by packet, as ``rtpvrawdepay`` does, and
reports every frame as it closes: on its marker, or (marker lost) when the next timestamp
begins, which is also when the depayloader pushes it out. A frame is good only when it closed
on its marker, no packet of it was lost or malformed, and its line segments cover exactly the
configured width x height; otherwise the report names why (``incomplete``, ``malformed``,
``size``). Bytes that are not RTP, the wrong payload type, duplicates and late packets are
dropped before the depayloader and counted by reason.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from fractions import Fraction
from typing import Dict, List, Optional, Tuple

from sensors.camera.errors import RtpPacketError
from sensors.rtp import RtpHeader, RtpHeaderError
from sensors.rtp import parse_rtp_header as _parse_rtp_header

__all__ = [
    "RTP_CLOCK_HZ",
    "RTP_WRAP_TICKS",
    "RtpHeader",
    "RtpFrameReport",
    "RtpFrameTracker",
    "parse_rtp_header",
    "parse_line_headers",
    "ticks_from_ns",
    "ns_from_ticks",
    "unwrap_rtp_ticks",
    "frame_index_from_ticks",
]

#: The media clock of RTP video (RFC 4175, ST 2110-20), Hz.
RTP_CLOCK_HZ = 90_000
#: A 32-bit RTP timestamp wraps after this many ticks (about 13.25 h at 90 kHz).
RTP_WRAP_TICKS = 1 << 32
_NS_PER_S = 1_000_000_000
_LINE_HEADER = struct.Struct("!HHH")


def ticks_from_ns(t_ns: int) -> int:
    """Nearest 90 kHz tick of an instant ``t_ns`` (ns on the same clock), full width (not wrapped)."""
    return (int(t_ns) * RTP_CLOCK_HZ * 2 + _NS_PER_S) // (2 * _NS_PER_S)


def ns_from_ticks(ticks: int) -> int:
    """The instant, ns, of a full-width 90 kHz tick count (rounded to the nearest ns)."""
    return (int(ticks) * _NS_PER_S * 2 + RTP_CLOCK_HZ) // (2 * RTP_CLOCK_HZ)


def unwrap_rtp_ticks(timestamp: int, reference_ns: int) -> int:
    """The full tick count whose low 32 bits are ``timestamp``, nearest to ``reference_ns``.

    ``reference_ns`` is a time the receiver knows on (about) the camera's clock: its host time
    at arrival. Correct while the two differ by less than half a wrap (about 6.6 h).
    """
    reference = ticks_from_ns(reference_ns)
    delta = (int(timestamp) - reference) % RTP_WRAP_TICKS
    if delta >= RTP_WRAP_TICKS // 2:
        delta -= RTP_WRAP_TICKS
    return reference + delta


def frame_index_from_ticks(ticks: int, fps: Fraction) -> int:
    """Frame number on the camera's clock: ``round(ticks * fps / 90 kHz)`` (exact rational)."""
    fps = Fraction(fps)
    num, den = fps.numerator, fps.denominator
    return (2 * int(ticks) * num + RTP_CLOCK_HZ * den) // (2 * RTP_CLOCK_HZ * den)


def parse_rtp_header(data: bytes) -> RtpHeader:
    """The packet's RTP header (:func:`sensors.rtp.parse_rtp_header`); a malformed one raises
    RtpPacketError with the camera's drop reason (``short``, ``version``, ``padding``)."""
    try:
        return _parse_rtp_header(data)
    except RtpHeaderError as err:
        raise RtpPacketError(err.reason, err.detail) from err


def parse_line_headers(data: bytes, start: int, end: int) -> List[Tuple[int, int, int]]:
    """(length bytes, line, offset px) of each RFC 4175 line segment in ``data[start:end]``.

    Raises RtpPacketError when the headers run past the payload or the segments' data do.
    """
    pos = start + 2  # the extended sequence number
    segments = []
    while True:
        if pos + _LINE_HEADER.size > end:
            raise RtpPacketError("malformed", "an RFC 4175 line header is cut off")
        length, line, offset = _LINE_HEADER.unpack_from(data, pos)
        pos += _LINE_HEADER.size
        segments.append((length, line & 0x7FFF, offset & 0x7FFF))
        if not offset & 0x8000:
            break
    if pos + sum(s[0] for s in segments) > end:
        raise RtpPacketError("malformed", "RFC 4175 line data run past the packet")
    return segments


@dataclass(frozen=True)
class RtpFrameReport:
    """One frame of the stream as it closed: its RTP timestamp and whether it is whole.

    ``problem`` is None for a good frame, else ``incomplete`` (a packet lost, or no marker),
    ``malformed`` (a packet of it could not be read) or ``size`` (its lines cover
    ``width_px`` x ``height_px``, not the configured size).
    """

    timestamp: int
    packets: int
    lost_packets: int
    width_px: int
    height_px: int
    problem: Optional[str]


class _Frame:
    __slots__ = ("timestamp", "packets", "lost", "malformed", "marker", "width", "height", "pixels")

    def __init__(self, timestamp: int) -> None:
        self.timestamp = timestamp
        self.packets = self.lost = self.width = self.height = self.pixels = 0
        self.malformed = self.marker = False


class RtpFrameTracker:
    """Follows one RFC 4175 stream of ``width_px`` x ``height_px`` (see the module docstring).

    ``packet(data)`` returns ``(keep, closed)``: whether the packet may go on to the
    depayloader, and the reports of the frames it closes, in the order the depayloader pushes
    them. ``drops`` counts packets dropped, by reason; ``lost_packets`` sums sequence gaps.
    """

    def __init__(self, width_px: int, height_px: int, payload_type: int = 96,
                 pgroup_bytes: int = 3, pgroup_px: int = 1) -> None:
        self.width_px, self.height_px = int(width_px), int(height_px)
        self.payload_type = int(payload_type)
        self.pgroup_bytes, self.pgroup_px = int(pgroup_bytes), int(pgroup_px)
        self.drops: Dict[str, int] = {}
        self.lost_packets = 0
        self._sequence: Optional[int] = None
        self._frame: Optional[_Frame] = None

    def _drop(self, reason: str) -> Tuple[bool, List[RtpFrameReport]]:
        self.drops[reason] = self.drops.get(reason, 0) + 1
        return False, []

    def packet(self, data: bytes) -> Tuple[bool, List[RtpFrameReport]]:
        try:
            header = parse_rtp_header(data)
        except RtpPacketError as err:
            return self._drop(f"rtp_{err.reason}")
        if header.payload_type != self.payload_type:
            return self._drop("rtp_payload_type")
        if self._sequence is not None:
            step = (header.sequence - self._sequence) & 0xFFFF
            if step == 0:
                return self._drop("rtp_duplicate")
            if step >= 0x8000:  # behind the newest: late, or from before a reordering
                return self._drop("rtp_late")
            if step > 1:
                self.lost_packets += step - 1
                if self._frame is not None:
                    self._frame.lost += step - 1
        self._sequence = header.sequence
        closed: List[RtpFrameReport] = []
        frame = self._frame
        if frame is not None and frame.timestamp != header.timestamp:
            closed.append(self._report(frame))
            frame = None
        if frame is None:
            frame = self._frame = _Frame(header.timestamp)
        frame.packets += 1
        keep = True
        try:
            segments = parse_line_headers(data, header.payload_start, header.payload_end)
        except RtpPacketError:
            frame.malformed = True
            keep = False
            self.drops["rfc4175_malformed"] = self.drops.get("rfc4175_malformed", 0) + 1
        else:
            for length, line, offset in segments:
                pixels = length // self.pgroup_bytes * self.pgroup_px
                frame.width = max(frame.width, offset + pixels)
                frame.height = max(frame.height, line + 1)
                frame.pixels += pixels
        if header.marker:
            frame.marker = True
            closed.append(self._report(frame))
            self._frame = None
        return keep, closed

    def _report(self, frame: _Frame) -> RtpFrameReport:
        problem = None
        if frame.malformed:
            problem = "malformed"
        elif frame.lost or not frame.marker:
            problem = "incomplete"
        elif (frame.width, frame.height) != (self.width_px, self.height_px):
            problem = "size"
        elif frame.pixels != self.width_px * self.height_px:
            problem = "incomplete"
        return RtpFrameReport(frame.timestamp, frame.packets, frame.lost, frame.width, frame.height, problem)
