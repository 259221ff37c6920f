"""The captioner's training data: takes fused again, labelled, cut into shots, stored as WebDataset shards.

One module per job (``docs/dataset.md`` describes the format and why):

- :mod:`.source` — a take folder opened: identity, topics, the rig it was shot with;
- :mod:`.bag` — the take's bag read with rosbags: tracks first, then frames and sweeps in order;
- :mod:`.gather` — which frames, and what fusion gets for each (poses, lens, LiDAR, camera);
- :mod:`.refuse` — each chosen frame fused again (``edge.fusion.fuse_frame``) and labelled
  (``engines.captioner.labeler.AutoLabeler``): :func:`iter_take_frames`;
- :mod:`.records`, :mod:`.segment` — stored labels per frame; shots and their labels;
- :mod:`.splits` — train / val / test by scene;
- :mod:`.png`, :mod:`.writer`, :mod:`.metadata` — lossless PNGs, tar shards, JSON and CSV;
- :mod:`.build` — ``onset dataset build``: :func:`build_dataset`;
- :mod:`.reader` — a built dataset read back without torch;
- :mod:`.torch_dataset` — :class:`ClipDataset`, imported (with torch) only when asked for.
"""

from __future__ import annotations

import importlib

from engines.captioner.dataset.build import BuildOptions, BuildPlan, BuildReport, build_dataset, plan_build
from engines.captioner.dataset.errors import (
    BagReadError,
    DatasetError,
    DatasetExistsError,
    DatasetFormatError,
    NoCameraFramesError,
    NotATakeError,
    SplitError,
)
from engines.captioner.dataset.reader import iter_samples, read_index
from engines.captioner.dataset.refuse import DEFAULT_FPS, TakeFrame, TakeFrames, iter_take_frames
from engines.captioner.dataset.segment import Shot, ShotLabels, segment_shots
from engines.captioner.dataset.source import TakeSource, open_take
from engines.captioner.dataset.splits import SPLITS, assign_splits

__all__ = [
    "DEFAULT_FPS",
    "SPLITS",
    "BuildOptions",
    "BuildPlan",
    "BuildReport",
    "build_dataset",
    "plan_build",
    "DatasetError",
    "NotATakeError",
    "BagReadError",
    "NoCameraFramesError",
    "SplitError",
    "DatasetFormatError",
    "DatasetExistsError",
    "read_index",
    "iter_samples",
    "TakeFrame",
    "TakeFrames",
    "iter_take_frames",
    "Shot",
    "ShotLabels",
    "segment_shots",
    "TakeSource",
    "open_take",
    "assign_splits",
    "ClipDataset",
]


def __getattr__(name: str):
    if name == "ClipDataset":  # PEP 562: torch is imported only for the torch dataset
        return importlib.import_module("engines.captioner.dataset.torch_dataset").ClipDataset
    raise AttributeError(f"module 'engines.captioner.dataset' has no attribute {name!r}")
