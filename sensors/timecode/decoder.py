"""LTC audio in, LTC frames out: a streaming biphase-mark decoder that counts what it cannot read.

The decoder works on blocks of about four bit periods, all in numpy:

1. *slice*: the DC level and amplitude are tracked per block from its mid-range and half-range
   (biphase mark visits both levels in every bit), and a comparator with hysteresis at 30 % of
   the amplitude turns samples into a two-level state; each change of state is an edge, placed
   with sub-sample precision where the signal crosses its DC level;
2. *cells*: the interval between edges is a whole bit (a ``0``), half a bit (two of them make a
   ``1``) or neither (a glitch: counted in ``bit_errors``, and the bit stream is broken there);
3. *frames*: wherever the last 16 bits are the sync word and the 80 bits before hold no break, the
   frame is decoded by :func:`sensors.timecode.ltc.decode_ltc_frame`.

Above 30 fps the decoder reads LTC at half the project rate and returns project-rate labels (the
first frame of each pair; see :mod:`sensors.timecode.ltc`).

Only edges matter to biphase mark, so the decoder ignores polarity, gain and DC offset. It never
raises on sample values: frames it cannot trust are counted in :attr:`LtcDecoder.counters`:

- ``bad_sync``: a frame's worth of clean bits without a sync word;
- ``noise``: a frame's worth of bits broken by glitches (noise, dropouts), with or without a sync word;
- ``bad_bcd`` / ``bad_label``: a digit out of range, or a label that does not exist (a dropped DF label);
- ``wrong_rate``: a frame number the LTC rate never reaches, a drop-frame flag that disagrees with
  the project rate, or bit periods more than :data:`RATE_TOLERANCE` off the configured rate;
- ``parity``: the polarity-correction bit leaves an odd count of ones (when ``parity_check``);
- ``reversed``: a reversed sync word, i.e. LTC played backwards; nothing is emitted from it.

``bit_errors`` counts glitch cells, ``discontinuities`` chunks that do not follow the previous one
(the bit stream restarts there), ``bad_samples`` NaN or infinite samples.
"""

from __future__ import annotations

from typing import Dict, List, Optional, Tuple, Union

import numpy as np

from sensors.timecode.errors import LtcBcdError, LtcFrameError, LtcLabelError, LtcWrongRateError
from sensors.timecode.ltc import LTC_FRAME_BITS, LTC_SYNC_WORD, check_ltc_rate, decode_ltc_frame, parity_ok
from sensors.vocabulary import FrameRate, Timecode

__all__ = ["LtcDecoder", "DecodedLtcFrame", "Samples", "as_float_samples", "RATE_TOLERANCE", "DROP_REASONS"]

#: (timecode at the project rate, user bits, index of the sample nearest the frame's first edge)
DecodedLtcFrame = Tuple[Timecode, int, int]
Samples = Union[np.ndarray, bytes, bytearray, memoryview]

#: A frame whose bits last more than this fraction off the configured rate's is at the wrong rate
#: (24 vs 25 fps differ by 4 %, a generator's drift by ppm).
RATE_TOLERANCE = 0.02
#: Counter names that are LTC frames lost, in the order drivers report them.
DROP_REASONS = ("bad_sync", "noise", "bad_bcd", "bad_label", "wrong_rate", "parity", "reversed")
#: The sync word as it reads when the tape runs backwards.
LTC_REVERSED_SYNC_WORD = LTC_SYNC_WORD[::-1].copy()

_BREAK = 2  # marks a hole in the bit stream; never part of a decodable frame
_HYSTERESIS = 0.3  # of the tracked amplitude
_LEVEL_SMOOTHING = 0.3  # per block, for DC and amplitude
_SYNC_SLACK_BITS = 16  # bits past a frame before a missing sync word counts


def as_float_samples(samples: Samples) -> np.ndarray:
    """Mono samples as float64 (bytes are unsigned 8-bit); TypeError/ValueError on a misuse."""
    if isinstance(samples, (bytes, bytearray, memoryview)):
        arr = np.frombuffer(samples, dtype=np.uint8)
    else:
        arr = np.asarray(samples)
    if arr.dtype.kind not in "uif" and arr.dtype != np.bool_:
        raise TypeError(f"LTC samples must be a numeric array or bytes, got dtype {arr.dtype}")
    if arr.ndim > 1 and arr.size != arr.shape[0]:
        raise ValueError(f"LTC samples must be mono (one channel), got shape {arr.shape}")
    return arr.reshape(-1).astype(np.float64)


class LtcDecoder:
    """Streaming SMPTE 12M LTC decoder: audio samples in any chunks -> decoded frames.

    ``rate`` is the project rate (LTC runs at half of it above 30 fps). ``feed`` takes the chunk
    and the stream index of its first sample; chunks must follow each other (a jump in the index
    resets the bit stream and counts a ``discontinuities``). Results come out once a frame's last
    bit is closed by the next frame's first edge, at most a block later. ``parity_check``: drop
    frames whose polarity-correction bit is wrong (counted as ``parity``).
    """

    def __init__(self, rate: FrameRate, sample_rate_hz: int, *, parity_check: bool = True) -> None:
        self.ltc_rate = check_ltc_rate(rate)
        if int(sample_rate_hz) <= 0:
            raise ValueError(f"sample_rate_hz must be positive, got {sample_rate_hz}")
        self.rate = rate
        self.parity_check = bool(parity_check)
        self.sample_rate_hz = int(sample_rate_hz)
        num, den, _ = self.ltc_rate.value
        self.nominal_bit_samples = self.sample_rate_hz * den / (LTC_FRAME_BITS * num)
        self.block_samples = max(16, int(round(4 * self.nominal_bit_samples)))
        self.counters: Dict[str, int] = dict.fromkeys(
            ("frames", *DROP_REASONS, "bit_errors", "discontinuities", "bad_samples"), 0
        )
        self._dc: Optional[float] = None
        self._amp = 0.0
        self._bit_samples = self.nominal_bit_samples
        self._next_index: Optional[int] = None
        self._reset_stream()

    @property
    def bad_frames(self) -> int:
        """LTC frames lost, whatever the reason (the sum of the :data:`DROP_REASONS` counters)."""
        return sum(self.counters[reason] for reason in DROP_REASONS)

    def _reset_stream(self) -> None:
        self._pending: List[np.ndarray] = []
        self._pending_n = 0
        self._pending_first: Optional[int] = None
        self._state = 0  # comparator: +1 / -1, 0 before the first clear level
        self._quiet_start = False  # the stream began inside the hysteresis band
        self._last_y = 0.0
        self._last_edge: Optional[float] = None
        self._half_start: Optional[float] = None
        self._bits = np.zeros(0, dtype=np.uint8)
        self._bit_pos = np.zeros(0, dtype=np.float64)
        self._since_sync = 0
        self._breaks_since_sync = 0

    def feed(self, samples: Samples, first_sample_index: int) -> List[DecodedLtcFrame]:
        """Decode a chunk; return the frames completed so far as (timecode, user_bits, start sample)."""
        x = as_float_samples(samples)
        first = int(first_sample_index)
        if self._next_index is not None and first != self._next_index:
            self.counters["discontinuities"] += 1
            self._reset_stream()
        self._next_index = first + x.size
        if x.size == 0:
            return []
        bad = ~np.isfinite(x)
        if bad.any():
            self.counters["bad_samples"] += int(bad.sum())
            x[bad] = self._dc if self._dc is not None else 0.0
        if self._pending_first is None:
            self._pending_first = first
        self._pending.append(x)
        self._pending_n += x.size
        B = self.block_samples
        if self._pending_n < B:
            return []
        data = np.concatenate(self._pending)
        usable = (data.size // B) * B
        start = self._pending_first
        rest = data[usable:]
        self._pending = [rest] if rest.size else []
        self._pending_n = rest.size
        self._pending_first = start + usable
        edges = self._edges(data[:usable], start)
        bits, positions = self._cells(edges)
        return self._frames(bits, positions)

    # -- 1. slicing -----------------------------------------------------------------------------
    def _edges(self, x: np.ndarray, first: int) -> np.ndarray:
        B = self.block_samples
        blocks = x.reshape(-1, B)
        hi, lo = blocks.max(axis=1), blocks.min(axis=1)
        dc = np.empty(blocks.shape[0])
        amp = np.empty(blocks.shape[0])
        for i in range(blocks.shape[0]):  # a handful of blocks per call
            mid, half = (hi[i] + lo[i]) / 2.0, (hi[i] - lo[i]) / 2.0
            if self._dc is None:
                self._dc, self._amp = mid, half
            else:
                self._dc += _LEVEL_SMOOTHING * (mid - self._dc)
                self._amp += _LEVEL_SMOOTHING * (half - self._amp)
            dc[i], amp[i] = self._dc, self._amp
        y = x - np.repeat(dc, B)
        h = np.repeat(amp * _HYSTERESIS, B)
        clear = np.where(y > h, 1, np.where(y < -h, -1, 0)).astype(np.int8)
        idx = np.arange(x.size)
        last_clear = np.maximum.accumulate(np.where(clear != 0, idx, -1))
        state = np.where(last_clear >= 0, clear[np.maximum(last_clear, 0)], self._state).astype(np.int8)
        before = np.concatenate(([self._state], state[:-1])).astype(np.int8)
        change = (state != before) & (before != 0)
        if self._state == 0:
            nonzero = np.flatnonzero(clear)
            if nonzero.size == 0:
                self._quiet_start = True
            elif nonzero[0] > 0 or self._quiet_start:
                change[nonzero[0]] = True  # a signal rising out of the quiet band is an edge
        at = np.flatnonzero(change)
        y_prev = np.concatenate(([self._last_y], y[:-1]))[at]
        y_cur = y[at]
        slope = y_cur - y_prev
        safe = np.where(slope == 0, 1.0, slope)
        frac = np.where(slope == 0, 0.0, -y_prev / safe)  # where the line through the pair crosses 0
        pos = np.clip(at - 1 + frac, at - 2, at).astype(np.float64)
        self._state = int(state[-1])
        self._last_y = float(y[-1])
        return first + pos

    # -- 2. bit cells ---------------------------------------------------------------------------
    def _cells(self, edges: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
        if self._last_edge is not None:
            edges = np.concatenate(([self._last_edge], edges))
        if edges.size == 0:
            return np.zeros(0, dtype=np.uint8), np.zeros(0)
        self._last_edge = float(edges[-1])
        d = np.diff(edges)
        starts = edges[:-1]
        T = self._bit_samples
        kind = np.full(d.size, _BREAK, dtype=np.int8)
        kind[(d >= 0.25 * T) & (d < 0.75 * T)] = 1  # half cell
        kind[(d >= 0.75 * T) & (d <= 1.5 * T)] = 0  # whole cell
        estimates = np.concatenate((d[kind == 0], 2.0 * d[kind == 1]))
        if estimates.size >= 8:
            # Follow the generator's speed, within +-20 % of nominal.
            T = 0.7 * T + 0.3 * float(np.median(estimates))
            self._bit_samples = float(np.clip(T, 0.8 * self.nominal_bit_samples, 1.25 * self.nominal_bit_samples))
        if self._half_start is not None:
            kind = np.concatenate(([1], kind)).astype(np.int8)
            starts = np.concatenate(([self._half_start], starts))
            self._half_start = None
        n = kind.size
        is_half = kind == 1
        idx = np.arange(n)
        prev_half = np.concatenate(([False], is_half[:-1]))
        run_first = np.maximum.accumulate(np.where(is_half & ~prev_half, idx, 0))
        second = is_half & ((idx - run_first) % 2 == 1)  # closes a pair: one '1'
        next_half = np.concatenate((is_half[1:], [False]))
        unpaired = is_half & ~second & ~next_half
        if n and unpaired[-1]:
            self._half_start = float(starts[-1])  # its partner may come in the next chunk
            unpaired[-1] = False
        broken = (kind == _BREAK) | unpaired
        self.counters["bit_errors"] += int(broken.sum())
        emit = (kind == 0) | second | broken
        values = np.where(kind == 0, 0, np.where(second, 1, _BREAK)).astype(np.uint8)
        first_half = np.concatenate((starts[:1], starts[:-1]))  # a '1' starts at its first half
        positions = np.where(second, first_half, starts)
        return values[emit], positions[emit]

    # -- 3. frames ------------------------------------------------------------------------------
    def _frames(self, new_bits: np.ndarray, new_pos: np.ndarray) -> List[DecodedLtcFrame]:
        bits = np.concatenate((self._bits, new_bits))
        pos = np.concatenate((self._bit_pos, new_pos))
        carried = self._bits.size
        out: List[DecodedLtcFrame] = []
        marks: List[Tuple[int, bool]] = []  # (index of a sync word's last cell, forward?)
        n_sync = LTC_SYNC_WORD.size
        if bits.size >= n_sync:
            windows = np.lib.stride_tricks.sliding_window_view(bits, n_sync)
            for word, forward in ((LTC_SYNC_WORD, True), (LTC_REVERSED_SYNC_WORD, False)):
                ends = np.flatnonzero(np.all(windows == word, axis=1)) + n_sync - 1
                marks += [(int(e), forward) for e in ends if e >= carried]  # carried cells were searched already
            marks.sort()
        breaks = np.cumsum(bits == _BREAK)
        counted = carried  # cells (bits and breaks) already counted towards the sync accounting
        counted_breaks = int(breaks[carried - 1]) if carried else 0
        for end, forward in marks:
            self._count_bits(end + 1 - counted, int(breaks[end]) - counted_breaks)
            counted, counted_breaks = end + 1, int(breaks[end])
            self._since_sync = self._breaks_since_sync = 0
            if not forward:
                self.counters["reversed"] += 1  # tape running backwards: never read as forward labels
                continue
            first = end - (LTC_FRAME_BITS - 1)
            if first < 0:
                continue
            decoded = self._decode(bits[first : end + 1], pos[first : end + 1])
            if decoded is not None:
                frame_tc, user_bits = decoded
                self.counters["frames"] += 1
                out.append((frame_tc, user_bits, int(np.floor(pos[first] + 0.5))))
        if bits.size:
            self._count_bits(bits.size - counted, int(breaks[-1]) - counted_breaks)
        keep = LTC_FRAME_BITS - 1
        self._bits, self._bit_pos = bits[-keep:].copy(), pos[-keep:].copy()
        return out

    def _decode(self, frame_bits: np.ndarray, frame_pos: np.ndarray) -> Optional[Tuple[Timecode, int]]:
        """One sync-terminated run of 80 cells as (label, user bits), or None with its drop counted."""
        if np.any(frame_bits == _BREAK):
            self.counters["noise"] += 1
            return None
        bit_samples = float(frame_pos[-1] - frame_pos[0]) / (LTC_FRAME_BITS - 1)
        if abs(bit_samples / self.nominal_bit_samples - 1.0) > RATE_TOLERANCE:
            self.counters["wrong_rate"] += 1
            return None
        if self.parity_check and not parity_ok(frame_bits):
            self.counters["parity"] += 1
            return None
        try:
            frame = decode_ltc_frame(frame_bits, self.rate)
        except LtcBcdError:
            self.counters["bad_bcd"] += 1
            return None
        except LtcWrongRateError:
            self.counters["wrong_rate"] += 1
            return None
        except LtcLabelError:
            self.counters["bad_label"] += 1
            return None
        except LtcFrameError:
            self.counters["bad_sync"] += 1
            return None
        return frame.timecode, frame.user_bits

    def _count_bits(self, n: int, n_breaks: int) -> None:
        """Advance the cells-since-sync count by ``n`` (``n_breaks`` of them glitches); every
        frame's worth past the slack is a lost frame: ``noise`` if glitches broke it, else ``bad_sync``."""
        self._since_sync += n
        self._breaks_since_sync += n_breaks
        limit = LTC_FRAME_BITS + _SYNC_SLACK_BITS
        if self._since_sync >= limit:
            lost = (self._since_sync - limit) // LTC_FRAME_BITS + 1
            self.counters["noise" if self._breaks_since_sync else "bad_sync"] += lost
            self._since_sync -= lost * LTC_FRAME_BITS
            self._breaks_since_sync = 0
