"""``onset node run``: the edge node, and with a simulated profile the stage that feeds it.

Stopping (:mod:`edge.cli.shutdown`): SIGINT or SIGTERM, at any moment from start-up on, closes
the stage (its processes are killed if that takes over :data:`STAGE_CLOSE_S`), then the node (a
rolling take is finished on the way) and returns 0; a signal during start-up rolls back what was
opened. A second signal, or a stop that takes longer than :data:`STOP_GRACE_S`, kills the
stage's processes and exits at once with 128 + the signal (1 when the stop was not asked for).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import secrets
import sys
import time
from pathlib import Path
from typing import Any, Iterator, Optional

from config import load_profile
from edge.cli.shutdown import Shutdown, ShutdownRequested, close_within

__all__ = ["register", "resolve_control_token", "TOKEN_FILE", "STOP_GRACE_S", "STAGE_CLOSE_S"]

#: Seconds from a stop request to the forced exit: the whole stop must stay within 5 s.
STOP_GRACE_S = 3.5
#: Seconds the simulated stage may take to close before its processes are killed (leaving the
#: node's own close, a rolling take's included, time within the grace).
STAGE_CLOSE_S = 1.5

#: Where a node that generated its own control token leaves it for `onset take` (mode 0600).
TOKEN_FILE = Path("~/.onset/control-token")


def resolve_control_token(explicit: Optional[str], env_name: str) -> str:
    """The control API token: the flag, else the environment, else a new one saved to ``TOKEN_FILE``."""
    if explicit:
        return explicit
    if os.environ.get(env_name):
        return os.environ[env_name]
    token = secrets.token_urlsafe(24)
    path = TOKEN_FILE.expanduser()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(token + "\n")
    return token


@contextlib.contextmanager
def _running(node: Any, shutdown: Shutdown) -> Iterator[Any]:
    """``node`` started (a stop request meanwhile rolls start-up back), closed on the way out."""
    try:
        with shutdown.interruptible():
            node.start()
        yield node
    finally:
        shutdown.stopping()  # from here on the close is bounded by the grace
        node.close()


def _run(args: argparse.Namespace) -> int:
    shutdown = Shutdown(
        STOP_GRACE_S,
        on_request=lambda name: print(f"onset: {name}: stopping (a second signal forces the exit)", file=sys.stderr,
                                      flush=True),
        on_force=lambda why: print(f"onset: {why}: forcing the exit", file=sys.stderr, flush=True),
    ).install()
    try:
        return _run_node(args, shutdown)
    except ShutdownRequested as stop:
        print(f"onset: {stop}", file=sys.stderr)
        return 0
    except Exception:
        if shutdown.requested.is_set():  # start-up rolled back because a stop was asked for
            print(f"onset: stopped by {shutdown.signal_name} during start-up", file=sys.stderr)
            return 0
        raise
    finally:
        shutdown.stopping()  # whatever happens at exit (DDS, threads) is bounded too


def _run_node(args: argparse.Namespace, shutdown: Shutdown) -> int:
    from edge.node.app import EdgeNode
    from edge.node.health import format_node_status
    from edge.cli.monitor import watch_lines
    # Receivers share the interpreter with rendering and fusion: keep their stamps sharp.
    sys.setswitchinterval(0.0002)
    rig = load_profile(args.profile)
    recorder_config = None
    token = None
    if not args.no_record:
        recorder_config = rig.recorder
        if args.takes_dir:
            recorder_config = recorder_config.model_copy(update={"takes_dir": Path(args.takes_dir).expanduser()})
        token = resolve_control_token(args.control_token, rig.control.token_env)
    node = EdgeNode(rig, recorder_config=recorder_config, control_token=token, with_ros=not args.no_ros,
                    stream_endpoint=args.stream, control_port=args.control_port)
    with _running(node, shutdown):
        stage = None
        if rig.simulated:
            from sensors.sim.run import SimulatedStage, stage_epoch_ns

            stage = SimulatedStage(rig, stage_epoch_ns(rig, time.time_ns())).start()
        workers = _start_engines(args, rig, node.stream.endpoint)
        preview = _start_preview(args, rig, node) if args.preview else None
        if preview is not None:
            workers.append(("preview", preview[0]))
        try:
            if shutdown.requested.is_set():
                return 0
            where = [f"fused frames -> {node.stream.endpoint}"]
            if node.ros is not None:
                where.append(f"ROS 2 topics on domain {os.environ.get('ROS_DOMAIN_ID', '0')}")
            if node.control is not None:
                source = "--control-token" if args.control_token else (
                    f"${rig.control.token_env}" if os.environ.get(rig.control.token_env) else str(TOKEN_FILE))
                where.append(f"control API {node.control.url} (token: {source})")
            if node.foxglove is not None:
                where.append(f"Foxglove server on {node.foxglove.url}")
            for name, _worker in workers:
                if name != "preview":
                    where.append(f"{name} worker -> {getattr(rig.engines, name).results_endpoint}")
            print(f"edge node {rig.name!r} running" + (" on the simulated stage" if stage else "") + ": "
                  + "; ".join(where), flush=True)
            if preview is not None:
                print(f"live preview: open {preview[1]}", flush=True)
            watch_lines(lambda elapsed: format_node_status(node, elapsed), args.duration, args.interval, stop=shutdown)
        finally:
            for name, worker in workers:
                close_within(worker.stop, STAGE_CLOSE_S, f"the {name} worker")
            if stage is not None:
                close_within(stage.close, STAGE_CLOSE_S, "the simulated stage")
    return 0


def _start_engines(args: argparse.Namespace, rig: Any, stream_endpoint: str) -> list:
    """The engine workers this run starts (``--engines``, or the profile's ``engines.start_with_node``),
    each under a supervisor that restarts it when it dies."""
    wanted = args.engines if args.engines is not None else rig.engines.start_with_node
    if not wanted:
        return []
    from engines.worker.supervisor import Supervisor

    workers = []
    for name in ("captioner", "style"):
        if not getattr(rig.engines, name).enabled:
            continue
        argv = [sys.executable, "-m", "engines.worker.child", name, "--profile", str(args.profile),
                "--stream", stream_endpoint]
        if args.no_ros:
            argv.append("--no-ros")
        # The workers' processes stay out of the node's way as the stage's do.
        workers.append((name, Supervisor(argv, name=name, env=dict(os.environ, ONSET_WORKER_NICE="10"),
                                         stop_timeout_s=1.0).start()))
    return workers


def _start_preview(args: argparse.Namespace, rig: Any, node: Any) -> tuple:
    """``(supervisor, page URL)`` of the preview server this run starts beside the node: ``onset
    preview`` on the node's stream, control API and takes, under a supervisor like the workers'.
    Its tokens go to it in its environment, never on a command line that ``ps`` shows."""
    from edge.cli.preview_cmd import resolve_preview_token
    from edge.cli.takes_cmd import TAKES_DIR_ENV
    from engines.worker.supervisor import Supervisor

    token, _source = resolve_preview_token(None, rig.preview.token_env)
    env = dict(os.environ, **{rig.preview.token_env: token})
    argv = [sys.executable, "-m", "edge.cli.main", "preview", "--profile", str(args.profile),
            "--stream", node.stream.endpoint]
    if node.control is not None:
        from edge.recorder.control import CONTROL_URL_ENV

        env[CONTROL_URL_ENV] = node.control.url
        env[rig.control.token_env] = node.control.token
    if node.recorder is not None:
        env[TAKES_DIR_ENV] = str(node.recorder.config.takes_dir)
    host = f"[{rig.preview.host}]" if ":" in rig.preview.host else rig.preview.host
    supervisor = Supervisor(argv, name="preview", env=env, stop_timeout_s=5.0).start()
    return supervisor, f"http://{host}:{rig.preview.port}/#token={token}"


def register(groups: argparse._SubParsersAction) -> None:
    from edge.cli.args import add_profile_argument

    group = groups.add_parser("node", help="run the edge node", description="The edge node of one stage.")
    sub = group.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    run = sub.add_parser(
        "run",
        help="run the node: sensors in, fused frames out, ROS 2 topics, takes",
        description=(
            "Run the edge node. It opens every sensor of the profile, puts them on one clock, fuses each\n"
            "camera frame with deskewed LiDAR depth, pose, lens and timecode, streams the fused frames\n"
            "(pyzmq), publishes every sensor on ROS 2 and records takes on request (`onset take start`).\n"
            "With a simulated profile (the default, sim-stage) it also runs the simulated stage.\n"
            "Once a second it prints the fused-frame rate, each sensor's sync state and clock residuals,\n"
            "and the drops."
        ),
        epilog=(
            "examples:\n"
            "  onset node run                               the simulated stage, until Ctrl-C\n"
            "  onset node run --duration 20 --takes-dir /mnt/takes\n"
            "  onset node run --profile stage-a.yaml        a real rig\n"
            "  onset take start --scene 12 --shot 3 --take 4   (in another shell)"
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_profile_argument(run)
    run.add_argument("-d", "--duration", type=float, default=None, metavar="S", help="stop after S seconds")
    run.add_argument("--interval", type=float, default=1.0, metavar="S", help="seconds between status lines")
    run.add_argument("--takes-dir", default=None, metavar="DIR",
                     help="where takes are recorded (default: the profile's recorder.takes_dir, ~/onset/takes)")
    run.add_argument("--no-record", action="store_true", help="no recorder and no control API")
    run.add_argument("--no-ros", action="store_true", help="do not start the ROS 2 node (no rclpy needed)")
    run.add_argument("--stream", default=None, metavar="ENDPOINT",
                     help="zmq endpoint for fused frames (default: the profile's, tcp://127.0.0.1:5557)")
    run.add_argument("--control-port", type=int, default=None, metavar="PORT",
                     help="control API port on 127.0.0.1 (default: the profile's, 8765; 0 picks a free one)")
    run.add_argument("--control-token", default=None, metavar="TOKEN",
                     help="control API bearer token (default: $ONSET_CONTROL_TOKEN, else a new one in ~/.onset/control-token)")
    engines = run.add_mutually_exclusive_group()
    engines.add_argument("--engines", dest="engines", action="store_true", default=None,
                         help="start the engine workers (captioner and style) beside the node (`make demo` does)")
    engines.add_argument("--no-engines", dest="engines", action="store_false",
                         help="do not start them, whatever the profile's engines.start_with_node says")
    run.add_argument("--preview", action="store_true",
                     help="also serve the live preview page (`onset preview` in a process of its own, on the "
                          "profile's preview.host:port); its address, token included, is printed (`make demo` does)")
    run.set_defaults(run=_run)
