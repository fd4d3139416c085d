"""The registry of explanation methods, by the name the CLI and the GUI use."""

from __future__ import annotations

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

METHODS: dict[str, type[Method]] = {
    cls.name: cls
    for cls in (GradCam, GradCamPlusPlus, ScoreCam, FasterScoreCam, LayerCam, HiResCam, GradCamElementWise,
                XGradCam, EigenCam, AblationCam, Saliency, SmoothGrad, IntegratedGradients, GuidedBackprop,
                GradientInput, Occlusion, Rise)
}

__all__ = ["METHODS", "Job", "Method", "RawMaps"]
