"""An offload copy verifies every byte and adds a transfer generation; earlier generations arrive unchanged."""

from __future__ import annotations

from pathlib import Path

import pytest

from studio_sync.custody import (
    CopyError,
    MissingHistoryError,
    TakeChangedError,
    copy_take,
    seal_take,
    verify_take,
)
from studio_sync.custody import copy as copy_module

from .mhl import chain, file_hashes, generation_files, process, snapshot

FILES = ["bag/bag_0.mcap", "bag/metadata.yaml", "take.json"]


@pytest.fixture
def sealed(take) -> Path:
    seal_take(take)
    return take


@pytest.fixture
def shuttle(tmp_path) -> Path:
    path = tmp_path / "shuttle"
    path.mkdir()
    return path


def test_a_copy_adds_generation_2_and_leaves_generation_1_as_it_was(sealed, shuttle):
    (gen1,) = generation_files(sealed)
    gen1_before = gen1.read_bytes()
    source_before = snapshot(sealed)
    seen = []
    result = copy_take(sealed, shuttle, progress=lambda done, total: seen.append((done, total)))
    copy = shuttle / sealed.name
    assert result.copy == copy and result.generation == 2 and result.files == 3
    # The source is only read.
    assert snapshot(sealed) == source_before
    copy_gen1, copy_gen2 = generation_files(copy)
    assert copy_gen1.name == gen1.name and copy_gen1.read_bytes() == gen1_before == gen1.read_bytes()
    assert result.mhl_file == copy_gen2 and copy_gen2.name.startswith(f"0002_{sealed.name}_")
    assert process(copy_gen2) == "transfer"
    recorded = file_hashes(copy_gen2)
    assert sorted(recorded) == FILES
    assert all(entry[1] == "verified" for hashes in recorded.values() for entry in hashes.values())
    assert [n for n, _, _ in chain(copy)] == [1, 2]
    for rel in FILES:
        assert (copy / rel).read_bytes() == (sealed / rel).read_bytes()
        assert (copy / rel).stat().st_mtime_ns == (sealed / rel).stat().st_mtime_ns
    report = verify_take(copy)
    assert report.ok and report.generation == 2
    total = seen[-1][1]
    assert seen[-1] == (total, total) and total > 2 * sum((sealed / rel).stat().st_size for rel in FILES)
    assert not list(shuttle.glob(".*"))


def test_a_copy_of_a_copy_adds_generation_3(sealed, shuttle, tmp_path):
    first = copy_take(sealed, shuttle).copy
    (tmp_path / "archive").mkdir()
    second = copy_take(first, tmp_path / "archive")
    assert second.generation == 3
    assert [g.read_bytes() for g in generation_files(second.copy)[:2]] == \
        [g.read_bytes() for g in generation_files(first)]
    assert verify_take(second.copy).ok


def test_a_copy_can_add_xxh128_beside_the_xxh64_digests(sealed, shuttle):
    result = copy_take(sealed, shuttle, hash_format="xxh128")
    recorded = file_hashes(result.mhl_file)
    for rel in FILES:
        assert set(recorded[rel]) == {"xxh64", "xxh128"}
        assert {action for _, action in recorded[rel].values()} == {"verified"}
    assert verify_take(result.copy).ok


def test_an_existing_copy_is_never_overwritten(sealed, shuttle):
    copy_take(sealed, shuttle)
    before = snapshot(shuttle)
    with pytest.raises(CopyError, match="already exists: a take is never copied over another"):
        copy_take(sealed, shuttle)
    assert snapshot(shuttle) == before


def test_a_source_that_changed_since_its_seal_is_not_copied(sealed, shuttle):
    bag = sealed / "bag" / "bag_0.mcap"
    data = bytearray(bag.read_bytes())
    data[1234] ^= 0xFF
    bag.write_bytes(bytes(data))
    with pytest.raises(TakeChangedError, match="bag/bag_0.mcap no longer matches its history"):
        copy_take(sealed, shuttle)
    assert list(shuttle.iterdir()) == []


def test_a_source_with_files_its_history_lacks_is_not_copied(sealed, shuttle):
    (sealed / "captions.json").write_text("{}")
    with pytest.raises(TakeChangedError, match="extra captions.json.*onset sync seal"):
        copy_take(sealed, shuttle)
    assert list(shuttle.iterdir()) == []


def test_a_copy_that_does_not_read_back_is_removed(sealed, shuttle, monkeypatch):
    real = copy_module.file_digests

    def failing_drive(path, formats, progress=None):
        digests = real(path, formats, progress)
        if Path(path).name == "bag_0.mcap":
            digests = {fmt: "0" * len(d) for fmt, d in digests.items()}
        return digests

    monkeypatch.setattr(copy_module, "file_digests", failing_drive)
    with pytest.raises(CopyError, match="bag/bag_0.mcap does not read back as it was written"):
        copy_take(sealed, shuttle)
    assert list(shuttle.iterdir()) == []


def test_refused_destinations(sealed, take, tmp_path, make_take):
    with pytest.raises(CopyError, match="not a folder"):
        copy_take(sealed, tmp_path / "nowhere")
    with pytest.raises(CopyError, match="into itself"):
        copy_take(sealed, sealed / "bag")
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / f".{sealed.name}.copying").mkdir()
    with pytest.raises(CopyError, match="another copy .* is running there, or one was interrupted"):
        copy_take(sealed, tmp_path / "busy")
    unsealed = make_take(name="1_1_001_20270115T080000Z")
    with pytest.raises(MissingHistoryError):
        copy_take(unsealed, tmp_path)
