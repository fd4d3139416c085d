"""engine.params and engine.maps.combine.check_request: the declarations check values, name the
parameter and its range, and refuse what a method does not declare or a combination that does
not apply."""

from __future__ import annotations

import numpy as np
import pytest

from engine.errors import MethodError
from engine.maps.combine import COMBINATIONS, check_request
from engine.methods import METHODS
from engine.params import Param, changed, check_params


def test_check_converts_and_refuses_with_the_range():
    level = Param("level", float, 0.5, "a level", low=0.0, high=1.0)
    assert level.check(1) == 1.0 and isinstance(level.check(np.float32(0.25)), float)
    count = Param("count", int, 3, "a count", low=1)
    assert count.check(np.int64(7)) == 7 and isinstance(count.check(np.int64(7)), int)
    for param, bad in ((level, 1.5), (level, float("nan")), (level, True), (level, "0.3"), (count, 2.0),
                       (count, 0), (count, False)):
        with pytest.raises(MethodError, match=f"m: {param.name} must be {param.allowed()}, not "):
            param.check(bad, "m")
    sign = Param("sign", str, None, "a sign", choices=("positive", "negative"))
    assert sign.check(None) is None and sign.check("negative") == "negative"
    with pytest.raises(MethodError, match="one of positive, negative"):
        sign.check("up")


def test_a_declaration_with_a_bad_default_or_scope_is_refused_at_once():
    with pytest.raises(MethodError):
        Param("n", int, 0, "count", low=1)
    with pytest.raises(ValueError, match="applies_to"):
        Param("n", int, 1, "count", applies_to="layers")


def test_every_declared_default_is_valid_and_options_are_unique():
    declared = [p for cls in METHODS.values() for p in cls.parameters] + list(COMBINATIONS)
    for param in declared:
        assert param.check(param.default) == param.default and param.help
    combination_names = {p.name for p in COMBINATIONS}
    assert not combination_names & {p.name for cls in METHODS.values() for p in cls.parameters}


def test_check_request_fills_defaults_and_refuses_in_one_line():
    values, options = check_request(METHODS["smoothgrad"], {"samples": 3, "emphasize": True})
    assert values == {**check_params(METHODS["smoothgrad"].parameters, {}, "smoothgrad"), "samples": 3}
    assert options["emphasize"] is True and changed(COMBINATIONS, options) == {"emphasize": True}
    with pytest.raises(MethodError, match=r"gradcam has no parameter samples \(its parameters: none\)"):
        check_request(METHODS["gradcam"], {"samples": 3})
    with pytest.raises(MethodError, match="--guided applies to CAMs; saliency is not a CAM"):
        check_request(METHODS["saliency"], {"guided": True})
    with pytest.raises(MethodError, match="--polarity applies to .*; gradcam is a CAM"):
        check_request(METHODS["gradcam"], {"polarity": "negative"})
    with pytest.raises(MethodError, match="clip-below"):
        check_request(METHODS["saliency"], {"clip_percentile": 50.0, "clip_below": 50.0})
