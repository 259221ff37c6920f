"""Faults and bad input: a file altered after offload, wrong keys, a bucket or key not allowed, a
path out of the take, an endpoint that answers HTML. Each is a clear error; where the input is bad,
nothing changes on either side."""

from __future__ import annotations

import os
import sqlite3

import pytest
import yaml

from edge.cli.main import main
from studio_sync.upload import UploadQueue, plan_take, push, sync_states
from tests.harness.s3_proxy import S3Proxy
from tests.studio_sync.custody.mhl import generation_files, rechain, snapshot
from tests.studio_sync.upload.conftest import (
    MIB,
    TAKE,
    assert_studio_matches_mhl,
    make_rig,
    studio_keys,
    unfinished_uploads,
)

BAG = "bag/bag_0.mcap"


def _flip(path, offset, keep_mtime=True):
    """Change one byte at ``offset``, the size (and, with ``keep_mtime``, the modification time) kept."""
    info = os.stat(path)
    with open(path, "r+b") as f:
        f.seek(offset)
        byte = f.read(1)
        f.seek(offset)
        f.write(bytes([byte[0] ^ 0xFF]))
    if keep_mtime:
        os.utime(path, ns=(info.st_atime_ns, info.st_mtime_ns))


def _queue_dump(rig):
    db = sqlite3.connect(rig.queue_path)
    try:
        return list(db.iterdump())
    finally:
        db.close()


def test_a_take_altered_after_offload_is_refused_before_anything_is_queued(rig, capsys):
    take = rig.take()
    _flip(take / BAG, 1000)
    assert main(rig.cli("push", str(take))) == 1
    out = capsys.readouterr().out
    assert f"REFUSED   {take}: take {TAKE} does not match its ASC MHL history (altered: {BAG}" in out
    assert "onset sync verify" in out
    assert not rig.queue_path.exists()
    assert studio_keys(rig, TAKE) == []


@pytest.mark.parametrize("how", ["same size and time", "appended", "touched"])
def test_a_queued_take_altered_before_its_upload_fails_and_sends_nothing(rig, capsys, how):
    take = rig.take()
    with UploadQueue(rig.queue_path) as queue:
        queue.enqueue(plan_take(rig.config, take))  # queued earlier, e.g. while the studio was away
    if how == "same size and time":
        _flip(take / BAG, 11 * MIB)  # only the digest of the whole file can tell
    elif how == "appended":
        with open(take / BAG, "ab") as f:
            f.write(b"more")
    else:
        os.utime(take / BAG, ns=(0, 10**18))
    assert main(rig.cli("push")) == 1
    out = capsys.readouterr().out
    assert f"FAILED    {TAKE}: {BAG} changed since it was sealed" in out
    state = sync_states(rig.config)[TAKE]
    assert state["state"] == "failed" and f"{BAG} changed since it was sealed" in state["reason"]
    assert "not marked synced" in state["reason"]
    assert studio_keys(rig, TAKE) == [] and unfinished_uploads(rig) == []


@pytest.mark.parametrize("how", ["flipped", "cut short"])
def test_a_file_changed_during_its_upload_fails_the_take_and_its_upload_is_aborted(rig, how):
    take = rig.take()
    sealed = (take / BAG).read_bytes()
    after = rig.take(name="12_3_005_20270115T081500Z", bag_bytes=1000)

    def change_after_part(rel, number):
        if (rel, number) == (BAG, 1):
            if how == "flipped":
                _flip(take / BAG, 11 * MIB)  # in part 3, not read yet; size and time kept
            else:
                os.truncate(take / BAG, 10 * MIB + 100)

    report = push(rig.config.model_copy(update={"upload": rig.config.upload.model_copy(update={"concurrency": 1})}),
                  [take, after], on_part=change_after_part)
    outcome, next_one = report.outcomes
    assert not report.ok and outcome.state == "failed"
    assert outcome.reason.startswith(f"{BAG} changed since it was sealed")
    assert next_one.state == "verified"  # the push went on with the next take
    assert_studio_matches_mhl(rig, after)
    with UploadQueue(rig.queue_path) as queue:
        row = queue.take(TAKE)
        assert row.state.value == "failed" and row.files_verified == 0
        assert {o.state.value for o in queue.objects(row.id)} == {"pending"}
    assert studio_keys(rig, TAKE) == [] and unfinished_uploads(rig) == []
    # Put back as it was sealed, pushed again by name: it verifies and goes up.
    (take / BAG).write_bytes(sealed)
    assert push(rig.config, [take]).ok
    assert_studio_matches_mhl(rig, take)


def test_wrong_keys_are_refused_and_the_take_stays_queued_with_the_reason(rig, capsys, monkeypatch):
    take = rig.take()
    monkeypatch.setenv("ONSET_STUDIO_ACCESS_KEY", "ONSETWRONGKEY")
    monkeypatch.setenv("ONSET_STUDIO_SECRET_KEY", "not-the-secret")
    assert main(rig.cli("push", str(take))) == 1
    out, err = capsys.readouterr()
    assert "refused the keys" in err and "check the identity's access key and secret" in err
    assert f"QUEUED    {TAKE}: " in out
    state = sync_states(rig.config)[TAKE]
    assert state["state"] == "queued" and "refused the keys" in state["reason"]
    assert studio_keys(rig, TAKE) == []
    # With the right keys, a plain push sends what was queued.
    monkeypatch.delenv("ONSET_STUDIO_ACCESS_KEY")
    monkeypatch.delenv("ONSET_STUDIO_SECRET_KEY")
    assert main(rig.cli("push")) == 0
    assert sync_states(rig.config)[TAKE] | {"updated_utc": None} == {
        "state": "verified", "reason": None, "bytes_sent": state["bytes_total"], "bytes_total": state["bytes_total"],
        "updated_utc": None}
    assert_studio_matches_mhl(rig, take)


def test_a_take_never_sealed_is_refused_with_the_hint(rig, capsys):
    from tests.studio_sync.custody.conftest import write_take

    folder = write_take(rig.takes_dir / TAKE, bag_bytes=1000)
    assert main(rig.cli("push", TAKE)) == 1
    assert f"has no ASC MHL history, so nothing could verify it in the studio: seal it first with `onset sync seal " \
           f"{TAKE}`" in capsys.readouterr().out
    assert folder.is_dir() and not rig.queue_path.exists()


# ---- bad input: a clear error, nothing changed on either side ---------------------------------------


def test_a_bucket_name_s3_does_not_allow_is_a_configuration_error(rig, capsys):
    take = rig.take(bag_bytes=1000)
    before = snapshot(take)
    document = yaml.safe_load(rig.profile.read_text())
    document["studio"]["storage"]["bucket"] = "Onset_Takes"
    rig.profile.write_text(yaml.safe_dump(document))
    assert main(rig.cli("push", str(take))) == 2
    assert "storage.bucket" in capsys.readouterr().err
    assert snapshot(take) == before and not rig.queue_path.exists()


def test_a_key_longer_than_s3_allows_is_refused(studio, tmp_path, capsys):
    rig = make_rig(studio, tmp_path / "rig", storage={"prefix": "p" * 1000 + "/"})
    take = rig.take(bag_bytes=1000)
    before = snapshot(take)
    assert main(rig.cli("push", str(take))) == 1
    out = capsys.readouterr().out
    assert "REFUSED" in out and "is not allowed: a key is at most 1024 bytes of UTF-8, this one is" in out
    assert snapshot(take) == before and not rig.queue_path.exists()
    listed = studio.client("reader").list_objects_v2(Bucket=studio.bucket, Prefix="p" * 100)
    assert listed.get("KeyCount", 0) == 0


@pytest.mark.parametrize("escape", ["link", "recorded"])
def test_a_path_that_leaves_the_take_folder_is_refused(rig, capsys, escape):
    take = rig.take(bag_bytes=1000)
    outside = rig.folder / "outside.bin"
    outside.write_bytes(b"not the take's")
    if escape == "link":
        os.symlink(outside, take / "bag" / "extra.bin")
        expected = "bag/extra.bin is a symbolic link"
    else:
        # A generation edited to record a file outside the take, its chain rewritten to match.
        mhl = generation_files(take)[0]
        text = mhl.read_text()
        assert '">take.json</path>' in text
        mhl.write_text(text.replace('">take.json</path>', '">../outside.bin</path>'))
        rechain(take)
        expected = "climbs out of the take"
    before = snapshot(take)
    assert main(rig.cli("push", str(take))) == 1
    out = capsys.readouterr().out
    assert "REFUSED" in out and expected in out, out
    assert snapshot(take) == before and not rig.queue_path.exists()
    assert studio_keys(rig, TAKE) == []


def test_an_endpoint_that_answers_html_is_refused_and_nothing_changes(studio, tmp_path, capsys, monkeypatch):
    rig = make_rig(studio, tmp_path / "rig")
    first = rig.take(name="12_3_003_20270115T074500Z", bag_bytes=1000)
    assert main(rig.cli("push", str(first))) == 0  # a queue that exists, with a take in it
    take = rig.take(bag_bytes=1000)
    queue_before, take_before = _queue_dump(rig), snapshot(take)
    capsys.readouterr()
    with S3Proxy(studio.config.endpoint_url()) as html:
        html.garbage_everything = True
        garbage = make_rig(studio, tmp_path / "garbage", endpoint=html.url,
                           upload={"queue_path": str(rig.queue_path)}, storage={"prefix": rig.prefix})
        for name, value in garbage.env.items():
            monkeypatch.setenv(name, value)
        assert main(garbage.cli("push", str(take))) == 1
        assert main(garbage.cli("push")) == 0  # nothing queued to send: no request at all
        assert html.operations == ["ListObjects"]
    err = capsys.readouterr().err
    assert f"{html.url} did not answer like S3 while listing s3://onset-takes/{rig.prefix}" in err
    assert "nothing was queued or sent" in err
    assert _queue_dump(rig) == queue_before and snapshot(take) == take_before
    assert studio_keys(rig, TAKE) == []
