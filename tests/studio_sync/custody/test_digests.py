"""Streaming digests: the same hex as one-shot xxhash and as Debian's xxhsum, block boundaries included."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest
import xxhash
from hypothesis import given
from hypothesis import strategies as st

from studio_sync.custody import HASH_FORMATS, UnsafePathError, UnsupportedHashFormatError, file_digest, file_digests
from studio_sync.custody import digests as digests_module

XXHSUM = shutil.which("xxhsum") or "/usr/bin/xxhsum"
ONE_SHOT = {"xxh64": lambda b: xxhash.xxh64(b).hexdigest(), "xxh128": lambda b: xxhash.xxh3_128(b).hexdigest()}


def test_known_digests_of_the_empty_file(tmp_path):
    empty = tmp_path / "empty"
    empty.write_bytes(b"")
    # XXH64 and XXH3-128 of no bytes, seed 0, as the xxHash reference prints them.
    assert file_digest(empty, "xxh64") == "ef46db3751d8e999"
    assert file_digest(empty, "xxh128") == "99aa06d3014798d86001c324468d497f"


@given(data=st.binary(max_size=200), block=st.integers(1, 17))
def test_reading_in_blocks_gives_the_one_shot_digest(tmp_path_factory, data, block):
    path = tmp_path_factory.mktemp("blocks") / "f"
    path.write_bytes(data)
    seen = []
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(digests_module, "READ_BYTES", block)
        got = file_digests(path, HASH_FORMATS, seen.append)
    assert got == {fmt: ONE_SHOT[fmt](data) for fmt in HASH_FORMATS}
    assert sum(seen) == len(data) and all(0 < n <= block for n in seen)


@pytest.mark.parametrize("size", [1, digests_module.READ_BYTES - 1, digests_module.READ_BYTES,
                                  digests_module.READ_BYTES + 1, 2 * digests_module.READ_BYTES + 5])
def test_files_around_the_block_size(tmp_path, size):
    data = os.urandom(size)
    path = tmp_path / "f"
    path.write_bytes(data)
    assert file_digests(path, HASH_FORMATS) == {fmt: ONE_SHOT[fmt](data) for fmt in HASH_FORMATS}


@pytest.mark.skipif(not os.path.exists(XXHSUM), reason="Debian's xxhash (xxhsum) is not installed")
@pytest.mark.parametrize("fmt,flag", [("xxh64", "-H1"), ("xxh128", "-H2")])
def test_xxhsum_prints_the_same_digest(tmp_path, fmt, flag):
    path = tmp_path / "f.bin"
    path.write_bytes(os.urandom(3 * digests_module.READ_BYTES + 77))
    out = subprocess.run([XXHSUM, flag, str(path)], capture_output=True, text=True, check=True).stdout
    assert out.split()[0] == file_digest(path, fmt)


def test_a_format_onset_does_not_write_is_refused(tmp_path):
    path = tmp_path / "f"
    path.write_bytes(b"x")
    with pytest.raises(UnsupportedHashFormatError, match="'md5'.*xxh64 or xxh128"):
        file_digest(path, "md5")


def test_links_and_special_files_are_never_read(tmp_path):
    target = tmp_path / "target"
    target.write_bytes(b"secret")
    (tmp_path / "link").symlink_to(target)
    with pytest.raises(UnsafePathError, match="symbolic link"):
        file_digest(tmp_path / "link", "xxh64")
    os.mkfifo(tmp_path / "fifo")
    with pytest.raises(UnsafePathError, match="not a regular file"):
        file_digest(tmp_path / "fifo", "xxh64")
