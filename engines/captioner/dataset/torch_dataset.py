"""``ClipDataset``: a split of a built dataset as the captioner model's clips, for PyTorch.

Each stored frame is one item: the clip that ends on it. A clip is ``clip_frames`` consecutive
stored frames of one shot, oldest first, never crossing a shot's or a take's edge; near a shot's
start the clip is padded at its front by repeating the shot's first frame. Stored frames are
``fps`` apart as built (``index.json`` ``build.fps``); the model's clips are
:data:`~engines.captioner.inputs.CLIP_RATE_HZ` apart, so a dataset built at another rate is
read with a warning. The labels are the clip's newest frame's:

* ``frames``: float32 tensor ``(clip_frames, 5, 72, 128)`` from
  :func:`engines.captioner.inputs.frame_planes` (its depth planes zero when ``depth=False``);
* ``shot_size``, ``movement``: int64 class indices (:func:`~engines.captioner.inputs.shot_size_index`,
  :func:`~engines.captioner.inputs.movement_index`), -1 where the label is missing;
* ``focal_mm``, ``distance_m``: float32, NaN where missing (``distance_m`` also where there is no subject);
* ``key``: the newest frame's sample key.

Opening the dataset reads every shard's member list and every sample's JSON (small); PNGs are
read by seeking into the shard and decoded on first use, and with ``cache=True`` each frame's
planes are kept (float16: 92 kB a frame) so every PNG is decoded once per process. With several
``DataLoader`` workers each worker keeps its own cache. This module imports torch; the package
(``engines.captioner.dataset``) imports it only when ``ClipDataset`` is asked for.
"""

from __future__ import annotations

import math
import os
import warnings
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

import numpy as np
import torch
from torch.utils.data import Dataset

from engines.captioner.dataset.errors import DatasetFormatError
from engines.captioner.dataset.png import decode_depth_png, decode_rgb_png
from engines.captioner.dataset.reader import SampleRef, index_shard, read_index, read_member, sample_json, split_shards
from engines.captioner.inputs import CLIP_FRAMES, CLIP_RATE_HZ, frame_planes, movement_index, shot_size_index

__all__ = ["ClipDataset", "clip_positions"]


def clip_positions(shot_starts: np.ndarray, newest: int, clip_frames: int) -> List[int]:
    """Positions (oldest first) of the clip ending at position ``newest``: the ``clip_frames``
    positions before it, none before its shot's first frame (``shot_starts[newest]``), which
    pads the front instead."""
    first = int(shot_starts[newest])
    return [max(first, newest - k) for k in range(clip_frames - 1, -1, -1)]


def _float(value: Any) -> float:
    return float("nan") if value is None else float(value)


class ClipDataset(Dataset):
    """The clips of ``split`` in the dataset at ``root`` (module docstring), map-style."""

    def __init__(self, root: Path, split: str, clip_frames: int = CLIP_FRAMES, depth: bool = True,
                 cache: bool = True) -> None:
        super().__init__()
        if int(clip_frames) < 1:
            raise ValueError(f"clip_frames must be at least 1, got {clip_frames}")
        self.root, self.split = Path(root), str(split)
        self.clip_frames, self.depth, self.cache = int(clip_frames), bool(depth), bool(cache)
        self.index = read_index(self.root)
        fps = float((self.index.get("build") or {}).get("fps") or CLIP_RATE_HZ)
        if not math.isclose(fps, CLIP_RATE_HZ):
            warnings.warn(f"the dataset at {self.root} was built at {fps:g} fps; the captioner's clips are "
                          f"{CLIP_RATE_HZ:g} Hz: its clips span {self.clip_frames / fps:.2f} s, not "
                          f"{self.clip_frames / CLIP_RATE_HZ:.2f} s", stacklevel=2)
        self._refs: List[SampleRef] = []
        self._labels: List[Tuple[int, int, float, float]] = []
        shots: List[Tuple[str, str]] = []
        for shard in split_shards(self.root, self.index, self.split):
            refs = index_shard(shard)
            with open(shard, "rb") as handle:
                for ref in refs:
                    meta = sample_json(read_member(handle, *ref.members["json"]), ref.key)
                    labels = meta.get("labels") or {}
                    self._refs.append(ref)
                    self._labels.append((shot_size_index(labels.get("shot_size")),
                                         movement_index(labels.get("movement")),
                                         _float(labels.get("focal_length_mm")),
                                         _float(labels.get("subject_distance_m"))))
                    shots.append((str(meta.get("take_id")), str(meta.get("shot_id"))))
        starts = np.zeros(len(shots), dtype=np.int64)
        for i in range(1, len(shots)):
            starts[i] = starts[i - 1] if shots[i] == shots[i - 1] else i
        if len(set(shots)) != int(np.count_nonzero(starts == np.arange(len(shots)))):
            raise DatasetFormatError(f"split {self.split} of {self.root}: a shot's frames are not contiguous")
        self._shot_starts = starts
        self._cache: Dict[int, np.ndarray] = {}
        self._handles: Dict[Path, Any] = {}
        self._pid = os.getpid()

    def __len__(self) -> int:
        return len(self._refs)

    def key(self, index: int) -> str:
        return self._refs[index].key

    def _handle(self, shard: Path):
        if os.getpid() != self._pid:  # a DataLoader worker: file positions are not shared across a fork
            self._handles, self._pid = {}, os.getpid()
        handle = self._handles.get(shard)
        if handle is None:
            handle = self._handles[shard] = open(shard, "rb")
        return handle

    def planes(self, position: int) -> np.ndarray:
        """The stored frame at ``position`` as :func:`frame_planes` gives it (float32)."""
        cached = self._cache.get(position)
        if cached is not None:
            return cached.astype(np.float32)
        ref = self._refs[position]
        handle = self._handle(ref.shard)
        rgb = decode_rgb_png(read_member(handle, *ref.members["rgb.png"]), f"{ref.key}.rgb.png")
        depth: Optional[np.ndarray] = None
        if self.depth:
            depth = decode_depth_png(read_member(handle, *ref.members["depth.png"]), f"{ref.key}.depth.png")
        planes = frame_planes(rgb, depth)
        if self.cache:  # what comes back is the cached value every time, the first time too
            stored = self._cache[position] = planes.astype(np.float16)
            return stored.astype(np.float32)
        return planes

    def __getitem__(self, index: int) -> Dict[str, Any]:
        if not -len(self) <= index < len(self):
            raise IndexError(f"clip {index} of {len(self)}")
        index = int(index) % len(self)
        positions = clip_positions(self._shot_starts, index, self.clip_frames)
        frames = np.stack([self.planes(p) for p in positions])
        size, movement, focal, distance = self._labels[index]
        return {
            "frames": torch.from_numpy(frames),
            "shot_size": torch.tensor(size, dtype=torch.int64),
            "movement": torch.tensor(movement, dtype=torch.int64),
            "focal_mm": torch.tensor(focal, dtype=torch.float32),
            "distance_m": torch.tensor(distance, dtype=torch.float32),
            "key": self._refs[index].key,
        }

    def close(self) -> None:
        for handle in self._handles.values():
            handle.close()
        self._handles = {}

    def __del__(self) -> None:  # pragma: no cover - best effort at interpreter exit
        try:
            self.close()
        except Exception:  # noqa: BLE001
            pass
