"""``onset sim``: run the simulated stage."""

from __future__ import annotations

import argparse
import time
from typing import List, Optional

from config import ProfileValueError, load_profile, resolve_profile
from edge.cli.monitor import watch
from sensors.rig import SensorRig

__all__ = ["register"]


def _play(rig, args: argparse.Namespace, sensors: Optional[SensorRig], camera, timecode) -> None:
    from sensors.sim.run import START_DELAY_NS, SimulatedStage

    epoch_ns = time.time_ns() + START_DELAY_NS
    with SimulatedStage(rig, epoch_ns, camera_driver=camera, timecode_driver=timecode, udp_in_subprocess=True) as stage:
        where = ", ".join(f"{c.name} -> udp {c.host}:{c.port}" for c in [*rig.lidars, *rig.telemetry])
        print(f"simulated stage {rig.name!r} (seed {rig.stage.seed}) running: {where}"
              + (f", {rig.camera.name} -> appsrc" if camera is not None else " (camera left out: --emit-only)"),
              flush=True)

        def lines() -> List[str]:
            sent = ", ".join(f"{name} {count}" for name, count in stage.sent().items())
            failed = "".join(f"\n  sim {name} stopped: {why}" for name, why in stage.errors().items())
            return [f"  sim sent: {sent}{failed}"]

        watch(sensors, args.duration, args.interval, extra_lines=lines)


def _run(args: argparse.Namespace) -> int:
    rig = load_profile(args.profile)
    if not rig.simulated:
        raise ProfileValueError(str(resolve_profile(args.profile)),
                                [("simulated", "this profile describes a real rig; use `onset sensors probe`", False)])
    if args.seed is not None:
        rig = rig.model_copy(update={"stage": rig.stage.model_copy(update={"seed": args.seed})})
    if args.emit_only:
        _play(rig, args, None, None, None)
        return 0
    with SensorRig(rig) as sensors:
        camera = sensors.get(rig.camera.name).driver
        timecode = sensors.get("timecode").driver if rig.camera.ltc else None
        _play(rig, args, sensors, camera, timecode)
    return 0


def register(groups: argparse._SubParsersAction) -> None:
    from edge.cli.args import add_profile_argument

    group = groups.add_parser("sim", help="run the simulated stage", description="The simulated film stage.")
    sub = group.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    run = sub.add_parser(
        "run",
        help="start the stage and watch it through Onset's drivers",
        description=(
            "Start the simulated stage: actors walk the set while the camera rig plays the profile's shot\n"
            "plan. Every sensor runs on its own drifting clock and speaks its real wire format: Velodyne\n"
            "UDP packets, FreeD D1 UDP packets, SMPTE LTC audio, and RGB video through a GStreamer appsrc.\n"
            "Onset's drivers decode them; once a second this prints each sensor's live rate, drops and\n"
            "clock stats (offset, drift and jitter of the sensor clock against this host) as the drivers see them."
        ),
        epilog=(
            "examples:\n"
            "  onset sim run                        until Ctrl-C\n"
            "  onset sim run --duration 10 --seed 3 a different set dressing, ten seconds\n"
            "  onset sim run --emit-only            only send packets; decode them elsewhere with\n"
            "                                       `onset sensors probe` (the camera needs the drivers)"
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_profile_argument(run)
    run.add_argument("-d", "--duration", type=float, default=None, metavar="S",
                     help="stop after S seconds (default: run until Ctrl-C)")
    run.add_argument("--seed", type=int, default=None, help="set-dressing seed (default: the profile's stage.seed)")
    run.add_argument("--interval", type=float, default=1.0, metavar="S", help="seconds between status lines (default 1)")
    run.add_argument("--emit-only", action="store_true",
                     help="send LiDAR and FreeD packets without opening drivers here (the camera is left out)")
    run.set_defaults(run=_run)
