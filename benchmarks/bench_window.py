"""What the synchronizer's LiDAR window costs in waiting and buys in fresh depth, offline.

A spinning LiDAR sees the camera's field of view once a revolution (100 ms on a VLP-16 at 10 Hz).
``SyncConfig.lidar_window_ns = (before, after)`` takes the points from ``before`` ahead of a frame's
exposure mid-time to ``after`` past it, and the frame cannot be fused before the points up to
``t + after`` have arrived: a positive ``after`` waits for points taken after the exposure, so the
depth on moving actors is younger. This benchmark measures that trade for the windows (100, 0)
(the default), (100, 10), (100, 25) and (100, 50) ms, against (50, 50) ms (the window the
synchronizer had before) as the baseline measured in the same run.

One run of the default shot (the sim-stage profile: its rig, its clocks, its 12 s move with two
actors walking the set) is simulated once through the sensor sims' pure paths and the real drivers
(:mod:`tests.harness.replay`: LiDAR slices of ``slice_ms`` and packet stamps as the node feeds
them, FreeD, LTC audio, camera frames ``CAMERA_PIPELINE_LATENCY_NS`` plus queueing after their
exposure), and replayed, event by event with a pinned clock, into one
:class:`edge.sync.Synchronizer` per window, set as the profile sets it (``profile.sync``) but for
the window and the deadline: each window gets the profile's deadline (half a frame) plus its
``after``, or the window could never be waited for (``--deadline-ms`` gives one for all).
The first ``--warmup`` seconds let the clock models converge; the frames exposed in the next
``--seconds`` are scored. The sim's ground truth is used for scoring only.

Per window:

* **wait** (ms, p50 / p99): for each frame, the replay time at which the synchronizer fused it minus
  its true exposure mid-time. It includes the camera's own delivery (its pipeline's 8 ms and the
  queueing: the floor of every row), the window's ``after`` and the LiDAR's slicing. This is the
  offline part of the latency; the live one, to a stream consumer, is ``python -m benchmarks latency``.
* **depth age** (ms): for every LiDAR point that reached the frame's depth map (won its pixel's
  z-buffer), ``|frame time - point time|`` on the true master clock (true exposure mid-time, true
  firing time): p50 / p95 / max over all points, the p50 on the actors alone, and the share of
  points fired after the exposure (the rest are older than the frame).
* **reprojection** (px, p50 / p95), on the actors and on the static set: where each of those points
  landed (its continuous projection, as fused: clock models, deskew with the FreeD poses, the
  lens's K) against where its true hit lies at the frame's true exposure instant, seen by the true
  camera (true pose and lens). A hit on the static set stays put; a hit on an actor is carried with
  the actor from its firing time to the frame's instant (:func:`tests.harness.replay.truth_at`): an
  old return on a walking actor is off by how far the actor walked since. Points whose true spot is
  out of the image are left out.
  A window longer than one revolution (``before + after`` over 100 ms) holds two passes over part
  of the view; the z-buffer keeps the nearer return of a pixel, not the newer, so there the older
  pass stays in the depth map.
* **LiDAR covered**: fused frames whose LiDAR entry was OK (every point up to ``t + after`` had
  arrived) of the fused frames; **frames scored**: frames with a depth point to score, of the frames
  exposed in the scored span.

The depth map each score is taken from is rebuilt from the points and poses the synchronizer held
and checked to equal the fused frame's, so the scored points are exactly those it fused.

Run: ``.venv/bin/python -m benchmarks window [--seconds S] [--warmup S]``.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from typing import List, NamedTuple, Optional, Sequence, Tuple

import numpy as np

from config import load_profile
from config.sync import SyncConfig
from edge.fusion import LidarPoints, lidar_in_optical, project_to_depth, transform_points
from edge.fusion.fuse import view_candidates
from sensors.camera import optics
from sensors.vocabulary import NS_PER_MS, NS_PER_S, SyncStatus
from tests.harness.replay import EPOCH_NS, StageRun, truth_at
from tests.harness.window import SEED, WindowReplay, replay_window, shot_run

__all__ = ["SEED", "WindowReplay", "replay_window", "shot_run", "score_window", "summary", "main"]
WINDOWS_MS: Tuple[Tuple[int, int], ...] = ((100, 0), (100, 10), (100, 25), (100, 50))
BASELINE_MS = (50, 50)


class WindowScore(NamedTuple):
    """A window's figures (module docstring): ``wait_ms`` per fused frame; ``age_ms`` (signed:
    frame time minus point time) and ``actor`` (bool) per depth point; ``reprojection_px`` and
    ``reprojected_on_actor`` per depth point whose true spot is in the image; ``covered`` fused
    frames with their LiDAR entry OK, of ``fused`` frames; ``scored`` of ``frames``."""

    wait_ms: np.ndarray
    age_ms: np.ndarray
    actor: np.ndarray
    reprojection_px: np.ndarray
    reprojected_on_actor: np.ndarray
    covered: int
    fused: int
    scored: int
    frames: int


def _in_image(uv: np.ndarray, front: np.ndarray, width: int, height: int) -> np.ndarray:
    return front & np.isfinite(uv).all(axis=1) & (np.abs(uv[:, 0] - (width - 1) / 2) < width / 2) \
        & (np.abs(uv[:, 1] - (height - 1) / 2) < height / 2)


def score_window(run: StageRun, stage, result: WindowReplay, span_ns: Tuple[int, int]) -> WindowScore:
    """Score the frames of ``result`` whose true exposure mid-time lies in ``span_ns`` (master ns)
    against the stage's truth (module docstring)."""
    camera = run.rig.camera
    truth = next(e.truth for e in run.events if e.kind == "cloud" and e.truth is not None)
    frames = {e.item.frame_index: e for e in run.events if e.kind == "frame" and
              span_ns[0] <= e.truth.master_ns < span_ns[1]}
    T_rig_lidar = run.rig.lidars[0].mount.matrix()
    lidar_name = run.rig.lidars[0].name
    before, after = result.window_ns
    knots = result.config.knot_spacing_ns
    waits, ages, on_actor, errors, error_actor = [], [], [], [], []
    covered = fused = scored = 0
    for poll_ns, frame, poses in result.fused:
        event = frames.get(frame.frame_index)
        if event is None:
            continue
        fused += 1
        t_true = int(event.truth.master_ns)
        waits.append((poll_ns - t_true) / NS_PER_MS)
        lidar_entry = next((s for s in frame.sync if s.sensor == lidar_name), None)
        covered += lidar_entry is not None and lidar_entry.status is SyncStatus.OK
        # The depth map again, from the points and poses the synchronizer held, as fuse_frame builds it.
        lo = int(np.searchsorted(result.t_ns, frame.t_ns - before, "left"))
        hi = int(np.searchsorted(result.t_ns, frame.t_ns + after, "right"))
        had = lo + np.flatnonzero(result.arrival_ns[lo:hi] <= poll_ns)  # what had arrived when it was fused
        held = LidarPoints(result.xyz_m[had], result.t_ns[had], T_rig_lidar)
        rows = result.rows[had]
        if held.t_ns.size:
            near = view_candidates(held, frame.t_ns, poses, frame.K, frame.distortion, camera.width_px,
                                   camera.height_px)
        else:
            near = np.zeros(0, dtype=np.int64)
        held = LidarPoints(held.xyz_m[near], held.t_ns[near], T_rig_lidar)
        rows = rows[near]
        optical = lidar_in_optical(held, frame.t_ns, poses, deskew=result.config.deskew, knot_spacing_ns=knots) \
            if near.size else np.zeros((0, 3))
        depth = project_to_depth(optical, frame.K, frame.distortion, camera.width_px, camera.height_px)
        if not np.allclose(depth.depth_m, frame.depth_m, atol=1e-6, equal_nan=True):
            raise RuntimeError(f"frame {frame.frame_index}: the rebuilt depth map is not the fused one")
        kept = depth.index[rows[depth.index] >= 0]
        if kept.size == 0:
            continue
        scored += 1
        r = rows[kept]
        ages.append((t_true - truth.t_master_ns[r]) / NS_PER_MS)
        true_points, actor = truth_at(stage, truth, r, t_true)
        on_actor.append(actor >= 0)
        uv, front = optics.project_points(optical[kept], frame.K, frame.distortion)
        seen = transform_points(np.linalg.inv(stage.T_stage_optical(t_true)), true_points)
        uv_true, front_true = optics.project_points(seen, stage.camera_matrix(t_true, camera), frame.distortion)
        inside = _in_image(uv_true, front & front_true, camera.width_px, camera.height_px)
        errors.append(np.linalg.norm(uv - uv_true, axis=1)[inside])
        error_actor.append((actor >= 0)[inside])

    def cat(parts, dtype=float) -> np.ndarray:
        return np.concatenate(parts).astype(dtype) if parts else np.zeros(0, dtype=dtype)

    return WindowScore(np.asarray(waits, dtype=float), cat(ages), cat(on_actor, bool), cat(errors),
                       cat(error_actor, bool), covered, fused, scored, len(frames))


# -- the table -------------------------------------------------------------------------------------

def _pcts(values: np.ndarray, qs: Sequence[float]) -> List[float]:
    return [float(np.percentile(values, q)) for q in qs] if values.size else [math.nan] * len(qs)


def _cells(values: Sequence[float]) -> str:
    return " / ".join("-" if not math.isfinite(v) else f"{v:.3g}" for v in values)


def _ratio(value: float, base: float) -> str:
    if not (math.isfinite(value) and math.isfinite(base) and base > 0):
        return "-"
    return f"{value / base:.2f}"


def summary(score: WindowScore) -> dict:
    """The table's figures of one window (ms, px, fractions)."""
    age = np.abs(score.age_ms)
    actor_err = score.reprojection_px[score.reprojected_on_actor]
    static_err = score.reprojection_px[~score.reprojected_on_actor]
    return dict(
        wait=_pcts(score.wait_ms, (50, 99)),
        age=_pcts(age, (50, 95)) + [float(age.max()) if age.size else math.nan],
        actor_age=_pcts(age[score.actor], (50,))[0],
        future=float(np.mean(score.age_ms < 0)) if score.age_ms.size else math.nan,
        actor=_pcts(actor_err, (50, 95)), static=_pcts(static_err, (50, 95)),
        n_actor=int(actor_err.size), n_static=int(static_err.size),
    )


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks window", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=8.0, help="seconds of frames scored after the warm-up")
    parser.add_argument("--warmup", type=float, default=3.0,
                        help="seconds the clock models learn before frames are scored (the shot moves throughout)")
    parser.add_argument("--deadline-ms", type=float, default=None,
                        help="one deadline for every window (default: the profile's, half a frame, plus the "
                             "window's after)")
    args = parser.parse_args(argv)
    if not 0.5 <= args.seconds <= 60.0:
        parser.error(f"--seconds must lie in [0.5, 60], got {args.seconds}")
    if not 1.0 <= args.warmup <= 60.0:
        parser.error(f"--warmup must lie in [1, 60] s, got {args.warmup}")
    from sensors.sim.stage import Stage

    rig = load_profile()
    stage = Stage(rig.stage, EPOCH_NS)
    fps = rig.camera.frame_rate.fps
    half_frame_ns = -(-NS_PER_S * fps.denominator // fps.numerator) // 2
    base_deadline_ns = rig.sync.deadline_ns or half_frame_ns
    wall0 = time.perf_counter()
    run = shot_run(rig, stage, args.seconds, args.warmup)
    sim_s = time.perf_counter() - wall0
    span = (EPOCH_NS + int(args.warmup * NS_PER_S), EPOCH_NS + int((args.warmup + args.seconds) * NS_PER_S))
    rows = []
    for before_ms, after_ms in (*WINDOWS_MS, BASELINE_MS):
        window = (before_ms * NS_PER_MS, after_ms * NS_PER_MS)
        deadline = int(args.deadline_ms * NS_PER_MS) if args.deadline_ms is not None else base_deadline_ns + window[1]
        config = rig.sync.model_copy(update={"lidar_window_ns": window, "deadline_ns": deadline})
        t0 = time.perf_counter()
        result = replay_window(run, SyncConfig.model_validate(config.model_dump()), deadline)
        score = score_window(run, stage, result, span)
        rows.append(((before_ms, after_ms), deadline, score, summary(score), time.perf_counter() - t0))

    lidar = rig.lidars[0]
    print(f"# LiDAR window: latency against fresh depth, offline replay of the default shot, {os.cpu_count()} cores\n")
    camera = rig.camera
    print(f"sim-stage profile: {camera.width_px}x{camera.height_px} camera at {camera.fps} fps; {lidar.model.value} "
          f"at {lidar.rotation_hz:g} Hz in {lidar.slice_ms:g} ms slices; FreeD at {rig.telemetry[0].rate_hz:g} Hz; "
          f"{len(stage.actors)} actors walking; the shot's move from t = 0. {args.warmup:g} s warm-up, then "
          f"{args.seconds:g} s of frames scored (seed {SEED}). Deadline per window: "
          + (f"{args.deadline_ms:g} ms for all." if args.deadline_ms is not None else
             f"the profile's {base_deadline_ns / NS_PER_MS:.1f} ms plus the window's after.")
          + " Ratios are the window's figure over the baseline's (50, 50) ms, measured in the same run.\n")
    print("| window (before, after) ms | deadline ms | wait p50 / p99 ms | depth age p50 / p95 / max ms | "
          "actor age p50 ms | after exposure | actors px p50 / p95 | static px p50 / p95 | LiDAR covered | "
          "frames scored | points actors / static |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for (b, a), deadline, score, s, _ in rows:
        label = f"({b}, {a})" + (" baseline" if (b, a) == BASELINE_MS else " default" if (b, a) == WINDOWS_MS[0] else "")
        print(f"| {label} | {deadline / NS_PER_MS:.1f} | {_cells(s['wait'])} | {_cells(s['age'])} | "
              f"{_cells([s['actor_age']])} | {100 * s['future']:.0f} % | {_cells(s['actor'])} | {_cells(s['static'])} | "
              f"{score.covered} of {score.fused} | {score.scored} of {score.frames} | {s['n_actor']} / {s['n_static']} |")
    base = rows[-1][3]
    print("\n| window (before, after) ms | wait p99 / baseline | depth age p50 / baseline | actor age p50 / baseline | "
          "actors px p95 / baseline | static px p95 / baseline |")
    print("|---|---:|---:|---:|---:|---:|")
    for (b, a), _, _, s, _ in rows:
        print(f"| ({b}, {a}) | {_ratio(s['wait'][1], base['wait'][1])} | {_ratio(s['age'][0], base['age'][0])} | "
              f"{_ratio(s['actor_age'], base['actor_age'])} | {_ratio(s['actor'][1], base['actor'][1])} | "
              f"{_ratio(s['static'][1], base['static'][1])} |")
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else math.nan
    print(f"\n({sim_s:.1f} s to simulate; " + ", ".join(f"{r[4]:.1f} s" for r in rows)
          + f" to replay and score each window; load average at the end {load:.2f}: the machine is shared.)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
