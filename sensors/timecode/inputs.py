"""Where LTC audio comes from: one input class per ``timecode.input.kind``, chosen from a registry.

Every input calls ``sink(samples, first_sample_index, host_ns_of_first_sample)`` with mono float
samples, the index of the first one on the source's own sample counter (so holes in the stream
are holes in the index) and the master-clock time (``time.time_ns`` base) at which that sample
was taken. It counts what it receives and drops in the driver's :class:`~sensors.stats.SensorStats`.

- ``rtp`` (:class:`RtpLtcInput`): RTP L16 / L24 on a UDP socket of Onset's own (no GStreamer):
  the RTP timestamp is the sample index (:mod:`sensors.timecode.rtp`), arrivals give host time;
  drops ``rtp_short``, ``rtp_version``, ``rtp_payload_type``, ``rtp_payload``, ``rtp_lost``
  (packets, from sequence numbers), ``rtp_late``, ``rtp_duplicate``, ``rtp_ssrc`` (a second
  sender while the first is live). ``counters["restarts"]`` counts senders that restarted (a
  timestamp far from the stream's, or a new SSRC after 0.5 s of quiet): the index then continues
  one second after the old stream, so the decoder sees a hole; ``counters["reordered"]`` counts
  packets put back in order. Neither is a drop.
- ``pulse`` / ``alsa`` (:class:`GstLtcInput`): ``pulsesrc`` / ``alsasrc`` into an appsink, on
  GStreamer's system clock (the source slaves its timestamps to it); the buffer PTS gives the
  sample index and, through the system clock read beside ``time.time_ns``, the host time.
- ``wav`` (:class:`WavLtcInput`): a file (:mod:`sensors.timecode.wav`), played in real time from
  :meth:`start` (sample ``i`` at ``start + i / rate``) or, with ``realtime: false``, all at once
  with the same stamps.
"""

from __future__ import annotations

import threading
import time
from typing import Callable, Dict, List, Optional, Tuple, Type

import numpy as np

from config.models import TimecodeConfig
from sensors.errors import SensorError
from sensors.stats import SensorStats
from sensors.timecode.errors import RtpPacketError, TimecodeInputError, WavFormatError
from sensors.timecode.rtp import ArrivalClock, RtpReorder, parse_rtp, pcm_be_to_float
from sensors.timecode.wav import read_wav, read_wav_info
from sensors.udp import UdpReceiver
from sensors.vocabulary import NS_PER_S

__all__ = ["AudioSink", "RtpLtcInput", "GstLtcInput", "WavLtcInput", "INPUTS", "make_input"]

AudioSink = Callable[[np.ndarray, int, int], None]
ClockNs = Callable[[], int]
#: Another SSRC takes over the port only after the current sender has been quiet this long.
_SSRC_HOLD_NS = 500_000_000


class RtpLtcInput:
    """RTP audio carrying LTC on UDP ``input.host:input.port`` (see the module docstring)."""

    def __init__(self, config: TimecodeConfig, sink: AudioSink, stats: SensorStats, clock_ns: ClockNs = time.time_ns) -> None:
        self.config, self.spec = config, config.input
        self.sample_rate_hz = int(config.sample_rate_hz)
        self._sink, self._stats, self._clock_ns = sink, stats, clock_ns
        self._lock = threading.Lock()
        self.reorder = RtpReorder(
            self.spec.reorder_packets, back_samples=self.sample_rate_hz, ahead_samples=600 * self.sample_rate_hz
        )
        self.arrivals = ArrivalClock(self.sample_rate_hz)
        self.ssrc: Optional[int] = None
        self._last_arrival_ns = 0
        # Packets are decoded 10 ms at a time: per 1 ms packet, numpy's call overhead would cost
        # the 2-core box a tenth of a core; LTC frames still complete within 10 ms of their end.
        self._batch_samples = max(1, self.sample_rate_hz // 100)
        self._batch: List[np.ndarray] = []
        self._batch_first: Optional[int] = None
        self._batch_n = 0
        self._receiver: Optional[UdpReceiver] = None

    @property
    def counters(self) -> Dict[str, int]:
        return dict(self.reorder.counters)

    @property
    def port(self) -> int:
        """The UDP port bound (after :meth:`start`), else the configured one."""
        return self._receiver.port if self._receiver is not None else int(self.spec.port)

    def start(self) -> "RtpLtcInput":
        if self._receiver is None:
            receiver = UdpReceiver(self.spec.host, self.spec.port, self.on_datagram, who="timecode", clock_ns=self._clock_ns)
            self._receiver = receiver.start()
        return self

    def on_datagram(self, payload: bytes, host_ns: int) -> None:
        """One datagram that arrived at master time ``host_ns``; never raises for any bytes."""
        self._stats.record_received()
        try:
            packet = parse_rtp(payload)
            if packet.payload_type != self.spec.payload_type:
                raise RtpPacketError("rtp_payload_type", f"payload type {packet.payload_type}, expected {self.spec.payload_type}")
            samples = pcm_be_to_float(packet.payload, self.spec.encoding, self.spec.channels)
        except RtpPacketError as err:
            self._stats.record_drop(err.reason)
            return
        with self._lock:
            restart = self.reorder.is_restart(packet.timestamp)
            if self.ssrc is None:
                self.ssrc = packet.ssrc
            elif packet.ssrc != self.ssrc:
                if host_ns - self._last_arrival_ns < _SSRC_HOLD_NS:
                    self._stats.record_drop("rtp_ssrc")  # a second sender on the port
                    return
                self.ssrc, restart = packet.ssrc, True  # the sender went quiet and another took over
            self._last_arrival_ns = host_ns
            if restart:  # a restarted sender: release the old stream, then start a new one
                before = dict(self.reorder.counters)
                self._deliver(self.reorder.flush())
                self._flush_batch()
                self._count(before)
                self.reorder.restart(packet.timestamp)
                self.arrivals.reset()
            before = dict(self.reorder.counters)
            runs = self.reorder.push(packet.sequence, packet.timestamp, samples, host_ns)
            self._count(before)
            self._deliver(runs)

    def _deliver(self, runs: List[Tuple[int, np.ndarray, int]]) -> None:
        for first, run, arrival in runs:
            self.arrivals.observe(first, run.size, arrival)
            if self._batch_first is not None and first != self._batch_first + self._batch_n:
                self._flush_batch()  # a hole: the samples before it go now
            if self._batch_first is None:
                self._batch_first = first
            self._batch.append(run)
            self._batch_n += run.size
            if self._batch_n >= self._batch_samples:
                self._flush_batch()

    def _flush_batch(self) -> None:
        if self._batch_first is None:
            return
        first, samples = self._batch_first, np.concatenate(self._batch)
        self._batch, self._batch_first, self._batch_n = [], None, 0
        self._sink(samples, first, self.arrivals.host_ns(first))

    def _count(self, before: Dict[str, int]) -> None:
        for name in ("lost", "late", "duplicate"):
            delta = self.reorder.counters[name] - before[name]
            if delta:
                self._stats.record_drop(f"rtp_{name}", delta)

    def close(self) -> None:
        receiver, self._receiver = self._receiver, None
        if receiver is not None:
            receiver.close()
        with self._lock:
            before = dict(self.reorder.counters)
            self._deliver(self.reorder.flush())
            self._flush_batch()
            self._count(before)


class GstLtcInput:
    """A sound device through GStreamer: ``pulsesrc`` (kind ``pulse``) or ``alsasrc`` (``alsa``)."""

    _ELEMENT = {"pulse": "pulsesrc", "alsa": "alsasrc"}

    def __init__(self, config: TimecodeConfig, sink: AudioSink, stats: SensorStats, clock_ns: ClockNs = time.time_ns) -> None:
        self.config, self.spec = config, config.input
        self.element = self._ELEMENT[self.spec.kind]
        self.sample_rate_hz = int(config.sample_rate_hz)
        self._sink, self._stats, self._clock_ns = sink, stats, clock_ns
        self._pipeline = None
        self._stop = threading.Event()
        self._bus_thread: Optional[threading.Thread] = None
        self.error: Optional[str] = None
        self.callback_errors = 0
        self.last_callback_error: Optional[BaseException] = None

    def _describe(self) -> str:
        return f"{self.element} device={self.spec.device or '(default)'}"

    def start(self) -> "GstLtcInput":
        if self._pipeline is not None:
            return self
        from sensors.camera.gst import require_elements, require_gst

        try:
            gst = require_gst()
            require_elements([self.element, "audioconvert", "audioresample", "appsink"], needed_for="timecode input")
        except SensorError as err:
            raise TimecodeInputError(self.spec.kind, self._describe(), str(err)) from err
        Gst = gst.Gst
        caps = f"audio/x-raw,format=S32LE,layout=interleaved,rate={self.sample_rate_hz},channels={self.spec.channels}"
        pipeline = Gst.parse_launch(
            f"{self.element} name=src ! audioconvert ! audioresample ! {caps} ! "
            "appsink name=ltc emit-signals=true sync=false max-buffers=256 drop=false"
        )
        if self.spec.device:
            pipeline.get_by_name("src").set_property("device", self.spec.device)
        pipeline.get_by_name("ltc").connect("new-sample", self._on_sample)
        # The system clock, not the device's: the source then stamps buffers on a clock that reads
        # the same whenever it is read, so a late streaming thread does not shift host times.
        pipeline.use_clock(Gst.SystemClock.obtain())
        self._pipeline = pipeline
        if pipeline.set_state(Gst.State.PLAYING) == Gst.StateChangeReturn.FAILURE:
            message = self._bus_error(Gst)
            self._teardown(Gst)
            raise TimecodeInputError(self.spec.kind, self._describe(), message or "the pipeline refused to play")
        result, _, _ = pipeline.get_state(5 * Gst.SECOND)
        message = self._bus_error(Gst)
        if result == Gst.StateChangeReturn.FAILURE or message:
            self._teardown(Gst)
            raise TimecodeInputError(self.spec.kind, self._describe(), message or "the pipeline did not start")
        self._bus_thread = threading.Thread(target=self._watch_bus, args=(Gst,), name="timecode-gst-bus", daemon=True)
        self._bus_thread.start()
        return self

    def _bus_error(self, Gst) -> Optional[str]:  # noqa: N803 - GStreamer's module name
        message = self._pipeline.get_bus().pop_filtered(Gst.MessageType.ERROR)
        if message is None:
            return None
        err, _ = message.parse_error()
        return str(err.message)

    def _watch_bus(self, Gst) -> None:  # noqa: N803
        bus = self._pipeline.get_bus()
        while not self._stop.is_set():
            message = bus.timed_pop_filtered(100 * Gst.MSECOND, Gst.MessageType.ERROR | Gst.MessageType.EOS)
            if message is None:
                continue
            if message.type == Gst.MessageType.ERROR:
                err, _ = message.parse_error()
                self.error = str(err.message)
                self._stats.record_drop("device_error")
            return

    def _on_sample(self, appsink) -> object:
        from sensors.camera.gst import require_gst

        Gst = require_gst().Gst
        sample = appsink.emit("pull-sample")
        if sample is None:
            return Gst.FlowReturn.EOS
        self._stats.record_received()
        buffer = sample.get_buffer()
        ok, info = buffer.map(Gst.MapFlags.READ)
        if not ok:
            self._stats.record_drop("device_buffer")
            return Gst.FlowReturn.OK
        try:
            raw = np.frombuffer(info.data, dtype="<i4")
            usable = raw.size - raw.size % self.spec.channels
            samples = raw[:usable].reshape(-1, self.spec.channels)[:, 0].astype(np.float64) / float(1 << 31)
        finally:
            buffer.unmap(info)
        pts = buffer.pts
        if pts == Gst.CLOCK_TIME_NONE or samples.size == 0:
            self._stats.record_drop("device_buffer")
            return Gst.FlowReturn.OK
        clock = self._pipeline.get_clock()
        # Running time -> pipeline clock -> master clock, through one reading of both clocks.
        host_ns = int(pts) + int(self._pipeline.get_base_time()) - int(clock.get_time()) + int(self._clock_ns())
        first = (2 * int(pts) * self.sample_rate_hz + NS_PER_S) // (2 * NS_PER_S)
        try:
            self._sink(samples, first, host_ns)
        except Exception as err:  # noqa: BLE001 - a consumer's bug must not stop the device
            self.callback_errors += 1
            self.last_callback_error = err
        return Gst.FlowReturn.OK

    def _teardown(self, Gst) -> None:  # noqa: N803
        pipeline, self._pipeline = self._pipeline, None
        if pipeline is not None:
            pipeline.set_state(Gst.State.NULL)

    def close(self) -> None:
        self._stop.set()
        if self._bus_thread is not None:
            self._bus_thread.join(timeout=2.0)
            self._bus_thread = None
        if self._pipeline is not None:
            from sensors.camera.gst import require_gst

            self._teardown(require_gst().Gst)


class WavLtcInput:
    """LTC from a WAV file at ``input.path``, real time or batch (see the module docstring)."""

    CHUNK_S = 0.01

    def __init__(self, config: TimecodeConfig, sink: AudioSink, stats: SensorStats, clock_ns: ClockNs = time.time_ns) -> None:
        self.config, self.spec = config, config.input
        self._sink, self._stats, self._clock_ns = sink, stats, clock_ns
        path = str(self.spec.path)
        try:
            self.info = read_wav_info(path)
        except WavFormatError as err:
            raise TimecodeInputError("wav", path, err.reason) from err
        self.sample_rate_hz = self.info.sample_rate_hz
        self._stop = threading.Event()
        self._thread: Optional[threading.Thread] = None
        self.done = threading.Event()
        self.error: Optional[BaseException] = None
        self.samples_sent = 0

    def start(self) -> "WavLtcInput":
        if self._thread is None:
            args = (int(self._clock_ns()), time.time_ns())
            self._thread = threading.Thread(target=self._run, args=args, name="timecode-wav", daemon=True)
            self._thread.start()
        return self

    def _run(self, start_ns: int, wall_start_ns: int) -> None:
        rate = self.sample_rate_hz
        chunk = max(1, int(rate * self.CHUNK_S))
        try:
            at = 0
            while at < self.info.frames and not self._stop.is_set():
                samples, _ = read_wav(str(self.spec.path), at, chunk)
                if samples.size == 0:
                    break
                first_ns = start_ns + (2 * at * NS_PER_S + rate) // (2 * rate)
                if self.spec.realtime:
                    # A chunk leaves once its last sample has been "taken", as from a device.
                    ready_ns = wall_start_ns + (at + samples.size) * NS_PER_S // rate
                    wait_ns = ready_ns - int(time.time_ns())
                    if wait_ns > 0 and self._stop.wait(wait_ns / NS_PER_S):
                        break
                self._stats.record_received()
                self._sink(samples, at, first_ns)
                at += samples.size
                self.samples_sent = at
        except Exception as err:  # noqa: BLE001 - kept for the caller; the thread ends
            self.error = err
        finally:
            self.done.set()

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2.0)
            self._thread = None


#: Input class by ``timecode.input.kind`` (``none`` has no input).
INPUTS: Dict[str, Type] = {"rtp": RtpLtcInput, "pulse": GstLtcInput, "alsa": GstLtcInput, "wav": WavLtcInput}


def make_input(config: TimecodeConfig, sink: AudioSink, stats: SensorStats, clock_ns: ClockNs = time.time_ns):
    """The input ``config.input.kind`` names, not started yet; None for ``none``."""
    cls = INPUTS.get(config.input.kind)
    return None if cls is None else cls(config, sink, stats, clock_ns)
