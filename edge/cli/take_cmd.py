"""``onset take``: start and stop takes on the running node through its control API.

``onset take start --plan-json`` names the capture plan a take is shot for (``docs/plans.md``):
a JSON object, inline or ``@path`` to a file, checked here before it is sent and kept in the
take's ``take.json`` ``plan``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any, Dict, Optional

from edge.recorder.control import CONTROL_TOKEN_ENV, CONTROL_URL_ENV, DEFAULT_CONTROL_URL, ControlClient
from edge.recorder.errors import ControlError
from edge.recorder.take import PLAN_KEYS, validate_plan, validate_slate

__all__ = ["register"]

EXIT_FAILURE = 1
EXIT_USAGE = 2


def _saved_token():
    """The token a node that made its own left in ~/.onset/control-token (see `onset node run`)."""
    from edge.cli.node_cmd import TOKEN_FILE

    try:
        return TOKEN_FILE.expanduser().read_text().strip() or None
    except OSError:
        return None


def _client(args: argparse.Namespace) -> ControlClient:
    url = args.control or os.environ.get(CONTROL_URL_ENV) or DEFAULT_CONTROL_URL
    token = args.token or os.environ.get(CONTROL_TOKEN_ENV) or _saved_token()
    return ControlClient(url, token)


def _describe(info: Dict[str, Any]) -> str:
    slate = f"scene {info.get('scene')} shot {info.get('shot')} take {info.get('take')}"
    tc = ""
    if info.get("tc_in"):
        tc = f", TC {info['tc_in']}" + (f" - {info['tc_out']}" if info.get("tc_out") else "")
    return f"{slate} ({info.get('name')}{tc})"


def _plan_argument(text: Optional[str]) -> Optional[Dict[str, Any]]:
    """The ``--plan-json`` object: inline JSON, or ``@path`` to a file of it; ValueError says what is wrong."""
    if text is None:
        return None
    source = "--plan-json"
    if text.startswith("@"):
        path = Path(text[1:]).expanduser()
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as err:
            raise ValueError(f"--plan-json: cannot read {path}: {err}") from err
        source = str(path)
    try:
        plan = json.loads(text)
    except ValueError as err:
        raise ValueError(f"{source} is not JSON: {err}") from err
    return validate_plan(plan)


def _start(args: argparse.Namespace) -> int:
    try:
        slate = validate_slate(args.scene, args.shot, args.take)
        plan = _plan_argument(args.plan_json)
    except ValueError as err:
        print(f"onset take start: {err}", file=sys.stderr)
        return EXIT_USAGE
    try:
        info = _client(args).start(slate.scene, slate.shot, slate.take, tc_in=args.tc_in, plan=plan)
    except ControlError as err:
        print(f"onset take start: {err}", file=sys.stderr)
        return EXIT_FAILURE
    print(f"recording {_describe(info)}")
    print(f"  into {info.get('path')}")
    if info.get("plan"):
        print(f"  plan {info['plan'].get('name')} take {info['plan'].get('index')}: {info['plan'].get('instruction')}")
    return 0


def _stop(args: argparse.Namespace) -> int:
    try:
        info = _client(args).stop(tc_out=args.tc_out)
    except ControlError as err:
        print(f"onset take stop: {err}", file=sys.stderr)
        return EXIT_FAILURE
    duration = info.get("duration_s")
    dropped = sum((info.get("dropped") or {}).values())
    print(f"stopped {_describe(info)}: {info.get('status')}, {info.get('message_count')} messages"
          + (f" in {duration:.1f} s" if isinstance(duration, (int, float)) else "")
          + (f", {dropped} dropped" if dropped else ""))
    if info.get("error"):
        print(f"  error: {info['error']}")
    for note in info.get("notes") or []:
        print(f"  note: {note}")
    return 0 if info.get("status") == "complete" else EXIT_FAILURE


def _status(args: argparse.Namespace) -> int:
    try:
        status = _client(args).status()
    except ControlError as err:
        print(f"onset take status: {err}", file=sys.stderr)
        return EXIT_FAILURE
    take = status.get("take")
    state = status.get("state")
    if state == "recording" and take:
        print(f"recording {_describe(take)}: {take.get('message_count')} messages, "
              f"{take.get('flushed_messages')} on disk, queue {status.get('queued_messages')}")
    elif state == "failed" and take:
        print(f"FAILED {_describe(take)}: {status.get('error')}")
    else:
        print("idle" + (f"; last take {_describe(take)}: {take.get('status')}" if take else ""))
    dropped = {k: v for k, v in (status.get("dropped") or {}).items() if v}
    if dropped:
        print("  dropped: " + ", ".join(f"{k} {v}" for k, v in sorted(dropped.items())))
    return 0


def _add_control_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--control", metavar="URL", default=None,
                        help=f"the node's control API (default: ${CONTROL_URL_ENV} or {DEFAULT_CONTROL_URL})")
    parser.add_argument("--token", metavar="T", default=None,
                        help=f"bearer token of the node (default: ${CONTROL_TOKEN_ENV}, else ~/.onset/control-token "
                             "that a node without a configured token writes)")


def register(groups: argparse._SubParsersAction) -> None:
    group = groups.add_parser("take", help="start and stop takes on the running node",
                              description="Start and stop takes on the running Onset node (its control API).")
    sub = group.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    fmt = argparse.RawDescriptionHelpFormatter

    start = sub.add_parser(
        "start", help="start recording a take", formatter_class=fmt,
        description=("Start recording a take on the running node: every topic into a rosbag2 bag (MCAP) plus\n"
                     "take.json, in <takes_dir>/<scene>_<shot>_<take>_<UTC start>/."),
        epilog=("examples:\n"
                "  onset take start --scene 12 --shot 3 --take 4\n"
                "  onset take start --scene 12A --shot 1 --take 2 --control http://127.0.0.1:8765 --token $T\n"
                "  onset take start --scene focal-sweep --shot 3 --take 1 --plan-json @plan.json"),
    )
    start.add_argument("--scene", required=True, help="scene label from the slate, e.g. 12 or 12A")
    start.add_argument("--shot", required=True, help="shot label from the slate, e.g. 3")
    start.add_argument("--take", required=True, type=int, help="take number, 1 or more")
    start.add_argument("--tc-in", default=None, metavar="HH:MM:SS:FF",
                       help="timecode at start (default: the node's timecode now)")
    start.add_argument("--plan-json", default=None, metavar="JSON|@FILE",
                       help=f"the capture plan the take is shot for, kept in take.json: a JSON object with "
                            f"{', '.join(PLAN_KEYS)} (see docs/plans.md), or @ and a file holding one")
    _add_control_arguments(start)
    start.set_defaults(run=_start)

    stop = sub.add_parser(
        "stop", help="stop the take that is recording", formatter_class=fmt,
        description="Stop the take that is recording: the queue drains, the bag closes, take.json is final.",
        epilog="examples:\n  onset take stop\n  ONSET_CONTROL_TOKEN=$T onset take stop",
    )
    stop.add_argument("--tc-out", default=None, metavar="HH:MM:SS:FF",
                      help="timecode at stop (default: the node's timecode now)")
    _add_control_arguments(stop)
    stop.set_defaults(run=_stop)

    status = sub.add_parser(
        "status", help="what the recorder is doing", formatter_class=fmt,
        description="Show whether a take is recording, how much is on disk, and any drops or error.",
        epilog="examples:\n  onset take status",
    )
    _add_control_arguments(status)
    status.set_defaults(run=_status)
