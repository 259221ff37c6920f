"""Arguments that several ``onset`` command groups share.

The command modules import these from here, and :mod:`edge.cli.main` imports the command
modules, so no command module needs :mod:`edge.cli.main` (which ``python -m edge.cli.main``
would otherwise load a second time, as a module distinct from ``__main__``).
"""

from __future__ import annotations

import argparse

from config import DEFAULT_PROFILE

__all__ = ["add_profile_argument"]


def add_profile_argument(parser: argparse.ArgumentParser) -> None:
    """Add ``-p/--profile NAME|PATH`` (a shipped rig profile name or a YAML path; default: the
    default profile) to ``parser``."""
    parser.add_argument(
        "-p",
        "--profile",
        default=DEFAULT_PROFILE,
        metavar="NAME|PATH",
        help=f"rig profile: a shipped profile name or a .yaml path (default: {DEFAULT_PROFILE})",
    )
