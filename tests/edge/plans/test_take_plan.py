"""A take carries its capture plan into take.json: through the recorder, the control API, the
node's take control and `onset take start --plan-json`; a bad plan is refused, saying why."""

from __future__ import annotations

import argparse
import json

import pytest

from config import load_profile
from edge.node.takes import NodeTakes
from edge.plans import FOCAL_SWEEP, plan_takes
from edge.recorder import ControlClient, ControlError, ControlServer, RecorderConfig, SlateError, TakeRecorder
from edge.recorder import read_take_json
from edge.recorder.take import PLAN_KEYS, validate_plan

BASE_NS = 1_800_000_000 * 1_000_000_000


@pytest.fixture(scope="module")
def rig():
    return load_profile()


@pytest.fixture
def recorder(tmp_path, rig):
    config = RecorderConfig(takes_dir=tmp_path / "takes", min_free_bytes=0, reserve_bytes=0, fsync_interval_s=0.0)
    steps = iter(range(10**6))
    rec = TakeRecorder(config, rig, clock_ns=lambda: BASE_NS + next(steps) * 1_000_000)
    yield rec
    rec.close()


@pytest.fixture
def plan(rig):
    return plan_takes(FOCAL_SWEEP, camera=rig.camera)[3].to_document(seed=7)


def test_take_json_carries_the_plan_it_was_started_with(recorder, plan):
    started = recorder.start("focal-sweep-s7", "3", 1, tc_in="01:00:15:00", plan=plan)
    assert started.plan == plan
    assert read_take_json(started.path)["plan"] == plan  # from the start, not only once stopped
    stopped = recorder.stop(tc_out="01:00:20:00")
    doc = read_take_json(stopped.path)
    assert doc["plan"] == plan and doc["status"] == "complete"
    assert (doc["plan"]["name"], doc["plan"]["parameter"], doc["plan"]["value"], doc["plan"]["unit"]) == (
        "focal-sweep", "focal_length_mm", 50.0, "mm")
    assert stopped.to_dict()["plan"] == plan


def test_a_take_without_a_plan_says_so(recorder):
    info = recorder.start("12", "3", 4)
    assert info.plan is None
    assert read_take_json(recorder.stop().path)["plan"] is None


def test_the_plan_is_a_copy_the_caller_cannot_change_afterwards(recorder, plan):
    mine = json.loads(json.dumps(plan))
    info = recorder.start("focal-sweep-s7", "3", 1, plan=mine)
    mine["fixed"]["movement"] = "pan"
    mine["index"] = 99
    assert read_take_json(recorder.stop().path)["plan"] == plan
    assert info.plan == plan


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda p: p.pop("parameter"), "lacks parameter"),
        (lambda p: p.update(index=-1), "index must be a whole number >= 0"),
        (lambda p: p.update(index=True), "index must be"),
        (lambda p: p.update(value=float("nan")), "value must be a finite number"),
        (lambda p: p.update(value=[1, 2]), "value must be"),
        (lambda p: p.update(fixed="static"), "fixed must be an object"),
        (lambda p: p.update(seed="7"), "seed must be a whole number"),
        (lambda p: p.update(name=""), "name must be"),
        (lambda p: p.update(shot={"keys": float("inf")}), "not plain JSON"),
        (lambda p: p.update(notes="x" * 20000), "bytes of JSON"),
    ],
)
def test_a_bad_plan_is_refused_naming_what_was_expected(recorder, plan, change, message):
    change(plan)
    with pytest.raises(SlateError, match=message):
        recorder.start("focal-sweep-s7", "3", 1, plan=plan)
    assert not recorder.recording and not (recorder.config.takes_dir.exists() and any(recorder.config.takes_dir.iterdir()))


def test_plan_keys_are_what_the_docs_promise():
    assert PLAN_KEYS == ("name", "index", "parameter", "value", "unit", "fixed", "seed", "instruction")
    with pytest.raises(SlateError, match="JSON object"):
        validate_plan(["focal-sweep"])
    assert validate_plan(None) is None


def test_the_control_api_and_the_node_take_control_pass_the_plan_through(recorder, rig, plan):
    takes = NodeTakes(recorder, None, rig, recorder._clock_ns)  # no ROS: the pass-through alone
    with ControlServer(takes, port=0, token="tok", timecode_now=lambda: "01:00:15:00") as server:
        client = ControlClient(server.url, "tok")
        started = client.start("focal-sweep-s7", "3", 1, plan=plan)
        assert started["plan"] == plan
        stopped = client.stop()
        assert read_take_json(stopped["path"])["plan"] == plan
        bad = dict(plan, fixed=None)
        with pytest.raises(ControlError, match="fixed must be an object") as err:
            client.start("focal-sweep-s7", "3", 2, plan=bad)
        assert err.value.status == 400
        assert client.status()["state"] == "idle"


def _onset(argv):
    from edge.cli import take_cmd

    parser = argparse.ArgumentParser(prog="onset")
    groups = parser.add_subparsers(dest="group")
    take_cmd.register(groups)
    args = parser.parse_args(argv)
    return int(args.run(args) or 0)


def test_onset_take_start_sends_a_plan_from_json_or_a_file(recorder, plan, tmp_path, capsys):
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(plan))
    with ControlServer(recorder, port=0, token="tok") as server:
        common = ["--control", server.url, "--token", "tok"]
        assert _onset(["take", "start", "--scene", "focal-sweep-s7", "--shot", "3", "--take", "1",
                       "--plan-json", f"@{path}", *common]) == 0
        assert "plan focal-sweep take 3" in capsys.readouterr().out
        first = read_take_json(recorder.stop().path)
        assert _onset(["take", "start", "--scene", "x", "--shot", "1", "--take", "1",
                       "--plan-json", json.dumps(plan), *common]) == 0
        second = read_take_json(recorder.stop().path)
        assert first["plan"] == second["plan"] == plan
        # Refused before anything is sent: not JSON, a missing file, a plan without its keys.
        for given, why in (("{nope", "is not JSON"), (f"@{tmp_path / 'none.json'}", "cannot read"),
                           ('{"name": "x"}', "lacks index")):
            assert _onset(["take", "start", "--scene", "x", "--shot", "1", "--take", "2",
                           "--plan-json", given, *common]) == 2
            assert why in capsys.readouterr().err
        assert not recorder.recording
