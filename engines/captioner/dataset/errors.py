"""Errors of the dataset builder and readers: one root, narrow subclasses that name what is wrong."""

from __future__ import annotations

__all__ = [
    "DatasetError",
    "NotATakeError",
    "BagReadError",
    "NoCameraFramesError",
    "SplitError",
    "DatasetFormatError",
    "DatasetExistsError",
]


class DatasetError(Exception):
    """Root of every error raised by :mod:`engines.captioner.dataset`."""


class NotATakeError(DatasetError):
    """A folder that is not an Onset take (no readable ``take.json`` or no ``bag/``)."""


class BagReadError(DatasetError):
    """A take whose bag cannot be read (not closed, truncated, not rosbag2, a message that does not decode)."""


class NoCameraFramesError(DatasetError):
    """A take without a camera frame on its image topic: there is nothing to label."""


class SplitError(DatasetError):
    """Scene splits that cannot be made: a scene named for two splits, a named scene no take has, bad fractions."""


class DatasetFormatError(DatasetError):
    """A dataset folder or shard that is not this format, or of a newer schema version than this reader."""


class DatasetExistsError(DatasetError):
    """The output folder already holds files; the builder does not mix datasets."""
