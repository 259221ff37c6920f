"""The timecode driver: LTC audio from the configured input, decoded into timecode samples.

:class:`TimecodeDriver` is a driver like the others: :meth:`~TimecodeDriver.start` opens the input
``timecode.input`` names (:mod:`sensors.timecode.inputs`: RTP, a sound device, a WAV file, or
none), :meth:`~TimecodeDriver.close` closes it, ``on_sample`` receives every decoded LTC frame
as an :class:`~sensors.timecode.types.LtcReading` (a ``TimecodeSample``), and ``stats`` counts
decoded frames and drops by reason. :meth:`~TimecodeDriver.feed_audio` feeds audio directly
(tests, offline replay, the in-process simulated stage).

Each sample carries the label at the project rate (above 30 fps the first frame of the pair
its LTC frame labels), ``stamp.sensor_ns`` = that label's instant in ns since the midnight
label, and ``stamp.host_ns`` = the master-clock time of the LTC frame's first edge.

Drops, by reason (``stats.drops(reason)``): the decoder's :data:`~sensors.timecode.decoder.DROP_REASONS`
(``bad_sync``, ``noise``, ``bad_bcd``, ``bad_label``, ``wrong_rate``, ``parity``, ``reversed``),
the input's (``rtp_*``, ``device_*``), and two of the driver's own, from each frame's label and
the samples elapsed since the last one (the LTC frame period is exact on the sample counter):

- ``gap``: LTC frames missing (one count per frame) before a label that still follows the last;
- ``jump``: a label that does not follow the last one (re-jam, record-run restart): it is emitted,
  flagged ``"jump"``, and the following frames continue from it.
"""

from __future__ import annotations

import bisect
import threading
import time
from typing import Callable, Dict, List, Optional, Tuple

from config.models import TimecodeConfig
from sensors.stats import SensorStats
from sensors.timecode.decoder import DROP_REASONS, DecodedLtcFrame, LtcDecoder, Samples, as_float_samples
from sensors.timecode.inputs import make_input
from sensors.timecode.ltc import LTC_FRAME_BITS, ltc_frames_per_label
from sensors.timecode.smpte import add_frames, timecode_to_ns
from sensors.timecode.types import LtcReading
from sensors.vocabulary import NS_PER_S, Stamp, Timecode, TimecodeSample

__all__ = ["TimecodeDriver", "LtcDecoder", "DecodedLtcFrame", "classify_step"]


def classify_step(
    last: Optional[Tuple[Timecode, float]], tc: Timecode, start_sample: float, frame_samples: float
) -> Tuple[str, int]:
    """How LTC frame ``tc`` starting at ``start_sample`` follows ``last`` = (label, start sample):
    ``("ok", 0)``, ``("gap", n)`` with ``n`` frames missing, ``("jump", 0)``, or ``("first", 0)``.

    ``frame_samples`` is the LTC frame period in samples; the label must advance by the frames
    that fit in the elapsed samples (times the frames per LTC label above 30 fps).
    """
    if last is None:
        return "first", 0
    last_tc, last_start = last
    elapsed = int(round((start_sample - last_start) / frame_samples))
    if elapsed >= 1 and tc == add_frames(last_tc, elapsed * ltc_frames_per_label(tc.rate)):
        return ("ok", 0) if elapsed == 1 else ("gap", elapsed - 1)
    return "jump", 0


class TimecodeDriver:
    """Reads LTC from ``config.input`` (or :meth:`feed_audio`) into timecode samples; see the module docstring.

    ``on_sample`` is called on the input's thread (or the caller's, for :meth:`feed_audio`) with
    each :class:`LtcReading`; an exception it raises is the caller's and propagates (an input
    thread counts it in its receiver). ``clock_ns`` is the master clock.
    """

    _DROP_REASONS = DROP_REASONS

    def __init__(
        self,
        config: TimecodeConfig,
        clock_ns: Callable[[], int] = time.time_ns,
        on_sample: Optional[Callable[[TimecodeSample], None]] = None,
    ) -> None:
        self.config = config
        self.rate = config.frame_rate
        self.stats = SensorStats("timecode", clock_ns=clock_ns)
        self.last_user_bits: Optional[int] = None
        self._on_sample = on_sample
        self._clock_ns = clock_ns
        self._lock = threading.Lock()
        self.input = None
        self._set_sample_rate(int(config.sample_rate_hz))
        self._next_index = 0

    def _set_sample_rate(self, sample_rate_hz: int) -> None:
        self.sample_rate_hz = int(sample_rate_hz)
        self.decoder = LtcDecoder(self.rate, self.sample_rate_hz, parity_check=self.config.parity_check)
        self.frame_samples = self.decoder.nominal_bit_samples * LTC_FRAME_BITS
        self._frame_period = self.frame_samples  # samples per LTC frame, as measured
        self._last: Optional[Tuple[Timecode, float]] = None
        self._anchor_index: List[int] = []
        self._anchor_host: List[int] = []
        self._reported: Dict[str, int] = dict.fromkeys(DROP_REASONS, 0)
        # Chunk stamps older than this many samples are never looked up again.
        self._anchor_keep = 4 * int(self.frame_samples) + 4 * self.decoder.block_samples

    # -- the input ----------------------------------------------------------------------------
    def start(self) -> "TimecodeDriver":
        """Open the configured input (nothing for ``none``); a second call does nothing."""
        if self.input is None:
            source = make_input(self.config, self._feed, self.stats, self._clock_ns)
            if source is not None:
                rate = int(getattr(source, "sample_rate_hz", self.sample_rate_hz))
                if rate != self.sample_rate_hz:  # a WAV file says its own rate
                    with self._lock:
                        self._set_sample_rate(rate)
                self.input = source.start()
        return self

    def close(self) -> None:
        """Close the input; safe to call twice."""
        source, self.input = self.input, None
        if source is not None:
            source.close()

    def __enter__(self) -> "TimecodeDriver":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- decoding -----------------------------------------------------------------------------
    def feed_audio(self, samples: Samples, host_ns_of_first_sample: int) -> List[TimecodeSample]:
        """Decode a chunk of LTC audio that follows the previous one and whose first sample was
        taken at master time ``host_ns_of_first_sample``; returns the frames it completed."""
        self.stats.record_received()
        x = as_float_samples(samples)
        with self._lock:
            first = self._next_index
        return self._feed(x, first, host_ns_of_first_sample)

    def _feed(self, samples: Samples, first_index: int, host_ns_of_first_sample: int) -> List[TimecodeSample]:
        """Decode samples starting at ``first_index`` of the input's sample counter."""
        x = as_float_samples(samples)
        out: List[TimecodeSample] = []
        with self._lock:
            self._next_index = int(first_index) + x.size
            self._anchor_index.append(int(first_index))
            self._anchor_host.append(int(host_ns_of_first_sample))
            for tc, user_bits, start in self.decoder.feed(x, int(first_index)):
                out.append(self._reading(tc, user_bits, start))
            for reason in DROP_REASONS:
                delta = self.decoder.counters[reason] - self._reported[reason]
                if delta > 0:
                    self.stats.record_drop(reason, delta)
                    self._reported[reason] += delta
            self._prune_anchors()
        if self._on_sample is not None:
            for sample in out:
                self._on_sample(sample)
        return out

    def _reading(self, tc: Timecode, user_bits: int, start: int) -> LtcReading:
        kind, missing = classify_step(self._last, tc, float(start), self._frame_period)
        if kind == "ok":
            # Follow the frame period on this sample clock (a sound card's clock is off the
            # generator's by ppm), so the frames counted across a long gap stay exact.
            delta = float(start) - self._last[1]
            if abs(delta / self.frame_samples - 1.0) < 0.01:
                self._frame_period += 0.02 * (delta - self._frame_period)
        flags: Tuple[str, ...] = ()
        if kind == "gap":
            self.stats.record_drop("gap", missing)
            flags = ("gap",)
        elif kind == "jump":
            self.stats.record_drop("jump")
            flags = ("jump",)
        self._last = (tc, float(start))
        self.last_user_bits = user_bits
        stamp = Stamp(sensor_ns=timecode_to_ns(tc), host_ns=self._host_ns_at(start))
        self.stats.record_sample(stamp.sensor_ns, stamp.host_ns)
        return LtcReading(timecode=tc, stamp=stamp, user_bits=user_bits, flags=flags)

    def _host_ns_at(self, sample_index: int) -> int:
        i = bisect.bisect_right(self._anchor_index, sample_index) - 1
        i = max(i, 0)
        offset = sample_index - self._anchor_index[i]
        rate = self.sample_rate_hz
        return self._anchor_host[i] + (2 * offset * NS_PER_S + rate) // (2 * rate)

    def _prune_anchors(self) -> None:
        if len(self._anchor_index) < 64:
            return
        horizon = self._next_index - self._anchor_keep
        cut = bisect.bisect_right(self._anchor_index, horizon) - 1
        if cut > 0:
            del self._anchor_index[:cut]
            del self._anchor_host[:cut]
