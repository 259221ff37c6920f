"""The offline replay itself: what it hands a synchronizer, and what it keeps back."""

from __future__ import annotations

import pytest

from config.models import ClockConfig
from config.sync import SensorClockConfig
from sensors.timecode.smpte import add_frames
from sensors.vocabulary import NS_PER_S
from tests.harness.replay import (
    CAMERA_PIPELINE_LATENCY_NS,
    EPOCH_NS,
    SphereStage,
    build_run,
    rig_config,
    sync_config,
)

RUN_S = 2


@pytest.fixture(scope="module")
def run():
    rig = rig_config(ClockConfig(offset_ns=0, drift_ppm=30.0, jitter_ns=500_000), width_px=32, height_px=18)
    return build_run(rig, SphereStage(), EPOCH_NS, EPOCH_NS + RUN_S * NS_PER_S, seed=3, lidar_slices=True,
                     packet_clouds=True)


def test_frames_come_without_a_label_and_the_ltc_comes_through_the_timecode_driver(run):
    frames = [e for e in run.events if e.kind == "frame"]
    assert len(frames) >= 24 * RUN_S - 4
    assert all(e.item.timecode is None and e.truth.timecode is not None for e in frames)
    decoded = [e.item for e in run.events if e.kind == "timecode"]
    assert len(decoded) >= 24 * RUN_S - 4  # every LTC frame but the first, whose start the reader missed
    for before, after in zip(decoded, decoded[1:]):
        assert after.timecode == add_frames(before.timecode, 1)
        assert 0 < after.stamp.host_ns - before.stamp.host_ns < NS_PER_S // 12
    # Each frame's label was decoded (the last one's LTC frame closes only after the run).
    assert {f.truth.timecode for f in frames[:-1]} <= {s.timecode for s in decoded}
    hosts = [e.host_ns for e in run.events]
    assert hosts == sorted(hosts)


def test_lidar_slices_are_fed_and_whole_sweeps_and_packets_kept_aside(run):
    slices = [e.item for e in run.events if e.kind == "cloud"]
    assert run.sweeps and len(slices) > 10 * len(run.sweeps)
    assert sum(len(c) for c in slices) >= sum(len(c) for c in run.sweeps)
    assert len(run.packet_clouds) > 700 * RUN_S and sum(len(c) for c in run.packet_clouds) >= sum(map(len, slices))


def test_sync_config_depends_on_no_simulated_delay():
    quiet = rig_config(ClockConfig(), width_px=32, height_px=18)
    noisy = rig_config(ClockConfig(offset_ns=9_000_000, drift_ppm=-80.0, jitter_ns=3_000_000), width_px=32,
                       height_px=18)
    assert sync_config(quiet) == sync_config(noisy)
    config = sync_config(noisy)
    assert config.clock("camera") == SensorClockConfig(latency_ns=CAMERA_PIPELINE_LATENCY_NS)
    for name in ("lidar", "freed"):
        assert config.clock(name) == SensorClockConfig(latency_ns=0, delay_model="lower_envelope")
    assert config.clock("timecode") == SensorClockConfig()


def test_a_locked_camera_is_given_no_latency_and_only_on_a_rig_whose_camera_is_locked():
    locked = rig_config(ClockConfig(jitter_ns=1_000_000), camera_locked=True)
    assert locked.camera.clock == ClockConfig()
    assert sync_config(locked, camera_locked=True).clock("camera") == SensorClockConfig(latency_ns=0, locked=True)
    with pytest.raises(ValueError, match="camera_locked"):
        sync_config(rig_config(ClockConfig()).model_copy(update={"camera": rig_config(
            ClockConfig(offset_ns=1)).camera}), camera_locked=True)


def test_extra_settings_and_clock_overrides_pass_through():
    rig = rig_config(ClockConfig())
    config = sync_config(rig, clocks={"freed": SensorClockConfig()}, deadline_ns=123_000_000)
    assert config.deadline_ns == 123_000_000 and config.clock("freed") == SensorClockConfig()
    assert config.clock("lidar").delay_model == "lower_envelope"
