"""The embedded studio: SeaweedFS's S3 on loopback, signed requests only, stopped with nothing left."""

from __future__ import annotations

import os
import socket
import stat

import boto3
import psutil
import pytest
from botocore import UNSIGNED
from botocore.config import Config
from botocore.exceptions import ClientError

from studio_sync.storage import (
    Credentials,
    CredentialsError,
    EmbeddedStudio,
    StudioNotRunningError,
    StudioStorageError,
    check_access,
    credentials_path,
    s3_client,
)
from tests.harness.studio import running_studio


def _weed_processes(data_dir):
    found = []
    for proc in psutil.process_iter(["cmdline"]):
        argv = proc.info["cmdline"] or []
        if argv and os.path.basename(argv[0]) == "weed" and any(str(data_dir) in a for a in argv):
            if proc.status() != psutil.STATUS_ZOMBIE:
                found.append(proc.pid)
    return found


@pytest.fixture(scope="module")
def studio():
    with running_studio() as running:
        yield running


def test_signed_writer_and_reader_anonymous_refused(studio):
    writer, reader = studio.client("writer"), studio.client("reader")
    writer.put_object(Bucket=studio.bucket, Key="takes/t/a.bin", Body=b"frame")
    assert reader.get_object(Bucket=studio.bucket, Key="takes/t/a.bin")["Body"].read() == b"frame"
    listed = reader.list_objects_v2(Bucket=studio.bucket, Prefix="takes/t/")
    assert [o["Key"] for o in listed["Contents"]] == ["takes/t/a.bin"]
    with pytest.raises(ClientError) as refused:
        reader.put_object(Bucket=studio.bucket, Key="takes/t/b.bin", Body=b"x")
    assert refused.value.response["Error"]["Code"] == "AccessDenied"
    with pytest.raises(ClientError):
        reader.delete_object(Bucket=studio.bucket, Key="takes/t/a.bin")
    anonymous = boto3.client("s3", endpoint_url=studio.config.endpoint_url(), region_name="us-east-1",
                             config=Config(signature_version=UNSIGNED))
    for call in (lambda: anonymous.get_object(Bucket=studio.bucket, Key="takes/t/a.bin"),
                 lambda: anonymous.put_object(Bucket=studio.bucket, Key="takes/t/c.bin", Body=b"x"),
                 lambda: anonymous.list_objects_v2(Bucket=studio.bucket)):
        with pytest.raises(ClientError) as denied:
            call()
        assert denied.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert reader.get_object(Bucket=studio.bucket, Key="takes/t/a.bin")["Body"].read() == b"frame"


def test_wrong_keys_are_refused_with_a_sentence(studio):
    wrong = Credentials("writer", "ONSETWRONGKEY", "not-the-secret")
    client = s3_client(studio.config, credentials=wrong, retries=1)
    with pytest.raises(CredentialsError, match="refused the keys"):
        check_access(client, studio.config.endpoint_url())


def test_every_socket_is_on_loopback(studio):
    listening = []
    for process in studio.studio.running():
        for conn in psutil.Process(process.pid).net_connections(kind="inet"):
            if conn.status == psutil.CONN_LISTEN:
                listening.append(conn.laddr)
    assert listening, "the studio listens on no TCP port"
    assert {addr.ip for addr in listening} == {"127.0.0.1"}, listening


def test_keys_are_private_files(studio):
    for path in (credentials_path(studio.config), studio.config.embedded.data_dir / "s3-identities.json"):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path


def test_a_taken_port_is_named_and_nothing_starts():
    with running_studio(start=False) as idle:
        holder = socket.socket()
        holder.bind(("127.0.0.1", idle.config.embedded.s3_port))
        holder.listen()
        try:
            with pytest.raises(StudioStorageError, match=str(idle.config.embedded.s3_port)):
                idle.studio.up()
        finally:
            holder.close()
        assert idle.studio.state() is None
        assert _weed_processes(idle.config.embedded.data_dir) == []


def test_down_leaves_nothing_running_and_the_data_survives():
    with running_studio() as running:
        data_dir = running.config.embedded.data_dir
        body = os.urandom(300_000)
        running.client().put_object(Bucket=running.bucket, Key="takes/keep/bag_0.mcap", Body=body)
        assert _weed_processes(data_dir)
        running.studio.down(grace_s=1.0)
        assert _weed_processes(data_dir) == []
        assert running.studio.state() is None
        with pytest.raises(StudioNotRunningError):
            running.studio.down()
        running.studio.up()
        got = running.client("reader").get_object(Bucket=running.bucket, Key="takes/keep/bag_0.mcap")
        assert got["Body"].read() == body


def test_up_twice_keeps_the_running_studio(studio):
    before = [p.pid for p in studio.studio.running()]
    again = EmbeddedStudio(studio.config).up()
    assert [p.pid for p in again.processes] == before


def test_a_process_that_dies_at_start_is_reported_with_its_log(tmp_path):
    with running_studio(start=False) as idle:
        fake = tmp_path / "weed"
        fake.write_text("#!/bin/sh\necho 'bad flag -volume.max' >&2\nexit 3\n")
        fake.chmod(0o755)
        with pytest.raises(StudioStorageError, match="exited while starting(.|\n)*bad flag"):
            EmbeddedStudio(idle.config, weed=str(fake)).up()
        assert idle.studio.state() is None
