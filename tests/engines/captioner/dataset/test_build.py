"""The built dataset read from outside the project: plain ``tarfile`` and Pillow, and ``webdataset``.

Every check reads the shards without the project's reader, except where the builder's own re-fusion
is the thing compared (the depth round trip). Labels are scored against the AutoLabeler run on the
frames the synchronizer fused live while the take was recorded: the builder must give the same.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import subprocess
import tarfile
from collections import defaultdict
from importlib.metadata import version
from pathlib import Path
from typing import Dict, List

import numpy as np
import pytest
from PIL import Image

from engines.captioner.dataset import iter_take_frames
from engines.captioner.labeler import AutoLabeler
from tests.engines.captioner.dataset.conftest import (
    COMMAND,
    FRAMING,
    FRAMING_AGAIN,
    FULL,
    NO_LENS,
    NO_LIDAR,
    NO_TELEMETRY,
    SHARD_SAMPLES,
)

#: Live and re-fused frames are the same exposure when their stamps agree this closely (the
#: camera's stamps jitter by a few microseconds about the frame schedule the synchronizer keeps).
SAME_FRAME_NS = 100_000


def _index(root: Path) -> dict:
    return json.loads((root / "index.json").read_text())


def _read_tar(path: Path) -> List[dict]:
    """Samples of one shard, grouped by key as WebDataset groups them, in stored order."""
    samples: List[dict] = []
    with tarfile.open(path) as tar:
        for member in tar:
            key, _, suffix = member.name.partition(".")
            if not samples or samples[-1]["__key__"] != key:
                samples.append({"__key__": key, "__members__": []})
            samples[-1][suffix] = tar.extractfile(member).read()
            samples[-1]["__members__"].append(suffix)
    return samples


@pytest.fixture(scope="module")
def samples(built) -> Dict[str, List[dict]]:
    """Every split's samples read with tarfile, JSON parsed."""
    out = {}
    for split, entry in _index(built.root)["splits"].items():
        out[split] = [dict(s, meta=json.loads(s["json"])) for shard in entry["shards"]
                      for s in _read_tar(built.root / shard)]
    return out


def _take_samples(samples, take_path: Path) -> List[dict]:
    name = take_path.name
    return [s for split in samples.values() for s in split if s["meta"]["take_name"] == name]


def test_shards_hold_every_sample_whole_in_take_and_frame_order(built, samples):
    index = _index(built.root)
    rows = list(csv.DictReader((built.root / "frames.csv").open()))
    assert len(rows) == sum(len(v) for v in samples.values()) == index["counts"]["samples"] > 250
    keys = [s["__key__"] for v in samples.values() for s in v]
    assert len(set(keys)) == len(keys) and not any("." in k for k in keys)
    assert [r["key"] for r in rows] == keys
    for split, entry in index["splits"].items():
        assert len(samples[split]) == entry["samples"]
        assert all(len(_read_tar(built.root / shard)) <= SHARD_SAMPLES for shard in entry["shards"])
        seen_takes: List[str] = []
        for s in samples[split]:
            assert s["__members__"] == ["rgb.png", "depth.png", "json"]
            meta = s["meta"]
            assert s["__key__"] == f"{meta['take_id']}__{meta['frame_index']:06d}" and meta["split"] == split
            if not seen_takes or seen_takes[-1] != meta["take_id"]:
                assert meta["take_id"] not in seen_takes, "a take's samples are not contiguous"
                seen_takes.append(meta["take_id"])
        for take_id in seen_takes:
            indices = [s["meta"]["frame_index"] for s in samples[split] if s["meta"]["take_id"] == take_id]
            times = [s["meta"]["t_ns"] for s in samples[split] if s["meta"]["take_id"] == take_id]
            assert indices == sorted(indices) and np.all(np.diff(times) > 0)
    assert len(index["splits"]["train"]["shards"]) >= 5  # 212 samples at 40 a shard


def test_rgb_is_the_camera_frame_exactly_and_depth_is_16_bit_millimetres(built, samples):
    for replayed, variant in ((built.replays["pan"], FULL), (built.replays["framing"], FRAMING)):
        for s in _take_samples(samples, replayed.takes[variant]):
            rgb = Image.open(io.BytesIO(s["rgb.png"]))
            assert rgb.format == "PNG" and rgb.mode == "RGB"
            np.testing.assert_array_equal(np.asarray(rgb), replayed.image(s["meta"]["frame_index"]))
            depth = Image.open(io.BytesIO(s["depth.png"]))
            assert depth.format == "PNG" and depth.mode == "I;16" and depth.size == rgb.size
            assert s["meta"]["image"] == {"file": "rgb.png", "width_px": 640, "height_px": 360}


def test_depth_png_round_trips_to_the_millimetre(built, samples):
    stored = {s["meta"]["frame_index"]: s for s in _take_samples(samples, built.replays["pan"].takes[FULL])}
    compared = 0
    for frame in iter_take_frames(built.replays["pan"].takes[FULL], fps=12.0):
        mm = np.asarray(Image.open(io.BytesIO(stored[frame.frame_index]["depth.png"])), dtype=np.uint16)
        valid = np.isfinite(frame.depth_m)
        assert valid.sum() > 1000
        np.testing.assert_array_equal(mm == 0, ~valid)
        assert np.abs(mm[valid] / 1000.0 - frame.depth_m[valid]).max() <= 0.0005 + 1e-6
        compared += 1
    assert compared == len(stored)
    for s in _take_samples(samples, built.replays["pan"].takes[NO_LIDAR]):
        assert not np.asarray(Image.open(io.BytesIO(s["depth.png"]))).any()
        assert s["meta"]["depth"]["from_lidar"] is False


def test_webdataset_reads_the_shards_as_the_builder_wrote_them(built, samples):
    wds = pytest.importorskip("webdataset")
    index = _index(built.root)
    for split, entry in index["splits"].items():
        urls = [str(built.root / shard) for shard in entry["shards"]]
        if not urls:
            continue
        # webdataset's own "pil" decoder makes every image RGB: the 16-bit depth goes through Pillow as is.
        depth16 = wds.handle_extension("depth.png", lambda data: np.asarray(Image.open(io.BytesIO(data))))
        read = list(wds.WebDataset(urls, shardshuffle=False, empty_check=False).decode(depth16, "pil"))
        assert [r["__key__"] for r in read] == [s["__key__"] for s in samples[split]]
        for got, ours in zip(read, samples[split]):
            assert got["json"] == ours["meta"]
            ours_rgb = np.asarray(Image.open(io.BytesIO(ours["rgb.png"])))
            np.testing.assert_array_equal(np.asarray(got["rgb.png"]), ours_rgb)
            assert got["depth.png"].dtype == np.uint16
            np.testing.assert_array_equal(got["depth.png"], np.asarray(Image.open(io.BytesIO(ours["depth.png"]))))


def _close(value, expected, **tolerance) -> bool:
    """Equal when both are None, else approximately equal."""
    if value is None or expected is None:
        return value is None and expected is None
    return value == pytest.approx(expected, **tolerance)


def _live_labels(replayed, stored: List[dict]):
    """The AutoLabeler on the frames fused live, fed the frames the dataset kept, in order, and
    the telemetry the take recorded before each of them (the last 2 s of it at most, as the
    builder hands it on)."""
    fused_t = np.array([f.t_ns for f in replayed.fused], dtype=np.int64)
    labeler = AutoLabeler(replayed.rig.camera.intrinsics.sensor_width_mm)
    telemetry = sorted(replayed.telemetry, key=lambda item: int(item[0].t_ns))
    out, fed_until = [], None
    for s in stored:
        j = int(np.argmin(np.abs(fused_t - s["meta"]["t_ns"])))
        assert abs(int(fused_t[j]) - s["meta"]["t_ns"]) < SAME_FRAME_NS
        t = s["meta"]["t_ns"]
        between = [item for item in telemetry if (fed_until is None or item[0].t_ns > fed_until) and item[0].t_ns < t]
        for pose, focal in between[-200:]:
            labeler.observe(pose, focal)
        fed_until = t
        out.append(labeler.label(replayed.fused[j]))
    return out


@pytest.mark.parametrize("which", ["pan", "framing"])
def test_labels_equal_the_auto_labelers_on_the_frames_fused_live(built, samples, which):
    variant = FULL if which == "pan" else FRAMING
    replayed = built.replays[which]
    stored = _take_samples(samples, replayed.takes[variant])
    live = _live_labels(replayed, stored)
    for s, expected in zip(stored, live):
        labels, where = s["meta"]["labels"], s["__key__"]
        assert _close(labels["focal_length_mm"], expected.focal.focal_length_mm, rel=1e-9), where
        assert _close(labels["focal_35mm_mm"], expected.focal.equivalent_35mm_mm, rel=1e-9), where
        assert labels["movement"] == (None if expected.movement.missing else expected.movement.movement.value), where
        assert _close(labels["movement_speed"], expected.movement.speed, rel=1e-9), where
        lost = dict(expected.missing)
        assert labels["shot_size"] == (None if "shot_size" in lost else expected.shot_size.value), where
        assert s["meta"]["missing"].get("shot_size") == lost.get("shot_size"), where
        assert s["meta"]["missing"].get("movement") == lost.get("movement"), where
        assert _close(labels["subject_distance_m"], expected.subject_distance_m, abs=1e-6), where
        assert s["meta"]["points_used"] == replayed.fused[[f.t_ns for f in replayed.fused].index(s["meta"]["t_ns"])
                                                          ].points_used
    sizes = {s["meta"]["labels"]["shot_size"] for s in stored}
    assert sizes - {None, "none"}, "no subject was framed"
    moves = {s["meta"]["labels"]["movement"] for s in stored}
    assert moves >= ({"static", "pan_right"} if which == "pan" else {"truck_left"})


def test_a_take_without_a_sensor_has_its_labels_marked_missing_never_invented(built, samples):
    pan = built.replays["pan"]
    full = {s["meta"]["frame_index"]: s["meta"] for s in _take_samples(samples, pan.takes[FULL])}
    no_lens = "the take has no lens state (nothing on /onset/rig/lens"
    no_lidar = "the take has no LiDAR points (nothing on /onset/lidar/points)"
    no_pose = "the take has no rig pose (nothing on /onset/rig/pose"
    checks = {
        NO_LENS: {"focal_length_mm": no_lens, "focal_35mm_mm": no_lens},
        NO_LIDAR: {"shot_size": no_lidar, "subject_distance_m": no_lidar},
        NO_TELEMETRY: {"focal_length_mm": no_lens, "focal_35mm_mm": no_lens, "movement": no_pose,
                       "shot_size": no_pose, "subject_distance_m": no_pose},
    }
    for variant, emptied in checks.items():
        metas = [s["meta"] for s in _take_samples(samples, pan.takes[variant])]
        assert [m["frame_index"] for m in metas] == sorted(full)
        for meta in metas:
            for name, reason in emptied.items():
                assert meta["labels"][name] is None, (variant, name)
                assert meta["missing"][name].startswith(reason), (variant, name, meta["missing"])
            kept = set(meta["labels"]) - set(emptied) - {"movement_speed", "movement_speed_unit"}
            for name in kept:  # what the take did measure is what the whole take gives
                if name not in full[meta["frame_index"]]["missing"]:
                    assert meta["labels"][name] == pytest.approx(full[meta["frame_index"]]["labels"][name]), name
    takes = {t["take_id"]: t for t in _index(built.root)["takes"]}
    flags = {v: takes[pan.takes[v].name] for v in checks}
    assert (flags[NO_LENS]["lens"], flags[NO_LIDAR]["lidar"], flags[NO_TELEMETRY]["pose"]) == (False, False, False)
    assert all(full[k]["missing"] == {} for k in full if full[k]["frame_index"] > 24)


def test_splits_never_share_a_scene(built, samples):
    index = _index(built.root)
    scenes = {split: set(entry["scenes"]) for split, entry in index["splits"].items()}
    assert scenes == {"train": {"pan-s7"}, "val": {"ms-s7"}, "test": {"ms-s9"}}
    for split, entries in samples.items():
        assert {s["meta"]["scene"] for s in entries} <= scenes[split]
        assert all(index["build"]["scene_splits"][s["meta"]["scene"]] == split for s in entries)
    shots = list(csv.DictReader((built.root / "shots.csv").open()))
    assert all(row["scene"] in scenes[row["split"]] for row in shots)


def test_every_sample_names_its_take_frame_timecode_and_the_software_that_made_it(built, samples):
    root = Path(__file__).resolve().parents[4]
    checkout = (root / ".git").exists()
    commits = {s["meta"]["provenance"]["git_commit"] for v in samples.values() for s in v}
    assert len(commits) == 1
    (commit,) = commits
    if checkout:  # the commit the build ran at, this checkout's HEAD or before it (others may commit since)
        assert re.fullmatch(r"[0-9a-f]{40}", commit)
        ancestor = subprocess.run(["git", "-C", str(root), "merge-base", "--is-ancestor", commit, "HEAD"])
        assert ancestor.returncode == 0
    else:
        assert commit is None
    takes = {p.name: p for r in built.replays.values() for p in r.takes.values()}
    labelled = 0
    for s in (s for v in samples.values() for s in v):
        meta = s["meta"]
        prov = meta["provenance"]
        assert prov["software"] == "onset-edge" and prov["version"] == version("onset-edge")
        assert prov["command"] == COMMAND and prov["fps"] == 12.0 and isinstance(prov["git_dirty"], (bool, type(None)))
        take_json = (takes[meta["take_name"]] / "take.json").read_bytes()
        assert prov["take_json_sha256"] == hashlib.sha256(take_json).hexdigest()
        assert isinstance(meta["t_ns"], int) and isinstance(meta["frame_index"], int)
        if meta["timecode"] is not None:
            labelled += 1
            assert meta["timecode_rate"] == "24" and meta["timecode_verdict"] in ("verified", "corrected", "unverified")
    assert labelled >= 0.95 * sum(len(v) for v in samples.values())


def test_the_pan_take_is_cut_where_its_movement_changes_for_good(built, samples):
    take = built.replays["pan"].takes[FULL]
    shots = [r for r in csv.DictReader((built.root / "shots.csv").open()) if r["take_id"] == take.name]
    assert [r["movement"] for r in shots] == ["static", "pan_right", "static"]
    assert shots[0]["causes"] == "take start" and "movement" in shots[1]["causes"] and "movement" in shots[2]["causes"]
    assert shots[0]["shot_size"] == "MLS" and shots[1]["shot_size"] == "none"
    for row in shots:
        assert float(row["movement_share"]) >= 0.9
        assert float(row["mean_focal_length_mm"]) == pytest.approx(35.0, rel=1e-3)
    frames = [s["meta"] for s in _take_samples(samples, take)]
    per_shot = defaultdict(list)
    for meta in frames:
        per_shot[meta["shot_id"]].append(meta)
        assert meta["shot_labels"]["movement"] == next(r["movement"] for r in shots if r["shot_id"] == meta["shot_id"])
    assert [len(per_shot[r["shot_id"]]) for r in shots] == [int(r["frames"]) for r in shots]
    # The subject leaves the frame as the pan gets going: both changes start the pan's shot, where the
    # first of them held (the next stable run of a new value within 0.5 s is the same cut).
    static, panning = per_shot[shots[0]["shot_id"]], per_shot[shots[1]["shot_id"]]
    assert static[-1]["labels"]["shot_size"] == "MLS" and panning[0]["labels"]["shot_size"] == "none"
    first_pan = next(i for i, m in enumerate(panning) if m["labels"]["movement"] == "pan_right")
    assert first_pan <= 3 and all(m["labels"]["movement"] == "pan_right" for m in panning[first_pan:])
    assert float(shots[1]["movement_speed"]) == pytest.approx(15.0, rel=0.25)  # the ramps pull the mean down


def test_index_and_csv_agree_with_the_samples(built, samples):
    index = _index(built.root)
    assert index["format"] == "onset-captioner-dataset" and index["schema_version"] == 1
    assert index["vocabularies"]["shot_size"][-1] == "none" and "missing" not in index["vocabularies"]["movement"]
    rows = {r["key"]: r for r in csv.DictReader((built.root / "frames.csv").open())}
    for split, entries in samples.items():
        counts = index["splits"][split]["counts"]
        assert sum(counts["shot_size"].values()) == len(entries)
        for s in entries:
            row, meta = rows[s["__key__"]], s["meta"]
            assert row["shot_id"] == meta["shot_id"] and row["split"] == split
            assert (row["movement"] or None) == meta["labels"]["movement"]
            assert json.loads(row["missing"]) == meta["missing"]
    shots = list(csv.DictReader((built.root / "shots.csv").open()))
    assert sum(int(r["frames"]) for r in shots) == len(rows)
    assert index["counts"]["shots"] == len(shots)
    again = [s for s in samples["test"]]
    assert [s["meta"]["labels"] for s in again] == [s["meta"]["labels"] for s in samples["val"]]  # same messages
    assert {s["meta"]["take_name"] for s in again} == {built.replays["framing"].takes[FRAMING_AGAIN].name}
