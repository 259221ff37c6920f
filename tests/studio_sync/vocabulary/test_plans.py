"""plan_from_query: a phrase as a capture plan the stage, the recorder and the plan checks accept,
and what the stage cannot shoot refused with its reasons; `onset plan show|run --describe`."""

from __future__ import annotations

import pytest

from config import load_profile
from config.recorder import RecorderConfig
from edge.cli.main import main
from edge.plans import FOCAL_LENGTHS_MM, check_take, stage_take
from edge.plans.runner import plan_slate
from edge.recorder import TakeRecorder, read_take_json
from edge.recorder.take import validate_plan, validate_slate, write_take_json
from engines.captioner.lens import crop_factor
from sensors.sim import shots
from sensors.timecode.smpte import frames_to_timecode, parse_timecode, seconds_to_frames, timecode_to_seconds
from studio_sync.vocabulary import DESCRIBED, Pace, UnshootableError, parse_phrase, plan_from_query
from studio_sync.vocabulary.lexicon import PACE_RANGES

BASE_NS = 1_800_000_000 * 1_000_000_000


@pytest.fixture(scope="module")
def rig():
    return load_profile()


def _plan(phrase, rig, **kwargs):
    return plan_from_query(parse_phrase(phrase), rig, **kwargs)


def _label(rig, plan_s: float) -> str:
    rate = rig.timecode.frame_rate
    start = parse_timecode(rig.timecode.start, rate)
    return str(frames_to_timecode(seconds_to_frames(timecode_to_seconds(start) + plan_s, start.rate), start.rate))


@pytest.mark.parametrize("phrase", ["CU, MCU", "slow push-in", "locked off, 50-85mm", "handheld"])
def test_a_described_plan_is_one_the_stage_the_recorder_and_the_plan_check_accept(phrase, rig, tmp_path):
    takes = _plan(phrase, rig)
    assert takes and [t.index for t in takes] == list(range(len(takes)))
    assert {t.plan for t in takes} == {DESCRIBED} and len({t.parameter for t in takes}) == 1
    assert all(t.fixed["phrase"] == phrase for t in takes)
    config = RecorderConfig(takes_dir=tmp_path, min_free_bytes=0, reserve_bytes=0, fsync_interval_s=0.0)
    steps = iter(range(10**6))
    recorder = TakeRecorder(config, rig, clock_ns=lambda: BASE_NS + next(steps) * 1_000_000)
    try:
        for take in takes:
            staged = stage_take(take, rig)
            plan = staged.document()
            assert validate_plan(plan) == plan
            scene, shot = plan_slate(take, staged.seed)
            validate_slate(scene, shot, 1)
            start_s, end_s = staged.window()
            recorder.start(scene, shot, 1, tc_in=_label(rig, start_s - 0.5), plan=plan)
            folder = recorder.stop(tc_out=_label(rig, end_s + 0.5)).path
            doc = read_take_json(folder)  # the bag's camera frames, as a node would have recorded them
            doc["topics"] = [{"name": rig.camera.topic, "message_count": 96}]
            write_take_json(folder, doc)
            assert check_take(folder, staged, plan)[0] == 96
    finally:
        recorder.close()


def test_shot_sizes_become_framing_takes_tightest_first(rig):
    takes = _plan("MCU, close-up", rig, actor=1)
    assert [(t.parameter, t.value, t.fixed["actor"]) for t in takes] == [("shot_size", "CU", 1),
                                                                         ("shot_size", "MCU", 1)]


def test_a_pace_sets_the_speed_the_stage_moves_at(rig):
    (take,) = _plan("slow push-in", rig)
    speed = take.settings["speed"]
    assert (take.value, take.settings["speed_unit"]) == ("dolly_in", "m/s")
    assert speed in PACE_RANGES[Pace.SLOW].m_per_s and speed != shots.DOLLY_SPEED_M_PER_S
    assert f"at {speed:g} m/s" in take.instruction
    keys = stage_take(take, rig).shot_keys  # the dolly's steady speed between the eases
    steps = [(b.dolly_m - a.dolly_m) / (b.t_s - a.t_s) for a, b in zip(keys, keys[1:])]
    assert max(steps) == pytest.approx(speed, rel=0.02)


@pytest.mark.parametrize(("phrase", "speed"), [("steady push in", shots.DOLLY_SPEED_M_PER_S),
                                               ("push in at 0.3 m/s", 0.3),
                                               ("slow zoom in", shots.ZOOM_SPEED_PCT_PER_S),
                                               ("pan left", shots.PAN_SPEED_DEG_PER_S)])
def test_the_stage_s_default_speed_is_kept_when_the_phrase_allows_it(phrase, speed, rig):
    assert _plan(phrase, rig)[0].settings["speed"] == pytest.approx(speed)


def test_a_pace_alone_is_every_movement_with_a_speed_at_that_pace(rig):
    takes = _plan("slow", rig)
    assert [t.value for t in takes] == [name for name, unit in shots.SPEED_UNITS.items() if unit is not None]
    for take in takes:
        assert take.settings["speed"] in PACE_RANGES[Pace.SLOW].for_unit(take.settings["speed_unit"])


@pytest.mark.parametrize(("phrase", "values"), [("50-85mm", [50.0, 75.0]), ("static, 75mm", [75.0]), ("80mm", [80.0]),
                                                ("under 25mm", [18.0, 25.0])])
def test_focal_lengths_become_static_takes_on_the_focal_sweep_s_steps(phrase, values, rig):
    takes = _plan(phrase, rig)
    assert [(t.parameter, t.value, t.fixed["movement"]) for t in takes] == [
        ("focal_length_mm", v, "static") for v in values]


def test_a_35mm_equivalent_is_shot_at_the_lens_that_frames_like_it(rig):
    (take,) = _plan("75mm full-frame equivalent", rig)
    assert take.value == pytest.approx(75.0 / crop_factor(rig.camera.intrinsics.sensor_width_mm), rel=2e-3)
    assert take.value not in FOCAL_LENGTHS_MM


@pytest.mark.parametrize(
    ("phrase", "says", "word"),
    [
        ("MCU, 75mm, slow push-in, subject under 3 m", "ask for one or the other", "slow push-in"),
        ("plate", "actor_count 0", "plate"),
        ("fast crane up", "crane_arm_m", "fast crane up"),
        ("pan left, 75mm", "shot at 35 mm", "75mm"),
        ("push in, under 3 m", "frames no subject", "under 3 m"),
        ("unknown movement", "could not be measured", "unknown movement"),
        ("MCU, under 3 m", "is framed from", "under 3 m"),
        ("subject under 3 m", "WS on actor 0 is framed from", "subject under 3 m"),
        ("5mm", "outside the rig's zoom", "5mm"),
    ],
)
def test_what_the_stage_cannot_shoot_is_refused_saying_why(phrase, says, word, rig):
    with pytest.raises(UnshootableError) as caught:
        _plan(phrase, rig)
    err = caught.value
    assert any(says in p for p in err.problems) and says in str(err)
    assert (err.word, err.position) == (word, phrase.index(word))


def test_the_example_names_every_reason(rig):
    with pytest.raises(UnshootableError) as caught:
        _plan("MCU, 75mm, slow push-in, subject under 3 m", rig)
    problems = caught.value.problems
    assert len(problems) == 3
    assert '"MCU" with "slow push-in"' in problems[0]
    assert 'not "subject under 3 m"' in problems[1] and 'not "75mm"' in problems[2]


def test_a_stage_without_actors_shoots_plates_and_no_sizes(rig):
    empty = rig.model_copy(update={"stage": rig.stage.model_copy(update={"actor_count": 0})})
    assert [t.value for t in _plan("plate", empty)] == ["static"]
    assert [t.value for t in _plan("empty frame, pan left", empty)] == ["pan_left"]
    with pytest.raises(UnshootableError, match="actors: none"):
        _plan("MCU", empty)


def test_a_real_rig_is_checked_against_what_the_crew_sets():
    real = load_profile("stage-a-real")
    (take,) = _plan("MCU, under 3 m", real)  # the operator's working distance for an MCU: 2.5 m
    assert take.settings["distance_m"] == 2.5
    with pytest.raises(UnshootableError, match="framed from 4 m"):
        _plan("MLS, under 3 m", real)


def test_plan_show_describe_prints_the_reading_then_the_plan(capsys):
    assert main(["plan", "show", "--describe", "CU, MCU", "--seconds", "6"]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[:3] == ['"CU" -> shot size is CU (close-up)', '"MCU" -> shot size is MCU (medium close-up)',
                         "together -> shot size is CU or MCU"]
    rows = [line.split() for line in lines if line[:1].isdigit() and DESCRIBED in line]
    assert [row[:5] for row in rows] == [["0", DESCRIBED, "0", "shot_size", "CU"],
                                         ["1", DESCRIBED, "1", "shot_size", "MCU"]]
    assert "2 takes of 6 s" in out


@pytest.mark.parametrize(("argv", "says"), [
    (["plan", "show", "--describe", "MCU, slow push-in"], "ask for one or the other"),
    (["plan", "show", "--describe", "MCU, dolyl"], '"dolyl" is not a word'),
    (["plan", "show", "--describe", "low-key"], "no lighting labels are recorded yet"),
])
def test_plan_show_describe_refuses_with_the_reason(argv, says, capsys):
    assert main(argv) == 2
    assert says in capsys.readouterr().err


@pytest.mark.parametrize("argv", [["plan", "show", "focal-sweep", "--describe", "CU"], ["plan", "show"],
                                  ["plan", "run"]])
def test_a_plan_is_named_or_described_not_both(argv, capsys):
    with pytest.raises(SystemExit) as err:
        main(argv)
    assert err.value.code == 2 and "--describe" in capsys.readouterr().err


@pytest.mark.parametrize(("extra", "says"), [(["--only", "3"], "numbered 0..0"),
                                             (["--profile", "stage-a-real"], "real rig"),
                                             (["--seconds", "1"], "at least 1.60 s")])
def test_plan_run_describe_refuses_before_starting_a_node(extra, says, capsys, tmp_path):
    assert main(["plan", "run", "--describe", "slow push-in", "--takes-dir", str(tmp_path), *extra]) == 2
    captured = capsys.readouterr()
    assert says in captured.err and '"slow push-in" -> movement is dolly_in' in captured.out
    assert not any(tmp_path.iterdir())
