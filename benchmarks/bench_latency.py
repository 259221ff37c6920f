"""Exposure to the fused-frame stream: how long a frame takes, and how often every sensor is in sync.

Each row runs the simulated stage (its own processes, every sensor on the wire) and the edge node
(in this process) with one synchronizer setting for ``--seconds`` after a warm-up, and a stream
consumer in a process of its own. Latency is measured where a consumer sees it: the master-clock
time the consumer received the frame minus the frame's exposure mid-time (``FusedFrame.t_ns``);
both are this host's clock. "In sync" counts frames on which every sensor (camera, LiDAR,
FreeD, timecode) was OK.

Rows: the default profile (LiDAR window 100 ms before the exposure, none after, slices of 5 ms);
windows that wait 10, 25 and 50 ms for points after the exposure (fresher depth on moving actors,
``python -m benchmarks window`` scores that trade offline); and, as the baseline measured in the
same run, the synchronizer as it was set before (a +/- 50 ms window, LiDAR handed on a whole sweep
at a time, a deadline of one frame). Before this change the node also held every frame 150 ms in
``timecodestamper``: ``make demo`` then showed 157 ms median (README); that path no longer exists,
so it is quoted, not re-run.

Run: ``.venv/bin/python -m benchmarks latency [--seconds S]``. The issue's target: p99 < 41.7 ms
(one frame at 24 fps) with >= 99 % of frames in sync, at the default profile.
"""

from __future__ import annotations

import argparse
import multiprocessing
import socket
import sys
import time
from typing import List, Optional

import numpy as np

from config import load_profile
from sensors.vocabulary import NS_PER_MS, NS_PER_S
from sensors.ports import free_loopback_port

_WARM_UP_S = 6.0
_MS = NS_PER_MS
#: The median exposure-to-stream latency ``make demo`` showed before this change (README, issue 6).
PREVIOUS_MEDIAN_MS = 157.0


def _free_port(kind=socket.SOCK_STREAM) -> int:
    return free_loopback_port(kind)


def _consume(endpoint: str, start_ns: int, stop_ns: int, conn) -> None:
    """Consumer process: receive every frame in [start_ns, stop_ns) and report what it saw."""
    from edge.stream import FusedFrameSubscriber

    latency, in_sync, flags = [], [], {}
    with FusedFrameSubscriber(endpoint, consumer="bench-latency") as sub:
        while time.time_ns() < stop_ns:
            frame = sub.recv(timeout_ms=200)
            now = time.time_ns()
            if frame is None or frame.t_ns < start_ns:
                continue
            latency.append(now - frame.t_ns)
            in_sync.append(frame.complete)
            for entry in frame.sync:
                if entry.status.value != "ok":
                    key = f"{entry.sensor}:{entry.status.value}"
                    flags[key] = flags.get(key, 0) + 1
        conn.send({"latency_ns": latency, "in_sync": in_sync, "flags": flags, "lost": sub.lost})


def _row(seconds: float, sync_update: dict, lidar_update: dict) -> dict:
    from edge.node.app import EdgeNode
    from sensors.sim.run import START_DELAY_NS, SimulatedStage

    rig = load_profile()
    rig = rig.model_copy(update={
        "sync": rig.sync.model_copy(update=sync_update),
        "lidars": [c.model_copy(update=lidar_update) for c in rig.lidars],
    })
    endpoint = f"tcp://127.0.0.1:{_free_port()}"
    ctx = multiprocessing.get_context("spawn")
    parent, child = ctx.Pipe(duplex=False)
    node = EdgeNode(rig, with_ros=True, stream_endpoint=endpoint)
    with node:
        epoch = time.time_ns() + START_DELAY_NS
        start = epoch + int(_WARM_UP_S * NS_PER_S)
        stop = start + int(seconds * NS_PER_S)
        consumer = ctx.Process(target=_consume, args=(endpoint, start, stop, child), daemon=True)
        consumer.start()
        with SimulatedStage(rig, epoch):
            result = parent.recv() if parent.poll((stop - time.time_ns()) / NS_PER_S + 30) else None
        consumer.join(timeout=10)
        if consumer.is_alive():
            consumer.kill()
    if result is None:
        raise RuntimeError("the stream consumer reported nothing")
    return result


def _summary(result: dict, seconds: float) -> dict:
    lat = np.asarray(result["latency_ns"], dtype=np.float64) / _MS
    n = lat.size
    return {
        "frames": n,
        "fps": n / seconds,
        "p50": float(np.percentile(lat, 50)) if n else float("nan"),
        "p99": float(np.percentile(lat, 99)) if n else float("nan"),
        "max": float(lat.max()) if n else float("nan"),
        "in_sync": float(np.mean(result["in_sync"])) if n else float("nan"),
        "flags": result["flags"],
        "lost": result["lost"],
    }


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks latency", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=30.0, help="seconds measured per row (after warm-up)")
    parser.add_argument("--quick", action="store_true", help="the default and the baseline rows only")
    args = parser.parse_args(argv)
    sys.setswitchinterval(0.0002)
    rig = load_profile()
    period_ms = 1e3 / float(rig.camera.frame_rate.fps)
    rows = [("default profile: window (100, 0) ms, 5 ms slices", {}, {})]
    if not args.quick:
        for after in (10, 25, 50):
            # The deadline grows with the wait for future points, or frames would go before them.
            rows.append((f"window (100, {after}) ms, 5 ms slices",
                         {"lidar_window_ns": (100 * _MS, after * _MS),
                          "deadline_ns": int((period_ms / 2 + after) * _MS)}, {}))
    baseline = ("baseline: window (50, 50) ms, whole sweeps, deadline 1 frame",
                {"lidar_window_ns": (50 * _MS, 50 * _MS), "deadline_ns": int(period_ms * _MS)},
                {"slice_ms": 1000.0 / rig.lidars[0].rotation_hz})
    rows.append(baseline)
    print(f"# Exposure -> fused frame at a stream consumer, sim-stage ({rig.camera.width_px}x{rig.camera.height_px} "
          f"@ {rig.camera.fps} fps), {args.seconds:g} s a row after {_WARM_UP_S:g} s warm-up\n")
    measured = []
    for name, sync_update, lidar_update in rows:
        measured.append((name, _summary(_row(args.seconds, sync_update, lidar_update), args.seconds)))
    base_p99 = measured[-1][1]["p99"]
    print("| setting | frames | fps | p50 ms | p99 ms | max ms | p99 / one frame | p99 / baseline p99 | "
          "p50 / before (157 ms) | in sync | consumer lost | flags |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    for name, r in measured:
        flags = ", ".join(f"{k} {v}" for k, v in sorted(r["flags"].items())) or "-"
        print(f"| {name} | {r['frames']} | {r['fps']:.1f} | {r['p50']:.1f} | {r['p99']:.1f} | {r['max']:.1f} | "
              f"{r['p99'] / period_ms:.2f} | {r['p99'] / base_p99:.2f} | {r['p50'] / PREVIOUS_MEDIAN_MS:.2f} | "
              f"{100 * r['in_sync']:.1f} % | {r['lost']} | {flags} |")
    default = measured[0][1]
    verdict = "met" if default["p99"] < period_ms and default["in_sync"] >= 0.99 else "MISSED"
    print(f"\ntarget at the default profile: p99 < {period_ms:.1f} ms and >= 99 % in sync: {verdict} "
          f"(p99 {default['p99']:.1f} ms, {100 * default['in_sync']:.1f} % in sync, {default['frames']} frames)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
