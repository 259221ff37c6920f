"""The parts: depth as uint16 millimetres (0 = no return, saturated at 65.535 m), JPEGs a decoder
reads back, and which parts a viewer gets (raw standing in for a missing styled image)."""

from __future__ import annotations

import io
import zlib

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from PIL import Image

from edge.preview.parts import (PART_KINDS, depth_millimetres, encode_depth, encode_jpeg, fit_image, kinds_for,
                                needed_kinds, part_spec)


def test_depth_is_millimetres_with_zero_for_no_return_and_a_ceiling():
    depth = np.array([[np.nan, 0.0, -1.0, np.inf], [0.0004, 0.0006, 2.5004, 70.0]], np.float32)
    mm = depth_millimetres(depth, 4, 2)
    assert mm.dtype == np.uint16 and mm.tolist() == [[0, 0, 0, 0], [1, 1, 2500, 65535]]
    data = np.frombuffer(zlib.decompress(encode_depth(depth, 4, 2)), dtype="<u2").reshape(2, 4)
    assert np.array_equal(data, mm)


@given(hnp.arrays(np.float32, (6, 8), elements=st.floats(-10, 100, width=32) | st.just(float("nan"))))
def test_depth_is_within_half_a_millimetre_where_it_is_kept(depth):
    mm = depth_millimetres(depth, 8, 6).astype(float)
    valid = np.isfinite(depth) & (depth > 0) & (depth < 65.5)
    assert np.all(mm[~(np.isfinite(depth) & (depth > 0))] == 0)
    assert np.all(np.abs(mm[valid] - np.maximum(1, depth[valid] * 1000.0)) <= 0.5 + 1e-3 * depth[valid])


def test_depth_is_resized_by_nearest_neighbour_never_blended():
    depth = np.zeros((4, 4), np.float32)
    depth[:, 2:] = 10.0
    depth[:2, :] = np.nan
    mm = depth_millimetres(depth, 2, 2)
    assert set(np.unique(mm)) <= {0, 10000}  # no 5 m between the 0 and the 10 m halves


def test_a_jpeg_decodes_to_the_image_it_was_made_of():
    y, x = np.mgrid[0:36, 0:64]
    rgb = np.stack([x * 4, y * 7, np.full_like(x, 200)], -1).astype(np.uint8)
    back = np.asarray(Image.open(io.BytesIO(encode_jpeg(rgb, 95))).convert("RGB")).astype(int)
    assert back.shape == rgb.shape and np.abs(back - rgb).mean() < 3  # RGB order kept (not BGR)
    assert fit_image(rgb, 64, 36) is rgb and fit_image(rgb, 32, 18).shape == (18, 32, 3)
    assert len(encode_jpeg(rgb, 10)) < len(encode_jpeg(rgb, 95))


@pytest.mark.parametrize("wanted, available, expected", [
    ({"styled"}, {"styled", "raw"}, ("styled",)),
    ({"styled"}, {"raw"}, ("raw",)),
    ({"styled", "raw"}, {"raw"}, ("raw",)),
    ({"raw", "depth"}, {"styled", "raw", "depth"}, ("raw", "depth")),
    ({"depth", "styled", "raw"}, {"styled", "raw", "depth"}, PART_KINDS),
    ({"depth"}, {"styled"}, ()),
    (set(), {"styled", "raw", "depth"}, ()),
])
def test_a_viewer_gets_the_parts_it_asked_for_in_order(wanted, available, expected):
    assert kinds_for(wanted, dict.fromkeys(available, b"")) == expected


def test_parts_are_needed_only_when_some_viewer_wants_them():
    assert needed_kinds(frozenset(), True) == frozenset()
    assert needed_kinds({"styled"}, True) == {"styled"} and needed_kinds({"styled"}, False) == {"raw"}
    assert needed_kinds({"styled", "depth"}, False) == {"raw", "depth"}
    assert part_spec("styled", 10, 4, 2) == {"kind": "styled", "mime": "image/jpeg", "bytes": 10}
    assert part_spec("depth", 9, 4, 2)["encoding"] == "uint16le+zlib"
