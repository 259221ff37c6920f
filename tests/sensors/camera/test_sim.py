"""The simulated camera: its schedule on a drifting clock, determinism, its truth, and playing into the driver."""

from __future__ import annotations

import time

import numpy as np
import pytest

from config.models import CameraSource
from sensors.camera.driver import CameraDriver
from sensors.camera.errors import CameraError, CameraStateError
from sensors.camera.rtp import RTP_WRAP_TICKS, frame_index_from_ticks, ns_from_ticks, ticks_from_ns
from sensors.camera.sim import LEAD_FRAMES, CameraSim, RtpVideoSender
from sensors.timecode.sim import LtcSim
from sensors.timecode.smpte import add_frames
from sensors.vocabulary import NS_PER_S
from tests.sensors.camera._support import PatternStage, gst_only, small_camera, timecode_config, wait_for

EPOCH_NS = 1_700_000_000_000_000_000


def _sim(rate="24", seed=1, stage=None, ltc=True, **camera_fields):
    tc = timecode_config(rate, "01:00:00:00")
    camera = small_camera(fps=rate, **camera_fields)
    generator = LtcSim(tc, EPOCH_NS, seed=9) if ltc else None
    return CameraSim(camera, stage or PatternStage(), generator, EPOCH_NS, seed=seed), tc


def test_same_seed_same_camera_different_seed_different_jitter():
    a, _ = _sim(seed=4)
    b, _ = _sim(seed=4)
    c, _ = _sim(seed=5)
    assert [a.truth(k) for k in range(60)] == [b.truth(k) for k in range(60)]
    assert [a.stamp_sensor_ns(k) for k in range(60)] != [c.stamp_sensor_ns(k) for k in range(60)]
    assert [a.exposure_master_ns(k) for k in range(60)] == [c.exposure_master_ns(k) for k in range(60)]
    np.testing.assert_array_equal(a.render(7), b.render(7))


@pytest.mark.parametrize("rate", ["24", "25", "29.97DF", "23.976"])
def test_frames_run_on_the_cameras_drifting_clock_jam_synced_to_ltc(rate):
    sim, tc = _sim(rate)
    fps = sim.fps
    # Frame 0's shutter opens on the start of LTC frame LEAD_FRAMES (its mid-time half an exposure later).
    label, start_ns = sim.ltc.timecode_at(sim.exposure_master_ns(0) - sim.half_exposure_ns)
    assert start_ns == sim.exposure_master_ns(0) - sim.half_exposure_ns
    assert sim.half_exposure_ns == round(sim.frame_offset_ns(1) * sim.camera.shutter_angle_deg / 720)
    assert label == add_frames(sim.ltc.start, LEAD_FRAMES) == sim.truth(0).timecode
    # 1/fps apart on the camera clock (+20 ppm), so slightly less on the master clock.
    k = np.arange(0, 2000, 97)
    sensor = np.array([sim.clock.sensor_ns_exact(sim.exposure_master_ns(int(i))) for i in k])
    ideal = sensor[0] + np.array([sim.frame_offset_ns(int(i)) for i in k])
    assert np.max(np.abs(sensor - ideal)) <= 1
    master_span = sim.exposure_master_ns(1000) - sim.exposure_master_ns(0)
    assert master_span == pytest.approx(1000 * NS_PER_S / float(fps) / (1 + 20e-6), abs=2)
    # Stamp jitter: 0.1 ms standard deviation, never past a quarter frame.
    noise = np.array(
        [sim.stamp_sensor_ns(i) - sim.clock.sensor_ns_exact(sim.exposure_master_ns(i)) for i in range(400)]
    )
    assert np.all(np.abs(noise) <= sim.frame_offset_ns(1) / 4 + 1)
    assert 60_000 < np.std(noise) < 140_000


def test_truth_labels_follow_the_ltc_generator_through_the_run():
    sim, _ = _sim("29.97DF")
    truths = [sim.truth(k) for k in range(0, 3000, 7)]
    for truth in truths:
        assert truth.timecode == add_frames(sim.ltc.start, LEAD_FRAMES + truth.k)
        assert truth.pts_ns == truth.sensor_ns


def test_first_frame_at():
    sim, _ = _sim()
    for k in (0, 1, 5, 240):
        t = sim.exposure_master_ns(k)
        assert sim.first_frame_at(t) == k
        assert sim.first_frame_at(t + 1) == k + 1
    assert sim.first_frame_at(EPOCH_NS - 10 * NS_PER_S) == 0


def test_without_ltc_frames_have_no_label():
    sim, _ = _sim(ltc=False)
    assert sim.truth(3).timecode is None
    assert sim.exposure_master_ns(0) == EPOCH_NS + sim.frame_offset_ns(LEAD_FRAMES) + sim.half_exposure_ns


def test_rate_mismatch_and_bad_render_are_refused():
    tc = timecode_config("25")
    with pytest.raises(CameraError, match="jam-synced"):
        CameraSim(small_camera(fps="24"), PatternStage(), LtcSim(tc, EPOCH_NS), EPOCH_NS)

    class WrongSize:
        def render(self, t_ns, camera):
            return np.zeros((camera.height_px, camera.width_px + 1, 3), dtype=np.uint8)

    sim, _ = _sim(stage=WrongSize())
    with pytest.raises(CameraError, match="expected \\(90, 160, 3\\) uint8"):
        sim.render(0)


def test_truth_is_what_goes_on_the_wire():
    sim, _ = _sim("23.976")
    for k in (0, 1, 17, 500):
        truth = sim.truth(k)
        ticks = ticks_from_ns(sim.stamp_sensor_ns(k))
        assert truth.rtp_timestamp == ticks % RTP_WRAP_TICKS and truth.k == k
        assert truth.sensor_ns == ns_from_ticks(ticks)
        assert abs(truth.sensor_ns - sim.stamp_sensor_ns(k)) <= 5_556  # half a 90 kHz tick
        assert truth.frame_index == frame_index_from_ticks(ticks, sim.fps)
        assert sim.k_of_frame_index(truth.frame_index) == k


@pytest.mark.parametrize("rate", ["24", "29.97DF", "23.976"])
def test_an_aligned_epoch_puts_frame_0_on_a_whole_frame_and_keeps_the_jam(rate):
    tc = timecode_config(rate, "01:00:00:00")
    camera = small_camera(fps=rate)
    raw = _sim(rate)[0]
    aligned_ns = CameraSim.aligned_epoch_ns(camera, lambda e: LtcSim(tc, e, seed=9), EPOCH_NS)
    assert abs(aligned_ns - EPOCH_NS) <= raw.frame_offset_ns(1) // 2 + 1
    sim = CameraSim(camera, PatternStage(), LtcSim(tc, aligned_ns, seed=9), aligned_ns, seed=1)
    assert abs(sim.frame_phase_ns()) < 25_000  # the LTC's sample period
    assert sim.truth(0).timecode == add_frames(sim.ltc.start, LEAD_FRAMES)
    # The driver's frame numbers follow k one for one, jitter or not.
    first = sim.truth(0).frame_index
    assert [sim.truth(k).frame_index - first for k in range(300)] == list(range(300))


@gst_only
def test_push_frames_needs_a_batch_driver():
    sim, _ = _sim()
    with CameraDriver(sim.camera) as live:
        with pytest.raises(CameraStateError, match="live=False"):
            sim.push_frames(live, 2)


@gst_only
def test_batch_frames_arrive_pixel_exact_with_their_stamps():
    sim, _ = _sim("25")
    frames = []
    with CameraDriver(sim.camera, frames.append, live=False) as driver:
        truths = sim.push_frames(driver, 12)
        assert driver.wait_eos(10.0)
    assert len(frames) == 12 and sim.frames_sent == 12
    for frame, truth in zip(frames, truths):
        np.testing.assert_array_equal(frame.rgb, sim.render(truth.k))
        assert frame.exposure_mid.sensor_ns == truth.sensor_ns == driver.sensor_epoch_ns + truth.pts_ns
        assert frame.frame_index == truth.frame_index
        assert frame.timecode is None  # the label comes from the synchronizer, not the video path


@gst_only
def test_batch_without_an_ltc_generator_delivers_every_frame():
    sim, _ = _sim(ltc=False)
    frames = []
    with CameraDriver(sim.camera, frames.append, live=False) as driver:
        truths = sim.push_frames(driver, 5)
        assert driver.wait_eos(10.0)
    assert [f.frame_index for f in frames] == [t.frame_index for t in truths]
    assert all(t.timecode is None for t in truths)


class SlowStage(PatternStage):
    """Renders in 0.15 s: over three frame periods at 24 fps."""

    def render(self, t_ns, camera):
        time.sleep(0.15)  # models a render that cannot keep up; not used to synchronise anything
        return super().render(t_ns, camera)


@gst_only
def test_real_time_skips_frames_it_cannot_render_and_the_driver_counts_them():
    camera = small_camera(fps="24", source="rtp", port=0)
    tc = timecode_config("24", "01:00:00:00")
    epoch_ns = time.time_ns()
    sim = CameraSim(camera, SlowStage(), LtcSim(tc, epoch_ns, seed=2), epoch_ns, seed=3)
    frames = []
    with CameraDriver(camera, frames.append) as driver:
        with RtpVideoSender(sim, "127.0.0.1", driver.port) as sender:
            assert wait_for(lambda: len(frames) >= 5, 15.0, driver.check)
    assert sender.error is None and sender.frames_skipped > 0
    index = [f.frame_index for f in frames]
    gaps = sum(b - a - 1 for a, b in zip(index, index[1:]))
    assert gaps > 0 and driver.stats.drops("frame_gap") == gaps
    for frame in frames:  # every frame that did go out carries its own stamp
        assert frame.exposure_mid.sensor_ns == sim.truth(sim.k_of_frame_index(frame.frame_index)).sensor_ns


@gst_only
def test_the_real_stage_through_the_pipeline():
    from config import load_profile
    from sensors.sim.stage import Stage

    rig = load_profile("sim-stage")
    camera = rig.camera.model_copy(update={"width_px": 160, "height_px": 90, "source": CameraSource.APPSRC})
    stage = Stage.from_rig(rig, EPOCH_NS)
    ltc = LtcSim(rig.timecode, EPOCH_NS, seed=1)
    sim = CameraSim(camera, stage, ltc, EPOCH_NS, seed=2)
    frames = []
    with CameraDriver(camera, frames.append, live=False) as driver:
        truths = sim.push_frames(driver, 6)
        assert driver.wait_eos(20.0)
    assert len(frames) == 6
    for frame, truth in zip(frames, truths):
        expected = stage.render(truth.master_ns, camera)
        np.testing.assert_array_equal(frame.rgb, expected)
        assert truth.timecode == add_frames(ltc.start, LEAD_FRAMES + truth.k)
    assert frames[0].rgb.std() > 5.0, "the stage rendered a scene, not a flat frame"
