"""RTP audio (RFC 3550 packets, RFC 3190 L16 / L24 payloads: AES67, SMPTE ST 2110-30) for LTC.

Pure functions and one small state machine, no sockets:

- :func:`parse_rtp` reads a datagram's RTP header with :func:`sensors.rtp.parse_rtp_header` and
  returns its fields and payload; :func:`build_rtp` (from :mod:`sensors.rtp`) writes one;
- :func:`pcm_be_to_float` turns an L16 / L24 payload (big-endian signed PCM, interleaved) into the
  first channel's samples, full scale = 1.0; :func:`float_to_l16` is the inverse for one channel;
- :class:`RtpReorder` places packets on the sender's sample counter: the RTP timestamp (unwrapped
  from 32 bits) is the index of the packet's first sample, so samples land exactly where the sender
  took them whatever the network did. Up to ``depth`` packets are held to put late ones back in
  order; a hole still open after that is released as lost (counted from the sequence numbers), a
  packet behind what was already released is dropped as ``late``, a repeat as ``duplicate``.

Host time from arrival: a packet leaves once its last sample is taken, so
``arrival - (index + n) / sample_rate`` is the sender's media-clock offset plus that packet's
transport delay. :class:`ArrivalClock` keeps the smallest such value over a sliding window
(the least-delayed packet: scheduling and network jitter only ever add delay) and places every
sample at ``index / sample_rate + offset``. A host clock step or a restarted sender shows up as a
new minimum within one window.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Deque, Dict, List, Optional, Tuple

import numpy as np

from sensors.rtp import RtpHeaderError, build_rtp, parse_rtp_header
from sensors.timecode.errors import RtpPacketError
from sensors.vocabulary import NS_PER_S

__all__ = [
    "RtpPacket",
    "parse_rtp",
    "build_rtp",
    "pcm_be_to_float",
    "float_to_l16",
    "float_to_pcm_be",
    "RtpReorder",
    "ArrivalClock",
    "ENCODING_BYTES",
]

#: Bytes per sample of each RTP linear PCM encoding.
ENCODING_BYTES = {"L16": 2, "L24": 3}
_TS_MODULUS = 1 << 32
_SEQ_MODULUS = 1 << 16


@dataclass(frozen=True)
class RtpPacket:
    """One RTP packet's header fields and payload bytes."""

    sequence: int
    timestamp: int
    ssrc: int
    payload_type: int
    marker: bool
    payload: bytes


def parse_rtp(datagram: bytes) -> RtpPacket:
    """Decode an RTP header (:func:`sensors.rtp.parse_rtp_header`); :class:`RtpPacketError` with
    the timecode input's drop reason (``rtp_short``, ``rtp_version``, ``rtp_padding``) otherwise."""
    data = bytes(datagram)
    try:
        h = parse_rtp_header(data)
    except RtpHeaderError as err:
        raise RtpPacketError(f"rtp_{err.reason}", err.detail) from err
    return RtpPacket(h.sequence, h.timestamp, h.ssrc, h.payload_type, h.marker, data[h.payload_start:h.payload_end])


def pcm_be_to_float(payload: bytes, encoding: str, channels: int = 1) -> np.ndarray:
    """First channel of an L16 / L24 payload as float64 in [-1, 1); RtpPacketError if it does not
    hold whole sample frames."""
    width = ENCODING_BYTES[encoding]
    frame = width * int(channels)
    if len(payload) == 0 or len(payload) % frame:
        raise RtpPacketError("rtp_payload", f"{len(payload)} bytes is not a whole number of {encoding} x {channels} frames")
    if width == 2:
        return np.frombuffer(payload, dtype=">i2").reshape(-1, int(channels))[:, 0] / float(1 << 15)
    raw = np.frombuffer(payload, dtype=np.uint8).reshape(-1, frame)[:, :width].astype(np.int32)
    value = (raw[:, 0] << 16) | (raw[:, 1] << 8) | raw[:, 2]
    value = np.where(value >= 1 << 23, value - (1 << 24), value)
    return value.astype(np.float64) / float(1 << 23)


def float_to_l16(samples: np.ndarray) -> bytes:
    """Mono samples in [-1, 1] as an L16 payload (big-endian signed 16-bit, clipped)."""
    x = np.clip(np.rint(np.asarray(samples, dtype=np.float64) * 32768.0), -32768, 32767).astype(">i2")
    return x.tobytes()


def float_to_pcm_be(samples: np.ndarray, encoding: str) -> bytes:
    """Mono samples in [-1, 1] as an L16 or L24 payload (big-endian signed, clipped)."""
    if encoding == "L16":
        return float_to_l16(samples)
    full = 1 << 23
    x = np.clip(np.rint(np.asarray(samples, dtype=np.float64) * full), -full, full - 1).astype(np.int64) & 0xFFFFFF
    out = np.empty((x.size, 3), dtype=np.uint8)
    out[:, 0], out[:, 1], out[:, 2] = (x >> 16) & 0xFF, (x >> 8) & 0xFF, x & 0xFF
    return out.tobytes()


class RtpReorder:
    """Puts RTP audio packets in sample order on the sender's counter (see the module docstring).

    :meth:`push` takes a packet's (sequence, timestamp, samples, arrival) and returns the runs now
    ready, in order, as ``(first_sample_index, samples, arrival_ns)``; index 0 is the first
    packet's first sample. ``counters``: ``lost`` packets, ``reordered`` (arrived out of order but
    placed), ``late`` (dropped: behind what was released), ``duplicate``, ``restarts``.

    A timestamp more than ``back_samples`` behind what was released, or more than
    ``ahead_samples`` past the newest, is not a late or lost packet but a sender that restarted
    (with a new random timestamp): :meth:`is_restart` says so and :meth:`restart` continues the
    index ``back_samples`` after the old stream's end, so indices only grow and the hole shows.
    """

    def __init__(self, depth: int = 4, back_samples: int = 48000, ahead_samples: int = 600 * 48000) -> None:
        self.depth = max(0, int(depth))
        self.back_samples, self.ahead_samples = int(back_samples), int(ahead_samples)
        self.counters: Dict[str, int] = dict.fromkeys(("packets", "lost", "reordered", "late", "duplicate", "restarts"), 0)
        self._origin_ts: Optional[int] = None
        self._last_index = 0  # unwrapped index of the newest timestamp seen (for unwrapping)
        self._last_ts = 0
        self._newest = -1  # highest index that has arrived
        self._next: Optional[int] = None  # index the next released packet must start at
        self._next_seq: Optional[int] = None
        self._held: Dict[int, Tuple[int, np.ndarray, int]] = {}  # index -> (sequence, samples, arrival)
        self._released: Deque[int] = deque(maxlen=256)  # recent released indices, to tell repeats from late packets

    def _peek(self, ts: int) -> int:
        """Unwrapped index of timestamp ``ts`` relative to the newest one seen."""
        if self._origin_ts is None:
            return 0
        delta = (ts - self._last_ts) % _TS_MODULUS
        if delta >= _TS_MODULUS // 2:
            delta -= _TS_MODULUS
        return self._last_index + delta

    def _unwrap(self, ts: int) -> int:
        index = self._peek(ts)
        if self._origin_ts is None:
            self._origin_ts, self._last_ts, self._last_index = ts, ts, 0
        elif index > self._last_index:
            self._last_ts, self._last_index = ts, index
        return index

    def is_restart(self, timestamp: int) -> bool:
        """True when ``timestamp`` cannot belong to the stream so far (see the class docstring)."""
        if self._next is None:
            return False
        index = self._peek(int(timestamp))
        return index < self._next - self.back_samples or index > max(self._newest, self._next) + self.ahead_samples

    def restart(self, timestamp: int) -> None:
        """Start a new stream at ``timestamp`` (call :meth:`flush` first to release the old one)."""
        self.counters["restarts"] += 1
        start = (self._next if self._next is not None else 0) + self.back_samples
        self._origin_ts = int(timestamp)
        self._last_ts, self._last_index = int(timestamp), start
        self._newest, self._next, self._next_seq = start - 1, start, None

    def push(self, sequence: int, timestamp: int, samples: np.ndarray, arrival_ns: int) -> List[Tuple[int, np.ndarray, int]]:
        """Place one packet; return the runs released by it (possibly none)."""
        self.counters["packets"] += 1
        index = self._unwrap(int(timestamp))
        if self._next is not None and index < self._next:
            self.counters["duplicate" if index in self._released else "late"] += 1
            return []
        if index in self._held:
            self.counters["duplicate"] += 1
            return []
        if index < self._newest:
            self.counters["reordered"] += 1
        self._newest = max(self._newest, index)
        self._held[index] = (int(sequence), samples, int(arrival_ns))
        return self._release(force=len(self._held) > self.depth)

    def flush(self) -> List[Tuple[int, np.ndarray, int]]:
        """Release everything held (end of stream), holes counted as lost."""
        out: List[Tuple[int, np.ndarray, int]] = []
        while self._held:
            out += self._release(force=True)
        return out

    def _release(self, force: bool) -> List[Tuple[int, np.ndarray, int]]:
        out: List[Tuple[int, np.ndarray, int]] = []
        while self._held:
            head = min(self._held)
            if self._next is not None and head != self._next and not force:
                break
            sequence, samples, arrival = self._held.pop(head)
            if self._next_seq is not None:
                missing = (sequence - self._next_seq) % _SEQ_MODULUS
                if 0 < missing < _SEQ_MODULUS // 2:
                    self.counters["lost"] += missing
            self._next_seq = (sequence + 1) % _SEQ_MODULUS
            self._next = head + samples.size
            self._released.append(head)
            out.append((head, samples, arrival))
            force = len(self._held) > self.depth
        return out


class ArrivalClock:
    """Host time of RTP samples from packet arrivals: the least-delayed packet of a sliding window
    fixes the media clock's offset (see the module docstring). ``window`` is in packets."""

    def __init__(self, sample_rate_hz: int, window: int = 1000) -> None:
        self.sample_rate_hz = int(sample_rate_hz)
        self.window = max(1, int(window))
        self.reset()

    def reset(self) -> None:
        """Forget every arrival (a new stream: its media clock has another offset)."""
        self._count = 0
        self._mins: Deque[Tuple[int, int]] = deque()  # (packet number, offset_ns), offsets increasing

    def _sample_ns(self, index: int) -> int:
        return (2 * int(index) * NS_PER_S + self.sample_rate_hz) // (2 * self.sample_rate_hz)

    def observe(self, first_index: int, n_samples: int, arrival_ns: int) -> None:
        """One packet of ``n_samples`` starting at ``first_index`` arrived at host time ``arrival_ns``."""
        offset = int(arrival_ns) - self._sample_ns(int(first_index) + int(n_samples))
        self._count += 1
        while self._mins and self._mins[-1][1] >= offset:
            self._mins.pop()
        self._mins.append((self._count, offset))
        while self._mins[0][0] <= self._count - self.window:
            self._mins.popleft()

    def host_ns(self, index: int) -> int:
        """Host (master) time at which sample ``index`` was taken, by the current offset."""
        if not self._mins:
            raise RuntimeError("ArrivalClock.host_ns before any packet was observed")
        return self._sample_ns(index) + self._mins[0][1]
