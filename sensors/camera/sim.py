"""The simulated cinema camera: rendered frames and the LTC it records, into the driver's appsrcs.

The camera runs on its own :class:`DriftingClock` switched on at master time ``epoch_ns``. It is
jam-synced to the stage's timecode generator: frame 0's exposure mid-time falls on the start of
LTC frame ``lead_frames`` (the generator has been running for a few frames when the camera
rolls, so the reader has locked), and frame ``k``'s exposure mid-time is ``k / fps`` later *on
the camera's clock*. For each frame the simulator

- computes the exposure mid-time on the master clock and renders ``stage.render(master_ns, camera)``;
- stamps it on the camera's clock (with the clock's jitter, clipped to a quarter frame) and
  pushes it with ``PTS = stamp - sensor_epoch``, so the driver's ``exposure_mid.sensor_ns``
  (``sensor_epoch + PTS``) is the camera's own stamp;
- pushes the LTC audio the camera's audio input sampled: sample ``i`` of the generator, taken at
  master time ``ltc.sample_master_ns(i)``, gets the PTS of that instant on the camera's clock.

``timecodestamper`` then labels each frame with the LTC frame starting within half a frame of
it; :meth:`CameraSim.truth` says which label that must be (the ground truth tests compare to).

Two ways to play it: :meth:`CameraSim.start` / :meth:`CameraSim.close` in real time (master clock
``time.time_ns()``, live pipeline), and :meth:`CameraSim.push_frames` as a batch into a
non-live driver (``CameraDriver(..., live=False)``): the LTC first, in full, then the frames as
fast as the pipeline takes them. Frame ``k`` has the same image, sensor stamp and label in both.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import List, Optional

import numpy as np

from config.models import CameraConfig
from sensors.camera.errors import CameraError, CameraStateError
from sensors.camera.pipelines import pack_rgb
from sensors.camera.types import CameraFrameTruth, FrameRenderer, LtcInput
from sensors.sim.clock import DriftingClock
from sensors.timecode.sim import LtcSim
from sensors.vocabulary import NS_PER_MS, NS_PER_S

__all__ = ["CameraSim", "LEAD_FRAMES"]

log = logging.getLogger(__name__)

#: LTC frames the generator has run when the camera's frame 0 is exposed.
LEAD_FRAMES = 3
_LTC_CHUNK_NS = 10 * NS_PER_MS  # audio arrives in 10 ms buffers, as from a sound card
_EPOCH_MARGIN_NS = NS_PER_MS  # keeps the first PTS (audio or video) above zero


class CameraSim:
    """A cinema camera filming ``stage`` with LTC from ``ltc`` (see the module docstring)."""

    def __init__(
        self,
        camera: CameraConfig,
        stage: FrameRenderer,
        ltc: Optional[LtcSim],
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
                f"camera {camera.name!r} at {camera.fps} fps cannot be jam-synced to LTC at {ltc.rate.label} fps"
            )
        if ltc is not None:
            # Ask for the middle of LTC frame ``lead_frames``: its start is then unambiguous.
            first = ltc.frame_start_sample(int(lead_frames))
            middle_ns = ltc.sample_master_ns(first.numerator // first.denominator) + self.frame_offset_ns(1) // 2
            _, self.first_master_ns = ltc.timecode_at(middle_ns)
        else:
            self.first_master_ns = self.epoch_ns + self.frame_offset_ns(int(lead_frames))
        self._first_sensor_ns = int(self.clock.sensor_ns_exact(self.first_master_ns))
        self.frames_sent = 0
        self.frames_skipped = 0
        self.max_lateness_ns = 0
        self.error: Optional[BaseException] = None
        self._stop = threading.Event()
        self._threads: List[threading.Thread] = []
        self._play_from_ns = self.first_master_ns

    # -- the frame schedule (pure) ---------------------------------------------------------------
    def frame_offset_ns(self, k: int) -> int:
        """``k / fps`` in ns, rounded to the nearest ns."""
        num, den = self.fps.numerator, self.fps.denominator
        return (2 * int(k) * NS_PER_S * den + num) // (2 * num)

    def exposure_master_ns(self, k: int) -> int:
        """Master time of frame ``k``'s exposure mid-time."""
        return int(self.clock.master_ns(self._first_sensor_ns + self.frame_offset_ns(k)))

    def stamp_sensor_ns(self, k: int) -> int:
        """The camera clock's stamp of frame ``k`` (noiseless time plus seeded, clipped jitter)."""
        exact = self._first_sensor_ns + self.frame_offset_ns(k)
        if self.clock.jitter_ns == 0:
            return exact
        limit = self.frame_offset_ns(1) / 4
        noise = np.random.default_rng([self.seed, 0xCA3, int(k)]).normal(0.0, self.clock.jitter_ns)
        return exact + int(np.rint(np.clip(noise, -limit, limit)))

    def truth(self, k: int, sensor_epoch_ns: int = 0) -> CameraFrameTruth:
        """Ground truth of frame ``k``: its times, its PTS against ``sensor_epoch_ns``, its label."""
        master_ns = self.exposure_master_ns(k)
        stamp = self.stamp_sensor_ns(k)
        label = None
        if self.ltc is not None:
            # The stamper takes the LTC frame starting within half a frame of the video frame.
            label, _ = self.ltc.timecode_at(master_ns + self.frame_offset_ns(1) // 2)
        return CameraFrameTruth(k, master_ns, stamp, stamp - int(sensor_epoch_ns), label)

    def first_frame_at(self, master_ns: int) -> int:
        """The first frame whose exposure mid-time is at or after ``master_ns``."""
        elapsed = int(self.clock.sensor_ns_exact(master_ns)) - self._first_sensor_ns
        k = max(0, elapsed * self.fps.numerator // (NS_PER_S * self.fps.denominator) - 1)
        while self.exposure_master_ns(k) < master_ns:
            k += 1
        return k

    def render(self, k: int) -> np.ndarray:
        """What the camera sees at frame ``k``'s exposure, checked against the configured size."""
        rgb = np.asarray(self.stage.render(self.exposure_master_ns(k), self.camera))
        expected = (self.camera.height_px, self.camera.width_px, 3)
        if rgb.shape != expected or rgb.dtype != np.uint8:
            raise CameraError(
                f"the stage rendered {rgb.shape} {rgb.dtype} for camera {self.camera.name!r}, expected {expected} uint8"
            )
        return rgb

    # -- pushing -----------------------------------------------------------------------------------
    def _push_frame(self, driver, k: int, sensor_epoch_ns: int, rgb: np.ndarray) -> CameraFrameTruth:
        truth = self.truth(k, sensor_epoch_ns)
        duration = self.frame_offset_ns(k + 1) - self.frame_offset_ns(k)
        if not driver.push_video(pack_rgb(rgb), truth.pts_ns, duration, k):
            driver.check()
            raise CameraStateError(f"camera {self.camera.name!r}: the pipeline stopped taking frames at frame {k}")
        self.frames_sent += 1
        return truth

    def _push_ltc_until(self, driver, end_master_ns: int, sensor_epoch_ns: int) -> None:
        """Push the generator's samples taken before ``end_master_ns``, in 10 ms buffers."""
        assert self.ltc is not None
        rate = self.ltc.sample_rate_hz
        chunk = max(1, rate * _LTC_CHUNK_NS // NS_PER_S)
        while self.ltc.sample_master_ns(self.ltc.samples_read + chunk - 1) < end_master_ns:
            first = self.ltc.samples_read
            pts = int(self.clock.sensor_ns_exact(self.ltc.sample_master_ns(first))) - sensor_epoch_ns
            samples = self.ltc.read(chunk)
            if pts < 0:
                continue  # taken before the pipeline's time zero: the camera was not recording yet
            if not driver.push_ltc(samples, pts):
                driver.check()
                raise CameraStateError(f"camera {self.camera.name!r}: the pipeline stopped taking LTC audio")

    def _skip_ltc_before(self, master_ns: int) -> None:
        """Read past the generator's samples taken before ``master_ns`` (in 1 s blocks, then 10 ms)."""
        assert self.ltc is not None
        block = self.ltc.sample_rate_hz
        while self.ltc.sample_master_ns(self.ltc.samples_read + block) < master_ns:
            self.ltc.read(block)

    def push_frames(self, driver, count: int) -> List[CameraFrameTruth]:
        """Batch: push the LTC for frames ``0 .. count-1`` and end it, then the frames, then EOS.

        ``driver`` must be a started, non-live (``live=False``) appsrc driver. Returns the ground
        truth of every frame; wait for ``driver.wait_eos`` to have them all delivered.
        """
        if driver.spec.video_live:
            raise CameraStateError("push_frames needs a batch driver: CameraDriver(..., live=False)")
        start_master = self.first_master_ns
        if self.ltc is not None:
            start_master = min(start_master, self.ltc.sample_master_ns(self.ltc.samples_read))
        sensor_epoch = int(self.clock.sensor_ns_exact(start_master)) - _EPOCH_MARGIN_NS
        driver.sensor_epoch_ns = sensor_epoch
        if driver.spec.ltc == LtcInput.APPSRC:
            if self.ltc is not None:
                # Two frames past the last, so the decoder has seen the last frame's closing edge.
                self._push_ltc_until(driver, self.exposure_master_ns(count + 2), sensor_epoch)
            driver.end_ltc()  # a non-live video stream is stamped once its LTC has ended
        truths = [self._push_frame(driver, k, sensor_epoch, self.render(k)) for k in range(int(count))]
        driver.end_video()
        return truths

    def start(self, driver) -> "CameraSim":
        """Play in real time into a started, live appsrc ``driver``, from now on.

        Frames go out at their exposure mid-times; when rendering falls behind, the camera skips
        to the newest due frame (counted in ``frames_skipped``; the driver sees the gap as drops)
        instead of drifting late. The LTC is pushed by its own thread, so a slow render never
        starves the timecode reader.
        """
        if not driver.spec.video_live:
            raise CameraStateError("start needs a live driver; use push_frames for a batch driver")
        if self._threads:
            return self
        self._stop.clear()
        # Master time at the pipeline's running time 0: PTS on the camera clock then track the
        # pipeline clock, which the live stamper waits on.
        base_master = time.time_ns() - driver.running_time_ns()
        sensor_epoch = int(self.clock.sensor_ns_exact(base_master))
        driver.sensor_epoch_ns = sensor_epoch
        targets = [(self._play_video, "video")]
        # The first frame goes out once the reader has heard a few whole LTC frames.
        self._play_from_ns = base_master + self.frame_offset_ns(self.lead_frames)
        if self.ltc is not None and driver.spec.ltc == LtcInput.APPSRC:
            self._skip_ltc_before(base_master)
            first_audio = self.ltc.sample_master_ns(self.ltc.samples_read)
            self._play_from_ns = max(base_master, first_audio) + self.frame_offset_ns(self.lead_frames)
            targets.append((self._play_ltc, "ltc"))
        for target, what in targets:
            thread = threading.Thread(
                target=self._guarded, args=(target, driver, sensor_epoch), name=f"camera-sim-{self.camera.name}-{what}",
                daemon=True,
            )
            self._threads.append(thread)
            thread.start()
        return self

    def close(self) -> None:
        """Stop playing; safe to call twice."""
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=5.0)
        self._threads = []

    def __enter__(self) -> "CameraSim":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _guarded(self, target, driver, sensor_epoch: int) -> None:
        try:
            target(driver, sensor_epoch)
        except BaseException as err:  # kept for the caller: a sim that stops says why
            self.error = err
            self._stop.set()
            log.exception("camera sim %s stopped", self.camera.name)

    def _play_ltc(self, driver, sensor_epoch: int) -> None:
        while not self._stop.is_set():
            self._push_ltc_until(driver, time.time_ns(), sensor_epoch)
            self._stop.wait(_LTC_CHUNK_NS / NS_PER_S)

    def _play_video(self, driver, sensor_epoch: int) -> None:
        k = self.first_frame_at(max(time.time_ns(), self._play_from_ns))
        while not self._stop.is_set():
            now = time.time_ns()
            due_ns = self.exposure_master_ns(k)
            if due_ns > now:
                self._stop.wait((due_ns - now) / NS_PER_S)
                continue
            newest = k
            while self.exposure_master_ns(newest + 1) <= now:
                newest += 1
            self.frames_skipped += newest - k
            k = newest
            self.max_lateness_ns = max(self.max_lateness_ns, now - self.exposure_master_ns(k))
            rgb = self.render(k)
            if self._stop.is_set():
                return  # stopped while rendering: the camera has cut, this frame was never recorded
            self._push_frame(driver, k, sensor_epoch, rgb)
            k += 1
