"""Image sizes read from file headers alone (PNG, JPEG, BMP, TIFF, WebP, PNM, JPEG 2000,
GIF), so that an absurdly large image is refused before a decoder allocates it."""

from __future__ import annotations

import re
import struct


def _u16(data: bytes, off: int, big: bool) -> int:
    return struct.unpack_from(">H" if big else "<H", data, off)[0]


def _u32(data: bytes, off: int, big: bool) -> int:
    return struct.unpack_from(">I" if big else "<I", data, off)[0]


def jpeg_scan(data: bytes) -> tuple[tuple[int, int] | None, int]:
    """(width, height) from the first SOF marker, and the offset of the first SOS (or -1)."""
    i, size = 2, None
    while i + 4 <= len(data):
        if data[i] != 0xFF:
            return size, -1
        marker = data[i + 1]
        if marker == 0xFF:  # fill byte
            i += 1
            continue
        if marker in (0x01, 0xD8) or 0xD0 <= marker <= 0xD7:
            i += 2
            continue
        if marker == 0xDA:
            return size, i
        if marker == 0xD9:
            return size, -1
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC) and size is None:
            size = (_u16(data, i + 7, True), _u16(data, i + 5, True))
        i += 2 + _u16(data, i + 2, True)
    return size, -1


def _tiff_size(data: bytes) -> tuple[int, int] | None:
    big = data[:2] == b"MM"
    dims: dict[int, int] = {}
    if _u16(data, 2, big) == 43:  # BigTIFF: 8-byte offsets and counts, 20-byte entries
        off = struct.unpack_from(">Q" if big else "<Q", data, 8)[0]
        count = struct.unpack_from(">Q" if big else "<Q", data, off)[0]
        start, step, value_at = off + 8, 20, 12
    else:
        off = _u32(data, 4, big)
        count, start, step, value_at = _u16(data, off, big), off + 2, 12, 8
    for k in range(min(count, 4096)):
        entry = start + k * step
        tag, typ = _u16(data, entry, big), _u16(data, entry + 2, big)
        if tag in (256, 257):
            read = _u16 if typ == 3 else _u32
            dims[tag] = read(data, entry + value_at, big)
    return (dims[256], dims[257]) if len(dims) == 2 else None


def _webp_size(data: bytes) -> tuple[int, int] | None:
    chunk = data[12:16]
    if chunk == b"VP8 ":
        return _u16(data, 26, False) & 0x3FFF, _u16(data, 28, False) & 0x3FFF
    if chunk == b"VP8L":
        bits = _u32(data, 21, False)
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    if chunk == b"VP8X":
        w = int.from_bytes(data[24:27], "little") + 1
        return w, int.from_bytes(data[27:30], "little") + 1
    return None


def _pnm_size(data: bytes) -> tuple[int, int] | None:
    head = data[:4096]
    if head[:2] == b"P7":
        w, h = re.search(rb"WIDTH\s+(\d+)", head), re.search(rb"HEIGHT\s+(\d+)", head)
        return (int(w.group(1)), int(h.group(1))) if w and h else None
    tokens = re.sub(rb"#[^\n]*", b" ", head).split()
    return int(tokens[1]), int(tokens[2])


def _jp2_size(data: bytes) -> tuple[int, int] | None:
    if data[:4] == b"\xff\x4f\xff\x51":  # raw codestream: SIZ segment
        w = _u32(data, 8, True) - _u32(data, 16, True)
        return w, _u32(data, 12, True) - _u32(data, 20, True)
    at = data.find(b"ihdr", 0, 4096)
    return (_u32(data, at + 8, True), _u32(data, at + 4, True)) if at >= 0 else None


def header_size(data: bytes) -> tuple[str, tuple[int, int] | None]:
    """Format name and (width, height) read from the header alone, without decoding."""
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        return "PNG", (_u32(data, 16, True), _u32(data, 20, True))
    if data[:2] == b"\xff\xd8":
        return "JPEG", jpeg_scan(data)[0]
    if data[:2] == b"BM":
        if _u32(data, 14, False) == 12:
            return "BMP", (_u16(data, 18, False), _u16(data, 20, False))
        w, h = struct.unpack_from("<ii", data, 18)
        return "BMP", (abs(w), abs(h))
    if data[:4] in (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+"):
        return "TIFF", _tiff_size(data)
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WebP", _webp_size(data)
    if re.match(rb"P[1-7Ff]\s", data[:3]):
        return "PNM", _pnm_size(data)
    if data[:12] == b"\x00\x00\x00\x0cjP  \r\n\x87\n" or data[:4] == b"\xff\x4f\xff\x51":
        return "JPEG 2000", _jp2_size(data)
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "GIF", (_u16(data, 6, False), _u16(data, 8, False))
    return "", None
