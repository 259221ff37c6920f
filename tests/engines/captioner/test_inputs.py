"""The captioner model's input planes: area means, log depth, the "no depth" planes, bad frames."""

from __future__ import annotations

import math

import numpy as np
import pytest

from engines.captioner.inputs import (
    CHANNELS, DEPTH_FAR_M, DEPTH_NEAR_M, MODEL_SIZE_HW, MOVEMENT_CLASSES, SHOT_SIZE_CLASSES, InputError,
    frame_planes, movement_index, shot_size_index,
)


def _frame(value=0):
    return np.full((360, 640, 3), value, np.uint8)


def test_colour_planes_are_the_area_mean_of_each_block():
    rgb = _frame()
    rgb[0:5, 0:5, 0] = 255          # a whole block: mean 1.0
    rgb[0:5, 5, 1] = 255            # one column of the next block: mean 1/5
    planes = frame_planes(rgb, None)
    assert planes.shape == (len(CHANNELS),) + MODEL_SIZE_HW and planes.dtype == np.float32
    assert planes[0, 0, 0] == pytest.approx(1.0)
    assert planes[1, 0, 1] == pytest.approx(0.2)
    assert planes[0, 0, 1] == 0.0 and planes[2].max() == 0.0


def test_depth_is_log_scaled_over_the_returns_and_the_share_says_how_many():
    depth = np.full((360, 640), np.nan, np.float32)
    depth[0, 0] = 3.0               # one return in the first block
    depth[5:10, 0:5] = 0.1          # a whole block nearer than the near limit: clipped to 0
    depth[10:15, 0:5] = 100.0       # and beyond the far limit: clipped to 1
    planes = frame_planes(_frame(), depth)
    expected = math.log(3.0 / DEPTH_NEAR_M) / math.log(DEPTH_FAR_M / DEPTH_NEAR_M)
    assert planes[3, 0, 0] == pytest.approx(expected, rel=1e-6)
    assert planes[4, 0, 0] == pytest.approx(1 / 25)
    assert planes[3, 1, 0] == 0.0 and planes[4, 1, 0] == 1.0
    assert planes[3, 2, 0] == 1.0
    assert planes[4, 3:, :].max() == 0.0 and planes[3, 3:, :].max() == 0.0


def test_no_depth_and_an_empty_depth_map_both_say_no_depth():
    empty = np.full((360, 640), np.nan, np.float32)
    assert not frame_planes(_frame(9), None)[3:].any()
    assert not frame_planes(_frame(9), empty)[3:].any()


@pytest.mark.parametrize("rgb, depth, words", [
    (np.zeros((360, 640, 3), np.float32), None, "uint8"),
    (np.zeros((360, 640), np.uint8), None, "(H, W, 3)"),
    (np.zeros((100, 640, 3), np.uint8), None, "640x360"),
    (np.zeros((360, 640, 3), np.uint8), np.zeros((180, 320), np.float32), "(360, 640)"),
])
def test_a_frame_the_model_cannot_take_is_refused_saying_what_was_expected(rgb, depth, words):
    with pytest.raises(InputError, match=None) as raised:
        frame_planes(rgb, depth)
    assert words in str(raised.value)


def test_class_indices_follow_the_vocabularies_and_refuse_strangers():
    assert shot_size_index("ECU") == 0 and shot_size_index("none") == len(SHOT_SIZE_CLASSES) - 1
    assert shot_size_index(None) == -1
    assert movement_index("static") == 0 and movement_index("handheld") == len(MOVEMENT_CLASSES) - 1
    assert movement_index("missing") == -1 and movement_index(None) == -1
    with pytest.raises(InputError, match="expected one of"):
        shot_size_index("XCU")
    with pytest.raises(InputError, match="expected one of"):
        movement_index("whip_pan")


def test_a_4k_frame_downscales_without_overflow():
    rgb = np.full((2160, 3840, 3), 255, np.uint8)   # blocks of 30x30 white pixels
    assert frame_planes(rgb, None)[:3].min() == pytest.approx(1.0)
