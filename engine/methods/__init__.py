"""The registry of explanation methods, by the name the CLI and the GUI use."""

from __future__ import annotations

from .base import Job, Method, RawMaps
from .gradcam import GradCam
from .gradient_cams import GradCamPlusPlus, LayerCam
from .guided import GuidedBackprop
from .integrated import IntegratedGradients
from .saliency import Saliency, SmoothGrad
from .scorecam import FasterScoreCam, ScoreCam

METHODS: dict[str, type[Method]] = {
    cls.name: cls
    for cls in (GradCam, GradCamPlusPlus, ScoreCam, FasterScoreCam, LayerCam, Saliency, SmoothGrad,
                IntegratedGradients, GuidedBackprop)
}

__all__ = ["METHODS", "Job", "Method", "RawMaps"]
