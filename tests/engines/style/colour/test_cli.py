"""``onset style check-lut`` end to end: exit status, what it prints, and --help."""

import json

import pytest

from edge.cli.main import main
from engines.style.colour import write_cc, write_look_lut
from engines.style.colour.cdl import Cdl
from tests.engines.style.colour.looks import film_look


def test_a_good_cube(tmp_path, capsys):
    path = write_look_lut(film_look, tmp_path / "film.cube", 17, "logc3", "film")
    assert main(["style", "check-lut", str(path)]) == 0
    out = capsys.readouterr().out
    assert f"{path}: 3D LUT (.cube)" in out and "size           17 x 17 x 17" in out
    assert "input encoding logc3" in out and "title          film (logc3 to Rec.709)" in out
    assert "domain         0 0 0 to 1 1 1" in out and "OpenColorIO    loads it" in out


def test_json(tmp_path, capsys):
    path = write_look_lut(film_look, tmp_path / "film.cube", 17, "rec709", "film")
    assert main(["style", "check-lut", str(path), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["size"] == 17 and report["input_encoding"] == "rec709" and report["ocio_loaded"] is True
    assert report["grey_monotone"] == [True, True, True] and report["header"]["look"] == "film"


def test_a_good_cc(tmp_path, capsys):
    path = write_cc(tmp_path / "g.cc", Cdl(saturation=0.8), look_name="g", encoding="rec709")
    assert main(["style", "check-lut", str(path)]) == 0
    assert "ASC CDL (.cc)" in capsys.readouterr().out


@pytest.mark.parametrize("name, text, where", [
    ("cut.cube", "LUT_3D_SIZE 2\n0 0 0\n0 0\n", "line 3: a data line needs 3 numbers"),
    ("one-d.cube", "LUT_1D_SIZE 2\n0 0 0\n1 1 1\n", "line 1: LUT_1D_SIZE: this is a 1D LUT"),
    ("bad.cc", "<ColorCorrection>\n<SOPNode>\n<Slope>1 x 1</Slope>\n", "line 4: not well-formed XML"),
    ("bad.cc", "<ColorCorrection>\n<SatNode>\n<Saturation>x</Saturation>\n</SatNode></ColorCorrection>",
     "line 3: Saturation needs 1 number"),
    ("notes.txt", "hello", "not a .cube or .cc"),
])
def test_a_corrupt_file_exits_2_naming_the_file_and_line(tmp_path, capsys, name, text, where):
    path = tmp_path / name
    path.write_text(text)
    assert main(["style", "check-lut", str(path)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith(f"onset style check-lut: {path}") and where in captured.err
    assert captured.err.count("\n") == 1


def test_a_missing_file_exits_2(tmp_path, capsys):
    assert main(["style", "check-lut", str(tmp_path / "gone.cube")]) == 2
    assert "cannot read the file" in capsys.readouterr().err


def test_help_teaches_the_formats_and_encodings(capsys):
    with pytest.raises(SystemExit) as info:
        main(["style", "--help"])
    assert info.value.code == 0
    text = capsys.readouterr().out
    for word in (".cube", "3D LUT", "red changing fastest", ".cc", "ASC CDL", "rec709", "logc3", "logc4", "slog3",
                 "ARRI Wide Gamut 3", "S-Gamut3.Cine", "OpenColorIO", "grain and halation", "check-lut"):
        assert word.lower() in text.lower(), word
    with pytest.raises(SystemExit):
        main(["style", "check-lut", "--help"])
    text = capsys.readouterr().out
    assert "Exit status" in text and "--json" in text


def test_style_needs_a_verb(capsys):
    with pytest.raises(SystemExit) as info:
        main(["style"])
    assert info.value.code == 2


def test_the_style_group_is_listed(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    assert "style" in capsys.readouterr().out
