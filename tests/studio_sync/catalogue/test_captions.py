"""The captioner's captions.json read per frame and per shot; a file that is not captions is a note."""

from __future__ import annotations

import json

import pytest

from studio_sync.catalogue import CAPTIONS_FILE, read_captions


def _write(folder, document) -> None:
    (folder / CAPTIONS_FILE).write_text(json.dumps(document), encoding="utf-8")


def _document(shots, **extra):
    return {"format": "onset-captions", "format_version": 1, "model": {"weights_sha256": "cd" * 32},
            "shots": shots, **extra}


def test_frames_and_shots_get_the_caption_that_holds_or_overlaps_them_most(tmp_path):
    _write(tmp_path, _document([
        {"index": 1, "first_frame": 10, "last_frame": 19, "sentence": "MCU on 75 mm, static", "confidence": 0.5},
        {"index": 0, "first_frame": 0, "last_frame": 9, "sentence": "WS on 24 mm, pan left", "confidence": 0.9},
    ]))
    captions, note = read_captions(tmp_path)
    assert note is None and [s.index for s in captions.shots] == [0, 1]  # in frame order
    assert captions.model_sha256 == "cd" * 32
    assert captions.for_frame(0).sentence == captions.for_frame(9).sentence == "WS on 24 mm, pan left"
    assert captions.for_frame(10).index == 1 and captions.for_frame(20) is None
    assert captions.for_range(8, 30).index == 1  # 2 frames of shot 0, 10 of shot 1
    assert captions.for_range(5, 14).index == 0  # 5 frames each: the earlier one
    assert captions.for_range(40, 50) is None


def test_no_captions_file_is_no_captions_and_no_note(tmp_path):
    assert read_captions(tmp_path) == (None, None)


@pytest.mark.parametrize("document, words", [
    ("not json", "left out"),
    ({"format": "onset-take"}, 'not "format": "onset-captions"'),
    (_document([], format_version=9), "format version 9"),
    (_document("shots"), "no list of shots"),
    (_document([{"first_frame": 5, "last_frame": 2, "sentence": "x"}]), "no frame range"),
    (_document([{"first_frame": 0, "last_frame": 2}]), "no sentence"),
])
def test_a_file_that_is_not_captions_is_left_out_with_a_note(tmp_path, document, words):
    if isinstance(document, str):
        (tmp_path / CAPTIONS_FILE).write_text(document)
    else:
        _write(tmp_path, document)
    captions, note = read_captions(tmp_path)
    assert captions is None and note.startswith(f"{CAPTIONS_FILE} left out: ") and words in note
