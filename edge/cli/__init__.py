"""The ``onset`` command line: one module per command group; :func:`edge.cli.main.main` dispatches
(the ``onset`` console script). Nothing is imported here, so ``python -m edge.cli.main`` runs
its module once."""

__all__: list = []
