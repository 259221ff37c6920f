"""`onset plan ls|show|run`: the crew's table, and the errors that stop a run before it starts."""

from __future__ import annotations

import pytest

from edge.cli.main import main
from edge.plans import FOCAL_LENGTHS_MM, PLAN_NAMES
from edge.plans.runner import next_take_number, plan_slate
from edge.plans.types import PlannedTake


def test_ls_lists_every_plan_with_its_takes(capsys):
    assert main(["plan", "ls"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in out] == list(PLAN_NAMES)
    counts = {line.split()[0]: int(line.split()[1]) for line in out}
    assert counts["full"] == counts["focal-sweep"] + counts["movement-sweep"] + counts["framing-sweep"]
    assert counts["focal-sweep"] == len(FOCAL_LENGTHS_MM)


def test_show_prints_what_the_crew_sets_for_each_take(capsys):
    assert main(["plan", "show", "focal-sweep", "--seconds", "6"]) == 0
    out = capsys.readouterr().out
    assert "focal-sweep: fixed movement static; actor 0" in out
    rows = [line for line in out.splitlines() if "focal_length_mm" in line]
    assert len(rows) == len(FOCAL_LENGTHS_MM)
    for row, focal in zip(rows, FOCAL_LENGTHS_MM):
        assert f"static, {focal:g} mm" in row and "6 s" in row
    assert f"{len(FOCAL_LENGTHS_MM)} takes of 6 s" in out


def test_show_numbers_the_takes_of_full_for_only(capsys):
    assert main(["plan", "show", "full"]) == 0
    out = capsys.readouterr().out
    rows = [line.split() for line in out.splitlines()]
    numbered = [row[0] for row in rows if len(row) > 1 and row[0].isdigit() and row[1] in PLAN_NAMES]
    assert numbered == [str(i) for i in range(len(numbered))] and len(numbered) == 38
    assert out.count("framing-sweep: fixed actor") == 2  # one block per actor


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["plan", "run", "focal-sweep", "--only", "8"], "numbered 0..7"),
        (["plan", "run", "movement-sweep", "--seconds", "1"], "at least 1.60 s"),
        (["plan", "run", "focal-sweep", "--profile", "stage-a-real"], "real rig"),
    ],
)
def test_run_refuses_what_it_cannot_shoot_before_starting_a_node(argv, message, capsys, tmp_path):
    assert main([*argv, "--takes-dir", str(tmp_path)]) == 2
    assert message in capsys.readouterr().err
    assert not any(tmp_path.iterdir())


def test_an_unknown_plan_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as err:
        main(["plan", "show", "lens-sweep"])
    assert err.value.code == 2 and "focal-sweep" in capsys.readouterr().err


def test_a_planned_take_slates_as_its_plan_and_seed_and_takes_the_next_free_number(tmp_path):
    take = PlannedTake(plan="focal-sweep", index=3, parameter="focal_length_mm", value=50.0, unit="mm",
                       duration_s=4.0, instruction="static, 50 mm")
    scene, shot = plan_slate(take, 7)
    assert (scene, shot) == ("focal-sweep-s7", "3")
    assert next_take_number(tmp_path / "missing", scene, shot) == 1
    for name in ("focal-sweep-s7_3_001_20261201T140000Z", "focal-sweep-s7_3_004_20261201T140100Z-1",
                 "focal-sweep-s7_2_009_20261201T140200Z", "focal-sweep-s8_3_011_20261201T140300Z", "notes"):
        (tmp_path / name).mkdir()
    assert next_take_number(tmp_path, scene, shot) == 5
