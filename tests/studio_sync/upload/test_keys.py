"""Object keys: <prefix><take>/<path>, and every key or path that is refused, with the rule it breaks."""

from __future__ import annotations

import os

import pytest
from hypothesis import given
from hypothesis import strategies as st

from studio_sync.upload import InvalidKeyError, UnsafeUploadPathError, key_problem, object_key, take_file_path

TAKE = "12_3_004_20270115T080000Z"


def test_a_key_is_prefix_take_and_posix_path():
    assert object_key("takes/", TAKE, "bag/bag_0.mcap") == f"takes/{TAKE}/bag/bag_0.mcap"
    assert object_key("", TAKE, "take.json") == f"{TAKE}/take.json"
    assert object_key("studio/day3", TAKE, "ascmhl/ascmhl_chain.xml") == f"studio/day3/{TAKE}/ascmhl/ascmhl_chain.xml"


@pytest.mark.parametrize(("rel", "rule"), [
    ("../secret", "climbs out"),
    ("bag/../../x", "climbs out"),
    ("/etc/passwd", "absolute"),
    ("bag//bag_0.mcap", "empty or '.'"),
    ("./take.json", "empty or '.'"),
    ("bag\\bag_0.mcap", "backslash"),
    ("bag/bag\n0.mcap", "control character"),
    ("bag/\x7f", "control character"),
    ("", "empty"),
])
def test_a_path_that_is_not_inside_the_take_is_refused(rel, rule):
    with pytest.raises(InvalidKeyError, match=rule):
        object_key("takes/", TAKE, rel)


@pytest.mark.parametrize("name", ["", "..", ".", "a/b", "take\tone", "a\\b"])
def test_a_take_name_that_cannot_be_a_key_segment_is_refused(name):
    with pytest.raises(InvalidKeyError, match="cannot be part of an object key"):
        object_key("takes/", name, "take.json")


def test_a_key_over_1024_bytes_of_utf8_is_refused_and_names_its_size():
    assert object_key("p" * 900 + "/", TAKE, "é" * 40)  # 900 + 1 + 25 + 1 + 80 = 1007 bytes
    with pytest.raises(InvalidKeyError, match="at most 1024 bytes of UTF-8, this one is 1047"):
        object_key("p" * 900 + "/", TAKE, "é" * 60)


def _referee(key: str) -> bool:
    """The key rules, written again: what S3 and Onset accept."""
    segments = key.split("/")
    return (bool(key) and not key.startswith("/") and not key.endswith("/") and "\\" not in key
            and all(s not in ("", ".", "..") for s in segments)
            and all(ord(c) >= 0x20 and ord(c) != 0x7F for c in key)
            and len(key.encode("utf-8", "surrogatepass")) <= 1024 and not any(0xD800 <= ord(c) < 0xE000 for c in key))


@given(st.text(alphabet=st.sampled_from(["a", "é", "/", ".", "\\", "\n", "\x7f", " ", "ß", "\ud800"]), max_size=40)
       | st.text(max_size=1100))
def test_key_problem_agrees_with_the_rules(key):
    assert (key_problem(key) is None) == _referee(key)


def test_a_path_through_a_link_or_out_of_the_take_is_refused(tmp_path):
    take = tmp_path / TAKE
    (take / "bag").mkdir(parents=True)
    (take / "bag" / "bag_0.mcap").write_bytes(b"x")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "bag_0.mcap").write_bytes(b"secret")
    assert take_file_path(take, "bag/bag_0.mcap") == take / "bag" / "bag_0.mcap"
    os.symlink(outside, take / "linked")
    with pytest.raises(UnsafeUploadPathError, match="symbolic link"):
        take_file_path(take, "linked/bag_0.mcap")
    with pytest.raises(UnsafeUploadPathError, match="climbs out"):
        take_file_path(take, "../outside/bag_0.mcap")
    with pytest.raises(UnsafeUploadPathError, match="absolute"):
        take_file_path(take, str(outside / "bag_0.mcap"))
