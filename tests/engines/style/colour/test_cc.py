"""``.cc`` files: written and read back, loaded by OpenColorIO, bad files named with their line."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engines.style.colour import CdlFormatError, Cdl, ColourWriteError, apply_cdl, fit_cdl, read_cc, write_cc
from engines.style.colour.delta_e import DeltaEStats
from engines.style.colour.errors import ColourInputError, UnknownEncodingError
from tests.engines.style.colour.looks import film_look, ocio_apply, random_colours

GRADE = Cdl(slope=(1.12, 0.97, 0.88), offset=(0.02, -0.01, 0.035), power=(0.92, 1.05, 1.18), saturation=0.85)


def test_round_trip(tmp_path):
    stats = DeltaEStats(mean=0.84, p95=2.1, max=3.5, count=4160)
    path = write_cc(tmp_path / "look.cc", GRADE, look_name="kodak-5219", encoding="slog3", delta_e=stats)
    cc = read_cc(path)
    assert cc.cdl == GRADE and cc.id == "kodak-5219" and cc.path == path
    (description,) = cc.descriptions
    assert "kodak-5219" in description and "slog3 input" in description
    assert "dE2000 against the full look: mean 0.84, p95 2.10, max 3.50 on 4160 held-out colours" in description
    assert cc.input_description == "slog3 (Sony S-Log3, S-Gamut3.Cine; full-range code values 0-1)"
    assert cc.viewing_description.startswith("rec709 display-referred")


def test_numbers_have_seven_decimals(tmp_path):
    text = write_cc(tmp_path / "a.cc", Cdl(slope=(1 / 3, 1, 1)), look_name="a", encoding="rec709").read_text()
    assert "<Slope>0.3333333 1.0000000 1.0000000</Slope>" in text
    assert "<Saturation>1.0000000</Saturation>" in text


def test_names_are_escaped(tmp_path):
    path = write_cc(tmp_path / "a.cc", GRADE, look_name='A & B <"1">', encoding="rec709")
    assert read_cc(path).id == 'A & B <"1">'


def test_a_fitted_cdl_is_written_with_its_delta_e(tmp_path):
    fit = fit_cdl(film_look)
    path = write_cc(tmp_path / "film.cc", fit.cdl, look_name="film", encoding=fit.encoding, delta_e=fit.delta_e)
    cc = read_cc(path)
    np.testing.assert_allclose(cc.cdl.as_vector(), fit.cdl.as_vector(), atol=5e-8)
    assert f"mean {fit.delta_e.mean:.2f}" in cc.descriptions[0]


def test_openColorIO_loads_it_and_applies_the_same_cdl(tmp_path):
    path = write_cc(tmp_path / "grade.cc", GRADE, look_name="grade", encoding="rec709")
    inside = random_colours(5000, seed=41)
    beyond = random_colours(5000, seed=42) * 1.6 - 0.3
    # OpenColorIO reads a .cc as its no-clamp style: the formula without clamps, everywhere...
    np.testing.assert_allclose(ocio_apply(path, beyond), apply_cdl(GRADE, beyond, clamp=False), atol=2e-6, rtol=2e-6)
    # ...which is the ASC formula wherever the values stay in range.
    ocio = ocio_apply(path, inside)
    sop = inside * np.array(GRADE.slope) + np.array(GRADE.offset)
    stays = np.all((ocio > 0) & (ocio < 1) & (sop > 0) & (sop < 1), axis=1)
    assert stays.mean() > 0.8
    np.testing.assert_allclose(ocio[stays], apply_cdl(GRADE, inside[stays]), atol=2e-6)


_READ_CDL = """
import json, sys
import PyOpenColorIO as ocio
group = ocio.Config.CreateRaw().getProcessor(ocio.FileTransform(sys.argv[1])).createGroupTransform()
(cdl,) = list(group)
print(json.dumps([list(cdl.getSlope()), list(cdl.getOffset()), list(cdl.getPower()), cdl.getSat()]))
"""


def test_openColorIO_reads_the_same_numbers(tmp_path):
    # In a fresh interpreter: on Python 3.10, after the rest of the suite has loaded GStreamer and
    # the other native libraries, walking OpenColorIO's group transform aborted the process.
    import json
    import subprocess
    import sys

    path = write_cc(tmp_path / "grade.cc", GRADE, look_name="grade", encoding="rec709")
    out = subprocess.run([sys.executable, "-c", _READ_CDL, str(path)], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    slope, offset, power, sat = json.loads(out.stdout)
    assert slope == pytest.approx(GRADE.slope) and offset == pytest.approx(GRADE.offset)
    assert power == pytest.approx(GRADE.power) and sat == pytest.approx(GRADE.saturation)


def test_bad_arguments(tmp_path):
    with pytest.raises(UnknownEncodingError):
        write_cc(tmp_path / "a.cc", GRADE, look_name="a", encoding="aces")
    with pytest.raises(ColourInputError):
        write_cc(tmp_path / "a.cc", GRADE, look_name=" ", encoding="rec709")
    assert not list(tmp_path.iterdir())


def test_a_failed_write_leaves_nothing(tmp_path, monkeypatch):
    def fail(*args):
        raise OSError(13, "Permission denied")

    monkeypatch.setattr("engines.style.colour._atomic.os.replace", fail)
    with pytest.raises(ColourWriteError, match="Permission denied"):
        write_cc(tmp_path / "a.cc", GRADE, look_name="a", encoding="rec709")
    assert not list(tmp_path.iterdir())


def _cc(body: str, root: str = "ColorCorrection") -> str:
    return f'<?xml version="1.0" encoding="UTF-8"?>\n<{root} id="x">\n{body}\n</{root}>\n'


SOP = "<SOPNode>\n<Slope>1 1 1</Slope>\n<Offset>0 0 0</Offset>\n<Power>1 1 1</Power>\n</SOPNode>"
SAT = "<SatNode>\n<Saturation>1</Saturation>\n</SatNode>"


@pytest.mark.parametrize("text, line, reason", [
    ("", 1, "not well-formed XML"),
    ("just text", 1, "not well-formed XML"),
    (_cc(SOP).replace("</SOPNode>", ""), 8, "not well-formed XML"),
    (_cc(SOP, root="ColorDecisionList"), 2, "the root element is ColorDecisionList"),
    (_cc(""), 2, "neither a SOPNode nor a SatNode"),
    (_cc(SOP.replace("<Offset>0 0 0</Offset>\n", "")), 3, "SOPNode has no Offset"),
    (_cc(SOP.replace("<Slope>1 1 1</Slope>", "<Slope>1 1 1</Slope><Slope>2 2 2</Slope>")), 4, "a second Slope"),
    (_cc(SOP + "\n" + SOP), 8, "a second SOPNode"),
    (_cc(SOP.replace("<Slope>1 1 1</Slope>", "<Slope>1 1</Slope>")), 4, "Slope needs 3 numbers, got '1 1'"),
    (_cc(SOP.replace("<Power>1 1 1</Power>", "<Power>1 one 1</Power>")), 6, "Power needs 3 numbers"),
    (_cc(SOP.replace("<Power>1 1 1</Power>", "<Power>1 nan 1</Power>")), 6, "Power needs 3 numbers"),
    (_cc(SOP.replace("<Offset>0 0 0</Offset>", "<Offset>0 1e999 0</Offset>")), 5, "not finite"),
    (_cc(SOP.replace("<Power>1 1 1</Power>", "<Power>1 0 1</Power>")), 6, "must be > 0"),
    (_cc(SOP.replace("<Slope>1 1 1</Slope>", "<Slope>1 -1 1</Slope>")), 4, "must be >= 0"),
    (_cc(SAT.replace("<Saturation>1</Saturation>", "<Saturation>-0.5</Saturation>")), 4, "Saturation"),
    (_cc(SAT.replace("<Saturation>1</Saturation>", "<Saturation>1 1</Saturation>")), 4, "Saturation needs 1 number"),
    (_cc(SAT.replace("<Saturation>1</Saturation>", "")), 3, "SatNode has no Saturation"),
    (_cc(SOP + "\n<Grade>1</Grade>"), 8, "unexpected element Grade in ColorCorrection"),
    (_cc(SOP.replace("<Power>1 1 1</Power>", "<Power>1 1 1</Power><Gain/>")), 6, "unexpected element Gain"),
    ('<?xml version="1.0"?>\n<!DOCTYPE x [<!ENTITY a "aaaa">]>\n<ColorCorrection/>\n', 2, "DOCTYPE"),
    ("\xff\xfe<ColorCorrection/>", 1, "not well-formed XML"),
])
def test_bad_files_name_the_file_line_and_problem(tmp_path, text, line, reason):
    path = tmp_path / "bad.cc"
    path.write_bytes(text.encode("latin-1"))
    with pytest.raises(CdlFormatError) as info:
        read_cc(path)
    assert (info.value.path, info.value.line) == (path, line), str(info.value)
    assert reason in info.value.reason
    assert str(info.value).startswith(f"{path} line {line}: ")


def test_unicode_digits_are_not_numbers(tmp_path):
    path = tmp_path / "digits.cc"
    path.write_text(_cc(SOP.replace("<Slope>1 1 1</Slope>", "<Slope>1 \u0663 1</Slope>")), encoding="utf-8")
    with pytest.raises(CdlFormatError, match="line 4: Slope needs 3 numbers"):
        read_cc(path)


def test_what_the_specification_allows_is_read(tmp_path):
    text = ('<?xml version="1.0"?>\n<ColorCorrection xmlns="urn:ASC:CDL:v1.01" id="ns">\n'
            "<SATNode><Saturation>0.5</Saturation></SATNode>\n</ColorCorrection>\n")
    path = tmp_path / "old.cc"
    path.write_text(text)
    cc = read_cc(path)
    assert cc.cdl == Cdl(saturation=0.5) and cc.id == "ns" and cc.descriptions == ()


def test_a_missing_file_is_named(tmp_path):
    with pytest.raises(CdlFormatError, match="cannot read") as info:
        read_cc(tmp_path / "none.cc")
    assert info.value.line is None


def _read_or_format_error(path):
    try:
        read_cc(path)
    except CdlFormatError as err:
        assert err.path == path


@settings(max_examples=150)
@given(data=st.binary(max_size=300))
def test_random_bytes_raise_only_cdl_format_errors(tmp_path_factory, data):
    path = tmp_path_factory.mktemp("bytes") / "random.cc"
    path.write_bytes(data)
    _read_or_format_error(path)


_PARTS = st.sampled_from(["<ColorCorrection>", "</ColorCorrection>", "<SOPNode>", "</SOPNode>", "<SatNode>",
                          "</SatNode>", "<Slope>", "</Slope>", "<Offset>", "</Offset>", "<Power>", "</Power>",
                          "<Saturation>", "</Saturation>", "1 1 1", "0", "-1", "nan", "1e400", "<Description>x",
                          "</Description>", "&amp;", "&bad;", "<!-- c -->", "\n", " "])


@settings(max_examples=300)
@given(parts=st.lists(_PARTS, max_size=30))
def test_random_xml_raises_only_cdl_format_errors(tmp_path_factory, parts):
    path = tmp_path_factory.mktemp("xml") / "random.cc"
    path.write_text("".join(parts), encoding="utf-8")
    _read_or_format_error(path)
