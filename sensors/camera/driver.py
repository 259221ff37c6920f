"""Camera driver: runs a GStreamer pipeline and turns its frames into :class:`ImageFrame`.

The pipeline comes from :func:`sensors.camera.pipelines.build_pipeline`. Two threads serve it:
one pulls samples from the ``appsink`` (copying the RGB out of each buffer), one watches the bus
for errors and end-of-stream and notices a stream that stopped. Nothing is swallowed: a bus
error becomes a :class:`PipelineError` kept in :attr:`CameraDriver.error` and raised by
:meth:`CameraDriver.check`. No element waits for timecode.

Time, by source:

- ``rtp``: ``exposure_mid.sensor_ns`` is the camera's own stamp, its 90 kHz RTP timestamp
  (read by :class:`~sensors.camera.rtp_probe.RtpFrameProbe` off the packets that made the
  frame) unwrapped against host time (:func:`~sensors.camera.rtp.unwrap_rtp_ticks`);
  ``frame_index = round(sensor_ns * fps)``, the frame number on the camera's clock;
  ``host_ns`` is ``clock_ns()`` when the depayloader had the frame whole.
- ``appsrc``: the PTS pushed plus :attr:`CameraDriver.sensor_epoch_ns` (the pusher's clock);
  the buffer offset is the frame number.
- every other source: the pipeline clock (the capture card's for DeckLink, the system monotonic
  clock otherwise) when the source stamped the frame; ``host_ns`` when it left the appsink.

Timecode: ``ImageFrame.timecode`` is None, except for ``decklinkvideosrc``, whose RP188
timecode is read off each buffer (:mod:`~sensors.camera.timecode_meta`).

Drops (``stats``, by reason): frames the appsink (or a leaky appsrc) throws away and frames
lost on the wire show up as gaps in the frame index (``frame_gap``; a jump of more than
``_MAX_GAP_S`` is one ``frame_jump``, a step back ``frame_order``); RTP packets lost
(``rtp_lost_packets``), not RTP (``rtp_short``, ``rtp_version``), of another payload type,
duplicated or late; RTP frames dropped as ``incomplete``, ``malformed`` or ``size`` (another
resolution than the profile's: dropped, never scaled); a stream silent for
``STALL_PERIODS`` frame periods counts one ``stalled`` and :attr:`CameraDriver.stalled` is True
until frames come back.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Callable, Optional

from config.models import CameraConfig
from sensors.camera.errors import CameraStateError, PipelineError, PipelineStartError, TimecodeMetaError
from sensors.camera.gst import require_elements, require_gst
from sensors.camera.pipelines import DEPAY, RTP_PAYLOAD_TYPE, SINK, SOURCE, VIDEO_APPSRC, build_pipeline, unpack_rgb
from sensors.camera.rtp import RtpFrameTracker, frame_index_from_ticks, ns_from_ticks, unwrap_rtp_ticks
from sensors.camera.rtp_probe import RtpFrameProbe
from sensors.camera.types import PipelineSpec
from sensors.stats import SensorStats
from sensors.vocabulary import NS_PER_S, ImageFrame, Stamp, Timecode

__all__ = ["CameraDriver", "STALL_PERIODS"]

log = logging.getLogger(__name__)

#: Frame periods without a frame after which a running stream counts as stalled.
STALL_PERIODS = 12
_PULL_TIMEOUT_NS = 100_000_000
_MAX_GAP_S = 10  # a longer jump of the frame index is one "frame_jump", not thousands of gaps


class CameraDriver:
    """Runs ``camera``'s pipeline; ``on_frame`` gets each :class:`ImageFrame` on the puller thread.

    ``live=False`` is the batch mode of an ``appsrc``/``videotestsrc`` camera (see
    :func:`~sensors.camera.pipelines.build_pipeline`). ``stats`` counts frames, drops and the
    sensor-vs-host clock line. ``clock_ns`` is the host clock (ns) the frames are stamped with.
    """

    def __init__(
        self,
        camera: CameraConfig,
        on_frame: Optional[Callable[[ImageFrame], None]] = None,
        clock_ns: Callable[[], int] = time.time_ns,
        *,
        live: bool = True,
    ) -> None:
        self.camera = camera
        self.on_frame = on_frame
        self._clock_ns = clock_ns
        self.spec: PipelineSpec = build_pipeline(camera, live=live)
        self.stats = SensorStats(camera.name, clock_ns=clock_ns)
        #: appsrc: sensor time (ns) at running time 0. None: the pipeline's base time.
        self.sensor_epoch_ns: Optional[int] = None
        self.frames_decoded = 0
        self._fps = camera.frame_rate.fps
        self._gst = None
        self._pipeline = None
        self._elements: dict = {}
        self._probe: Optional[RtpFrameProbe] = None
        self._base_time_ns: Optional[int] = None
        self._latest: Optional[ImageFrame] = None
        self._last_index: Optional[int] = None
        self._bad_at_last = 0
        self._last_frame_host_ns: Optional[int] = None
        self._stalled = False
        self._error: Optional[PipelineError] = None
        self._stop = threading.Event()
        self._drained = threading.Event()
        self._threads: list = []

    # -- life cycle -------------------------------------------------------------------------
    def start(self) -> "CameraDriver":
        """Build the pipeline and set it playing; raises a :class:`CameraError` naming what failed."""
        if self._pipeline is not None:
            return self
        gst = self._gst = require_gst()
        Gst = gst.Gst
        self._stop.clear()
        self._drained.clear()
        self._error = None
        require_elements(self.spec.elements, needed_for=f"camera {self.camera.name!r} ({self.spec.source.value})")
        try:
            pipeline = Gst.parse_launch(self.spec.description)
        except gst.GLib.Error as err:
            raise PipelineStartError(
                f"camera {self.camera.name!r}: cannot build the pipeline: {err.message} -- {self.spec.description}"
            ) from err
        self._elements = {name: pipeline.get_by_name(name) for name in (VIDEO_APPSRC, SOURCE, DEPAY, SINK)}
        if self.spec.rtp:
            tracker = RtpFrameTracker(self.camera.width_px, self.camera.height_px, RTP_PAYLOAD_TYPE)
            self._probe = RtpFrameProbe(tracker, self.stats, self._clock_ns)
            self._probe.attach(gst, self._elements[DEPAY])
        self._pipeline = pipeline
        if pipeline.set_state(Gst.State.PLAYING) == Gst.StateChangeReturn.FAILURE:
            error = self._pop_error(pipeline.get_bus())
            self._teardown()
            if error is not None:
                raise error
            raise PipelineStartError(
                f"camera {self.camera.name!r}: the {self.spec.source.value} pipeline refused to start and no element "
                f"said why (is the device present and free?) -- {self.spec.description}"
            )
        for target, name in ((self._watch_bus, "bus"), (self._pull, "pull")):
            thread = threading.Thread(target=target, name=f"camera-{self.camera.name}-{name}", daemon=True)
            self._threads.append(thread)
            thread.start()
        return self

    def close(self) -> None:
        """Stop the pipeline and its threads; safe to call twice, and from ``on_frame``."""
        self._stop.set()
        self._teardown()
        for thread in self._threads:
            if thread is not threading.current_thread():
                thread.join(timeout=5.0)
        self._threads = []

    def _teardown(self) -> None:
        pipeline, self._pipeline = self._pipeline, None
        if pipeline is None:
            return
        pipeline.set_state(self._gst.Gst.State.NULL)
        self._elements = {}

    def __enter__(self) -> "CameraDriver":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- state ------------------------------------------------------------------------------
    @property
    def error(self) -> Optional[PipelineError]:
        """The first error the pipeline posted, or None."""
        return self._error

    def check(self) -> None:
        """Raise the pipeline's error, if it posted one."""
        if self._error is not None:
            raise self._error

    @property
    def eos(self) -> bool:
        """True once the stream has ended and every frame has been pulled."""
        return self._drained.is_set()

    @property
    def stalled(self) -> bool:
        """True while a stream that was delivering has sent nothing for ``STALL_PERIODS`` frames."""
        return self._stalled

    @property
    def port(self) -> int:
        """The UDP port the RTP source listens on (the bound one when the profile said 0)."""
        if not self.spec.rtp:
            raise CameraStateError(f"camera {self.camera.name!r}: source {self.spec.source.value} has no UDP port")
        self._require_running()
        return int(self._elements[SOURCE].get_property("port"))

    def wait_eos(self, timeout_s: float) -> bool:
        """Wait for end-of-stream with every frame delivered; raises the pipeline's error if one comes."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            self.check()
            if self._drained.wait(0.02):
                return True
        self.check()
        return self._drained.is_set()

    def latest(self) -> Optional[ImageFrame]:
        """The newest frame delivered, or None before the first."""
        return self._latest

    def pipeline_latency_ns(self) -> int:
        """The running pipeline's own latency, ns, as a GStreamer latency query answers it.

        The minimum latency the elements upstream of the appsink report (a live source's frame,
        a capture card's, a decoder's, a jitter buffer's): how long a frame is held between its
        source and the appsink by design, which the node may subtract from the arrival times. It
        does not include the wire or the sender (the RTP source reports 0: its stamps are the
        camera's). 0 when the pipeline is not live or does not answer yet.
        """
        self._require_running()
        Gst = self._gst.Gst
        query = Gst.Query.new_latency()
        # Asked upstream of the appsink: a sink that does not sync answers for itself as not live.
        if not self._elements[SINK].get_static_pad("sink").peer_query(query):
            return 0
        live, min_ns, _max_ns = query.parse_latency()
        return 0 if not live or min_ns == Gst.CLOCK_TIME_NONE else int(min_ns)

    def running_time_ns(self) -> int:
        """The pipeline's running time now (its clock minus its base time), ns."""
        pipeline = self._require_running()
        clock = pipeline.get_clock()
        if clock is None:
            raise CameraStateError(f"camera {self.camera.name!r}: the pipeline has no clock yet")
        return int(clock.get_time()) - int(pipeline.get_base_time())

    def _require_running(self):
        if self._pipeline is None:
            raise CameraStateError(f"camera {self.camera.name!r}: the driver is not started")
        return self._pipeline

    # -- appsrc input (in-process tests and tools) -------------------------------------------------
    @property
    def appsrc_video(self):
        """The video ``appsrc`` element (source ``appsrc`` only)."""
        self._require_running()
        element = self._elements.get(VIDEO_APPSRC)
        if element is None:
            raise CameraStateError(
                f"camera {self.camera.name!r}: this pipeline has no video appsrc (source {self.spec.source.value})"
            )
        return element

    def push_video(self, data: bytes, pts_ns: int, duration_ns: int, frame_index: int,
                   timecode: Optional[Timecode] = None) -> bool:
        """Push one packed RGB frame (see :func:`pack_rgb`); False when the pipeline no longer takes it.

        ``timecode``: attach it as a GstVideoTimeCodeMeta, as a capture card does (tests).
        """
        Gst = self._gst.Gst
        buffer = Gst.Buffer.new_wrapped(bytes(data))
        buffer.pts, buffer.duration = int(pts_ns), int(duration_ns)
        buffer.offset, buffer.offset_end = int(frame_index), int(frame_index) + 1
        if timecode is not None:
            from sensors.camera.timecode_meta import add_time_code_meta

            add_time_code_meta(buffer, timecode)
        return self.appsrc_video.emit("push-buffer", buffer) == Gst.FlowReturn.OK

    def end_video(self) -> None:
        """End the video stream (the pipeline drains, then :attr:`eos` turns True)."""
        self.appsrc_video.emit("end-of-stream")

    # -- GStreamer threads ----------------------------------------------------------------------
    def _pop_error(self, bus) -> Optional[PipelineError]:
        message = bus.pop_filtered(self._gst.Gst.MessageType.ERROR)
        return self._error_from(message) if message is not None else None

    def _error_from(self, message) -> PipelineError:
        err, debug = message.parse_error()
        return PipelineError(self.camera.name, self._describe(message.src), err.message, debug)

    def _describe(self, src) -> str:
        """``factory (name)`` of a message's source, e.g. ``filesrc (onset_source)``."""
        if src is None:
            return "pipeline"
        factory = src.get_factory() if isinstance(src, self._gst.Gst.Element) else None
        return f"{factory.get_name()} ({src.get_name()})" if factory is not None else src.get_name()

    def _watch_bus(self) -> None:
        Gst = self._gst.Gst
        pipeline = self._pipeline
        if pipeline is None:
            return
        bus = pipeline.get_bus()
        wanted = Gst.MessageType.ERROR | Gst.MessageType.WARNING | Gst.MessageType.EOS
        while not self._stop.is_set():
            message = bus.timed_pop_filtered(_PULL_TIMEOUT_NS, wanted)
            self._watch_stall()
            if message is None:
                continue
            if message.type == Gst.MessageType.ERROR:
                error = self._error_from(message)
                log.error("%s", error)
                if self._error is None:
                    self._error = error
            elif message.type == Gst.MessageType.WARNING:
                warning, debug = message.parse_warning()
                source = self._describe(message.src)
                log.warning("camera %s: %s: %s (%s)", self.camera.name, source, warning.message, debug)
            elif message.type == Gst.MessageType.EOS:
                log.info("camera %s: end of stream", self.camera.name)

    def _watch_stall(self) -> None:
        last = self._last_frame_host_ns
        if last is None or self._stalled or not self.spec.video_live:
            return
        silent_ns = self._clock_ns() - last
        if silent_ns * self._fps > STALL_PERIODS * NS_PER_S:
            self._stalled = True
            self.stats.record_drop("stalled")
            log.warning("camera %s: no frame for %.0f ms", self.camera.name, silent_ns / 1e6)

    def _pull(self) -> None:
        sink = self._elements.get(SINK)
        while not self._stop.is_set() and sink is not None:
            sample = sink.emit("try-pull-sample", _PULL_TIMEOUT_NS)
            if sample is None:
                if sink.get_property("eos"):
                    self._drained.set()
                    return
                continue
            try:
                frame = self._handle(sample)
            except Exception:  # a frame the driver cannot read must not end the stream
                log.exception("camera %s: frame could not be read", self.camera.name)
                self.stats.record_drop("unreadable")
                continue
            if frame is not None and self.on_frame is not None:
                try:
                    self.on_frame(frame)
                except Exception:  # the consumer's bug: logged and counted, the camera keeps running
                    log.exception("camera %s: on_frame raised", self.camera.name)
                    self.stats.record_drop("consumer_error")

    def _handle(self, sample) -> Optional[ImageFrame]:
        Gst, GstVideo = self._gst.Gst, self._gst.GstVideo
        host_ns = self._clock_ns()
        self.stats.record_received()
        buffer = sample.get_buffer()
        info = GstVideo.VideoInfo.new_from_caps(sample.get_caps())
        if (info.width, info.height) != (self.spec.width_px, self.spec.height_px):
            self.stats.record_drop("size")
            return None
        stamped = self._rtp_stamp(buffer, host_ns) if self.spec.rtp else self._pts_stamp(sample, buffer, host_ns)
        if stamped is None:
            return None
        sensor_ns, host_ns, index = stamped
        ok, mapped = buffer.map(Gst.MapFlags.READ)
        if not ok:
            self.stats.record_drop("unmappable")
            return None
        try:
            rgb = unpack_rgb(mapped.data, info.width, info.height, info.stride[0])
        finally:
            buffer.unmap(mapped)
        timecode = self._read_timecode(buffer) if self.spec.timecode_meta else None
        self._count_gap(index)
        frame = ImageFrame(rgb=rgb, exposure_mid=Stamp(sensor_ns, host_ns), frame_index=index, timecode=timecode)
        self.stats.record_sample(sensor_ns, host_ns)
        self.frames_decoded += 1
        self._last_frame_host_ns = host_ns
        self._stalled = False
        self._latest = frame
        return frame

    def _rtp_stamp(self, buffer, host_ns: int):
        """(sensor_ns, host_ns, frame index) from the RTP timestamp the probe kept for ``buffer``."""
        stamp = self._probe.take(buffer) if self._probe is not None else None
        if stamp is None:
            self.stats.record_drop("no_rtp_timestamp")
            return None
        ticks = unwrap_rtp_ticks(stamp.timestamp, stamp.host_ns)
        return ns_from_ticks(ticks), stamp.host_ns, frame_index_from_ticks(ticks, self._fps)

    def _pts_stamp(self, sample, buffer, host_ns: int):
        """(sensor_ns, host_ns, frame index) from the buffer's PTS (every source but RTP)."""
        Gst = self._gst.Gst
        pts = buffer.pts
        if pts == Gst.CLOCK_TIME_NONE:
            self.stats.record_drop("no_timestamp")
            return None
        running_ns = sample.get_segment().to_running_time(Gst.Format.TIME, pts)
        if running_ns < 0 or running_ns == Gst.CLOCK_TIME_NONE:
            self.stats.record_drop("outside_segment")
            return None
        offset = buffer.offset
        if self.spec.index_from_offset and offset != Gst.BUFFER_OFFSET_NONE:
            index = int(offset)
        else:
            num, den = self._fps.numerator, self._fps.denominator
            index = int((running_ns * num + NS_PER_S * den // 2) // (NS_PER_S * den))
        if self.sensor_epoch_ns is None and self._base_time_ns is None:
            self._base_time_ns = int(self._pipeline.get_base_time()) if self._pipeline is not None else 0
        epoch = self.sensor_epoch_ns if self.sensor_epoch_ns is not None else self._base_time_ns
        return int(epoch) + int(running_ns), host_ns, index

    def _read_timecode(self, buffer) -> Optional[Timecode]:
        """The RP188 timecode the capture card attached, or None (counted when unreadable)."""
        from sensors.camera.timecode_meta import read_time_code_meta

        try:
            return read_time_code_meta(buffer)
        except TimecodeMetaError as err:
            self.stats.record_drop("timecode_meta_unreadable")
            log.warning("camera %s: %s", self.camera.name, err)
            return None

    def _count_gap(self, index: int) -> None:
        """Count the frames missing between the previous frame and ``index`` (see module docstring).

        Frames the RTP probe already dropped and counted (incomplete, malformed, size) are not
        counted again as a gap.
        """
        bad = sum(self.stats.drops(r) for r in ("incomplete", "malformed", "size")) if self.spec.rtp else 0
        already, self._bad_at_last = bad - self._bad_at_last, bad
        last, self._last_index = self._last_index, index
        if last is None:
            return
        max_gap = _MAX_GAP_S * self._fps
        if index > last + 1:
            missing = index - last - 1
            if missing > max_gap:
                self.stats.record_drop("frame_jump")
            elif missing > already:
                self.stats.record_drop("frame_gap", missing - already)
        elif index <= last:
            self.stats.record_drop("frame_jump" if last - index > max_gap else "frame_order")
