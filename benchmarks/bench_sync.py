"""How much does Onset's synchronizer buy over the usual ROS ways of pairing sensors, and what does
fusion cost?

One replayed run of the simulated stage per clock setting (the sensor sims' pure paths through the
real drivers, in host-arrival order; :mod:`tests.harness.replay`): the clock models learn for
``--warmup`` seconds with the rig at rest, then the dolly moves at 1 m/s and the head pans at
30 deg/s, and ``--seconds`` of constant speed are measured. Every method sees the same samples.

* **Nearest stamp** (what ``message_filters`` ApproximateTime does with host-stamped messages):
  each sample's time is its host receive stamp (no clock model); each camera frame is paired with
  the LiDAR cloud and the telemetry sample whose stamps are closest to its own; the clouds are the
  ones Onset's driver cuts at the head's cut azimuth (when delivery jitter reorders packets, it
  cuts a rotation where one overtakes another: short pieces); the paired pose serves for the frame
  and for the points, which are projected as they are (no deskew).
* **Whole revolutions** (the ROS ``velodyne_driver`` default): the LiDAR packets are grouped, in
  arrival order, ``ceil(packet rate / rotation rate)`` at a time into one cloud per revolution,
  stamped with its last packet's receive time (``timestamp_first_packet: false``), no per-point
  times; otherwise as the nearest-stamp pairing.
* **Onset**: :class:`edge.sync.Synchronizer` (a clock model per sensor, LiDAR slices and packet
  stamps as the node feeds them, pose interpolation at the frame's exposure mid-time, per-point
  deskew), fed the same events with a pinned clock, and told only what a node could know
  (:func:`tests.harness.replay.sync_config`): the camera pipeline's latency for a free-running
  camera and nothing for a PTP-locked one, no latency and the lower envelope of the delays for the
  LiDAR and the FreeD tracker. The simulator's own delay draws are never given to it.

Reported, against the sim's ground truth, with the frames each method scored out of the frames
there were (a method that pairs a frame with a cloud holding no point in view scores nothing
for it):

1. **Alignment error**: |assigned master time - true master time| of camera frames, LiDAR points
   and FreeD samples (for FreeD against the instant its clock read the packet's counter); the rig
   pose at each frame against the true pose at its true exposure time; and the **point
   reprojection error**: each LiDAR point as fused against where its true hit appears in the frame
   (true camera pose and lens at the true exposure time). Three clock settings: the sim-stage
   profile's sensor clocks; 50 ppm drift with 2 ms jitter on every clock; the same with the camera
   locked to the master clock. A free-running camera's frame time keeps an offset no node can know
   without a time-offset calibration (the queueing on top of its pipeline's latency): it shows in
   its rows and in every quantity measured at the frame.
2. **Fusion cost** per fused frame at 640x360 with the synchronizer's LiDAR window, inside the
   synchronizer and for :func:`edge.fusion.fuse_frame` alone, with and without deskew.

Run: ``make bench`` or ``.venv/bin/python -m benchmarks sync [--seconds S] [--warmup S]``.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from typing import Dict, List, NamedTuple, Optional, Sequence

import numpy as np

from config import load_profile
from config.models import ClockConfig, RigConfig
from edge.fusion import (
    LidarPoints,
    T_optical_lidar,
    camera_intrinsics,
    fuse_frame,
    lidar_in_optical,
    transform_points,
)
from edge.sync import Synchronizer
from sensors.camera import optics
from sensors.lidar.velodyne import packet_period_ns
from sensors.vocabulary import NS_PER_MS, NS_PER_S, PointCloud, quat_to_matrix, rotation_from_pan_tilt_roll
from tests.harness.replay import (
    CAMERA_PIPELINE_LATENCY_NS,
    EPOCH_NS,
    build_run,
    match_truth,
    moving_shot,
    replay,
    rig_config,
    sync_config,
    truth_index,
)

RAMP_S = 1.2  # the plan eases in over its first second and out over its last: measure in between
DEADLINE_NS = 250 * NS_PER_MS  # long enough for the sweep that covers a frame's window
SEED = 2
FULL_SWEEP_POINTS = 28_800  # a VLP-16 rotation at 10 Hz: 16 lasers x 1800 firings
NEAREST, REVOLUTIONS, ONSET = "nearest stamp", "whole revolutions", "Onset"
METHODS = (NEAREST, REVOLUTIONS, ONSET)


class _TimedSync:
    """The synchronizer with its ``poll`` timed; time spent in ``on_fused`` (which copies the
    buffers out for scoring) is not counted."""

    def __init__(self) -> None:
        self.sync: Optional[Synchronizer] = None
        self.per_frame: List[tuple] = []  # (t_ns of the frame, wall s, cpu s)
        self.excluded = [0.0, 0.0]

    def __getattr__(self, name: str):
        return getattr(self.sync, name)

    def poll(self, now_ns: int):
        wall0, cpu0, self.excluded = time.perf_counter(), time.process_time(), [0.0, 0.0]
        out = self.sync.poll(now_ns)
        if out:
            wall = (time.perf_counter() - wall0 - self.excluded[0]) / len(out)
            cpu = (time.process_time() - cpu0 - self.excluded[1]) / len(out)
            self.per_frame.extend((f.t_ns, wall, cpu) for f in out)
        return out


def _shot_rig(clocks: Dict[str, ClockConfig], seconds: float, camera_locked: bool) -> RigConfig:
    plan_s = int(math.ceil(seconds + 2 * RAMP_S))
    return rig_config(clocks=clocks, shot=moving_shot(dolly_mps=1.0, pan_dps=30.0, seconds=plan_s),
                      camera_locked=camera_locked)


def packets_per_revolution(rig: RigConfig) -> int:
    """Packets the ROS ``velodyne_driver`` puts in one scan by default: the packet rate over the
    rotation rate, rounded up."""
    lidar = rig.lidars[0]
    return int(math.ceil(NS_PER_S / packet_period_ns(lidar.model) / float(lidar.rotation_hz)))


def group_revolutions(packets: Sequence[PointCloud], per_scan: int) -> List[dict]:
    """Packets (in arrival order) in consecutive groups of ``per_scan``, as ``velodyne_driver``
    publishes them: ``host`` is the last packet's receive time, the scan's one stamp; ``ring`` and
    ``t_ns`` are kept only to find each point's ground truth."""
    scans = []
    for i in range(0, len(packets) - per_scan + 1, per_scan):
        group = packets[i:i + per_scan]
        scans.append(dict(host=int(group[-1].stamp.host_ns), xyz=np.concatenate([c.xyz_m for c in group]),
                          ring=np.concatenate([c.ring for c in group]),
                          t_ns=np.concatenate([c.t_ns for c in group])))
    return scans


def run_setting(rig: RigConfig, warmup_s: float, seconds: float, camera_locked: bool) -> dict:
    """Replay one run through the synchronizer; keep what every method needs for scoring."""
    from sensors.sim.stage import Stage

    move_ns = EPOCH_NS + int(warmup_s * NS_PER_S)
    measure = (move_ns + int(RAMP_S * NS_PER_S), move_ns + int((RAMP_S + seconds) * NS_PER_S))
    end_ns = measure[1] + 400 * NS_PER_MS
    truth_from_ns = measure[0] - 300 * NS_PER_MS
    stage = Stage(rig.stage, move_ns)  # the rig holds the plan's first key until the move
    run = build_run(rig, stage, EPOCH_NS, end_ns, seed=SEED, lidar_truth=True, truth_from_ns=truth_from_ns,
                    packet_stamps=True, lidar_slices=True, packet_clouds=True)
    truth = next((e.truth for e in run.events if e.kind == "cloud" and e.truth is not None), None)
    lookup = truth_index(truth) if truth is not None and len(truth) else None
    lidar, freed = run.lidar, run.freed
    lidar_name, freed_name = rig.lidars[0].name, rig.telemetry[0].name
    slices: List[dict] = []  # what Onset was fed, with the master times it gave each point
    telemetry: List[tuple] = []  # (host ns, Onset master ns, counter-time truth, pose time, sample)
    captured: List[tuple] = []
    timed = _TimedSync()

    def rows_of(ring, t_ns, host_ns: int) -> Optional[np.ndarray]:
        if lookup is None or host_ns < truth_from_ns:
            return None
        return match_truth(lookup, ring, t_ns)

    def on_fused(frame) -> None:
        wall0, cpu0 = time.perf_counter(), time.process_time()
        if frame.t_ns >= move_ns:
            start, end = frame.t_ns - sync.window_ns[0], frame.t_ns + sync.window_ns[1]
            captured.append((frame, sync.poses(freed_name, start, end), sync.points(lidar_name, start, end)))
        timed.excluded = [timed.excluded[0] + time.perf_counter() - wall0,
                          timed.excluded[1] + time.process_time() - cpu0]

    def after_feed(event, accepted: bool) -> None:
        if event.host_ns < move_ns:
            return
        if event.kind == "cloud":
            cloud = event.item
            truth_t = np.asarray(lidar.clock.master_ns(cloud.t_ns), dtype=np.int64)
            onset_t = None
            if accepted:
                held = sync.points(lidar_name, int(truth_t.min()) - 20 * NS_PER_MS, int(truth_t.max()) + 20 * NS_PER_MS)
                if not np.array_equal(held.xyz_m[-len(cloud):], cloud.xyz_m):
                    raise RuntimeError("the synchronizer's newest points are not the slice just fed")
                onset_t = held.t_ns[-len(cloud):].copy()
            slices.append(dict(xyz=cloud.xyz_m, truth_t=truth_t, onset_t=onset_t,
                               rows=rows_of(cloud.ring, cloud.t_ns, event.host_ns)))
        elif event.kind == "telemetry":
            packet = event.truth
            counter_ns = freed.epoch_ns + freed.clock.offset_ns + round(packet.index * freed.period_ns)
            onset = int(sync.poses(freed_name, 0, 2**62).t_ns[-1]) if accepted else None
            # The tracker samples the pose when its clock reads the packet's counter time (pose.t_ns).
            telemetry.append((event.host_ns, onset, freed.clock.master_ns(counter_ns), packet.pose.t_ns, event.item))

    sync = Synchronizer(rig, on_fused, deadline_ns=DEADLINE_NS, clock_ns=lambda: 0,
                        config=sync_config(rig, camera_locked=camera_locked))
    timed.sync = sync
    replay(timed, run.events, after_feed)

    def baseline_cloud(host: int, xyz, ring, t_ns) -> dict:
        return dict(host=host, xyz=xyz, truth_t=np.asarray(lidar.clock.master_ns(t_ns), dtype=np.int64),
                    rows=rows_of(ring, t_ns, host))

    sweeps = [baseline_cloud(int(c.stamp.host_ns), c.xyz_m, c.ring, c.t_ns) for c in run.sweeps
              if c.stamp.host_ns >= move_ns - 200 * NS_PER_MS]
    per_scan = packets_per_revolution(rig)
    revolutions = [baseline_cloud(r["host"], r["xyz"], r["ring"], r["t_ns"])
                   for r in group_revolutions(run.packet_clouds, per_scan) if r["host"] >= move_ns - 200 * NS_PER_MS]
    run.packet_clouds.clear()  # the largest part of the run; the revolutions hold what is needed
    frames = {e.item.frame_index: e for e in run.events if e.kind == "frame"}
    return dict(run=run, stage=stage, move_ns=move_ns, measure=measure, slices=slices, sweeps=sweeps,
                revolutions=revolutions, per_scan=per_scan, telemetry=telemetry, captured=captured, frames=frames,
                timing=timed.per_frame, sync=sync, truth=truth, camera_locked=camera_locked)


def _angle_rad(R_a: np.ndarray, R_b: np.ndarray) -> float:
    return float(np.arccos(np.clip((np.trace(R_a.T @ R_b) - 1.0) / 2.0, -1.0, 1.0)))


def _error_px(uv: np.ndarray, front: np.ndarray, rows: np.ndarray, truth, T_optical_stage: np.ndarray,
              K_true: np.ndarray, distortion, camera) -> np.ndarray:
    """Pixel distance of each projected point (``uv``, ``front``) from where its true hit (``rows``
    into the LiDAR ground truth; -1: none) appears to the true camera; points whose true hit is out
    of the image are left out."""
    ok = rows >= 0
    uv, front, rows = uv[ok], front[ok], rows[ok]
    seen = transform_points(T_optical_stage, truth.point_stage_m[rows])
    uv_true, front_true = optics.project_points(seen, K_true, distortion)
    inside = front & front_true & np.isfinite(uv_true).all(axis=1) \
        & (np.abs(uv_true[:, 0] - (camera.width_px - 1) / 2) < camera.width_px / 2) \
        & (np.abs(uv_true[:, 1] - (camera.height_px - 1) / 2) < camera.height_px / 2)
    return np.linalg.norm(uv - uv_true, axis=1)[inside]


class Scored(NamedTuple):
    """One method's errors for one quantity, and how many frames gave any (of how many there were)."""

    errors: np.ndarray
    frames: Optional[int]
    of_frames: Optional[int]


def score(result: dict) -> Dict[str, Dict[str, Scored]]:
    """``{quantity: {method: Scored}}`` (errors in ms, mm, mrad or px)."""
    run, stage, telemetry = result["run"], result["stage"], result["telemetry"]
    camera, truth = run.rig.camera, result["truth"]
    T_rig_lidar = run.rig.lidars[0].mount.matrix()
    T_ol = T_optical_lidar(T_rig_lidar)
    before_ns, after_ns = result["sync"].window_ns
    out: Dict[str, Dict[str, Scored]] = {}

    frame_events = [e for e in result["frames"].values() if e.host_ns >= result["move_ns"]]
    fused = {f.frame_index: (f, poses, held) for f, poses, held in result["captured"]}
    got = [e for e in frame_events if e.item.frame_index in fused]
    host_stamped = Scored(np.array([e.host_ns - e.truth.master_ns for e in frame_events], dtype=float) / NS_PER_MS,
                          len(frame_events), len(frame_events))
    out["camera frame time (ms)"] = {
        NEAREST: host_stamped, REVOLUTIONS: host_stamped,
        ONSET: Scored(np.array([fused[e.item.frame_index][0].t_ns - e.truth.master_ns for e in got], dtype=float)
                      / NS_PER_MS, len(got), len(frame_events))}
    accepted = [s for s in result["slices"] if s["onset_t"] is not None]

    def point_times(clouds: List[dict]) -> Scored:
        errors = [c["host"] - c["truth_t"] for c in clouds]
        return Scored(np.concatenate(errors).astype(float) / NS_PER_MS if errors else np.zeros(0), None, None)

    out["LiDAR point time (ms)"] = {
        NEAREST: point_times(result["sweeps"]), REVOLUTIONS: point_times(result["revolutions"]),
        ONSET: Scored(np.concatenate([s["onset_t"] - s["truth_t"] for s in accepted]).astype(float) / NS_PER_MS,
                      None, None)}
    held = [t for t in telemetry if t[1] is not None]
    host_freed = Scored(np.array([t[0] - t[2] for t in telemetry], dtype=float) / NS_PER_MS, None, None)
    out["FreeD sample time (ms)"] = {
        NEAREST: host_freed, REVOLUTIONS: host_freed,
        ONSET: Scored(np.array([t[1] - t[2] for t in held], dtype=float) / NS_PER_MS, None, None)}

    # Frames at constant speed: pose and reprojection.
    lo, hi = result["measure"]
    moving = [e for e in frame_events if lo <= e.truth.master_ns <= hi]
    tele_host = np.array([t[0] for t in telemetry], dtype=np.int64)
    clouds = {NEAREST: result["sweeps"], REVOLUTIONS: result["revolutions"]}
    cloud_host = {m: np.array([c["host"] for c in cs], dtype=np.int64) for m, cs in clouds.items()}
    with_rows = [s for s in accepted if s["rows"] is not None]
    xyz = np.concatenate([s["xyz"] for s in with_rows])
    t_master = np.concatenate([s["onset_t"] for s in with_rows])
    rows = np.concatenate([s["rows"] for s in with_rows])
    pos = {m: [] for m in METHODS}
    rot = {m: [] for m in METHODS}
    reproj: Dict[str, List[np.ndarray]] = {m: [] for m in METHODS}
    for e in moving:
        t_true = e.truth.master_ns
        T_true = stage.rig_matrices(np.array([t_true]))[0]
        sample = telemetry[int(np.argmin(np.abs(tele_host - e.host_ns)))][4]
        R_base = rotation_from_pan_tilt_roll(sample.pan_deg, sample.tilt_deg, sample.roll_deg)
        for method in (NEAREST, REVOLUTIONS):  # both pair the frame with the nearest telemetry sample
            pos[method].append(1e3 * np.linalg.norm(np.asarray(sample.position_m) - T_true[:3, 3]))
            rot[method].append(1e3 * _angle_rad(R_base, T_true[:3, :3]))
        T_optical_stage, K_true = np.linalg.inv(stage.T_stage_optical(t_true)), stage.camera_matrix(t_true, camera)
        lens = sample.lens
        K_base, distortion = camera_intrinsics(camera, lens.focal_length_mm if lens is not None else 35.0)
        for method, cs in clouds.items():
            if not cs:
                continue
            paired = cs[int(np.argmin(np.abs(cloud_host[method] - e.host_ns)))]
            if paired["rows"] is None:
                continue  # no ground truth for that cloud: the frame is not scored
            uv, front = optics.project_points(transform_points(T_ol, paired["xyz"]), K_base, distortion)
            reproj[method].append(_error_px(uv, front, paired["rows"], truth, T_optical_stage, K_true, distortion,
                                            camera))
        if e.item.frame_index not in fused:
            continue
        frame, poses, _ = fused[e.item.frame_index]
        if frame.pose is not None:
            pos[ONSET].append(1e3 * np.linalg.norm(frame.pose.position_m - T_true[:3, 3]))
            rot[ONSET].append(1e3 * _angle_rad(quat_to_matrix(frame.pose.orientation_xyzw), T_true[:3, :3]))
        near = (t_master >= frame.t_ns - before_ns) & (t_master <= frame.t_ns + after_ns)  # the fusion's window
        optical = lidar_in_optical(LidarPoints(xyz[near], t_master[near], T_rig_lidar), frame.t_ns, poses)
        uv, front = optics.project_points(optical, frame.K, frame.distortion)
        reproj[ONSET].append(_error_px(uv, front, rows[near], truth, T_optical_stage, K_true, frame.distortion,
                                       camera))
    n = len(moving)
    out["rig position at frame (mm)"] = {m: Scored(np.array(pos[m]), len(pos[m]), n) for m in METHODS}
    out["rig rotation at frame (mrad)"] = {m: Scored(np.array(rot[m]), len(rot[m]), n) for m in METHODS}
    out["LiDAR point reprojection (px)"] = {
        m: Scored(np.concatenate(reproj[m]) if reproj[m] else np.zeros(0), sum(r.size > 0 for r in reproj[m]), n)
        for m in METHODS}
    result["scored_frames"] = n
    return out


def fusion_costs(result: dict) -> List[tuple]:
    """(step, wall ms per frame (array), CPU ms per frame (array), points in the window)."""
    run, sync = result["run"], result["sync"]
    measured = [r for r in result["timing"] if r[0] >= result["move_ns"]]
    rows = [("Synchronizer.poll: gather + deskew + project + z-buffer",
             1e3 * np.array([r[1] for r in measured]), 1e3 * np.array([r[2] for r in measured]))]
    images = {i: e.item for i, e in result["frames"].items()}
    points_in_window = []
    for deskew in (True, False):
        wall, cpu = [], []
        for frame, poses, held in result["captured"]:
            wall0, cpu0 = time.perf_counter(), time.process_time()
            again = fuse_frame(images[frame.frame_index], frame.t_ns, frame.timecode, held, poses, frame.lens,
                               run.rig.camera, sync.window_ns, frame.sync, deskew=deskew,
                               knot_spacing_ns=sync.config.knot_spacing_ns)
            wall.append(time.perf_counter() - wall0)
            cpu.append(time.process_time() - cpu0)
            if deskew:
                points_in_window.append(held.t_ns.size)
                if not np.allclose(again.depth_m, frame.depth_m, atol=1e-6, equal_nan=True):
                    raise RuntimeError(f"re-fusing frame {frame.frame_index} gave another depth map")
        label = "fuse_frame alone, deskew on" if deskew else "fuse_frame alone, deskew off (extrinsics only)"
        rows.append((label, 1e3 * np.array(wall), 1e3 * np.array(cpu)))
    result["points_in_window"] = int(np.median(points_in_window)) if points_in_window else 0
    return rows


def _pcts(values: np.ndarray, qs: Sequence[float]) -> List[float]:
    return [float(np.percentile(np.abs(values), q)) for q in qs] if values.size else [math.nan] * len(qs)


def _cells(values: Sequence[float]) -> str:
    return " / ".join(f"{v:.3g}" if abs(v) < 1e4 else f"{v:.3e}" for v in values)


def _ratio(base: float, onset: float) -> str:
    if not (onset > 0 and math.isfinite(base)):
        return "-"
    r = base / onset
    return f"{r:,.0f}x" if r >= 100 else f"{r:.2g}x" if r < 1 else f"{r:.1f}x"


def _clock_label(clock: ClockConfig) -> str:
    return f"{clock.drift_ppm:g} ppm, {clock.jitter_ns / 1e6:g} ms jitter"


def _clock_given(rig: RigConfig, sync: Synchronizer) -> str:
    parts = []
    for name in (rig.camera.name, rig.lidars[0].name, rig.telemetry[0].name):
        clock = sync.config.clock(name)
        if getattr(clock, "locked", False):
            parts.append(f"{name} locked (no latency)")
        else:
            parts.append(f"{name} latency {clock.latency_ns / 1e6:g} ms, {clock.delay_model.replace('_', ' ')}")
    return "; ".join(parts)


def print_comparison(title: str, rig: RigConfig, result: dict, errors: Dict[str, Dict[str, Scored]]) -> None:
    print(f"## {title}\n")
    camera = "locked to the master clock" if result["camera_locked"] else _clock_label(rig.camera.clock)
    print(f"Clocks: camera {camera}; LiDAR {_clock_label(rig.lidars[0].clock)}; FreeD "
          f"{_clock_label(rig.telemetry[0].clock)}. Onset was given: {_clock_given(rig, result['sync'])} "
          f"(the camera pipeline's latency is {CAMERA_PIPELINE_LATENCY_NS / 1e6:g} ms).")
    sizes = [len(s["xyz"]) for s in result["sweeps"]]
    seconds = (max(s["host"] for s in result["sweeps"]) - result["move_ns"]) / NS_PER_S
    pieces = np.median(sizes) < 0.9 * FULL_SWEEP_POINTS
    revolution_points = np.median([len(r["xyz"]) for r in result["revolutions"]]) if result["revolutions"] else 0
    print(f"The LiDAR driver cut {len(sizes) / seconds:.1f} clouds/s, median {np.median(sizes):.0f} points"
          + (" (delivery jitter reorders packets and the driver cuts a rotation where one overtakes another, so "
             "the nearest-stamp baseline's cloud is often a short piece)" if pieces else " (whole rotations)")
          + f"; whole revolutions: {result['per_scan']} packets, median {revolution_points:.0f} points. "
          f"Frames: {result['scored_frames']} at constant speed (pose, reprojection); every frame, point and "
          "sample after the warm-up (times). 'frames' is how many frames a method scored of how many there were.\n")
    print("| quantity | method | p50 / p95 / p99 | p50 / p95 / p99 over Onset's | frames | n |")
    print("|---|---|---:|---:|---:|---:|")
    qs = (50, 95, 99)
    for name, by_method in errors.items():
        onset = _pcts(by_method[ONSET].errors, qs)
        for method in METHODS:
            got = by_method[method]
            values = _pcts(got.errors, qs)
            ratio = "" if method == ONSET else " / ".join(_ratio(b, o) for b, o in zip(values, onset))
            frames = "-" if got.frames is None else f"{got.frames} of {got.of_frames}"
            print(f"| {name} | {method} | {_cells(values)} | {ratio} | {frames} | {got.errors.size} |")
    print()


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks sync", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=5.0,
                        help="seconds measured at constant speed per clock setting (at most 5.6: the 8 m track)")
    parser.add_argument("--warmup", type=float, default=15.0,
                        help="seconds the clock models learn, rig at rest, before the move")
    args = parser.parse_args(argv)
    if not 0.5 <= args.seconds <= 5.6:
        parser.error(f"--seconds must lie in [0.5, 5.6] (the dolly runs 1 m/s on an 8 m track), got {args.seconds}")
    if not 2.0 <= args.warmup <= 120.0:
        parser.error(f"--warmup must lie in [2, 120] s, got {args.warmup}")

    profile = load_profile()
    jittery = {name: ClockConfig(offset_ns=offset, drift_ppm=50.0, jitter_ns=2_000_000)
               for name, offset in (("camera", 2_500_000), ("lidar", -1_200_000), ("telemetry", 800_000))}
    settings = [
        ("1a. Sensor clocks of the sim-stage profile, free-running camera",
         {"camera": profile.camera.clock, "lidar": profile.lidars[0].clock, "telemetry": profile.telemetry[0].clock},
         False),
        ("1b. 50 ppm drift and 2 ms jitter on every clock, free-running camera", jittery, False),
        ("1c. 50 ppm drift and 2 ms jitter on the LiDAR and FreeD clocks, camera locked to the master (PTP)",
         jittery, True),
    ]
    print(f"# Synchronization: nearest-stamp and whole-revolution baselines vs Onset, {os.cpu_count()} cores\n")
    print(f"Each setting: one replayed run of the simulated stage (640x360 camera at 24 fps, VLP-16 at 10 Hz, FreeD "
          f"at 100 Hz); {args.warmup:g} s with the rig at rest, then dolly 1 m/s and pan 30 deg/s, "
          f"{args.seconds:g} s of it scored. Baselines: host receive stamps, nearest-stamp pairing, no deskew; "
          "the LiDAR clouds as Onset's driver cuts them, or in whole revolutions as velodyne_driver groups them. "
          "Onset: the Synchronizer fed LiDAR slices and packet stamps as the node feeds them, told only the "
          "latencies a node could know. Errors are absolute; the ratio is a baseline's over Onset's. Each "
          "sensor's jitter is its delivery: it samples on its own clock's ticks.\n")
    first = None
    for title, clocks, locked in settings:
        rig = _shot_rig(clocks, args.seconds, locked)
        wall0 = time.perf_counter()
        result = run_setting(rig, args.warmup, args.seconds, locked)
        errors = score(result)
        print_comparison(title, rig, result, errors)
        print(f"({time.perf_counter() - wall0:.1f} s to simulate, replay and score)\n")
        first = first or result

    assert first is not None
    rows = fusion_costs(first)
    before_ms, after_ms = (w / NS_PER_MS for w in first["sync"].window_ns)
    print(f"## 2. Fusion cost: {first['run'].rig.camera.width_px}x{first['run'].rig.camera.height_px}, VLP-16 "
          f"window -{before_ms:g} / +{after_ms:g} ms (median {first['points_in_window']} points), setting 1a, "
          "frames after the warm-up\n")
    print("| step | wall ms median | wall ms p95 | CPU ms median | frames |")
    print("|---|---:|---:|---:|---:|")
    for label, wall, cpu in rows:
        print(f"| {label} | {np.median(wall):.2f} | {np.percentile(wall, 95):.2f} | {np.median(cpu):.2f} | "
              f"{wall.size} |")
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else math.nan
    frame_ms = 1e3 / float(first["run"].rig.camera.frame_rate.fps)
    print(f"\nOne frame period is {frame_ms:.1f} ms; load average at the end {load:.2f} (the machine is shared).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
