"""``onset sync verify|seal|copy`` through ``onset``'s own entry point: output, JSON and exit codes."""

from __future__ import annotations

import json

import pytest

from edge.cli.main import main

from .mhl import generation_files


@pytest.fixture(autouse=True)
def _no_takes_dir_from_the_environment(monkeypatch):
    monkeypatch.delenv("ONSET_TAKES_DIR", raising=False)


def test_seal_then_verify_by_name_and_by_path(take, takes_dir, capsys):
    assert main(["sync", "seal", "12_3_004", "--takes-dir", str(takes_dir), "--hash-format", "xxh128"]) == 0
    out = capsys.readouterr().out
    assert f"sealed {take.name}: generation 1" in out and "3 files" in out and "xxh128" in out
    assert len(generation_files(take)) == 1
    assert main(["sync", "verify", str(take)]) == 0
    assert capsys.readouterr().out.startswith(f"VERIFIED  {take.name}: verified 3 files against generation 1")


def test_verify_names_what_differs_and_exits_1(take, make_take, takes_dir, capsys):
    other = make_take(name="12_3_005_20270115T081000Z", seed=1)
    assert main(["sync", "seal", str(take), str(other)]) == 0
    (take / "bag" / "metadata.yaml").unlink()
    (take / "captions.json").write_text("{}")
    bag = take / "bag" / "bag_0.mcap"
    bag.write_bytes(b"x" + bag.read_bytes()[1:])
    capsys.readouterr()
    assert main(["sync", "verify", take.name, other.name, "nosuch", "--takes-dir", str(takes_dir)]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == f"FAILED    {take.name}: does NOT match generation 1: 1 altered, 1 missing, 1 extra"
    rows = {line.split()[0]: line.split() for line in lines[2:5]}
    assert rows["altered"][1:3] == ["bag/bag_0.mcap", "xxh64"] and rows["altered"][3] != rows["altered"][4]
    assert rows["missing"][1] == "bag/metadata.yaml" and rows["extra"][1] == "captions.json"
    assert lines[5].startswith(f"VERIFIED  {other.name}")
    assert lines[6].startswith("FAILED    nosuch: no take 'nosuch'")


def test_verify_json(take, capsys):
    assert main(["sync", "seal", str(take)]) == 0
    (take / "take.json").write_text("{}")
    capsys.readouterr()
    assert main(["sync", "verify", str(take), "--json"]) == 1
    (doc,) = json.loads(capsys.readouterr().out)
    assert doc["ok"] is False and doc["generation"] == 1
    assert [a["path"] for a in doc["altered"]] == ["take.json"] and doc["missing"] == doc["extra"] == []


def test_a_damaged_history_fails_verify_with_the_reason(take, capsys):
    assert main(["sync", "seal", str(take)]) == 0
    gen1 = generation_files(take)[0]
    gen1.write_text(gen1.read_text().replace("xxh64", "xxh32"))
    capsys.readouterr()
    assert main(["sync", "verify", str(take)]) == 1
    assert "changed after it was written" in capsys.readouterr().out
    assert main(["sync", "verify", str(take), "--json"]) == 1
    (doc,) = json.loads(capsys.readouterr().out)
    assert doc["ok"] is False and "changed after it was written" in doc["error"]


def test_seal_and_copy_report_failures_on_stderr_with_exit_1(take, tmp_path, capsys):
    assert main(["sync", "copy", str(take), str(tmp_path)]) == 1
    assert "has no ASC MHL history" in capsys.readouterr().err
    assert main(["sync", "seal", str(tmp_path / "nowhere")]) == 1
    assert "does not exist" in capsys.readouterr().err


def test_copy_adds_a_transfer_generation_that_verifies(take, tmp_path, capsys):
    assert main(["sync", "seal", str(take)]) == 0
    shuttle = tmp_path / "shuttle"
    shuttle.mkdir()
    assert main(["sync", "copy", str(take), str(shuttle), "--progress", "--author", "Jo"]) == 0
    captured = capsys.readouterr()
    assert f"copied {take.name} to {shuttle / take.name}" in captured.out and "generation 2 (transfer)" in captured.out
    assert main(["sync", "verify", str(shuttle / take.name)]) == 0
    assert main(["sync", "copy", str(take), str(shuttle)]) == 1
    assert "already exists" in capsys.readouterr().err


@pytest.mark.parametrize("command", ["verify", "seal", "copy"])
def test_help_teaches_with_examples(command, capsys):
    with pytest.raises(SystemExit) as done:
        main(["sync", command, "--help"])
    assert done.value.code == 0
    out = capsys.readouterr().out
    assert "examples:" in out and f"onset sync {command} 12_3_004" in out and "--profile" in out
