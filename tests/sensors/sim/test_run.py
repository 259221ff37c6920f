"""The simulated stage as separate devices: every sensor reaches the drivers over the wire."""

from __future__ import annotations

import multiprocessing
import socket
import time

import numpy as np
import pytest

from config import load_profile
from config.models import CameraSource
from sensors.camera.driver import CameraDriver
from sensors.errors import SensorOpenError
from sensors.sim.processes import camera_sim
from sensors.sim.run import SimulatedStage, stage_epoch_ns
from tests.sensors.camera._support import gst_only, wait_for


def _small_rig():
    rig = load_profile("sim-stage")
    camera = rig.camera.model_copy(update={"width_px": 160, "height_px": 90, "port": 0})
    return rig.model_copy(update={"camera": camera})


def _udp_sink() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(5.0)
    return sock


@gst_only
@pytest.mark.slow
def test_the_camera_process_sends_rtp_video_stamped_as_the_stage_says():
    rig = _small_rig()
    assert rig.camera.source is CameraSource.RTP
    frames = []
    lidar, freed = _udp_sink(), _udp_sink()
    with CameraDriver(rig.camera, frames.append) as driver, lidar, freed:
        ports = {rig.camera.name: driver.port, "lidar": lidar.getsockname()[1], "freed": freed.getsockname()[1]}
        epoch_ns = stage_epoch_ns(rig, time.time_ns(), 1_000_000_000)
        with SimulatedStage(rig, epoch_ns, ports=ports) as stage:
            assert len(stage.pids) == 2 and len(set(stage.pids)) == 2  # two processes, neither this one
            assert wait_for(lambda: len(frames) >= 10, 30.0, driver.check)
            assert lidar.recv(2048) and freed.recv(2048)
            # The children's counters lag their packets by up to 0.2 s.
            assert wait_for(lambda: stage.sent().get(rig.camera.name, 0) >= 10, 10.0)
            assert wait_for(lambda: stage.sent().get("lidar", 0) > 0 and stage.sent().get("freed", 0) > 0, 10.0)
            sent = stage.sent()
            assert stage.errors() == {}
        assert sent["lidar"] > 0 and sent["freed"] > 0
    # The driver reads the stamps the stage's camera gave its frames (an independent build of the
    # same camera from the same profile and epoch), frame by frame.
    from sensors.sim.stage import Stage

    stage_here = Stage.from_rig(rig, epoch_ns)
    sim = camera_sim(rig, stage_here, epoch_ns)
    for frame in frames[:10]:
        k = sim.k_of_frame_index(frame.frame_index)
        assert k >= 0
        assert frame.exposure_mid.sensor_ns == sim.truth(k).sensor_ns
        assert frame.exposure_mid.host_ns > sim.truth(k).master_ns  # it left the camera after its exposure
    np.testing.assert_array_equal(frames[0].rgb, sim.render(sim.k_of_frame_index(frames[0].frame_index)))


@gst_only
@pytest.mark.slow
def test_a_device_that_cannot_start_stops_the_others_and_is_named():
    rig = _small_rig()
    # A 25 fps camera cannot be jam-synced to 24 fps timecode: the camera process fails to start
    # after the UDP emitters did, and they are stopped again.
    bad = rig.model_copy(update={"camera": rig.camera.model_copy(update={"fps": "25"})})
    stage = SimulatedStage(bad, stage_epoch_ns(rig, time.time_ns()))
    with pytest.raises(SensorOpenError, match="camera") as info:
        stage.start()
    assert "jam-synced" in str(info.value)
    assert stage.pids == [] and multiprocessing.active_children() == []
