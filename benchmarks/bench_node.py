"""How much of this machine does the edge node take at the default profile?

Each row plays the simulated stage (sim-stage) in real time for ``--seconds`` and measures the
CPU of the process that holds the drivers, the fused frames that came out, and what was dropped.
The baseline, measured in the same run, is the stage with its drivers only (what ``onset sim
run`` does): the difference is the node's own cost — clock models, synchronizer, fusion, stream,
ROS 2 publishing, recording. The stage's devices (LiDAR, FreeD and LTC emitters; the camera
renderer) run in processes of their own in every row and are not counted.

Run: ``make bench`` or ``.venv/bin/python -m benchmarks node [--seconds S]``.
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import List, Optional

from config import load_profile
from sensors.vocabulary import NS_PER_S

_WARM_UP_S = 3.0


def _cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _play(seconds: float, *, node_kwargs: Optional[dict], record: bool = False) -> dict:
    """One row: the stage (and the node unless ``node_kwargs`` is None) for ``seconds`` of steady state."""
    from sensors.rig import SensorRig
    from sensors.sim.run import SimulatedStage, stage_epoch_ns

    rig = load_profile()
    takes = tempfile.TemporaryDirectory(prefix="onset-bench-")
    if node_kwargs is None:
        holder = SensorRig(rig)
    else:
        from edge.node.app import EdgeNode

        rig = rig.model_copy(update={"recorder": rig.recorder.model_copy(update={"takes_dir": Path(takes.name)})})
        holder = EdgeNode(rig, recorder_config=rig.recorder if record else None,
                          control_token="bench" if record else None, control_port=0,
                          stream_endpoint="tcp://127.0.0.1:0", **node_kwargs)
    with holder:
        stage = SimulatedStage(rig, stage_epoch_ns(rig, time.time_ns(), 2 * NS_PER_S))
        with stage:
            time.sleep(2.0 + _WARM_UP_S)
            if record:
                holder.takes.start("1", "1", 1)
            fused0 = holder.status.frames if node_kwargs is not None else 0
            cam_stats = (holder if node_kwargs is None else holder.sensors).get(rig.camera.name).stats
            frames0 = cam_stats.snapshot().decoded
            cpu0, wall0 = _cpu_s(), time.perf_counter()
            time.sleep(seconds)
            wall, cpu = time.perf_counter() - wall0, _cpu_s() - cpu0
            frames = cam_stats.snapshot().decoded - frames0
            fused = (holder.status.frames - fused0) if node_kwargs is not None else None
            if record:
                info = holder.takes.stop()
                dropped = sum(info.dropped.values())
                recorded = f"{info.message_count} msgs, {info.size_bytes / 1e6:.0f} MB, {dropped} dropped"
            else:
                recorded = "-"
    takes.cleanup()
    return {"cpu_share": cpu / wall, "camera_fps": frames / wall,
            "fused_fps": None if fused is None else fused / wall, "recorded": recorded}


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks node", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=10.0, help="seconds measured per row (after warm-up)")
    args = parser.parse_args(argv)
    sys.setswitchinterval(0.0002)
    rig = load_profile()
    fps = float(rig.camera.frame_rate.fps)
    print(f"# Edge node CPU share, default profile (sim-stage: {rig.camera.width_px}x{rig.camera.height_px} "
          f"@ {rig.camera.fps} fps, {rig.lidars[0].model.value} @ {rig.lidars[0].rotation_hz:g} Hz, "
          f"FreeD @ {rig.telemetry[0].rate_hz:g} Hz, LTC), {args.seconds:g} s a row\n")
    rows = [
        ("stage + drivers only (baseline)", _play(args.seconds, node_kwargs=None)),
        ("node, no ROS 2", _play(args.seconds, node_kwargs={"with_ros": False})),
        ("node with ROS 2", _play(args.seconds, node_kwargs={"with_ros": True})),
        ("node with ROS 2, take rolling", _play(args.seconds, node_kwargs={"with_ros": True}, record=True)),
    ]
    base = rows[0][1]["cpu_share"]
    print("| run | CPU share of one core | node's own (minus baseline) | camera fps | fused fps | fused / camera rate | recorded |")
    print("|---|---:|---:|---:|---:|---:|---|")
    for name, r in rows:
        fused = "-" if r["fused_fps"] is None else f"{r['fused_fps']:.1f}"
        ratio = "-" if r["fused_fps"] is None else f"{r['fused_fps'] / fps:.2f}"
        own = "-" if r is rows[0][1] else f"{r['cpu_share'] - base:+.2f}"
        print(f"| {name} | {r['cpu_share']:.2f} | {own} | {r['camera_fps']:.1f} | {fused} | {ratio} | {r['recorded']} |")
    print("\nThe baseline process renders the camera (the sim's cost, not the node's); on a real stage the")
    print("frames come from a capture card and that share is free for the node.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
