"""Fixtures of the custody tests: small synthetic take folders built in a temp folder."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Callable, Optional

import pytest

TAKE_NAME = "12_3_004_20270115T080000Z"


def write_take(folder: Path, bag_bytes: int = 1_200_000, status: str = "complete", seed: int = 0) -> Path:
    """A take folder as the recorder leaves it: take.json, bag/bag_0.mcap (seeded bytes), bag/metadata.yaml."""
    (folder / "bag").mkdir(parents=True)
    (folder / "bag" / "bag_0.mcap").write_bytes(random.Random(seed).randbytes(bag_bytes))
    (folder / "bag" / "metadata.yaml").write_text("rosbag2_bagfile_information:\n  version: 5\n  message_count: 0\n")
    doc = {"format": "onset-take", "format_version": 1, "name": folder.name, "status": status,
           "bag": {"path": "bag", "file": "bag_0.mcap", "storage": "mcap"}, "notes": [], "errors": []}
    (folder / "take.json").write_text(json.dumps(doc, indent=2) + "\n")
    return folder


@pytest.fixture
def takes_dir(tmp_path: Path) -> Path:
    path = tmp_path / "takes"
    path.mkdir()
    return path


@pytest.fixture
def make_take(takes_dir: Path) -> Callable[..., Path]:
    """``make_take(name=..., bag_bytes=..., status=..., seed=...)``: a new take folder in ``takes_dir``."""

    def make(name: str = TAKE_NAME, parent: Optional[Path] = None, **kwargs) -> Path:
        return write_take((parent or takes_dir) / name, **kwargs)

    return make


@pytest.fixture
def take(make_take) -> Path:
    return make_take()
