"""Feature views: a layer's activations for an image and filter patterns by gradient ascent.

`activations` reads the feature maps of any 4-D layer; `patterns` optimises inputs that
maximise filters (seed 002), all filters of a grid in one batch. May import numpy, OpenCV,
TensorFlow (through `engine.model.backend`), `engine.model`, `engine.images`, `engine.maps`;
never Qt or `gui`.
"""
