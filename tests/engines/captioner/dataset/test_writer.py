"""Tar shards: cut by samples and bytes, samples whole and in order, the same bytes every time,
read back by plain tarfile; the reader refuses what is not a dataset."""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path

import pytest

from engines.captioner.dataset.errors import DatasetFormatError
from engines.captioner.dataset.reader import index_shard, read_index, read_member
from engines.captioner.dataset.writer import ShardWriter


def _files(i: int, size: int = 100) -> dict:
    return {"json": json.dumps({"schema_version": 1, "i": i}).encode(), "rgb.png": bytes([i % 256]) * size,
            "depth.png": bytes([(i + 1) % 256]) * (size // 2)}


def _write(folder: Path, n: int, **limits) -> list:
    writer = ShardWriter(folder, **limits)
    for i in range(n):
        writer.add(f"take__{i:06d}", _files(i), mtime_s=1_767_225_600 + i)
    return writer.close()


def test_shards_are_cut_by_sample_count_and_keep_every_sample_whole_in_order(tmp_path):
    shards = _write(tmp_path / "train", 7, max_samples=3)
    assert [p.name for p in shards] == ["shard-000000.tar", "shard-000001.tar", "shard-000002.tar"]
    names = []
    for shard in shards:
        with tarfile.open(shard) as tar:
            members = tar.getmembers()
            names += [m.name for m in members]
            assert all(m.isfile() and m.mode == 0o444 and m.uname == "onset" for m in members)
    assert names == [f"take__{i:06d}.{s}" for i in range(7) for s in ("rgb.png", "depth.png", "json")]
    assert not list((tmp_path / "train").glob("*.partial"))


def test_shards_are_cut_before_a_sample_would_pass_the_byte_limit(tmp_path):
    shards = _write(tmp_path, 6, max_bytes=7000, max_samples=100)  # a sample takes 3 x 1024 bytes of tar
    counts = [len(index_shard(p)) for p in shards]
    # A shard ends in two empty blocks, padded to tarfile's 10 kB records.
    assert counts == [2, 2, 2] and all(p.stat().st_size <= 7000 + tarfile.RECORDSIZE for p in shards)
    big = ShardWriter(tmp_path / "big", max_bytes=10)
    big.add("only", _files(0, size=5000))
    assert len(big.close()) == 1  # a sample larger than the limit still gets a shard of its own


def test_the_same_samples_give_the_same_bytes(tmp_path):
    first = _write(tmp_path / "a", 5, max_samples=2)
    second = _write(tmp_path / "b", 5, max_samples=2)
    assert [p.read_bytes() for p in first] == [p.read_bytes() for p in second]


def test_index_shard_finds_each_files_bytes(tmp_path):
    (shard,) = _write(tmp_path, 4)
    refs = index_shard(shard)
    assert [r.key for r in refs] == [f"take__{i:06d}" for i in range(4)]
    with open(shard, "rb") as handle:
        for i, ref in enumerate(refs):
            assert {s: read_member(handle, *where) for s, where in ref.members.items()} == _files(i)


def test_keys_with_dots_are_refused_and_an_aborted_shard_leaves_nothing(tmp_path):
    writer = ShardWriter(tmp_path)
    with pytest.raises(ValueError, match="without '.' or '/'"):
        writer.add("take.1__000001", _files(1))
    writer.add("take__000001", _files(1))
    writer.abort()
    assert list(tmp_path.iterdir()) == [] and writer.close() == []


def test_the_reader_refuses_what_is_not_a_whole_dataset(tmp_path):
    with pytest.raises(DatasetFormatError, match="has no index.json"):
        read_index(tmp_path)
    (tmp_path / "index.json").write_text(json.dumps({"format": "something-else"}))
    with pytest.raises(DatasetFormatError, match="not an Onset captioner dataset index"):
        read_index(tmp_path)
    (tmp_path / "index.json").write_text(json.dumps({"format": "onset-captioner-dataset", "schema_version": 99}))
    with pytest.raises(DatasetFormatError, match="schema version 99 is newer"):
        read_index(tmp_path)
    with tarfile.open(tmp_path / "broken.tar", "w") as tar:
        info = tarfile.TarInfo("take__000001.json")
        info.size = 2
        tar.addfile(info, io.BytesIO(b"{}"))
    with pytest.raises(DatasetFormatError, match="sample take__000001 lacks rgb.png, depth.png"):
        index_shard(tmp_path / "broken.tar")
