"""The methods a user can choose, as the CLI, the window and the README name them: each
registry name, its title, whether it needs a layer, runs on a black-box export, what its map's
zero means and whether it is about a class (engine.methods.METHODS)."""

from __future__ import annotations

import pytest

from engine.methods import METHODS, registry
from engine.methods.base import Method

# name: (title, needs a layer, gradient-free, floor, class-agnostic)
EXPECTED = {
    "gradcam": ("Grad-CAM", True, False, "zero", False),
    "gradcam++": ("Grad-CAM++", True, False, "zero", False),
    "scorecam": ("Score-CAM", True, False, "zero", False),
    "faster-scorecam": ("Faster Score-CAM", True, False, "zero", False),
    "layercam": ("LayerCAM", True, False, "zero", False),
    "hirescam": ("HiResCAM", True, False, "zero", False),
    "gradcam-elementwise": ("Grad-CAM element-wise", True, False, "zero", False),
    "xgradcam": ("XGrad-CAM", True, False, "zero", False),
    "eigencam": ("Eigen-CAM", True, False, "zero", True),
    "ablationcam": ("Ablation-CAM", True, False, "zero", False),
    "saliency": ("Saliency (gradients)", False, False, "zero", False),
    "smoothgrad": ("SmoothGrad", False, False, "zero", False),
    "integrated-gradients": ("Integrated Gradients", False, False, "zero", False),
    "guided-backprop": ("Guided Backpropagation", False, False, "zero", False),
    "gradient-input": ("Gradient x Input", False, False, "zero", False),
    "occlusion": ("Occlusion", False, True, "zero", False),
    "rise": ("RISE", False, True, "min", False),
}


def test_every_method_is_registered_under_its_name_with_its_description():
    assert list(METHODS) == list(EXPECTED)
    for name, cls in METHODS.items():
        assert cls.name == name
        assert (cls.title, cls.needs_layer, cls.gradient_free, cls.floor, cls.class_agnostic) == EXPECTED[name], name


def test_the_registry_is_read_only_and_extended_without_changing_it():
    class Extra(Method):
        name, title, needs_layer = "extra", "Extra", False

    with pytest.raises(TypeError):
        METHODS["extra"] = Extra  # type: ignore[index]
    extended = registry({"extra": Extra})
    assert list(extended) == [*EXPECTED, "extra"] and "extra" not in METHODS
    with pytest.raises(TypeError):
        extended["other"] = Extra  # type: ignore[index]
