"""The recorder seals every take it closes (the rig's studio.custody), and every take it recovers;
a failure to seal is kept in take.json and never costs the take."""

from __future__ import annotations

import json
import logging

import pytest

from config import load_profile
from config.studio import CustodyConfig
from edge.recorder import RecorderConfig, TakeRecorder, read_take_json, recover_take
from edge.recorder.bag import BagWriter
from studio_sync.custody import CustodyError, verify_take
from studio_sync.custody import seal as seal_module
from tests.edge.recorder.conftest import ManualClock
from tests.edge.recorder.messages import BASE_NS, TOPICS, make_message
from tests.polling import wait_for

from .mhl import author, file_hashes, generation_files

TR = "sensor_msgs/msg/TimeReference"


@pytest.fixture(scope="module")
def profile():
    return load_profile()


def _rig(profile, **custody):
    studio = profile.studio.model_copy(update={"custody": CustodyConfig(**custody)})
    return profile.model_copy(update={"studio": studio})


def _record(tmp_path, rig, messages: int = 20):
    config = RecorderConfig(takes_dir=tmp_path / "takes", chunk_size_bytes=4096, min_free_bytes=0, fsync_interval_s=0.0)
    recorder = TakeRecorder(config, rig, clock_ns=ManualClock())
    try:
        info = recorder.start("12", "3", 4)
        for i in range(messages):
            data = recorder.types.serialize(make_message(recorder.types, TR, i), TR)
            assert recorder.write(TOPICS[TR], TR, data, BASE_NS + i * 10_000_000)
        done = recorder.stop()
    finally:
        recorder.close()
    return info.path, done


@pytest.mark.parametrize("fmt", ["xxh64", "xxh128"])
def test_a_recorded_take_closes_sealed(tmp_path, profile, fmt):
    take, done = _record(tmp_path, _rig(profile, hash_format=fmt, author="Jo Wrangler"))
    assert done.status == "complete"
    assert sorted(p.name for p in take.iterdir()) == ["ascmhl", "bag", "take.json"]
    (gen1,) = generation_files(take)
    recorded = file_hashes(gen1)
    assert sorted(recorded) == ["bag/bag_0.mcap", "bag/metadata.yaml", "take.json"]
    assert all(set(hashes) == {fmt} for hashes in recorded.values())
    assert author(gen1) == "Jo Wrangler"
    doc = read_take_json(take)
    assert doc["status"] == "complete" and doc["errors"] == []
    # take.json was final before it was sealed: nothing rewrote it afterwards.
    assert verify_take(take).ok


def test_no_seal_when_the_rig_says_so_or_there_is_no_rig(tmp_path, profile):
    take, _ = _record(tmp_path / "off", _rig(profile, on_close=False))
    assert not (take / "ascmhl").exists()
    take, _ = _record(tmp_path / "none", None)
    assert not (take / "ascmhl").exists()


def test_a_failed_seal_is_kept_in_take_json_and_the_take_stays(tmp_path, profile, monkeypatch, caplog):
    def broken(*args, **kwargs):
        raise CustodyError("the drive went read-only")

    monkeypatch.setattr(seal_module, "seal_take", broken)
    with caplog.at_level(logging.ERROR, logger="studio_sync.custody.hook"):
        take, done = _record(tmp_path, _rig(profile))
    assert done.status == "complete" and not (take / "ascmhl").exists()
    doc = read_take_json(take)
    assert doc["status"] == "complete" and doc["message_count"] == 20
    (error,) = doc["errors"]
    assert "ASC MHL history was not written: the drive went read-only" in error["message"]
    assert f"onset sync seal {take.name}" in error["message"]
    assert any("the drive went read-only" in r.getMessage() for r in caplog.records)


def test_a_take_whose_bag_failed_is_sealed_once_recovered(tmp_path, profile, monkeypatch):
    config = RecorderConfig(takes_dir=tmp_path / "takes", chunk_size_bytes=1024, min_free_bytes=0,
                            fsync_interval_s=0.0, flush_interval_s=0.01)
    recorder = TakeRecorder(config, _rig(profile), clock_ns=ManualClock())
    real_write = BagWriter.write
    calls = []

    def failing(self, *args, **kwargs):
        calls.append(1)
        if len(calls) > 12:
            raise OSError(28, "No space left on device")
        return real_write(self, *args, **kwargs)

    monkeypatch.setattr(BagWriter, "write", failing)
    try:
        info = recorder.start("12", "3", 5)
        for i in range(40):
            recorder.write(TOPICS[TR], TR, recorder.types.serialize(make_message(recorder.types, TR, i), TR),
                           BASE_NS + i * 10_000_000)
            if recorder.status().state == "failed":
                break
        assert wait_for(lambda: recorder.status().state == "failed")
        assert recorder.stop().status == "failed"
    finally:
        recorder.close()
    # A torn bag is not sealed at stop: recovery will rewrite it.
    assert not (info.path / "ascmhl").exists()
    monkeypatch.setattr(BagWriter, "write", real_write)
    report = recover_take(info.path)
    assert report.action == "recovered"
    assert generation_files(info.path) and verify_take(info.path).ok


def test_a_crashed_take_is_sealed_when_recovered(tmp_path, profile):
    take, _ = _record(tmp_path, _rig(profile, on_close=False), messages=200)
    # What a killed recorder leaves: a bag cut inside a chunk, no metadata.yaml, take.json still recording.
    mcap = take / "bag" / "bag_0.mcap"
    mcap.write_bytes(mcap.read_bytes()[: mcap.stat().st_size * 2 // 3])
    (take / "bag" / "metadata.yaml").unlink()
    doc = json.loads((take / "take.json").read_text())
    doc["status"] = "recording"
    doc["rig"]["studio"]["custody"]["on_close"] = True  # the rig it was recorded with seals on close
    (take / "take.json").write_text(json.dumps(doc))
    assert recover_take(take).action == "recovered"
    (gen1,) = generation_files(take)
    assert "bag/bag_0.mcap.partial" in file_hashes(gen1)
    assert read_take_json(take)["status"] == "recovered" and verify_take(take).ok
    assert recover_take(take).action == "nothing to do" and len(generation_files(take)) == 1
