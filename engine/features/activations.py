"""A layer's activations (feature maps) for one image."""

from __future__ import annotations

import numpy as np

from engine.errors import LayerError
from engine.images.decoding import LoadedImage
from engine.model.layers import LayerInfo, not_a_target, resolve_layer


def feature_layer(session, layer: str) -> LayerInfo:
    """The named layer (path or unique name) if it has a 4-D output; LayerError otherwise."""
    if getattr(session, "black_box", False):
        session.layer(layer)  # an export's operators cannot be read: refused with what works instead
    info = resolve_layer(session.info.layers, layer)
    if len(info.output_shape) != 4 or info.type == "InputLayer":
        raise LayerError(not_a_target(info, "feature views"))
    return info


def activations(session, image: LoadedImage, layer: str, output: int = 0) -> np.ndarray:
    """The layer's feature maps for the image: (h, w, C) float32."""
    output = session.check_output(output)
    path = feature_layer(session, layer).path
    context = session.context

    def build():
        from engine.model.backend import tf

        probe = context.probe((path,), output)

        @tf.function(input_signature=[context.input_spec()])
        def run(x):
            return tf.cast(probe(x, training=False)[0], tf.float32)

        return run

    run = context.cached(("features/activations", path, output), build)
    return run(session.model_input(image)[None]).numpy()[0]
