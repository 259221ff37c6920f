"""A full disk stops the take with a clear error, the recorder keeps taking writes, earlier takes stay whole.

The disk is a real 3 MiB tmpfs where the test may mount one (root); everywhere it also runs with
the MCAP file's writes failing with ENOSPC past 1 MiB, which is what a full disk looks like to the
recorder.
"""

from __future__ import annotations

import errno
import io
import os

import numpy as np
import pytest

from tests.harness.disks import mount_tmpfs, unmount

from edge.recorder import DiskSpaceError, RecorderConfig, TakeRecorder, bag_is_complete, read_take_json
from edge.recorder import bag as bag_module

from .messages import BASE_NS, READERS, TOPICS, make_message, plain
from tests.polling import wait_for

IMAGE = "sensor_msgs/msg/Image"
TR = "sensor_msgs/msg/TimeReference"
_SIMULATED_LIMIT_BYTES = 1 << 20


class _SmallDiskFile(io.BufferedWriter):
    """An MCAP file on a disk with ``_SIMULATED_LIMIT_BYTES`` left: later writes fail with ENOSPC."""

    def write(self, data) -> int:
        if self.tell() + len(data) > _SIMULATED_LIMIT_BYTES:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return super().write(data)


@pytest.fixture(params=["tmpfs", "simulated"])
def small_disk(request, tmp_path, monkeypatch):
    """(takes folder, kind) on a disk that fills up after about a megabyte or three."""
    if request.param == "tmpfs":
        mount = tmp_path / "disk"
        if not mount_tmpfs(mount, "3m"):
            pytest.skip("cannot mount a tmpfs here (needs root); the simulated full disk covers this case")
        yield mount / "takes", "tmpfs"
        unmount(mount)
    else:
        monkeypatch.setattr(bag_module, "_open_for_write",
                            lambda path: _SmallDiskFile(io.FileIO(str(path), "xb")))
        yield tmp_path / "takes", "simulated"


def _image(recorder, i, pad=40_000):
    msg = make_message(recorder.types, IMAGE, i)
    # A bigger frame: the disk fills in a few dozen writes.
    msg = type(msg)(header=msg.header, height=1, width=pad // 3, encoding="rgb8", is_bigendian=0,
                    step=pad // 3 * 3, data=np.resize(np.arange(256, dtype=np.uint8), pad // 3 * 3))
    return msg


def test_a_full_disk_fails_the_take_clearly_and_keeps_earlier_takes(small_disk, rig):
    takes_dir, kind = small_disk
    config = RecorderConfig(takes_dir=takes_dir, chunk_size_bytes=64 * 1024, min_free_bytes=0,
                            reserve_bytes=64 * 1024, flush_interval_s=0.05)
    recorder = TakeRecorder(config, rig)
    first = recorder.start("3", "1", 1)
    small = [make_message(recorder.types, TR, i) for i in range(20)]
    for i, msg in enumerate(small):
        assert recorder.write_message(TOPICS[TR], TR, msg, BASE_NS + i)
    assert recorder.stop().status == "complete"

    second = recorder.start("3", "1", 2)
    i = 0
    while recorder.recording and i < 400:
        # False only once the writer has failed (it may do so between the check and this call).
        recorder.write_message(TOPICS[IMAGE], IMAGE, _image(recorder, i), BASE_NS + i * 1_000_000)
        i += 1
        if i % 10 == 0:
            wait_for(lambda: recorder.status().queued_messages == 0, 5.0)  # let the writer reach the disk
    assert wait_for(lambda: recorder.status().state == "failed", 20.0), "the disk never filled"
    status = recorder.status()
    assert status.dropped["bad_message"] == status.dropped["queue_full"] == 0
    assert "No space left on device (ENOSPC)" in status.error and "recording stopped" in status.error
    assert status.take.status == "failed" and not recorder.recording

    # The node keeps previewing: writes are accepted without raising and counted as dropped.
    before = status.dropped["take_failed"]
    for j in range(25):
        assert recorder.write_message(TOPICS[IMAGE], IMAGE, _image(recorder, j), BASE_NS) is False
        assert recorder.write(TOPICS[TR], TR, b"\x00\x01\x00\x00", BASE_NS) is False
    assert recorder.status().dropped["take_failed"] == before + 50

    # take.json says so (the writer thread rewrites it just after it fails), in the space the take held in reserve.
    assert wait_for(lambda: read_take_json(second.path)["status"] == "failed", 20.0)
    assert "take.json could not be updated" not in recorder.status().error
    doc = read_take_json(second.path)
    assert doc["status"] == "failed" and "ENOSPC" in doc["errors"][-1]["message"]
    assert doc["message_count"] == recorder.status().take.flushed_messages
    info = recorder.stop()
    assert info.status == "failed" and read_take_json(second.path)["status"] == "failed"
    assert not bag_is_complete(second.path / "bag", "bag_0.mcap")

    # Nothing earlier is damaged.
    assert read_take_json(first.path)["status"] == "complete"
    for reader in READERS.values():
        assert [m for _, _, _, m in reader(first.path)] == [plain(m) for m in small]
    if kind == "tmpfs":
        # And no new take starts on a disk with no room left.
        with pytest.raises(DiskSpaceError):
            recorder.start("3", "1", 3)


def test_the_free_space_floor_stops_recording_with_a_complete_bag(tmp_path, rig):
    mount = tmp_path / "disk"
    if not mount_tmpfs(mount, "3m"):
        pytest.skip("cannot mount a tmpfs here (needs root) to put a floor under")
    try:
        config = RecorderConfig(takes_dir=mount / "takes", chunk_size_bytes=32 * 1024, min_free_bytes=1 << 20,
                                reserve_bytes=32 * 1024)
        recorder = TakeRecorder(config, rig)
        take = recorder.start("4", "1", 1)
        i = 0
        while recorder.recording and i < 400:
            recorder.write_message(TOPICS[IMAGE], IMAGE, _image(recorder, i), BASE_NS + i * 1_000_000)
            i += 1
            if i % 10 == 0:
                wait_for(lambda: recorder.status().queued_messages == 0, 5.0)
        assert wait_for(lambda: recorder.status().state == "failed", 20.0)
        error = recorder.status().error
        assert "below the 1.0 MB floor" in error and "the bag up to here is complete" in error
        assert recorder.write_message(TOPICS[IMAGE], IMAGE, _image(recorder, 0), BASE_NS) is False
        info = recorder.stop()
        assert info.status == "failed" and info.message_count > 0
        assert bag_is_complete(take.path / "bag", "bag_0.mcap")
        for reader in READERS.values():
            assert len(reader(take.path)) == info.message_count
        assert read_take_json(take.path)["status"] == "failed"
    finally:
        unmount(mount)
