"""The edge node: clock models, synchronizer, fusion, recorder, engine workers, preview server and
the ``onset`` command line. See docs/architecture.md, Data flow."""

__all__: list = []
