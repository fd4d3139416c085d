"""TensorFlow and Keras, imported quietly and only when first used; the one place the engine
imports them.

`tf` and `keras` are stand-ins that import the real modules on their first attribute access,
so importing the engine (the method registry, its declared parameters, the command-line
parser) costs nothing: TensorFlow takes seconds to import, and the window and `--help`
must not wait for it. `load()` imports them explicitly, for a worker that wants the cost paid
up front.
"""

from __future__ import annotations

import contextlib
import os
import threading
from types import ModuleType
from typing import Any

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

_lock = threading.Lock()
_modules: dict[str, ModuleType] = {}


@contextlib.contextmanager
def _quiet_native_stderr():
    """TensorFlow's C++ start-up writes CUDA probing lines straight to file descriptor 2,
    before any log level applies; they would break the CLI's one-line error contract."""
    try:
        saved = os.dup(2)
    except OSError:  # no real stderr (a GUI launched without a console)
        yield
        return
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


quiet_native_stderr = _quiet_native_stderr  # for other native runtimes (TFLite) that log the same way


def load() -> tuple[ModuleType, ModuleType]:
    """Import TensorFlow and Keras (once, thread-safe); returns (tf, keras)."""
    with _lock:
        if not _modules:
            with _quiet_native_stderr():
                import tensorflow
                tensorflow.constant(0)  # device initialisation logs here too
                # Python-side advice ("N out of the last M calls triggered tf.function retracing")
                # is for TensorFlow programmers: functions per layer are built on purpose.
                tensorflow.get_logger().setLevel("ERROR")
                import keras as keras_module
            _modules.update(tf=tensorflow, keras=keras_module)
    return _modules["tf"], _modules["keras"]


def loaded() -> bool:
    """True once TensorFlow has been imported through `load`."""
    return bool(_modules)


class _Deferred:
    """Stands for a module until first use, then forwards every attribute to it."""

    def __init__(self, name: str) -> None:
        self._name = name

    def __getattr__(self, attribute: str) -> Any:
        module = _modules.get(self._name) or dict(zip(("tf", "keras"), load(), strict=True))[self._name]
        return getattr(module, attribute)

    def __repr__(self) -> str:
        return f"<deferred {self._name}>"


tf: Any = _Deferred("tf")
keras: Any = _Deferred("keras")

__all__ = ["keras", "load", "loaded", "tf"]
