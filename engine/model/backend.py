"""Imports Keras on the TensorFlow backend, quietly; the one place the engine does so."""

from __future__ import annotations

import contextlib
import os

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


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


with _quiet_native_stderr():
    import tensorflow as tf

    tf.constant(0)  # device initialisation logs here too
    import keras

__all__ = ["keras", "tf"]
