"""Models: loading safely, the sidecar, the layer list, output heads and the replayed graph.

Everything that knows how a Keras model file becomes something the methods can ask for
activations and scores lives here: `loading` (safe opening of `.keras` / `.h5`), `sidecar`
(`<model>.convscope.json`), `layers` (the `model.summary()` list and target resolution),
`heads` (logits, probabilities, one-unit sigmoid heads), `probe` (a replayed copy of the
graph exposing inner layers), `context` (one loaded model and its compiled-function cache)
`backend` (the one place TensorFlow / Keras are imported, deferred to first use) and
`keras_private` (every use of Keras internals, `keras.src` and underscore methods, with why).
May import numpy, TensorFlow / Keras (through `backend`), `engine.errors`,
`engine.images.preprocessing`; never Qt, pyqtgraph or `gui`.
"""
