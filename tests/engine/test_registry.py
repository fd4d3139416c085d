"""The method registry is read-only: an extra method goes into a registry of its own, given to a
Session, and never changes METHODS for everyone else in the process."""

from __future__ import annotations

import pytest

from engine.methods import METHODS, registry
from engine.methods.gradcam import GradCam
from engine.model.sidecar import Sidecar
from engine.session import Session
from tests.models import tiny_cnn


class Renamed(GradCam):
    name = "renamed-gradcam"


def test_methods_cannot_be_changed_at_run_time():
    with pytest.raises(TypeError):
        METHODS["renamed-gradcam"] = Renamed  # type: ignore[index]
    assert "renamed-gradcam" not in METHODS


def test_a_session_explains_with_the_registry_it_was_given():
    extended = registry({Renamed.name: Renamed})
    assert list(extended)[-1] == Renamed.name and "renamed-gradcam" not in METHODS
    with pytest.raises(TypeError):
        extended["other"] = Renamed  # type: ignore[index]
    session = Session(tiny_cnn(), "tiny.keras", Sidecar(), methods=extended)
    assert isinstance(session.method(Renamed.name), Renamed)
    plain = Session(tiny_cnn(), "tiny.keras", Sidecar())
    with pytest.raises(Exception, match="unknown method 'renamed-gradcam'"):
        plain.method(Renamed.name)
