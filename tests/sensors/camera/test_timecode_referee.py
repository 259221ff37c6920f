"""The stage's ground-truth timecode of every camera frame, through the camera driver.

The video path reads no timecode (a frame's label is computed by the synchronizer from the
timecode clock model); what the camera's frames must still carry is what scoring needs: the
stamps that identify each frame, from which the stage's ground truth gives its label. The
simulated LTC generator (``sensors.timecode.sim.LtcSim``) and camera (``CameraSim``) run on
their own drifting clocks (timecode +10 ppm, camera +20 ppm with 0.1 ms stamp jitter); the
camera is jam-synced ``LEAD_FRAMES`` into the LTC, so frame ``k``'s label must be
``start + LEAD_FRAMES + k``, checked independently of the generator, across a drop-frame
minute and an hour. The batch runs push the frames as fast as the pipeline takes them; one
real-time run sends them as RTP video, as the stage does.
"""

from __future__ import annotations

import time

import pytest

from sensors.camera.driver import CameraDriver
from sensors.camera.sim import LEAD_FRAMES, CameraSim, RtpVideoSender
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


def _check_labels(frames, sim, rate, start_text):
    start = parse_timecode(start_text, rate)
    labels = []
    for frame in frames:
        truth = sim.truth(sim.k_of_frame_index(frame.frame_index))
        assert frame.exposure_mid.sensor_ns == truth.sensor_ns
        assert isinstance(truth.timecode, Timecode) and truth.timecode.rate.label == rate
        # Independently of the generator: the camera is jam-synced LEAD_FRAMES into the LTC.
        assert truth.timecode == add_frames(start, LEAD_FRAMES + truth.k)
        labels.append(truth.timecode)
    counts = [timecode_to_frames(label) for label in labels]
    assert all(b - a == 1 for a, b in zip(counts, counts[1:]))
    return {str(label) for label in labels}


@gst_only
@pytest.mark.parametrize(("rate", "start", "count"), CASES)
def test_every_frame_is_identified_and_its_ground_truth_label_exact(rate, start, count):
    tc_config = timecode_config(rate, start)
    camera = small_camera(fps=rate)
    ltc = LtcSim(tc_config, EPOCH_NS, seed=11)
    sim = CameraSim(camera, PatternStage(), ltc, EPOCH_NS, seed=12)
    frames = []
    with CameraDriver(camera, frames.append, live=False) as driver:
        truths = sim.push_frames(driver, count)
        assert driver.wait_eos(20.0)
    assert [f.frame_index for f in frames] == [t.frame_index for t in truths], "every frame delivered, in order"
    assert driver.stats.dropped == 0
    labels = _check_labels(frames, sim, rate, start)
    if rate == "29.97DF":
        assert "00:00:59;29" in labels and "00:01:00;02" in labels
        assert "00:01:00;00" not in labels and "00:01:00;01" not in labels
    if rate == "25":
        assert "10:59:59:24" in labels and "11:00:00:00" in labels


@gst_only
def test_rtp_video_in_real_time_identifies_the_same_frames():
    # The path `onset sim run` uses: RTP video paced by the master clock.
    rate, start = "29.97DF", "00:00:59;26"
    tc_config = timecode_config(rate, start)
    camera = small_camera(fps=rate, source="rtp", port=0)
    epoch_ns = time.time_ns()
    sim = CameraSim(camera, PatternStage(), LtcSim(tc_config, epoch_ns, seed=3), epoch_ns, seed=4)
    frames = []
    with CameraDriver(camera, frames.append) as driver:
        with RtpVideoSender(sim, "127.0.0.1", driver.port) as sender:
            assert wait_for(lambda: len(frames) >= 36, 15.0, driver.check)  # 1.2 s of video
    assert sender.error is None
    frames = frames[:36]
    index = [f.frame_index for f in frames]
    assert index == list(range(index[0], index[0] + 36)), "no frame lost in real time"
    labels = _check_labels(frames, sim, rate, start)
    assert "00:01:00;02" in labels
