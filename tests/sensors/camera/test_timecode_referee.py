"""Acceptance: ``timecodestamper`` (libltc inside GStreamer, an independent LTC reader) reads the
simulated camera's LTC and stamps the exact expected timecode on every video frame.

The simulated LTC generator (``sensors.timecode.sim.LtcSim``) and camera (``CameraSim``) run on
their own drifting clocks (timecode +10 ppm, camera +20 ppm with 0.1 ms stamp jitter); the
expected label of each frame is the generator's ground truth at the frame's exposure. The batch
runs push the LTC, then the frames, as fast as the pipeline takes them; one real-time run checks
the live path the stage uses.
"""

from __future__ import annotations

import time

import pytest

from sensors.camera.driver import CameraDriver
from sensors.camera.sim import LEAD_FRAMES, CameraSim
from sensors.timecode.sim import LtcSim
from sensors.timecode.smpte import add_frames, parse_timecode, timecode_to_frames
from sensors.vocabulary import Timecode
from tests.sensors.camera._support import PatternStage, gst_only, small_camera, timecode_config, wait_for

EPOCH_NS = 1_800_000_000_000_000_000

CASES = [
    # rate, LTC start, frames: 2 s of video; the 29.97 DF run crosses 00:01:00;00, which does not exist.
    pytest.param("24", "01:00:00:00", 48, id="24"),
    pytest.param("25", "10:59:58:00", 50, id="25-hour"),
    pytest.param("29.97DF", "00:00:59;20", 60, id="29.97DF-minute"),
]


def _collect(driver_frames):
    def on_frame(frame):
        driver_frames.append(frame)

    return on_frame


def _check_labels(frames, sim, sensor_epoch_ns, rate, start_text):
    start = parse_timecode(start_text, rate)
    for frame in frames:
        truth = sim.truth(frame.frame_index, sensor_epoch_ns)
        assert frame.timecode == truth.timecode, f"frame {frame.frame_index}: {frame.timecode} != {truth.timecode}"
        assert isinstance(frame.timecode, Timecode) and frame.timecode.rate.label == rate
        # Independently of the sim's ground truth: the camera is jam-synced LEAD_FRAMES into the LTC.
        assert frame.timecode == add_frames(start, LEAD_FRAMES + frame.frame_index)
        assert frame.exposure_mid.sensor_ns == truth.sensor_ns
    counts = [timecode_to_frames(f.timecode) for f in frames]
    assert all(b - a == 1 for a, b in zip(counts, counts[1:]))


@gst_only
@pytest.mark.parametrize(("rate", "start", "count"), CASES)
def test_timecodestamper_reads_the_exact_label_of_every_frame(rate, start, count):
    tc_config = timecode_config(rate, start)
    camera = small_camera(fps=rate)
    ltc = LtcSim(tc_config, EPOCH_NS, seed=11)
    sim = CameraSim(camera, PatternStage(), ltc, EPOCH_NS, seed=12)
    frames = []
    with CameraDriver(camera, tc_config, _collect(frames), live=False) as driver:
        truths = sim.push_frames(driver, count)
        assert driver.wait_eos(20.0)
    assert [f.frame_index for f in frames] == list(range(count)), "every frame delivered, in order"
    assert driver.stats.dropped == 0 and driver.frames_without_timecode == 0
    _check_labels(frames, sim, driver.sensor_epoch_ns, rate, start)
    assert [t.timecode for t in truths] == [f.timecode for f in frames]
    labels = {str(f.timecode) for f in frames}
    if rate == "29.97DF":
        assert "00:00:59;29" in labels and "00:01:00;02" in labels
        assert "00:01:00;00" not in labels and "00:01:00;01" not in labels
    if rate == "25":
        assert "10:59:59:24" in labels and "11:00:00:00" in labels


@gst_only
def test_live_pipeline_in_real_time_reads_the_same_labels():
    # The path `onset sim run` uses: live appsrcs, frames and LTC paced by the master clock.
    rate, start = "29.97DF", "00:00:59;26"
    tc_config = timecode_config(rate, start)
    camera = small_camera(fps=rate)
    epoch_ns = time.time_ns()
    ltc = LtcSim(tc_config, epoch_ns, seed=3)
    sim = CameraSim(camera, PatternStage(), ltc, epoch_ns, seed=4)
    frames = []
    with CameraDriver(camera, tc_config, _collect(frames)) as driver:
        sim.start(driver)
        try:
            assert wait_for(lambda: len(frames) >= 36, 15.0, driver.check)  # 1.2 s of video
        finally:
            sim.close()
    assert sim.error is None
    frames = frames[:36]
    index = [f.frame_index for f in frames]
    assert index == list(range(index[0], index[0] + 36)), "no frame lost in real time"
    assert driver.frames_without_timecode == 0
    _check_labels(frames, sim, driver.sensor_epoch_ns, rate, start)
    assert any(str(f.timecode) == "00:01:00;02" for f in frames)
