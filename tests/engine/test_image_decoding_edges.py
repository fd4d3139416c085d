"""Image decoding's limits and conversions exactly (engine.images.decoding): the pixel and
memory limits at their boundary, each pixel type's scale to 0..255, alpha, the refusal lines,
and which files of a folder are images."""

from __future__ import annotations

import struct
from pathlib import Path

import cv2
import numpy as np
import pytest

from engine.errors import ImageLoadError
from engine.images import decoding
from engine.images.decoding import (
    DECODE_BYTES_PER_PIXEL,
    MAX_FILE_BYTES,
    MAX_PIXELS,
    decode_image,
    label_from_path,
    list_images,
    load_image,
)
from tests.image_bytes import encode, tiff_bytes


def _png_header(width: int, height: int) -> bytes:
    return b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\x0dIHDR" + struct.pack(">II", width, height) + b"\x08\x02\x00\x00\x00"


def test_limits_are_the_documented_ones() -> None:
    assert MAX_PIXELS == 120_000_000 and MAX_FILE_BYTES == MAX_PIXELS * 16 and DECODE_BYTES_PER_PIXEL == 48


def test_pixel_limit_boundary(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(decoding.memory, "available_bytes", lambda: None)
    decoding._check_size("a.png", 12_000, 10_000)  # exactly the limit: allowed
    with pytest.raises(ImageLoadError) as refused:
        decoding._check_size("a.png", 12_001, 10_000)
    assert str(refused.value) == ("a.png: image is 12001 x 10000 pixels (120 megapixels), more than the "
                                  "120-megapixel limit")
    with pytest.raises(ImageLoadError) as refused:
        decode_image(_png_header(20_000, 10_000), "big.png")
    assert str(refused.value) == ("big.png: image is 20000 x 10000 pixels (200 megapixels), more than the "
                                  "120-megapixel limit")


@pytest.mark.parametrize(("width", "height"), [(0, 5), (5, 0), (-1, 5)])
def test_zero_size_is_refused(width: int, height: int) -> None:
    with pytest.raises(ImageLoadError) as refused:
        decoding._check_size("a.png", width, height)
    assert str(refused.value) == f"a.png: image has zero size ({width} x {height} pixels)"
    decoding._check_size("a.png", 1, 1)


def test_memory_check_boundary(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(decoding.memory, "available_bytes", lambda: 100 * 100 * 48)
    decoding._check_memory("a.png", 100, 100)  # exactly what is free: allowed
    with pytest.raises(ImageLoadError) as refused:
        decoding._check_memory("a.png", 101, 100)
    assert str(refused.value) == ("a.png: image is 101 x 100 pixels; decoding it needs about 0.0 GiB but only "
                                  "0.0 GiB of memory is available")
    monkeypatch.setattr(decoding.memory, "available_bytes", lambda: 2**30)
    with pytest.raises(ImageLoadError, match=r"needs about 1\.5 GiB but only 1\.0 GiB of memory is available$"):
        decode_image(_png_header(8192, 4096), "m.png")
    monkeypatch.setattr(decoding.memory, "available_bytes", lambda: None)
    decoding._check_memory("a.png", 10_000, 10_000)


def test_eight_bit_and_boolean_scales() -> None:
    values, bits = decoding._scale_to_255(np.array([[0, 128, 255]], np.uint8))
    assert bits == 8 and values.dtype == np.float32 and values.tolist() == [[0, 128, 255]]
    values, bits = decoding._scale_to_255(np.array([[True, False]]))
    assert bits == 1 and values.tolist() == [[255.0, 0.0]]


def test_sixteen_bit_scale_guesses_twelve_bits_up_to_4095() -> None:
    values, bits = decoding._scale_to_255(np.array([[0, 4095]], np.uint16))
    assert bits == 12 and values[0, 1] == pytest.approx(255.0)
    values, bits = decoding._scale_to_255(np.array([[0, 4096]], np.uint16))
    assert bits == 16 and values[0, 1] == pytest.approx(4096 * 255 / 65535)
    values, bits = decoding._scale_to_255(np.array([[0, 1023]], np.uint16), bit_depth=10)
    assert bits == 10 and values[0, 1] == pytest.approx(255.0)


def test_float_unit_range_is_multiplied_and_0_255_kept() -> None:
    values, bits = decoding._scale_to_255(np.array([[0.0, 0.5, 1.0]], np.float32))
    assert bits == 32 and values.tolist() == [[0.0, 127.5, 255.0]]
    values, _ = decoding._scale_to_255(np.array([[0.0, 2.0, 255.0]], np.float32))
    assert values.tolist() == [[0.0, 2.0, 255.0]]
    values, bits = decoding._scale_to_255(np.array([[0.0, 1.0]], np.float64))
    assert bits == 64 and values.dtype == np.float32 and values.tolist() == [[0.0, 255.0]]


def test_signed_or_wide_values_are_stretched_from_min_to_max() -> None:
    values, bits = decoding._scale_to_255(np.array([[-10, 0, 10]], np.int32))
    assert bits == 32 and values.tolist() == [[0.0, 127.5, 255.0]]
    values, _ = decoding._scale_to_255(np.array([[0.0, 256.0, 512.0, np.nan, np.inf]], np.float32))
    assert values.tolist() == [[0.0, 127.5, 255.0, 0.0, 0.0]]
    values, _ = decoding._scale_to_255(np.array([[-5.0, -5.0]], np.float32))
    assert values.tolist() == [[0.0, 0.0]]
    values, _ = decoding._scale_to_255(np.array([[np.nan, -np.inf]], np.float32))
    assert values.tolist() == [[0.0, 0.0]]


def test_alpha_is_composited_on_white_and_gray_is_replicated() -> None:
    gray_alpha = np.array([[[0.0, 255.0], [0.0, 0.0], [100.0, 51.0]]], np.float32)
    rgb, gray = decoding._to_rgb(gray_alpha)
    assert gray and rgb.shape == (1, 3, 3)
    np.testing.assert_allclose(rgb[0, :, 0], [0.0, 255.0, 100 * 0.2 + 255 * 0.8])
    assert (rgb[..., 0] == rgb[..., 2]).all()
    bgra = np.array([[[10.0, 20.0, 30.0, 255.0], [10.0, 20.0, 30.0, 300.0]]], np.float32)
    rgb, gray = decoding._to_rgb(bgra)
    assert not gray and rgb.tolist() == [[[30.0, 20.0, 10.0], [30.0, 20.0, 10.0]]]
    assert rgb.flags["C_CONTIGUOUS"]
    with pytest.raises(ImageLoadError, match=r"^unsupported number of channels \(5\)$"):
        decoding._to_rgb(np.zeros((1, 1, 5), np.float32))


def test_decoded_image_keeps_its_type_bits_and_rounded_display() -> None:
    image = decode_image(tiff_bytes(np.array([[0, 2047, 4095]], np.uint16)), "t.tif")
    assert (image.path, image.source_dtype, image.significant_bits, image.gray_source) == ("t.tif", "uint16", 12,
                                                                                           True)
    assert image.display[0, :, 0].tolist() == [0, 127, 255] and image.display.dtype == np.uint8
    assert (image.height, image.width) == (1, 3)
    assert decode_image(tiff_bytes(np.array([[0, 100]], np.uint16)), bit_depth=8).significant_bits == 8
    assert decode_image(encode(".png", np.zeros((2, 2, 3), np.uint8))).path == "<bytes>"


def test_decoding_refusals_are_one_line_naming_the_file() -> None:
    def reason(data: bytes) -> str:
        with pytest.raises(ImageLoadError) as refused:
            decode_image(data, "x.img")
        return str(refused.value)

    assert reason(b"") == "x.img: file is empty"
    assert reason(b"\x89PNG\r\n\x1a\n\x00") == "x.img: truncated or corrupt image header"
    assert reason(b"just some text") == "x.img: not a readable image"
    assert reason(_png_header(4, 4) + bytes(10)) == "x.img: corrupt or truncated PNG data"
    jpeg = encode(".jpg", np.zeros((8, 8, 3), np.uint8))
    assert reason(jpeg[:-2]) == "x.img: truncated JPEG (no end-of-image marker)"


def test_an_unsupported_channel_count_names_the_file(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cv2, "imdecode", lambda data, flags: np.zeros((2, 2, 5), np.uint8))
    with pytest.raises(ImageLoadError) as refused:
        decode_image(encode(".png", np.zeros((2, 2), np.uint8)), "x.img")
    assert str(refused.value) == "x.img: unsupported number of channels (5)"
    assert refused.value.__suppress_context__


def test_an_end_marker_inside_the_header_does_not_count() -> None:
    jpeg = encode(".jpg", np.zeros((8, 8, 3), np.uint8))
    comment = b"\xff\xfe" + struct.pack(">H", 4) + b"\xff\xd9"  # an end marker in a comment before the scan
    cut = jpeg[:2] + comment + jpeg[2:-2]
    with pytest.raises(ImageLoadError, match="truncated JPEG"):
        decode_image(cut)
    decode_image(jpeg)


def test_an_unexpected_failure_is_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(*args: object) -> None:
        raise RuntimeError("first\nlast line ")

    monkeypatch.setattr(cv2, "imdecode", fail)
    with pytest.raises(ImageLoadError) as refused:
        decode_image(encode(".png", np.zeros((2, 2), np.uint8)), "f.png")
    assert str(refused.value) == "f.png: cannot decode image (last line)"

    def silent(*args: object) -> None:
        raise RuntimeError()

    monkeypatch.setattr(cv2, "imdecode", silent)
    with pytest.raises(ImageLoadError, match=r"^f\.png: cannot decode image \(RuntimeError\)$"):
        decode_image(encode(".png", np.zeros((2, 2), np.uint8)), "f.png")

    def no_memory(*args: object) -> None:
        raise MemoryError()

    monkeypatch.setattr(cv2, "imdecode", no_memory)
    with pytest.raises(ImageLoadError, match=r"^f\.png: not enough memory to decode the image$"):
        decode_image(encode(".png", np.zeros((2, 2), np.uint8)), "f.png")


def test_file_refusals(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ImageLoadError) as refused:
        load_image(tmp_path)
    assert str(refused.value) == f"{tmp_path}: is a folder, not an image"
    with pytest.raises(ImageLoadError) as refused:
        load_image(tmp_path / "none.png")
    assert str(refused.value) == f"{tmp_path / 'none.png'}: file not found"
    big = tmp_path / "big.png"
    big.write_bytes(encode(".png", np.zeros((2, 2), np.uint8)))
    monkeypatch.setattr(decoding, "MAX_FILE_BYTES", big.stat().st_size - 1)
    with pytest.raises(ImageLoadError) as refused:
        load_image(big)
    assert str(refused.value) == f"{big}: file is too large ({big.stat().st_size} bytes)"
    monkeypatch.setattr(decoding, "MAX_FILE_BYTES", big.stat().st_size)
    assert load_image(big, bit_depth=None).width == 2


def test_unreadable_file_is_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    image = tmp_path / "a.png"
    image.write_bytes(b"x")

    def denied(self: Path) -> bytes:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(Path, "read_bytes", denied)
    with pytest.raises(ImageLoadError) as refused:
        load_image(image)
    assert str(refused.value) == f"{image}: cannot read file (Permission denied)"


def test_load_passes_the_bit_depth(tmp_path: Path) -> None:
    path = tmp_path / "a.tif"
    path.write_bytes(tiff_bytes(np.array([[0, 1023]], np.uint16)))
    assert load_image(path, bit_depth=10).display[0, 1, 0] == 255


def test_masks_hidden_files_and_mask_folders_are_not_images(tmp_path: Path) -> None:
    for rel in ["a.PNG", "b_MASK.png", "c_Label.tif", "GROUND_TRUTH/d.png", "x/label/e.png", "x/.git/f.png",
                "g.txt", "labels/h.png", "mask/i.png", "j_masks.png", "sub/k.jp2"]:
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"x")
    found = [p.relative_to(tmp_path).as_posix() for p in list_images(tmp_path)]
    assert found == ["a.PNG", "j_masks.png", "labels/h.png", "mask/i.png", "sub/k.jp2"]
    assert list_images(str(tmp_path), recursive=False) == [tmp_path / "a.PNG", tmp_path / "j_masks.png"]
    with pytest.raises(ImageLoadError) as refused:
        list_images(tmp_path / "a.PNG")
    assert str(refused.value) == f"{tmp_path / 'a.PNG'}: folder not found"


def test_label_of_a_path_given_through_a_link(tmp_path: Path) -> None:
    (tmp_path / "real" / "scratch").mkdir(parents=True)
    (tmp_path / "link").symlink_to(tmp_path / "real")
    assert label_from_path(tmp_path / "link" / "scratch" / "a.png", tmp_path / "real") == "scratch"
    assert label_from_path(tmp_path / "real" / "a.png", tmp_path / "link") is None
