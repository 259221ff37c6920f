"""Onset's engines: the captioner (reads footage) and the style engine (writes the look).

Models, labels, training, ONNX export and runtimes land here; see docs/architecture.md, Engines.
"""

__all__: list = []
