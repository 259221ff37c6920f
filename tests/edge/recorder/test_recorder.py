"""TakeRecorder's contract: slate and state errors, take.json, drops counted, never blocking, flush interval."""

from __future__ import annotations

import importlib.util
import json
import threading
import time

import pytest

from edge.recorder import (
    DiskSpaceError,
    RecorderConfig,
    RecorderStateError,
    SlateError,
    TakeRecorder,
    read_take_json,
    validate_slate,
)
from edge.recorder.bag import BagWriter
from edge.recorder.take import LOCK_FILE, RESERVE_FILE, live_recorder_pid, parse_take_name

from .messages import BASE_NS, TOPICS, make_message
from tests.polling import wait_for

TR = "sensor_msgs/msg/TimeReference"


def _cdr(recorder, msgtype=TR, i=0):
    return recorder.types.serialize(make_message(recorder.types, msgtype, i), msgtype)


@pytest.mark.parametrize("scene, shot, take, fragment", [
    ("", "3", 4, "scene is empty"),
    ("  ", "3", 4, "scene is empty"),
    ("12", "", 4, "shot is empty"),
    ("12/a", "3", 4, "scene '12/a' cannot name a take"),
    ("12", "3_1", 4, "shot '3_1' cannot name a take"),
    ("..", "3", 4, "cannot name a take"),
    ("12", "3 b", 4, "cannot name a take"),
    ("x" * 33, "3", 4, "cannot name a take"),
    ("12", "3", 0, "between 1 and 9999"),
    ("12", "3", -2, "between 1 and 9999"),
    ("12", "3", "four", "whole number"),
    ("12", "3", True, "whole number"),
    (None, "3", 4, "scene must be text"),
])
def test_bad_slates_are_refused_with_the_reason(recorder, scene, shot, take, fragment):
    with pytest.raises(SlateError, match=fragment):
        recorder.start(scene, shot, take)
    assert not recorder.recording and not any(recorder.config.takes_dir.glob("*"))


def test_good_slates_and_folder_names_sort_by_slate_then_time():
    assert validate_slate(" 12A ", "3.1", "7").scene == "12A"
    assert validate_slate(12, 3, 4).take == 4
    assert parse_take_name("12A_3.1_007_20261105T142233Z") == validate_slate("12A", "3.1", 7)
    assert parse_take_name("notes") is None


def test_starting_while_recording_and_stopping_when_idle_are_clear_errors(recorder):
    with pytest.raises(RecorderStateError, match="no take is recording"):
        recorder.stop()
    first = recorder.start("12", "3", 4)
    with pytest.raises(RecorderStateError, match=f"take {first.name} is recording"):
        recorder.start("12", "3", 5)
    assert recorder.recording
    recorder.stop()
    with pytest.raises(RecorderStateError):
        recorder.stop()
    assert recorder.status().state == "idle"


def test_take_json_holds_slate_timecode_rig_calibration_software_and_counts(recorder, rig, clock):
    info = recorder.start("12", "3", 4, tc_in="01:00:00:00")
    assert info.name == "12_3_004_20270115T080000Z"  # clock starts at BASE_NS, 2027-01-15 08:00:00 UTC
    started = read_take_json(info.path)
    assert started["status"] == "recording" and started["master_time"]["stop_ns"] is None
    assert (info.path / LOCK_FILE).exists() and live_recorder_pid(info.path) is not None
    for i in range(30):
        assert recorder.write(TOPICS[TR], TR, _cdr(recorder, TR, i), BASE_NS + i * 10_000_000)
    recorder.note("camera B was not rolling")
    recorder.add_calibration("clock_models", {"lidar": {"offset_ns": 12}})
    done = recorder.stop(tc_out="01:00:10:00")
    doc = json.loads((info.path / "take.json").read_text())
    assert doc["format"] == "onset-take" and doc["format_version"] == 1 and doc["name"] == info.name
    assert doc["status"] == "complete" == done.status
    assert doc["slate"] == {"scene": "12", "shot": "3", "take": 4}
    assert doc["timecode"] == {"rate": rig.timecode.rate, "in": "01:00:00:00", "out": "01:00:10:00"}
    assert doc["master_time"]["start_ns"] == info.start_ns < doc["master_time"]["stop_ns"] == done.stop_ns
    assert doc["master_time"]["start_utc"].startswith("2027-01-15T08:00:00")
    assert doc["duration_s"] == pytest.approx((done.stop_ns - info.start_ns) / 1e9)
    assert doc["message_count"] == 30 and doc["topics"] == [{
        "name": TOPICS[TR], "type": TR, "message_count": 30, "first_ns": BASE_NS,
        "last_ns": BASE_NS + 29 * 10_000_000, "max_gap_ms": 10.0}]
    assert doc["bag"]["metadata_version"] == 5 and doc["bag"]["storage"] == "mcap"
    assert doc["rig"] == rig.model_dump(mode="json")
    assert doc["calibration"]["camera"]["width_px"] == rig.camera.width_px
    assert doc["calibration"]["lidars"][0]["T_rig_lidar"][2][3] == pytest.approx(rig.lidars[0].mount.xyz_m[2])
    assert doc["calibration"]["clock_models"] == {"lidar": {"offset_ns": 12}}
    for key in ("onset", "python", "rosbags", "mcap", "mcap_ros2"):
        assert doc["software"][key], key
    assert bool(doc["software"]["rclpy"]) == (importlib.util.find_spec("rclpy") is not None)
    assert doc["notes"] == ["camera B was not rolling"] and doc["errors"] == []
    assert sum(doc["dropped"].values()) == 0
    # No temp files, reserve or lock are left behind; the folder is the bag, take.json and its MHL history.
    assert sorted(p.name for p in info.path.iterdir()) == ["ascmhl", "bag", "take.json"]
    assert not (info.path / RESERVE_FILE).exists() and live_recorder_pid(info.path) is None


def test_same_slate_in_the_same_second_gets_its_own_folder(config, rig):
    recorder = TakeRecorder(config, rig, clock_ns=lambda: BASE_NS)
    a = recorder.start("1", "1", 1)
    recorder.stop()
    b = recorder.start("1", "1", 1)
    recorder.stop()
    assert a.name != b.name and b.name == a.name + "-1"


def test_bad_messages_are_counted_never_raised(recorder):
    assert recorder.write("/x", TR, b"\x00", BASE_NS) is False  # idle: not a drop, nothing recording
    recorder.start("1", "1", 1)
    data = _cdr(recorder)
    assert recorder.write("/a", "nope_msgs/msg/Nothing", data, BASE_NS) is False
    assert recorder.write("/a", TR, data, BASE_NS) is True
    assert recorder.write("/a", "sensor_msgs/msg/Image", data, BASE_NS) is False  # type changed
    assert recorder.write("no_slash", TR, data, BASE_NS) is False
    assert recorder.write("/a", TR, "text", BASE_NS) is False
    assert recorder.write("/a", TR, data, -1) is False
    assert recorder.write("/a", TR, data, 1.5) is False
    assert recorder.write_message("/tf", "tf2_msgs/msg/TFMessage", object()) is False
    assert recorder.write_message("/tf", "nope_msgs/msg/X", object()) is False
    dropped = recorder.status().dropped
    assert dropped == {"queue_full": 0, "take_failed": 0, "unknown_type": 2, "type_mismatch": 1, "bad_message": 5}
    info = recorder.stop()
    assert info.message_count == 1 and info.dropped == dropped
    assert info.notes == ("topic /a: type 'nope_msgs/msg/Nothing' is not in the recorder's typestore; "
                          "its messages were dropped",)


def test_write_never_blocks_and_a_full_queue_counts_drops(takes_dir, rig, monkeypatch):
    release = threading.Event()
    real_write = BagWriter.write

    def stalled_write(self, *args, **kwargs):
        release.wait(10.0)  # a disk that stalls
        return real_write(self, *args, **kwargs)

    monkeypatch.setattr(BagWriter, "write", stalled_write)
    config = RecorderConfig(takes_dir=takes_dir, min_free_bytes=0, queue_max_messages=5)
    with TakeRecorder(config, rig) as recorder:
        recorder.start("1", "1", 1)
        data = _cdr(recorder)
        assert recorder.write("/a", TR, data, BASE_NS)
        assert wait_for(lambda: recorder.status().queued_messages == 0)  # the writer thread holds it, stalled
        t0 = time.perf_counter()
        accepted = [recorder.write("/a", TR, data, BASE_NS + i) for i in range(1, 50)]
        elapsed = time.perf_counter() - t0
        assert accepted == [True] * 5 + [False] * 44
        assert elapsed < 0.5  # 49 calls while the disk stalls: no waiting on it
        assert recorder.status().dropped["queue_full"] == 44
        release.set()
        info = recorder.stop()
    assert info.message_count == 6 and info.dropped["queue_full"] == 44


def test_queue_is_bounded_in_bytes_too(takes_dir, rig, monkeypatch):
    release = threading.Event()
    real_write = BagWriter.write
    monkeypatch.setattr(BagWriter, "write", lambda self, *a, **k: (release.wait(10.0), real_write(self, *a, **k))[1])
    config = RecorderConfig(takes_dir=takes_dir, min_free_bytes=0, queue_max_bytes=1 << 20)
    with TakeRecorder(config, rig) as recorder:
        recorder.start("1", "1", 1)
        big = _cdr(recorder, "sensor_msgs/msg/Image") + bytes(300_000)
        results = [recorder.write("/img", "sensor_msgs/msg/Image", big, BASE_NS + i) for i in range(8)]
        release.set()
        info = recorder.stop()
    # One is in the stalled writer's hands, three fit in 1 MiB, the rest are dropped.
    assert results.count(True) in (3, 4) and info.dropped["queue_full"] == results.count(False)


def test_a_chunk_still_filling_reaches_the_disk_on_the_flush_interval(takes_dir, rig):
    config = RecorderConfig(takes_dir=takes_dir, min_free_bytes=0, flush_interval_s=0.05)
    with TakeRecorder(config, rig) as recorder:
        info = recorder.start("1", "1", 1)
        for i in range(3):
            recorder.write("/a", TR, _cdr(recorder, TR, i), BASE_NS + i)
        # 3 small messages are far below the 1 MiB chunk: only the interval can write them.
        assert wait_for(lambda: recorder.status().take.flushed_messages == 3)
        assert recorder.status().take.chunks == 1
        assert (info.path / "bag" / "bag_0.mcap").stat().st_size > 3 * 60


def test_start_below_the_free_space_floor_is_refused_and_leaves_nothing(takes_dir, rig):
    config = RecorderConfig(takes_dir=takes_dir, min_free_bytes=1 << 60)
    recorder = TakeRecorder(config, rig)
    with pytest.raises(DiskSpaceError, match="below the .* floor"):
        recorder.start("1", "1", 1)
    assert not recorder.recording and list(takes_dir.iterdir()) == []


def test_topics_that_stop_are_noted_in_take_json(config, rig):
    now = {"t": BASE_NS}
    recorder = TakeRecorder(config, rig, clock_ns=lambda: now["t"])
    info = recorder.start("1", "1", 1)
    for i in range(50):
        recorder.write("/steady", TR, _cdr(recorder, TR, i), BASE_NS + i * 100_000_000)
        if i < 10:
            recorder.write("/dies", TR, _cdr(recorder, TR, i), BASE_NS + i * 100_000_000)
    now["t"] = BASE_NS + 5 * 1_000_000_000
    done = recorder.stop()
    assert done.notes == ("topic /dies stopped 4.1 s before the end of the take",)
    assert read_take_json(info.path)["notes"] == list(done.notes)


def test_status_reports_the_take_and_the_disk(recorder):
    assert recorder.status().state == "idle" and recorder.status().take is None
    info = recorder.start("1", "1", 1)
    recorder.write("/a", TR, _cdr(recorder), BASE_NS)
    status = recorder.status()
    assert status.state == "recording" and status.take.name == info.name and status.free_bytes > 0
    body = json.dumps(status.to_dict())  # the control API sends it as JSON
    assert info.name in body
    recorder.stop()
    assert recorder.status().take.status == "complete"


def test_chunks_are_fsynced_on_the_fsync_interval_even_when_the_take_goes_quiet(takes_dir, rig, monkeypatch):
    synced = []
    real_fsync = BagWriter.fsync
    monkeypatch.setattr(BagWriter, "fsync", lambda self: (synced.append(self.messages_flushed), real_fsync(self)))
    config = RecorderConfig(takes_dir=takes_dir, min_free_bytes=0, chunk_size_bytes=1024, fsync_interval_s=0.2)
    with TakeRecorder(config, rig) as recorder:
        recorder.start("1", "1", 1)
        for i in range(40):
            recorder.write("/a", TR, _cdr(recorder, TR, i), BASE_NS + i)
        assert wait_for(lambda: recorder.status().take.flushed_messages >= 35)
        flushed = recorder.status().take.flushed_messages
        # Nothing more arrives: the chunks already written still reach the disk within the interval.
        assert wait_for(lambda: synced and synced[-1] == flushed)
        assert len(synced) <= 3  # at most every 0.2 s, not after each of the ~10 chunks
