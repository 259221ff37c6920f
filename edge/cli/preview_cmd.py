"""``onset preview``: the live preview server of the camera department's page (docs/preview.md).

It reads the streams the node and the engine workers publish and serves the page, its WebSocket
and its API from a process of its own, so it costs the node nothing. It starts with nothing else
up and picks each source up when it appears. It prints the page's address with the token in its
fragment, and where the token came from. SIGINT or SIGTERM stops it within a few seconds
(:mod:`edge.cli.shutdown`: a second signal, or a stop that hangs, forces the exit).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any, Optional, Tuple

from config import load_profile
from edge.cli.shutdown import Shutdown, ShutdownRequested

__all__ = ["register", "STOP_GRACE_S", "resolve_preview_token"]

#: Seconds from a stop request to the forced exit.
STOP_GRACE_S = 4.0
EXIT_FAILURE = 1

_DESCRIPTION = """\
Serve the live preview: the styled image (the raw one a keypress away), captions, depth,
timecode, sensor health, and the look and take controls, on http://HOST:PORT/.

The server reads what the node and the engine workers already publish (fused frames, styled
frames, the engines' results; the node's status and takes through its control API), so start
them in any order: each source shows as waiting until it appears, then live, late or gone.

Access: the page needs a token. It comes from --token, else the profile's preview.token_env
variable ($ONSET_PREVIEW_TOKEN), else a new one is made and printed; the printed address carries
it in its #token= fragment (a browser never sends the fragment to a server, so it stays out of
logs). With preview.watch_without_token: true anyone who reaches the page may watch (a monitor
wall); switching looks, engines and takes always needs the token.

Where it listens: the profile's preview.host and preview.port (127.0.0.1:8080: this machine only).
To put the page on the stage network, give that network's address (--host 10.0.0.5); it is then
open to anyone there who has the token.

Takes are started and stopped through the node's control API with the node's token (--control-token,
else $ONSET_CONTROL_TOKEN, else the one `onset node run` saved in ~/.onset/control-token).
"""

_EPILOG = """\
examples:
  onset preview                                  this machine only, a new token printed
  ONSET_PREVIEW_TOKEN=set-42 onset preview        a token the crew already has
  onset preview --host 10.0.0.5 --port 8080      the page on the stage network
  onset preview --profile stage-a.yaml           a real rig's endpoints
  onset node run --engines & onset preview        the simulated stage, both engines and the page
"""


def resolve_preview_token(explicit: Optional[str], env_name: str) -> Tuple[str, str]:
    """The viewers' token and where it came from: ``--token``, else ``$env_name``, else a new one."""
    from edge.preview.access import check_token, make_token

    if explicit:
        return check_token(explicit, "--token"), "--token"
    if os.environ.get(env_name):
        return check_token(os.environ[env_name], f"${env_name}"), f"${env_name}"
    return make_token(), f"made for this run (set ${env_name} to keep one)"


def _control_token(args: argparse.Namespace, rig: Any) -> Optional[str]:
    from edge.cli.node_cmd import TOKEN_FILE

    if args.control_token:
        return args.control_token
    if os.environ.get(rig.control.token_env):
        return os.environ[rig.control.token_env]
    try:
        return TOKEN_FILE.expanduser().read_text().strip() or None
    except OSError:
        return None


def _settings(args: argparse.Namespace, rig: Any):
    from edge.cli.takes_cmd import TAKES_DIR_ENV
    from edge.preview import PreviewSettings
    from edge.recorder.control import CONTROL_URL_ENV

    token, source = resolve_preview_token(args.token, rig.preview.token_env)
    takes_dir = args.takes_dir or os.environ.get(TAKES_DIR_ENV)
    return PreviewSettings.from_rig(
        rig, token, host=args.host, port=args.port, token_source=source, fused_endpoint=args.stream,
        control_url=args.control or os.environ.get(CONTROL_URL_ENV), control_token=_control_token(args, rig),
        takes_dir=Path(takes_dir).expanduser() if takes_dir else None)


def _banner(server: Any) -> str:
    from edge.preview import describe_bind

    s = server.settings
    watching = "anyone who reaches it may watch" if s.watch_without_token else "watching needs it too"
    return "\n".join([
        f"onset preview: {server.page_url}",
        f"  {describe_bind(s.host)} (--host or preview.host to change)",
        f"  token: {s.token_source}; controls need it, {watching}",
        f"  reads fused frames {s.fused_endpoint}, styled frames {s.styled_endpoint}, style results "
        f"{s.style_results_endpoint}, captioner results {s.captioner_results_endpoint}",
        f"  looks via {s.look_control_endpoint}; node status and takes via {s.control_url}",
        f"  takes in {server.service.takes_dir()} (the node's own once it answers)",
        "  Ctrl-C stops it",
    ])


def _run(args: argparse.Namespace) -> int:
    from edge.preview import PreviewError, PreviewServer

    rig = load_profile(args.profile)
    try:
        server = PreviewServer(_settings(args, rig), log_level=args.log_level)
    except PreviewError as err:
        print(f"onset preview: {err}", file=sys.stderr)
        return EXIT_FAILURE
    shutdown = Shutdown(
        STOP_GRACE_S,
        on_request=lambda name: print(f"onset preview: {name}: stopping", file=sys.stderr, flush=True),
        on_force=lambda why: print(f"onset preview: {why}: forcing the exit", file=sys.stderr, flush=True),
    ).install()
    try:
        with shutdown.interruptible():
            server.start()
        print(_banner(server), flush=True)
        shutdown.wait(None)
        return 0
    except ShutdownRequested:
        return 0
    except PreviewError as err:
        print(f"onset preview: {err}", file=sys.stderr)
        return EXIT_FAILURE
    finally:
        shutdown.stopping()
        server.close()
        shutdown.uninstall()


def _host(text: str) -> str:
    import ipaddress

    if text != "localhost":
        try:
            ipaddress.ip_address(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not an IP address (or localhost)") from None
    return text


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number") from None
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"port {port} is not in 1..65535")
    return port


def register(groups: argparse._SubParsersAction) -> None:
    from edge.cli.args import add_profile_argument

    parser = groups.add_parser("preview", help="serve the live preview page (styled image, captions, takes, looks)",
                               description=_DESCRIPTION, epilog=_EPILOG,
                               formatter_class=argparse.RawDescriptionHelpFormatter)
    add_profile_argument(parser)
    parser.add_argument("--host", type=_host, default=None, metavar="ADDR",
                        help="address to bind (default: the profile's preview.host, 127.0.0.1)")
    parser.add_argument("--port", type=_port, default=None, metavar="N",
                        help="port of the page, its WebSocket and API (default: the profile's preview.port, 8080)")
    parser.add_argument("--token", default=None, metavar="T",
                        help="the viewers' token (default: $ONSET_PREVIEW_TOKEN, else a new one, printed)")
    parser.add_argument("--stream", default=None, metavar="ENDPOINT",
                        help="the node's fused-frame stream (default: the profile's stream.endpoint, "
                             "tcp://127.0.0.1:5557; what `onset node run --stream` was given)")
    parser.add_argument("--control", default=None, metavar="URL",
                        help="the node's control API (default: $ONSET_CONTROL_URL, else the profile's control "
                             "host and port, http://127.0.0.1:8765)")
    parser.add_argument("--control-token", default=None, metavar="T",
                        help="the node's control token (default: $ONSET_CONTROL_TOKEN, else ~/.onset/control-token)")
    parser.add_argument("--takes-dir", default=None, metavar="DIR",
                        help="the takes the page lists while the node is not up (default: $ONSET_TAKES_DIR, else "
                             "the profile's preview.takes_dir or recorder.takes_dir; the node's own once it answers)")
    parser.add_argument("--log-level", default="warning", choices=("critical", "error", "warning", "info", "debug"),
                        help="the HTTP server's log level (default: warning)")
    parser.set_defaults(run=_run)
