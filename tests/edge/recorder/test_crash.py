"""SIGKILL mid-take: earlier takes intact, the killed one readable up to its last complete chunk after recovery."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from edge.recorder import (
    RecorderConfig,
    RecoveryError,
    TakeRecorder,
    bag_is_complete,
    list_takes,
    read_take_json,
    recover_all,
    recover_take,
)
from edge.recorder.typestore import MessageTypes

from .crash_child import MSGTYPES, TAKE1_MESSAGES
from .messages import BASE_NS, READERS, TOPICS, make_message, plain

REPO = Path(__file__).resolve().parents[3]
_TYPES = MessageTypes()


def _expected(n: int, start: int = 0):
    out = []
    for i in range(start, start + n):
        msgtype = MSGTYPES[i % len(MSGTYPES)]
        out.append((TOPICS[msgtype], msgtype, BASE_NS + i * 1_000_000, plain(make_message(_TYPES, msgtype, i))))
    return out


def _run_child(takes_dir: Path, mode: str, until, timeout_s: float = 40.0):
    """Start the recording child, read its lines until ``until(lines)`` holds, SIGKILL it; its lines."""
    child = subprocess.Popen([sys.executable, "-m", "tests.edge.recorder.crash_child", str(takes_dir), mode],
                             cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lines = []
    deadline = time.monotonic() + timeout_s
    try:
        while time.monotonic() < deadline:
            line = child.stdout.readline()
            if not line:
                break
            lines.append(line.split())
            if until(lines):
                os.kill(child.pid, signal.SIGKILL)
                break
        else:
            pytest.fail(f"the recording child did not get there in {timeout_s} s: {lines[-3:]}")
    finally:
        if child.poll() is None:
            child.kill()
        _, err = child.communicate(timeout=10)
    assert child.returncode == -signal.SIGKILL, f"child ended by itself ({child.returncode}): {err[-2000:]}"
    return lines


def _take_folder(takes_dir: Path, lines, tag: str) -> Path:
    return takes_dir / next(line[1] for line in lines if line[0] == tag)


def _assert_killed_take_is_not_a_valid_bag(take: Path):
    from mcap.reader import make_reader
    from rosbags.highlevel import AnyReader
    from rosbags.rosbag2 import ReaderError

    assert not bag_is_complete(take / "bag", "bag_0.mcap")
    with pytest.raises((ReaderError, FileNotFoundError), match="metadata"):
        with AnyReader([take / "bag"]):
            pass
    with open(take / "bag" / "bag_0.mcap", "rb") as f:
        try:
            summary = make_reader(f).get_summary()
        except Exception:  # noqa: BLE001 - no footer: mcap may refuse as well as return nothing
            summary = None
    assert summary is None
    assert read_take_json(take)["status"] == "recording"
    assert [t.status for t in list_takes(take.parent) if t.name == take.name] == ["interrupted"]


def _assert_take1_intact(take1: Path):
    assert read_take_json(take1)["status"] == "complete"
    for reader in READERS.values():
        assert reader(take1) == _expected(TAKE1_MESSAGES)


def test_sigkill_keeps_every_complete_chunk_exactly(tmp_path):
    takes_dir = tmp_path / "takes"
    lines = _run_child(takes_dir, "exact", lambda ls: ls[-1][0] == "ready")
    flushed, written = int(lines[-1][1]), int(lines[-1][2])
    assert 0 < flushed < written  # some messages were in the chunk still filling when the process died
    take1, take2 = _take_folder(takes_dir, lines, "take1"), _take_folder(takes_dir, lines, "take2")
    _assert_take1_intact(take1)
    _assert_killed_take_is_not_a_valid_bag(take2)

    report = recover_take(take2)
    assert report.action == "recovered" and report.messages == flushed and report.chunks >= 3
    assert bag_is_complete(take2 / "bag", "bag_0.mcap")
    for reader in READERS.values():
        assert reader(take2) == _expected(flushed)
    doc = read_take_json(take2)
    assert doc["status"] == "recovered" and doc["message_count"] == flushed
    assert doc["recovery"]["previous_status"] == "recording" and doc["recovery"]["chunks"] == report.chunks
    assert (take2 / doc["recovery"]["original_file"]).stat().st_size == report.bytes_kept + report.bytes_discarded
    assert sum(t["message_count"] for t in doc["topics"]) == flushed
    assert doc["master_time"]["stop_ns"] == BASE_NS + (flushed - 1) * 1_000_000
    assert sorted(p.name for p in take2.iterdir()) == ["ascmhl", "bag", "take.json"]
    assert recover_take(take2).action == "nothing to do"
    _assert_take1_intact(take1)


def test_sigkill_while_writing_continuously_leaves_a_recoverable_prefix(tmp_path):
    takes_dir = tmp_path / "takes"
    lines = _run_child(takes_dir, "continuous", lambda ls: ls[-1][0] == "flushed" and int(ls[-1][1]) >= 150)
    logged_flushed = max(int(line[1]) for line in lines if line[0] == "flushed")
    take1, take2 = _take_folder(takes_dir, lines, "take1"), _take_folder(takes_dir, lines, "take2")
    _assert_take1_intact(take1)
    _assert_killed_take_is_not_a_valid_bag(take2)

    reports = recover_all(takes_dir)
    assert [r.take.name for r in reports] == [take2.name]
    recovered = reports[0].messages
    # Everything the child saw on disk before the kill, maybe a chunk more; never a message it did not write.
    assert recovered >= logged_flushed
    for reader in READERS.values():
        assert reader(take2) == _expected(recovered)
    assert recover_all(takes_dir) == []


def test_recovery_refuses_a_take_that_a_live_recorder_holds(tmp_path, rig):
    with TakeRecorder(RecorderConfig(takes_dir=tmp_path, min_free_bytes=0), rig) as recorder:
        info = recorder.start("1", "1", 1)
        with pytest.raises(RecoveryError, match="being recorded by a running process"):
            recover_take(info.path)
        assert [r.action for r in recover_all(tmp_path)] == ["skipped"]
        assert recorder.stop().status == "complete"
    assert recover_take(info.path).action == "nothing to do"


# -- truncation at every offset ---------------------------------------------------------------------------
N_TRUNC = 80


@pytest.fixture(scope="module")
def complete_take(tmp_path_factory):
    takes_dir = tmp_path_factory.mktemp("trunc")
    with TakeRecorder(RecorderConfig(takes_dir=takes_dir, chunk_size_bytes=2048, min_free_bytes=0)) as recorder:
        info = recorder.start("9", "9", 9)
        for topic, msgtype, t_ns, _ in _expected(N_TRUNC):
            i = (t_ns - BASE_NS) // 1_000_000
            data = recorder.types.serialize(make_message(recorder.types, msgtype, i), msgtype)
            recorder.write(topic, msgtype, data, t_ns)
        recorder.stop()
    from mcap.reader import make_reader

    with open(info.path / "bag" / "bag_0.mcap", "rb") as f:
        chunks = make_reader(f).get_summary().chunk_indexes
    # (start and end offsets of the chunk record, messages up to and including this chunk)
    bounds = []
    for c in sorted(chunks, key=lambda c: c.chunk_start_offset):
        upto = sum(1 for _, _, t, _ in _expected(N_TRUNC) if t <= c.message_end_time)
        bounds.append((c.chunk_start_offset, c.chunk_start_offset + c.chunk_length, upto))
    return info.path, bounds


def _killed_copy(take: Path, dest: Path, cut: int, flip_at: int = -1) -> Path:
    copy = dest / take.name
    shutil.copytree(take, copy)
    mcap_path = copy / "bag" / "bag_0.mcap"
    data = bytearray(mcap_path.read_bytes()[:cut])
    if 0 <= flip_at < len(data):
        data[flip_at] ^= 0xFF
    mcap_path.write_bytes(bytes(data))
    (copy / "bag" / "metadata.yaml").unlink()
    doc = json.loads((copy / "take.json").read_text())
    doc["status"] = "recording"
    (copy / "take.json").write_text(json.dumps(doc))
    return copy


@settings(max_examples=30)
@given(cut_fraction=st.floats(0.0, 1.0))
def test_a_bag_cut_anywhere_recovers_exactly_its_complete_chunks(complete_take, cut_fraction):
    take, bounds = complete_take
    size = (take / "bag" / "bag_0.mcap").stat().st_size
    cut = int(cut_fraction * size)
    want = max([n for _, end, n in bounds if end <= cut], default=0)
    with tempfile.TemporaryDirectory() as tmp:
        copy = _killed_copy(take, Path(tmp), cut)
        report = recover_take(copy)
        assert report.messages == want
        assert READERS["rosbags"](copy) == _expected(want)
        assert READERS["mcap+mcap_ros2"](copy) == _expected(want)


def test_a_damaged_chunk_ends_the_recovery_at_the_chunk_before(complete_take, tmp_path):
    take, bounds = complete_take
    # Flip a byte inside the third chunk's data: its CRC no longer matches.
    kept = bounds[1][2]
    third_start, third_end, _ = bounds[2]
    copy = _killed_copy(take, tmp_path, bounds[-1][1], flip_at=third_end - 20)
    report = recover_take(copy)
    # Everything up to the damaged chunk (the second chunk's message indexes included) is kept.
    assert report.messages == kept and report.chunks == 2 and report.bytes_kept == third_start
    assert READERS["rosbags"](copy) == _expected(kept)


def test_a_file_that_is_not_mcap_is_refused_and_kept(tmp_path, complete_take):
    take, _ = complete_take
    copy = _killed_copy(take, tmp_path, 0)
    (copy / "bag" / "bag_0.mcap").write_bytes(b"not an mcap file at all")
    with pytest.raises(RecoveryError, match="not an MCAP file"):
        recover_take(copy)
    assert (copy / "bag" / "bag_0.mcap").read_bytes() == b"not an mcap file at all"
    assert not list((copy / "bag").glob("*.recovering"))
