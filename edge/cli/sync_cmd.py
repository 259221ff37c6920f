"""``onset sync``: a take's chain of custody and its upload to the studio (docs/studio-sync.md).

The group gathers sub-commands that live in modules of their own: ``verify`` and ``copy``
(:mod:`edge.cli.sync_custody_cmd`), ``push`` and ``status`` (:mod:`edge.cli.sync_push_cmd`).
"""

from __future__ import annotations

import argparse
import importlib

__all__ = ["register"]

_DESCRIPTION = """\
A take's chain of custody on the edge box and its upload to the studio's S3 storage. Every take
closes with an ASC MHL history; `verify` re-hashes it, `copy` offloads it to another drive with a
new MHL generation, `push` queues takes and uploads them (resumable after any crash), `status`
shows the queue.
"""
_PARTS = ("edge.cli.sync_custody_cmd", "edge.cli.sync_push_cmd")


def register(groups: argparse._SubParsersAction) -> None:
    parser = groups.add_parser("sync", help="chain of custody and upload of takes to the studio",
                               description=_DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.required = True
    for name in _PARTS:
        importlib.import_module(name).register(commands)
