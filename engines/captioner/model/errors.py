"""Errors of the captioner model: one root, narrow subclasses that name what was expected."""

from __future__ import annotations

__all__ = ["ModelError", "CheckpointError", "TrainingError", "ModelInputError"]


class ModelError(Exception):
    """Root of every error raised by the captioner model, its training, checkpoints and captions."""


class CheckpointError(ModelError):
    """A model file that cannot be used: missing, not a captioner model, corrupt, truncated, of an
    unknown format version, or made for other inputs or class vocabularies than this Onset's."""


class TrainingError(ModelError):
    """Training or calibration that cannot run: an empty split, a head without any label, a bad
    setting."""


class ModelInputError(ModelError, ValueError):
    """A tensor or frame sequence the model cannot take (wrong shape, dtype or order)."""
