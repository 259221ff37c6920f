"""``.cube`` files: layout written, round trips, every bad file named with its line, atomic writes,
and the reader on random input."""

import os
import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engines.style.colour import LUT_SIZES, ColourWriteError, LutFormatError, LutSizeError, read_cube, write_cube
from engines.style.colour._atomic import write_atomic
from engines.style.colour.errors import ColourError, ColourInputError


def _random_table(size: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).random((size, size, size, 3)).astype(np.float32)


def _data_lines(path) -> list:
    lines = path.read_text().splitlines()
    return [line for line in lines if line and (line[0].isdigit() or line[0] == "-")]


@pytest.mark.parametrize("size", LUT_SIZES)
def test_round_trip_keeps_the_table(tmp_path, size):
    table = _random_table(size, seed=size)
    path = write_cube(tmp_path / "a.cube", table, title="round trip", comments=["look: test"])
    lut = read_cube(path)
    assert lut.table.shape == (size, size, size, 3) and lut.table.dtype == np.float32 and lut.size == size
    # 7 decimals: 5e-8, plus float32 rounding of the value read.
    assert np.abs(lut.table - table).max() <= 1.1e-7
    again = write_cube(tmp_path / "b.cube", lut.table, title="round trip", comments=["look: test"])
    assert again.read_bytes() == path.read_bytes()
    assert lut.title == "round trip" and lut.comments == ("look: test",) and lut.header == {"look": "test"}
    assert lut.domain_min == (0.0, 0.0, 0.0) and lut.domain_max == (1.0, 1.0, 1.0)


def test_red_changes_fastest_in_the_file(tmp_path):
    n = 17
    i = np.arange(n)
    r, g, b = np.meshgrid(i, i, i, indexing="ij")
    # Output encodes its own input indices: (i_r, i_g, i_b) / 100.
    table = np.stack([r, g, b], axis=-1) / 100.0
    rows = _data_lines(write_cube(tmp_path / "order.cube", table, title="order"))
    assert len(rows) == n**3
    for i_r, i_g, i_b in [(0, 0, 0), (1, 0, 0), (0, 1, 0), (0, 0, 1), (16, 3, 9), (2, 16, 0), (16, 16, 16)]:
        expected = f"{i_r / 100:.7f} {i_g / 100:.7f} {i_b / 100:.7f}"
        assert rows[i_r + n * i_g + n * n * i_b] == expected
    np.testing.assert_allclose(read_cube(tmp_path / "order.cube").table, table, atol=1e-7)


def test_values_have_seven_decimals_and_the_header_comes_first(tmp_path):
    path = write_cube(tmp_path / "h.cube", _random_table(17), title="t", comments=["a: 1", "b"])
    lines = path.read_text().splitlines()
    assert lines[:6] == ['TITLE "t"', "# a: 1", "# b", "LUT_3D_SIZE 17", "DOMAIN_MIN 0.0 0.0 0.0",
                         "DOMAIN_MAX 1.0 1.0 1.0"]
    assert len(lines) == 6 + 17**3
    assert all(re.fullmatch(r"\d\.\d{7} \d\.\d{7} \d\.\d{7}", line) for line in lines[6:])
    assert path.read_bytes().endswith(b"\n") and b"\r" not in path.read_bytes()


@pytest.mark.parametrize("size", [2, 16, 18, 32, 64, 129, True])
def test_sizes_not_offered_are_refused(tmp_path, size):
    with pytest.raises(LutSizeError, match="17, 33, 65"):
        write_cube(tmp_path / "s.cube", np.zeros((int(size), int(size), int(size), 3)), title="t")
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize("table", [np.zeros((17, 17, 3)), np.zeros((17, 17, 16, 3)), np.zeros((17, 17, 17, 4))])
def test_tables_of_the_wrong_shape_are_refused(tmp_path, table):
    with pytest.raises(ColourInputError, match="shaped"):
        write_cube(tmp_path / "s.cube", table, title="t")


@pytest.mark.parametrize("value", [np.nan, np.inf, 1e6])
def test_tables_with_bad_values_are_refused(tmp_path, value):
    table = np.zeros((17, 17, 17, 3))
    table[3, 4, 5, 1] = value
    with pytest.raises(ColourInputError, match="finite"):
        write_cube(tmp_path / "s.cube", table, title="t")


@pytest.mark.parametrize("title", ['with "quotes"', "two\nlines", "tab\there"])
def test_titles_that_break_the_format_are_refused(tmp_path, title):
    with pytest.raises(ColourInputError, match="title"):
        write_cube(tmp_path / "s.cube", np.zeros((17, 17, 17, 3)), title=title)


ROWS8 = "\n".join(["0 0 0"] * 8)


@pytest.mark.parametrize("text, line, reason", [
    ("", 1, "no LUT_3D_SIZE"),
    ("# just a comment\n\n", 2, "no LUT_3D_SIZE"),
    ('TITLE "t"\n0 0 0\n', 2, "before any LUT_3D_SIZE"),
    ("LUT_3D_SIZE 2\n" + "\n".join(["0 0 0"] * 7) + "\n", 8, "ends after 7 data lines; LUT_3D_SIZE 2 needs 8"),
    ("LUT_3D_SIZE 2\n" + ROWS8 + "\n0 0 0\n", 10, "more data lines than LUT_3D_SIZE 2 has (8)"),
    ("LUT_3D_SIZE 2\n0 0 0\n0 abc 0\n", 3, "not a number: 'abc'"),
    ("LUT_3D_SIZE 2\nnan 0 0\n", 2, "not a number: 'nan'"),
    ("LUT_3D_SIZE 2\n0 0 inf\n", 2, "not a number: 'inf'"),
    ("LUT_3D_SIZE 2\n1_0 0 0\n", 2, "not a number: '1_0'"),
    ("LUT_3D_SIZE 2\n0x1 0 0\n", 2, "not a number: '0x1'"),
    ("LUT_3D_SIZE 2\n0 0\n", 2, "needs 3 numbers (red green blue), got 2"),
    ("LUT_3D_SIZE 2\n0 0 0 0\n", 2, "needs 3 numbers (red green blue), got 4"),
    ("LUT_3D_SIZE 2\n0 0 0 # note\n", 2, "needs 3 numbers"),
    ("LUT_3D_SIZE 2\n0 0 0\n0 1e9 0\n" + "\n".join(["0 0 0"] * 6), 3, "outside +-65504"),
    ("LUT_3D_SIZE 2\n" + "\n".join(["0 0 0"] * 5) + "\n0 0 -1e999\n0 0 0\n0 0 0\n", 7, "outside +-65504"),
    ("LUT_1D_SIZE 4\n0 0 0\n", 1, "1D LUT"),
    ('TITLE "t"\nLUT_1D_INPUT_RANGE 0 1\n', 2, "1D LUT"),
    ("LUT_3D_SIZE abc\n", 1, "LUT_3D_SIZE must be one whole number from 2 to 256"),
    ("LUT_3D_SIZE 1\n", 1, "from 2 to 256"),
    ("LUT_3D_SIZE 257\n", 1, "from 2 to 256"),
    ("LUT_3D_SIZE 2.0\n", 1, "whole number"),
    ("LUT_3D_SIZE 2 2\n", 1, "whole number"),
    ("LUT_3D_SIZE 2\nLUT_3D_SIZE 2\n", 2, "a second LUT_3D_SIZE (the first is on line 1)"),
    ('TITLE "a"\nLUT_3D_SIZE 2\nTITLE "b"\n', 3, "a second TITLE (the first is on line 1)"),
    ("FOO 1\n", 1, "unknown keyword 'FOO'"),
    ("LUT_3D_SIZE 2\n" + ROWS8 + '\nTITLE "late"\n', 10, "TITLE after the data lines (which start on line 2)"),
    ("TITLE unquoted\n", 1, 'TITLE must be followed by one "double-quoted" string'),
    ('TITLE "a" "b"\n', 1, "double-quoted"),
    ("DOMAIN_MIN 0 0\n", 1, "DOMAIN_MIN needs 3 numbers"),
    ("DOMAIN_MAX 1 one 1\n", 1, "DOMAIN_MAX needs 3 numbers"),
    ("DOMAIN_MIN 0 0 1e9\n", 1, "outside"),
    ("LUT_3D_SIZE 2\nDOMAIN_MIN 0 0 0\nDOMAIN_MAX 1 0 1\n" + ROWS8, 3, "not below its maximum"),
    ("LUT_3D_SIZE 2\nDOMAIN_MIN 0 0 0\nLUT_3D_INPUT_RANGE 0 1\n", 3, "both give the domain"),
    ("LUT_3D_SIZE 2\nLUT_3D_INPUT_RANGE 0 1\nDOMAIN_MAX 1 1 1\n", 3, "both give the domain"),
    ("LUT_3D_SIZE 2\nLUT_3D_INPUT_RANGE 1 0\n" + ROWS8, 2, "not below its maximum"),
    ("LUT_3D_SIZE 2\n0 0 0\n0 \xff 0\n", 3, "not UTF-8 text (byte 0xff at column 3)"),
])
def test_bad_files_name_the_file_line_and_problem(tmp_path, text, line, reason):
    path = tmp_path / "bad.cube"
    path.write_bytes(text.encode("latin-1"))
    with pytest.raises(LutFormatError) as info:
        read_cube(path)
    err = info.value
    assert (err.path, err.line) == (path, line)
    assert reason in err.reason
    assert str(err).startswith(f"{path} line {line}: ")


@pytest.mark.parametrize("text, line, reason", [
    ("LUT_3D_SIZE \u00b2\n", 1, "whole number"),
    ("LUT_3D_SIZE \u0663\n", 1, "whole number"),
    ("LUT_3D_SIZE 2\n0 \u0663 0\n", 2, "not a number"),
    ("LUT_3D_SIZE 2\n0\u20030 0\n", 2, "separated by spaces or tabs"),
    ("DOMAIN_MIN 0 \uff10 0\n", 1, "DOMAIN_MIN needs 3 numbers"),
])
def test_unicode_digits_and_spaces_are_not_numbers(tmp_path, text, line, reason):
    path = tmp_path / "bad.cube"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(LutFormatError) as info:
        read_cube(path)
    assert info.value.line == line and reason in info.value.reason


def test_a_missing_file_is_named(tmp_path):
    with pytest.raises(LutFormatError, match="cannot read") as info:
        read_cube(tmp_path / "nowhere.cube")
    assert info.value.path == tmp_path / "nowhere.cube" and info.value.line is None


def test_the_reader_accepts_what_the_specification_allows(tmp_path):
    rows = [f"{i / 10:.1f} 0.5 {1 - i / 10:.2f}" for i in range(8)]
    text = ("# made elsewhere\r\nLUT_3D_SIZE 2\r\n\r\n  # comment inside the header\r\nTITLE \"other tool\"\r\n"
            "LUT_3D_INPUT_RANGE -0.5 2\r\n" + "\r\n".join(rows[:4]) + "\r\n# between rows\r\n\t"
            + "\r\n".join(rows[4:]) + "  \r\n# trailing\r\n")
    path = tmp_path / "other.cube"
    path.write_text(text, newline="")
    lut = read_cube(path)
    assert lut.size == 2 and lut.title == "other tool"
    assert lut.domain_min == (-0.5,) * 3 and lut.domain_max == (2.0,) * 3
    assert lut.comments == ("made elsewhere", "comment inside the header")
    # Row k is (i_r, i_g, i_b) = (k % 2, k // 2 % 2, k // 4).
    assert lut.table[1, 0, 0, 0] == pytest.approx(0.1) and lut.table[0, 1, 0, 0] == pytest.approx(0.2)
    assert lut.table[0, 0, 1, 0] == pytest.approx(0.4) and lut.table[1, 1, 1, 2] == pytest.approx(0.3)


def test_a_failed_write_leaves_nothing_behind(tmp_path, monkeypatch):
    target = tmp_path / "look.cube"

    def full_disk(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("engines.style.colour._atomic.os.fsync", full_disk)
    with pytest.raises(ColourWriteError, match="No space left") as info:
        write_cube(target, _random_table(17), title="t")
    assert info.value.path == target and isinstance(info.value, ColourError)
    assert list(tmp_path.iterdir()) == []


def test_an_exception_mid_write_keeps_the_old_file_and_no_temporary(tmp_path):
    target = tmp_path / "look.cube"
    target.write_text("old contents\n")

    def half_then_fail(handle):
        handle.write("LUT_3D_SIZE 17\n" + "0 0 0\n" * 1000)
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        write_atomic(target, half_then_fail)
    assert target.read_text() == "old contents\n"
    assert [p.name for p in tmp_path.iterdir()] == ["look.cube"]


def test_a_write_replaces_the_old_file_whole(tmp_path):
    target = tmp_path / "look.cube"
    target.write_text("old\n")
    write_cube(target, _random_table(17), title="new")
    assert read_cube(target).title == "new"
    assert [p.name for p in tmp_path.iterdir()] == ["look.cube"]
    assert os.stat(target).st_mode & 0o777 == 0o644


def test_a_write_into_a_missing_folder_is_a_colour_write_error(tmp_path):
    with pytest.raises(ColourWriteError, match="cannot write"):
        write_cube(tmp_path / "no" / "such" / "look.cube", _random_table(17), title="t")


def _read_or_format_error(path):
    try:
        read_cube(path)
    except LutFormatError as err:
        assert err.path == path and (err.line is None or err.line >= 1)


@settings(max_examples=150)
@given(data=st.binary(max_size=400))
def test_random_bytes_raise_only_lut_format_errors(tmp_path_factory, data):
    path = tmp_path_factory.mktemp("bytes") / "random.cube"
    path.write_bytes(data)
    _read_or_format_error(path)


_KEYWORDS = st.sampled_from(["TITLE", "LUT_3D_SIZE", "LUT_1D_SIZE", "DOMAIN_MIN", "DOMAIN_MAX", "LUT_3D_INPUT_RANGE",
                             "LUT_1D_INPUT_RANGE", "FOO"])
_NUMBERISH = st.sampled_from(["0", "1", "2", "0.5", "-1", ".5", "5.", "+1", "1.5e-3", "65505", "1e400", "nan", "x",
                              '"t"', "1_0", "\u00b2", "\u0663", "\uff10", "é"])
_SEPARATORS = st.sampled_from([" ", "\t", "  ", "\u2003", "\u00a0", "\x0c"])
_KEYWORD_LINES = st.tuples(_KEYWORDS, st.lists(_NUMBERISH, max_size=4), _SEPARATORS).map(
    lambda t: t[0] + " " + t[2].join(t[1]))
_DATA_LINES = st.tuples(st.lists(_NUMBERISH, min_size=2, max_size=4), _SEPARATORS).map(lambda t: t[1].join(t[0]))
_LINES = st.lists(st.one_of(_KEYWORD_LINES, _DATA_LINES, st.sampled_from(["", "# c", "0 0 0", "TITLE \"t\""])),
                  max_size=14)


@settings(max_examples=400)
@given(size_first=st.booleans(), header=_LINES, rows=st.integers(0, 10), tail=_LINES)
def test_random_lines_raise_only_lut_format_errors(tmp_path_factory, size_first, header, rows, tail):
    lines = (["LUT_3D_SIZE 2"] if size_first else []) + header + ["0.25 0.5 0.75"] * rows + tail
    path = tmp_path_factory.mktemp("lines") / "random.cube"
    path.write_text("\n".join(lines), encoding="utf-8")
    _read_or_format_error(path)


@settings(max_examples=200)
@given(lines=st.lists(st.text(max_size=30), max_size=12), size_first=st.booleans())
def test_random_text_lines_raise_only_lut_format_errors(tmp_path_factory, lines, size_first):
    path = tmp_path_factory.mktemp("text") / "random.cube"
    path.write_text("\n".join((["LUT_3D_SIZE 2"] if size_first else []) + lines), encoding="utf-8",
                    errors="surrogatepass")
    _read_or_format_error(path)


@settings(max_examples=100)
@given(values=st.lists(st.floats(-65504, 65504, allow_nan=False, width=32), min_size=24, max_size=24))
def test_any_valid_size_two_file_reads_back_its_values(tmp_path_factory, values):
    rows = [" ".join(f"{v:.7f}" for v in values[i:i + 3]) for i in range(0, 24, 3)]
    path = tmp_path_factory.mktemp("valid") / "two.cube"
    path.write_text("LUT_3D_SIZE 2\n" + "\n".join(rows) + "\n")
    table = read_cube(path).table
    flat = table.transpose(2, 1, 0, 3).reshape(-1)
    np.testing.assert_allclose(flat, np.round(np.array(values, dtype=np.float64), 7), rtol=1e-6, atol=1e-7)


def test_errors_pickle_with_their_values(tmp_path):
    import pickle

    from engines.style.colour.errors import OcioLoadError, UnknownEncodingError

    for err in (LutFormatError(tmp_path / "a.cube", 3, "bad"), LutSizeError(30, LUT_SIZES),
                ColourWriteError(tmp_path / "a.cube", "full"), OcioLoadError(tmp_path / "a.cube", "no"),
                UnknownEncodingError("x", ["rec709"])):
        again = pickle.loads(pickle.dumps(err))
        assert type(again) is type(err) and str(again) == str(err) and vars(again) == vars(err)
