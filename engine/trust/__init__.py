"""Can a map be trusted, and is the model right for the right reason?

This package holds the trust checks of ConvScope, all GUI-free (no Qt, no pyqtgraph):

- :mod:`faithfulness`: deletion / insertion curves (Petsiuk et al. 2018) against a random
  order and the Sobel edge map as controls;
- :mod:`sanity`: the cascading model-parameter randomisation test (Adebayo et al. 2018),
  run on a copy of the model;
- :mod:`removal`: painting a defect out (OpenCV inpainting) and predicting again;
- :mod:`localisation`: threshold-free localisation, pixel AUROC and AUPRO (Bergmann et al. 2021);
- :mod:`verdict`: per-image flags and per-class / per-lot verdicts with their sentence;
- :mod:`review`: the trust columns of a lot review (used by engine.review.runner) and the
  summary's `trust` object;
- :mod:`cli_text`: plain-text lines of these results for the command line.

It may import numpy, scipy, scikit-image, OpenCV, the rest of `engine` and, inside
functions only, TensorFlow / Keras (through engine.model.backend), so that importing it
loads no TensorFlow.
"""

from __future__ import annotations
