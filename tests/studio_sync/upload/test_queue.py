"""The upload queue: its state machine, what survives a reopen, a kill at any instant, and a second push."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time

import pytest

from studio_sync.upload import (
    SCHEMA_VERSION,
    ObjectState,
    PlannedObject,
    QueueBusyError,
    QueueError,
    StoredPart,
    TakePlan,
    TakeState,
    UploadQueue,
    lock_holder,
    queue_lock,
)
from tests.studio_sync.upload.conftest import REPO


def _plan(name="A_take", bag=12_000_000, digest="0" * 16, bucket="onset-takes", extra=()):
    objects = (PlannedObject("bag/bag_0.mcap", bag, 1, "xxh64", digest, f"takes/{name}/bag/bag_0.mcap"),
               PlannedObject("take.json", 200, 1, "xxh64", "1" * 16, f"takes/{name}/take.json"), *extra)
    return TakePlan(name, f"/takes/{name}", "http://127.0.0.1:8333", bucket, "takes/", 1, f"0001_{name}.mhl", objects)


def test_a_take_goes_through_its_states_and_survives_a_reopen(tmp_path):
    path = tmp_path / "q" / "queue.sqlite"
    with UploadQueue(path) as queue:
        take = queue.enqueue(_plan())
        assert (take.state, take.bytes_total, take.bytes_sent, take.files_total) == (TakeState.QUEUED, 12_000_200, 0, 2)
        bag, meta = queue.objects(take.id)
        assert [bag.rel, meta.rel] == ["bag/bag_0.mcap", "take.json"]
        queue.set_take_state(take.id, TakeState.UPLOADING)
        queue.start_upload(bag.id, "up-1", 5_000_000)
        queue.record_parts(bag.id, [StoredPart("up-1", 1, 0, 5_000_000, "a" * 32, "a" * 32)])
        assert queue.take("A_take").bytes_sent == 5_000_000
    with UploadQueue(path) as queue:  # everything above was committed
        take = queue.take("A_take")
        assert take.state is TakeState.UPLOADING and take.started_utc is not None
        bag = queue.objects(take.id)[0]
        assert (bag.state, bag.upload_id, bag.part_size) == (ObjectState.UPLOADING, "up-1", 5_000_000)
        assert list(queue.parts(bag.id)) == [1]
        queue.object_uploaded(bag.id, "etag-3")
        queue.object_verified(bag.id)
        queue.object_verified(queue.objects(take.id)[1].id)
        queue.set_take_state(take.id, TakeState.VERIFIED)
        take = queue.take("A_take")
        assert (take.state, take.bytes_sent, take.files_verified, take.reason) == (TakeState.VERIFIED, 12_000_200, 2,
                                                                                   None)
        assert take.finished_utc is not None
        assert queue.parts(bag.id) == {}  # a finished object keeps no parts


def test_queueing_again_keeps_unchanged_objects_and_retires_changed_uploads(tmp_path):
    with UploadQueue(tmp_path / "queue.sqlite") as queue:
        take = queue.enqueue(_plan())
        bag, meta = queue.objects(take.id)
        queue.start_upload(bag.id, "up-1", 5_000_000)
        queue.record_parts(bag.id, [StoredPart("up-1", 1, 0, 5_000_000, "a" * 32, "a" * 32)])
        queue.set_take_state(take.id, TakeState.FAILED, "bag/bag_0.mcap changed since it was sealed")
        # Same bytes: the upload id and its parts are kept, the take is queued again, its reason gone.
        again = queue.enqueue(_plan())
        assert (again.state, again.reason, again.bytes_sent) == (TakeState.QUEUED, None, 5_000_000)
        assert queue.objects(take.id)[0].upload_id == "up-1"
        assert queue.stale_uploads() == []
        # Other bytes (a new digest): that object starts over and its upload is remembered for aborting.
        changed = queue.enqueue(_plan(digest="f" * 16, extra=(
            PlannedObject("captions.json", 10, 1, "xxh64", "2" * 16, "takes/A_take/captions.json"),)))
        bag = queue.objects(take.id)[0]
        assert (bag.state, bag.upload_id) == (ObjectState.PENDING, None)
        assert changed.files_total == 3 and changed.bytes_sent == 0
        assert queue.stale_uploads() == [("onset-takes", "takes/A_take/bag/bag_0.mcap", "up-1")]
        queue.drop_stale("up-1")
        assert queue.stale_uploads() == []
        # Another bucket: every object starts over.
        queue.object_verified(queue.objects(take.id)[1].id)
        moved = queue.enqueue(_plan(digest="f" * 16, bucket="other-bucket"))
        assert {o.state for o in queue.objects(moved.id)} == {ObjectState.PENDING}


def test_resetting_an_object_takes_its_bytes_back(tmp_path):
    with UploadQueue(tmp_path / "queue.sqlite") as queue:
        take = queue.enqueue(_plan())
        bag = queue.objects(take.id)[0]
        queue.start_upload(bag.id, "up-1", 5_000_000)
        queue.record_parts(bag.id, [StoredPart("up-1", n, (n - 1) * 5_000_000, 5_000_000, "a" * 32, "a" * 32)
                                    for n in (1, 2)])
        queue.forget_parts(bag.id, [2])
        assert queue.take("A_take").bytes_sent == 5_000_000
        queue.reset_object(bag.id)
        assert queue.take("A_take").bytes_sent == 0
        assert queue.object(bag.id).state is ObjectState.PENDING
        assert [s[2] for s in queue.stale_uploads()] == ["up-1"]


def test_the_file_is_wal_and_versioned_and_foreign_files_are_refused(tmp_path):
    path = tmp_path / "queue.sqlite"
    UploadQueue(path).close()
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    db.close()
    with pytest.raises(QueueError, match=f"schema version {SCHEMA_VERSION + 1}"):
        UploadQueue(path)
    other = tmp_path / "other.sqlite"
    sqlite3.connect(other).execute("CREATE TABLE t (x)").connection.close()
    with pytest.raises(QueueError, match="not an Onset upload queue"):
        UploadQueue(other)
    junk = tmp_path / "junk.sqlite"
    junk.write_bytes(b"this is not a database at all" * 100)
    with pytest.raises(QueueError, match="not an Onset upload queue"):
        UploadQueue(junk)
    with pytest.raises(QueueError, match="no upload queue"):
        UploadQueue(tmp_path / "missing.sqlite", create=False)
    assert not (tmp_path / "missing.sqlite").exists()


def test_one_push_at_a_time(tmp_path):
    path = tmp_path / "queue.sqlite"
    assert lock_holder(path) is None
    with queue_lock(path):
        assert lock_holder(path) == os.getpid()
        with pytest.raises(QueueBusyError, match=f"pid {os.getpid()}"):
            with queue_lock(path):
                pass
    assert lock_holder(path) is None


_WRITER = textwrap.dedent("""
    import sys
    from studio_sync.upload.queue import UploadQueue
    from studio_sync.upload.types import PlannedObject, StoredPart, TakePlan, TakeState

    def _plan():
        objects = (PlannedObject("bag/bag_0.mcap", 12_000_000, 1, "xxh64", "0" * 16, "takes/A_take/bag/bag_0.mcap"),
                   PlannedObject("take.json", 200, 1, "xxh64", "1" * 16, "takes/A_take/take.json"))
        return TakePlan("A_take", "/takes/A_take", "http://127.0.0.1:8333", "onset-takes", "takes/", 1,
                        "0001_A_take.mhl", objects)
    queue = UploadQueue(sys.argv[1])
    take = queue.enqueue(_plan())
    bag = queue.objects(take.id)[0]
    n = 0
    print("ready", flush=True)
    while True:
        n += 1
        queue.start_upload(bag.id, f"up-{n}", 1000)
        queue.record_parts(bag.id, [StoredPart(f"up-{n}", p, (p - 1) * 1000, 1000, "a" * 32, "a" * 32)
                                    for p in range(1, 4)])
        queue.set_take_state(take.id, TakeState.UPLOADING)
        queue.enqueue(_plan())
""")


def _kill_at(path, delay_ms):
    writer = subprocess.Popen([sys.executable, "-c", _WRITER, str(path)], cwd=REPO, stdout=subprocess.PIPE,
                              start_new_session=True)
    try:
        assert writer.stdout.readline().strip() == b"ready"
        # Not a synchronization: the writer never waits, so any instant interrupts some transaction.
        time.sleep(delay_ms / 1000)
    finally:
        os.killpg(writer.pid, signal.SIGKILL)
        writer.wait(timeout=10)


def test_a_kill_at_any_instant_leaves_a_consistent_queue(tmp_path):
    path = tmp_path / "queue.sqlite"
    for delay_ms in (5, 37, 71, 113, 151, 197):
        _kill_at(path, delay_ms)
        db = sqlite3.connect(path)
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert db.execute("PRAGMA foreign_key_check").fetchall() == []
        db.close()
        with UploadQueue(path) as queue:
            take = queue.take("A_take")
            bag = queue.objects(take.id)[0]
            parts = queue.parts(bag.id)
            # bytes_sent is always what the kept parts add up to: no transaction was half applied.
            assert take.bytes_sent == sum(p.size for p in parts.values()), delay_ms
            assert set(parts) in (set(), {1, 2, 3}), delay_ms
            assert all(p.upload_id == bag.upload_id for p in parts.values())
