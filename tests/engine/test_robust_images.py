"""Every kind of image file end to end through the engine (issue 7): decoded, fed to the demo
model and to a grayscale non-square model, explained with Grad-CAM at the image's own
resolution; every bad file refused with one line naming it, before any decoding that could
exhaust memory, and without codec chatter on the native stderr.

The files are built here; `VALID` and `BAD` are shared with tests/cli/test_robust_cli.py.
"""

from __future__ import annotations

import os
import struct
from pathlib import Path

import cv2
import numpy as np
import pytest

from engine import memory
from engine.errors import ImageLoadError
from engine.images import decoding as images
from engine.images.decoding import load_image
from engine.session import Session
from tests.engine.test_images import _cmyk_jpeg, _exif_jpeg, _png_header_only
from tests.image_bytes import encode, tiff_bytes
from tests.models import save_model, tiny_cnn

ROOT = Path(__file__).resolve().parents[2]
DEMO_MODEL = ROOT / "resources" / "demo" / "defects.keras"
GRAY_SHAPE = (24, 40, 1)  # the grayscale non-square model's input: 24 rows, 40 columns
VALID_FOLDER = "données d'essai"  # non-ASCII and a space in every path
BAD_FOLDER = "fichiers abîmés"


def ramp(shape: tuple[int, int], top: float, dtype) -> np.ndarray:
    """Values rising pixel by pixel from 0 to `top` in reading order: every value distinct."""
    return np.linspace(0.0, top, shape[0] * shape[1]).reshape(shape).astype(dtype)


def _rng(seed: int) -> np.random.Generator:
    return np.random.default_rng(seed)


# ---------------------------------------------------------------- huge headers


def _tiff_header_only(width: int, height: int) -> bytes:
    """A little-endian TIFF whose IFD claims width x height 8-bit gray, with 8 bytes of data."""
    entries = [(256, 4, width), (257, 4, height), (258, 3, 8), (259, 3, 1), (262, 3, 1),
               (273, 4, 8 + 2 + 9 * 12 + 4), (277, 3, 1), (278, 4, height), (279, 4, 8)]
    ifd = struct.pack("<H", len(entries))
    for tag, typ, value in entries:
        ifd += struct.pack("<HHI", tag, typ, 1) + (struct.pack("<HH", value, 0) if typ == 3
                                                    else struct.pack("<I", value))
    return b"II*\x00" + struct.pack("<I", 8) + ifd + struct.pack("<I", 0) + b"\x00" * 8


def _webp_header_only(width: int, height: int) -> bytes:
    """An extended (VP8X) WebP header claiming width x height, and nothing else."""
    body = b"VP8X" + struct.pack("<I", 10) + b"\x00" * 4
    body += (width - 1).to_bytes(3, "little") + (height - 1).to_bytes(3, "little")
    return b"RIFF" + struct.pack("<I", 4 + len(body)) + b"WEBP" + body


def _bmp_header_claiming(width: int, height: int) -> bytes:
    data = bytearray(encode(".bmp", np.zeros((4, 4, 3), np.uint8)))
    struct.pack_into("<ii", data, 18, width, height)
    return bytes(data)


def _jpeg_sof_claiming(width: int, height: int) -> bytes:
    data = bytearray(encode(".jpg", np.zeros((8, 8, 3), np.uint8)))
    sof = data.find(b"\xff\xc0")
    data[sof + 5 : sof + 9] = struct.pack(">HH", height, width)
    return bytes(data)


def _png_with_bad_crc() -> bytes:
    """A complete PNG whose compressed pixel data is damaged: libpng reports it on stderr."""
    data = bytearray(encode(".png", _rng(3).integers(0, 256, (32, 32, 3), np.uint8)))
    idat = data.find(b"IDAT")
    for offset in range(idat + 20, idat + 60, 3):
        data[offset] ^= 0x5A
    return bytes(data)


# ---------------------------------------------------------------- the files

# name -> (bytes, (height, width) of the loaded image: EXIF rotation applied)
def valid_files() -> dict[str, tuple[bytes, tuple[int, int]]]:
    """Every valid kind of file of issue 7, with the size it must load (and explain) at."""
    rgb = _rng(0).integers(0, 256, (20, 30, 3), np.uint8)
    exif_source = np.zeros((8, 16, 3), np.uint8)
    exif_source[:, :8] = 255
    return {
        "gray 8-bit.png": (encode(".png", rgb[..., 0]), (20, 30)),
        "gray 16-bit.png": (encode(".png", ramp((24, 40), 30000, np.uint16)), (24, 40)),
        "gray 8-bit.tif": (tiff_bytes(rgb[..., 1]), (20, 30)),
        "gray 16-bit.tif": (tiff_bytes(ramp((24, 40), 30000, np.uint16)), (24, 40)),
        "12-bit in 16.png": (encode(".png", ramp((24, 40), 3000, np.uint16)), (24, 40)),
        "12-bit in 16.tif": (tiff_bytes(ramp((24, 40), 3000, np.uint16)), (24, 40)),
        "rgb 16-bit.tif": (tiff_bytes(ramp((18, 22), 65535, np.uint16)[..., None].repeat(3, 2),
                                 photometric="rgb"), (18, 22)),
        "float unit.tif": (tiff_bytes(ramp((24, 40), 0.8, np.float32)), (24, 40)),
        "float wide.tif": (tiff_bytes(ramp((24, 40), 1000.0, np.float32) - 200.0), (24, 40)),
        "rgba.png": (encode(".png", _rng(1).integers(0, 256, (20, 30, 4), np.uint8)), (20, 30)),
        "rgba 16-bit.png": (encode(".png", _rng(2).integers(0, 65536, (12, 9, 4), np.uint16)), (12, 9)),
        "cmyk.jpg": (_cmyk_jpeg((240, 16, 240, 250)), (8, 8)),
        "exif rotated.jpg": (_exif_jpeg(encode(".jpg", exif_source, [cv2.IMWRITE_JPEG_QUALITY, 100]), 6),
                             (16, 8)),
        "plain.jpeg": (encode(".jpg", rgb), (20, 30)),
        "plain.bmp": (encode(".bmp", rgb), (20, 30)),
        "lossy.webp": (encode(".webp", rgb, [cv2.IMWRITE_WEBP_QUALITY, 80]), (20, 30)),
        "lossless.webp": (encode(".webp", rgb, [cv2.IMWRITE_WEBP_QUALITY, 101]), (20, 30)),
        "one pixel.png": (encode(".png", np.full((1, 1, 3), 77, np.uint8)), (1, 1)),
        "very wide.png": (encode(".png", _rng(4).integers(0, 256, (16, 4000, 3), np.uint8)), (16, 4000)),
        "very tall.png": (encode(".png", _rng(5).integers(0, 256, (4000, 16), np.uint8)), (4000, 16)),
        "défaut 画像 1.png": (encode(".png", rgb), (20, 30)),
    }


# name -> (bytes, fragment of the reason)
def bad_files() -> dict[str, tuple[bytes, str]]:
    """Every invalid kind of file of issue 7, with a word the one-line reason must contain."""
    png = encode(".png", _rng(6).integers(0, 256, (40, 40, 3), np.uint8))
    jpeg = encode(".jpg", _rng(7).integers(0, 256, (40, 40, 3), np.uint8))
    tiff = tiff_bytes(_rng(8).integers(0, 65536, (40, 40), np.uint16))
    webp = encode(".webp", _rng(9).integers(0, 256, (40, 40, 3), np.uint8))
    return {
        "empty.png": (b"", "empty"),
        "empty.jpg": (b"", "empty"),
        "truncated.png": (png[:300], "truncated"),
        "truncated.jpg": (jpeg[:-300], "truncated"),
        "truncated.tif": (tiff[:200], "TIFF"),
        "truncated.webp": (webp[:40], "WebP"),
        "truncated.bmp": (encode(".bmp", np.zeros((20, 20, 3), np.uint8))[:100], "BMP"),
        "header only.png": (_png_header_only(10, 10), "PNG"),
        "bad checksum.png": (_png_with_bad_crc(), "PNG"),
        "random bytes.png": (_rng(10).integers(0, 256, 4096, np.uint8).tobytes(), "not a readable image"),
        "notes.jpg": (b"this is a text file, not a photograph\n" * 20, "not a readable image"),
        "readme.png": ("plain text — déjà vu\n".encode() * 5, "not a readable image"),
        "huge.png": (_png_header_only(100_000, 100_000), "megapixel"),
        "huge.jpg": (_jpeg_sof_claiming(65_000, 65_000), "megapixel"),
        "huge.tif": (_tiff_header_only(100_000, 100_000), "megapixel"),
        "huge.bmp": (_bmp_header_claiming(100_000, 100_000), "megapixel"),
        "huge.webp": (_webp_header_only(16_384, 16_384), "megapixel"),
        "huge.pgm": (b"P5\n100000 100000\n255\n" + b"\x00" * 64, "megapixel"),
        "huge.gif": (b"GIF89a" + struct.pack("<HH", 65_535, 65_535) + b"\x00" * 32, "megapixel"),
    }


VALID = valid_files()
BAD = bad_files()


def write_files(folder: Path) -> tuple[dict[str, Path], dict[str, Path]]:
    """Write VALID under `folder/VALID_FOLDER` and BAD under `folder/BAD_FOLDER`."""
    written = []
    for sub, files in ((VALID_FOLDER, VALID), (BAD_FOLDER, BAD)):
        (folder / sub).mkdir(parents=True, exist_ok=True)
        paths = {}
        for name, (data, _) in files.items():
            paths[name] = folder / sub / name
            paths[name].write_bytes(data)
        written.append(paths)
    return written[0], written[1]


def gray_model_file(folder: Path) -> Path:
    """The grayscale non-square model (24 x 40 x 1, tiny_cnn), saved as .keras."""
    return save_model(tiny_cnn(GRAY_SHAPE, classes=3, seed=3), folder, "gray 24x40.keras")


# ---------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> tuple[dict[str, Path], dict[str, Path]]:
    return write_files(tmp_path_factory.mktemp("robust"))


@pytest.fixture(scope="module")
def demo() -> Session:
    return Session.open(DEMO_MODEL)


@pytest.fixture(scope="module")
def gray(tmp_path_factory) -> Session:
    session = Session.open(gray_model_file(tmp_path_factory.mktemp("gray")))
    assert session.info.input_shape == GRAY_SHAPE and session.info.preprocessing == "unit"
    return session


# ---------------------------------------------------------------- valid files


@pytest.mark.parametrize("name", sorted(VALID))
def test_valid_file_explains_at_its_own_resolution(files, demo, gray, name):
    path = files[0][name]
    image = load_image(path)
    shape = VALID[name][1]
    assert (image.height, image.width) == shape and image.path == str(path)
    assert np.isfinite(image.pixels).all() and 0.0 <= image.pixels.min() <= image.pixels.max() <= 255.0
    for session in (demo, gray):
        x = session.model_input(image)
        assert x.shape == session.info.input_shape and np.isfinite(x).all()
        result = session.explain(image, "gradcam")
        assert result.heatmap.shape == shape and result.heatmap.dtype == np.float32
        assert np.isfinite(result.heatmap).all()
        assert 0.0 <= result.heatmap.min() and result.heatmap.max() <= 1.0
        assert result.empty == (not result.heatmap.any())
        assert result.layer == session.info.default_layer
        assert sum(s.probability for s in session.predict([image], top=5)[0].top) == pytest.approx(1.0, abs=1e-5)


def test_exif_rotation_reaches_the_heatmap(files, demo):
    """Stored 16 wide x 8 high with orientation 6 (rotate 90 degrees clockwise): the white
    left half becomes the top half, and the map is 16 high x 8 wide."""
    image = load_image(files[0]["exif rotated.jpg"])
    assert (image.height, image.width) == (16, 8)
    assert image.display[:8].mean() > 200 and image.display[8:].mean() < 50
    pixels = demo.model_pixels(image)  # at the model's 128 x 128
    assert pixels[:64].mean() > 200 and pixels[64:].mean() < 50
    assert demo.explain(image, "gradcam").heatmap.shape == (16, 8)


@pytest.mark.parametrize("name", ["gray 16-bit.png", "gray 16-bit.tif"])
def test_16bit_ramp_reaches_the_model_unsaturated(files, gray, name):
    """0..30000 in a 16-bit file: the model input tops out at 30000/65535, with every one
    of the 960 levels kept (no clipping to 255, no rounding to 8 bits)."""
    image = load_image(files[0][name])
    assert (image.source_dtype, image.significant_bits) == ("uint16", 16)
    x = gray.model_input(image)  # same size as the file: no resampling
    assert x.max() == pytest.approx(30000 / 65535, rel=1e-6)
    assert x.max() < 0.5  # saturation (values / 255 clipped) would give 1.0
    assert len(np.unique(x)) == 24 * 40
    np.testing.assert_allclose(x[..., 0], ramp((24, 40), 30000, np.uint16) / 65535.0, rtol=1e-5, atol=1e-7)


def test_16bit_ramp_on_the_rgb_demo_model(demo):
    """A 128 x 128 16-bit ramp (the demo's own size): every channel keeps the levels."""
    image = images.decode_image(encode(".png", ramp((128, 128), 40000, np.uint16)), "ramp.png")
    x = demo.model_input(image)
    assert x.shape == (128, 128, 3)
    assert x.max() == pytest.approx(40000 / 65535, rel=1e-6)
    assert len(np.unique(x[..., 0])) > 256


@pytest.mark.parametrize("name", ["12-bit in 16.png", "12-bit in 16.tif"])
def test_12bit_data_scales_by_4095(files, gray, name):
    image = load_image(files[0][name])
    assert image.significant_bits == 12
    x = gray.model_input(image)
    assert x.max() == pytest.approx(3000 / 4095, rel=1e-6)
    assert len(np.unique(x)) > 256


def test_float_tiff_keeps_its_values(files, gray):
    x = gray.model_input(load_image(files[0]["float unit.tif"]))
    assert x.max() == pytest.approx(0.8, rel=1e-6) and x.min() == 0.0
    assert len(np.unique(x)) == 24 * 40
    wide = gray.model_input(load_image(files[0]["float wide.tif"]))  # -200..800: stretched
    assert wide.min() == 0.0 and wide.max() == pytest.approx(1.0, rel=1e-6)


def test_rgba_and_cmyk_become_rgb(files, demo):
    cmyk = load_image(files[0]["cmyk.jpg"])
    red, green, blue = cmyk.display[4, 4].astype(int)
    assert red > 200 and blue > 200 and green < 40  # magenta
    rgba = load_image(files[0]["rgba.png"])
    assert not rgba.gray_source and demo.model_input(rgba).shape == (128, 128, 3)


# ---------------------------------------------------------------- bad files


def _no_decoding(monkeypatch) -> None:
    def refuse(*_args, **_kwargs):
        raise AssertionError("cv2.imdecode was called for a file that must be refused first")

    monkeypatch.setattr(cv2, "imdecode", refuse)  # decoding imports cv2 where it decodes


@pytest.mark.parametrize("name", sorted(BAD))
def test_bad_file_is_one_line_naming_it(files, capfd, name):
    path = files[1][name]
    with pytest.raises(ImageLoadError) as caught:
        load_image(path)
    message = str(caught.value)
    assert "\n" not in message and str(path) in message and BAD[name][1] in message
    out, err = capfd.readouterr()
    assert (out, err) == ("", "")  # no libpng / libtiff / OpenCV chatter on the native stderr


@pytest.mark.parametrize("name", sorted(n for n in BAD if n.startswith("huge")))
def test_absurd_size_is_refused_from_the_header_alone(files, monkeypatch, name):
    _no_decoding(monkeypatch)
    with pytest.raises(ImageLoadError, match="megapixel"):
        load_image(files[1][name])


def test_size_beyond_available_memory_is_refused_before_decoding(monkeypatch, tmp_path):
    """Within the megapixel limit but more than the memory free now: refused, not attempted."""
    path = tmp_path / "big.png"
    path.write_bytes(_png_header_only(8000, 6000))
    monkeypatch.setattr(memory, "available_bytes", lambda *a: 200 * 2**20)
    _no_decoding(monkeypatch)
    with pytest.raises(ImageLoadError, match="memory is available") as caught:
        load_image(path)
    assert "\n" not in str(caught.value) and "8000 x 6000" in str(caught.value)


def test_decoding_leaves_opencv_logging_and_stderr_as_they_were(capfd):
    log = getattr(cv2.utils, "logging", None)  # OpenCV < 4.11 wheels do not expose the log level
    level = log.getLogLevel() if log is not None else None
    with pytest.raises(ImageLoadError):
        images.decode_image(_png_with_bad_crc(), "damaged.png")
    damaged_jpeg = bytearray(encode(".jpg", _rng(11).integers(0, 256, (64, 64, 3), np.uint8)))
    scan = damaged_jpeg.find(b"\xff\xda")
    for offset in range(scan + 40, len(damaged_jpeg) - 10, 50):
        damaged_jpeg[offset] = 0xFF  # libjpeg: "Corrupt JPEG data: premature end of data segment"
    assert images.decode_image(bytes(damaged_jpeg), "damaged.jpg").pixels.shape == (64, 64, 3)
    assert capfd.readouterr().err == ""
    assert (log.getLogLevel() if log is not None else None) == level
    os.write(2, b"fd 2 is back\n")
    assert capfd.readouterr().err == "fd 2 is back\n"

