"""The closed loop: readings of raw and styled frames compared; a look that changes them is caught."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from engines.style.closed_loop import LoopTally, closed_loop, compare_predictions
from engines.style.model.colour import identity_colour
from engines.style.model.look import Look, identity_look
from tests.edge.stream.frames import make_frame


def _reading(i, shot="MS", movement="static", focal=50.0, distance=3.0):
    return SimpleNamespace(frame_index=i, shot_size=shot, movement=movement, focal_mm=focal, distance_m=distance)


def test_the_tally_counts_changes_and_checks_the_targets():
    raw = [_reading(i) for i in range(100)]
    styled = [_reading(i, shot="MCU" if i < 3 else "MS", focal=51.0 if i == 0 else 50.0) for i in range(100)]
    s = compare_predictions(raw, styled).summary()
    assert s["frames"] == 100 and s["shot_size_changed"] == pytest.approx(0.03) and s["movement_changed"] == 0
    assert s["focal_mean_rel_change"] == pytest.approx(0.02 / 100) and s["met"] is False  # 3 % > 2 %
    assert compare_predictions(raw, raw).summary()["met"] is True
    no_subject = [_reading(i, shot="none", distance=40.0) for i in range(5)]
    assert compare_predictions(no_subject, no_subject).summary()["distance_mean_rel_change"] is None
    with pytest.raises(ValueError, match="different frames: 0 and 1"):
        compare_predictions([_reading(0)], [_reading(1)])
    merged = compare_predictions(raw[:50], styled[:50]).merge(compare_predictions(raw[50:], styled[50:]))
    assert merged.summary() == compare_predictions(raw, styled).summary()
    assert LoopTally().summary()["met"] is False  # nothing read is not a pass


def _brightness_reader(frames):
    """A stand-in captioner: its 'shot size' is how bright the frame is."""
    out = []
    for f in frames:
        mean = float(f.rgb.mean())
        out.append(_reading(f.frame_index, shot="CU" if mean > 120 else "WS", focal=20.0 + mean / 10))
    return out


def test_a_look_that_changes_the_reading_is_caught_and_off_is_not():
    frames = [make_frame(i) for i in range(6)]  # mean about 127.5: a darkening look flips the reading
    base = identity_colour()
    dark = Look("dark", base.__class__(base.in_curves, np.eye(3) * 0.7, base.out_curves))
    tallies = closed_loop(frames, {"off": identity_look(), "dark": dark}, _brightness_reader)
    assert tallies["off"].summary()["met"] and tallies["off"].frames == 6
    dark_summary = tallies["dark"].summary()
    assert dark_summary["shot_size_changed"] == 1.0 and not dark_summary["met"]
    assert closed_loop([], {"off": identity_look()}, _brightness_reader) == {}
