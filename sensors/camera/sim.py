"""The simulated cinema camera: its frame schedule on a drifting clock, its ground truth, its RTP output.

The camera runs on its own :class:`DriftingClock` switched on at master time ``epoch_ns``. It is
jam-synced (genlocked) to the stage's timecode generator: frame ``k = 0``'s shutter opens on the
start of LTC frame ``lead_frames`` (the generator has been running for a few frames when the
camera rolls), so its exposure mid-time is half an exposure (``shutter_angle_deg / 360`` of a
frame, halved) later, and frame ``k``'s exposure mid-time is ``k / fps`` later *on the camera's
clock*.
For each frame the simulator knows (:meth:`CameraSim.truth`, the ground truth tests score with):

- the exposure mid-time on the master clock, and what the stage looks like then (``render``);
- the camera's stamp of it: the exposure mid-time on the camera's clock with the clock's jitter
  (seeded, clipped to a quarter frame), as the 90 kHz RTP timestamp it sends
  (:func:`~sensors.camera.rtp.ticks_from_ns`), and that stamp back in ns, which is what the
  driver reads; the frame number ``round(stamp * fps)`` the driver derives from it;
- the label of the LTC frame whose start is nearest the exposure start (the jam-sync relation:
  the frame in progress while the shutter is open): the stage's ground-truth timecode of the
  frame. The camera sends no timecode.

:meth:`CameraSim.aligned_epoch_ns` moves a start time by less than a frame so that the jam
instant falls on a whole frame of the camera's clock, as a genlocked camera's frames do: the
frame numbers the driver reads are then far from a rounding boundary whatever the jitter.

Two ways to play it: :class:`RtpVideoSender` in real time, RFC 4175 RTP through GStreamer
(``appsrc ! rtpvrawpay ! udpsink``) to the camera driver's host and port (run in a process of
its own by :mod:`sensors.sim.processes`); and :meth:`CameraSim.push_frames`, a batch into
a non-live in-process ``appsrc`` driver (``CameraDriver(..., live=False)``), frames as fast as
the pipeline takes them. Frame ``k`` has the same image and stamps either way.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from typing import List, Optional

import numpy as np

from config.models import CameraConfig
from sensors.camera.errors import CameraError, CameraStateError
from sensors.camera.pipelines import RTP_MTU_BYTES, RTP_PAYLOAD_TYPE, pack_rgb
from sensors.camera.rtp import RTP_WRAP_TICKS, frame_index_from_ticks, ns_from_ticks, ticks_from_ns
from sensors.camera.types import CameraFrameTruth, FrameRenderer
from sensors.sim.clock import DriftingClock
from sensors.udp import local_address_for
from sensors.vocabulary import NS_PER_S

__all__ = ["CameraSim", "RtpVideoSender", "LEAD_FRAMES"]

log = logging.getLogger(__name__)

#: LTC frames the generator has run when the camera's frame 0 is exposed.
LEAD_FRAMES = 3
_EPOCH_MARGIN_NS = 1_000_000  # keeps the first PTS of a batch above zero


class CameraSim:
    """A cinema camera filming ``stage``, jam-synced to ``ltc`` (see the module docstring).

    ``ltc`` is the stage's timecode generator (:class:`~sensors.timecode.sim.LtcSim`) or None;
    the camera only reads its frame starts, for the jam-sync and the ground-truth labels.
    """

    def __init__(
        self,
        camera: CameraConfig,
        stage: Optional[FrameRenderer],
        ltc,
        epoch_ns: int,
        seed: int = 0,
        *,
        lead_frames: int = LEAD_FRAMES,
    ) -> None:
        self.camera = camera
        self.stage = stage
        self.ltc = ltc
        self.epoch_ns = int(epoch_ns)
        self.seed = int(seed)
        self.lead_frames = int(lead_frames)
        self.clock = DriftingClock(camera.clock, self.epoch_ns, seed)
        self.fps = camera.frame_rate.fps
        if ltc is not None and ltc.rate.fps != self.fps:
            raise CameraError(
                f"camera {camera.name!r} at {camera.fps} fps cannot be jam-synced to timecode at {ltc.rate.label} fps"
            )
        #: Half the exposure: from the shutter opening to the exposure mid-time, ns.
        self.half_exposure_ns = round(self.frame_offset_ns(1) * float(camera.shutter_angle_deg) / 720.0)
        if ltc is not None:
            # Ask for the middle of LTC frame ``lead_frames``: its start is then unambiguous.
            middle_ns = self.epoch_ns + self.frame_offset_ns(int(lead_frames)) + self.frame_offset_ns(1) // 2
            _, shutter_open_ns = ltc.timecode_at(middle_ns)
        else:
            shutter_open_ns = self.epoch_ns + self.frame_offset_ns(int(lead_frames))
        self.first_master_ns = shutter_open_ns + self.half_exposure_ns
        self._first_sensor_ns = int(self.clock.sensor_ns_exact(self.first_master_ns))
        self.frames_sent = 0

    # -- the frame schedule (pure) ---------------------------------------------------------------
    def frame_offset_ns(self, k: int) -> int:
        """``k / fps`` in ns, rounded to the nearest ns."""
        num, den = self.fps.numerator, self.fps.denominator
        return (2 * int(k) * NS_PER_S * den + num) // (2 * num)

    def frame_phase_ns(self) -> int:
        """Frame 0's exposure on the camera's clock minus the nearest whole frame of that clock, ns."""
        nearest = frame_index_from_ticks(ticks_from_ns(self._first_sensor_ns), self.fps)
        num, den = self.fps.numerator, self.fps.denominator
        return self._first_sensor_ns - (2 * nearest * NS_PER_S * den + num) // (2 * num)

    @classmethod
    def aligned_epoch_ns(cls, camera: CameraConfig, ltc_factory, epoch_ns: int, *, lead_frames: int = LEAD_FRAMES) -> int:
        """A start time within a frame of ``epoch_ns`` whose frame 0 falls on a whole camera frame.

        ``ltc_factory(epoch_ns)`` builds the stage's timecode generator for a start time (or
        returns None). Exact to the LTC's sample period (21 us at 48 kHz).
        """
        epoch = int(epoch_ns)
        for _ in range(4):
            phase = cls(camera, None, ltc_factory(epoch), epoch, lead_frames=lead_frames).frame_phase_ns()
            if abs(phase) < 1_000:
                break
            epoch -= phase
        return epoch

    def exposure_master_ns(self, k: int) -> int:
        """Master time of frame ``k``'s exposure mid-time."""
        return int(self.clock.master_ns(self._first_sensor_ns + self.frame_offset_ns(k)))

    def stamp_sensor_ns(self, k: int) -> int:
        """The camera clock's stamp of frame ``k``, ns (noiseless time plus seeded, clipped jitter)."""
        exact = self._first_sensor_ns + self.frame_offset_ns(k)
        if self.clock.jitter_ns == 0:
            return exact
        limit = self.frame_offset_ns(1) / 4
        noise = np.random.default_rng([self.seed, 0xCA3, int(k)]).normal(0.0, self.clock.jitter_ns)
        return exact + int(np.rint(np.clip(noise, -limit, limit)))

    def rtp_ticks(self, k: int) -> int:
        """Frame ``k``'s stamp as a full-width 90 kHz tick count (its RTP timestamp before the wrap)."""
        return ticks_from_ns(self.stamp_sensor_ns(k))

    def truth(self, k: int, sensor_epoch_ns: int = 0) -> CameraFrameTruth:
        """Ground truth of frame ``k``: its times, its PTS against ``sensor_epoch_ns``, its label."""
        master_ns = self.exposure_master_ns(k)
        ticks = self.rtp_ticks(k)
        stamp = ns_from_ticks(ticks)
        label = None
        if self.ltc is not None:
            # The LTC frame whose start is within half a frame of the exposure start.
            label, _ = self.ltc.timecode_at(master_ns - self.half_exposure_ns + self.frame_offset_ns(1) // 2)
        return CameraFrameTruth(
            frame_index=frame_index_from_ticks(ticks, self.fps), master_ns=master_ns, sensor_ns=stamp,
            pts_ns=stamp - int(sensor_epoch_ns), timecode=label, rtp_timestamp=ticks % RTP_WRAP_TICKS, k=int(k),
        )

    def k_of_frame_index(self, frame_index: int) -> int:
        """The ``k`` of the frame the driver numbered ``frame_index`` (inverse of ``truth(k).frame_index``)."""
        return int(frame_index) - self.truth(0).frame_index

    def first_frame_at(self, master_ns: int) -> int:
        """The first frame whose exposure mid-time is at or after ``master_ns``."""
        elapsed = int(self.clock.sensor_ns_exact(master_ns)) - self._first_sensor_ns
        k = max(0, elapsed * self.fps.numerator // (NS_PER_S * self.fps.denominator) - 1)
        while self.exposure_master_ns(k) < master_ns:
            k += 1
        return k

    def render(self, k: int) -> np.ndarray:
        """What the camera sees at frame ``k``'s exposure, checked against the configured size."""
        if self.stage is None:
            raise CameraStateError(f"camera {self.camera.name!r}: this simulator has no stage to render")
        camera = self.camera
        rgb = np.asarray(self.stage.render(self.exposure_master_ns(k), camera))
        expected = (camera.height_px, camera.width_px, 3)
        if rgb.shape != expected or rgb.dtype != np.uint8:
            raise CameraError(
                f"the stage rendered {rgb.shape} {rgb.dtype} for camera {self.camera.name!r}, expected {expected} uint8"
            )
        return rgb

    # -- batch into an in-process appsrc ---------------------------------------------------------
    def push_frames(self, driver, count: int) -> List[CameraFrameTruth]:
        """Batch: push frames ``0 .. count-1`` into a started, non-live appsrc ``driver``, then EOS.

        Returns the ground truth of every frame; wait for ``driver.wait_eos`` to have them all.
        """
        if driver.spec.video_live:
            raise CameraStateError("push_frames needs a batch driver: CameraDriver(..., live=False)")
        sensor_epoch = self.truth(0).sensor_ns - _EPOCH_MARGIN_NS
        driver.sensor_epoch_ns = sensor_epoch
        truths = []
        for k in range(int(count)):
            truth = self.truth(k, sensor_epoch)
            duration = self.frame_offset_ns(k + 1) - self.frame_offset_ns(k)
            if not driver.push_video(pack_rgb(self.render(k)), truth.pts_ns, duration, truth.frame_index):
                driver.check()
                raise CameraStateError(f"camera {self.camera.name!r}: the pipeline stopped taking frames at frame {k}")
            self.frames_sent += 1
            truths.append(truth)
        driver.end_video()
        return truths


#: Frames the simulated camera renders ahead of the one on the wire: render-time spikes up to
#: this many frames long do not delay a frame.
RENDER_AHEAD_FRAMES = 3


class RtpVideoSender:
    """Plays a :class:`CameraSim` in real time as RFC 4175 RTP video to UDP ``host:port``.

    GStreamer ``appsrc ! rtpvrawpay ! udpsink``: each frame, rendered ahead, goes out when its
    exposure ends (:meth:`send_master_ns`; master clock ``clock_ns``, default ``time.time_ns``)
    with the RTP timestamp
    ``truth(k).rtp_timestamp``: the payloader stamps ``timestamp-offset + PTS * 90 kHz``, so the
    PTS pushed is the frame's ticks past a base, rounded up to the ns. When rendering falls
    more than a frame behind, the camera skips to the newest frame still on time (``frames_skipped``; the driver sees the gap)
    instead of drifting late. ``frames_sent``, ``max_lateness_ns`` and ``error`` (what stopped
    the thread) say how it went.
    """

    def __init__(self, sim: CameraSim, host: str, port: int, clock_ns=time.time_ns) -> None:
        self.sim, self.host, self.port = sim, str(host), int(port)
        self._clock_ns = clock_ns
        self.frames_sent = 0
        self.frames_skipped = 0
        self.max_lateness_ns = 0
        self.error: Optional[BaseException] = None
        self._stop = threading.Event()
        self._thread: Optional[threading.Thread] = None
        self._pipeline = None
        self._appsrc = None
        self._gst = None
        self._base_ticks = 0

    @property
    def sent(self) -> int:
        return self.frames_sent

    def _build(self, first_k: int) -> None:
        from sensors.camera.gst import require_elements, require_gst

        gst = self._gst = require_gst()
        Gst = gst.Gst
        camera, fps = self.sim.camera, self.sim.fps
        require_elements(["appsrc", "rtpvrawpay", "udpsink"], needed_for=f"the simulated camera {camera.name!r}")
        # The base sits a frame before the first frame, so every PTS is positive.
        self._base_ticks = self.sim.rtp_ticks(first_k) - 90_000 * fps.denominator // fps.numerator
        caps = (f"video/x-raw,format=RGB,width={camera.width_px},height={camera.height_px},"
                f"framerate={fps.numerator}/{fps.denominator},pixel-aspect-ratio=1/1,interlace-mode=progressive")
        local = local_address_for(self.host)  # a loopback destination: send from loopback only
        bind = f' bind-address="{local}"' if local is not None else ""
        description = (
            f"appsrc name=src is-live=true format=time do-timestamp=false block=false caps={caps} "
            f"! rtpvrawpay mtu={RTP_MTU_BYTES} pt={RTP_PAYLOAD_TYPE} perfect-rtptime=false "
            f"timestamp-offset={self._base_ticks % RTP_WRAP_TICKS} "
            f'! udpsink host="{self.host}" port={self.port} sync=false async=false{bind}'
        )
        self._pipeline = Gst.parse_launch(description)
        self._appsrc = self._pipeline.get_by_name("src")
        if self._pipeline.set_state(Gst.State.PLAYING) == Gst.StateChangeReturn.FAILURE:
            raise CameraStateError(f"the simulated camera's RTP pipeline refused to start -- {description}")

    def start(self) -> "RtpVideoSender":
        """Build the pipeline and start playing from the next due frame; raises if it cannot start."""
        if self._thread is not None:
            return self
        k = self.sim.first_frame_at(int(self._clock_ns()))
        self._build(k)
        self.sim.render(k)  # the first render builds the stage's caches: not on the clock
        self._stop.clear()
        self._thread = threading.Thread(target=self._guarded, args=(k,), name="camera-sim-rtp", daemon=True)
        self._thread.start()
        return self

    def close(self) -> None:
        """Stop playing and tear the pipeline down; safe to call twice."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5.0)
            self._thread = None
        if self._pipeline is not None:
            self._pipeline.set_state(self._gst.Gst.State.NULL)
            self._pipeline = None

    def __enter__(self) -> "RtpVideoSender":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def send(self, k: int, rgb: np.ndarray) -> None:
        """Send frame ``k`` now, with its RTP timestamp (``rgb``: its (H, W, 3) uint8 image)."""
        Gst = self._gst.Gst
        ticks = self.sim.rtp_ticks(k) - self._base_ticks
        if ticks < 0:
            raise CameraStateError(f"frame {k} is before the sender's first frame")
        buffer = Gst.Buffer.new_wrapped(pack_rgb(rgb))
        buffer.pts = -(-ticks * NS_PER_S // 90_000)  # rounded up: the payloader rounds down
        buffer.duration = self.sim.frame_offset_ns(k + 1) - self.sim.frame_offset_ns(k)
        if self._appsrc.emit("push-buffer", buffer) != Gst.FlowReturn.OK:
            raise CameraStateError(f"the simulated camera's RTP pipeline stopped taking frames at frame {k}")
        message = self._pipeline.get_bus().pop_filtered(Gst.MessageType.ERROR)
        if message is not None:  # udpsink cannot send: say so instead of counting frames never sent
            err, debug = message.parse_error()
            raise CameraStateError(f"the simulated camera cannot send to {self.host}:{self.port}: {err.message} ({debug})")
        self.frames_sent += 1

    def _guarded(self, k: int) -> None:
        try:
            self._play(k)
        except BaseException as err:  # kept for the caller: a sim that stops says why
            self.error = err
            log.exception("camera sim %s stopped", self.sim.camera.name)

    def send_master_ns(self, k: int) -> int:
        """When frame ``k`` leaves the camera: the end of its exposure (mid-time plus half the
        exposure, ``shutter_angle_deg / 360`` of a frame), on the master clock."""
        exposure_ns = self.sim.frame_offset_ns(1) * self.sim.camera.shutter_angle_deg / 360.0
        return self.sim.exposure_master_ns(k) + int(exposure_ns / 2)

    def _render_ahead(self, k: int, frames: "queue.Queue") -> None:
        """Producer: render frames in order up to :data:`RENDER_AHEAD_FRAMES` ahead of the wire
        (what the stage looks like at an instant is known in advance). A frame whose send time
        would pass before a render of the usual length ends is skipped: a starved renderer drops
        frames, as a camera would, instead of sending them late."""
        render_ns = self.sim.frame_offset_ns(1) // 2  # a first guess, then a running mean
        while not self._stop.is_set():
            ready_ns = int(self._clock_ns()) + render_ns
            newest = k
            while self.send_master_ns(newest) < ready_ns:
                newest += 1
            self.frames_skipped += newest - k
            k = newest
            started = time.perf_counter_ns()
            item = (k, self.sim.render(k))
            render_ns += (time.perf_counter_ns() - started - render_ns) // 4
            while not self._stop.is_set():
                try:
                    frames.put(item, timeout=0.1)
                    break
                except queue.Full:
                    continue
            k += 1

    def _play(self, k: int) -> None:
        # A render thread keeps frames ready ahead of time; this one sends each when its
        # exposure ends, so the time on the wire does not depend on how long one render took
        # (a frame rendered late still goes, at once, with its own stamp: the renderer skips ahead).
        frames: "queue.Queue" = queue.Queue(maxsize=RENDER_AHEAD_FRAMES)
        renderer = threading.Thread(target=self._render_guarded, args=(k, frames), name="camera-sim-render",
                                    daemon=True)
        renderer.start()
        try:
            while not self._stop.is_set():
                try:
                    k, rgb = frames.get(timeout=0.1)
                except queue.Empty:
                    continue
                due_ns = self.send_master_ns(k)
                now = int(self._clock_ns())
                while now < due_ns and not self._stop.is_set():
                    self._stop.wait((due_ns - now) / NS_PER_S)
                    now = int(self._clock_ns())
                if self._stop.is_set():
                    return  # stopped: the camera has cut, this frame was never sent
                self.max_lateness_ns = max(self.max_lateness_ns, now - due_ns)
                self.send(k, rgb)
        finally:
            self._stop.set()
            renderer.join(timeout=5.0)

    def _render_guarded(self, k: int, frames: "queue.Queue") -> None:
        try:
            self._render_ahead(k, frames)
        except BaseException as err:  # kept for the caller, as the sender's own errors
            self.error = err
            self._stop.set()
            log.exception("camera sim %s: rendering stopped", self.sim.camera.name)
