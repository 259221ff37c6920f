"""Onset's engines: the captioner (reads footage) and the style engine (writes the look).

Models, labels, training, ONNX export and runtimes land here; see DESIGN.md, Engines.
"""

__all__: list = []
