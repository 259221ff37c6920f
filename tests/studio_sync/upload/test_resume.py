"""Resuming: an uploader SIGKILLed mid-part, a studio killed mid-upload and restarted, faults on the
way. What was sent is counted from outside the uploader, at a proxy in front of SeaweedFS."""

from __future__ import annotations

import hashlib

import pytest

from edge.cli.main import main
from studio_sync.upload import StoreClient, StoredPart, UploadQueue, plan_take, push, sync_states
from tests.harness.s3_proxy import S3Proxy
from tests.studio_sync.upload.conftest import (
    MIB,
    TAKE,
    assert_studio_matches_mhl,
    kill_group,
    make_rig,
)


@pytest.fixture
def proxy(studio):
    with S3Proxy(studio.config.endpoint_url()) as running:
        yield running


def _proxied_rig(studio, proxy, tmp_path, monkeypatch, **upload):
    rig = make_rig(studio, tmp_path / "rig", endpoint=proxy.url, upload={"concurrency": 1, **upload})
    for name, value in rig.env.items():
        monkeypatch.setenv(name, value)
    return rig


def _bag_upload(rig):
    with UploadQueue(rig.queue_path, create=False) as queue:
        take = queue.take(TAKE)
        bag = next(o for o in queue.objects(take.id) if o.rel == "bag/bag_0.mcap")
        return bag, queue.parts(bag.id)


def _stored_parts(rig, upload_id):
    """What the store itself lists for the upload (every page), asked by the test with its own client."""
    client, parts, marker = rig.studio.client("writer"), {}, 0
    while True:
        page = client.list_parts(Bucket=rig.studio.bucket, Key=f"{rig.prefix}{TAKE}/bag/bag_0.mcap",
                                 UploadId=upload_id, PartNumberMarker=marker)
        for p in page.get("Parts", []):
            parts[p["PartNumber"]] = (p["Size"], p["ETag"])
        if not page.get("IsTruncated"):
            return parts
        marker = page["NextPartNumberMarker"]


def _local_md5(take, number, part_size=5 * MIB):
    with open(take / "bag" / "bag_0.mcap", "rb") as f:
        f.seek((number - 1) * part_size)
        return hashlib.md5(f.read(part_size)).hexdigest()


def test_an_uploader_killed_mid_part_resumes_and_never_resends_a_finished_part(studio, proxy, tmp_path, monkeypatch,
                                                                                capsys):
    rig = _proxied_rig(studio, proxy, tmp_path, monkeypatch)
    take = rig.take(bag_bytes=17 * MIB)  # parts of 5, 5, 5 and 2 MiB
    uploader = rig.popen("push", str(take), "--bwlimit", "8")
    try:
        # Killed while part 3 is on the way: parts 1 and 2 are in the studio, part 3 half sent.
        assert proxy.wait_until(lambda p: sum(p.part_stored.values()) >= 2 and sum(p.part_arrivals.values()) >= 3,
                                timeout_s=60), uploader.stderr.read1() if uploader.poll() is not None else "slow"
    finally:
        kill_group(uploader)
    assert sync_states(rig.config)[TAKE]["state"] == "interrupted"
    bag, kept = _bag_upload(rig)
    stored = _stored_parts(rig, bag.upload_id)
    assert sorted(stored) == [1, 2] and sorted(kept) in ([1], [1, 2])
    # SeaweedFS's part ETag: the MD5 hex of the part's bytes, in quotes.
    assert {n: etag for n, (_, etag) in stored.items()} == {n: f'"{_local_md5(take, n)}"' for n in stored}
    before = dict(proxy.part_arrivals)

    # Resumed by a plain `onset sync push` (the queue), listing the stored parts one per page.
    monkeypatch.setattr("studio_sync.upload.client.LIST_PARTS_PAGE", 1)
    listed_before = proxy.operations.count("ListParts")
    assert main(rig.cli("push")) == 0, capsys.readouterr()
    assert "VERIFIED" in capsys.readouterr().out
    assert proxy.operations.count("ListParts") - listed_before >= 2  # it paginated
    for number in stored:
        assert proxy.part_arrivals[(bag.upload_id, number)] == before[(bag.upload_id, number)] == 1, number
    assert proxy.part_stored[(bag.upload_id, 3)] == 1 and proxy.part_stored[(bag.upload_id, 4)] == 1
    assert {u for u, _ in proxy.part_arrivals} == {bag.upload_id}  # the same upload, resumed
    assert_studio_matches_mhl(rig, take)
    assert sync_states(rig.config)[TAKE]["state"] == "verified"


@pytest.mark.slow  # SeaweedFS takes 10-20 s to answer after a SIGKILL
def test_the_studio_killed_mid_upload_and_restarted_loses_nothing(studio, proxy, tmp_path, monkeypatch, capsys):
    rig = _proxied_rig(studio, proxy, tmp_path, monkeypatch, retries=0)
    take = rig.take(bag_bytes=12 * MIB)
    uploader = rig.popen("push", str(take), "--bwlimit", "4")
    try:
        assert proxy.wait_until(lambda p: sum(p.part_stored.values()) >= 1 and sum(p.part_arrivals.values()) >= 2,
                                timeout_s=60)
        studio.studio.kill("server")
        out, err = uploader.communicate(timeout=60)
    finally:
        kill_group(uploader)
        restarted = studio.studio.up()
    assert restarted.processes and uploader.returncode == 1
    assert b"stopped: the connection to" in err and b"is the studio up?" in err and b"stay queued" in err, err
    state = sync_states(rig.config)[TAKE]
    assert state["state"] == "queued" and state["reason"], state
    bag, _ = _bag_upload(rig)
    stored = _stored_parts(rig, bag.upload_id)
    assert 1 in stored  # what the studio acknowledged before it died, it still has
    before = dict(proxy.part_arrivals)
    assert main(rig.cli("push")) == 0, capsys.readouterr()
    resent = {n for (u, n), count in proxy.part_arrivals.items() if count > before.get((u, n), 0)}
    assert {u for u, _ in proxy.part_arrivals} == {bag.upload_id}  # the same upload, resumed
    assert resent == {1, 2, 3} - set(stored)  # only what the studio did not hold
    assert_studio_matches_mhl(rig, take)


@pytest.mark.parametrize("fault", ["garbage", "corrupt", "truncate", "drop", "etag"])
def test_a_part_damaged_or_lost_on_the_way_is_sent_again(studio, proxy, tmp_path, monkeypatch, fault):
    rig = _proxied_rig(studio, proxy, tmp_path, monkeypatch)
    take = rig.take(bag_bytes=7 * MIB)
    proxy.inject(fault, part_number=2)
    report = push(rig.config, [take])
    assert report.ok, report
    assert proxy.faults_done == [(fault, 2)]
    (upload_id,) = {u for u, _ in proxy.part_arrivals}
    # Sent again after the fault; an answer with another ETag came from a store that did keep it.
    assert proxy.part_arrivals[(upload_id, 2)] == 2
    assert proxy.part_stored[(upload_id, 2)] == (2 if fault == "etag" else 1)
    assert proxy.part_arrivals[(upload_id, 1)] == 1
    assert_studio_matches_mhl(rig, take)


def _started_elsewhere(rig, take, parts):
    """A queued take whose bag upload was started (its id kept) and given ``parts`` directly, not
    through the proxy: ``{part number: bytes}``. Returns the queue's bag object and the upload id."""
    with UploadQueue(rig.queue_path) as queue:
        queued = queue.enqueue(plan_take(rig.config, take))
        bag = next(o for o in queue.objects(queued.id) if o.rel == "bag/bag_0.mcap")
        direct = StoreClient(rig.config.model_copy(update={"storage": rig.studio.config.storage.model_copy(
            update={"prefix": rig.prefix})}))
        upload_id = direct.create_upload(bag.key)
        queue.start_upload(bag.id, upload_id, 5 * MIB)
        for number, data in parts.items():
            md5 = hashlib.md5(data).hexdigest()
            direct.upload_part(bag.key, upload_id, number, data, md5)
            queue.record_parts(bag.id, [StoredPart(upload_id, number, (number - 1) * 5 * MIB, len(data), md5, md5)])
    return bag, upload_id, direct


def test_a_stored_part_that_is_not_the_local_bytes_is_sent_again(studio, proxy, tmp_path, monkeypatch):
    rig = _proxied_rig(studio, proxy, tmp_path, monkeypatch)
    take = rig.take(bag_bytes=12 * MIB)
    good = (take / "bag" / "bag_0.mcap").read_bytes()
    bag, upload_id, _ = _started_elsewhere(rig, take, {1: bytes(5 * MIB), 2: good[5 * MIB:10 * MIB]})
    assert push(rig.config, []).ok
    # Part 1 was the right size but other bytes (its ETag is not the local MD5): sent again; part 2 was not.
    assert proxy.part_arrivals[(upload_id, 1)] == 1 and proxy.part_arrivals[(upload_id, 3)] == 1
    assert (upload_id, 2) not in proxy.part_arrivals
    assert_studio_matches_mhl(rig, take)


@pytest.mark.parametrize("what_happened", ["completed", "aborted"])
def test_an_upload_the_store_no_longer_knows_is_verified_or_started_again(studio, proxy, tmp_path, monkeypatch,
                                                                          what_happened):
    rig = _proxied_rig(studio, proxy, tmp_path, monkeypatch)
    take = rig.take(bag_bytes=7 * MIB)
    data = (take / "bag" / "bag_0.mcap").read_bytes()
    parts = {1: data[:5 * MIB], 2: data[5 * MIB:]}
    bag, upload_id, direct = _started_elsewhere(rig, take, parts)
    if what_happened == "completed":  # by a push killed before it wrote that down
        direct.complete(bag.key, upload_id, [(n, hashlib.md5(d).hexdigest()) for n, d in parts.items()])
    else:
        direct.abort(bag.key, upload_id)
    assert push(rig.config, []).ok
    sent = {u for u, _ in proxy.part_arrivals}
    if what_happened == "completed":
        assert sent == set() and proxy.operations.count("GetObject") == 5  # read back, nothing sent
    else:
        assert len(sent) == 1 and upload_id not in sent and sum(proxy.part_stored.values()) == 2
    assert_studio_matches_mhl(rig, take)


def test_an_object_the_studio_returns_wrong_is_never_marked_verified(studio, proxy, tmp_path, monkeypatch):
    rig = _proxied_rig(studio, proxy, tmp_path, monkeypatch)
    take = rig.take(bag_bytes=7 * MIB)
    proxy.corrupt_reads.append("/bag/bag_0.mcap")
    report = push(rig.config, [take])
    (outcome,) = report.outcomes
    assert outcome.state == "failed" and outcome.reason.startswith("the studio's copy of bag/bag_0.mcap hashes to")
    with UploadQueue(rig.queue_path) as queue:
        row = queue.take(TAKE)
        assert row.state.value == "failed" and row.files_verified == 0
    proxy.corrupt_reads.clear()
    assert push(rig.config, [take]).ok  # pushed again by name: the object is sent again and verifies
    assert_studio_matches_mhl(rig, take)
