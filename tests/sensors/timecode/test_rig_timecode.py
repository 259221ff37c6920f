"""The sensor rig opens the timecode driver whenever the profile names a timecode input, and hands
every decoded LTC frame to ``on_timecode`` with the sensor's name."""

from __future__ import annotations

from typing import List, Tuple

import numpy as np

from config.models import RigConfig
from sensors.rig import SensorRig
from sensors.timecode import LtcSim
from sensors.timecode.rtp import build_rtp, float_to_pcm_be
from sensors.vocabulary import TimecodeSample

EPOCH_NS = 1_780_000_000_000_000_000


def rig_with(kind: str, rate: str = "50") -> RigConfig:
    return RigConfig(
        lidars=[], telemetry=[], timecode={"rate": rate, "start": "09:59:59:40", "input": {"kind": kind, "port": 0}}
    )


def test_an_rtp_timecode_input_opens_the_driver_and_feeds_on_timecode() -> None:
    rig = rig_with("rtp")
    heard: List[Tuple[str, TimecodeSample]] = []
    with SensorRig(rig, include_camera=False, on_timecode=lambda name, s: heard.append((name, s))) as sensors:
        handle = sensors.get("timecode")
        assert handle.family == "timecode" and handle.expected_rate_hz == 25.0  # LTC frames: half of 50 fps
        sim = LtcSim(rig.timecode, EPOCH_NS)
        for i in range(600):
            audio = (sim.samples(48 * i, 48).astype(np.float64) - 128.0) / 128.0
            payload = build_rtp(i, 48 * i, 7, 96, float_to_pcm_be(audio, "L16"))
            handle.driver.input.on_datagram(payload, EPOCH_NS + (i + 1) * 1_000_000)
    assert [name for name, _ in heard] == ["timecode"] * len(heard) and len(heard) >= 13
    assert [str(s.timecode) for _, s in heard][4:7] == ["09:59:59:48", "10:00:00:00", "10:00:00:02"]


def test_no_timecode_input_and_no_camera_opens_no_timecode_driver() -> None:
    with SensorRig(rig_with("none"), include_camera=False) as sensors:
        assert [h.family for h in sensors.handles] == []
