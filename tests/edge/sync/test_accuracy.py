"""Accuracy against the simulated stage's ground truth, on short runs.

The synchronizer is given only what a node on a real stage could know (:func:`tests.harness.replay.sync_config`):
no transport delay for the LiDAR and the FreeD tracker (their packets carry the devices' own
stamps; their clock models take the lower envelope of the delays), the camera pipeline's latency
(what a GStreamer latency query reports) for a free-running camera, nothing for a PTP-locked one.
Frames reach it without a timecode: it labels them from the LTC audio it decoded.

* Time alignment: with every sensor clock at 50 ppm drift and 2 ms jitter, the master time the
  synchronizer gives each LiDAR point and each FreeD sample is within 0.5 ms (p99) of the truth
  once the clock models have had 15 s; so is each frame of a locked camera. A free-running camera
  is placed consistently (its frame times are within 0.5 ms of one constant offset) but that
  offset, the queueing on top of the pipeline's latency, cannot be known without a time-offset
  calibration: its absolute error is printed, not held to 0.5 ms (about 1 ms here).
* Reprojection: with the dolly at 1 m/s and the head panning at 30 deg/s, each LiDAR point, deskewed
  and projected, lands within 1 px (p95) of where its true hit appears in the frame (projected with
  the true camera pose and lens at the true exposure time), with a free-running camera; without
  deskew it is tens of pixels off.
* Every fused frame carries the exact timecode of its exposure, computed by the synchronizer.

The figures are printed (``pytest -s``) as well as checked.
"""

from __future__ import annotations

import numpy as np
import pytest

from config.models import ClockConfig
from edge.fusion import LidarPoints, T_optical_lidar, lidar_in_optical, project_to_depth, transform_points
from edge.sync import Synchronizer
from sensors.camera import optics
from sensors.vocabulary import NS_PER_MS

from ._stage import EPOCH_NS, NS_PER_S, SphereStage, build_run, ms, replay, rig_config, sync_config

HALF_MS = 500_000
ALIGN_RUN_S, ALIGN_SETTLE_S = 30.0, 15.0
MOTION_RUN_S = 5.2
DEADLINE_NS = 250 * NS_PER_MS  # long enough for the sweep that covers the end of a frame's LiDAR window


def _align(camera_locked: bool):
    """30 s of the stage with every clock at 50 ppm and 2 ms jitter (the camera's too, unless it is
    locked to the master); per sample, the synchronizer's master time (read back from its
    buffers) minus the truth."""
    rig = rig_config(ClockConfig(offset_ns=0, drift_ppm=50.0, jitter_ns=2_000_000), width_px=64, height_px=36,
                     camera_locked=camera_locked)
    run = build_run(rig, SphereStage(), EPOCH_NS, EPOCH_NS + int(ALIGN_RUN_S * NS_PER_S), seed=1, lidar_slices=True)
    errors = {"lidar": [], "freed": []}
    fused = []
    sync = Synchronizer(rig, fused.append, deadline_ns=DEADLINE_NS, clock_ns=lambda: 0,
                        config=sync_config(rig, camera_locked=camera_locked))

    def check(event, accepted):
        if not accepted:
            return
        if event.kind == "cloud":
            cloud = event.item
            truth = run.lidar.clock.master_ns(cloud.t_ns)  # the firing times on the master clock
            held = sync.points("lidar", int(truth.min()) - 20 * NS_PER_MS, int(truth.max()) + 20 * NS_PER_MS)
            assert np.array_equal(held.xyz_m[-len(cloud):], cloud.xyz_m)  # the newest chunk is this sweep
            errors["lidar"].append((event.host_ns, held.t_ns[-len(cloud):] - truth))
        elif event.kind == "telemetry":
            packet, freed = event.truth, run.freed
            # The master time at which the tracker's clock read this packet's counter time: when it
            # sampled the pose (the 2 ms jitter is in the delivery).
            counter_ns = freed.epoch_ns + freed.clock.offset_ns + round(packet.index * freed.period_ns)
            clock_truth = freed.clock.master_ns(counter_ns)
            assert packet.pose.t_ns == clock_truth
            held_ns = int(sync.poses("freed", 0, 2**62).t_ns[-1])
            errors["freed"].append((event.host_ns, held_ns - clock_truth))

    replay(sync, run.events, check)
    frames = {e.item.frame_index: e.truth for e in run.events if e.kind == "frame"}
    return run, sync, fused, frames, errors


@pytest.fixture(scope="module")
def alignment():
    """A free-running camera (its own drifting, jittery clock)."""
    return _align(camera_locked=False)


@pytest.fixture(scope="module")
def locked_alignment():
    """A camera locked to the master clock (PTP): its stamps are its exposure instants."""
    return _align(camera_locked=True)


def _settled(pairs, start_ns):
    return np.concatenate([np.atleast_1d(e) for t, e in pairs if t >= start_ns]).astype(np.float64)


def _camera_errors(fused, frames) -> np.ndarray:
    settle_ns = EPOCH_NS + int(ALIGN_SETTLE_S * NS_PER_S)
    return np.array([f.t_ns - frames[f.frame_index].master_ns for f in fused if f.t_ns >= settle_ns], dtype=float)


@pytest.mark.slow
def test_lidar_and_freed_times_with_50ppm_drift_and_2ms_jitter_are_within_half_a_millisecond(alignment):
    run, sync, fused, frames, errors = alignment
    settle_ns = EPOCH_NS + int(ALIGN_SETTLE_S * NS_PER_S)
    lidar = _settled(errors["lidar"], settle_ns)
    freed = _settled(errors["freed"], settle_ns)
    p99 = {name: float(np.percentile(np.abs(e), 99)) for name, e in (("lidar", lidar), ("freed", freed))}
    print(f"\nalignment p99 after {ALIGN_SETTLE_S:.0f} s (50 ppm, 2 ms jitter, no latency given): "
          + ", ".join(f"{k} {ms(v):.3f} ms" for k, v in p99.items())
          + f" [{lidar.size} LiDAR points, {freed.size} FreeD samples]")
    assert lidar.size > 1_000_000 and freed.size > 1400
    for name, value in p99.items():
        assert value < HALF_MS, name
    # Mapped one by one, the 2 ms jittery arrivals would be off by several ms.
    arrivals = np.array([e.host_ns - e.truth.pose.t_ns for e in run.events
                         if e.kind == "telemetry" and e.host_ns >= settle_ns], dtype=float)
    assert float(np.percentile(np.abs(arrivals - arrivals.mean()), 99)) > 5 * p99["freed"]
    snap = sync.snapshot()
    assert all(snap.sensors[n].synced for n in ("camera", "lidar", "freed"))
    settled = [f for f in fused if f.t_ns >= settle_ns]
    assert sum(f.complete for f in settled) > 0.9 * len(settled)


@pytest.mark.slow
def test_a_locked_camera_with_the_others_at_50ppm_and_2ms_jitter_is_within_half_a_millisecond(locked_alignment):
    run, sync, fused, frames, errors = locked_alignment
    camera = _camera_errors(fused, frames)
    p99 = float(np.percentile(np.abs(camera), 99))
    print(f"\nlocked camera: frame time p99 {ms(p99):.3f} ms (mean {ms(camera.mean()):+.3f} ms) "
          f"over {camera.size} frames")
    assert camera.size > 300
    assert p99 < HALF_MS


@pytest.mark.slow
def test_a_free_running_camera_is_placed_consistently_but_its_offset_needs_calibration(alignment):
    """The target (0.5 ms p99) is not met here, and not claimed: the queueing on top of the
    pipeline's latency is a constant offset no node can see without a time-offset calibration.
    What is held: the frames sit within 0.5 ms of one offset (the camera clock's drift and the
    stamps' jitter are modelled away), and the pipeline latency the node was given was used."""
    run, sync, fused, frames, errors = alignment
    camera = _camera_errors(fused, frames)
    offset = float(np.median(camera))
    p99, spread = float(np.percentile(np.abs(camera), 99)), float(np.percentile(np.abs(camera - offset), 99))
    print(f"\nfree-running camera (50 ppm, 2 ms jitter, pipeline latency given): frame time p99 {ms(p99):.3f} ms "
          f"(target 0.5 ms NOT met: offset {ms(offset):+.3f} ms unknown without calibration), "
          f"p99 about that offset {ms(spread):.3f} ms, over {camera.size} frames")
    assert camera.size > 300
    assert spread < HALF_MS
    # Without the pipeline's latency the frames would sit 9 ms late; the rest is the unknown queueing.
    assert 0 <= offset < 2 * NS_PER_MS


@pytest.mark.slow
def test_every_fused_frame_carries_the_exact_timecode_of_its_exposure(alignment):
    run, sync, fused, frames, errors = alignment
    fed = [e.item for e in run.events if e.kind == "frame"]
    assert fed and all(frame.timecode is None for frame in fed)  # the labels are the synchronizer's own
    decoded = [e for e in run.events if e.kind == "timecode"]
    assert len(decoded) > 0.95 * ALIGN_RUN_S * 24  # the LTC decoder read (nearly) every LTC frame
    assert len(fused) == len(frames) and sync.snapshot().dropped == {}
    wrong = [(f.frame_index, f.timecode, frames[f.frame_index].timecode) for f in fused
             if frames[f.frame_index].timecode is None or f.timecode != frames[f.frame_index].timecode]
    print(f"\ntimecode: {len(fused) - len(wrong)} of {len(fused)} fused frames exact, from {len(decoded)} "
          "decoded LTC frames")
    assert wrong == []


def _match(cloud, truth) -> np.ndarray:
    """Index into the LiDAR's ground truth of each decoded point: same ring, nearest firing time."""
    order = np.lexsort((truth.t_sensor_ns, truth.ring))
    rings, times = truth.ring[order], truth.t_sensor_ns[order]
    index = np.full(len(cloud), -1, dtype=np.int64)
    for ring in np.unique(cloud.ring):
        sel = np.flatnonzero(cloud.ring == ring)
        lo, hi = np.searchsorted(rings, ring), np.searchsorted(rings, ring, "right")
        t = times[lo:hi]
        j = np.clip(np.searchsorted(t, cloud.t_ns[sel]), 1, t.size - 1)
        nearer_left = np.abs(t[j - 1] - cloud.t_ns[sel]) <= np.abs(t[j] - cloud.t_ns[sel])
        index[sel] = order[lo + np.where(nearer_left, j - 1, j)]
    assert np.abs(truth.t_sensor_ns[index] - cloud.t_ns).max() < 1_000
    return index


@pytest.fixture(scope="module")
def motion():
    """The real simulated stage, the dolly at 1 m/s and the head panning at 30 deg/s."""
    from sensors.sim.stage import Stage

    rig = rig_config(ClockConfig(offset_ns=0, drift_ppm=50.0, jitter_ns=100_000))
    stage = Stage(rig.stage, EPOCH_NS)
    run = build_run(rig, stage, EPOCH_NS, EPOCH_NS + int(MOTION_RUN_S * NS_PER_S), seed=2, lidar_truth=True,
                    lidar_slices=True)
    sweeps, fused = [], []

    def keep_sweep(event, accepted):
        if event.kind == "cloud" and accepted:
            cloud = event.item
            guess = run.lidar.clock.master_ns(cloud.t_ns)
            held = sync.points("lidar", int(guess.min()) - 20 * NS_PER_MS, int(guess.max()) + 20 * NS_PER_MS)
            assert np.array_equal(held.xyz_m[-len(cloud):], cloud.xyz_m)
            sweeps.append((cloud.xyz_m, held.t_ns[-len(cloud):], _match(cloud, event.truth), event.truth))

    def on_fused(frame):  # what the fusion had: the poses and points of the frame's window, as buffered now
        start, end = frame.t_ns - sync.window_ns[0], frame.t_ns + sync.window_ns[1]
        fused.append((frame, sync.poses("freed", start, end), sync.points("lidar", start, end)))

    sync = Synchronizer(rig, on_fused, deadline_ns=DEADLINE_NS, clock_ns=lambda: 0, config=sync_config(rig))
    replay(sync, run.events, keep_sweep)
    assert stage.rig_velocity(EPOCH_NS + 3 * NS_PER_S)[0] == pytest.approx([1.0, 0.0, 0.0], abs=1e-9)
    assert stage.rig_velocity(EPOCH_NS + 3 * NS_PER_S)[1][0] == pytest.approx(30.0, abs=1e-9)
    return run, stage, sweeps, fused, sync.window_ns


@pytest.mark.slow
def test_deskewed_points_land_within_a_pixel_of_their_true_hits(motion):
    run, stage, sweeps, fused, (before_ns, after_ns) = motion
    camera = run.rig.camera
    T_rig_lidar = run.rig.lidars[0].mount.matrix()
    xyz = np.concatenate([s[0] for s in sweeps])
    t_master = np.concatenate([s[1] for s in sweeps])
    truth_stage = np.concatenate([s[3].point_stage_m[s[2]] for s in sweeps])
    deskewed, naive, frames = [], [], 0
    for frame, poses, held in fused:
        t_true = run.camera.truth(frame.frame_index).master_ns
        if not (EPOCH_NS + 1.2 * NS_PER_S <= t_true <= EPOCH_NS + 4.8 * NS_PER_S):
            continue  # the plan starts and ends at rest: constant speed in between
        frames += 1
        # The fused depth is exactly what these buffered points and poses give.
        K, distortion = frame.K, frame.distortion
        reference = project_to_depth(lidar_in_optical(held, frame.t_ns, poses), K, distortion, camera.width_px,
                                     camera.height_px)
        np.testing.assert_allclose(frame.depth_m, reference.depth_m, atol=1e-6, equal_nan=True)
        # Each point against its true hit, seen by the true camera at the true exposure time.
        near = (t_master >= frame.t_ns - before_ns) & (t_master <= frame.t_ns + after_ns)  # the fusion's window
        uv, front = optics.project_points(lidar_in_optical(LidarPoints(xyz[near], t_master[near], T_rig_lidar),
                                                           frame.t_ns, poses), K, distortion)
        uv_naive, _ = optics.project_points(transform_points(T_optical_lidar(T_rig_lidar), xyz[near]), K, distortion)
        seen = transform_points(np.linalg.inv(stage.T_stage_optical(t_true)), truth_stage[near])
        uv_true, front_true = optics.project_points(seen, stage.camera_matrix(t_true, camera), distortion)
        inside = front & front_true & (np.abs(uv_true[:, 0] - (camera.width_px - 1) / 2) < camera.width_px / 2) \
            & (np.abs(uv_true[:, 1] - (camera.height_px - 1) / 2) < camera.height_px / 2)
        deskewed.append(np.linalg.norm(uv - uv_true, axis=1)[inside])
        naive.append(np.linalg.norm(uv_naive - uv_true, axis=1)[inside])
    deskewed, naive = np.concatenate(deskewed), np.concatenate(naive)
    p95, p95_naive = float(np.percentile(deskewed, 95)), float(np.percentile(naive, 95))
    print(f"\nreprojection at 1 m/s and 30 deg/s over {frames} frames, {deskewed.size} points in view: "
          f"deskewed p95 {p95:.3f} px (median {np.median(deskewed):.3f}), "
          f"without deskew p95 {p95_naive:.1f} px (median {np.median(naive):.1f})")
    assert frames > 80 and deskewed.size > 100_000
    assert p95 < 1.0
    assert p95_naive > 10.0 and p95_naive > 20 * p95


@pytest.mark.slow
def test_fused_depth_agrees_with_the_rendered_depth(motion):
    """Where LiDAR depth landed, the stage's own rendering of depth at that pixel agrees."""
    run, stage, sweeps, fused, _ = motion
    camera = run.rig.camera
    checked = 0
    for frame, _, _ in fused[40::25]:
        _, rendered = stage.render(run.camera.truth(frame.frame_index).master_ns, camera, with_depth=True)
        has = ~np.isnan(frame.depth_m) & np.isfinite(rendered)
        relative = np.abs(frame.depth_m[has] - rendered[has]) / rendered[has]
        assert has.sum() > 1000
        # Edges: a point and its pixel centre can fall on different surfaces, so a few percent differ.
        assert np.median(relative) < 0.005 and np.mean(relative < 0.02) > 0.95
        checked += 1
    assert checked >= 2
