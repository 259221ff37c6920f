"""A shot replayed into the synchronizer as the node feeds it, keeping what it fused and held.

:func:`shot_run` plays a rig's sims over a shot (LiDAR slices and packet stamps as the node feeds
them, the LiDAR's ground truth from before the scored span); :func:`replay_window` replays that run
into a :class:`edge.sync.Synchronizer` with a given configuration and keeps every frame it fused
and every point it accepted. ``python -m benchmarks window`` scores the LiDAR window's trade on
it; the captioner's tests label its fused frames (:mod:`tests.harness.captions`).
"""

from __future__ import annotations

from typing import NamedTuple, Optional, Tuple

import numpy as np

from config.models import RigConfig
from config.sync import SyncConfig
from edge.sync import Synchronizer
from sensors.vocabulary import NS_PER_MS, NS_PER_S
from tests.harness.replay import EPOCH_NS, StageRun, build_run, match_truth, replay, truth_index

__all__ = ["SEED", "WindowReplay", "shot_run", "replay_window"]

#: The replays' seed (host arrivals and sensor jitter).
SEED = 2


class WindowReplay(NamedTuple):
    """One window's replay: what the synchronizer fused and what it held.

    ``fused``: ``(poll time ns, FusedFrame, PoseTrack or None)`` per fused frame (the poses of its
    window as buffered when it was fused); ``xyz_m`` (N,3), ``t_ns`` (N,) int64, ``arrival_ns`` (N,)
    int64 and ``rows`` (N,): every LiDAR point the synchronizer accepted, the master time it gave
    it, when it was fed (replay time) and its row in the run's LiDAR ground truth (-1: none),
    sorted by ``t_ns``; ``window_ns``, ``deadline_ns`` and the ``config`` it ran with."""

    fused: list
    xyz_m: np.ndarray
    t_ns: np.ndarray
    arrival_ns: np.ndarray
    rows: np.ndarray
    window_ns: Tuple[int, int]
    deadline_ns: int
    config: SyncConfig



def shot_run(rig: RigConfig, stage, seconds: float, warmup_s: float, seed: int = SEED) -> StageRun:
    """The rig's sims over ``[EPOCH_NS, warm-up + seconds + 0.3 s)``, LiDAR slices and packet stamps
    as the node feeds them, the LiDAR's ground truth from 0.2 s before the scored span."""
    start_ns = EPOCH_NS + int(warmup_s * NS_PER_S)
    end_ns = start_ns + int(seconds * NS_PER_S) + 300 * NS_PER_MS
    return build_run(rig, stage, EPOCH_NS, end_ns, seed=seed, lidar_truth=True,
                     truth_from_ns=start_ns - 200 * NS_PER_MS, packet_stamps=True, lidar_slices=True)


def replay_window(run: StageRun, config: SyncConfig, deadline_ns: Optional[int] = None) -> WindowReplay:
    """Replay ``run`` into a synchronizer with ``config`` (its window; ``deadline_ns``: None for the
    config's), keeping every frame it fused and every point it accepted with its master time."""
    rig = run.rig
    lidar_name = rig.lidars[0].name
    pose_name = config.pose_sensor or rig.telemetry[0].name
    truth = next((e.truth for e in run.events if e.kind == "cloud" and e.truth is not None), None)
    lookup = truth_index(truth) if truth is not None and len(truth) else None
    truth_from = int(truth.t_master_ns.min()) - 50 * NS_PER_MS if lookup is not None else None
    xyz, times, arrivals, rows = [], [], [], []
    fused: list = []

    def on_fused(frame) -> None:
        start, end = frame.t_ns - sync.window_ns[0], frame.t_ns + sync.window_ns[1]
        fused.append([None, frame, sync.poses(pose_name, start, end)])

    def after_feed(event, accepted: bool) -> None:
        if event.kind != "cloud" or not accepted:
            return
        cloud = event.item
        guess = np.asarray(run.lidar.clock.master_ns(cloud.t_ns), dtype=np.int64)  # only to find it again
        held = sync.points(lidar_name, int(guess.min()) - 20 * NS_PER_MS, int(guess.max()) + 20 * NS_PER_MS)
        if not np.array_equal(held.xyz_m[-len(cloud):], cloud.xyz_m):
            raise RuntimeError("the synchronizer's newest points are not the slice just fed")
        xyz.append(cloud.xyz_m)
        times.append(held.t_ns[-len(cloud):].copy())
        arrivals.append(np.full(len(cloud), event.host_ns, dtype=np.int64))
        if lookup is None or truth_from is None or int(guess.max()) < truth_from:
            rows.append(np.full(len(cloud), -1, dtype=np.int64))
        else:
            rows.append(match_truth(lookup, cloud.ring, cloud.t_ns))

    sync = Synchronizer(rig, on_fused, deadline_ns=deadline_ns, clock_ns=lambda: 0, config=config)
    out = replay(sync, run.events, after_feed)
    if len(out) != len(fused):
        raise RuntimeError(f"{len(out)} frames fused but {len(fused)} heard")
    for entry, (poll_ns, frame) in zip(fused, out):
        if entry[1] is not frame:
            raise RuntimeError("the fused frames came back out of order")
        entry[0] = int(poll_ns)
    t = np.concatenate(times) if times else np.zeros(0, dtype=np.int64)
    order = np.argsort(t, kind="stable")
    def ordered(parts: list, empty: np.ndarray) -> np.ndarray:
        return np.concatenate(parts)[order] if parts else empty

    return WindowReplay([tuple(f) for f in fused], ordered(xyz, np.zeros((0, 3))), t[order],
                        ordered(arrivals, np.zeros(0, dtype=np.int64)), ordered(rows, np.zeros(0, dtype=np.int64)),
                        sync.window_ns, sync.deadline_ns, sync.config)
