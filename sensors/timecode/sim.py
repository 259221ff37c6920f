"""Simulated LTC generator: SMPTE 12M linear timecode audio on the generator's own drifting clock.

The waveform is biphase mark at 80 bits per frame: a transition at every bit boundary and one
more in the middle of every ``1``. Edges are placed from exact rational time (half-bit ``h``
falls at sample ``h * sample_rate * den / (160 * num)``), so fractional samples per frame (1601.6
at 29.97 fps and 48 kHz) never accumulate into slip. Each edge is a linear ramp (box-filtered
step) with the 10-90 % rise time of SMPTE 12M (25 us by default), and the signal is unsigned
8-bit mono centred at 128.

Above 30 fps the generator runs LTC at half the project rate (:func:`~sensors.timecode.ltc.ltc_rate`):
LTC frame ``k`` labels the pair of project frames ``2k, 2k + 1`` after the start and begins with
the first of them. :class:`LtcRtpSender` puts the audio on the wire as RTP L16 (AES67 style).
"""

from __future__ import annotations

import socket
import threading
import time
from fractions import Fraction
from functools import lru_cache
from typing import Optional, Tuple

import numpy as np

from config.models import TimecodeConfig
from sensors.sim.clock import DriftingClock
from sensors.timecode.ltc import LTC_FRAME_BITS, check_ltc_rate, encode_ltc_bits, ltc_frames_per_label
from sensors.timecode.rtp import build_rtp, float_to_pcm_be
from sensors.timecode.smpte import add_frames, parse_timecode
from sensors.udp import SenderThread, sender_socket
from sensors.vocabulary import NS_PER_S, FrameRate, Timecode

__all__ = ["LtcSim", "LtcRtpSender", "ltc_audio_for_frames", "render_ltc_samples", "DEFAULT_AMPLITUDE_LSB", "DEFAULT_RISE_TIME_S"]

DEFAULT_AMPLITUDE_LSB = 96
DEFAULT_RISE_TIME_S = 25e-6
_HALVES_PER_FRAME = 2 * LTC_FRAME_BITS


@lru_cache(maxsize=64)
def _frame_bits(start: Tuple[int, int, int, int], rate: FrameRate, k: int, user_bits: int) -> np.ndarray:
    """Bits of LTC frame ``k`` after label ``start`` (cached: short reads revisit the same frames)."""
    bits = encode_ltc_bits(add_frames(Timecode(*start, rate), k * ltc_frames_per_label(rate)), user_bits)
    bits.flags.writeable = False
    return bits


def render_ltc_samples(
    start: Timecode,
    first_sample: int,
    n_samples: int,
    sample_rate_hz: int,
    *,
    user_bits: int = 0,
    amplitude_lsb: float = DEFAULT_AMPLITUDE_LSB,
    rise_time_s: float = DEFAULT_RISE_TIME_S,
) -> np.ndarray:
    """Samples ``first_sample .. first_sample + n_samples - 1`` (uint8) of an LTC stream whose
    frame 0, labelled ``start`` (project rate; a pair's first frame above 30 fps), begins exactly
    at sample 0; the line idles low before it."""
    carrier = check_ltc_rate(start.rate)
    if n_samples < 0 or first_sample < 0:
        raise ValueError(f"need first_sample >= 0 and n_samples >= 0, got {first_sample}, {n_samples}")
    if n_samples == 0:
        return np.zeros(0, dtype=np.uint8)
    num, den, _ = carrier.value
    P, Q = den * int(sample_rate_hz), _HALVES_PER_FRAME * num  # half-bit h sits at sample h * P / Q
    ramp = max(float(rise_time_s) / 0.8 * sample_rate_hz, 1e-3)  # full ramp width, samples
    lo = first_sample - ramp / 2 - 1
    hi = first_sample + n_samples + ramp / 2 + 1
    h_lo = max(0, int(np.floor(lo * Q / P)) - 1)
    k_first, k_last = h_lo // _HALVES_PER_FRAME, int(np.ceil(hi * Q / P)) // _HALVES_PER_FRAME + 1
    key = (start.hours, start.minutes, start.seconds, start.frames)
    bits = np.concatenate([_frame_bits(key, start.rate, k, int(user_bits)) for k in range(k_first, k_last + 1)])
    # Transitions: every bit boundary (even half), plus mid-bit (odd half) of every 1.
    transitions = np.ones(bits.size * 2, dtype=np.int64)
    transitions[1::2] = bits
    # Each frame holds an even number of transitions, so every frame starts high.
    level = 1.0 - 2.0 * ((np.cumsum(transitions) - 1) % 2)
    h0 = k_first * _HALVES_PER_FRAME
    base = h0 * P - first_sample * Q  # exact, small: offset of half h0 from first_sample, times Q
    edges = (base + np.arange(level.size, dtype=np.int64) * P) / Q  # samples from first_sample
    half = P / Q
    F_edges = np.concatenate(([0.0], np.cumsum(level) * half))  # integral of the ideal wave

    def integral(x: np.ndarray) -> np.ndarray:
        j = np.clip(np.searchsorted(edges, x, side="right") - 1, 0, level.size - 1)
        inside = F_edges[j] + level[j] * (x - edges[j])
        before = -(x - edges[0])  # idle level (-1) before the first edge of the stream
        return np.where(x < edges[0], before, inside)

    x = np.arange(n_samples, dtype=np.float64)
    shaped = (integral(x + ramp / 2) - integral(x - ramp / 2)) / ramp
    return np.clip(np.rint(128.0 + amplitude_lsb * shaped), 0, 255).astype(np.uint8)


def ltc_audio_for_frames(
    start: Timecode,
    count: int,
    sample_rate_hz: int,
    *,
    user_bits: int = 0,
    amplitude_lsb: float = DEFAULT_AMPLITUDE_LSB,
    rise_time_s: float = DEFAULT_RISE_TIME_S,
) -> np.ndarray:
    """LTC audio (uint8 mono, centred at 128) of ``count`` LTC frames from ``start``; sample 0 is
    the first frame's first edge, and the array holds every sample before frame ``count`` starts
    (``ceil(count * sample_rate / ltc_fps)`` samples). A decoder needs the edge that opens the next
    frame to close the last bit, so it reads ``count - 1`` frames from this alone. Above 30 fps
    each LTC frame labels a pair of project frames (``count`` LTC frames label ``2 * count``)."""
    num, den, _ = check_ltc_rate(start.rate).value
    n = -(-int(count) * int(sample_rate_hz) * den // num)
    return render_ltc_samples(
        start, 0, n, sample_rate_hz, user_bits=user_bits, amplitude_lsb=amplitude_lsb, rise_time_s=rise_time_s
    )


class LtcSim:
    """The stage's timecode generator: LTC audio for the project rate on its own drifting clock.

    ``config.start`` labels the frame that starts at master time ``epoch_ns``; LTC frame ``k``
    starts when the generator's clock reads ``epoch_ns + offset_ns + k / ltc_fps``, and audio
    sample ``i`` is taken when it reads ``epoch_ns + offset_ns + i / sample_rate``. ``rate`` is
    the project rate, ``ltc_rate`` the rate the LTC runs at (half the project rate above 30 fps).
    ``read`` returns the stream in order; the ground truth is ``timecode_at`` (project frames)
    and ``sample_master_ns``.
    """

    def __init__(
        self,
        config: TimecodeConfig,
        epoch_ns: int,
        seed: int = 0,
        *,
        user_bits: int = 0,
        amplitude_lsb: float = DEFAULT_AMPLITUDE_LSB,
        rise_time_s: float = DEFAULT_RISE_TIME_S,
    ) -> None:
        self.config = config
        self.rate = config.frame_rate
        self.ltc_rate = check_ltc_rate(self.rate)
        self.start = parse_timecode(config.start, self.rate)
        self.sample_rate_hz = int(config.sample_rate_hz)
        self.epoch_ns = int(epoch_ns)
        self.clock = DriftingClock(config.clock, self.epoch_ns, seed)
        self.user_bits = int(user_bits)
        self.amplitude_lsb = float(amplitude_lsb)
        self.rise_time_s = float(rise_time_s)
        self._next_sample = 0

    @property
    def samples_read(self) -> int:
        """Index of the sample the next ``read`` starts with."""
        return self._next_sample

    def reset(self) -> None:
        """Rewind the audio stream to sample 0 (the start of frame 0)."""
        self._next_sample = 0

    def read(self, n_samples: int) -> np.ndarray:
        """The next ``n_samples`` samples of the LTC stream (uint8 mono, centred at 128)."""
        out = self.samples(self._next_sample, int(n_samples))
        self._next_sample += int(n_samples)
        return out

    def samples(self, first_sample: int, n_samples: int) -> np.ndarray:
        """Samples ``first_sample ..`` of the stream (uint8 mono), without moving :meth:`read`'s place."""
        return render_ltc_samples(
            self.start,
            int(first_sample),
            int(n_samples),
            self.sample_rate_hz,
            user_bits=self.user_bits,
            amplitude_lsb=self.amplitude_lsb,
            rise_time_s=self.rise_time_s,
        )

    def frame_start_sample(self, frame_index: int) -> Fraction:
        """Exact (fractional) sample position of LTC frame ``frame_index``'s first edge."""
        num, den, _ = self.ltc_rate.value
        return Fraction(int(frame_index) * self.sample_rate_hz * den, num)

    def timecode_of_frame(self, frame_index: int) -> Timecode:
        """Project label carried by LTC frame ``frame_index`` of the stream (0 is ``config.start``;
        above 30 fps the first frame of the pair it labels)."""
        return add_frames(self.start, int(frame_index) * ltc_frames_per_label(self.rate))

    def sample_master_ns(self, sample_index: int) -> int:
        """Master time (ns) at which sample ``sample_index`` is taken (nearest ns)."""
        i = int(sample_index)
        gen_ns = self.epoch_ns + self.clock.offset_ns + (2 * i * NS_PER_S + self.sample_rate_hz) // (2 * self.sample_rate_hz)
        return int(self.clock.master_ns(gen_ns))

    def timecode_at(self, master_ns: int) -> Tuple[Timecode, int]:
        """Ground truth at master time ``master_ns``: the label of the project frame running then,
        and the first master nanosecond at which the generator's clock has reached that frame's start."""
        num, den, _ = self.rate.value
        origin = self.epoch_ns + self.clock.offset_ns
        elapsed = int(self.clock.sensor_ns_exact(int(master_ns))) - origin
        k = (elapsed * num) // (den * NS_PER_S)
        start_gen_ns = origin - (-(k * den * NS_PER_S) // num)  # ceil: first whole ns at/after the start
        m = int(self.clock.master_ns(start_gen_ns))
        # The clock's inverse rounds; step to the first master ns whose clock reading reaches the start.
        while int(self.clock.sensor_ns_exact(m)) < start_gen_ns:
            m += 1
        while int(self.clock.sensor_ns_exact(m - 1)) >= start_gen_ns:
            m -= 1
        return add_frames(self.start, k), m


_BLOCK_PACKETS = 25  # packets of PCM rendered at once by the sender


class LtcRtpSender(SenderThread):
    """Sends an :class:`LtcSim`'s audio as RTP L16 (or L24) to UDP ``host:port``, in real time.

    AES67 / ST 2110-30 style: ``packet_samples`` per packet (48 = 1 ms at 48 kHz), payload type
    ``payload_type`` (96), RTP timestamp = the generator's sample index of the packet's first
    sample (mod 2^32), sequence numbers from ``ssrc``'s low 16 bits. Each packet leaves once its
    last sample has been taken (master time of the sample after it): the thread sleeps to each
    packet's instant, so lateness never accumulates; a packet whose instant has passed (a busy
    host) goes out at once. Packets whose instant was before :meth:`start` are skipped.
    ``sent`` counts datagrams, ``send_errors`` failed sends, ``max_lateness_ns`` the worst delay
    behind schedule, ``error`` the exception that stopped the thread (None while healthy).
    """

    def __init__(
        self,
        ltc_sim: LtcSim,
        host: str,
        port: int,
        *,
        packet_samples: int = 48,
        payload_type: int = 96,
        encoding: str = "L16",
        ssrc: int = 0x0C5E7000,
    ) -> None:
        if encoding not in ("L16", "L24"):
            raise ValueError(f"encoding must be L16 or L24, got {encoding!r}")
        self.sim, self.host, self.port = ltc_sim, host, int(port)
        self.packet_samples = max(1, int(packet_samples))
        self.payload_type, self.encoding, self.ssrc = int(payload_type), encoding, int(ssrc) & 0xFFFFFFFF
        self.sent = 0
        self.send_errors = 0
        self.max_lateness_ns = 0
        self.error: Optional[BaseException] = None
        self.first_sample: Optional[int] = None
        self._stop = threading.Event()
        self._thread: Optional[threading.Thread] = None
        self._sock: Optional[socket.socket] = None

    def start(self) -> "LtcRtpSender":
        if self._thread is None:
            self._sock = sender_socket(self.host)
            self._thread = threading.Thread(target=self._run, name="ltc-rtp-sim", daemon=True)
            self._thread.start()
        return self

    def _first_packet(self, now_ns: int) -> int:
        """Index of the first packet-aligned sample whose packet is not due before ``now_ns``."""
        p, sim = self.packet_samples, self.sim
        if sim.sample_master_ns(p) >= now_ns:
            return 0
        i = (now_ns - sim.sample_master_ns(0)) * sim.sample_rate_hz // NS_PER_S // p * p
        while i > 0 and sim.sample_master_ns(i) >= now_ns:
            i -= p
        while sim.sample_master_ns(i + p) < now_ns:
            i += p
        return i

    def _run(self) -> None:
        try:
            self._send_loop()
        except Exception as err:  # noqa: BLE001 - kept for the stage to report
            self.error = err

    def _send_loop(self) -> None:
        assert self._sock is not None
        p, sim = self.packet_samples, self.sim
        index = self._first_packet(time.time_ns())
        self.first_sample = index
        sequence = self.ssrc & 0xFFFF
        payloads: list = []  # the next packets' PCM payloads, rendered a block at a time
        block_first = index
        while not self._stop.is_set():
            due_ns = sim.sample_master_ns(index + p)
            wait_ns = due_ns - time.time_ns()
            if wait_ns > 0:
                time.sleep(wait_ns / NS_PER_S)  # cheaper than an Event wait; close() waits out one packet
                if self._stop.is_set():
                    return
            self.max_lateness_ns = max(self.max_lateness_ns, time.time_ns() - due_ns)
            if index >= block_first + p * len(payloads):  # render 25 packets at a time
                block_first = index
                audio = (sim.samples(index, _BLOCK_PACKETS * p).astype(np.float64) - 128.0) / 128.0
                pcm = float_to_pcm_be(audio, self.encoding)
                size = len(pcm) // _BLOCK_PACKETS
                payloads = [pcm[i * size:(i + 1) * size] for i in range(_BLOCK_PACKETS)]
            packet = build_rtp(sequence, index, self.ssrc, self.payload_type, payloads[(index - block_first) // p])
            try:
                self._sock.sendto(packet, (self.host, self.port))
                self.sent += 1
            except OSError:
                self.send_errors += 1
            index += p
            sequence = (sequence + 1) & 0xFFFF
