"""Guards the PySide6 version pin: signals must not leak references to True and False."""

from __future__ import annotations

import sys

from PySide6.QtCore import QObject, Signal


class _Emitter(QObject):
    flag = Signal(bool)


def test_bool_signal_keeps_refcount_of_true(qtbot) -> None:
    emitter = _Emitter()
    calls = [0]

    def count(_value: bool) -> None:
        calls[0] += 1

    emitter.flag.connect(count)
    before = sys.getrefcount(True)
    for _ in range(200):
        emitter.flag.emit(True)
    assert calls[0] == 200
    # PySide6 6.12.0 loses one reference per emission; pyqtgraph's linked views emit bools
    # constantly, so a leak ends in "Fatal Python error: bool_dealloc".
    assert sys.getrefcount(True) - before > -100
