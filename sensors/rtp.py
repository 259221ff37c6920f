"""The RTP fixed header (RFC 3550), shared by every family that takes RTP: camera video (RFC 4175)
and timecode audio (L16/L24).

:func:`parse_rtp_header` checks version 2, skips CSRCs and a header extension, strips padding, and
says where the payload lies; any bytes that are not such a packet raise :class:`RtpHeaderError`
whose ``reason`` (``short``, ``version``, ``padding``) each family counts under its own drop
names. :func:`build_rtp` writes one (the simulated senders' side).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from sensors.errors import DecodeError

__all__ = ["RTP_HEADER_BYTES", "RtpHeader", "RtpHeaderError", "build_rtp", "parse_rtp_header"]

_HEADER = struct.Struct("!BBHII")
RTP_HEADER_BYTES = _HEADER.size


class RtpHeaderError(DecodeError):
    """Bytes that are not an RTP packet; ``reason`` names what is wrong, ``detail`` the values."""

    def __init__(self, reason: str, detail: str) -> None:
        self.reason, self.detail = reason, detail
        super().__init__(f"not an RTP packet ({reason}): {detail}")


@dataclass(frozen=True)
class RtpHeader:
    """The fixed RTP header of one packet and where its payload lies (``payload_start:payload_end``)."""

    marker: bool
    payload_type: int
    sequence: int
    timestamp: int
    ssrc: int
    payload_start: int
    payload_end: int


def parse_rtp_header(data: bytes) -> RtpHeader:
    """Parse an RTP packet's header (CSRCs, extension and padding skipped); RtpHeaderError if malformed."""
    if len(data) < _HEADER.size:
        raise RtpHeaderError("short", f"{len(data)} bytes, an RTP header needs {_HEADER.size}")
    first, second, sequence, timestamp, ssrc = _HEADER.unpack_from(data)
    if first >> 6 != 2:
        raise RtpHeaderError("version", f"RTP version {first >> 6}, expected 2")
    start = _HEADER.size + 4 * (first & 0x0F)
    if first & 0x10:  # header extension: 16-bit profile, 16-bit length in 32-bit words
        if len(data) < start + 4:
            raise RtpHeaderError("short", "the header extension is cut off")
        start += 4 + 4 * struct.unpack_from("!H", data, start + 2)[0]
    end = len(data)
    if first & 0x20:  # padding: the last byte says how many bytes to drop, itself included
        pad = data[-1]
        if pad == 0 or end - pad < start:
            raise RtpHeaderError("padding", f"padding of {pad} bytes does not fit a {len(data)}-byte packet")
        end -= pad
    if start > end:
        raise RtpHeaderError("short", f"a header of {start} bytes in a {len(data)}-byte packet")
    return RtpHeader(bool(second & 0x80), second & 0x7F, sequence, timestamp, ssrc, start, end)


def build_rtp(sequence: int, timestamp: int, ssrc: int, payload_type: int, payload: bytes, marker: bool = False) -> bytes:
    """An RTP packet (version 2, no padding, extension or CSRC) carrying ``payload``."""
    second = (0x80 if marker else 0) | (int(payload_type) & 0x7F)
    header = _HEADER.pack(0x80, second, int(sequence) & 0xFFFF, int(timestamp) & 0xFFFFFFFF, int(ssrc) & 0xFFFFFFFF)
    return header + bytes(payload)
