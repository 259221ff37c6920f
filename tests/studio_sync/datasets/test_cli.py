"""``onset studio dataset build`` on a profile whose studio runs on free ports."""

from __future__ import annotations

import sys

import pytest

from edge.cli.main import main
from edge.cli.studio_dataset_cmd import recorded_command
from engines.captioner.dataset import read_index
from tests.studio_sync.datasets.conftest import PAN
from tests.studio_sync.datasets.samples import samples_by_key


def _argv(studio, out, *extra):
    return ["studio", "dataset", "build", "--profile", str(studio.running.profile), "--catalogue",
            studio.catalogue_url, "--out", str(out), *extra]


def test_help_names_every_way_to_select_and_gives_examples(capsys):
    with pytest.raises(SystemExit) as done:
        main(["studio", "dataset", "build", "--help"])
    assert done.value.code == 0
    text = capsys.readouterr().out
    for word in ("--phrase", "--scene", "--shot-size", "--focal", "--movement", "--ray", "--cache", "--overwrite",
                 "--progress", "examples:", 'onset studio dataset build --out /data/mcu-75 --phrase "MCU, 75mm"'):
        assert word in text


def test_a_phrase_builds_its_frames_and_says_what_it_did(studio, takes, tmp_path, capsys, monkeypatch):
    out = tmp_path / "ds"
    argv = _argv(studio, out, "--phrase", "pan right", "--cache", str(tmp_path / "cache"),
                 "--progress")
    monkeypatch.setattr(sys, "argv", ["onset", *argv])
    assert main(argv) == 0
    captured = capsys.readouterr()
    assert '"pan right" -> movement is pan_right' in captured.out
    assert "from 1 takes" in captured.out and "local;" in captured.out
    assert f"{takes.name(PAN)}: verified against its MHL" in captured.err
    samples = samples_by_key(out)
    assert samples and {s.meta["labels"]["movement"] for s in samples.values()} == {"pan_right"}
    command = read_index(out)["build"]["command"]
    assert command == recorded_command(["onset", *argv]) and "--cache" not in command and "--progress" not in command
    assert "--phrase 'pan right'" in command

    assert main(argv) == 1
    assert "already holds a dataset" in capsys.readouterr().err
    assert main([*argv, "--overwrite"]) == 0
    assert "0 file(s) downloaded" in capsys.readouterr().out


@pytest.mark.parametrize("extra, message", [
    (["--phrase", "ECU"], "nothing selected"),
    (["--phrase", "banana shot"], "--phrase"),
    (["--focal", "wide"], "--focal"),
    (["--shot-size", "MS", "--phrase", "CU"], "different shot sizes"),
    (["--ray", "127.0.0.1:9"], "no Ray cluster answers at 127.0.0.1:9"),
])
def test_what_cannot_be_built_is_one_clear_line(studio, tmp_path, capsys, extra, message):
    assert main(_argv(studio, tmp_path / "ds", *extra)) == 1
    err = capsys.readouterr().err
    assert err.startswith("onset studio dataset build: ") and message in err
    assert "Traceback" not in err


def test_ray_not_installed_says_how_to_install_it(studio, tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)
    assert main(_argv(studio, tmp_path / "ds", "--scene", "ms-s7", "--ray")) == 1
    assert "pip install 'onset-edge[ray]'" in capsys.readouterr().err


def test_the_recorded_command_leaves_out_where_the_work_ran():
    base = ["onset", "studio", "dataset", "build", "--out", "ds", "--phrase", "MCU, 75mm"]
    assert recorded_command(base) == "onset studio dataset build --out ds --phrase 'MCU, 75mm'"
    for engine in (["--ray"], ["--ray", "head:6379"], ["--ray=auto"], ["--ray", "--ray-cpus", "2"],
                   ["--cache", "/scratch/c", "--progress"], ["--cache=/scratch/c", "--ray", "ray://head:10001"]):
        assert recorded_command([*base[:4], *engine, *base[4:]]) == recorded_command(base)
        assert recorded_command([*base, *engine]) == recorded_command(base)
    assert recorded_command([*base, "--ray", "--overwrite"]) == recorded_command([*base, "--overwrite"])
