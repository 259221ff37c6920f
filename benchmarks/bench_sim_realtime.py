"""Does the simulated stage sustain real time on this machine at the default profile?

Two measurements, both against the baseline of real time itself:

1. **Cost per sensor** — each sensor's sim produces ``--seconds`` of its output as fast as it
   can, alone: CPU seconds spent per second of output (the share of one core it needs) and how
   many times faster than real time it ran. The camera figure includes rendering and a GStreamer
   pipeline (an in-process appsrc) through to frames out of the driver.
2. **Live** — the whole stage plays in real time through Onset's drivers, as ``onset sim run``
   does, for ``--seconds``: the rate each driver decoded against the rate the sensor should send
   (the ratio is 1.00 when the sim keeps up), drops, and the CPU share of the drivers' process
   and of the stage's device processes (UDP emitters; the camera rendering and sending RTP).

Run: ``make bench`` or ``.venv/bin/python -m benchmarks sim_realtime [--seconds S]``.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time
from typing import Callable, List, Tuple

from config import load_profile
from sensors.vocabulary import NS_PER_S

EPOCH_NS = 1_800_000_000 * NS_PER_S


def _cpu_s() -> float:
    """CPU seconds of this process (every thread, Open3D's and GStreamer's included)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _children_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _measure(produce: Callable[[], int]) -> Tuple[float, float, int]:
    cpu0, wall0 = _cpu_s(), time.perf_counter()
    count = produce()
    return _cpu_s() - cpu0, time.perf_counter() - wall0, count


def offline_costs(seconds: float) -> List[Tuple[str, str, float, float, int]]:
    """(sensor, unit, cpu share of one core, times faster than real time, items) per sensor sim."""
    from config.models import CameraSource
    from sensors.camera.driver import CameraDriver
    from sensors.camera.sim import CameraSim
    from sensors.lidar.sim import VelodyneSim
    from sensors.sim.stage import Stage
    from sensors.telemetry.sim import FreedSim
    from sensors.timecode.sim import LtcSim

    rig = load_profile()
    stage = Stage.from_rig(rig, EPOCH_NS)
    span_ns = int(seconds * NS_PER_S)
    rows = []

    lidar = VelodyneSim(rig.lidars[0], stage, EPOCH_NS, seed=1)
    cpu, wall, n = _measure(lambda: len(lidar.packets_between(EPOCH_NS, EPOCH_NS + span_ns)))
    rows.append((f"{rig.lidars[0].name} ({rig.lidars[0].model.value})", "packets", cpu / seconds, seconds / wall, n))

    freed = FreedSim(rig.telemetry[0], stage.rig_state, EPOCH_NS, seed=1)
    cpu, wall, n = _measure(lambda: len(freed.packets_between(EPOCH_NS, EPOCH_NS + span_ns)))
    rows.append((f"{rig.telemetry[0].name} (FreeD D1)", "packets", cpu / seconds, seconds / wall, n))

    ltc = LtcSim(rig.timecode, EPOCH_NS)
    cpu, wall, n = _measure(lambda: ltc.read(int(seconds * rig.timecode.sample_rate_hz)).size)
    rows.append(("timecode (LTC audio)", "samples", cpu / seconds, seconds / wall, n))

    frames = int(seconds * float(rig.camera.frame_rate.fps))
    received: List[object] = []
    in_process = rig.camera.model_copy(update={"source": CameraSource.APPSRC})
    driver = CameraDriver(in_process, on_frame=received.append, live=False).start()
    try:
        camera = CameraSim(in_process, stage, LtcSim(rig.timecode, EPOCH_NS), EPOCH_NS, seed=1)

        def play() -> int:
            camera.push_frames(driver, frames)
            driver.wait_eos(timeout_s=120.0)
            return len(received)

        cpu, wall, n = _measure(play)
    finally:
        driver.close()
    width, height = rig.camera.width_px, rig.camera.height_px
    rows.append((f"{rig.camera.name} ({width}x{height} render + pipeline)", "frames", cpu / seconds, seconds / wall, n))
    return rows


def live_run(seconds: float):
    """Play the default profile in real time through the drivers; snapshots and CPU shares."""
    from sensors.rig import SensorRig
    from sensors.sim.run import SimulatedStage, stage_epoch_ns

    sys.setswitchinterval(0.0002)
    rig = load_profile()
    with SensorRig(rig) as sensors:
        epoch_ns = stage_epoch_ns(rig, time.time_ns(), 2 * NS_PER_S)
        stage = SimulatedStage(rig, epoch_ns)
        with stage:
            time.sleep(max(0.0, (epoch_ns - time.time_ns()) / NS_PER_S) + 1.0)  # past start-up
            before = {h.name: (h.stats.snapshot().decoded, h.stats.snapshot().dropped) for h in sensors.handles}
            cpu0, wall0 = _cpu_s(), time.perf_counter()
            time.sleep(seconds)
            wall = time.perf_counter() - wall0
            cpu = _cpu_s() - cpu0
            rows = []
            for h in sensors.handles:
                snap = h.stats.snapshot()
                decoded = snap.decoded - before[h.name][0]
                dropped = snap.dropped - before[h.name][1]
                rows.append((h.name, h.family, h.expected_rate_hz, decoded / wall, dropped, snap.clock))
        child_cpu = _children_cpu_s()  # the stage's device processes, counted once they have exited
    return rows, cpu / wall, child_cpu


def main(argv: List[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks sim_realtime", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=10.0, help="seconds of sensor output per measurement")
    args = parser.parse_args(argv)

    print(f"# Simulated stage, default profile (sim-stage), {os.cpu_count()} cores\n")
    print(f"## 1. Cost per sensor: {args.seconds:g} s of output, each sim alone, as fast as it can\n")
    print("| sensor | output | items | CPU share of one core | x real time |")
    print("|---|---|---:|---:|---:|")
    total = 0.0
    for name, unit, share, speed, n in offline_costs(args.seconds):
        total += share
        print(f"| {name} | {unit} | {n} | {share:.2f} | {speed:.1f} |")
    print(f"| **all sensors** | | | **{total:.2f}** (of {os.cpu_count()} cores) | |\n")

    print(f"## 2. Live: {args.seconds:g} s in real time through the drivers (baseline: the sensor's own rate)\n")
    rows, main_share, child_cpu_s = live_run(args.seconds)
    print("| sensor | kind | expected /s | decoded /s | ratio | drops | clock jitter ms |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for name, family, expected, achieved, dropped, clock in rows:
        jitter = f"{clock.jitter_ms:.3f}" if clock else "-"
        print(f"| {name} | {family} | {expected:.1f} | {achieved:.1f} | {achieved / expected:.2f} | {dropped} | {jitter} |")
    print(f"\nCPU: drivers process {main_share:.2f} of one core; "
          f"stage device processes {child_cpu_s:.1f} CPU s over its whole life (start-up included).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
