"""Paths that could lead out of a take (links, '..', absolute paths, devices) are refused; nothing is written."""

from __future__ import annotations

import json
import os

import pytest

from studio_sync.custody import UnexpectedFileError, UnsafePathError, seal_take, verify_take
from studio_sync.custody.paths import recorded_path_problem

from .mhl import file_hashes, generation_files, rechain, snapshot


@pytest.mark.parametrize("target", ["outside", "inside"])
def test_a_symbolic_link_in_a_take_is_refused_and_nothing_is_written(take, tmp_path, target):
    secret = tmp_path / "secret.txt"
    secret.write_text("not part of the take")
    link = take / "bag" / "extra.mcap"
    link.symlink_to(secret if target == "outside" else take / "bag" / "bag_0.mcap")
    before = snapshot(take)
    with pytest.raises(UnsafePathError, match="bag/extra.mcap is a symbolic link"):
        seal_take(take)
    assert snapshot(take) == before and not (take / "ascmhl").exists()


def test_a_link_added_after_the_seal_stops_verify(take, tmp_path):
    seal_take(take)
    (tmp_path / "elsewhere").mkdir()
    (take / "more").symlink_to(tmp_path / "elsewhere")
    before = snapshot(take)
    with pytest.raises(UnsafePathError, match="more is a symbolic link"):
        verify_take(take)
    assert snapshot(take) == before


def test_a_history_folder_that_is_a_link_is_refused(take, tmp_path):
    seal_take(take)
    os.rename(take / "ascmhl", tmp_path / "moved")
    (take / "ascmhl").symlink_to(tmp_path / "moved")
    with pytest.raises(UnsafePathError, match="ascmhl is a symbolic link"):
        verify_take(take)


@pytest.mark.parametrize("forged", ["../../etc/passwd", "/etc/passwd", "bag/../../x", "ascmhl/0001.mhl"])
def test_an_mhl_path_that_leaves_the_take_is_refused(take, forged):
    seal_take(take)
    gen1 = generation_files(take)[0]
    gen1.write_text(gen1.read_text().replace(">bag/metadata.yaml<", f">{forged}<"))
    rechain(take)
    assert forged in file_hashes(gen1)
    before = snapshot(take)
    with pytest.raises(UnsafePathError, match="names files inside the take only"):
        verify_take(take)
    with pytest.raises(UnsafePathError):
        seal_take(take)
    assert snapshot(take) == before


def test_a_fifo_in_a_take_is_refused(take):
    os.mkfifo(take / "bag" / "pipe")
    with pytest.raises(UnsafePathError, match="bag/pipe is a FIFO"):
        seal_take(take)
    assert not (take / "ascmhl").exists()


def test_a_bag_folder_named_out_of_the_take_is_refused(take):
    doc = json.loads((take / "take.json").read_text())
    doc["bag"]["path"] = "../elsewhere"
    (take / "take.json").write_text(json.dumps(doc))
    with pytest.raises(UnsafePathError, match="climbs out of the take"):
        seal_take(take)
    assert not (take / "ascmhl").exists()


def test_a_second_history_inside_the_take_is_refused(take):
    (take / "bag" / "ascmhl").mkdir()
    with pytest.raises(UnexpectedFileError, match="bag/ascmhl is a second ASC MHL history"):
        seal_take(take)


def test_a_name_xml_cannot_hold_is_refused(take):
    (take / "bag" / "bad\x01name").write_bytes(b"x")
    with pytest.raises(UnexpectedFileError, match="control characters"):
        seal_take(take)
    assert not (take / "ascmhl").exists()


@pytest.mark.parametrize("path,ok", [
    ("take.json", True), ("bag/bag_0.mcap", True), ("captions.v2.json", True),
    ("", False), ("..", False), ("a/../b", False), ("/abs", False), ("C:/x", False), ("a//b", False),
    ("./a", False), ("a\\b", False), ("ascmhl/x.mhl", False),
])
def test_recorded_paths(path, ok):
    assert (recorded_path_problem(path) is None) == ok
