"""What ``check_lut_file`` reports about a ``.cube`` or ``.cc``, OpenColorIO included."""

import json

import numpy as np
import pytest

from engines.style.colour import (Cdl, LutFormatError, OcioLoadError, check_lut_file, format_report, report_json,
                                  write_cc, write_cube, write_look_lut)
from engines.style.colour.errors import CdlFormatError
from tests.engines.style.colour.looks import film_look


def test_a_look_cube(tmp_path):
    path = write_look_lut(film_look, tmp_path / "film.cube", 33, "logc4", "film")
    report = check_lut_file(path)
    assert (report.kind, report.size, report.title) == ("cube", 33, "film (logc4 to Rec.709)")
    assert report.domain_min == (0.0, 0.0, 0.0) and report.domain_max == (1.0, 1.0, 1.0)
    assert report.input_encoding == "logc4" and report.header["look"] == "film"
    assert report.grey_monotone == (True, True, True)
    assert report.ocio_max_difference <= 1e-6 and report.notes == ()
    assert 0.0 <= min(report.value_min) and max(report.value_max) <= 1.0
    text = format_report(report)
    for expected in ("size           33 x 33 x 33", "input encoding logc4", "grey monotone  r yes, g yes, b yes",
                     "OpenColorIO    loads it", "comment        look: film"):
        assert expected in text
    assert json.loads(json.dumps(report_json(report)))["header"]["size"] == "33 x 33 x 33"


def test_value_range_and_monotony_per_channel(tmp_path):
    def look(rgb):
        out = rgb.copy()
        out[:, 1] = 0.9 - 0.8 * rgb[:, 1]  # green falls along the grey axis
        out[:, 2] = 0.1 + 0.5 * rgb[:, 2]
        return out

    report = check_lut_file(write_look_lut(look, tmp_path / "odd.cube", 17, "rec709", "odd"))
    assert report.grey_monotone == (True, False, True)
    assert report.value_min == pytest.approx((0.0, 0.1, 0.1)) and report.value_max == pytest.approx((1.0, 0.9, 0.6))
    assert "g NO" in format_report(report)


def test_a_cube_from_elsewhere_with_another_size_and_domain(tmp_path):
    axis = np.arange(2)
    r, g, b = np.meshgrid(axis, axis, axis, indexing="ij")
    rows = np.stack([r, g, b], axis=-1).transpose(2, 1, 0, 3).reshape(-1, 3) * 0.5
    path = tmp_path / "small.cube"
    path.write_text("LUT_3D_SIZE 2\nLUT_3D_INPUT_RANGE -0.5 2\n" + "\n".join(" ".join(map(str, v)) for v in rows))
    report = check_lut_file(path)
    assert report.size == 2 and report.title is None and report.input_encoding is None
    assert report.domain_min == (-0.5,) * 3 and report.ocio_max_difference <= 1e-6
    assert report.notes == ("size 2 is not one Onset writes (17, 33, 65)",)
    assert "(not stated)" in format_report(report)


def test_a_cc(tmp_path):
    cdl = Cdl((1.1, 1.0, 0.9), (0.01, 0.0, -0.01), (1.0, 1.1, 0.95), 0.9)
    report = check_lut_file(write_cc(tmp_path / "g.cc", cdl, look_name="g", encoding="slog3"))
    assert report.kind == "cc" and report.cdl == cdl and report.input_encoding == "slog3" and report.title == "g"
    assert report.grey_monotone == (True, True, True) and report.ocio_max_difference < 1e-4
    text = format_report(report)
    assert "slope          1.1 1 0.9" in text and "saturation     0.9" in text
    assert json.loads(json.dumps(report_json(report)))["cdl"]["power"] == [1.0, 1.1, 0.95]


def test_corrupt_files_raise_format_errors(tmp_path):
    (tmp_path / "bad.cube").write_text("LUT_3D_SIZE 2\n0 0 0\n")
    with pytest.raises(LutFormatError, match="line 2"):
        check_lut_file(tmp_path / "bad.cube")
    (tmp_path / "bad.cc").write_text("<ColorCorrection>")
    with pytest.raises(CdlFormatError, match="line 1"):
        check_lut_file(tmp_path / "bad.cc")
    with pytest.raises(LutFormatError, match="not a .cube or .cc"):
        check_lut_file(tmp_path / "look.3dl")


def test_openColorIO_refusing_a_file_is_an_ocio_load_error(tmp_path, monkeypatch):
    import PyOpenColorIO as ocio

    path = write_cube(tmp_path / "a.cube", np.zeros((17, 17, 17, 3)), title="a")

    def refuse(*args, **kwargs):
        raise ocio.Exception("unsupported")

    monkeypatch.setattr(ocio, "FileTransform", refuse)
    with pytest.raises(OcioLoadError, match="unsupported") as info:
        check_lut_file(path)
    assert info.value.path == path


def test_openColorIO_reading_other_numbers_is_an_ocio_load_error(tmp_path, monkeypatch):
    import engines.style.colour.check as check

    path = write_cube(tmp_path / "a.cube", np.zeros((17, 17, 17, 3)), title="a")
    monkeypatch.setattr(check, "_ocio_apply", lambda path, rgb, cube: rgb)  # as if it ignored the table
    with pytest.raises(OcioLoadError, match="away from the file's table"):
        check_lut_file(path)
