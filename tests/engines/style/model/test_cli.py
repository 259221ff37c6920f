"""``onset engines evaluate style`` and ``onset style looks|pairs|export-lut`` end to end, on a look
written by hand and stage pairs folders written here (training is test_cli_train.py, with torch)."""

import json

import numpy as np
import pytest

from edge.cli.main import main
from engines.style.colour import delta_e_2000
from engines.style.model import shipped
from engines.style.model.look import colour_only, load_look, save_look
from engines.style.pairs import load_image, stage
from tests.engines.style.colour.looks import ocio_apply
from tests.engines.style.model import synth
from tests.engines.style.model.synth import hand_look

H, W = 128, 160


@pytest.fixture(scope="module")
def look_file(tmp_path_factory):
    return save_look(hand_look(name="hand"), tmp_path_factory.mktemp("look") / "hand.look.json")


@pytest.fixture(scope="module")
def push2_pairs(tmp_path_factory):
    frames = [synth.scene(H, W, seed, exposure) for seed, exposure in ((20, 0.6), (21, 1.5))]
    return synth.write_stage_folder(tmp_path_factory.mktemp("push2"), "push2", frames, seed=20)


def test_evaluating_off_on_a_strong_looks_pairs_misses_the_targets(push2_pairs, tmp_path, capsys):
    report = tmp_path / "eval.json"
    args = ["engines", "evaluate", "style", "--look", "off", "--pairs", str(push2_pairs), "--no-progress",
            "--json", str(report)]
    assert main(args) == 0  # without --strict a missed target is reported, not an error
    out = capsys.readouterr().out
    assert "colour vs the pipeline's colour part, 2 pairs, 40960 pixels: ΔE2000 mean" in out and "MISSED" in out
    assert "grain: the look has no grain" in out
    result = json.loads(report.read_text())
    assert result["look"] == "off" and result["colour"]["met"] is False and result["colour"]["mean"] > 1.0
    assert main([*args, "--strict"]) == 3


def test_strict_passes_when_every_target_is_met(tmp_path, capsys):
    # A stage folder whose truth is the control itself: the off look meets the colour target, and
    # without grain there is no grain target to miss.
    folder = synth.write_stage_folder(tmp_path, "35mm", [synth.scene(H, W, 30)])
    for control in (folder / "control").iterdir():
        stage.write_png16(folder / "truth" / control.name, load_image(control))
    assert main(["engines", "evaluate", "style", "--look", "off", "--pairs", str(folder), "--no-progress",
                 "--strict"]) == 0
    assert ": met" in capsys.readouterr().out


def test_evaluating_a_look_file_prints_and_writes_its_figures(look_file, push2_pairs, tmp_path, capsys):
    report = tmp_path / "eval.json"
    assert main(["engines", "evaluate", "style", "--look", str(look_file), "--pairs", str(push2_pairs),
                 "--no-progress", "--json", str(report)]) == 0
    out = capsys.readouterr().out
    assert "colour vs the pipeline's colour part, 2 pairs" in out
    assert f"grain vs the pipeline's push2 on flat fields {W}x{H}, their centre halves (2 per level; tolerance 10 %):" in out
    assert len([line for line in out.splitlines() if line.strip().startswith(("0.25", "0.41", "0.60"))]) == 3
    result = json.loads(report.read_text())
    assert result["look"] == "hand" and result["colour"]["pairs"] == 2 and result["colour"]["pixels"] == 2 * H * W
    assert set(result["colour"]) >= {"mean", "p95", "max", "targets", "met"}
    assert result["grain"]["film_look"] == "push2"
    assert [r["level"] for r in result["grain"]["levels"]] == [0.25, 0.41, 0.6]
    assert all(len(r["rms_look"]) == 3 and len(r["psd_rel_l1_error"]) == 3 for r in result["grain"]["levels"])


def test_evaluating_a_missing_look_file_fails_saying_so(push2_pairs, tmp_path, capsys):
    gone = tmp_path / "gone.look.json"
    assert main(["engines", "evaluate", "style", "--look", str(gone), "--pairs", str(push2_pairs),
                 "--no-progress"]) == 1
    assert capsys.readouterr().err == f"onset engines evaluate style: no look file at {gone}\n"


def _random_colours():
    return synth.random_colours(20000, seed=31).astype(np.float32)


def test_export_lut_writes_a_cube_that_ocio_follows(look_file, tmp_path, capsys):
    cube = tmp_path / "hand-709.cube"
    assert main(["style", "export-lut", str(look_file), "--size", "33", "--input", "rec709",
                 "--output", str(cube)]) == 0
    assert capsys.readouterr().out == f"hand: 33^3 LUT for rec709 input -> {cube}\n"
    colours = _random_colours()
    de = delta_e_2000(ocio_apply(cube, colours), colour_only(colours, load_look(look_file)))
    # The LUT test: held-out random colours through OpenColorIO within ΔE2000 mean 0.5 of
    # the look's colour part; measured mean 0.009, p95 0.021.
    assert de.mean() < 0.5 and np.percentile(de, 95) < 0.5, (de.mean(), np.percentile(de, 95))
    assert 'TITLE "hand (rec709 to Rec.709)"' in cube.read_text()


def test_export_lut_for_logc3_says_so_in_its_header(look_file, tmp_path, capsys):
    cube = tmp_path / "hand-logc3.cube"
    assert main(["style", "export-lut", str(look_file), "--size", "17", "--input", "logc3",
                 "--output", str(cube)]) == 0
    header = cube.read_text().split("LUT_3D_SIZE")[0]
    assert 'TITLE "hand (logc3 to Rec.709)"' in header and "# input encoding: logc3 (ARRI LogC3" in header
    assert "grain and halation are not in this LUT" in header


def test_export_lut_with_cdl_reports_its_delta_e(look_file, tmp_path, capsys):
    cube, cc = tmp_path / "hand.cube", tmp_path / "hand.cc"
    assert main(["style", "export-lut", str(look_file), "--size", "17", "--output", str(cube),
                 "--cdl", str(cc), "--force-cdl"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[1].startswith("hand: ASC CDL approximation, ΔE2000 against the look mean ") and ", p95 " in out[1]
    assert out[-1] == f"  -> {cc}" and cc.is_file()
    assert "<ColorCorrection" in cc.read_text()


def test_export_lut_of_an_unknown_look_lists_the_looks(tmp_path, capsys):
    cube = tmp_path / "x.cube"
    assert main(["style", "export-lut", "sepia", "--output", str(cube)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("onset style export-lut: no look named 'sepia'; the looks are ")
    assert "off" in err and ".look.json" in err and not cube.exists()


def test_export_lut_of_off_is_the_identity(tmp_path):
    cube = tmp_path / "off.cube"
    assert main(["style", "export-lut", "off", "--size", "33", "--output", str(cube)]) == 0
    colours = _random_colours()
    assert delta_e_2000(ocio_apply(cube, colours), colours).mean() < 0.1


def test_looks_runs_with_no_looks_shipped(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(shipped, "SHIPPED_LOOKS_DIR", tmp_path)
    assert main(["style", "looks"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "no looks are shipped in this checkout (make style-looks builds them)"
    assert out[-1].split() == ["off", "the", "frame", "as", "the", "camera", "made", "it"]


def test_looks_lists_a_shipped_look_with_its_figures(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(shipped, "SHIPPED_LOOKS_DIR", tmp_path)
    save_look(hand_look(name="warm").with_card(film_look="35mm", pairs=40), tmp_path / "warm.look.json")
    (tmp_path / "warm.evaluation.json").write_text(json.dumps({"colour": {"pairs": 4, "mean": 0.41, "p95": 0.93}}))
    assert main(["style", "looks"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == f"{'warm':<15} from the pipeline's 35mm; 40 pairs; held-out ΔE2000 mean 0.41, p95 0.93"
    assert lines[1].startswith("off ")


def test_the_installed_looks_list_runs(capsys):
    assert main(["style", "looks"]) == 0
    assert "off" in capsys.readouterr().out


def test_pairs_from_a_missing_take_fail_saying_which(tmp_path, capsys):
    take = tmp_path / "no-such-take"
    assert main(["style", "pairs", str(take), "--out", str(tmp_path / "pairs"), "--looks", "35mm", "--quiet"]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"onset style pairs: {take} is not a folder") and err.count("\n") == 1
    assert not (tmp_path / "pairs").exists()


@pytest.mark.parametrize("argv, message", [
    (["--looks", "sepia"], "onset style pairs: no look named sepia; the looks are 35mm"),
    (["--exposure", "bright"], "onset style pairs: --exposure must be LO-HI code values, e.g. 0.6-1.0"),
])
def test_pairs_refuses_bad_arguments(tmp_path, capsys, argv, message):
    assert main(["style", "pairs", str(tmp_path), "--out", str(tmp_path / "pairs"), *argv]) == 1
    assert capsys.readouterr().err.startswith(message)
