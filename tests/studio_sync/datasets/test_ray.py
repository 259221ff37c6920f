"""The same dataset from a local Ray instance as from this process, byte for byte; no Ray process left behind."""

from __future__ import annotations

import shutil
import sys
import time

import psutil
import pytest

from edge.cli.main import main
from studio_sync.datasets import DatasetQuery, build_studio_dataset
from tests.studio_sync.datasets.conftest import OPTIONS
from tests.studio_sync.datasets.samples import file_digests

ray = pytest.importorskip("ray")

pytestmark = pytest.mark.slow


class _RayWatch:
    """Notes, when the build first reports, every process Ray started for it and how much memory they hold."""

    def __init__(self) -> None:
        self.before = {p.pid for p in psutil.Process().children(recursive=True)}
        self.began = time.monotonic()
        self.first_report_s = None
        self.processes = []
        self.rss_mib = 0.0

    def __call__(self, stage: str, take: str, count: int) -> None:
        if self.first_report_s is not None:
            return
        self.first_report_s = time.monotonic() - self.began
        self.processes = [p for p in psutil.Process().children(recursive=True) if p.pid not in self.before]
        self.rss_mib = sum(p.memory_info().rss for p in self.processes if p.is_running()) / float(1 << 20)

    def left_running(self):
        """The pids of Ray's processes still running 30 s after the build (killed, then named)."""
        started = self.processes or [p for p in psutil.Process().children(recursive=True) if p.pid not in self.before]
        gone, alive = psutil.wait_procs(started, timeout=30)
        for p in alive:
            try:
                p.kill()
            except psutil.NoSuchProcess:
                pass
        return [p.pid for p in alive]


def test_a_ray_build_is_the_local_build_byte_for_byte(studio, studio_build, tmp_path):
    assert not ray.is_initialized()
    watch = _RayWatch()
    try:
        report = build_studio_dataset(studio.config, studio.selection(DatasetQuery()), tmp_path / "ds", OPTIONS,
                                      engine="ray", ray_cpus=2, ray_init={"object_store_memory": 100 << 20},
                                      cache=tmp_path / "cache", progress=watch)
    finally:
        left = watch.left_running()
    elapsed = time.monotonic() - watch.began
    print(f"ray build: {elapsed:.1f} s, first take back after {watch.first_report_s:.1f} s; "
          f"{len(watch.processes)} Ray processes holding {watch.rss_mib:.0f} MiB")
    assert watch.processes, "the build started no Ray process"
    assert left == [] and not ray.is_initialized()
    assert report.engine == "ray"
    assert all(f.downloaded and not f.reused for f in report.fetched)  # each task fetched its take itself
    ours, theirs = file_digests(report.root), file_digests(studio_build.root)
    assert sorted(ours) == sorted(theirs) and ours == theirs


def test_the_command_line_with_ray_builds_the_same_frame_selection(studio, tmp_path, capsys, monkeypatch):
    out = tmp_path / "ds"
    argv = ["studio", "dataset", "build", "--profile", str(studio.running.profile), "--catalogue",
            studio.catalogue_url, "--out", str(out), "--phrase", "static", "--shard-samples", "8"]
    monkeypatch.setattr(sys, "argv", ["onset", *argv])
    assert main([*argv, "--cache", str(tmp_path / "cache-local")]) == 0
    local = tmp_path / "local"
    shutil.move(str(out), str(local))
    capsys.readouterr()
    ray_argv = [*argv, "--ray", "--ray-cpus", "2", "--cache", str(tmp_path / "cache-ray"), "--progress"]
    monkeypatch.setattr(sys, "argv", ["onset", *ray_argv])
    watch = _RayWatch()
    try:
        assert main(ray_argv) == 0
    finally:
        left = watch.left_running()
    assert "(ray;" in capsys.readouterr().out
    assert left == [] and not ray.is_initialized()
    assert file_digests(out) == file_digests(local)
