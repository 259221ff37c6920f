"""Pairs folders as training reads them (stage folders as they are, user folders registered), and
the stage pairs that ``onset style pairs`` builds from takes."""

import json
import os
from pathlib import Path

import numpy as np
import pytest

from engines.style.film import colour as film_colour
from engines.style.film import develop
from engines.style.model.data import read_pairs_folder
from engines.style.pairs import load_image
from engines.style.pairs import stage
from engines.style.pairs.errors import PairsError
from engines.style.pairs.stage import MANIFEST, StageSelection, build_stage_pairs, frame_tags, read_manifest
from tests.engines.style.model import synth
from tests.engines.style.pairs import files
from tests.engines.style.pairs import synth as pairs_synth

#: Frames of the stage tests: 128 px high, the least that a pairs folder takes (find_pairs refuses
#: smaller images even where no registration follows).
H, W = 128, 160


@pytest.fixture(scope="module")
def stage_folder(tmp_path_factory):
    frames = [synth.scene(H, W, seed, exposure) for seed, exposure in enumerate((0.4, 1.0, 2.0))]
    return synth.write_stage_folder(tmp_path_factory.mktemp("stage"), "35mm", frames, seed=5)


def test_a_stage_folder_is_read_as_aligned_with_its_tags(stage_folder):
    heard = []
    data = read_pairs_folder(stage_folder, progress=heard.append)
    manifest = json.loads((stage_folder.parent / MANIFEST).read_text())
    assert data.aligned and data.problems == [] and data.film_look == "35mm" and heard == [1, 1, 1]
    assert data.manifest == manifest
    assert [p.name for p in data.pairs] == ["take5_000", "take5_001", "take5_002"]
    for pair, entry in zip(data.pairs, manifest["pairs"]):
        assert pair.mask.shape == (H, W) and pair.mask.all()
        assert pair.tags == entry and pair.tags["plan_value"] in ("day", "night")
        np.testing.assert_array_equal(pair.control, load_image(stage_folder / "control" / f"{pair.name}.png"))
        np.testing.assert_array_equal(pair.test, load_image(stage_folder / "test" / f"{pair.name}.png"))


def test_a_stage_pair_of_two_sizes_is_a_problem_not_a_pair(tmp_path):
    folder = synth.write_stage_folder(tmp_path, "35mm", [synth.scene(H, W, 1), synth.scene(H, W, 2)])
    stage.write_png16(folder / "test" / "take0_001.png", np.zeros((H, W + 2, 3)))
    data = read_pairs_folder(folder)
    assert [p.name for p in data.pairs] == ["take0_000"]
    assert data.problems == [f"take0_001: control {(H, W, 3)} and test {(H, W + 2, 3)} differ in size"]


def test_a_folder_named_for_no_manifest_look_has_no_film_look(tmp_path):
    folder = synth.write_stage_folder(tmp_path, "35mm", [synth.scene(H, W, 1)])
    renamed = folder.rename(folder.parent / "mine")
    data = read_pairs_folder(renamed)
    assert data.aligned and data.film_look is None


@pytest.fixture(scope="module")
def user_folder(tmp_path_factory):
    """A user's pairs: one scan of a scene (scaled, rotated, vignetted, grained) and one test of
    something else entirely."""
    folder = tmp_path_factory.mktemp("user")
    pair, _ = pairs_synth.standard_pair()
    files.write(folder / "control" / "scene.png", pair.control)
    files.write(folder / "test" / "scene.png", pair.test, bits=16)
    files.write(folder / "control" / "stranger.png", pair.control)
    files.write(folder / "test" / "stranger.png", pairs_synth.scene(600, 345, seed=99), bits=16)
    return folder


def test_a_users_folder_is_registered_and_masked(user_folder):
    data = read_pairs_folder(user_folder)
    assert not data.aligned and data.manifest is None and data.film_look is None
    assert [p.name for p in data.pairs] == ["scene"]
    pair = data.pairs[0]
    assert pair.test.shape == pair.control.shape == (360, 640, 3)
    assert 0.5 < pair.mask.mean() < 1.0  # the scan's edges and whatever disagrees are masked out
    assert [p.name for p in data.problems] == ["stranger"] and "not registered" in data.problems[0].reason


def test_a_manifest_that_is_not_aligned_means_registration(tmp_path, monkeypatch):
    (tmp_path / "control").mkdir()
    (tmp_path / MANIFEST).write_text(json.dumps({"format": "onset-style-pairs", "aligned": False}))
    seen = []

    def fake_load(folder, progress=None):
        seen.append(Path(folder))
        return [], ["a problem"]

    import engines.style.pairs as pairs_package
    monkeypatch.setattr(pairs_package, "load_registered_pairs", fake_load)
    data = read_pairs_folder(tmp_path)
    assert seen == [tmp_path] and not data.aligned and data.pairs == [] and data.problems == ["a problem"]


def test_read_manifest_finds_its_own_format_only(tmp_path):
    assert read_manifest(tmp_path) is None
    (tmp_path / MANIFEST).write_text(json.dumps({"format": "something-else"}))
    assert read_manifest(tmp_path / "35mm") is None
    (tmp_path / MANIFEST).write_text("{oops")
    with pytest.raises(PairsError, match="is not a pairs manifest"):
        read_manifest(tmp_path)


def _flat(rgb) -> np.ndarray:
    return np.broadcast_to(np.array(rgb, np.float64), (20, 30, 3)).copy()


@pytest.mark.parametrize("rgb, hue", [
    ((0.8, 0.1, 0.1), "red"), ((0.8, 0.8, 0.1), "yellow"), ((0.1, 0.7, 0.1), "green"), ((0.1, 0.6, 0.7), "cyan"),
    ((0.1, 0.1, 0.8), "blue"), ((0.7, 0.1, 0.7), "magenta"), ((0.5, 0.5, 0.5), "neutral"),
    ((0.5, 0.45, 0.47), "neutral"),
])
def test_frame_tags_name_the_dominant_hue(rgb, hue):
    tags = frame_tags(_flat(rgb))
    assert tags["hue"] == hue
    assert tags["exposure"] == round(0.2126 * rgb[0] + 0.7152 * rgb[1] + 0.0722 * rgb[2], 4)


def test_frame_tags_median_luma_and_a_few_coloured_pixels():
    frame = np.zeros((20, 40, 3))
    frame[:, :10] = 0.1
    frame[:, 10:30] = 0.4
    frame[:, 30:] = 0.9
    assert frame_tags(frame) == {"exposure": 0.4, "hue": "neutral"}
    frame[:1, :30] = (0.9, 0.1, 0.1)  # 30 of 800 pixels red: under 5 %, still neutral
    assert frame_tags(frame)["hue"] == "neutral"
    frame[:3, :30] = (0.9, 0.1, 0.1)  # 90 of 800: red
    assert frame_tags(frame)["hue"] == "red"


def test_stage_selection_keeps():
    tags = {"exposure": 0.42, "hue": "red", "plan_value": 2}
    assert StageSelection().keeps(tags)
    assert StageSelection(exposure=(0.42, 0.6)).keeps(tags) and StageSelection(exposure=(0.2, 0.42)).keeps(tags)
    assert not StageSelection(exposure=(0.5, 1.0)).keeps(tags)
    assert StageSelection(hue="red").keeps(tags) and not StageSelection(hue="blue").keeps(tags)
    assert StageSelection(plan_value="2").keeps(tags) and not StageSelection(plan_value="3").keeps(tags)
    assert not StageSelection(plan_value="2").keeps({"exposure": 0.4, "hue": "red"})
    assert not StageSelection(exposure=(0.0, 1.0), hue="red", plan_value="9").keeps(tags)


#: Two takes' camera frames (t_ns, uint8 RGB): what _take_frames would read from their bags.
TAKES = {
    "take a": [(1_000_000_000, synth.scene(H, W, 1, 0.5)), (2_000_000_000, synth.scene(H, W, 2, 1.5))],
    "take.b": [(5_000_000_000, synth.scene(H, W, 3, 1.0))],
}


@pytest.fixture
def takes(tmp_path, monkeypatch):
    seen = []

    def frames(take, every_s):
        seen.append((take.name, every_s))
        for t_ns, rgb in TAKES[take.name]:
            yield t_ns, np.round(rgb * 255).astype(np.uint8)

    monkeypatch.setattr(stage, "_take_frames", frames)
    monkeypatch.setattr(stage, "_plan", lambda take: {"plan": "lighting", "plan_value": take.name[-1], "stage_seed": 4})
    folders = [tmp_path / "takes" / name for name in TAKES]
    return folders, seen


def test_stage_pairs_are_built_per_look_with_a_manifest(tmp_path, takes):
    folders, seen = takes
    out = tmp_path / "pairs"
    names = []
    manifest = build_stage_pairs(folders, out, ["35mm", "push2"], every_s=2.5, progress=names.append)
    assert seen == [("take a", 2.5), ("take.b", 2.5)]
    assert names == ["take-a_1000000000", "take-a_2000000000", "take-b_5000000000"]
    assert json.loads((out / MANIFEST).read_text()) == manifest
    assert manifest["format"] == "onset-style-pairs" and manifest["aligned"] is True
    assert manifest["looks"] == ["35mm", "push2"] and manifest["every_s"] == 2.5
    assert manifest["takes"] == [str(f.resolve()) for f in folders]
    assert manifest["selection"] == {"exposure": None, "hue": None, "plan_value": None}
    first = manifest["pairs"][0]
    assert first["take"] == "take a" and first["t_ns"] == 1_000_000_000 and first["plan_value"] == "a"
    assert os.listdir(tmp_path) == ["pairs"]  # and no pairs.partial
    frames = [rgb for take in TAKES.values() for _, rgb in take]
    for look in ("35mm", "push2"):
        assert sorted(os.listdir(out / look)) == ["control", "test", "truth"]
        for index, (entry, rgb) in enumerate(zip(manifest["pairs"], frames)):
            u8 = np.round(rgb * 255).astype(np.uint8)
            control = load_image(out / look / "control" / f"{entry['name']}.png")
            np.testing.assert_array_equal(np.round(control * 255).astype(np.uint8), u8)
            expected = develop(u8.astype(np.float32) / 255, look, seed=index).image
            np.testing.assert_allclose(load_image(out / look / "test" / f"{entry['name']}.png"), expected,
                                       atol=0.51 / 65535 + 1e-7)
            np.testing.assert_allclose(load_image(out / look / "truth" / f"{entry['name']}.png"),
                                       film_colour(u8.astype(np.float32) / 255, look), atol=0.51 / 65535 + 1e-7)
    data = read_pairs_folder(out / "push2")
    assert data.aligned and data.film_look == "push2" and len(data.pairs) == 3


def test_a_selection_keeps_only_its_frames(tmp_path, takes):
    folders, _ = takes
    bright = StageSelection(exposure=(0.5, 1.0))
    manifest = build_stage_pairs(folders, tmp_path / "pairs", ["35mm"], selection=bright)
    kept = [p["name"] for p in manifest["pairs"]]
    assert kept and all(p["exposure"] >= 0.5 for p in manifest["pairs"]) and len(kept) < 3
    assert manifest["selection"]["exposure"] == (0.5, 1.0) or manifest["selection"]["exposure"] == [0.5, 1.0]
    assert sorted(f.stem for f in (tmp_path / "pairs" / "35mm" / "control").iterdir()) == kept


def test_an_existing_out_is_replaced_only_when_asked(tmp_path, takes):
    folders, _ = takes
    out = tmp_path / "pairs"
    out.mkdir()
    (out / "old.txt").write_text("old")
    with pytest.raises(PairsError, match=f"{out} exists; give another --out or --overwrite"):
        build_stage_pairs(folders, out, ["35mm"])
    assert (out / "old.txt").exists()
    build_stage_pairs(folders, out, ["35mm"], overwrite=True)
    assert not (out / "old.txt").exists() and (out / MANIFEST).exists()
    assert not (tmp_path / "pairs.partial").exists()


def test_unknown_looks_are_refused_before_anything_is_written(tmp_path, takes):
    folders, _ = takes
    with pytest.raises(PairsError, match="no look named sepia, 70mm; the looks are 35mm, 16mm"):
        build_stage_pairs(folders, tmp_path / "pairs", ["35mm", "sepia", "70mm"])
    with pytest.raises(PairsError, match="--every must be positive"):
        build_stage_pairs(folders, tmp_path / "pairs", ["35mm"], every_s=0)
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_a_selection_that_keeps_nothing_leaves_no_folder(tmp_path, takes):
    folders, _ = takes
    with pytest.raises(PairsError, match="no frame of the takes made a pair"):
        build_stage_pairs(folders, tmp_path / "pairs", ["35mm"], selection=StageSelection(hue="yellow"))
    assert list(tmp_path.iterdir()) == []


def test_the_manifest_keeps_each_pairs_develop_seed_beside_the_stage_seed(tmp_path, takes):
    folders, _ = takes
    manifest = build_stage_pairs(folders, tmp_path / "pairs", ["35mm"])
    assert [p["seed"] for p in manifest["pairs"]] == [0, 1, 2]
    assert all("stage_seed" in p for p in manifest["pairs"])


def test_a_take_that_fails_mid_build_leaves_no_partial_folder(tmp_path, takes, monkeypatch):
    folders, _ = takes

    def broken(take, every_s):
        yield 1, np.zeros((H, W, 3), np.uint8)
        raise OSError(f"{take}: bag truncated")

    monkeypatch.setattr(stage, "_take_frames", broken)
    with pytest.raises(OSError, match="bag truncated"):
        build_stage_pairs(folders, tmp_path / "pairs", ["35mm"])
    assert list(tmp_path.iterdir()) == []
