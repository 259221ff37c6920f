"""The ``onset`` command line: one module per command group, ``main`` dispatches."""

from edge.cli.main import build_parser, main

__all__ = ["build_parser", "main"]
