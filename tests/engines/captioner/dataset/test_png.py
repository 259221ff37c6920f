"""The stored images: RGB exactly, depth to the millimetre, no return as 0, read back by Pillow alone."""

from __future__ import annotations

import io

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from PIL import Image

from engines.captioner.dataset.errors import DatasetFormatError
from engines.captioner.dataset.png import (
    DEPTH_SATURATED_MM,
    decode_depth_png,
    decode_rgb_png,
    depth_to_mm,
    encode_depth_png,
    encode_rgb_png,
)


@given(hnp.arrays(np.uint8, st.tuples(st.integers(1, 12), st.integers(1, 12), st.just(3))), st.integers(0, 9))
def test_rgb_comes_back_exactly_at_every_compression_level(rgb, level):
    data = encode_rgb_png(rgb, level)
    np.testing.assert_array_equal(decode_rgb_png(data), rgb)
    np.testing.assert_array_equal(np.asarray(Image.open(io.BytesIO(data))), rgb)


@given(hnp.arrays(np.float32, st.tuples(st.integers(1, 10), st.integers(1, 10)),
                  elements=st.one_of(st.floats(0.0625, 65.5, width=32), st.just(np.nan))))
def test_depth_round_trips_to_the_millimetre_and_no_return_stays_no_return(depth):
    data = encode_depth_png(depth, depth.shape)
    image = Image.open(io.BytesIO(data))
    assert image.mode == "I;16"  # 16-bit greyscale, read by Pillow alone
    mm = np.asarray(image)
    valid = np.isfinite(depth)
    np.testing.assert_array_equal(mm == 0, ~valid)
    np.testing.assert_array_less(np.abs(mm[valid] / 1000.0 - depth[valid]), 0.0005 + 1e-6)
    back = decode_depth_png(data)
    np.testing.assert_array_equal(np.isnan(back), ~valid)
    assert np.all(np.abs(back[valid] - depth[valid]) <= 0.0005 + 1e-6)


def test_far_returns_saturate_and_no_lidar_is_all_zero():
    depth = np.array([[70.0, 65.535, 0.0], [-1.0, np.inf, 1.2344]], dtype=np.float32)
    assert depth_to_mm(depth, depth.shape).tolist() == [[DEPTH_SATURATED_MM, 65535, 0], [0, 0, 1234]]
    assert not depth_to_mm(None, (4, 5)).any() and depth_to_mm(None, (4, 5)).shape == (4, 5)
    with pytest.raises(ValueError, match="depth map is"):
        depth_to_mm(np.zeros((3, 3)), (4, 4))


def test_what_is_not_the_expected_png_is_refused():
    with pytest.raises(DatasetFormatError, match="not a readable PNG"):
        decode_rgb_png(b"\x89PNG not really")
    grey = io.BytesIO()
    Image.fromarray(np.zeros((3, 3), np.uint8)).save(grey, "PNG")
    with pytest.raises(DatasetFormatError, match="expected 8-bit RGB"):
        decode_rgb_png(grey.getvalue())
    with pytest.raises(DatasetFormatError, match="expected 16-bit greyscale"):
        decode_depth_png(encode_rgb_png(np.zeros((2, 2, 3), np.uint8)))
    jpeg = io.BytesIO()
    Image.fromarray(np.zeros((3, 3, 3), np.uint8)).save(jpeg, "JPEG")
    with pytest.raises(DatasetFormatError, match="not PNG"):
        decode_rgb_png(jpeg.getvalue())
