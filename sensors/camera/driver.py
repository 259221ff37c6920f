"""Camera driver: runs a GStreamer pipeline and turns its frames into :class:`ImageFrame`.

The pipeline comes from :func:`sensors.camera.pipelines.build_pipeline`. Two threads serve it:
one pulls samples from the ``appsink`` (copying the RGB out of each buffer), one watches the bus
for errors and end-of-stream. Nothing is swallowed: a bus error becomes a :class:`PipelineError`
kept in :attr:`CameraDriver.error` and raised by :meth:`CameraDriver.check`.

Timecode: ``timecodestamper`` posts an element message for every frame it stamps (before it
pushes the frame on), carrying the buffer's PTS and its ``GstVideoTimeCode``. A bus sync handler
keeps them by PTS and the puller takes the one of each frame's PTS, so the match is exact. Until
the stamper has read an LTC frame it stamps a placeholder 00:00:00:00; the stamper's
``ltc-daily-jam`` is set so that every label read from LTC carries that jam and the placeholder
does not, and placeholder frames get ``timecode=None``. The stamper may count on from its last
LTC read for one consecutive frame only (``ltc-timeout``, see
:data:`~sensors.camera.pipelines.LTC_TIMEOUT_FRAMES`): every label is read, or exactly one frame
past a read, never a count across frames lost before the stamper.

Time: ``exposure_mid.sensor_ns = sensor_epoch_ns + running_time(PTS)``. For the simulated
camera (``appsrc``) the PTS is the exposure mid-time on the camera's clock minus a sensor epoch
that the simulator sets in :attr:`CameraDriver.sensor_epoch_ns`. For every other source the
epoch is the pipeline's base time, so ``sensor_ns`` is the pipeline clock (the capture card's
clock for DeckLink, the system monotonic clock otherwise) when the source stamped the frame.
``host_ns`` is ``clock_ns()`` when the frame left the appsink.

Drops: the appsink keeps the newest two frames of a live source; frames it (or a leaky appsrc)
throws away show up as gaps in the frame index, counted under ``frame_gap``. The index is the
buffer offset for ``appsrc``/``videotestsrc`` (the frame number) and ``round(running_time *
fps)`` otherwise.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from typing import Callable, Optional

import numpy as np

from config.models import CameraConfig, TimecodeConfig
from sensors.camera.errors import CameraStateError, PipelineError, PipelineStartError
from sensors.camera.gst import require_elements, require_gst
from sensors.camera.pipelines import LTC_APPSRC, SINK, SOURCE, STAMPER, VIDEO_APPSRC, build_pipeline, unpack_rgb
from sensors.camera.types import LtcInput, PipelineSpec
from sensors.stats import SensorStats
from sensors.vocabulary import NS_PER_S, ImageFrame, Stamp, Timecode

__all__ = ["CameraDriver", "LTC_DAILY_JAM_UTC"]

log = logging.getLogger(__name__)

#: The daily jam given to ``timecodestamper``: labels read from LTC carry it, placeholders do not.
LTC_DAILY_JAM_UTC = (2000, 1, 1, 0, 0, 0)
_PULL_TIMEOUT_NS = 100_000_000
_TIMECODES_KEPT = 256  # stamped-but-not-yet-pulled frames whose timecode is held by PTS


class CameraDriver:
    """Runs ``camera``'s pipeline; ``on_frame`` gets each :class:`ImageFrame` on the puller thread.

    ``live=False`` is the batch mode of an ``appsrc``/``videotestsrc`` camera (see
    :func:`~sensors.camera.pipelines.build_pipeline`); ``ltc_audio`` overrides the LTC input.
    ``stats`` counts frames, drops and the sensor-vs-host clock line.
    """

    def __init__(
        self,
        camera: CameraConfig,
        timecode: TimecodeConfig,
        on_frame: Optional[Callable[[ImageFrame], None]] = None,
        clock_ns: Callable[[], int] = time.time_ns,
        *,
        live: bool = True,
        ltc_audio: Optional[str] = None,
    ) -> None:
        self.camera = camera
        self.timecode = timecode
        self.on_frame = on_frame
        self._clock_ns = clock_ns
        self.spec: PipelineSpec = build_pipeline(camera, timecode, live=live, ltc_audio=ltc_audio)
        self.stats = SensorStats(camera.name, clock_ns=clock_ns)
        #: Sensor time (ns) at running time 0; None: the pipeline's base time (see module docstring).
        self.sensor_epoch_ns: Optional[int] = None
        self.frames_decoded = 0
        self.frames_without_timecode = 0
        self._fps = camera.frame_rate.fps
        self._tc_rate = timecode.frame_rate
        self._gst = None
        self._pipeline = None
        self._elements: dict = {}
        self._base_time_ns: Optional[int] = None
        self._timecodes: "OrderedDict[int, Optional[Timecode]]" = OrderedDict()
        self._tc_lock = threading.Lock()
        self._latest: Optional[ImageFrame] = None
        self._last_index: Optional[int] = None
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
        self._elements = {
            name: pipeline.get_by_name(name) for name in (VIDEO_APPSRC, LTC_APPSRC, SOURCE, STAMPER, SINK)
        }
        stamper = self._elements[STAMPER]
        if stamper is not None:
            stamper.set_property("ltc-daily-jam", gst.GLib.DateTime.new_utc(*LTC_DAILY_JAM_UTC))
        bus = pipeline.get_bus()
        bus.set_sync_handler(self._on_sync_message)
        self._pipeline = pipeline
        if pipeline.set_state(Gst.State.PLAYING) == Gst.StateChangeReturn.FAILURE:
            error = self._pop_error(bus)
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
        pipeline.get_bus().set_sync_handler(None)
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
        """How long a frame is held between capture and the appsink, as this pipeline sets it.

        A live pipeline that reads LTC holds every frame ``ltc-extra-latency`` (150 ms by default)
        so the LTC of its instant has arrived before it is stamped; that wait dominates the time
        from exposure to ``exposure_mid.host_ns``. The synchronizer subtracts it (a constant
        transport delay is indistinguishable from a clock offset otherwise). 0 when no stamper
        waits (a non-live pipeline or no LTC).
        """
        stamper = self._elements.get(STAMPER) if self._pipeline is not None else None
        if stamper is None or not self.spec.video_live:
            return 0
        return int(stamper.get_property("ltc-extra-latency"))

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

    # -- appsrc inputs (the simulated camera) -------------------------------------------------
    @property
    def appsrc_video(self):
        """The video ``appsrc`` element (source ``appsrc`` only)."""
        return self._appsrc(VIDEO_APPSRC, "video", self.spec.source.value == "appsrc")

    @property
    def appsrc_ltc(self):
        """The LTC ``appsrc`` element (when the LTC input is an appsrc)."""
        return self._appsrc(LTC_APPSRC, "LTC", self.spec.ltc == LtcInput.APPSRC)

    def _appsrc(self, name: str, what: str, present: bool):
        self._require_running()
        element = self._elements.get(name)
        if not present or element is None:
            raise CameraStateError(
                f"camera {self.camera.name!r}: this pipeline has no {what} appsrc "
                f"(source {self.spec.source.value}, LTC input {self.spec.ltc.value})"
            )
        return element

    def push_video(self, data: bytes, pts_ns: int, duration_ns: int, frame_index: int) -> bool:
        """Push one packed RGB frame (see :func:`pack_rgb`); False when the pipeline no longer takes it."""
        Gst = self._gst.Gst
        buffer = Gst.Buffer.new_wrapped(bytes(data))
        buffer.pts, buffer.duration = int(pts_ns), int(duration_ns)
        buffer.offset, buffer.offset_end = int(frame_index), int(frame_index) + 1
        return self.appsrc_video.emit("push-buffer", buffer) == Gst.FlowReturn.OK

    def push_ltc(self, samples: np.ndarray, pts_ns: int) -> bool:
        """Push LTC audio (uint8 mono at the timecode's sample rate) whose first sample is at ``pts_ns``."""
        Gst = self._gst.Gst
        audio = np.ascontiguousarray(samples, dtype=np.uint8)
        buffer = Gst.Buffer.new_wrapped(audio.tobytes())
        buffer.pts = int(pts_ns)
        buffer.duration = audio.size * NS_PER_S // int(self.timecode.sample_rate_hz)
        return self.appsrc_ltc.emit("push-buffer", buffer) == Gst.FlowReturn.OK

    def end_video(self) -> None:
        """End the video stream (the pipeline drains, then :attr:`eos` turns True)."""
        self.appsrc_video.emit("end-of-stream")

    def end_ltc(self) -> None:
        """End the LTC stream (a non-live video stream is stamped only after this)."""
        self.appsrc_ltc.emit("end-of-stream")

    # -- GStreamer threads ----------------------------------------------------------------------
    def _on_sync_message(self, bus, message):
        """Runs on the posting (streaming) thread: keep the stamper's timecode of each PTS."""
        Gst = self._gst.Gst
        if message.type == Gst.MessageType.ELEMENT:
            structure = message.get_structure()
            if structure is not None and structure.get_name() == "timecodestamper":
                timecode = self._timecode_from_gst(structure.get_value("timecode"))
                with self._tc_lock:
                    self._timecodes[int(structure.get_value("timestamp"))] = timecode
                    while len(self._timecodes) > _TIMECODES_KEPT:
                        self._timecodes.popitem(last=False)
                return Gst.BusSyncReply.DROP
        return Gst.BusSyncReply.PASS

    def _timecode_from_gst(self, tc) -> Optional[Timecode]:
        """The vocabulary label of a stamped ``GstVideoTimeCode``; None for the stamper's placeholder."""
        if tc is None or tc.config.latest_daily_jam is None:
            return None
        try:
            return Timecode(int(tc.hours), int(tc.minutes), int(tc.seconds), int(tc.frames), self._tc_rate)
        except ValueError as err:
            log.warning("camera %s: timecodestamper stamped an impossible label: %s", self.camera.name, err)
            self.stats.record_drop("timecode_invalid")
            return None

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
        pts = buffer.pts
        if pts == Gst.CLOCK_TIME_NONE:
            self.stats.record_drop("no_timestamp")
            return None
        running_ns = sample.get_segment().to_running_time(Gst.Format.TIME, pts)
        if running_ns < 0 or running_ns == Gst.CLOCK_TIME_NONE:
            self.stats.record_drop("outside_segment")
            return None
        info = GstVideo.VideoInfo.new_from_caps(sample.get_caps())
        if (info.width, info.height) != (self.spec.width_px, self.spec.height_px):
            self.stats.record_drop("size")
            return None
        ok, mapped = buffer.map(Gst.MapFlags.READ)
        if not ok:
            self.stats.record_drop("unmappable")
            return None
        try:
            rgb = unpack_rgb(mapped.data, info.width, info.height, info.stride[0])
        finally:
            buffer.unmap(mapped)
        with self._tc_lock:
            timecode = self._timecodes.pop(int(pts), None)
        index = self._frame_index(buffer, running_ns)
        if self.sensor_epoch_ns is None and self._base_time_ns is None:
            self._base_time_ns = int(self._pipeline.get_base_time()) if self._pipeline is not None else 0
        epoch = self.sensor_epoch_ns if self.sensor_epoch_ns is not None else self._base_time_ns
        sensor_ns = int(epoch) + int(running_ns)
        frame = ImageFrame(rgb=rgb, exposure_mid=Stamp(sensor_ns, host_ns), frame_index=index, timecode=timecode)
        self.stats.record_sample(sensor_ns, host_ns)
        self.frames_decoded += 1
        if timecode is None and self.spec.ltc != LtcInput.NONE:
            self.frames_without_timecode += 1
        self._latest = frame
        return frame

    def _frame_index(self, buffer, running_ns: int) -> int:
        """Frame number of a buffer; gaps since the previous frame are counted as drops."""
        offset = buffer.offset
        if self.spec.index_from_offset and offset != self._gst.Gst.BUFFER_OFFSET_NONE:
            index = int(offset)
        else:
            index = int((running_ns * self._fps.numerator + NS_PER_S * self._fps.denominator // 2)
                        // (NS_PER_S * self._fps.denominator))
        last, self._last_index = self._last_index, index
        if last is not None:
            if index > last + 1:
                self.stats.record_drop("frame_gap", index - last - 1)
            elif index <= last:
                self.stats.record_drop("frame_order")
        return index
