"""Where the captioner model that ships with Onset lies (rebuilt by ``make captioner-model``).

``SHIPPED_CHECKPOINT`` is the trained model (an ONSETCAP file that ``onset caption`` and
``onset engines evaluate captioner`` read); ``SHIPPED_EXPORT`` its ONNX export, the folder the
live worker runs (``engines.captioner.export``). The model card and the held-out evaluation lie
beside them.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["SHIPPED_MODELS_DIR", "SHIPPED_CHECKPOINT", "SHIPPED_EXPORT"]

SHIPPED_MODELS_DIR = Path(__file__).resolve().parent / "models"
SHIPPED_CHECKPOINT = SHIPPED_MODELS_DIR / "captioner.onsetcap"
SHIPPED_EXPORT = SHIPPED_MODELS_DIR / "default"
