"""RTP video on loopback into the camera driver: stamps from the sender's RTP timestamps, bad input counted."""

from __future__ import annotations

import socket
import time

import numpy as np

from sensors.camera.driver import STALL_PERIODS, CameraDriver
from sensors.camera.rtp import RTP_WRAP_TICKS, ns_from_ticks, ticks_from_ns
from sensors.camera.sim import CameraSim, RtpVideoSender
from sensors.vocabulary import NS_PER_S
from tests.sensors.camera._support import Collector, PatternStage, gst_only, rfc4175_packets, small_camera, wait_for


def _check_against_the_sender(frames, sim, driver):
    """Every frame is the sender's frame k: its RTP stamp in ns, its frame number, its pixels."""
    assert frames
    for frame in frames:
        k = sim.k_of_frame_index(frame.frame_index)
        truth = sim.truth(k)
        assert frame.frame_index == truth.frame_index
        assert frame.exposure_mid.sensor_ns == truth.sensor_ns, f"frame {k}"
        np.testing.assert_array_equal(frame.rgb, sim.render(k))
        assert frame.timecode is None
    index = [f.frame_index for f in frames]
    assert index == sorted(index)
    assert driver.stats.drops("frame_gap") == sum(b - a - 1 for a, b in zip(index, index[1:]))


@gst_only
def test_frames_arrive_stamped_with_the_senders_rtp_timestamps():
    camera = small_camera(source="rtp", port=0, ltc=False)
    got = Collector()
    with CameraDriver(camera, got) as driver:
        assert driver.port > 0
        sim = CameraSim(camera, PatternStage(), None, time.time_ns(), seed=3)
        with RtpVideoSender(sim, "127.0.0.1", driver.port) as sender:
            assert wait_for(lambda: len(got) >= 12, 15.0, driver.check)
        assert sender.error is None
    _check_against_the_sender(list(got.frames), sim, driver)
    # The jittered stamps (0.1 ms) are not on the frame grid, yet every index is exact.
    offsets = [f.exposure_mid.sensor_ns % (NS_PER_S // 24) for f in got.frames]
    assert len(set(offsets)) > 1
    assert driver.stats.drops("incomplete") == driver.stats.drops("rtp_lost_packets") == 0


@gst_only
def test_stamps_stay_right_across_the_32_bit_wrap():
    # Both ends run on a host clock shifted so that the 90 kHz count wraps 0.4 s into the run.
    now = time.time_ns()
    next_wrap_ticks = (ticks_from_ns(now) // RTP_WRAP_TICKS + 1) * RTP_WRAP_TICKS
    shift = ns_from_ticks(next_wrap_ticks) - now - 400_000_000

    def clock():
        return time.time_ns() + shift

    camera = small_camera(source="rtp", port=0, ltc=False)
    got = Collector()
    with CameraDriver(camera, got, clock_ns=clock) as driver:
        sim = CameraSim(camera, PatternStage(), None, clock(), seed=4)
        with RtpVideoSender(sim, "127.0.0.1", driver.port, clock_ns=clock) as sender:
            assert wait_for(lambda: len(got) >= 24, 15.0, driver.check)
        assert sender.error is None
    frames = list(got.frames)
    wire = [sim.truth(sim.k_of_frame_index(f.frame_index)).rtp_timestamp for f in frames]
    assert max(wire) > RTP_WRAP_TICKS - 40_000 and min(wire) < 40_000, "the run crossed the wrap"
    _check_against_the_sender(frames, sim, driver)


def _send(sock, port, packets, skip=()):
    for i, packet in enumerate(packets):
        if i not in skip:
            sock.sendto(packet, ("127.0.0.1", port))


@gst_only
def test_lost_packets_garbage_another_size_and_a_stopped_stream_are_counted_not_fatal():
    camera = small_camera(source="rtp", port=0, ltc=False, width_px=32, height_px=18)
    got = Collector()
    rng = np.random.default_rng(8)
    images = [rng.integers(0, 256, (18, 32, 3), dtype=np.uint8) for _ in range(5)]
    frame_ticks = 3750  # 24 fps
    base = (ticks_from_ns(time.time_ns()) // frame_ticks) * frame_ticks
    with CameraDriver(camera, got) as driver, socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sequence = 0
        plan = [
            ("good", images[0]),
            ("lose one packet", images[1]),
            ("good", images[2]),
            ("another size", rng.integers(0, 256, (20, 40, 3), dtype=np.uint8)),
            ("good", images[4]),
        ]
        for n, (what, rgb) in enumerate(plan):
            packets = rfc4175_packets(rgb, base + n * frame_ticks, sequence, line_bytes_per_packet=96)
            sequence += len(packets)
            _send(sock, driver.port, packets, skip={3} if what == "lose one packet" else set())
            if n == 1:
                sock.sendto(b"\xff" * 300, ("127.0.0.1", driver.port))  # not RTP
                sock.sendto(b"\x80", ("127.0.0.1", driver.port))  # truncated header
            time.sleep(1 / 24)  # paced as a camera sends; the results are polled for below
        assert wait_for(lambda: len(got) >= 3, 10.0, driver.check)
        assert wait_for(lambda: driver.stalled, 10.0, driver.check), "a stream that stopped is flagged"
        stats = driver.stats
        assert stats.drops("stalled") == 1
        assert driver.error is None
    frames = list(got.frames)
    first = frames[0].frame_index
    assert [f.frame_index - first for f in frames] == [0, 2, 4]
    for frame, k in zip(frames, (0, 2, 4)):
        np.testing.assert_array_equal(frame.rgb, images[k])
        assert frame.exposure_mid.sensor_ns == ns_from_ticks(base + k * frame_ticks)
    assert stats.drops("rtp_lost_packets") == 1
    assert stats.drops("incomplete") == 1
    assert stats.drops("size") == 1
    assert stats.drops("rtp_version") == 1 and stats.drops("rtp_short") == 1
    assert stats.drops("frame_gap") == 0, "frames dropped as bad are not counted twice"
    assert STALL_PERIODS >= 2


@gst_only
def test_a_frame_index_jump_is_one_drop_not_thousands():
    camera = small_camera(source="rtp", port=0, ltc=False, width_px=16, height_px=16)
    got = Collector()
    frame_ticks = 3750
    base = (ticks_from_ns(time.time_ns()) // frame_ticks) * frame_ticks
    image = np.zeros((16, 16, 3), dtype=np.uint8)
    with CameraDriver(camera, got) as driver, socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sequence = 0
        for ticks in (base, base + frame_ticks, base + 3600 * 24 * frame_ticks, base + 2 * frame_ticks):
            packets = rfc4175_packets(image, ticks, sequence)
            sequence += len(packets)
            _send(sock, driver.port, packets)
            time.sleep(1 / 24)
        assert wait_for(lambda: len(got) >= 4, 10.0, driver.check)
    assert driver.stats.drops("frame_jump") == 2  # an hour ahead, then back
    assert driver.stats.drops("frame_gap") == 0 and driver.stats.drops("frame_order") == 0
