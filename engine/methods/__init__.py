"""Explanation methods, one small module per family, and their registry `METHODS`, by the name
the CLI and the GUI use.

`base` defines `Method` (a name, a title, its declared `parameters`, `run(job)`), `Job` and
`RawMaps`; `common` holds the compiled gradient / forward functions and memory-bounded chunks
the methods share. A method returns raw maps at the layer's (or the input's) grid; finishing
them into heatmaps is `engine.maps`' job. Importing the registry loads no TensorFlow: the
modules reach it through the deferred `engine.model.backend` inside functions only.

May import numpy, OpenCV, TensorFlow / Keras (through `engine.model.backend`),
`engine.model`, `engine.images`, `engine.maps`, `engine.params` and `engine.errors`; never
`engine.review`, `engine.session` (the facade above them; tiling over a session is
`engine.tiles`), Qt, pyqtgraph or `gui`.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from engine.methods.ablation import AblationCam
from engine.methods.activation_cams import EigenCam
from engine.methods.base import Job, Method, RawMaps
from engine.methods.gradcam import GradCam
from engine.methods.gradient_cams import (
    GradCamElementWise,
    GradCamPlusPlus,
    HiResCam,
    LayerCam,
    XGradCam,
)
from engine.methods.guided import GuidedBackprop
from engine.methods.integrated import IntegratedGradients
from engine.methods.perturbation import Occlusion, Rise
from engine.methods.saliency import GradientInput, Saliency, SmoothGrad
from engine.methods.scorecam import FasterScoreCam, ScoreCam

METHODS: Mapping[str, type[Method]] = MappingProxyType({  # read-only: extend with `registry`
    cls.name: cls
    for cls in (GradCam, GradCamPlusPlus, ScoreCam, FasterScoreCam, LayerCam, HiResCam, GradCamElementWise,
                XGradCam, EigenCam, AblationCam, Saliency, SmoothGrad, IntegratedGradients, GuidedBackprop,
                GradientInput, Occlusion, Rise)
})


def registry(extra: Mapping[str, type[Method]]) -> Mapping[str, type[Method]]:
    """A read-only registry of the built-in methods and `extra` ones (a Session takes it), leaving
    METHODS as it is."""
    return MappingProxyType({**METHODS, **extra})


__all__ = ["METHODS", "Job", "Method", "RawMaps", "registry"]
