"""``onset engines train|evaluate captioner`` and ``onset caption`` end to end on synthetic data."""

import contextlib
import csv
import io
import json
import shutil

import pytest

from edge.cli import caption_cmd, engines_cmd
from edge.cli.main import main
from engines.captioner.model.checkpoint import load_checkpoint
from tests.engines.captioner.model.synthetic import SyntheticClips, synthetic_take

SPLITS = {"train": SyntheticClips(40, seed=31, cache=True), "val": SyntheticClips(16, seed=32, cache=True),
          "test": SyntheticClips(16, seed=33, cache=True)}


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    """The synthetic splits stand in for a built dataset at .../ds."""
    opened = []

    def open_split(root, split, depth=True):
        opened.append((root, split, depth))
        return SPLITS[split]

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(engines_cmd, "_open_split", open_split)
        patch.setattr(engines_cmd, "_has_split", lambda root, split: True)
        yield tmp_path_factory.mktemp("data") / "ds", opened


@pytest.fixture(scope="module")
def trained_file(dataset, tmp_path_factory):
    """``onset engines train captioner`` once for the module: (model path, its stdout)."""
    root, _ = dataset
    out = tmp_path_factory.mktemp("models") / "captioner.onsetcap"
    capture = io.StringIO()
    with contextlib.redirect_stdout(capture), contextlib.redirect_stderr(io.StringIO()):
        rc = main(["engines", "train", "captioner", "--data", str(root), "--out", str(out), "--size", "small",
                   "--epochs", "1", "--threads", "1", "--batch-size", "8", "--no-progress"])
    assert rc == 0
    return out, capture.getvalue()


@pytest.fixture()
def model_file(trained_file, tmp_path):
    """A copy of the trained model file that a test may damage."""
    out, printed = trained_file
    copy = tmp_path / out.name
    shutil.copyfile(out, copy)
    shutil.copyfile(out.with_suffix(".card.md"), copy.with_suffix(".card.md"))
    return copy, printed


def test_train_writes_a_model_and_its_card(model_file, dataset):
    out, printed = model_file
    root, opened = dataset
    assert [(s, d) for _, s, d in opened][:3] == [("train", True), ("val", True), ("test", True)]
    checkpoint = load_checkpoint(out)
    card = checkpoint.card
    assert card["model"]["size"] == "small" and checkpoint.network.name == "small"
    assert card["data"]["root"] == str(root)
    assert card["data"]["splits"]["train"]["clips"] == 40 and card["data"]["splits"]["test"]["clips"] == 16
    assert set(card["metrics"]) == {"val", "test"}
    assert card["training"]["passes"] == 1 and card["training"]["config"]["seed"] == 0
    assert card["software"]["torch"] and card["software"]["python"]
    assert {"ece_before", "ece_after", "temperature"} <= set(card["calibration"]["shot_size"])
    markdown = out.with_suffix(".card.md").read_text()
    assert checkpoint.weights_sha256 in markdown and "## Calibration (validation split)" in markdown
    assert "shot size accuracy >= 95 %" in markdown
    assert "calibration shot_size: temperature" in printed
    assert "split test: 16 clips" in printed and "== targets" in printed


def test_evaluate_prints_tables_and_writes_json(model_file, dataset, tmp_path, capsys):
    out, _ = model_file
    figures = tmp_path / "test.json"
    rc = main(["engines", "evaluate", "captioner", "--model", str(out), "--data", str(tmp_path / "ds"),
               "--json", str(figures), "--threads", "1", "--no-progress"])
    text = capsys.readouterr().out
    assert rc == 0
    for needle in ("split test: 16 clips", "== shot_size", "true \\ predicted", "== movement", "== distance_m (m)",
                   "shot size within one class >= 99 %"):
        assert needle in text, needle
    doc = json.loads(figures.read_text())
    assert doc["split"] == "test" and len(doc["targets"]) == 5
    rc = main(["engines", "evaluate", "captioner", "--model", str(out), "--data", str(tmp_path / "ds"),
               "--strict", "--threads", "1", "--no-progress"])
    assert rc == (0 if all(t["met"] for t in doc["targets"]) else engines_cmd.TARGETS_MISSED)


def test_evaluate_refuses_a_corrupt_model_in_one_line(model_file, dataset, tmp_path, capsys):
    out, _ = model_file
    blob = bytearray(out.read_bytes())
    blob[-7] ^= 0xFF
    out.write_bytes(bytes(blob))
    rc = main(["engines", "evaluate", "captioner", "--model", str(out), "--data", str(tmp_path / "ds"),
               "--threads", "1"])
    err = capsys.readouterr().err
    assert rc == engines_cmd.EXIT_FAILURE
    assert err.startswith("onset engines evaluate captioner: ") and "is corrupt" in err and err.count("\n") == 1


def test_caption_writes_json_and_csv(model_file, monkeypatch, tmp_path, capsys):
    out, _ = model_file
    take_dir = tmp_path / "12_3_004"
    take_dir.mkdir()
    frames = synthetic_take([("MS", "static", 20), ("CU", "pan_left", 20)], seed=4)
    seen = []
    monkeypatch.setattr(caption_cmd, "_take_frames", lambda path: seen.append(path) or iter(frames))
    rc = main(["caption", str(take_dir), "--model", str(out), "--threads", "1"])
    assert rc == 0 and seen == [take_dir]
    doc = json.loads((take_dir / caption_cmd.CAPTIONS_JSON).read_text())
    assert doc["format"] == "onset-captions" and doc["take"]["name"] == "12_3_004"
    assert doc["model"]["weights_sha256"] == load_checkpoint(out).weights_sha256
    assert len(doc["frames"]) == 40 and doc["shots"]
    assert doc["shots"][0]["first_frame"] == 0 and doc["shots"][-1]["last_frame"] == 39
    rows = list(csv.DictReader((take_dir / caption_cmd.CAPTIONS_CSV).open()))
    assert [r["caption"] for r in rows] == [s["sentence"] for s in doc["shots"]]
    printed = capsys.readouterr().out
    assert f"{len(rows)} shots over 40 frames" in printed
    elsewhere = tmp_path / "captions"
    assert main(["caption", str(take_dir), "--model", str(out), "--out", str(elsewhere), "--no-depth",
                 "--threads", "1"]) == 0
    assert json.loads((elsewhere / "captions.json").read_text())["take"]["depth"] is False


def test_caption_reads_with_the_shipped_model_by_default(monkeypatch, tmp_path):
    from engines.captioner.shipped import SHIPPED_CHECKPOINT

    take_dir = tmp_path / "take"
    take_dir.mkdir()
    frames = synthetic_take([("MS", "static", 16)], seed=5)
    monkeypatch.setattr(caption_cmd, "_take_frames", lambda path: iter(frames))
    assert main(["caption", str(take_dir), "--threads", "1"]) == 0
    doc = json.loads((take_dir / caption_cmd.CAPTIONS_JSON).read_text())
    assert doc["model"]["path"] == str(SHIPPED_CHECKPOINT)
    assert doc["model"]["weights_sha256"] == load_checkpoint(SHIPPED_CHECKPOINT).weights_sha256


def test_caption_errors_are_one_line(tmp_path, capsys):
    take_dir = tmp_path / "take"
    take_dir.mkdir()
    assert main(["caption", str(take_dir), "--model", str(tmp_path / "missing.onsetcap"), "--threads", "1"]) == 1
    assert "onset caption: no captioner model at" in capsys.readouterr().err
    assert main(["caption", str(tmp_path / "nowhere"), "--model", "m", "--threads", "1"]) == 1
    assert "is not a take folder" in capsys.readouterr().err
