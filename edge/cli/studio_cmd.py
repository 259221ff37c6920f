"""``onset studio``: the studio side: its storage, ingest, catalogue and datasets (docs/studio-sync.md).

The group gathers sub-commands that live in modules of their own: ``up``, ``down``,
``status``, ``keys`` (:mod:`edge.cli.studio_storage_cmd`), ``ingest`` and ``find``
(:mod:`edge.cli.studio_catalogue_cmd`), ``dataset build`` (:mod:`edge.cli.studio_dataset_cmd`).
"""

from __future__ import annotations

import argparse
import importlib

__all__ = ["register"]

_DESCRIPTION = """\
The studio side of sync. `up` starts the studio's storage on this machine (SeaweedFS with its S3
API on loopback; `--cluster` as separate master, volume, filer and S3 processes), `down` stops it;
`ingest` verifies uploaded takes and catalogues them; `find` searches the catalogue in production
vocabulary ("MCU, 75mm, slow push-in"); `dataset build` exports training datasets.
"""
_PARTS = ("edge.cli.studio_storage_cmd", "edge.cli.studio_catalogue_cmd", "edge.cli.studio_dataset_cmd")


def register(groups: argparse._SubParsersAction) -> None:
    parser = groups.add_parser("studio", help="the studio's storage, ingest, catalogue and datasets",
                               description=_DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.required = True
    for name in _PARTS:
        importlib.import_module(name).register(commands)
