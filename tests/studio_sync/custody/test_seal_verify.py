"""Seal a take, verify it, and name every missing, extra or altered file; a seal never covers a change."""

from __future__ import annotations

import fcntl
import json
import os

import pytest
import xxhash

from studio_sync.custody import (
    HASH_FORMATS,
    CustodyError,
    MissingHistoryError,
    NotATakeError,
    TakeChangedError,
    TakeStillRecordingError,
    UnexpectedFileError,
    seal_take,
    verify_take,
)

from .mhl import chain, file_hashes, generation_files, process, snapshot

FILES = ["bag/bag_0.mcap", "bag/metadata.yaml", "take.json"]


@pytest.mark.parametrize("fmt", HASH_FORMATS)
def test_a_sealed_take_verifies(take, fmt):
    result = seal_take(take, fmt, author="Jo Wrangler")
    assert result.generation == 1 and result.files == 3 and result.hash_format == fmt
    assert sorted(result.new_files) == FILES
    (gen1,) = generation_files(take)
    assert result.mhl_file == gen1 and gen1.name.startswith(f"0001_{take.name}_")
    recorded = file_hashes(gen1)
    assert sorted(recorded) == FILES
    for rel in FILES:
        assert set(recorded[rel]) == {fmt} and recorded[rel][fmt][1] == "original"
    assert [(n, name) for n, name, _ in chain(take)] == [(1, gen1.name)]
    assert process(gen1) == "in-place"
    report = verify_take(take)
    assert report.ok and report.problems() == []
    assert (report.generation, report.generation_file, report.files_checked) == (1, gen1.name, 3)
    assert report.bytes_checked == sum((take / rel).stat().st_size for rel in FILES)


def _remove_metadata(take):
    (take / "bag" / "metadata.yaml").unlink()


def _add_captions(take):
    (take / "captions.json").write_text("{}\n")


def _edit_take_json(take):
    doc = json.loads((take / "take.json").read_text())
    doc["notes"].append("edited after the take closed")
    (take / "take.json").write_text(json.dumps(doc))


@pytest.mark.parametrize("change,kind,path", [
    (_remove_metadata, "missing", "bag/metadata.yaml"),
    (_add_captions, "extra", "captions.json"),
    (_edit_take_json, "altered", "take.json"),
])
def test_each_missing_extra_or_altered_file_is_named(take, change, kind, path):
    seal_take(take)
    recorded = file_hashes(generation_files(take)[0])
    change(take)
    report = verify_take(take)
    assert not report.ok
    found = {"missing": report.missing, "extra": report.extra, "altered": report.altered}
    assert [p.path for p in found[kind]] == [path]
    assert all(not items for k, items in found.items() if k != kind)
    assert report.summary().endswith(f"1 {kind}") and report.problems()[0].startswith(f"{kind}: {path}")
    if kind == "altered":
        (altered,) = report.altered
        assert altered.expected == recorded[path]["xxh64"][0]
        assert altered.actual == xxhash.xxh64((take / path).read_bytes()).hexdigest()
        assert altered.generation == 1 and altered.actual_size == (take / path).stat().st_size
    if kind == "missing":
        assert report.missing[0].expected == recorded[path]["xxh64"][0]


@pytest.mark.parametrize("offset", [0, 600_000, -1])
def test_one_flipped_byte_in_the_bag_is_found(take, offset):
    seal_take(take)
    bag = take / "bag" / "bag_0.mcap"
    data = bytearray(bag.read_bytes())
    data[offset] ^= 0x01
    bag.write_bytes(bytes(data))
    report = verify_take(take)
    assert [a.path for a in report.altered] == ["bag/bag_0.mcap"] and not report.missing and not report.extra


def test_verify_writes_nothing(take):
    seal_take(take)
    _add_captions(take)
    before = snapshot(take)
    assert not verify_take(take).ok
    assert snapshot(take) == before


def test_sealing_again_adds_a_generation_and_records_what_was_added(take):
    seal_take(take)
    (gen1,) = generation_files(take)
    gen1_bytes = gen1.read_bytes()
    _add_captions(take)
    second = seal_take(take, "xxh128")
    assert second.generation == 2 and second.new_files == ("captions.json",)
    gen1_after, gen2 = generation_files(take)
    assert gen1_after == gen1 and gen1.read_bytes() == gen1_bytes
    recorded = file_hashes(gen2)
    assert recorded["captions.json"]["xxh128"][1] == "original"
    # Files known to generation 1 are verified in its format, and the new format is verified through it.
    assert recorded["take.json"]["xxh64"][1] == "verified" and recorded["take.json"]["xxh128"][1] == "verified"
    assert [n for n, _, _ in chain(take)] == [1, 2]
    report = verify_take(take)
    assert report.ok and report.generation == 2 and report.files_checked == 4


@pytest.mark.parametrize("change", [_remove_metadata, _edit_take_json])
def test_a_seal_never_covers_a_missing_or_altered_file(take, change):
    seal_take(take)
    change(take)
    before = snapshot(take)
    with pytest.raises(TakeChangedError, match="no longer matches its history") as caught:
        seal_take(take)
    assert not caught.value.report.ok
    assert snapshot(take) == before


def test_a_take_still_recording_is_neither_sealed_nor_verified(make_take):
    take = make_take(status="recording")
    with pytest.raises(TakeStillRecordingError, match="interrupted.*onset takes recover"):
        seal_take(take)
    assert not (take / "ascmhl").exists()
    with pytest.raises(TakeStillRecordingError):
        verify_take(take)


def test_a_take_whose_lock_a_live_recorder_holds_is_refused(take):
    fd = os.open(take / ".recording.lock", os.O_CREAT | os.O_RDWR, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        os.write(fd, f"{os.getpid()}\n".encode())
        with pytest.raises(TakeStillRecordingError, match=f"being recorded right now \\(pid {os.getpid()}\\)"):
            seal_take(take)
    finally:
        os.close(fd)
    assert not (take / "ascmhl").exists()


def test_leftovers_of_an_unfinished_write_stop_a_seal_and_are_extra_to_verify(take):
    seal_take(take)
    (take / ".reserve").write_bytes(b"\0" * 10)
    before = snapshot(take)
    with pytest.raises(UnexpectedFileError, match=r"\.reserve is left over.*onset takes recover"):
        seal_take(take)
    assert snapshot(take) == before
    assert [e.path for e in verify_take(take).extra] == [".reserve"]


def test_what_is_not_a_take_is_refused(tmp_path, take):
    with pytest.raises(NotATakeError, match="does not exist"):
        seal_take(tmp_path / "nowhere")
    (tmp_path / "plain").mkdir()
    with pytest.raises(NotATakeError, match="take.json does not exist"):
        seal_take(tmp_path / "plain")
    with pytest.raises(MissingHistoryError, match=f"onset sync seal {take.name}"):
        verify_take(take)
    (take / "bag" / "bag_0.mcap").unlink()
    (take / "bag" / "metadata.yaml").unlink()
    (take / "bag").rmdir()
    with pytest.raises(NotATakeError, match="no bag folder"):
        seal_take(take)
    assert not (take / "ascmhl").exists()


@pytest.mark.parametrize("existing", [False, True])
def test_a_seal_that_cannot_write_leaves_the_history_as_it_was(take, monkeypatch, existing):
    from ascmhl import chain_xml_parser

    if existing:
        seal_take(take)
    before = snapshot(take)

    def full_disk(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(chain_xml_parser, "write_chain", full_disk)
    with pytest.raises(CustodyError, match=r"No space left on device \(ENOSPC\); the history is unchanged"):
        seal_take(take)
    assert snapshot(take) == before
