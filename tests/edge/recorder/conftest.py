"""Fixtures of the recorder tests: a rig, a small-chunk config in a temp folder, a manual master clock."""

from __future__ import annotations

import argparse
import itertools
from pathlib import Path
from typing import Callable, List

import pytest

from config import load_profile
from edge.recorder import RecorderConfig, TakeRecorder

from .messages import BASE_NS


@pytest.fixture(scope="session")
def rig():
    return load_profile()


@pytest.fixture
def takes_dir(tmp_path: Path) -> Path:
    return tmp_path / "takes"


@pytest.fixture
def config(takes_dir: Path) -> RecorderConfig:
    # Small chunks so a few messages make several; no free-space floor on the shared test disk.
    return RecorderConfig(takes_dir=takes_dir, chunk_size_bytes=4096, min_free_bytes=0, fsync_interval_s=0.0)


class ManualClock:
    """Master clock the test moves: each reading advances it by ``step_ns``."""

    def __init__(self, start_ns: int = BASE_NS, step_ns: int = 1_000_000) -> None:
        self._counter = itertools.count()
        self.start_ns, self.step_ns = start_ns, step_ns

    def __call__(self) -> int:
        return self.start_ns + next(self._counter) * self.step_ns


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def recorder(config: RecorderConfig, rig, clock) -> TakeRecorder:
    rec = TakeRecorder(config, rig, clock_ns=clock)
    yield rec
    rec.close()


@pytest.fixture
def onset_cli() -> Callable[[List[str]], int]:
    """Runs ``onset take ...`` / ``onset takes ...`` through the two command groups' own parsers."""
    from edge.cli import take_cmd, takes_cmd

    def run(argv: List[str]) -> int:
        parser = argparse.ArgumentParser(prog="onset")
        groups = parser.add_subparsers(dest="group")
        groups.required = True
        take_cmd.register(groups)
        takes_cmd.register(groups)
        args = parser.parse_args(argv)
        return int(args.run(args) or 0)

    return run
