"""``onset sim``: run the simulated stage."""

from __future__ import annotations

import argparse
import time
from typing import List, Optional

from config import ProfileValueError, load_profile, resolve_profile
from config.models import CameraSource
from edge.cli.monitor import watch
from sensors.rig import SensorRig

__all__ = ["register"]


def _play(rig, args: argparse.Namespace, sensors: Optional[SensorRig]) -> None:
    from sensors.sim.run import SimulatedStage, stage_epoch_ns

    with SimulatedStage(rig, stage_epoch_ns(rig, time.time_ns())) as stage:
        where = [f"{c.name} -> udp {c.host}:{c.port}" for c in [*rig.lidars, *rig.telemetry]]
        if rig.camera.source is CameraSource.RTP:
            where.append(f"{rig.camera.name} -> rtp video {rig.camera.host}:{rig.camera.port}")
        print(f"simulated stage {rig.name!r} (seed {rig.stage.seed}) running: {', '.join(where)}"
              + ("" if sensors is not None else " (no drivers here: --emit-only)"), flush=True)

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
        _play(rig, args, None)
        return 0
    with SensorRig(rig) as sensors:
        _play(rig, args, sensors)
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
            "plan. Every sensor is a device of its own (separate processes) on its own drifting clock and\n"
            "speaks its real wire format: Velodyne UDP packets, FreeD D1 UDP packets, SMPTE LTC audio and\n"
            "uncompressed RTP video (RFC 4175, as SMPTE ST 2110-20).\n"
            "Onset's drivers decode them; once a second this prints each sensor's live rate, drops and\n"
            "clock stats (offset, drift and jitter of the sensor clock against this host) as the drivers see them."
        ),
        epilog=(
            "examples:\n"
            "  onset sim run                        until Ctrl-C\n"
            "  onset sim run --duration 10 --seed 3 a different set dressing, ten seconds\n"
            "  onset sim run --emit-only            only send; decode elsewhere with `onset sensors probe`\n"
            "                                       (every sensor, the camera included)"
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_profile_argument(run)
    run.add_argument("-d", "--duration", type=float, default=None, metavar="S",
                     help="stop after S seconds (default: run until Ctrl-C)")
    run.add_argument("--seed", type=int, default=None, help="set-dressing seed (default: the profile's stage.seed)")
    run.add_argument("--interval", type=float, default=1.0, metavar="S", help="seconds between status lines (default 1)")
    run.add_argument("--emit-only", action="store_true",
                     help="send every sensor's packets and video without opening drivers here")
    run.set_defaults(run=_run)
