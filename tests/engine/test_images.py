"""Tests for engine.images.decoding: decoding every supported kind of file and refusing bad ones."""

from __future__ import annotations

import struct
import time
import zlib
from pathlib import Path

import cv2
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.errors import ImageLoadError
from engine.images import decoding as images
from engine.images.decoding import (
    IMAGE_SUFFIXES,
    LoadedImage,
    decode_image,
    label_from_path,
    list_images,
    load_image,
)
from engine.images.headers import header_size
from tests.image_bytes import encode, tiff_bytes

RNG = np.random.default_rng(1234)


def _write(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def _exif_jpeg(jpeg: bytes, orientation: int) -> bytes:
    """Insert a hand-built APP1 EXIF segment holding only the orientation tag."""
    ifd = struct.pack(">2sHI", b"MM", 42, 8) + struct.pack(">H", 1)
    ifd += struct.pack(">HHIHH", 0x0112, 3, 1, orientation, 0) + struct.pack(">I", 0)
    payload = b"Exif\x00\x00" + ifd
    return jpeg[:2] + b"\xff\xe1" + struct.pack(">H", len(payload) + 2) + payload + jpeg[2:]


def _segment(marker: int, body: bytes) -> bytes:
    return struct.pack(">BBH", 0xFF, marker, len(body) + 2) + body


def _cmyk_jpeg(cmyk: tuple[int, int, int, int]) -> bytes:
    """A hand-made baseline 8x8 4-component (Adobe CMYK) JPEG of one flat colour.

    Every block is DC-only; values are chosen so each DC difference is in category 10,
    which lets one one-symbol Huffman table code all four components.
    """
    header = b"\xff\xd8" + _segment(0xEE, b"Adobe" + struct.pack(">HHHB", 100, 0, 0, 0))
    header += _segment(0xDB, b"\x00" + b"\x01" * 64)
    comps = b"".join(bytes([i, 0x11, 0]) for i in range(1, 5))
    header += _segment(0xC0, struct.pack(">BHHB", 8, 8, 8, 4) + comps)
    header += _segment(0xC4, b"\x00" + b"\x01" + b"\x00" * 15 + b"\x0a")  # DC: cat 10 = "0"
    header += _segment(0xC4, b"\x10" + b"\x01" + b"\x00" * 15 + b"\x00")  # AC: EOB = "0"
    header += _segment(
        0xDA, b"\x04" + b"".join(bytes([i, 0]) for i in range(1, 5)) + b"\x00\x3f\x00"
    )
    bits = ""
    for value in cmyk:
        dc = 8 * (value - 128)
        assert 512 <= abs(dc) <= 1023
        bits += "0" + format(dc if dc > 0 else dc + 1023, "010b") + "0"
    bits += "1" * (-len(bits) % 8)
    scan = bytes(int(bits[i : i + 8], 2) for i in range(0, len(bits), 8))
    return header + scan.replace(b"\xff", b"\xff\x00") + b"\xff\xd9"


def _png_header_only(width: int, height: int) -> bytes:
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    chunk = struct.pack(">I", len(ihdr)) + b"IHDR" + ihdr
    return b"\x89PNG\r\n\x1a\n" + chunk + struct.pack(">I", zlib.crc32(chunk[4:]))


def _check(image: LoadedImage, shape: tuple[int, int]) -> None:
    assert isinstance(image, LoadedImage)
    assert image.pixels.shape == (*shape, 3) and image.pixels.dtype == np.float32
    assert image.display.shape == (*shape, 3) and image.display.dtype == np.uint8
    assert (image.height, image.width) == shape
    expected = np.clip(np.rint(image.pixels), 0, 255).astype(np.uint8)
    np.testing.assert_array_equal(image.display, expected)


# ------------------------------------------------------------------ formats


@pytest.mark.parametrize("ext", [".png", ".bmp", ".ppm", ".tif"])
def test_lossless_rgb_round_trip(tmp_path: Path, ext: str) -> None:
    rgb = RNG.integers(0, 256, (9, 13, 3), dtype=np.uint8)
    image = load_image(_write(tmp_path / f"a{ext}", encode(ext, rgb[..., ::-1])))
    _check(image, (9, 13))
    np.testing.assert_array_equal(image.display, rgb)
    np.testing.assert_array_equal(image.pixels, rgb.astype(np.float32))
    assert (image.gray_source, image.source_dtype, image.significant_bits) == (False, "uint8", 8)


def test_webp_lossless_round_trip() -> None:
    rgb = RNG.integers(0, 256, (7, 5, 3), dtype=np.uint8)
    image = decode_image(encode(".webp", rgb[..., ::-1], [cv2.IMWRITE_WEBP_QUALITY, 101]))
    np.testing.assert_array_equal(image.display, rgb)
    assert image.path == "<bytes>"


@pytest.mark.parametrize("ext", [".png", ".pgm", ".tif"])
def test_gray_8bit_is_replicated(ext: str) -> None:
    gray = RNG.integers(0, 256, (6, 4), dtype=np.uint8)
    image = decode_image(encode(ext, gray))
    _check(image, (6, 4))
    assert image.gray_source
    for c in range(3):
        np.testing.assert_array_equal(image.display[..., c], gray)


@pytest.mark.parametrize("kind", ["png", "tiff"])
def test_gray_16bit_keeps_precision(kind: str) -> None:
    gray = np.array([[0, 1000, 4096], [30000, 65535, 7]], dtype=np.uint16)
    data = encode(".png", gray) if kind == "png" else tiff_bytes(gray)
    image = decode_image(data)
    assert (image.source_dtype, image.significant_bits, image.gray_source) == ("uint16", 16, True)
    np.testing.assert_allclose(image.pixels[..., 1], gray * (255.0 / 65535.0), rtol=1e-6)
    assert image.pixels[0, 1, 0] != np.round(image.pixels[0, 1, 0])  # not rounded to 8 bits


def test_12bit_data_in_16bit_file() -> None:
    gray = np.array([[0, 1, 2048, 4095]], dtype=np.uint16)
    image = decode_image(encode(".png", gray))
    assert image.significant_bits == 12
    np.testing.assert_allclose(image.pixels[0, :, 0], gray[0] * (255.0 / 4095.0), rtol=1e-6)
    assert image.display[0, 3, 0] == 255


def test_16bit_rgb_tiff_channel_order() -> None:
    rgb = np.zeros((3, 4, 3), dtype=np.uint16)
    rgb[..., 0] = 65535  # pure red
    image = decode_image(tiff_bytes(rgb, photometric="rgb"))
    np.testing.assert_array_equal(image.display[0, 0], [255, 0, 0])
    assert not image.gray_source


def test_float_tiff_unit_range_times_255() -> None:
    values = np.array([[0.0, 0.25], [0.5, 1.0]], dtype=np.float32)
    image = decode_image(tiff_bytes(values))
    assert (image.source_dtype, image.significant_bits) == ("float32", 32)
    np.testing.assert_allclose(image.pixels[..., 0], values * 255.0, rtol=1e-6)


def test_float_tiff_wide_range_is_stretched_and_nonfinite_zeroed() -> None:
    values = np.array([[-1.0, 1.0, 3.0], [np.nan, np.inf, -np.inf]], dtype=np.float32)
    image = decode_image(tiff_bytes(values))
    np.testing.assert_allclose(image.pixels[0, :, 0], [0.0, 127.5, 255.0], rtol=1e-6)
    np.testing.assert_array_equal(image.pixels[1, :, 0], [0.0, 0.0, 0.0])
    assert np.isfinite(image.pixels).all()


def test_int32_tiff_is_stretched() -> None:
    values = np.array([[-100, 0, 900]], dtype=np.int32)
    image = decode_image(tiff_bytes(values))
    assert image.source_dtype == "int32"
    np.testing.assert_allclose(image.pixels[0, :, 0], [0.0, 25.5, 255.0], rtol=1e-6)


def test_rgba_png_is_composited_on_white() -> None:
    bgra = np.zeros((1, 3, 4), dtype=np.uint8)
    bgra[0, :, 2] = 200  # red 200 in every pixel
    bgra[0, :, 3] = [255, 0, 51]
    image = decode_image(encode(".png", bgra))
    np.testing.assert_allclose(image.pixels[0, 0], [200, 0, 0])
    np.testing.assert_allclose(image.pixels[0, 1], [255, 255, 255])
    np.testing.assert_allclose(image.pixels[0, 2], [0.2 * 200 + 0.8 * 255, 204, 204], rtol=1e-5)


def test_gray_alpha_two_channels() -> None:
    gray_alpha = np.array([[[100, 255], [100, 0]]], dtype=np.uint8)
    image = images._from_decoded(gray_alpha, "ga")
    assert image.gray_source
    np.testing.assert_array_equal(image.display[0], [[100] * 3, [255] * 3])


def test_jpeg_exif_orientation_6_is_applied() -> None:
    rgb = np.zeros((8, 16, 3), dtype=np.uint8)
    rgb[:, :8] = 255  # left half white
    jpeg = _exif_jpeg(encode(".jpg", rgb, [cv2.IMWRITE_JPEG_QUALITY, 100]), 6)
    image = decode_image(jpeg)
    _check(image, (16, 8))  # rotated 90 degrees clockwise: 8 wide, 16 high
    assert image.display[:8].mean() > 200 and image.display[8:].mean() < 50


def test_small_exif_jpeg_4x2_loads_as_2x4() -> None:
    jpeg = _exif_jpeg(encode(".jpg", np.zeros((2, 4, 3), np.uint8)), 6)
    assert (decode_image(jpeg).width, decode_image(jpeg).height) == (2, 4)


def test_cmyk_jpeg_is_converted_to_rgb() -> None:
    raw = cv2.imdecode(np.frombuffer(_cmyk_jpeg((240, 16, 240, 250)), np.uint8), -1)
    assert raw is not None, "hand-made CMYK JPEG must decode"
    image = decode_image(_cmyk_jpeg((240, 16, 240, 250)))
    _check(image, (8, 8))
    red, green, blue = image.display[4, 4].astype(int)
    assert red > 200 and blue > 200 and green < 40  # Adobe-inverted CMYK -> magenta


def test_one_pixel_and_very_wide_images() -> None:
    one = decode_image(encode(".png", np.full((1, 1, 3), 7, np.uint8)))
    _check(one, (1, 1))
    wide = decode_image(encode(".png", np.zeros((8, 20000), np.uint8)))
    _check(wide, (8, 20000))


# ------------------------------------------------------------------ refusals


def _assert_one_line(exc: pytest.ExceptionInfo, name: str) -> None:
    message = str(exc.value)
    assert "\n" not in message and name in message


def test_too_large_png_header_is_refused_quickly(tmp_path: Path) -> None:
    path = _write(tmp_path / "huge.png", _png_header_only(100_000, 100_000))
    start = time.perf_counter()
    with pytest.raises(ImageLoadError, match="megapixel") as exc:
        load_image(path)
    assert time.perf_counter() - start < 1.0
    _assert_one_line(exc, "huge.png")


def test_too_large_jpeg_sof_is_refused() -> None:
    jpeg = bytearray(encode(".jpg", np.zeros((8, 8, 3), np.uint8)))
    sof = jpeg.find(b"\xff\xc0")
    jpeg[sof + 5 : sof + 9] = struct.pack(">HH", 60000, 60000)
    with pytest.raises(ImageLoadError, match="megapixel"):
        decode_image(bytes(jpeg))


@pytest.mark.parametrize(
    ("ext", "params"),
    [(".png", []), (".jpg", []), (".bmp", []), (".tif", []), (".ppm", []),
     (".webp", [cv2.IMWRITE_WEBP_QUALITY, 90]), (".webp", [cv2.IMWRITE_WEBP_QUALITY, 101])],
)  # fmt: skip
def test_header_size_matches_encoded_size(ext: str, params: list[int]) -> None:
    data = encode(ext, np.zeros((37, 53, 3), np.uint8), params)
    assert header_size(data)[1] == (53, 37)


def test_header_size_of_big_tiff_and_gif_like_headers() -> None:
    assert header_size(tiff_bytes(np.zeros((5, 300), np.uint16), bigtiff=True))[1] == (300, 5)
    assert header_size(b"GIF89a" + struct.pack("<HH", 640, 480))[1] == (640, 480)


def test_non_ascii_path_with_space(tmp_path: Path) -> None:
    rgb = RNG.integers(0, 256, (3, 5, 3), dtype=np.uint8)
    path = _write(tmp_path / "données" / "défaut_画像 1.png", encode(".png", rgb[..., ::-1]))
    image = load_image(path)
    np.testing.assert_array_equal(image.display, rgb)
    assert image.path == str(path)


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("empty.png", b"", "empty"),
        ("text.png", b"this is not an image\n" * 10, "not a readable image"),
        ("random.jpg", RNG.integers(0, 256, 4096, dtype=np.uint8).tobytes(), None),
        ("truncated.png", encode(".png", RNG.integers(0, 256, (40, 40, 3), np.uint8))[:500], None),
        (
            "cut.jpg",
            encode(".jpg", RNG.integers(0, 256, (40, 40, 3), np.uint8))[:-300],
            "truncated JPEG",
        ),
        ("header.png", _png_header_only(10, 10), None),
    ],
)
def test_bad_files_raise_image_load_error(
    tmp_path: Path, name: str, content: bytes, reason: str | None
) -> None:
    with pytest.raises(ImageLoadError, match=reason) as exc:
        load_image(_write(tmp_path / name, content))
    _assert_one_line(exc, name)


def test_missing_file_and_folder(tmp_path: Path) -> None:
    with pytest.raises(ImageLoadError, match="not found") as exc:
        load_image(tmp_path / "nope.png")
    _assert_one_line(exc, "nope.png")
    with pytest.raises(ImageLoadError, match="folder"):
        load_image(tmp_path)


def test_decode_rejects_non_bytes_cleanly() -> None:
    with pytest.raises(ImageLoadError):
        decode_image("not bytes")  # type: ignore[arg-type]


# ------------------------------------------------------------------ folders


def test_list_images_skips_masks_and_non_images(tmp_path: Path) -> None:
    for rel in [
        "good/b.png", "good/a.JPG", "scratch/deep/c.tiff", "top.bmp", "scratch/x_mask.png",
        "scratch/y_label.png", "ground_truth/scratch/z.png", "Label/w.png", "notes.txt",
        "good/.hidden.png", ".cache/v.png", "scratch/d.webp",
    ]:  # fmt: skip
        _write(tmp_path / rel, b"x")
    (tmp_path / "folder.png").mkdir()
    names = [p.relative_to(tmp_path).as_posix() for p in list_images(tmp_path)]
    assert names == ["good/a.JPG", "good/b.png", "scratch/d.webp", "scratch/deep/c.tiff", "top.bmp"]
    assert list_images(tmp_path, recursive=False) == [tmp_path / "top.bmp"]
    with pytest.raises(ImageLoadError):
        list_images(tmp_path / "missing")


def test_image_suffixes_are_lower_case_and_decodable() -> None:
    assert all(s == s.lower() and s.startswith(".") for s in IMAGE_SUFFIXES)
    assert {".png", ".jpg", ".jpeg", ".tif", ".tiff", ".webp", ".bmp"} <= IMAGE_SUFFIXES


def test_label_from_path(tmp_path: Path) -> None:
    assert label_from_path(tmp_path / "scratch" / "a.png", tmp_path) == "scratch"
    assert label_from_path(tmp_path / "scratch" / "deep" / "a.png", tmp_path) == "scratch"
    assert label_from_path(tmp_path / "a.png", tmp_path) is None
    assert label_from_path("/elsewhere/x/a.png", tmp_path) is None
    assert label_from_path(str(tmp_path / "ok" / "a.png"), str(tmp_path)) == "ok"


# ------------------------------------------------------------------ fuzzing

_SEEDS = [
    encode(".png", RNG.integers(0, 256, (6, 5, 3), np.uint8)),
    encode(".png", RNG.integers(0, 65536, (4, 4), np.uint16)),
    encode(".jpg", RNG.integers(0, 256, (8, 8, 3), np.uint8)),
    _exif_jpeg(encode(".jpg", RNG.integers(0, 256, (4, 6), np.uint8)), 6),
]


@st.composite
def _mutated(draw: st.DrawFn) -> bytes:
    data = bytearray(draw(st.sampled_from(_SEEDS)))
    for _ in range(draw(st.integers(0, 8))):
        index = draw(st.integers(0, len(data) - 1))
        data[index] ^= 1 << draw(st.integers(0, 7))
    return bytes(data[: draw(st.integers(0, len(data)))])


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(st.binary(max_size=2048), _mutated()))
def test_decode_only_returns_image_or_image_load_error(data: bytes) -> None:
    try:
        result = decode_image(data)
    except ImageLoadError as exc:
        assert "\n" not in str(exc)
    else:
        assert isinstance(result, LoadedImage)
        assert result.display.dtype == np.uint8 and result.pixels.dtype == np.float32
        assert result.pixels.shape[2] == 3 and np.isfinite(result.pixels).all()


def test_bit_depth_of_16_bit_data_is_guessed_or_given(tmp_path) -> None:
    dark = np.full((6, 8), 1000, np.uint16)  # a dark 16-bit image: could be 12-bit data
    data = encode(".png", dark)
    assert decode_image(data).significant_bits == 12
    assert decode_image(data).pixels.max() == pytest.approx(1000 * 255 / 4095, rel=1e-5)
    given = decode_image(data, bit_depth=16)
    assert given.significant_bits == 16 and given.pixels.max() == pytest.approx(1000 * 255 / 65535, rel=1e-5)
    assert decode_image(encode(".png", np.full((6, 8), 200, np.uint8)), bit_depth=16).significant_bits == 8  # 8-bit untouched


def test_sidecar_bit_depth_reaches_the_session(tmp_path) -> None:
    import json

    from engine.errors import ModelLoadError
    from engine.model.sidecar import read_sidecar
    from tests.models import save_model, session, tiny_cnn

    model = save_model(tiny_cnn(), tmp_path, "m.keras")
    sidecar = tmp_path / "m.convscope.json"
    sidecar.write_text(json.dumps({"bit_depth": 16}))
    assert read_sidecar(model).bit_depth == 16
    picture = tmp_path / "dark.png"
    picture.write_bytes(encode(".png", np.full((32, 32), 1000, np.uint16)))
    from engine.session import Session

    assert Session.open(model).load_image(picture).significant_bits == 16
    assert session(tiny_cnn()).load_image(picture).significant_bits == 12  # no sidecar: guessed
    sidecar.write_text(json.dumps({"bit_depth": 20}))
    with pytest.raises(ModelLoadError, match="bit_depth"):
        read_sidecar(model)
