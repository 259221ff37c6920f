"""`onset studio up|status|keys|down` on a profile whose embedded studio sits on free ports."""

from __future__ import annotations

import json
import subprocess

import pytest

from edge.cli.main import main
from tests.harness.studio import running_studio


def test_up_status_keys_down(capsys):
    with running_studio(start=False) as idle:
        profile = str(idle.profile)
        assert main(["studio", "status", "--profile", profile]) == 3
        capsys.readouterr()

        assert main(["studio", "up", "--profile", profile]) == 0
        out = capsys.readouterr().out
        assert f"S3 at http://127.0.0.1:{idle.config.embedded.s3_port}" in out

        assert main(["studio", "status", "--profile", profile, "--json"]) == 0
        status = json.loads(capsys.readouterr().out)
        assert status["answers"] is True and status["mode"] == "single"
        assert [p["running"] for p in status["processes"]] == [True]

        assert main(["studio", "keys", "--profile", profile, "--shell"]) == 0
        exports = capsys.readouterr().out
        # Another S3 tool takes those keys: the reader lists the bucket with Debian's rclone.
        env = {}
        for line in exports.splitlines():
            name, _, value = line.removeprefix("export ").partition("=")
            env[name] = value.strip("'")
        listed = subprocess.run(
            ["rclone", "lsjson", f":s3:{idle.bucket}", "--s3-provider=SeaweedFS",
             f"--s3-endpoint={env['AWS_ENDPOINT_URL']}", f"--s3-access-key-id={env['AWS_ACCESS_KEY_ID']}",
             f"--s3-secret-access-key={env['AWS_SECRET_ACCESS_KEY']}", "--s3-region=us-east-1"],
            capture_output=True, text=True, timeout=60, env={"PATH": "/usr/bin:/bin", "HOME": str(idle.folder)})
        assert listed.returncode == 0, listed.stderr
        assert json.loads(listed.stdout) == []

        assert main(["studio", "down", "--profile", profile, "--grace", "1"]) == 0
        assert "nothing left running" in capsys.readouterr().out
        assert idle.studio.running() == []
        assert main(["studio", "down", "--profile", profile]) == 3
        assert "no studio was started" in capsys.readouterr().err


@pytest.mark.parametrize("bucket", ["Onset_Takes", "ab", "192.168.1.1", "a..b", "-onset"])
def test_a_bucket_name_s3_refuses_is_a_config_error(tmp_path, capsys, bucket):
    profile = tmp_path / "p.yaml"
    profile.write_text(f"studio:\n  storage:\n    bucket: '{bucket}'\n")
    assert main(["studio", "status", "--profile", str(profile)]) == 2
    assert "storage.bucket" in capsys.readouterr().err


def test_a_prefix_that_leaves_the_bucket_root_is_refused(tmp_path, capsys):
    profile = tmp_path / "p.yaml"
    profile.write_text("studio:\n  storage:\n    prefix: 'takes/../other/'\n")
    assert main(["studio", "status", "--profile", str(profile)]) == 2
    assert "prefix" in capsys.readouterr().err
