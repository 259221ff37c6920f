"""Look files (round trip, atomic writes, refusals), styling a frame in the order light meets film,
and finding a look by name."""

import json
import os

import numpy as np
import pytest

from engines.style.model import look as look_module
from engines.style.model import shipped
from engines.style.model.colour import apply_colour, identity_colour
from engines.style.model.errors import LookFileError, UnknownLookError
from engines.style.model.look import colour_only, identity_look, load_look, save_look, style_frame
from engines.style.model.texture import Halation, Vignette, radius_map
from tests.engines.style.model import synth
from tests.engines.style.model.synth import COLOUR, HALVE, LOW_PASS_GRAIN, RMS_LEVELS, RMS_TABLE, hand_look


def _frame(height=48, width=64, seed=1) -> np.ndarray:
    return synth.scene(height, width, seed, exposure=2.0)


def test_save_and_load_keep_every_field(tmp_path):
    look = hand_look()
    path = save_look(look, tmp_path / "test-look.look.json")
    back = load_look(path)
    assert back.name == look.name and back.input_encoding == "rec709" and back.card == look.card
    assert back.vignette == look.vignette and back.halation == look.halation
    assert isinstance(back.halation.gain_rgb, tuple)
    for name in ("in_curves", "matrix", "out_curves"):
        np.testing.assert_array_equal(getattr(back.colour, name), getattr(look.colour, name))
    for name in ("levels", "rms", "correlation", "psd_freq", "psd"):
        np.testing.assert_array_equal(getattr(back.grain, name), getattr(look.grain, name))
    assert back.grain.ref_width_px == look.grain.ref_width_px
    frame = _frame()
    np.testing.assert_array_equal(style_frame(frame, back, seed=3), style_frame(frame, look, seed=3))
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["format"] == "onset-look" and data["format_version"] == 1 and data["output_encoding"] == "rec709"


def test_a_look_without_grain_round_trips(tmp_path):
    back = load_look(save_look(hand_look(grain=None, input_encoding="logc3"), tmp_path / "g.look.json"))
    assert back.grain is None and back.input_encoding == "logc3"


def test_with_card_adds_entries_and_keeps_the_rest():
    look = hand_look().with_card(pairs=30, software={"numpy": "2"})
    assert look.card["pairs"] == 30 and look.card["note"] == "ΔE2000 ✓" and look.card["software"] == {"numpy": "2"}
    assert hand_look().card["pairs"] == 12


def test_save_leaves_only_the_look_file(tmp_path):
    save_look(hand_look(), tmp_path / "a.look.json")
    save_look(hand_look(name="again"), tmp_path / "a.look.json")
    assert os.listdir(tmp_path) == ["a.look.json"]
    assert load_look(tmp_path / "a.look.json").name == "again"


def test_a_failed_write_leaves_no_file(tmp_path, monkeypatch):
    def fail(fd):
        raise OSError("disk full")

    monkeypatch.setattr(look_module.os, "fsync", fail)
    with pytest.raises(OSError, match="disk full"):
        save_look(hand_look(), tmp_path / "a.look.json")
    assert os.listdir(tmp_path) == []


def test_a_failed_rewrite_keeps_the_old_file(tmp_path, monkeypatch):
    path = save_look(hand_look(name="old"), tmp_path / "a.look.json")

    def fail(src, dst):
        raise OSError("rename refused")

    monkeypatch.setattr(look_module.os, "replace", fail)
    with pytest.raises(OSError, match="rename refused"):
        save_look(hand_look(name="new"), path)
    monkeypatch.undo()
    assert os.listdir(tmp_path) == ["a.look.json"] and load_look(path).name == "old"


def test_a_card_that_is_not_json_writes_nothing(tmp_path):
    with pytest.raises(ValueError):
        save_look(hand_look(card={"mean": float("nan")}), tmp_path / "a.look.json")
    assert os.listdir(tmp_path) == []


def _write(tmp_path, data) -> str:
    path = tmp_path / "x.look.json"
    path.write_text(data if isinstance(data, str) else json.dumps(data))
    return str(path)


def _without(path, *keys):
    data = hand_look().to_dict()
    where = data
    for key in path:
        where = where[key]
    for key in keys:
        del where[key]
    return data


@pytest.mark.parametrize("data, message", [
    ("{not json", r"is not a look file \(JSON expected\)"),
    ("\udcff".encode("utf-8", "surrogatepass").decode("latin-1"), r"is not a look file \(JSON expected\)"),
    ([1, 2, 3], "is not an onset-look file"),
    ({"format": "onset-style-pairs", "format_version": 1}, "is not an onset-look file"),
    ({**hand_look().to_dict(), "format_version": 2}, "is onset-look version 2; this Onset reads up to 1"),
    ({**hand_look().to_dict(), "format_version": "1"}, "is onset-look version '1'"),
    (_without((), "halation"), "a part of the look is missing or malformed: 'halation'"),
    (_without((), "colour"), "missing or malformed: 'colour'"),
    (_without((), "name"), "missing or malformed: 'name'"),
    (_without(("vignette",), "b"), "missing or malformed: 'b'"),
    (_without(("colour",), "matrix"), "missing or malformed: 'matrix'"),
    (_without(("grain",), "psd"), "missing or malformed: 'psd'"),
    ({**hand_look().to_dict(), "colour": {**COLOUR.to_dict(), "matrix": [[1, 0], [0, 1]]}}, "matrix must be 3x3"),
    ({**hand_look().to_dict(), "vignette": {"a": "dark", "b": 0}}, "missing or malformed"),
    ({**hand_look().to_dict(), "grain": {**LOW_PASS_GRAIN.to_dict(), "rms": [[0.01, 0.02]]}}, "rms"),
    ({**hand_look().to_dict(), "halation": {"threshold": 0.5, "sigma_frac": 0.01, "gain_rgb": [0.2, 0.1]}}, "gain_rgb"),
])
def test_a_bad_file_is_refused_saying_why(tmp_path, data, message):
    path = _write(tmp_path, data)
    with pytest.raises(LookFileError, match=message) as info:
        load_look(path)
    assert path in str(info.value)


def test_a_missing_file_is_refused(tmp_path):
    with pytest.raises(LookFileError, match=f"no look file at {tmp_path / 'gone.look.json'}"):
        load_look(tmp_path / "gone.look.json")


def test_without_texture_a_frame_gets_the_colour_only():
    frame, look = _frame(), hand_look()
    plain = style_frame(frame, look, seed=0, texture=False)
    assert plain.dtype == np.float32 and plain.shape == frame.shape
    np.testing.assert_array_equal(plain, colour_only(frame, look))
    np.testing.assert_array_equal(colour_only(frame, look), apply_colour(frame, COLOUR))


def test_the_vignette_and_halation_act_on_linear_light_before_the_colour():
    frame = synth.scene(48, 64, seed=1, exposure=0.3)  # no light over the threshold but the lamp's
    frame[20:24, 30:34] = 1.0
    lin = synth.bt709_decode(frame) * synth.vignette_gain(synth.radius_of(48, 64), -0.4, 0.1)[..., None]
    plain = style_frame(frame, hand_look(grain=None, halation=Halation(1.0, 0.0, (0.0, 0.0, 0.0))))
    np.testing.assert_allclose(plain, apply_colour(np.clip(synth.bt709_encode(lin), 0, 1), COLOUR), atol=2e-6)
    haloed = style_frame(frame, hand_look(grain=None, halation=Halation(0.5, 0.05, (0.3, 0.05, 0.0))))
    ring = np.zeros((48, 64), bool)
    ring[17:27, 27:37] = True
    ring[20:24, 30:34] = False  # the lamp itself is white already
    assert (haloed[ring, 0] > plain[ring, 0] + 2e-3).all()  # red light returned around the lamp
    assert np.abs(haloed[40:] - plain[40:]).max() < 1e-5  # and none far from it


def test_grain_goes_on_the_display_value_after_the_colour():
    flat = np.full((180, 320, 3), 0.5)
    look = hand_look(colour=HALVE, vignette=Vignette(0.0, 0.0), halation=Halation(1.0, 0.0, (0.0, 0.0, 0.0)))
    grain = style_frame(flat, look, seed=4) - colour_only(flat, look)
    expected = [np.interp(0.25, RMS_LEVELS, RMS_TABLE[c]) for c in range(3)]  # the table at the output level, 0.25
    assert grain.reshape(-1, 3).std(axis=0) == pytest.approx(expected, rel=0.04)


def test_grain_is_the_same_for_a_seed_and_new_for_another():
    frame, look = _frame(), hand_look()
    np.testing.assert_array_equal(style_frame(frame, look, seed=5), style_frame(frame, look, seed=5))
    difference = np.abs(style_frame(frame, look, seed=5) - style_frame(frame, look, seed=6))
    assert difference.mean() > 1e-3
    assert 0.0 <= style_frame(frame, look, seed=5).min() and style_frame(frame, look, seed=5).max() <= 1.0


def test_a_uint8_frame_is_read_as_code_values():
    u8 = np.round(_frame() * 255).astype(np.uint8)
    np.testing.assert_array_equal(style_frame(u8, hand_look(), seed=2), style_frame(u8 / 255.0, hand_look(), seed=2))


@pytest.mark.parametrize("shape", [(48, 64), (48, 64, 4), (2, 48, 64, 3), (3,)])
def test_a_frame_must_be_rgb(shape):
    with pytest.raises(ValueError, match=r"\(H, W, 3\)"):
        style_frame(np.zeros(shape), hand_look())


def test_off_changes_nothing():
    frame = _frame()
    off = shipped.resolve_look(shipped.OFF)
    assert off.name == "off" and off.grain is None
    # The identity's curves are exact at their knots and within 2.4e-4 between; BT.709's seam
    # (encode after decode) adds up to 2.5e-4 for codes 0.081 to 0.0813.
    assert np.abs(style_frame(frame, off) - frame).max() < 5e-4
    np.testing.assert_array_equal(identity_look("x").colour.matrix, identity_colour().matrix)


def test_looks_are_found_by_name_or_file(tmp_path, monkeypatch):
    monkeypatch.setattr(shipped, "SHIPPED_LOOKS_DIR", tmp_path)
    assert shipped.shipped_look_names() == []
    save_look(hand_look(name="warm"), tmp_path / "warm.look.json")
    save_look(hand_look(name="cold"), tmp_path / "cold.look.json")
    (tmp_path / "notes.txt").write_text("not a look")
    assert shipped.shipped_look_names() == ["cold", "warm"]
    assert shipped.resolve_look("warm").name == "warm"
    assert shipped.resolve_look(str(tmp_path / "cold.look.json")).name == "cold"
    with pytest.raises(LookFileError, match="no look file"):
        shipped.resolve_look(str(tmp_path / "gone.look.json"))


def test_an_unknown_name_lists_the_looks(tmp_path, monkeypatch):
    monkeypatch.setattr(shipped, "SHIPPED_LOOKS_DIR", tmp_path)
    save_look(hand_look(name="warm"), tmp_path / "warm.look.json")
    with pytest.raises(UnknownLookError) as info:
        shipped.resolve_look("sepia")
    assert str(info.value) == "no look named 'sepia'; the looks are warm, off, or give a .look.json file"


def test_the_radius_of_the_look_is_the_textures():
    np.testing.assert_array_equal(radius_map(48, 64), synth.radius_of(48, 64))
