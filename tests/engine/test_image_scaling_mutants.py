"""How decoded pixels of every type come onto the 0..255 scale the methods see
(engine.images.decoding._scale_to_255), written out per type, and the decoders' quiet spell:
what a codec prints on native stderr while it decodes is muted, and stderr and OpenCV's log
level are back afterwards. Model-free: a mutant costs milliseconds."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

from engine.images.decoding import _scale_to_255


def test_eight_bit_pixels_stay_as_they_are():
    raw = np.array([[0, 7, 255]], np.uint8)
    scaled, bits = _scale_to_255(raw)
    assert bits == 8 and scaled.dtype == np.float32 and scaled.tolist() == [[0.0, 7.0, 255.0]]


def test_a_boolean_mask_is_black_and_white():
    scaled, bits = _scale_to_255(np.array([[True, False]]))
    assert bits == 1 and scaled.tolist() == [[255.0, 0.0]]


@pytest.mark.parametrize(("values", "bit_depth", "bits"), [([0, 4095], None, 12), ([0, 4096], None, 16),
                                                          ([0, 1023], 10, 10), ([0, 65535], None, 16)])
def test_sixteen_bit_pixels_scale_by_their_significant_bits(values, bit_depth, bits):
    raw = np.array([values], np.uint16)
    scaled, found = _scale_to_255(raw, bit_depth)
    assert found == bits
    np.testing.assert_allclose(scaled, raw.astype(np.float64) * 255.0 / (2**bits - 1), rtol=1e-6)
    assert scaled.dtype == np.float32


def test_floats_in_zero_to_one_are_the_usual_convention():
    scaled, bits = _scale_to_255(np.array([[0.0, 0.5, 1.0]], np.float32))
    assert bits == 32
    np.testing.assert_allclose(scaled, [[0.0, 127.5, 255.0]])


def test_floats_within_zero_to_255_are_kept():
    scaled, _ = _scale_to_255(np.array([[0.0, 2.0, 255.0]], np.float32))
    np.testing.assert_allclose(scaled, [[0.0, 2.0, 255.0]])


@pytest.mark.parametrize("values", [[-1.0, 0.0, 3.0], [0.0, 100.0, 510.0], [-5.0, 5.0, 1000.0]])
def test_floats_outside_zero_to_255_are_stretched_from_their_min_to_their_max(values):
    raw = np.array([values], np.float64)
    scaled, bits = _scale_to_255(raw)
    assert bits == 64 and scaled.dtype == np.float32
    lo, hi = min(values), max(values)
    np.testing.assert_allclose(scaled, (raw - lo) * 255.0 / (hi - lo), rtol=1e-6)


def test_non_finite_pixels_become_zero_and_do_not_set_the_range():
    raw = np.array([[np.nan, -np.inf, 0.25, 0.75, np.inf]], np.float32)
    scaled, _ = _scale_to_255(raw)
    np.testing.assert_allclose(scaled, [[0.0, 0.0, 63.75, 191.25, 0.0]])


def test_a_flat_out_of_range_image_is_black_and_nothing_is_non_finite():
    scaled, _ = _scale_to_255(np.full((2, 2), 300.0, np.float32))
    assert scaled.tolist() == [[0.0, 0.0], [0.0, 0.0]]
    scaled, _ = _scale_to_255(np.full((2, 2), np.nan, np.float32))
    assert scaled.tolist() == [[0.0, 0.0], [0.0, 0.0]]


QUIET = """
import os, sys, cv2
from engine.images.decoding import _decoder_quiet
log = getattr(getattr(cv2, "utils", None), "logging", None)  # older OpenCV builds have none
level = log.getLogLevel() if log else None
os.write(2, b"before\\n")
with _decoder_quiet():
    assert log is None or log.getLogLevel() == log.LOG_LEVEL_SILENT
    os.write(2, b"codec noise\\n")
    with _decoder_quiet():  # nested, as concurrent decodes are
        os.write(2, b"more noise\\n")
    os.write(2, b"still quiet\\n")
os.write(2, b"after\\n")
assert log is None or log.getLogLevel() == level
print("ok")
"""


def test_codec_noise_on_native_stderr_is_muted_while_decoding_and_stderr_comes_back():
    result = subprocess.run([sys.executable, "-c", QUIET], capture_output=True, text=True, timeout=120, check=False,
                            cwd=os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
    assert result.stdout.strip() == "ok", result.stderr
    assert result.stderr.splitlines() == ["before", "after"]


def test_codec_noise_is_muted_in_this_process_too(tmp_path):
    """The same spell in the test's own process (a subprocess would not see a mutated module):
    native stderr is pointed at a file around it, to see what reaches it."""
    import cv2

    from engine.images.decoding import _decoder_quiet

    log = getattr(getattr(cv2, "utils", None), "logging", None)
    level = log.getLogLevel() if log else None
    captured = tmp_path / "stderr.txt"
    keep = os.dup(2)
    with open(captured, "wb") as sink:
        os.dup2(sink.fileno(), 2)
        try:
            os.write(2, b"before\n")
            with _decoder_quiet():
                assert log is None or log.getLogLevel() == log.LOG_LEVEL_SILENT
                os.write(2, b"codec noise\n")
            os.write(2, b"after\n")
        finally:
            os.dup2(keep, 2)
            os.close(keep)
    assert captured.read_bytes() == b"before\nafter\n"
    assert log is None or log.getLogLevel() == level
