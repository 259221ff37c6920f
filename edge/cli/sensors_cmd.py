"""``onset sensors``: talk to the sensors a profile names."""

from __future__ import annotations

import argparse
import threading
from typing import Dict, List

from config import load_profile
from edge.cli.monitor import watch
from sensors.rig import SensorRig

__all__ = ["register", "describe_sample"]


def describe_sample(sample: object) -> str:
    """One line saying what a decoded sample holds, for a crew checking its wiring."""
    kind = type(sample).__name__
    if kind == "PointCloud":
        return f"{len(sample)} points, rings {int(sample.ring.max()) + 1 if len(sample) else 0}, sensor t {sample.stamp.sensor_ns} ns"
    if kind == "TelemetrySample":
        lens = sample.lens
        lens_text = f" {lens.focal_length_mm:.1f} mm focus {lens.focus_distance_m:.2f} m" if lens else ""
        x, y, z = (float(v) for v in sample.position_m)
        return (f"camera {sample.camera_id} pan {sample.pan_deg:+.2f} tilt {sample.tilt_deg:+.2f} roll {sample.roll_deg:+.2f} deg, "
                f"xyz ({x:+.3f}, {y:+.3f}, {z:+.3f}) m, zoom {sample.zoom_raw} focus {sample.focus_raw}{lens_text}")
    if kind == "ImageFrame":
        return f"frame {sample.frame_index} {sample.width_px}x{sample.height_px} TC {sample.timecode or '-'}"
    return repr(sample)


def _probe(args: argparse.Namespace) -> int:
    rig = load_profile(args.profile)
    latest: Dict[str, str] = {}
    lock = threading.Lock()

    def keep(name: str, sample: object) -> None:
        with lock:
            latest[name] = describe_sample(sample)

    include_camera = not SensorRig.camera_is_in_process(rig)
    sensors = SensorRig(rig, include_camera=include_camera, on_cloud=keep, on_telemetry=keep, on_frame=keep)

    def lines() -> List[str]:
        with lock:
            return [f"  last {k}: {v}" for k, v in sorted(latest.items())]

    with sensors:
        ports = ", ".join(f"{c.name} udp {c.host}:{c.port}" for c in [*rig.lidars, *rig.telemetry])
        print(f"probing {rig.name}: {ports}" + ("" if include_camera else
              "; camera skipped (appsrc: fed in-process by `onset sim run`)"), flush=True)
        watch(sensors, args.duration, args.interval, extra_lines=lines)
    return 0


def register(groups: argparse._SubParsersAction) -> None:
    from edge.cli.args import add_profile_argument

    group = groups.add_parser("sensors", help="probe the sensors a profile names",
                              description="Talk to the sensors a rig profile names.")
    sub = group.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    probe = sub.add_parser(
        "probe",
        help="decode whatever arrives on the configured ports",
        description=(
            "Bind every port the profile names (LiDAR and FreeD over UDP, the camera pipeline unless it is\n"
            "fed in-process by the simulator), decode what arrives and print, once a second, each sensor's\n"
            "rate, drops (with their reasons) and clock (offset, drift, jitter), plus the last sample decoded.\n"
            "Use it to check a real rig's wiring, or point it at `onset sim run --emit-only`."
        ),
        epilog=(
            "examples:\n"
            "  onset sensors probe --profile stage-a.yaml\n"
            "  onset sim run --emit-only & onset sensors probe --duration 5"
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_profile_argument(probe)
    probe.add_argument("-d", "--duration", type=float, default=None, metavar="S",
                       help="stop after S seconds (default: run until Ctrl-C)")
    probe.add_argument("--interval", type=float, default=1.0, metavar="S", help="seconds between status lines (default 1)")
    probe.set_defaults(run=_probe)
