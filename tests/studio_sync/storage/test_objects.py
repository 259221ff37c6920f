"""A take's objects read back from the store: keys trusted only as paths inside the take, every page
listed, and each object streamed to disk with the digest of the bytes written."""

from __future__ import annotations

import pytest
import xxhash

from studio_sync.storage import StorageRequestError
from studio_sync.storage.objects import download, is_ignored, key_problem, list_take_objects, take_prefix
from tests.harness.studio import running_studio


@pytest.fixture(scope="module")
def studio():
    with running_studio() as running:
        yield running


class _Listing:
    """A client whose listing is the one page given (the store itself keeps such keys out of reach)."""

    def __init__(self, keys):
        self._page = {"Contents": [{"Key": key, "Size": 0 if key.endswith("/") else 1, "ETag": '"e"'}
                                   for key in keys]}

    def get_paginator(self, operation):
        assert operation == "list_objects_v2"
        return self

    def paginate(self, **kwargs):
        return iter([self._page])


@pytest.mark.parametrize("rel", ["../etc/passwd", "bag/../../x", "bag//bag_0.mcap", "./take.json", "",
                                 "bag\\bag_0.mcap", "take\x00.json", "take\x7f.json", "bag/"])
def test_a_key_that_is_not_a_path_inside_the_take_is_refused(rel):
    assert key_problem(rel) is not None


@pytest.mark.parametrize("rel", ["take.json", "bag/bag_0.mcap", "ascmhl/ascmhl_chain.xml", "captions.json",
                                 "bag/.hidden", "a b/c..d"])
def test_ordinary_paths_are_accepted(rel):
    assert key_problem(rel) is None


def test_a_listed_key_that_leaves_the_take_is_refused_and_not_listed():
    client = _Listing(["takes/t/take.json", "takes/t/../../etc/passwd", "takes/t/bag/"])
    objects, problems = list_take_objects(client, "b", "takes", "t", "http://store")
    assert [o.rel for o in objects] == ["take.json"]
    assert objects[0].etag == "e"
    assert problems == ["unsafe key: takes/t/../../etc/passwd (it has an empty, '.' or '..' part); a take's keys "
                        "are paths inside the take"]


def test_every_page_of_a_take_is_listed_and_nothing_of_another_take(studio):
    writer = studio.client("writer")
    rels = [f"bag/part_{i}.bin" for i in range(5)] + ["take.json"]
    for rel in rels:
        writer.put_object(Bucket=studio.bucket, Key=take_prefix("paged/", "t1") + rel, Body=rel.encode())
    writer.put_object(Bucket=studio.bucket, Key="paged/t10/take.json", Body=b"another take")
    reader = studio.client("reader")
    requests = []
    reader.meta.events.register("before-call.s3.ListObjectsV2", lambda **kwargs: requests.append(1))
    objects, problems = list_take_objects(reader, studio.bucket, "paged/", "t1", studio.config.endpoint_url(),
                                          page_size=2)
    assert len(requests) == 3
    assert [o.rel for o in objects] == sorted(rels) and problems == []
    assert [o.size for o in objects] == [len(rel) for rel in sorted(rels)]
    assert all(o.last_modified and o.last_modified.endswith("Z") and o.etag for o in objects)


@pytest.mark.parametrize("hash_format, referee", [("xxh64", xxhash.xxh64), ("xxh128", xxhash.xxh3_128)])
def test_a_download_returns_the_digest_of_the_bytes_it_wrote(studio, tmp_path, hash_format, referee):
    body = bytes(range(256)) * 9000  # over two blocks of READ_BYTES
    key = take_prefix("fetched/", "t") + "bag/bag_0.mcap"
    studio.client("writer").put_object(Bucket=studio.bucket, Key=key, Body=body)
    heard = []
    dest = tmp_path / "t" / "bag" / "bag_0.mcap"
    size, digest = download(studio.client("reader"), studio.bucket, key, dest, studio.config.endpoint_url(),
                            hash_format, heard.append)
    assert dest.read_bytes() == body and size == len(body) == sum(heard)
    assert digest == referee(body).hexdigest()
    assert download(studio.client("reader"), studio.bucket, key, tmp_path / "plain", studio.config.endpoint_url()) \
        == (len(body), None)


def test_a_download_never_writes_over_a_file_and_a_missing_object_leaves_none(studio, tmp_path):
    reader, endpoint = studio.client("reader"), studio.config.endpoint_url()
    there = tmp_path / "there"
    there.write_bytes(b"kept")
    with pytest.raises(FileExistsError):
        download(reader, studio.bucket, "fetched/t/bag/bag_0.mcap", there, endpoint)
    assert there.read_bytes() == b"kept"
    with pytest.raises(StorageRequestError, match="reading s3://.*/fetched/t/no-such-file"):
        download(reader, studio.bucket, "fetched/t/no-such-file", tmp_path / "absent", endpoint)
    assert not (tmp_path / "absent").exists()


@pytest.mark.parametrize("rel, ignored", [("bag/.DS_Store", True), (".DS_Store", True), ("bag/bag_0.mcap", False),
                                          ("notes/a.tmp", True), ("a.tmp", False)])
def test_the_history_ignore_list_leaves_out_names_anywhere_and_paths_whole(rel, ignored):
    assert is_ignored(rel, [".DS_Store", "ascmhl", "notes/*.tmp", ""]) is ignored
