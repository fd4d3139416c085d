"""The registry of explanation methods, by the name the CLI and the GUI use."""

from __future__ import annotations

from .base import Job, Method, RawMaps
from .gradcam import GradCam

METHODS: dict[str, type[Method]] = {cls.name: cls for cls in (GradCam,)}

__all__ = ["METHODS", "Job", "Method", "RawMaps"]
