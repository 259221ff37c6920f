"""Baking a look for an input encoding, and the look LUT's header."""

import numpy as np
import pytest

from engines.style.colour import (ENCODINGS, LookFunctionError, LutSizeError, UnknownEncodingError, bake_lut, lattice,
                                  read_cube, to_look_domain, write_look_lut)
from engines.style.colour.errors import ColourInputError
from tests.engines.style.colour.looks import asymmetric_look, film_look, identity_look


def test_lattice_is_the_code_values_indexed_r_g_b():
    grid = lattice(17)
    assert grid.shape == (17, 17, 17, 3) and grid.dtype == np.float32
    assert tuple(grid[16, 0, 4]) == (1.0, 0.0, 0.25)
    assert tuple(grid[0, 8, 16]) == (0.0, 0.5, 1.0)


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_bake_is_the_look_of_the_encodings_lattice(encoding):
    table = bake_lut(film_look, 17, encoding)
    assert table.shape == (17, 17, 17, 3) and table.dtype == np.float32
    expected = np.clip(film_look(to_look_domain(lattice(17).reshape(-1, 3), encoding)), 0, 1).reshape(table.shape)
    np.testing.assert_array_equal(table, expected)


def test_the_rec709_identity_bakes_to_the_lattice_itself():
    np.testing.assert_array_equal(bake_lut(identity_look, 33, "rec709"), lattice(33))


def test_an_asymmetric_look_is_baked_value_by_value():
    table = bake_lut(asymmetric_look, 17, "rec709")
    assert table[16, 0, 0] == pytest.approx([0.95, 0.3, 0.2])
    assert table[0, 16, 0] == pytest.approx([0.05, 0.6, 0.4])
    assert table[0, 0, 16] == pytest.approx([0.05, 0.0, 0.7])


def test_the_look_sees_all_colours_at_once_as_one_array():
    shapes = []

    def look(rgb):
        shapes.append((rgb.shape, rgb.dtype))
        return rgb

    bake_lut(look, 17, "logc3")
    assert shapes == [((17**3, 3), np.float32)]


def test_output_is_clipped_to_the_display_range():
    table = bake_lut(lambda rgb: rgb * 3.0 - 1.0, 17, "rec709")
    assert table.min() == 0.0 and table.max() == 1.0


@pytest.mark.parametrize("look, match", [
    (lambda rgb: rgb[:, :2], "shape"),
    (lambda rgb: rgb.ravel(), "shape"),
    (lambda rgb: np.where(rgb > 0.5, np.nan, rgb), "non-finite"),
    (lambda rgb: "not an array", "failed"),
])
def test_a_broken_look_function_is_named(look, match):
    with pytest.raises(LookFunctionError, match=match):
        bake_lut(look, 17, "rec709")


@pytest.mark.parametrize("size", [0, 16, 30, 64, 256, "33", 33.0])
def test_sizes_not_offered_are_refused(size):
    with pytest.raises(LutSizeError, match="choose one of 17, 33, 65"):
        bake_lut(film_look, size, "rec709")


def test_an_unknown_encoding_is_refused_with_the_valid_ones(tmp_path):
    with pytest.raises(UnknownEncodingError, match="rec709, logc3, logc4, slog3"):
        write_look_lut(film_look, tmp_path / "x.cube", 33, "redlog", "x")
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_the_header_names_look_encodings_size_and_software(tmp_path, encoding):
    path = write_look_lut(film_look, tmp_path / f"kodak-{encoding}.cube", 17, encoding, "kodak-5219")
    lines = path.read_text().splitlines()
    assert lines[0] == f'TITLE "kodak-5219 ({encoding} to Rec.709)"'
    header = read_cube(path).header
    assert header["look"] == "kodak-5219"
    assert header["input encoding"].split()[0] == encoding
    assert header["output encoding"].startswith("rec709 display-referred (BT.709 OETF, Rec.709 primaries, D65)")
    assert header["size"] == "17 x 17 x 17"
    assert header["software"].startswith("Onset ")
    assert header["order"].startswith("red changes fastest")
    assert "grain and halation are not in this LUT" in header["texture"]
    keywords = [line for line in lines if line[:1].isalpha()]
    assert keywords[1:] == ["LUT_3D_SIZE 17", "DOMAIN_MIN 0.0 0.0 0.0", "DOMAIN_MAX 1.0 1.0 1.0"]
    assert len(lines) == len(keywords) + len(header) + 17**3


def test_log_headers_say_which_camera(tmp_path):
    header = read_cube(write_look_lut(film_look, tmp_path / "a.cube", 17, "logc3", "a")).header
    assert header["input encoding"] == "logc3 (ARRI LogC3, EI 800, ARRI Wide Gamut 3; full-range code values 0-1)"


@pytest.mark.parametrize("name", ["", "   ", 'say "hi"', "two\nlines"])
def test_look_names_that_break_the_file_are_refused(tmp_path, name):
    with pytest.raises(ColourInputError):
        write_look_lut(film_look, tmp_path / "n.cube", 17, "rec709", name)
    assert not list(tmp_path.iterdir())
