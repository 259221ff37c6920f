"""``onset studio up|down|status|keys``: the embedded studio storage (SeaweedFS on loopback)."""

from __future__ import annotations

import argparse
import json
import shlex
import sys
import time
from pathlib import Path
from typing import Optional

from config import load_profile
from config.studio import StudioConfig
from edge.cli.args import add_profile_argument
from studio_sync.storage import (
    EmbeddedStudio,
    StudioNotRunningError,
    StudioStorageError,
    check_access,
    resolve_credentials,
    s3_client,
)

__all__ = ["register", "studio_config"]

EXIT_FAILURE = 1
EXIT_NOT_RUNNING = 3

_UP_EPILOG = """\
examples:
  onset studio up                     SeaweedFS in one process, S3 on http://127.0.0.1:8333
  onset studio up --cluster           master, two volume servers (replication 001), filer and
                                      S3 gateway as separate processes
  onset studio up --data-dir /srv/studio
  eval "$(onset studio keys --shell)" the writer's keys in AWS_* variables, for other S3 tools

The processes keep running after this command returns; `onset studio down` stops them. Data stays
in the data folder across restarts. Keys: studio.storage.writer/reader name the environment
variables holding them; when unset, the first `up` makes a pair per identity and keeps them in
<data folder>/credentials.json (mode 0600).
"""


def studio_config(args: argparse.Namespace) -> StudioConfig:
    """The profile's ``studio`` settings with ``--data-dir`` applied (when the command has it)."""
    config = load_profile(args.profile).studio
    data_dir: Optional[str] = getattr(args, "data_dir", None)
    if data_dir:
        embedded = config.embedded.model_copy(update={"data_dir": Path(data_dir).expanduser()})
        config = config.model_copy(update={"embedded": embedded})
    return config


def _say(line: str) -> None:
    print(line, file=sys.stderr)


def _up(args: argparse.Namespace) -> int:
    config = studio_config(args)
    if not config.uses_embedded:
        print(f"onset studio up: this profile's storage is {config.storage.endpoint_url}, not the embedded "
              "studio; nothing to start", file=sys.stderr)
        return EXIT_FAILURE
    studio = EmbeddedStudio(config, say=_say if args.verbose else (lambda _line: None))
    began = time.monotonic()
    try:
        state = studio.up(cluster=True if args.cluster else None)
    except StudioStorageError as err:
        print(f"onset studio up: {err}", file=sys.stderr)
        return EXIT_FAILURE
    names = ", ".join(f"{p.name} (pid {p.pid})" for p in state.processes)
    print(f"studio up ({state.mode}) in {time.monotonic() - began:.1f} s: S3 at {state.endpoint_url}, "
          f"bucket {config.storage.bucket}, data in {state.data_dir}")
    print(f"  processes: {names}")
    return 0


def _down(args: argparse.Namespace) -> int:
    config = studio_config(args)
    studio = EmbeddedStudio(config)
    try:
        killed = studio.down(grace_s=args.grace)
    except StudioNotRunningError as err:
        print(f"onset studio down: {err}", file=sys.stderr)
        return EXIT_NOT_RUNNING
    except StudioStorageError as err:
        print(f"onset studio down: {err}", file=sys.stderr)
        return EXIT_FAILURE
    forced = f" ({', '.join(killed)} ignored SIGINT and were killed)" if killed else ""
    print(f"studio down: nothing left running{forced}; data kept in {config.embedded.data_dir}")
    return 0


def _status(args: argparse.Namespace) -> int:
    config = studio_config(args)
    endpoint = config.endpoint_url()
    doc = {"endpoint_url": endpoint, "bucket": config.storage.bucket, "embedded": config.uses_embedded}
    code = 0
    if config.uses_embedded:
        studio = EmbeddedStudio(config)
        try:
            state = studio.state()
        except StudioStorageError as err:
            print(f"onset studio status: {err}", file=sys.stderr)
            return EXIT_FAILURE
        alive = {p.pid for p in studio.running()}
        doc["mode"] = state.mode if state else None
        doc["processes"] = [] if state is None else [
            {"name": p.name, "pid": p.pid, "port": p.port, "running": p.pid in alive} for p in state.processes]
        if state is None:
            code = EXIT_NOT_RUNNING
    try:
        check_access(s3_client(config, "reader", retries=1), endpoint)
        doc["answers"] = True
    except StudioStorageError as err:
        doc["answers"] = False
        doc["problem"] = str(err)
        code = code or EXIT_FAILURE
    if args.json:
        print(json.dumps(doc, indent=2))
        return code
    print(f"studio at {endpoint} (bucket {config.storage.bucket}): "
          + ("answers signed requests" if doc["answers"] else f"not answering: {doc['problem']}"))
    if config.uses_embedded:
        if not doc["processes"]:
            print(f"  no embedded studio was started from {config.embedded.data_dir}")
        for p in doc["processes"]:
            print(f"  {p['name']:<9} pid {p['pid']:<7} port {p['port']:<6} {'running' if p['running'] else 'GONE'}")
    return code


def _keys(args: argparse.Namespace) -> int:
    config = studio_config(args)
    try:
        keys = resolve_credentials(config, args.role)
    except StudioStorageError as err:
        print(f"onset studio keys: {err}", file=sys.stderr)
        return EXIT_FAILURE
    values = {"AWS_ACCESS_KEY_ID": keys.access_key, "AWS_SECRET_ACCESS_KEY": keys.secret_key,
              "AWS_ENDPOINT_URL": config.endpoint_url(), "AWS_DEFAULT_REGION": config.storage.region}
    if args.shell:
        for name, value in values.items():
            print(f"export {name}={shlex.quote(value)}")
    else:
        print(json.dumps(values, indent=2))
    return 0


def _data_dir_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data-dir", metavar="DIR", help="the studio's data folder (default: the profile's "
                                                          "studio.embedded.data_dir, ~/.onset/studio/data)")


def register(commands: argparse._SubParsersAction) -> None:
    up = commands.add_parser("up", help="start the embedded studio storage (SeaweedFS, S3 on loopback)",
                             description="Start SeaweedFS with its S3 API on 127.0.0.1 and return once a signed "
                                         "request succeeds.",
                             epilog=_UP_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_profile_argument(up)
    _data_dir_argument(up)
    up.add_argument("--cluster", action="store_true",
                    help="master, volume servers, filer and S3 gateway as separate processes (replicated)")
    up.add_argument("-v", "--verbose", action="store_true", help="say each process as it starts")
    up.set_defaults(run=_up)

    down = commands.add_parser("down", help="stop the embedded studio storage (nothing is left running)",
                               description="Stop every process of the embedded studio: SIGINT, then SIGKILL "
                                           "after the grace period. The data stays.")
    add_profile_argument(down)
    _data_dir_argument(down)
    down.add_argument("--grace", type=float, default=3.0, metavar="S",
                      help="seconds to wait after SIGINT before SIGKILL (default 3; SeaweedFS may ignore SIGINT)")
    down.set_defaults(run=_down)

    status = commands.add_parser("status", help="whether the studio storage runs and answers signed requests")
    add_profile_argument(status)
    _data_dir_argument(status)
    status.add_argument("--json", action="store_true", help="print JSON")
    status.set_defaults(run=_status)

    keys = commands.add_parser("keys", help="print an identity's S3 keys and endpoint (for rclone, aws, s5cmd)")
    add_profile_argument(keys)
    _data_dir_argument(keys)
    keys.add_argument("--role", choices=("writer", "reader"), default="reader",
                      help="which identity (default reader: read and list only)")
    keys.add_argument("--shell", action="store_true", help="print `export` lines for a POSIX shell")
    keys.set_defaults(run=_keys)
