"""Every test function checks something (tests/vacuous.py, issue 24 item 5)."""

from __future__ import annotations

import textwrap
from pathlib import Path

from tests.vacuous import unchecked_helpers, vacuous_tests


def test_every_test_function_asserts_something() -> None:
    assert vacuous_tests() == []
    assert unchecked_helpers() == []


def test_the_check_tells_empty_tests_from_real_ones(tmp_path: Path) -> None:
    folder = tmp_path / "tests"
    folder.mkdir()
    (folder / "helpers.py").write_text(textwrap.dedent("""
        def encode(x):
            assert x is not None  # a precondition of the data, not a check of the product
            return x

        def refused(capture, *argv):
            assert capture(*argv) == 2
    """))
    (folder / "test_sample.py").write_text(textwrap.dedent("""
        import numpy as np
        import pytest

        def test_runs_only(): compute()
        def test_sleeps_only(qtbot): qtbot.wait(100)
        def test_builds_data_only(): encode(1)
        def test_nested_only():
            def inner(): compute()
            inner()
        def test_assert(): assert compute() == 1
        def test_raises():
            with pytest.raises(ValueError): compute()
        def test_waits_until(qtbot): qtbot.waitUntil(lambda: True)
        def test_signal(qtbot, w):
            with qtbot.waitSignal(w.done): w.start()
        def test_numpy(): np.testing.assert_allclose(compute(), 1)
        def test_helper(capfd): refused(capfd, "explain")
        def helper_not_a_test(): compute()
    """))
    assert vacuous_tests(folder) == [f"tests/test_sample.py::{name}" for name in
                                     ("test_runs_only", "test_sleeps_only", "test_builds_data_only",
                                      "test_nested_only")]
    assert "_check" in unchecked_helpers(folder)  # a whitelisted helper that is not there is reported
