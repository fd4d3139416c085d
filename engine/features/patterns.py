"""Filter patterns by gradient ascent.

Filter patterns follow seed 002 (Chollet): start from grey noise (128 + 20 * U[0, 1) per
pixel), preprocess it as the model expects, then `steps` times add `step_size` times the
gradient of the filter's mean activation divided by its RMS; deprocess by standardising,
x0.1, +0.5, clipping, x255. Differences from the seed, all deliberate:

* All filters of a grid ascend together in one batch through one compiled step per
  (layer, size); element i maximises the mean of its own filter `filters[i]`, and since
  elements are independent, one gradient of the sum gives each its own gradient, which
  is normalised by its own RMS.
* Size: the ascent runs on a size-agnostic copy of the layers up to the target (the graph
  replayed on an Input of shape (None, None, C)), so a 64 px pattern works on a model whose
  input is fixed at 128 px and shows what the filter sees at that scale. When the layers
  before the target cannot take another size (a Reshape, a Dense on pixels), the pattern
  image is resized to the model's input size inside the step instead.
* The noise of filter i is drawn from a generator seeded by (seed, i), so a filter gives the
  same pattern alone or in any batch; jitter shifts depend on (seed, step) only, for the same
  reason.
* Optional, off by default: `pre_activation` maximises the target's output before its fused
  activation (a Conv2D(activation="relu") without the ReLU), so filters that are silent on
  the grey start still move; and regularisation: random jitter (the image rolled by up to
  `jitter` pixels before each step), a Gaussian blur every `blur_every` steps, and a total
  variation penalty of weight `tv` subtracted from each element's objective.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

from engine.errors import Cancelled, MethodError
from engine.features.activations import feature_layer
from engine.images.preprocessing import preprocess
from engine.maps.grids import ActivationGrid, activation_grid, deprocess, pattern_grid, to_pixels
from engine.model.layers import LayerInfo

__all__ = ["ActivationGrid", "PatternSettings", "activation_grid", "ascend", "deprocess",
           "filter_means", "filter_patterns", "pattern_grid", "starting_noise", "to_pixels"]

Progress = Callable[[int, int], None]
CancelCheck = Callable[[], bool]
PartialView = Callable[[np.ndarray], None]

_NOISE_BASE, _NOISE_RANGE = 128.0, 20.0
_JITTER_STREAM = 7919  # separates jitter draws from the per-filter noise streams
_EPS = 1e-5


@dataclass(frozen=True)
class PatternSettings:
    """How filter patterns are computed; the defaults are seed 002's."""

    size: int = 64  # pattern side in pixels
    steps: int = 40
    step_size: float = 1.0  # in pixel levels (0..255), per RMS-normalised gradient, as in the seed
    seed: int = 0
    jitter: int = 0  # roll the image by up to this many pixels before each step (0: off)
    blur_every: int = 0  # Gaussian blur every N steps (0: off)
    blur_sigma: float = 0.5
    tv: float = 0.0  # total-variation penalty weight (0: off)
    contrast: float = 0.1  # deprocessing: standard deviation after standardising
    batch: int = 64  # filters optimised together in one batch
    partial_every: int = 5  # steps between on_partial calls
    pre_activation: bool = False  # maximise the target's output before its fused activation

    def __post_init__(self) -> None:
        checks = [(8 <= self.size <= 2048, "size must be between 8 and 2048 pixels"),
                  (self.steps >= 0, "steps must not be negative"),
                  (self.step_size > 0, "the step size must be positive"),
                  (self.jitter >= 0 and self.blur_every >= 0 and self.tv >= 0,
                   "jitter, blur-every and tv must not be negative"),
                  (self.blur_sigma > 0 and self.contrast > 0, "blur sigma and contrast must be positive"),
                  (self.batch >= 1 and self.partial_every >= 1, "batch and partial_every must be positive")]
        for ok, message in checks:
            if not ok:
                raise MethodError(message)


# Standard feature-visualisation regularisation, the default of the window and of `filters`:
# without it, filters that are silent on the grey start stay noise and deep layers draw
# high-frequency speckle. PatternSettings() alone is seed 002's plain ascent.
REGULARISED: dict[str, Any] = {"pre_activation": True, "jitter": 4, "blur_every": 4, "step_size": 4.0}


# -- filter patterns ----------------------------------------------------------------------
def starting_noise(filters: Sequence[int] | np.ndarray, size: int, channels: int, mode: str, seed: int = 0) -> np.ndarray:
    """Grey noisy start images, preprocessed: (N, size, size, channels) float32.

    Filter i's noise comes from a generator seeded by (seed, i): the same alone or in a batch.
    """
    pixels = np.stack([
        np.random.default_rng([seed, int(f)]).random((size, size, channels), dtype=np.float32)
        for f in filters
    ]) * np.float32(_NOISE_RANGE) + np.float32(_NOISE_BASE)
    return preprocess(pixels, mode)


def pixel_scale(mode: str, channels: int) -> np.ndarray:
    """d(model input)/d(pixel) per channel for an affine preprocessing mode: (channels,) float32."""
    ones, zeros = np.ones((1, channels), np.float32), np.zeros((1, channels), np.float32)
    return (preprocess(ones * 255.0, mode) - preprocess(zeros, mode))[0].astype(np.float32) / 255.0


def _linear_target(session, path: str):
    """A probe substitute giving the target layer a linear twin (its fused activation removed)."""
    from engine.model.layers import iter_layers
    from engine.model.probe import LinearActivation

    target = next(layer for info, layer in iter_layers(session.model) if info.path == path)
    twin = LinearActivation(target)
    return lambda layer: twin if layer is target else None


def _extractors(session, path: str, pre_activation: bool = False) -> tuple:
    """(size-agnostic copy or None, the probe cut at the layer), built once per layer and variant."""
    from engine.model.backend import keras

    def build():
        if pre_activation:
            probe = session.context.probe((path,), 0, f"features-linear:{path}", _linear_target(session, path))
        else:
            probe = session.context.probe((path,), 0)
        truncated = keras.Model(probe.inputs, probe.outputs[0])
        try:
            inputs = keras.Input(shape=(None, None, session.context.input_shape[-1]), dtype="float32")
            agnostic = keras.Model(inputs, truncated._run_through_graph(inputs, operation_fn=lambda op: op))
        except Exception:  # noqa: BLE001 - a layer before the target cannot take a free size
            agnostic = None
        return agnostic, truncated

    return session.context.cached(("features/extractor", path, pre_activation), build)


def _extractor(session, path: str, size: int, pre_activation: bool = False):
    """images (N, size, size, C) -> the layer's output: the size-agnostic copy when it runs at
    `size`, else the fixed model on the images resized to its input size."""
    from engine.model.backend import tf

    agnostic, truncated = _extractors(session, path, pre_activation)
    channels = session.context.input_shape[-1]
    if agnostic is not None and _usable(_static_shape(agnostic, (1, size, size, channels))):
        return agnostic
    height, width = session.context.input_shape[:2]
    if height is None or width is None:
        raise MethodError(f"a {size} px pattern is too small for layer '{path}'")
    if not _usable(tuple(truncated.outputs[0].shape)):
        raise MethodError(f"layer '{path}' cannot be computed on {size} px patterns")

    def resized(x, training=False):
        if tuple(x.shape[1:3]) != (height, width):
            x = tf.image.resize(x, (height, width))
        return truncated(x, training=training)

    return resized


def _static_shape(model, input_shape: tuple) -> tuple | None:
    """The model's output shape on a symbolic input of `input_shape`, by static shape inference
    (each layer's compute_output_spec); None when a layer cannot take that size.

    Never decided by an eager call: with oneDNN on AVX-512 (TensorFlow 2.21) an eager VALID
    convolution larger than its input returns a tensor instead of raising.
    """
    from engine.model.backend import keras

    try:  # compute_output_spec adds no node to the layers' graph, unlike a symbolic call
        output = model.compute_output_spec(keras.KerasTensor(input_shape, dtype="float32"))
    except (ValueError, TypeError):  # Keras' and TensorFlow's shape functions refuse the size
        return None
    return tuple((output[0] if isinstance(output, (list, tuple)) else output).shape)


def _usable(shape: tuple | None) -> bool:
    """A 4-D output with a non-empty spatial size."""
    return shape is not None and len(shape) == 4 and 0 not in shape[1:3]


def _ascent_step(session, path: str, size: int, pre_activation: bool = False):
    """The compiled batched step for (layer, size): (x, filters, step, shift, tv) -> (x', means)."""
    from engine.model.backend import tf

    def build():
        extractor = _extractor(session, path, size, pre_activation)
        channels = session.context.input_shape[-1]

        @tf.function(input_signature=[
            tf.TensorSpec((None, size, size, channels), tf.float32), tf.TensorSpec((None,), tf.int32),
            tf.TensorSpec((), tf.float32), tf.TensorSpec((2,), tf.int32), tf.TensorSpec((), tf.float32),
            tf.TensorSpec((channels,), tf.float32)])
        def step(x, filters, step_size, shift, tv, scale):
            with tf.GradientTape() as tape:
                tape.watch(x)
                features = tf.cast(extractor(tf.roll(x, shift, axis=[1, 2]), training=False), tf.float32)
                means = tf.reduce_mean(tf.gather(features, filters, axis=3, batch_dims=1), axis=[1, 2])
                variation = (tf.reduce_mean(tf.abs(x[:, 1:] - x[:, :-1]), axis=[1, 2, 3])
                             + tf.reduce_mean(tf.abs(x[:, :, 1:] - x[:, :, :-1]), axis=[1, 2, 3]))
                objective = tf.reduce_sum(means - tv * variation)
            # The seed steps in pixel units; x = scale * pixels + offset, so the pixel-space
            # gradient is scale * grads and a pixel step moves x by scale times as much.
            pixel_grads = tape.gradient(objective, x) * scale
            rms = tf.sqrt(tf.reduce_mean(tf.square(pixel_grads), axis=[1, 2, 3], keepdims=True)) + _EPS
            return x + scale * pixel_grads / rms * step_size, means

        return step

    return session.context.cached(("features/ascent", path, size, pre_activation), build)


def _check_filters(info: LayerInfo, filters: Sequence[int]) -> np.ndarray:
    count = info.output_shape[-1]
    chosen = np.asarray([int(f) for f in filters], dtype=np.int32)
    if chosen.size == 0:
        raise MethodError("no filters chosen")
    bad = chosen[(chosen < 0) | (chosen >= count)] if count is not None else chosen[chosen < 0]
    if bad.size:
        raise MethodError(f"filter {int(bad[0])} is out of range: layer '{info.path}' has {count} filters")
    return chosen


def _blur(x: np.ndarray, sigma: float) -> np.ndarray:
    out = np.stack([cv2.GaussianBlur(image, (0, 0), sigma, borderType=cv2.BORDER_REFLECT) for image in x])
    return out.reshape(x.shape)


def _jitter_shift(settings: PatternSettings, step: int) -> np.ndarray:
    if settings.jitter == 0:
        return np.zeros(2, np.int32)
    rng = np.random.default_rng([settings.seed, _JITTER_STREAM, step])
    return rng.integers(-settings.jitter, settings.jitter + 1, size=2).astype(np.int32)


def ascend(session, layer: str, filters: Sequence[int], settings: PatternSettings = PatternSettings(),
           progress: Progress | None = None, cancel: CancelCheck | None = None,
           on_partial: Callable[[np.ndarray], None] | None = None) -> np.ndarray:
    """The raw gradient-ascent images in preprocessed input space: (N, size, size, C) float32.

    Filters run `settings.batch` at a time; `progress(done, total)` follows every step,
    `cancel()` is checked before every step (True raises Cancelled), and `on_partial`
    receives all N current images every `settings.partial_every` steps.
    """
    from engine.model.backend import tf

    info = feature_layer(session, layer)
    chosen = _check_filters(info, filters)
    step = _ascent_step(session, info.path, settings.size, settings.pre_activation)
    channels = session.context.input_shape[-1]
    mode = session.info.preprocessing
    current = starting_noise(chosen, settings.size, channels, mode, settings.seed)
    chunks = range(0, len(chosen), settings.batch)
    total, done = settings.steps * len(chunks), 0
    step_size, tv = tf.constant(settings.step_size, tf.float32), tf.constant(settings.tv, tf.float32)
    scale = tf.constant(pixel_scale(mode, channels))
    for start in chunks:
        part = slice(start, start + settings.batch)
        x, which = tf.constant(current[part]), tf.constant(chosen[part])
        for k in range(settings.steps):
            if cancel is not None and cancel():
                raise Cancelled()
            x, _ = step(x, which, step_size, tf.constant(_jitter_shift(settings, k)), tv, scale)
            if settings.blur_every and (k + 1) % settings.blur_every == 0:
                x = tf.constant(_blur(x.numpy(), settings.blur_sigma))
            done += 1
            if progress is not None:
                progress(done, total)
            if on_partial is not None and ((k + 1) % settings.partial_every == 0 or k + 1 == settings.steps):
                current[part] = x.numpy()
                on_partial(current.copy())
        current[part] = x.numpy()
    return current


def filter_patterns(session, layer: str, filters: Sequence[int], settings: PatternSettings = PatternSettings(),
                    progress: Progress | None = None, cancel: CancelCheck | None = None,
                    on_partial: PartialView | None = None) -> np.ndarray:
    """The patterns that maximise each filter's mean activation: (N, size, size, 3) uint8 RGB.

    `on_partial` receives the deprocessed uint8 patterns as they are every few steps.
    """
    mode = session.info.preprocessing

    def partial(raw: np.ndarray) -> None:
        if on_partial is not None:
            on_partial(deprocess(raw, mode, settings.contrast))

    raw = ascend(session, layer, filters, settings, progress, cancel, partial if on_partial else None)
    return deprocess(raw, mode, settings.contrast)


def filter_means(session, layer: str, images: np.ndarray, filters: Sequence[int],
                 pre_activation: bool = False) -> np.ndarray:
    """Mean activation of filter filters[i] on preprocessed image i, (N,) float32."""
    from engine.model.backend import tf

    info = feature_layer(session, layer)
    chosen = _check_filters(info, filters)
    images = np.asarray(images, np.float32)
    extractor = _extractor(session, info.path, images.shape[1], pre_activation)
    features = extractor(tf.constant(images), training=False)
    picked = tf.gather(tf.cast(features, tf.float32), tf.constant(chosen), axis=3, batch_dims=1)
    return tf.reduce_mean(picked, axis=[1, 2]).numpy()
