"""The simulated stage as the synchronizer's tests drive it: the sensor sims' pure paths, decoded by
the real drivers, replayed in host-arrival order into a :class:`Synchronizer` with a pinned clock.

No sockets and no GStreamer: LiDAR packets go through ``VelodyneDriver.decode_datagram``, FreeD
packets through ``FreedDriver.decode_datagram``, and camera frames are built from
``CameraSim.truth(k)`` (its stamp, its timecode label) as the camera driver would deliver them.
Every host arrival comes from a seeded generator, so runs repeat exactly.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Callable, List, Optional, Tuple

import numpy as np

from config.models import (
    CameraConfig,
    ClockConfig,
    LidarConfig,
    RigConfig,
    ShotKeyframe,
    StageConfig,
    TelemetryConfig,
    TimecodeConfig,
)
from edge.sync import SensorClockConfig, SyncConfig, Synchronizer
from sensors.camera.sim import CameraSim
from sensors.lidar.driver import VelodyneDriver
from sensors.lidar.sim import VelodyneSim
from sensors.telemetry.driver import FreedDriver
from sensors.telemetry.sim import FreedSim
from sensors.timecode.sim import LtcSim
from sensors.vocabulary import NS_PER_MS, NS_PER_S, FusedFrame, ImageFrame, LensState, RigPose, Stamp

EPOCH_NS = 1_767_225_600_000_000_000  # 2026-01-01T00:00:00Z
FREED_DELAY_MIN_NS, FREED_DELAY_SHAPE, FREED_DELAY_SCALE_NS = 300_000, 2.0, 50_000
CAMERA_DELAY_MIN_NS, CAMERA_DELAY_SHAPE, CAMERA_DELAY_SCALE_NS = 8_000_000, 2.0, 500_000


def moving_shot(dolly_mps: float = 1.0, pan_dps: float = 30.0, seconds: int = 6) -> List[ShotKeyframe]:
    """Evenly spaced keys on straight lines: constant dolly and pan speed between the first and
    last key (the plan starts and ends at rest)."""
    return [
        ShotKeyframe(t_s=float(s), dolly_m=dolly_mps * s, pan_deg=-20.0 + pan_dps * s, focal_length_mm=35.0,
                     focus_distance_m=3.0)
        for s in range(seconds + 1)
    ]


def rig_config(
    clock: ClockConfig,
    *,
    width_px: int = 640,
    height_px: int = 360,
    shot: Optional[List[ShotKeyframe]] = None,
    ltc: bool = True,
) -> RigConfig:
    """A rig whose sensors all run on ``clock`` (offsets differ per sensor) over a shot plan."""
    def with_offset(offset_ns: int) -> ClockConfig:
        return clock.model_copy(update={"offset_ns": clock.offset_ns + offset_ns})

    stage = StageConfig(loop=False, shot=shot or moving_shot())
    return RigConfig(
        stage=stage,
        camera=CameraConfig(width_px=width_px, height_px=height_px, clock=with_offset(2_500_000), ltc=ltc),
        lidars=[LidarConfig(port=0, clock=with_offset(-1_200_000))],
        telemetry=[TelemetryConfig(port=0, clock=with_offset(800_000))],
        timecode=TimecodeConfig(clock=ClockConfig(offset_ns=0, drift_ppm=10.0, jitter_ns=0)),
    )


def sync_config(rig: RigConfig, **extra) -> SyncConfig:
    """Clock settings with each sensor's mean transport delay, as a calibrated node would have them."""
    lidar_jitter = rig.lidars[0].clock.jitter_ns
    clocks = {
        rig.lidars[0].name: SensorClockConfig(latency_ns=int(round(lidar_jitter * np.sqrt(2.0 / np.pi)))),
        rig.telemetry[0].name: SensorClockConfig(
            latency_ns=FREED_DELAY_MIN_NS + int(FREED_DELAY_SHAPE * FREED_DELAY_SCALE_NS)
        ),
        rig.camera.name: SensorClockConfig(
            latency_ns=CAMERA_DELAY_MIN_NS + int(CAMERA_DELAY_SHAPE * CAMERA_DELAY_SCALE_NS)
        ),
    }
    return SyncConfig(clocks=clocks, **extra)


class SphereStage:
    """A stand-in stage for timing-only runs: the rig stands still and every ray hits 5 m away."""

    def rig_matrices(self, t_ns) -> np.ndarray:
        T = np.tile(np.eye(4), (np.size(t_ns), 1, 1))
        T[:, 2, 3] = 1.5
        return T

    def cast_rays(self, origins_m, directions, t_ns):
        n = np.asarray(origins_m).reshape(-1, 3).shape[0]
        d = np.asarray(directions, dtype=float).reshape(-1, 3)
        return SimpleNamespace(distance_m=np.full(n, 5.0), object_id=np.zeros(n, dtype=np.int32), normal_stage=-d)

    def rig_state(self, t_ns: int) -> Tuple[RigPose, LensState]:
        return RigPose(int(t_ns), np.array([0.0, 0.0, 1.5]), np.array([0.0, 0.0, 0.0, 1.0])), LensState(35.0, 3.0)


@dataclass
class Event:
    host_ns: int
    order: int  # tie-break: frames after the samples that arrived at the same instant
    kind: str
    sensor: str
    item: object
    truth: object = None


@dataclass
class StageRun:
    """The sims of one rig and the events they produce, in host-arrival order."""

    rig: RigConfig
    stage: object
    lidar: VelodyneSim
    freed: FreedSim
    camera: CameraSim
    ltc: Optional[LtcSim]
    events: List[Event] = field(default_factory=list)


def build_run(
    rig: RigConfig, stage, start_ns: int, end_ns: int, seed: int = 0, *, lidar_truth: bool = False
) -> StageRun:
    """Every LiDAR sweep, FreeD sample and camera frame of ``[start_ns, end_ns)`` as events.

    ``lidar_truth``: keep the LiDAR's ground truth (ray casting costs more) on each sweep event.
    """
    rng = np.random.default_rng([seed, 0x5E7])
    lidar_cfg, freed_cfg = rig.lidars[0], rig.telemetry[0]
    lidar = VelodyneSim(lidar_cfg, stage, EPOCH_NS, seed=seed + 101)
    freed = FreedSim(freed_cfg, stage.rig_state, EPOCH_NS, seed=seed + 211)
    ltc = LtcSim(rig.timecode, EPOCH_NS, seed=seed + 307) if rig.camera.ltc else None
    camera = CameraSim(rig.camera, stage, ltc, EPOCH_NS, seed=seed + 401)
    run = StageRun(rig, stage, lidar, freed, camera, ltc)

    driver = VelodyneDriver(lidar_cfg)
    packets, truth = lidar.simulate_between(start_ns, end_ns, truth=lidar_truth)
    for host_ns, payload in packets:  # the sim's send time already carries its delivery latency
        cloud = driver.decode_datagram(payload, host_ns)
        if cloud is not None:
            run.events.append(Event(host_ns, 0, "cloud", lidar_cfg.name, cloud, truth))

    freed_driver = FreedDriver(freed_cfg)
    for packet in freed.frames_between(start_ns, end_ns):
        host_ns = packet.master_ns + FREED_DELAY_MIN_NS + int(rng.gamma(FREED_DELAY_SHAPE, FREED_DELAY_SCALE_NS))
        sample = freed_driver.decode_datagram(packet.payload, host_ns)
        if sample is not None:
            run.events.append(Event(host_ns, 0, "telemetry", freed_cfg.name, sample, packet))

    rgb = np.zeros((rig.camera.height_px, rig.camera.width_px, 3), dtype=np.uint8)
    k = camera.first_frame_at(start_ns)
    while camera.exposure_master_ns(k) < end_ns:
        truth_k = camera.truth(k)
        host_ns = truth_k.master_ns + CAMERA_DELAY_MIN_NS + int(rng.gamma(CAMERA_DELAY_SHAPE, CAMERA_DELAY_SCALE_NS))
        frame = ImageFrame(rgb, Stamp(truth_k.sensor_ns, host_ns), k, truth_k.timecode)
        run.events.append(Event(host_ns, 1, "frame", rig.camera.name, frame, truth_k))
        k += 1
    run.events.sort(key=lambda e: (e.host_ns, e.order))
    return run


def feed(sync: Synchronizer, event: Event) -> bool:
    if event.kind == "cloud":
        return sync.add_cloud(event.sensor, event.item)
    if event.kind == "telemetry":
        return sync.add_telemetry(event.sensor, event.item)
    return sync.add_frame(event.item)


def replay(
    sync: Synchronizer,
    events: List[Event],
    after_feed: Optional[Callable[[Event, bool], None]] = None,
    until_ns: Optional[int] = None,
) -> List[Tuple[int, FusedFrame]]:
    """Feed ``events`` in order, polling at every arrival and at every waiting frame's deadline
    (as the worker thread would); returns ``(poll time, frame)`` of every fused frame."""
    out: List[Tuple[int, FusedFrame]] = []
    for event in events:
        deadline = sync.next_deadline_ns()
        while deadline is not None and deadline < event.host_ns:
            out.extend((deadline, f) for f in sync.poll(deadline))
            deadline = sync.next_deadline_ns()
        accepted = feed(sync, event)
        if after_feed is not None:
            after_feed(event, accepted)
        out.extend((event.host_ns, f) for f in sync.poll(event.host_ns))
    end = until_ns if until_ns is not None else (events[-1].host_ns + 10 * NS_PER_S if events else 0)
    deadline = sync.next_deadline_ns()
    while deadline is not None and deadline <= end:
        out.extend((deadline, f) for f in sync.poll(deadline))
        deadline = sync.next_deadline_ns()
    return out


def ms(ns: float) -> float:
    return float(ns) / NS_PER_MS


__all__ = [
    "EPOCH_NS",
    "NS_PER_S",
    "Event",
    "SphereStage",
    "StageRun",
    "build_run",
    "feed",
    "moving_shot",
    "ms",
    "replay",
    "rig_config",
    "sync_config",
]
