"""``onset dataset build`` and ``onset dataset show`` as a user runs them, and their errors."""

from __future__ import annotations

import json
import shutil

from edge.cli.dataset_cmd import expand_takes
from edge.cli.main import main
from tests.engines.captioner.dataset.conftest import NO_FRAMES, NO_LIDAR, NO_TELEMETRY


def test_build_prints_the_split_table_then_show_counts_per_split_and_class(pan, tmp_path, capsys):
    out = tmp_path / "ds"
    takes = [str(pan.takes[NO_LIDAR]), str(pan.takes[NO_TELEMETRY])]
    assert main(["dataset", "build", *takes, "--out", str(out), "--fps", "6", "--test-scenes", "pan-s7"]) == 0
    printed = capsys.readouterr().out.splitlines()
    assert printed[0].split() == ["SPLIT", "SCENES", "TAKES", "SCENE", "NAMES"]
    assert printed[3].split() == ["test", "1", "2", "pan-s7"]
    assert "no scene fell in train or val" in printed[4]
    assert printed[5].startswith("54 samples (train 0, val 0, test 54) from 2 takes")
    assert any("has no LiDAR" in line for line in printed) and any("has no rig pose, lens" in line for line in printed)
    index = json.loads((out / "index.json").read_text())
    assert index["build"]["fps"] == 6.0 and index["splits"]["test"]["samples"] == 54
    assert main(["dataset", "show", str(out)]) == 0
    shown = capsys.readouterr().out
    lines = shown.splitlines()
    assert lines[2].split() == ["SPLIT", "SCENES", "TAKES", "SAMPLES", "SHOTS", "SHARDS", "SCENE", "NAMES"]
    # The take without LiDAR keeps its movement from the telemetry at 6 fps: static, the pan, static.
    assert lines[5].split() == ["test", "1", "2", "54", "4", "1", "pan-s7"]
    size = lines.index("SHOT_SIZE  TRAIN  VAL  TEST")
    assert lines[size + 1].split() == ["missing", "0", "0", "54"]  # no shot size without LiDAR or rig poses
    missing = lines.index("MISSING             TRAIN  VAL  TEST")
    assert lines[missing + 2].split() == ["focal_length_mm", "0", "0", "27"]  # the take without telemetry


def test_errors_are_one_line_naming_the_problem(pan, tmp_path, capsys):
    assert main(["dataset", "build", str(tmp_path), "--out", str(tmp_path / "ds")]) == 1
    assert "is not a take folder: it has no take.json" in capsys.readouterr().err
    assert main(["dataset", "build", str(pan.takes[NO_FRAMES]), "--out", str(tmp_path / "ds")]) == 1
    assert "has no camera frames on /onset/camera/image_raw" in capsys.readouterr().err
    assert main(["dataset", "build", str(pan.takes[NO_LIDAR]), "--out", str(tmp_path / "ds"),
                 "--val-scenes", "pan-s7", "--test-scenes", "pan-s7"]) == 1
    assert "named for both validation and test" in capsys.readouterr().err
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "notes.txt").write_text("mine")
    assert main(["dataset", "build", str(pan.takes[NO_LIDAR]), "--out", str(tmp_path / "busy")]) == 1
    assert "not a dataset's (notes.txt)" in capsys.readouterr().err
    assert main(["dataset", "show", str(tmp_path)]) == 1
    assert "has no index.json" in capsys.readouterr().err


def test_a_folder_of_takes_is_every_take_in_it_and_overwrite_replaces_a_dataset(pan, tmp_path, capsys):
    takes = tmp_path / "takes"
    takes.mkdir()
    for variant in (NO_LIDAR, NO_TELEMETRY):
        (takes / pan.takes[variant].name).symlink_to(pan.takes[variant])
    (takes / "not-a-take").mkdir()
    assert expand_takes([str(takes)]) == sorted(takes / pan.takes[v].name for v in (NO_LIDAR, NO_TELEMETRY))
    out = tmp_path / "ds"
    args = ["dataset", "build", str(takes), "--out", str(out), "--fps", "3"]
    assert main(args) == 0
    assert main(args) == 1 and "already holds a dataset" in capsys.readouterr().err
    shutil.rmtree(takes / pan.takes[NO_TELEMETRY].name, ignore_errors=True)
    (takes / pan.takes[NO_TELEMETRY].name).unlink(missing_ok=True)
    assert main(args + ["--overwrite"]) == 0
    assert json.loads((out / "index.json").read_text())["counts"]["takes"] == 1
