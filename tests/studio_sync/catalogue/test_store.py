"""Take names that are one folder each; the history's ignore list; the uploader's layout.

Keys trusted only as paths inside the take: tests/studio_sync/storage/test_objects.py."""

from __future__ import annotations

import pytest

from studio_sync.catalogue import INGESTED, ingest_takes, open_catalogue
from studio_sync.catalogue.store import name_problem
from tests.studio_sync.catalogue.takes import upload_take


@pytest.mark.parametrize("name, ok", [("12_3_004_20261105T142233Z", True), ("..", False), ("a/b", False),
                                      ("", False), (".", False), ("a\nb", False)])
def test_take_names_are_single_folder_names(name, ok):
    assert (name_problem(name) is None) is ok


def _config_with_prefix(studio, prefix):
    return studio.config.model_copy(update={"storage": studio.config.storage.model_copy(update={"prefix": prefix})})


def _clear(studio, prefix):
    writer = studio.client("writer")
    for page in writer.get_paginator("list_objects_v2").paginate(Bucket=studio.running.bucket, Prefix=prefix):
        for item in page.get("Contents") or []:
            writer.delete_object(Bucket=studio.running.bucket, Key=item["Key"])


def test_a_finder_file_the_history_ignores_is_not_an_extra_file(tmp_path, studio):
    prefix = "finder/"
    writer = studio.client("writer")
    try:
        name = upload_take(writer, studio.running.bucket, prefix, studio.recorded.spare)
        writer.put_object(Bucket=studio.running.bucket, Key=f"{prefix}{name}/bag/.DS_Store", Body=b"\x00\x01")
        with open_catalogue(f"sqlite:///{tmp_path / 'c.sqlite'}") as catalogue:
            outcome, = ingest_takes(_config_with_prefix(studio, prefix), catalogue).outcomes
        assert outcome.status == INGESTED and outcome.files_checked == 3
    finally:
        _clear(studio, prefix)


def test_a_take_pushed_by_the_uploader_is_ingested(tmp_path, studio):
    from studio_sync import upload

    prefix = "pushed/"
    config = _config_with_prefix(studio, prefix)
    try:
        pushed = upload.push(config, [studio.recorded.spare])
        assert pushed.ok, pushed
        with open_catalogue(f"sqlite:///{tmp_path / 'c.sqlite'}") as catalogue:
            outcome, = ingest_takes(config, catalogue).outcomes
        assert (outcome.take, outcome.status) == (studio.recorded.spare.name, INGESTED)
    finally:
        _clear(studio, prefix)
