"""The takes page's studio sync column: each take's state from the upload queue and its seal."""

from __future__ import annotations

from config.studio import StudioConfig
from edge.preview.takes import NOT_SEALED, TakeCatalogue
from studio_sync.custody import seal_take
from studio_sync.upload import push
from tests.studio_sync.custody.conftest import write_take

SEALED, UNSEALED = "12_3_001_20270115T080000Z", "12_3_002_20270115T080100Z"


def _catalogue(tmp_path, studio=True):
    takes = tmp_path / "takes"
    seal_take(write_take(takes / SEALED))
    write_take(takes / UNSEALED)
    config = StudioConfig.model_validate({"upload": {"queue_path": str(tmp_path / "queue.sqlite")}})
    return TakeCatalogue(lambda: takes, studio=config if studio else None), config


def test_a_sealed_take_is_hashed_and_an_unsealed_one_says_so(tmp_path):
    catalogue, _ = _catalogue(tmp_path)
    states = {t["id"]: t["sync"]["state"] for t in catalogue.listing()["takes"]}
    assert states == {SEALED: "hashed", UNSEALED: NOT_SEALED}


def test_without_studio_settings_the_page_shows_no_sync_state(tmp_path):
    catalogue, _ = _catalogue(tmp_path, studio=False)
    assert [t["sync"] for t in catalogue.listing()["takes"]] == [None, None]


def test_a_queue_that_does_not_read_makes_every_take_say_why(tmp_path):
    catalogue, config = _catalogue(tmp_path)
    config.upload.queue_path.write_bytes(b"this is not a SQLite database" * 100)
    listed = catalogue.listing()["takes"]
    assert {t["sync"]["state"] for t in listed} == {"unknown"}
    assert all("upload queue could not be read" in t["sync"]["reason"] for t in listed)


def test_a_take_queued_while_the_studio_is_unreachable_shows_queued(tmp_path, monkeypatch):
    takes = tmp_path / "takes"
    catalogue, _ = _catalogue(tmp_path)
    monkeypatch.setenv("ONSET_STUDIO_ACCESS_KEY", "ONSETTEST")
    monkeypatch.setenv("ONSET_STUDIO_SECRET_KEY", "not-a-secret")
    config = StudioConfig.model_validate({"upload": {"queue_path": str(tmp_path / "queue.sqlite"), "retries": 0},
                                          "storage": {"endpoint_url": "http://127.0.0.1:9", "timeout_s": 2}})
    report = push(config, [takes / SEALED])
    assert not report.ok
    listed = {t["id"]: t["sync"] for t in TakeCatalogue(lambda: takes, studio=config).listing()["takes"]}
    assert listed[SEALED]["state"] == "queued" and listed[UNSEALED]["state"] == NOT_SEALED
    assert catalogue.listing()["takes"][0]["sync"]["state"] == "queued"
