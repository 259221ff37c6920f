"""The simulated stage replayed offline: the sensor sims' pure paths, decoded by the real drivers,
fed in host-arrival order to a synchronizer with a pinned clock (tests and benchmarks share it).

No sockets and no GStreamer: LiDAR packets go through ``VelodyneDriver.decode_datagram`` (the
events carry its whole sweeps, or its slices as the node feeds them), FreeD packets through
``FreedDriver.decode_datagram``, the LTC generator's audio (``LtcSim`` samples, in 10 ms chunks
as from a sound card) through ``TimecodeDriver.feed_audio``, and camera frames are built from
``CameraSim.truth(k)`` (its stamp on the camera's clock) as the camera driver would deliver them,
**without a timecode**: the synchronizer must label each frame from the timecode it decoded.
Every host arrival comes from a seeded generator, so runs repeat exactly. Each event keeps the
ground truth it was made from (the frame's true label among it), so what a consumer made of it
can be scored; the truth never reaches the synchronizer.

Transport delays (host arrival minus the instant the sensor sent), drawn here and never told to
the synchronizer: the LiDAR sim draws its own (half-normal from its clock's ``jitter_ns``); FreeD
packets take 0.3 ms plus a gamma-distributed 0.1 ms on average plus the tracker clock's jitter;
camera frames the pipeline's latency (:data:`CAMERA_PIPELINE_LATENCY_NS`, a constant of the
pipeline) plus a gamma-distributed 1 ms on average of queueing; LTC audio chunks 0.5 ms plus a
gamma-distributed 0.2 ms on average after their last sample was taken.

What :func:`sync_config` gives each clock model is only what a node on a real stage can know:

* **camera, locked** (PTP, as an ST 2110 camera: its RTP stamps are its exposure instants on the
  master clock; ``rig_config(camera_locked=True)`` makes the sim's camera so): no latency, and
  ``locked``, so it is placed by its own stamps.
* **camera, free-running**: the pipeline's latency, :data:`CAMERA_PIPELINE_LATENCY_NS`, as the node
  reads it from its pipeline (a GStreamer latency query reports the configured latency of the
  pipeline's elements), with the default ``"mean"`` delay model: the fit sits at the mean delay,
  so the mean of the queueing on top of the pipeline's latency (1 ms here) stays in every frame
  time as an offset that only a time-offset calibration could remove. (The lower envelope would
  not help: the camera's stamps jitter, which drags that fit early by several jitter sigmas.)
* **LiDAR** and **FreeD** (their packets carry the device's own stamps: firing times, the
  tracker's packet counter, which the rig's ``spare_is_counter`` declares): no latency, and the
  lower envelope of the delays (``delay_model "lower_envelope"``): on a direct link the fastest
  packets arrive almost at once. What the floor of the delays really is (0.3 ms for FreeD here)
  stays unknown and stays in the error.
* **timecode**: nothing (its samples are placed by the audio chunks' host stamps).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Callable, Dict, List, Mapping, NamedTuple, Optional, Tuple

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
from config.sync import SensorClockConfig, SyncConfig
from sensors.camera.sim import CameraSim
from sensors.camera.types import CameraFrameTruth
from sensors.lidar.driver import VelodyneDriver
from sensors.lidar.sim import VelodyneSim
from sensors.lidar.types import LidarGroundTruth
from sensors.telemetry.driver import FreedDriver
from sensors.telemetry.sim import FreedSim
from sensors.timecode.driver import TimecodeDriver
from sensors.timecode.sim import LtcSim, render_ltc_samples
from sensors.vocabulary import NS_PER_S, ImageFrame, LensState, PointCloud, RigPose, Stamp

__all__ = [
    "CAMERA_PIPELINE_LATENCY_NS",
    "EPOCH_NS",
    "FREED_DELAY_MIN_NS",
    "LTC_CHUNK_NS",
    "Event",
    "SphereStage",
    "StageRun",
    "TruthIndex",
    "actor_hits",
    "build_run",
    "feed",
    "match_truth",
    "moving_shot",
    "replay",
    "rig_config",
    "sync_config",
    "truth_at",
    "truth_index",
]

EPOCH_NS = 1_767_225_600_000_000_000  # 2026-01-01T00:00:00Z
FREED_DELAY_MIN_NS, FREED_DELAY_SHAPE, FREED_DELAY_SCALE_NS = 300_000, 2.0, 50_000
#: The camera pipeline's latency: a constant of its configuration, what a latency query reports.
CAMERA_PIPELINE_LATENCY_NS = 8_000_000
# Queueing on top of the pipeline's latency (gamma: shape, scale ns): unknown to a node.
_CAMERA_QUEUE_SHAPE, _CAMERA_QUEUE_SCALE_NS = 2.0, 500_000
#: LTC audio reaches the host in chunks of this length (a sound card's period).
LTC_CHUNK_NS = 10_000_000
_LTC_DELAY_MIN_NS, _LTC_DELAY_SHAPE, _LTC_DELAY_SCALE_NS = 500_000, 2.0, 100_000

# Sensor offsets (ns) added to a shared clock, so that no two sensors read alike.
_CAMERA_OFFSET_NS, _LIDAR_OFFSET_NS, _FREED_OFFSET_NS = 2_500_000, -1_200_000, 800_000


def moving_shot(
    dolly_mps: float = 1.0, pan_dps: float = 30.0, seconds: int = 6, pan_start_deg: float = -20.0
) -> List[ShotKeyframe]:
    """Evenly spaced keys on straight lines: constant dolly (m/s) and pan (deg/s) speed between the
    first and last key's neighbours (a plan that does not loop starts and ends at rest)."""
    return [
        ShotKeyframe(t_s=float(s), dolly_m=dolly_mps * s, pan_deg=pan_start_deg + pan_dps * s,
                     focal_length_mm=35.0, focus_distance_m=3.0)
        for s in range(int(seconds) + 1)
    ]


def rig_config(
    clock: Optional[ClockConfig] = None,
    *,
    clocks: Optional[Mapping[str, ClockConfig]] = None,
    width_px: int = 640,
    height_px: int = 360,
    shot: Optional[List[ShotKeyframe]] = None,
    ltc: bool = True,
    camera_locked: bool = False,
    freed_counter: bool = True,
) -> RigConfig:
    """A rig of one camera, one VLP-16 and one FreeD tracker over a shot plan (default:
    :func:`moving_shot`), on a stage that does not loop.

    Either ``clock``: every sensor runs on it, each with its own fixed offset added; or ``clocks``:
    ``{"camera": ..., "lidar": ..., "telemetry": ...}``, each sensor's clock as given.
    ``camera_locked``: the camera's clock is the master clock (PTP-locked: no offset, drift or
    stamp jitter; ``clocks`` then needs no ``"camera"``); give :func:`sync_config` the same flag.
    ``freed_counter``: the FreeD sim's spare bytes carry its packet counter, and the rig's
    telemetry config says so (``spare_is_counter``), as the sim-stage profile does; False: the
    driver treats it as a device without one.
    """
    if (clock is None) == (clocks is None):
        raise ValueError("give exactly one of clock (shared) or clocks (per sensor)")
    if clocks is not None:
        missing = {"lidar", "telemetry"} - set(clocks) | ({"camera"} - set(clocks) if not camera_locked else set())
        if missing:
            raise ValueError(f"clocks lacks {sorted(missing)}")
        camera_clock, lidar_clock, freed_clock = clocks.get("camera"), clocks["lidar"], clocks["telemetry"]
    else:
        assert clock is not None

        def with_offset(offset_ns: int) -> ClockConfig:
            return clock.model_copy(update={"offset_ns": clock.offset_ns + offset_ns})

        camera_clock = with_offset(_CAMERA_OFFSET_NS)
        lidar_clock = with_offset(_LIDAR_OFFSET_NS)
        freed_clock = with_offset(_FREED_OFFSET_NS)
    if camera_locked:
        camera_clock = ClockConfig()
    stage = StageConfig(loop=False, shot=shot or moving_shot())
    return RigConfig(
        stage=stage,
        camera=CameraConfig(width_px=width_px, height_px=height_px, clock=camera_clock, ltc=ltc),
        lidars=[LidarConfig(port=0, clock=lidar_clock)],
        telemetry=[TelemetryConfig(port=0, clock=freed_clock, spare_is_counter=freed_counter)],
        timecode=TimecodeConfig(clock=ClockConfig(offset_ns=0, drift_ppm=10.0, jitter_ns=0)),
    )


def sync_config(rig: RigConfig, *, camera_locked: bool = False, **extra) -> SyncConfig:
    """Synchronizer settings with only what a node could know of each sensor's delays (module
    docstring): the camera's pipeline latency, or nothing when ``camera_locked`` (the rig was made
    with ``rig_config(camera_locked=True)``); the lower envelope of the LiDAR's and the FreeD
    tracker's delays. ``extra`` sets any other :class:`SyncConfig` field; a ``clocks`` entry in it
    replaces the one given here for that sensor."""
    if camera_locked and rig.camera.clock != ClockConfig():
        raise ValueError("camera_locked needs a rig whose camera runs on the master clock: "
                         "rig_config(..., camera_locked=True)")
    if camera_locked:
        camera = SensorClockConfig(latency_ns=0, locked=True)
    else:
        camera = SensorClockConfig(latency_ns=CAMERA_PIPELINE_LATENCY_NS)
    clocks = {
        rig.camera.name: camera,
        rig.lidars[0].name: SensorClockConfig(latency_ns=0, delay_model="lower_envelope"),
        rig.telemetry[0].name: SensorClockConfig(latency_ns=0, delay_model="lower_envelope"),
    }
    clocks.update(extra.pop("clocks", None) or {})
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
    """One arrival at the host: ``kind`` is ``"cloud"`` (item: PointCloud; truth: the run's
    LiDAR ground truth or None), ``"stamp"`` (a LiDAR packet's ``(sensor_ns, host_ns)``),
    ``"telemetry"`` (TelemetrySample; FreedSimPacket), ``"timecode"`` (a TimecodeSample the
    timecode driver decoded from the LTC audio; truth None) or ``"frame"`` (ImageFrame with
    ``timecode=None``; CameraFrameTruth, whose ``timecode`` is the label the frame must get).
    ``order`` breaks ties: frames after the samples that arrived at the same instant."""

    host_ns: int
    order: int
    kind: str
    sensor: str
    item: object
    truth: object = None


@dataclass
class StageRun:
    """The sims of one rig and the events they produce, in host-arrival order.

    ``sweeps``: every whole rotation the LiDAR driver assembled (the ``"cloud"`` events too,
    unless the run delivers slices); ``packet_clouds``: each LiDAR packet's returns as its own
    cloud (stamp: its first firing, its arrival), when the run was asked for them.
    """

    rig: RigConfig
    stage: object
    lidar: VelodyneSim
    freed: FreedSim
    camera: CameraSim
    ltc: Optional[LtcSim]
    events: List[Event] = field(default_factory=list)
    sweeps: List[PointCloud] = field(default_factory=list)
    packet_clouds: List[PointCloud] = field(default_factory=list)


def build_run(
    rig: RigConfig,
    stage,
    start_ns: int,
    end_ns: int,
    seed: int = 0,
    *,
    lidar_truth: bool = False,
    truth_from_ns: Optional[int] = None,
    packet_stamps: bool = False,
    lidar_slices: bool = False,
    packet_clouds: bool = False,
) -> StageRun:
    """Every LiDAR sweep, FreeD sample, decoded LTC frame and camera frame of ``[start_ns, end_ns)``
    as events (the LTC when the rig's camera reads timecode).

    ``stage`` is what the sims look at (a :class:`sensors.sim.stage.Stage` or a
    :class:`SphereStage`); the sims' clocks are switched on at :data:`EPOCH_NS`.
    ``lidar_truth``: keep the LiDAR's ground truth (ray casting costs more) on the sweep events,
    for the packets sent from ``truth_from_ns`` on (default: all of them). ``packet_stamps``:
    also a ``"stamp"`` event for every LiDAR packet (its stamp pair, as the driver's ``on_stamp``
    hears it and the node hands it to ``Synchronizer.observe_clock``). ``lidar_slices``: the
    ``"cloud"`` events are the driver's slices (``slice_ms`` of the LiDAR's config), as the node
    feeds them, instead of whole sweeps (those stay in ``run.sweeps``). ``packet_clouds``: keep
    every packet's returns in ``run.packet_clouds`` (for baselines that group packets their own way).
    """
    rng = np.random.default_rng([seed, 0x5E7])
    lidar_cfg, freed_cfg = rig.lidars[0], rig.telemetry[0]
    lidar = VelodyneSim(lidar_cfg, stage, EPOCH_NS, seed=seed + 101)
    freed = FreedSim(freed_cfg, stage.rig_state, EPOCH_NS, seed=seed + 211)
    ltc = LtcSim(rig.timecode, EPOCH_NS, seed=seed + 307) if rig.camera.ltc else None
    camera = CameraSim(rig.camera, stage, ltc, EPOCH_NS, seed=seed + 401)
    run = StageRun(rig, stage, lidar, freed, camera, ltc)

    stamps: List[Tuple[int, int]] = []
    slices: List[PointCloud] = []
    driver = VelodyneDriver(lidar_cfg, on_stamp=(lambda s, h: stamps.append((s, h))) if packet_stamps else None,
                            on_slice=slices.append if lidar_slices else None)
    per_packet = VelodyneDriver(lidar_cfg.model_copy(update={"slice_ms": 0.0}),
                                on_slice=run.packet_clouds.append) if packet_clouds else None
    split = start_ns if truth_from_ns is None else min(max(int(truth_from_ns), start_ns), end_ns)
    packets, _ = lidar.simulate_between(start_ns, split, truth=False)
    more, truth = lidar.simulate_between(split, end_ns, truth=lidar_truth)
    for host_ns, payload in packets + more:  # the sim's send time already carries its delivery latency
        cloud = driver.decode_datagram(payload, host_ns)
        if per_packet is not None:
            per_packet.decode_datagram(payload, host_ns)
        # As in the driver: a packet's stamp pair is heard before the slices and the sweep it completes.
        run.events.extend(Event(h, 0, "stamp", lidar_cfg.name, (s, h)) for s, h in stamps)
        stamps.clear()
        run.events.extend(Event(host_ns, 0, "cloud", lidar_cfg.name, piece, truth) for piece in slices)
        slices.clear()
        if cloud is not None:
            run.sweeps.append(cloud)
            if not lidar_slices:
                run.events.append(Event(host_ns, 0, "cloud", lidar_cfg.name, cloud, truth))

    freed_driver = FreedDriver(freed_cfg)
    for packet in freed.frames_between(start_ns, end_ns):
        host_ns = packet.master_ns + FREED_DELAY_MIN_NS + int(rng.gamma(FREED_DELAY_SHAPE, FREED_DELAY_SCALE_NS))
        sample = freed_driver.decode_datagram(packet.payload, host_ns)
        if sample is not None:
            run.events.append(Event(host_ns, 0, "telemetry", freed_cfg.name, sample, packet))

    if ltc is not None:
        run.events.extend(_ltc_events(ltc, rig, start_ns, end_ns, np.random.default_rng([seed, 0x17C])))

    rgb = np.zeros((rig.camera.height_px, rig.camera.width_px, 3), dtype=np.uint8)
    k = camera.first_frame_at(start_ns)
    while camera.exposure_master_ns(k) < end_ns:
        truth_k: CameraFrameTruth = camera.truth(k)
        host_ns = truth_k.master_ns + CAMERA_PIPELINE_LATENCY_NS + int(
            rng.gamma(_CAMERA_QUEUE_SHAPE, _CAMERA_QUEUE_SCALE_NS))
        frame = ImageFrame(rgb, Stamp(truth_k.sensor_ns, host_ns), k, None)  # the label is the synchronizer's job
        run.events.append(Event(host_ns, 1, "frame", rig.camera.name, frame, truth_k))
        k += 1
    run.events.sort(key=lambda e: (e.host_ns, e.order))
    return run


def _ltc_events(ltc: LtcSim, rig: RigConfig, start_ns: int, end_ns: int, rng) -> List[Event]:
    """The generator's audio taken in ``[start_ns, end_ns)``, in chunks, through the timecode driver.

    A chunk reaches the host a short delay after its last sample was taken; the host stamps its
    first sample as an audio source does, by the chunk's arrival less its length at the nominal
    sample rate (so the stamp carries the delay, which nobody tells the synchronizer).
    """
    rate = ltc.sample_rate_hz
    chunk = max(1, rate * LTC_CHUNK_NS // NS_PER_S)
    first = 0
    while ltc.sample_master_ns(first + chunk) < start_ns:  # whole chunks before the run
        first += chunk
    driver = TimecodeDriver(rig.timecode, clock_ns=lambda: 0)
    events: List[Event] = []
    while ltc.sample_master_ns(first) < end_ns:
        samples = render_ltc_samples(ltc.start, first, chunk, rate, user_bits=ltc.user_bits,
                                     amplitude_lsb=ltc.amplitude_lsb, rise_time_s=ltc.rise_time_s)
        arrival_ns = ltc.sample_master_ns(first + chunk) + _LTC_DELAY_MIN_NS + int(
            rng.gamma(_LTC_DELAY_SHAPE, _LTC_DELAY_SCALE_NS))
        stamped_ns = arrival_ns - (chunk * NS_PER_S) // rate
        for sample in driver.feed_audio(samples, stamped_ns):
            events.append(Event(arrival_ns, 0, "timecode", "timecode", sample))
        first += chunk
    return events


def feed(sync, event: Event) -> bool:
    """Hand one event to ``sync`` (an :class:`edge.sync.Synchronizer` or anything with its
    ``add_cloud`` / ``add_telemetry`` / ``add_timecode`` / ``add_frame`` / ``observe_clock``); True
    if it was accepted."""
    if event.kind == "stamp":
        sync.observe_clock(event.sensor, *event.item)
        return True
    if event.kind == "cloud":
        return sync.add_cloud(event.sensor, event.item)
    if event.kind == "telemetry":
        return sync.add_telemetry(event.sensor, event.item)
    if event.kind == "timecode":
        return sync.add_timecode(event.item)
    return sync.add_frame(event.item)


def replay(
    sync,
    events: List[Event],
    after_feed: Optional[Callable[[Event, bool], None]] = None,
    until_ns: Optional[int] = None,
) -> List[Tuple[int, object]]:
    """Feed ``events`` in order to ``sync`` (a synchronizer with a pinned clock: ``poll(now_ns)``
    and ``next_deadline_ns()``), polling at every arrival and at every waiting frame's deadline,
    as its worker thread would; then at every deadline up to ``until_ns`` (default: 10 s past
    the last event). ``after_feed(event, accepted)`` hears each event once fed. Returns
    ``(poll time ns, fused frame)`` of every fused frame."""
    out: List[Tuple[int, object]] = []
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


class TruthIndex(NamedTuple):
    """A LiDAR ground truth sorted by (ring, sensor time), for :func:`match_truth`: ``order`` into
    the truth's rows; ``rings`` and ``t_sensor_ns`` in that order; ``ring_bounds`` maps a ring to
    its ``[lo, hi)`` span."""

    order: np.ndarray
    rings: np.ndarray
    t_sensor_ns: np.ndarray
    ring_bounds: Dict[int, Tuple[int, int]]


def truth_index(truth: LidarGroundTruth) -> TruthIndex:
    """Sort ``truth`` once so that many sweeps can be matched against it."""
    order = np.lexsort((truth.t_sensor_ns, truth.ring))
    rings, times = np.asarray(truth.ring)[order], np.asarray(truth.t_sensor_ns, dtype=np.int64)[order]
    bounds = {
        int(r): (int(np.searchsorted(rings, r, "left")), int(np.searchsorted(rings, r, "right")))
        for r in np.unique(rings)
    }
    return TruthIndex(order, rings, times, bounds)


def match_truth(index: TruthIndex, ring: np.ndarray, t_sensor_ns: np.ndarray, tolerance_ns: int = 1_000) -> np.ndarray:
    """Row of the ground truth of each decoded point (its ``ring`` and sensor-clock time ``t_ns``):
    same ring, nearest firing time; -1 where none lies within ``tolerance_ns`` (packet stamps
    carry whole microseconds)."""
    ring = np.asarray(ring)
    t = np.asarray(t_sensor_ns, dtype=np.int64)
    rows = np.full(t.size, -1, dtype=np.int64)
    for r in np.unique(ring):
        span = index.ring_bounds.get(int(r))
        if span is None or span[1] - span[0] == 0:
            continue
        lo, hi = span
        sel = np.flatnonzero(ring == r)
        times = index.t_sensor_ns[lo:hi]
        if times.size == 1:
            j = np.zeros(sel.size, dtype=np.int64)
        else:
            j = np.clip(np.searchsorted(times, t[sel]), 1, times.size - 1)
            nearer_left = np.abs(times[j - 1] - t[sel]) <= np.abs(times[j] - t[sel])
            j = np.where(nearer_left, j - 1, j)
        close = np.abs(times[j] - t[sel]) <= tolerance_ns
        rows[sel[close]] = index.order[lo + j[close]]
    return rows


def actor_hits(stage, object_id: np.ndarray) -> np.ndarray:
    """Which hits (``object_id`` (N,) from a LiDAR ground truth) are on one of ``stage``'s actors:
    (N,) int, the actor's index in ``stage.actors``, -1 for the static set or a miss. A stage
    without actors (a :class:`SphereStage`) gives -1 everywhere. Scoring only: the truth never
    reaches the synchronizer."""
    ids = np.asarray(object_id, dtype=np.int64)
    actors = getattr(stage, "actors", None) or []
    if not actors:
        return np.full(ids.shape, -1, dtype=np.int64)
    first = int(stage.scene.first_actor_id)
    index = ids - first
    return np.where((index >= 0) & (index < len(actors)), index, -1)


def truth_at(stage, truth: LidarGroundTruth, rows: np.ndarray, t_ns: int) -> Tuple[np.ndarray, np.ndarray]:
    """Where the true hits ``rows`` (into ``truth``; all >= 0) lie at master time ``t_ns``, in the
    stage frame: ``(points_stage_m (N,3), actor (N,) int)``. A hit on the static set stays where
    the laser found it; a hit on an actor is the same spot of the actor's body, carried with the
    actor (its loop position and heading, :func:`sensors.sim.actors.actor_poses`) from the firing
    time to ``t_ns``. ``actor`` is as :func:`actor_hits` gives it. Scoring only."""
    from sensors.sim.actors import actor_poses

    rows = np.asarray(rows, dtype=np.int64)
    points = np.array(truth.point_stage_m[rows], dtype=np.float64).reshape(-1, 3)
    actor = actor_hits(stage, truth.object_id[rows])
    t_fire_s = stage.plan_time_s(truth.t_master_ns[rows]) if rows.size else np.zeros(0)
    t_s = float(stage.plan_time_s(int(t_ns)))
    for k in np.unique(actor[actor >= 0]):
        sel = np.flatnonzero(actor == k)
        path = stage.actors[int(k)].path
        at_fire, heading_fire = actor_poses(path, t_fire_s[sel])
        at_t, heading_t = actor_poses(path, t_s)
        turn = float(heading_t) - heading_fire
        c, s = np.cos(turn), np.sin(turn)
        rel = points[sel] - at_fire
        moved = np.empty_like(rel)
        moved[:, 0] = c * rel[:, 0] - s * rel[:, 1]
        moved[:, 1] = s * rel[:, 0] + c * rel[:, 1]
        moved[:, 2] = rel[:, 2]
        points[sel] = moved + np.asarray(at_t, dtype=np.float64)
    return points, actor
