"""The registry of explanation methods, by the name the CLI and the GUI use."""

from __future__ import annotations

from engine.methods.base import Job, Method, RawMaps
from engine.methods.gradcam import GradCam
from engine.methods.gradient_cams import GradCamPlusPlus, LayerCam
from engine.methods.guided import GuidedBackprop
from engine.methods.integrated import IntegratedGradients
from engine.methods.saliency import Saliency, SmoothGrad
from engine.methods.scorecam import FasterScoreCam, ScoreCam

METHODS: dict[str, type[Method]] = {
    cls.name: cls
    for cls in (GradCam, GradCamPlusPlus, ScoreCam, FasterScoreCam, LayerCam, Saliency, SmoothGrad,
                IntegratedGradients, GuidedBackprop)
}

__all__ = ["METHODS", "Job", "Method", "RawMaps"]
