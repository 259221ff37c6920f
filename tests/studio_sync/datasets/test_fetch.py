"""A take fetched from the studio into the cache: every file verified against its MHL, verified files kept."""

from __future__ import annotations

import hashlib

import pytest

from studio_sync.datasets import MANIFEST_FILE, TakeLocation, TakeNotVerifiedError, fetch_take, history_sha256
from tests.studio_sync.datasets.conftest import MS, PAN
from tests.studio_sync.datasets.store import CountingClient, take_files, upload_take


def _location(studio, name, prefix=None):
    config = studio.config
    return TakeLocation(name, config.storage.bucket, config.storage.prefix if prefix is None else prefix,
                        config.endpoint_url())


def _flip_last_byte(data: bytes) -> bytes:
    return data[:-1] + bytes([data[-1] ^ 0x01])


def test_a_fetched_take_is_the_take_byte_for_byte_and_verified_files_are_not_fetched_again(studio, takes,
                                                                                           tmp_path):
    folder = takes.by_scene[PAN]
    reader = CountingClient(studio.running.client("reader"))
    location = _location(studio, folder.name)

    first = fetch_take(reader, location, tmp_path / "cache")
    local = take_files(folder)
    recorded = sorted(rel for rel in local if not rel.startswith("ascmhl/"))
    assert sorted(first.downloaded) == recorded and first.reused == ()
    assert {rel: p.read_bytes() for rel, p in take_files(first.folder).items()} == \
        {rel: p.read_bytes() for rel, p in local.items()}
    assert first.folder == tmp_path / "cache" / first.history_sha256[:32] / folder.name
    assert first.history_sha256 == hashlib.sha256((folder / "ascmhl" / "ascmhl_chain.xml").read_bytes()).hexdigest()
    assert first.history_sha256 == history_sha256(folder)
    assert first.generation == 1 and first.generation_c4.startswith("c4")
    assert first.provenance()["url"] == f"s3://{studio.running.bucket}/{studio.config.storage.prefix}{folder.name}/"

    reader.got.clear()
    again = fetch_take(reader, location, tmp_path / "cache")
    assert again.downloaded == () and sorted(again.reused) == recorded
    # Only the history is read from the store again: it is what vouches for the cached files.
    assert sorted(reader.got) == sorted(f"{studio.config.storage.prefix}{folder.name}/{rel}" for rel in local
                                        if rel.startswith("ascmhl/"))

    damaged = first.folder / "bag" / "metadata.yaml"
    damaged.write_bytes(_flip_last_byte(damaged.read_bytes()))
    stray = first.folder / "bag" / "bag_1.mcap"  # the builder would read a second bag file
    stray.write_bytes(b"not recorded")
    third = fetch_take(reader, location, tmp_path / "cache")
    assert third.downloaded == ("bag/metadata.yaml",)
    assert damaged.read_bytes() == (folder / "bag" / "metadata.yaml").read_bytes()
    assert not stray.exists()


@pytest.mark.parametrize("how", ["altered", "missing", "extra", "history"])
def test_a_take_that_does_not_verify_in_the_store_is_refused_naming_the_file(studio, takes, tmp_path, how):
    folder = takes.by_scene[MS]
    prefix = f"refused-{how}/"
    writer = studio.running.client("writer")
    history = next(rel for rel in take_files(folder) if rel.endswith(".mhl"))
    alter = {"altered": {"bag/bag_0.mcap": _flip_last_byte}, "missing": {"take.json": lambda data: None},
             "history": {history: lambda data: data.replace(b"onset-tests", b"someone-else")}}.get(how, {})
    upload_take(writer, studio.running.bucket, prefix, folder, alter)
    if how == "extra":
        writer.put_object(Bucket=studio.running.bucket, Key=f"{prefix}{folder.name}/bag/notes.txt", Body=b"hello")
    with pytest.raises(TakeNotVerifiedError) as caught:
        fetch_take(studio.running.client("reader"), _location(studio, folder.name, prefix), tmp_path / "cache")
    err = caught.value
    assert err.take == folder.name
    expected = {"altered": "altered: bag/bag_0.mcap", "missing": "missing: take.json",
                "extra": "extra: bag/notes.txt", "history": "changed after it was written"}[how]
    assert expected in str(err)
    # A file that did not verify never lands in the cache.
    landed = {rel: p.read_bytes() for p in (tmp_path / "cache").glob("*/*") if p.is_dir()
              for rel, p in take_files(p).items()}
    assert all(data == (folder / rel).read_bytes() for rel, data in landed.items() if not rel.startswith("ascmhl/"))
    assert not any(rel == "bag/notes.txt" for rel in landed)


def test_an_object_replaced_in_the_store_after_it_was_cached_is_checked_again(studio, takes, tmp_path):
    folder = takes.by_scene[MS]
    prefix = "replaced/"
    writer, reader = studio.running.client("writer"), studio.running.client("reader")
    upload_take(writer, studio.running.bucket, prefix, folder)
    location = _location(studio, folder.name, prefix)
    cached = fetch_take(reader, location, tmp_path / "cache")
    assert (cached.folder.parent / MANIFEST_FILE).is_file()
    # Same size, one bit changed: only a new read of the object can tell (its ETag changed).
    upload_take(writer, studio.running.bucket, prefix, folder, {"bag/bag_0.mcap": _flip_last_byte})
    with pytest.raises(TakeNotVerifiedError, match="altered: bag/bag_0.mcap"):
        fetch_take(reader, location, tmp_path / "cache")
    assert (cached.folder / "bag" / "bag_0.mcap").read_bytes() == (folder / "bag" / "bag_0.mcap").read_bytes()
