"""Reading one pair image: the types, the bit depths and their scaling, and what is refused."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from engines.style.pairs import (
    MIN_IMAGE_SIDE_PX,
    CorruptImageError,
    ImageTooSmallError,
    NotAnImageError,
    PairImageError,
    PairsError,
    ProblemKind,
    UnsupportedImageError,
    load_image,
    probe_image,
)
from tests.engines.style.pairs.files import gradient, to_int, write


@pytest.mark.parametrize("name, bits", [("a.png", 8), ("a.png", 16), ("a.tif", 8), ("a.tiff", 16), ("A.PNG", 16)])
def test_lossless_types_read_back_exactly(tmp_path, name, bits):
    codes = to_int(gradient(), bits)
    write(tmp_path / name, codes)
    image = load_image(tmp_path / name)
    assert image.dtype == np.float32 and image.shape == (130, 160, 3)
    np.testing.assert_allclose(image, codes / ((1 << bits) - 1), rtol=0, atol=1e-7)
    info = probe_image(tmp_path / name)
    assert info.bits == bits and info.channels == 3 and info.size_px == (160, 130)


def test_16_bit_is_scaled_by_65535_not_256(tmp_path):
    codes = np.zeros((130, 160, 3), dtype=np.uint16)
    codes[..., 0], codes[..., 1], codes[..., 2] = 65535, 32768, 257  # red, green, blue
    write(tmp_path / "levels.tif", codes)
    image = load_image(tmp_path / "levels.tif")
    assert image[0, 0].tolist() == pytest.approx([1.0, 32768 / 65535, 257 / 65535], abs=1e-7)


def test_16_bit_greyscale_from_pillow_is_repeated_into_rgb(tmp_path):
    grey = (np.arange(160 * 130, dtype=np.uint32).reshape(130, 160) * 3).astype(np.uint16)
    Image.fromarray(grey).save(tmp_path / "grey.png")  # mode I;16
    image = load_image(tmp_path / "grey.png")
    assert image.shape == (130, 160, 3)
    np.testing.assert_allclose(image[..., 1], grey / 65535.0, atol=1e-7)
    assert (image[..., 0] == image[..., 2]).all()


def test_jpeg_and_alpha_are_read_as_rgb(tmp_path):
    rgb = to_int(gradient(), 8)
    Image.fromarray(rgb).save(tmp_path / "a.jpg", quality=95)
    Image.fromarray(np.dstack([rgb, np.full(rgb.shape[:2], 128, np.uint8)]), "RGBA").save(tmp_path / "b.png")
    jpeg = load_image(tmp_path / "a.jpg")
    assert np.abs(jpeg - rgb / 255.0).max() < 0.06  # JPEG is lossy; channel order must be RGB
    np.testing.assert_allclose(load_image(tmp_path / "b.png"), rgb / 255.0, rtol=0, atol=1e-7)


def test_text_named_png_is_not_an_image(tmp_path):
    (tmp_path / "notes.png").write_text("shot list\n")
    with pytest.raises(NotAnImageError, match=r"notes\.png: named as PNG but its first bytes b'shot lis'") as err:
        load_image(tmp_path / "notes.png")
    assert err.value.kind is ProblemKind.NOT_AN_IMAGE and isinstance(err.value, PairsError)


def test_truncated_png_is_corrupt(tmp_path):
    data = write(tmp_path / "whole.png", gradient()).read_bytes()
    (tmp_path / "cut.png").write_bytes(data[: len(data) // 2])
    with pytest.raises(CorruptImageError, match=r"cut\.png: truncated PNG: no IEND chunk"):
        load_image(tmp_path / "cut.png")


def test_png_with_a_damaged_chunk_is_corrupt(tmp_path):
    data = bytearray(write(tmp_path / "whole.png", gradient()).read_bytes())
    at = data.index(b"IDAT") + 40
    data[at:at + 8] = bytes(b ^ 0x5A for b in data[at:at + 8])  # the chunk's CRC no longer matches
    (tmp_path / "bad.png").write_bytes(bytes(data))
    with pytest.raises(CorruptImageError, match=r"bad\.png: a damaged PNG: it does not decode"):
        load_image(tmp_path / "bad.png")


def test_truncated_jpeg_is_corrupt(tmp_path):
    Image.fromarray(to_int(gradient(), 8)).save(tmp_path / "whole.jpg")
    data = (tmp_path / "whole.jpg").read_bytes()
    (tmp_path / "cut.jpg").write_bytes(data[: len(data) * 2 // 3])
    with pytest.raises(CorruptImageError, match="no end-of-image marker"):
        load_image(tmp_path / "cut.jpg")


def test_float_tiff_is_unsupported(tmp_path):
    write(tmp_path / "linear.tif", gradient(), bits=32)
    with pytest.raises(UnsupportedImageError, match=r"TIFF of 32-bit float samples; expected 8- or 16-bit"):
        load_image(tmp_path / "linear.tif")


def test_too_small_states_the_minimum(tmp_path):
    write(tmp_path / "thumb.png", gradient(200, 90))
    with pytest.raises(ImageTooSmallError, match=rf"200x90 px is too small .* at least {MIN_IMAGE_SIDE_PX} px"):
        probe_image(tmp_path / "thumb.png")


def test_other_extensions_are_not_images(tmp_path):
    (tmp_path / "frame.exr").write_bytes(b"v/1\x01" + bytes(100))
    with pytest.raises(NotAnImageError, match=r"extension '\.exr' is not one of \.png, \.jpg"):
        load_image(tmp_path / "frame.exr")


def test_a_missing_file_is_an_image_error(tmp_path):
    with pytest.raises(PairImageError, match="cannot be read"):
        load_image(tmp_path / "gone.png")


def test_jpeg_exif_orientation_is_applied(tmp_path):
    """A camera JPEG shot on its side says so in EXIF; its pixels are turned as a viewer shows them."""
    rgb = to_int(gradient(), 8)
    image = Image.fromarray(rgb)
    exif = image.getexif()
    exif[0x0112] = 6  # the picture is to be turned 90 degrees clockwise
    image.save(tmp_path / "side.jpg", exif=exif, quality=95)
    loaded = load_image(tmp_path / "side.jpg")
    assert loaded.shape == (160, 130, 3)
    np.testing.assert_allclose(loaded, np.rot90(rgb, k=-1) / 255.0, atol=0.06)
