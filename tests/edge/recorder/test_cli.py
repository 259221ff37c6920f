"""``onset takes ls/show/recover`` on a takes folder, ``onset take start/stop/status`` against a control server."""

from __future__ import annotations

import json
import socket

import pytest

from edge.recorder import ControlServer, read_take_json

from .messages import BASE_NS, TOPICS, make_message

TR = "sensor_msgs/msg/TimeReference"
TF = "tf2_msgs/msg/TFMessage"


@pytest.fixture
def takes(recorder):
    """A takes folder with a complete take, a failed one and one whose recorder was killed."""
    recorder.start("12", "3", 1, tc_in="01:00:00:00")
    for i in range(30):
        recorder.write_message(TOPICS[TR], TR, make_message(recorder.types, TR, i), BASE_NS + i * 10**7)
        recorder.write_message("/tf", TF, make_message(recorder.types, TF, i), BASE_NS + i * 10**7 + 1)
    complete = recorder.stop(tc_out="01:00:05:00")

    recorder.start("12", "3", 2)
    for i in range(200):
        recorder.write_message(TOPICS[TR], TR, make_message(recorder.types, TR, i), BASE_NS + i * 10**7)
    killed = recorder.stop()
    # What SIGKILL leaves on disk: no summary, footer or metadata.yaml, take.json still "recording".
    mcap = killed.path / "bag" / "bag_0.mcap"
    mcap.write_bytes(mcap.read_bytes()[: mcap.stat().st_size * 2 // 3])
    (killed.path / "bag" / "metadata.yaml").unlink()
    doc = read_take_json(killed.path)
    doc["status"] = "recording"
    (killed.path / "take.json").write_text(json.dumps(doc))

    (recorder.config.takes_dir / "not-a-take").mkdir()
    return recorder.config.takes_dir, complete, killed


def test_takes_ls_lists_slate_timecode_counts_size_and_status(onset_cli, takes, capsys):
    takes_dir, complete, killed = takes
    assert onset_cli(["takes", "ls", "--takes-dir", str(takes_dir)]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0].split() == ["NAME", "SLATE", "TC", "IN", "TC", "OUT", "DURATION", "MESSAGES", "SIZE", "STATUS"]
    row = next(line for line in lines if line.startswith(complete.name)).split()
    assert row[1:4] == ["12/3/1", "01:00:00:00", "01:00:05:00"] and row[5] == "60" and row[-1] == "complete"
    assert next(line for line in lines if line.startswith(killed.name)).split()[-1] == "interrupted"
    assert "not-a-take" not in out
    assert "onset takes recover --all" in out


def test_takes_show_compares_take_json_with_the_bag(onset_cli, takes, capsys):
    takes_dir, complete, killed = takes
    assert onset_cli(["takes", "show", complete.name, "--takes-dir", str(takes_dir)]) == 0
    out = capsys.readouterr().out
    assert f"take     {complete.name}" in out and "scene 12 shot 3 take 1" in out
    assert "01:00:00:00 -> 01:00:05:00" in out and "metadata v5" in out and "rosbags " in out
    assert any(line.split() == ["/tf", TF, "30", "30"] for line in out.splitlines())
    assert any(line.split() == [TOPICS[TR], TR, "30", "30"] for line in out.splitlines())
    # A unique prefix works; the killed take's bag cannot be read until recovered.
    assert onset_cli(["takes", "show", "12_3_002", "--takes-dir", str(takes_dir)]) == 0
    out = capsys.readouterr().out
    assert "status   interrupted" in out and "run onset takes recover" in out


def test_takes_show_unknown_or_ambiguous_names_fail_clearly(onset_cli, takes, capsys):
    takes_dir, _, _ = takes
    assert onset_cli(["takes", "show", "99_1", "--takes-dir", str(takes_dir)]) == 1
    assert "no take '99_1'" in capsys.readouterr().err
    assert onset_cli(["takes", "show", "12_3", "--takes-dir", str(takes_dir)]) == 1
    assert "matches 2 takes" in capsys.readouterr().err


def test_takes_recover_all_then_ls_shows_it_recovered(onset_cli, takes, capsys):
    takes_dir, complete, killed = takes
    assert onset_cli(["takes", "recover", "--all", "--takes-dir", str(takes_dir)]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"{killed.name}: recovered ") and "original kept as bag/bag_0.mcap.partial" in out
    assert read_take_json(killed.path)["status"] == "recovered"
    assert onset_cli(["takes", "recover", killed.name, "--takes-dir", str(takes_dir)]) == 0
    assert "nothing to do" in capsys.readouterr().out
    assert onset_cli(["takes", "ls", "--takes-dir", str(takes_dir)]) == 0
    row = next(line for line in capsys.readouterr().out.splitlines() if line.startswith(killed.name))
    assert row.endswith("recovered")


def test_takes_ls_on_a_missing_folder_says_so(onset_cli, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("ONSET_TAKES_DIR", str(tmp_path / "nowhere"))
    assert onset_cli(["takes", "ls"]) == 1
    assert f"takes folder {tmp_path / 'nowhere'} does not exist" in capsys.readouterr().err


def test_take_start_status_stop_talk_to_the_node(onset_cli, recorder, capsys, monkeypatch):
    with ControlServer(recorder, token="tok") as server:
        monkeypatch.setenv("ONSET_CONTROL_URL", server.url)
        monkeypatch.setenv("ONSET_CONTROL_TOKEN", "tok")
        argv = ["take", "start", "--scene", "12", "--shot", "3", "--take", "4", "--tc-in", "01:00:00:00"]
        assert onset_cli(argv) == 0
        assert "recording scene 12 shot 3 take 4" in capsys.readouterr().out and recorder.recording
        assert onset_cli(["take", "status"]) == 0
        assert "recording scene 12 shot 3 take 4" in capsys.readouterr().out
        assert onset_cli(["take", "start", "--scene", "12", "--shot", "3", "--take", "5"]) == 1
        assert "is recording: stop it" in capsys.readouterr().err
        assert onset_cli(["take", "stop"]) == 0
        assert "stopped scene 12 shot 3 take 4" in capsys.readouterr().out and not recorder.recording
        assert onset_cli(["take", "stop", "--control", server.url, "--token", "bad"]) == 1
        assert "refused the token" in capsys.readouterr().err


def test_take_start_validates_the_slate_and_reports_no_node(onset_cli, capsys, monkeypatch):
    assert onset_cli(["take", "start", "--scene", "1 2", "--shot", "3", "--take", "4"]) == 2
    assert "cannot name a take" in capsys.readouterr().err
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{s.getsockname()[1]}"
    monkeypatch.setenv("ONSET_CONTROL_URL", url)
    assert onset_cli(["take", "stop"]) == 1
    expected = f"no Onset node is listening at {url}: start it with `make demo` / `onset node run`"
    assert expected in capsys.readouterr().err


@pytest.mark.parametrize("argv", [["take", "start"], ["take", "stop"], ["takes", "ls"], ["takes", "show"],
                                  ["takes", "recover"]])
def test_every_command_has_help_with_examples(onset_cli, capsys, argv):
    with pytest.raises(SystemExit) as done:
        onset_cli([*argv, "--help"])
    assert done.value.code == 0
    assert "examples:" in capsys.readouterr().out
