"""Image sizes read from headers alone (engine.images.headers), format by format, so that an
absurd size is refused before decoding: byte layouts written here by hand or by encoders."""

from __future__ import annotations

import struct

import numpy as np
import pytest

from engine.images.headers import header_size, jpeg_scan
from tests.image_bytes import encode, tiff_bytes

SOI = b"\xff\xd8"


def _segment(marker: int, payload: bytes) -> bytes:
    return bytes([0xFF, marker]) + struct.pack(">H", len(payload) + 2) + payload


def _sof(marker: int, width: int, height: int) -> bytes:
    return _segment(marker, bytes([8]) + struct.pack(">HH", height, width) + b"\x01\x01\x11\x00")


def test_jpeg_size_comes_from_the_first_frame_header() -> None:
    data = SOI + _segment(0xE0, b"JFIF\x00") + _sof(0xC0, 640, 480) + _sof(0xC2, 10, 10) + b"\xff\xda\x00\x02"
    assert jpeg_scan(data) == ((640, 480), len(data) - 4)
    assert header_size(data) == ("JPEG", (640, 480))


@pytest.mark.parametrize("marker", [0xC1, 0xC2, 0xC3, 0xC5, 0xC9, 0xCF])
def test_every_sof_kind_gives_the_size(marker: int) -> None:
    assert jpeg_scan(SOI + _sof(marker, 33, 22) + b"\xff\xd9\x00\x00")[0] == (33, 22)


@pytest.mark.parametrize("marker", [0xC4, 0xC8, 0xCC])
def test_huffman_jpg_and_arithmetic_tables_are_not_frame_headers(marker: int) -> None:
    data = SOI + _segment(marker, bytes(9)) + _sof(0xC0, 7, 5) + b"\xff\xd9\x00\x00"
    assert jpeg_scan(data)[0] == (7, 5)


def test_fill_bytes_and_standalone_markers_are_skipped() -> None:
    data = SOI + b"\xff\xff" + b"\xff\x01" + b"\xff\xd0\xff\xd7" + _sof(0xC0, 9, 4) + b"\xff\xda\x00\x02"
    assert jpeg_scan(data) == ((9, 4), len(data) - 4)


def test_scan_stops_at_the_end_marker_or_garbage() -> None:
    assert jpeg_scan(SOI + b"\xff\xd9\x00\x00") == (None, -1)
    assert jpeg_scan(SOI + _sof(0xC0, 9, 4) + b"\x00\x00\x00\x00") == ((9, 4), -1)
    assert jpeg_scan(SOI + _sof(0xC0, 9, 4)) == ((9, 4), -1)  # ran off the end
    assert jpeg_scan(SOI + b"\xff\xda") == (None, -1)  # fewer than 4 bytes left: no marker read


def test_jpeg_scan_reads_a_marker_with_exactly_four_bytes_left() -> None:
    assert jpeg_scan(SOI + b"\xff\xda\x00\x02") == (None, 2)


def test_encoded_jpeg_sos_offset_points_at_the_scan() -> None:
    data = encode(".jpg", np.zeros((12, 20, 3), np.uint8))
    size, sos = jpeg_scan(data)
    assert size == (20, 12) and data[sos:sos + 2] == b"\xff\xda"


def test_png_and_gif() -> None:
    png = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\x0dIHDR" + struct.pack(">II", 300, 200)
    assert header_size(png) == ("PNG", (300, 200))
    assert header_size(b"GIF87a" + struct.pack("<HH", 5, 6)) == ("GIF", (5, 6))


def test_bmp_core_and_info_headers_negative_height_is_top_down() -> None:
    core = b"BM" + bytes(12) + struct.pack("<IHH", 12, 70, 50)
    assert header_size(core) == ("BMP", (70, 50))
    info = b"BM" + bytes(12) + struct.pack("<Iii", 40, 70, -50)
    assert header_size(info) == ("BMP", (70, 50))
    assert header_size(encode(".bmp", np.zeros((9, 11, 3), np.uint8))) == ("BMP", (11, 9))


@pytest.mark.parametrize("byteorder", ["<", ">"])
@pytest.mark.parametrize("bigtiff", [False, True])
def test_tiff_both_byte_orders_classic_and_big(byteorder: str, bigtiff: bool) -> None:
    data = tiff_bytes(np.zeros((7, 300), np.uint16), byteorder=byteorder, bigtiff=bigtiff)
    assert header_size(data) == ("TIFF", (300, 7))
    wide = tiff_bytes(np.zeros((3, 70000), np.uint8), byteorder=byteorder, bigtiff=bigtiff)
    assert header_size(wide) == ("TIFF", (70000, 3))  # a LONG width, beyond 16 bits


def _tiff_entries(entries: list[tuple[int, int, int]]) -> bytes:
    body = struct.pack("<H", len(entries))
    for tag, typ, value in entries:
        body += struct.pack("<HHII", tag, typ, 1, value)
    return b"II*\x00" + struct.pack("<I", 8) + body


def test_tiff_short_and_long_values_and_a_missing_dimension() -> None:
    assert header_size(_tiff_entries([(256, 3, 640), (257, 4, 70000)])) == ("TIFF", (640, 70000))
    short_high = _tiff_entries([(256, 3, 0x00010005), (257, 3, 9)])
    assert header_size(short_high) == ("TIFF", (5, 9))  # a SHORT reads the first two bytes only
    assert header_size(_tiff_entries([(256, 3, 640), (258, 3, 8)])) == ("TIFF", None)


def _webp(chunk: bytes, payload: bytes) -> bytes:
    return b"RIFF" + struct.pack("<I", 0) + b"WEBP" + chunk + struct.pack("<I", len(payload)) + payload


def test_webp_lossy_lossless_and_extended() -> None:
    lossy = _webp(b"VP8 ", bytes(6) + struct.pack("<HH", 0xC000 | 400, 0x4000 | 300))
    assert header_size(lossy) == ("WebP", (400, 300))  # the scale bits are not part of the size
    bits = (400 - 1) | ((300 - 1) << 14)
    lossless = _webp(b"VP8L", b"\x2f" + struct.pack("<I", bits))
    assert header_size(lossless) == ("WebP", (400, 300))
    extended = _webp(b"VP8X", bytes(4) + (400 - 1).to_bytes(3, "little") + (300 - 1).to_bytes(3, "little"))
    assert header_size(extended) == ("WebP", (400, 300))
    assert header_size(_webp(b"ALPH", bytes(20))) == ("WebP", None)
    assert header_size(encode(".webp", np.zeros((9, 11, 3), np.uint8))) == ("WebP", (11, 9))


def test_pnm_with_comments_and_pam() -> None:
    assert header_size(b"P5\n# made by hand 999 999\n 64 32\n255\n") == ("PNM", (64, 32))
    assert header_size(b"P6 10 20 255 ") == ("PNM", (10, 20))
    pam = b"P7\nWIDTH 12\nHEIGHT 34\nDEPTH 3\nMAXVAL 255\nENDHDR\n"
    assert header_size(pam) == ("PNM", (12, 34))
    assert header_size(b"P7\nWIDTH 12\nENDHDR\n") == ("PNM", None)
    assert header_size(b"P7\nHEIGHT 12\nENDHDR\n") == ("PNM", None)
    assert header_size(b"Pf\n4 2\n-1.0\n") == ("PNM", (4, 2))
    assert header_size(b"P8 1 2") == ("", None)


def test_jpeg_2000_codestream_and_boxed_file() -> None:
    siz = b"\xff\x4f\xff\x51" + bytes(4) + struct.pack(">IIII", 110, 70, 10, 20)
    assert header_size(siz) == ("JPEG 2000", (100, 50))  # image size minus the image offset
    boxed = b"\x00\x00\x00\x0cjP  \r\n\x87\n" + b"\x00\x00\x00\x2djp2h\x00\x00\x00\x16ihdr" + \
        struct.pack(">II", 50, 100)
    assert header_size(boxed) == ("JPEG 2000", (100, 50))
    assert header_size(b"\x00\x00\x00\x0cjP  \r\n\x87\n" + bytes(40)) == ("JPEG 2000", None)


def test_unknown_bytes_have_no_format() -> None:
    assert header_size(b"hello world, not an image") == ("", None)
    assert header_size(b"RIFF\x00\x00\x00\x00WAVE") == ("", None)


def test_webp_extended_height_is_three_bytes() -> None:
    extended = _webp(b"VP8X", bytes(4) + (400 - 1).to_bytes(3, "little") + (300 - 1).to_bytes(3, "little") + b"\xff")
    assert header_size(extended) == ("WebP", (400, 300))


def test_sizes_are_read_from_the_first_4_kib_only() -> None:
    # the last digit of the height is byte 4096: outside the header window, so no size is claimed
    pam = b"P7\nWIDTH 12\n" + b"#" * (4096 - 12 - len("HEIGHT 3")) + b"\nHEIGHT 34\nENDHDR\n"
    assert pam.index(b"HEIGHT 3") + len(b"HEIGHT 3") == 4097
    assert header_size(pam) == ("PNM", None)
    signature = b"\x00\x00\x00\x0cjP  \r\n\x87\n"
    late = signature + bytes(4093 - len(signature)) + b"ihdr" + struct.pack(">II", 50, 100)
    assert header_size(late) == ("JPEG 2000", None)
    far = signature + bytes(5000) + b"ihdr" + struct.pack(">II", 50, 100)
    assert header_size(far) == ("JPEG 2000", None)


def test_jpeg_2000_takes_the_first_image_header() -> None:
    boxed = b"\x00\x00\x00\x0cjP  \r\n\x87\n" + b"ihdr" + struct.pack(">II", 50, 100) + b"ihdr" + \
        struct.pack(">II", 7, 8)
    assert header_size(boxed) == ("JPEG 2000", (100, 50))
