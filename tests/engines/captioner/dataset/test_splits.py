"""Scene splits: a scene is in one split, named scenes go where named, the hash is stable."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engines.captioner.dataset.errors import SplitError
from engines.captioner.dataset.splits import SPLITS, assign_splits, scene_fraction, split_table

SCENES = [f"{plan}-s{seed}" for plan in ("focal-sweep", "pan", "framing") for seed in range(1, 41)]


def test_named_scenes_go_where_named_and_the_rest_by_hash_at_the_fractions():
    split = assign_splits(SCENES, val_scenes=["pan-s1"], test_scenes=["pan-s2", "pan-s3"])
    assert split["pan-s1"] == "val" and split["pan-s2"] == split["pan-s3"] == "test"
    assert {v for k, v in split.items() if k not in ("pan-s1", "pan-s2", "pan-s3")} == {"train"}
    hashed = assign_splits(SCENES, val_fraction=0.2, test_fraction=0.1)
    counts = {s: sum(1 for v in hashed.values() if v == s) for s in SPLITS}
    assert counts["train"] + counts["val"] + counts["test"] == len(SCENES)
    assert 12 <= counts["val"] <= 36 and 4 <= counts["test"] <= 24  # 120 scenes: 24 and 12 expected
    for scene, where in hashed.items():
        u = scene_fraction(scene)
        assert where == ("test" if u < 0.1 else "val" if u < 0.3 else "train")


def test_a_scene_cannot_be_in_two_splits_or_named_without_a_take():
    with pytest.raises(SplitError, match="pan-s1 named for both validation and test"):
        assign_splits(SCENES, val_scenes=["pan-s1"], test_scenes=["pan-s1"])
    with pytest.raises(SplitError, match="scene\\(s\\) pan-s99 named for a split but no take has them"):
        assign_splits(SCENES, test_scenes=["pan-s99"])
    with pytest.raises(SplitError, match="more than 1"):
        assign_splits(SCENES, val_fraction=0.6, test_fraction=0.6)
    with pytest.raises(SplitError, match="val_fraction must be between 0 and 1"):
        assign_splits(SCENES, val_fraction=-0.1)


@given(st.lists(st.text("abcxyz-0123456789", min_size=1, max_size=8), min_size=1, max_size=30, unique=True),
       st.lists(st.text("abcxyz-0123456789", min_size=1, max_size=8), max_size=10, unique=True))
def test_adding_scenes_never_moves_a_scene_to_another_split(scenes, more):
    before = assign_splits(scenes, val_fraction=0.3, test_fraction=0.3)
    after = assign_splits(scenes + [m for m in more if m not in scenes], val_fraction=0.3, test_fraction=0.3)
    assert all(after[s] == before[s] for s in scenes)
    assert set(before.values()) <= set(SPLITS) and set(before) == set(scenes)


def test_the_split_table_lists_every_split():
    lines = split_table({"a": "train", "b": "train", "c": "test"}, {"a": 2, "b": 1, "c": 4})
    assert lines[1].split() == ["train", "2", "3", "a,", "b"]
    assert lines[2].split() == ["val", "0", "0", "(none)"]
    assert lines[3].split() == ["test", "1", "4", "c"]
