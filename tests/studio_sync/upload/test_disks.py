"""Disks a set throws at the uploader: takes on a read-only drive, and a queue whose disk fills up.

Both use a real tmpfs where the test may mount one (root, as `make test` runs here); the
read-only case needs one (root writes through permission bits), so it is skipped elsewhere with
the reason.
"""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path

import pytest

from tests.harness.disks import mount_tmpfs, unmount

from edge.cli.main import main
from studio_sync.upload import push
from tests.studio_sync.upload.conftest import MIB, assert_studio_matches_mhl, make_rig


@pytest.fixture
def disk(tmp_path):
    mounted = []

    def make(name: str, size: str) -> Path:
        path = tmp_path / name
        if not mount_tmpfs(path, size):
            pytest.skip("cannot mount a tmpfs here (needs root)")
        mounted.append(path)
        return path

    yield make
    for path in reversed(mounted):
        unmount(path)


def _tree(folder: Path) -> dict:
    return {p.relative_to(folder).as_posix(): (p.stat().st_mtime_ns, hashlib.sha256(p.read_bytes()).hexdigest())
            for p in sorted(folder.rglob("*")) if p.is_file()}


def test_a_take_on_a_read_only_drive_uploads_and_the_drive_is_untouched(studio, tmp_path, disk):
    drive = disk("shuttle", "40m")
    rig = make_rig(studio, tmp_path / "rig")
    source = rig.take(bag_bytes=12 * MIB)
    take = drive / source.name
    subprocess.run(["cp", "-a", str(source), str(take)], check=True, timeout=30)
    done = subprocess.run(["mount", "-o", "remount,ro", str(drive)], capture_output=True, text=True, timeout=10)
    assert done.returncode == 0, done.stderr
    with pytest.raises(OSError):
        (take / "probe").write_bytes(b"x")  # the drive is read-only, even for root
    before = _tree(take)
    report = push(rig.config, [take])
    assert report.ok, report
    assert_studio_matches_mhl(rig, take)
    assert _tree(take) == before


def test_a_queue_whose_disk_fills_up_says_so_and_the_next_push_completes(studio, tmp_path, disk, capsys):
    queue_disk = disk("queue", "1m")
    rig = make_rig(studio, tmp_path / "rig", upload={"queue_path": str(queue_disk / "queue.sqlite")})
    take = rig.take(bag_bytes=12 * MIB)
    filler = queue_disk / "filler"
    with open(filler, "wb", buffering=0) as out:  # the disk full to the last block (unbuffered: no flush at close)
        try:
            while True:
                out.write(b"\0" * 4096)
                out.flush()
        except OSError:
            pass
    assert main(rig.cli("push", str(take))) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert "full" in err.lower() or "no space" in err.lower(), err
    assert not [k for k in _keys(rig) if k.endswith("bag/bag_0.mcap")], "an object went up without a queue"
    filler.unlink()
    assert main(rig.cli("push", str(take))) == 0, capsys.readouterr().err
    assert_studio_matches_mhl(rig, take)


def _keys(rig) -> list:
    page = rig.studio.client("reader").list_objects_v2(Bucket=rig.studio.bucket, Prefix=rig.prefix)
    return [o["Key"] for o in page.get("Contents", [])]
