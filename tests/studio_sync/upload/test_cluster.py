"""The studio as a cluster: one volume server killed mid-upload, and every stored object still reads back."""

from __future__ import annotations

import threading

import pytest

from studio_sync.upload import push
from tests.harness.studio import running_studio
from tests.studio_sync.upload.conftest import MIB, assert_studio_matches_mhl, make_rig


@pytest.fixture(scope="module")
def cluster():
    with running_studio(cluster=True, volume_servers=2) as running:
        yield running


def test_the_cluster_runs_each_part_as_a_process_of_its_own(cluster):
    names = [p.name for p in cluster.studio.running()]
    assert names == ["master", "volume-1", "volume-2", "filer", "s3"]
    assert len({p.pid for p in cluster.studio.running()}) == 5


@pytest.mark.slow
def test_a_volume_server_killed_mid_upload_loses_no_stored_object(cluster, tmp_path):
    rig = make_rig(cluster, tmp_path / "rig", upload={"bandwidth_mib_s": 4.0, "retries": 1},
                   storage={"timeout_s": 5.0})
    stored = rig.take("12_3_001_20270115T080000Z", bag_bytes=12 * MIB, seed=1)
    first = push(rig.config, [stored])
    assert first.ok, first
    assert_studio_matches_mhl(rig, stored)

    rolling = rig.take("12_3_002_20270115T080100Z", bag_bytes=20 * MIB, seed=2)
    killed = threading.Event()

    def kill_once(_rel: str, _part: int) -> None:
        if not killed.is_set():
            killed.set()
            cluster.studio.kill("volume-1")

    result = {}
    worker = threading.Thread(target=lambda: result.setdefault("report", push(rig.config, [rolling],
                                                                               on_part=kill_once)), daemon=True)
    worker.start()
    worker.join(timeout=120)
    assert not worker.is_alive(), "the push did not end within 2 minutes of a volume server dying"
    assert killed.is_set(), "no part was kept before the push ended: the kill never happened mid-upload"
    assert "volume-1" not in [p.name for p in cluster.studio.running()]
    # Every object the studio held before the kill reads back whole from the surviving replica.
    assert_studio_matches_mhl(rig, stored, others_unfinished=True)
    report = result["report"]
    if report.ok:
        assert_studio_matches_mhl(rig, rolling)
    else:
        # Not verified: then the push says why, and the take is not marked synced.
        reasons = [o.reason for o in report.outcomes if not o.ok] + ([report.stopped] if report.stopped else [])
        assert reasons and all(reasons), report
        assert all(o.state != "verified" for o in report.outcomes if o.name == rolling.name)
