"""``onset sync push`` against a real SeaweedFS: every byte verified, part size, concurrency and
bandwidth as configured, progress bars, the status rows."""

from __future__ import annotations

import json
import time

import pytest

from edge.cli.main import main
from studio_sync.upload import StoreClient, UploadQueue, status_rows, sync_states
from tests.harness.s3_proxy import S3Proxy
from tests.studio_sync.upload.conftest import MIB, TAKE, assert_studio_matches_mhl, make_rig


@pytest.mark.parametrize("hash_format", ["xxh64", "xxh128"])
def test_a_take_goes_up_and_every_byte_matches_its_mhl(rig, capsys, hash_format):
    take = rig.take(hash_format=hash_format)
    assert main(rig.cli("push", str(take), "--progress")) == 0
    out, err = capsys.readouterr()
    assert f"VERIFIED  {TAKE}: 12.6 MB in s3://onset-takes/{rig.prefix}{TAKE}/" in out
    assert TAKE in err and "1 take(s)" in err  # the bars, drawn although stderr is not a terminal
    assert_studio_matches_mhl(rig, take)
    state = sync_states(rig.config)[TAKE]
    assert state["state"] == "verified" and state["bytes_sent"] == state["bytes_total"] > 12 * MIB
    # Pushed again by name: nothing is sent, and without --progress no bar is drawn.
    assert main(rig.cli("push", TAKE)) == 0
    out, err = capsys.readouterr()
    assert "already verified in the studio" in out and err == ""


@pytest.mark.parametrize(("bag_mib", "part_mib", "concurrency"), [(12, 5, 1), (18, 6, 3)])
def test_part_size_and_concurrency_are_what_was_asked(studio, tmp_path, monkeypatch, capsys, bag_mib, part_mib,
                                                      concurrency):
    with S3Proxy(studio.config.endpoint_url()) as proxy:
        rig = make_rig(studio, tmp_path / "rig", endpoint=proxy.url)
        for name, value in rig.env.items():
            monkeypatch.setenv(name, value)
        take = rig.take(bag_bytes=bag_mib * MIB)
        # Held until one more part than asked is open, or 0.5 s: a client sending more at once shows it.
        proxy.gate(concurrency + 1 if concurrency == 1 else concurrency, timeout_s=0.5 if concurrency == 1 else 10)
        assert main(rig.cli("push", str(take), "--part-size", str(part_mib), "--concurrency",
                            str(concurrency))) == 0, capsys.readouterr()
    sizes = sorted((n, s) for (_, n), sent in proxy.part_sizes.items() for s in sent)
    whole, rest = divmod(bag_mib, part_mib)
    assert sizes == [(n, part_mib * MIB) for n in range(1, whole + 1)] + ([(whole + 1, rest * MIB)] if rest else [])
    assert proxy.max_parts_in_flight == concurrency
    assert len({upload for upload, _ in proxy.part_sizes}) == 1
    assert proxy.operations.count("PutObject") == 4  # take.json, metadata.yaml, the generation, the chain
    assert_studio_matches_mhl(rig, take)


@pytest.mark.parametrize(("bag_mib", "cap_mib_s", "concurrency"), [(4, 2, 1), (10, 8, 2)])
def test_the_bandwidth_cap_holds_for_all_parts_together(rig, bag_mib, cap_mib_s, concurrency):
    take = rig.take(bag_bytes=bag_mib * MIB)
    began = time.monotonic()
    assert main(rig.cli("push", str(take), "--bwlimit", str(cap_mib_s), "--concurrency", str(concurrency))) == 0
    elapsed = time.monotonic() - began
    # A lower bound only (a loaded machine is slower, never faster): bag_mib at cap_mib_s, less a burst.
    assert elapsed >= 0.75 * bag_mib / cap_mib_s
    assert_studio_matches_mhl(rig, take)


@pytest.mark.parametrize("fault", ["drop", "garbage"])
def test_progress_counts_bytes_as_they_leave_and_takes_back_failed_attempts(studio, tmp_path, monkeypatch, fault):
    from studio_sync.upload import push

    class Recorder:
        def __init__(self):
            self.begun, self.counted, self.finished = None, {}, {}

        def begin(self, takes):
            self.begun = takes

        def take_started(self, name, total, done):
            self.counted[name] = done

        def advance(self, name, n):
            self.counted[name] += n

        def take_finished(self, name, state):
            self.finished[name] = state

        def close(self):
            pass

    with S3Proxy(studio.config.endpoint_url()) as proxy:
        rig = make_rig(studio, tmp_path / "rig", endpoint=proxy.url)
        for name, value in rig.env.items():
            monkeypatch.setenv(name, value)
        take = rig.take(bag_bytes=7 * MIB)
        proxy.inject(fault, part_number=2)  # a botocore retry (drop), a retry of Onset's own (garbage)
        recorder = Recorder()
        report = push(rig.config, [take], progress=recorder)
    assert report.ok
    total = UploadQueue(rig.queue_path).take(TAKE).bytes_total
    assert recorder.begun == ((TAKE, total, 0),)
    assert recorder.counted == {TAKE: total} and recorder.finished == {TAKE: "verified"}


def test_status_lists_the_queue_and_the_sealed_takes_not_queued(rig, capsys):
    take = rig.take()
    rig.take(name="12_3_005_20270115T081500Z", bag_bytes=1000)
    assert main(rig.cli("push", str(take))) == 0
    capsys.readouterr()
    assert main(rig.cli("status")) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["TAKE", "STATE", "IN", "THE", "STUDIO", "VERIFIED", "UPDATED", "(UTC)", "REASON"]
    assert lines[1].split()[:7] == [TAKE, "verified", "12.6", "MB", "/", "12.6", "MB"]
    assert lines[1].split()[7] == "5/5"
    assert lines[2].split() == ["12_3_005_20270115T081500Z", "hashed", "-", "-", "-"]
    assert main(rig.cli("status", "--json")) == 0
    document = json.loads(capsys.readouterr().out)
    assert [(t["name"], t["state"]) for t in document["takes"]] == [(TAKE, "verified"),
                                                                    ("12_3_005_20270115T081500Z", "hashed")]
    assert [r.state for r in status_rows(rig.config, rig.takes_dir)] == ["verified", "hashed"]
    assert set(sync_states(rig.config)[TAKE]) == {"state", "reason", "bytes_sent", "bytes_total", "updated_utc"}


def test_status_of_a_queue_never_made_writes_nothing(rig, capsys):
    assert main(rig.cli("status")) == 0
    assert "the upload queue is empty" in capsys.readouterr().out
    assert not rig.queue_path.exists()
    assert main(rig.cli("push")) == 0
    assert "nothing queued" in capsys.readouterr().out
    assert not rig.queue_path.exists()


def test_a_store_answer_that_is_not_the_parts_md5_is_not_trusted(studio, rig):
    client = StoreClient(rig.config)
    upload_id = client.create_upload(f"{rig.prefix}probe.bin")
    data = bytes(range(256)) * 4096
    import hashlib

    md5 = hashlib.md5(data).hexdigest()
    assert client.upload_part(f"{rig.prefix}probe.bin", upload_id, 1, data, md5) == md5
    # SeaweedFS lists the part with its size and the MD5 hex as its ETag (in quotes on the wire).
    assert client.list_parts(f"{rig.prefix}probe.bin", upload_id) == {1: [(len(data), md5)]}
    client.abort(f"{rig.prefix}probe.bin", upload_id)
    assert client.list_parts(f"{rig.prefix}probe.bin", upload_id) is None


def test_all_queues_every_closed_take_and_refuses_the_unsealed_one(rig, capsys):
    from tests.studio_sync.custody.conftest import write_take

    sealed = [rig.take(name=f"12_3_00{n}_20270115T08{n}000Z", bag_bytes=2000, seed=n) for n in (1, 2)]
    write_take(rig.takes_dir / "12_3_009_20270115T090000Z", bag_bytes=1000)  # never sealed
    write_take(rig.takes_dir / "12_3_010_20270115T091000Z", bag_bytes=1000, status="recording")
    assert main(rig.cli("push", "--all")) == 1
    out = capsys.readouterr().out
    assert out.count("VERIFIED") == 2 and "REFUSED" in out and "onset sync seal 12_3_009_20270115T090000Z" in out
    assert "12_3_010" not in out  # still recording: left for later, not refused
    for take in sealed:
        assert_studio_matches_mhl(rig, take)


def test_a_queued_take_whose_folder_is_gone_stays_queued(rig, capsys):
    take = rig.take(bag_bytes=1000)
    with UploadQueue(rig.queue_path) as queue:
        from studio_sync.upload import plan_take

        queue.enqueue(plan_take(rig.config, take))
    moved = take.rename(rig.folder / "elsewhere")
    assert main(rig.cli("push")) == 1
    assert "is not there (a drive not mounted?)" in capsys.readouterr().out
    assert sync_states(rig.config)[TAKE]["state"] == "queued"
    moved.rename(take)  # the drive is back
    assert main(rig.cli("push")) == 0
    assert_studio_matches_mhl(rig, take)
