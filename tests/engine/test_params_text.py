"""What a declared parameter says to the user (engine.params): the option name, the label in
the window, the default and the allowed values in help texts and errors, and which
parameters apply to which kind of method.

Bugs guarded against: an option spelt with underscores, a default shown as "True" or "0.0",
a one-sided range described as two-sided (or the wrong side), a CAM-only combination
offered for saliency, and `changed` reporting defaults or names it does not declare.
"""

from __future__ import annotations

import numpy as np
import pytest

from engine.errors import MethodError
from engine.params import Param, changed, check_params

LEVEL = Param("clip_level", float, 0.5, "a level", low=0.0, high=1.0)
COUNT = Param("top_n", int, 10, "a count", low=1)
CAP = Param("max_side", int, 64, "a cap", high=4096)
FREE = Param("offset", float, 2.5, "any number")
WHOLE = Param("shift", int, 0, "any whole number")
FLAG = Param("edges", bool, False, "a switch", applies_to="cam")
ON = Param("smooth", bool, True, "a switch", applies_to="gradient")
SIGN = Param("polarity", str, None, "a sign", choices=("positive", "negative"))
TEXT = Param("fuse", str, "all", "free text")


def test_option_and_label_come_from_the_name():
    assert (LEVEL.option, LEVEL.label) == ("--clip-level", "clip level")
    assert (COUNT.option, COUNT.label) == ("--top-n", "top n")


@pytest.mark.parametrize("param, text", [(LEVEL, "0.5"), (COUNT, "10"), (FLAG, "off"), (ON, "on"), (SIGN, "off"),
                                         (TEXT, "all"), (Param("x", float, 3.0, "h"), "3"), (WHOLE, "0")])
def test_default_in_words(param, text):
    assert param.default_text() == text


@pytest.mark.parametrize("param, text", [
    (LEVEL, "a number between 0 and 1"), (COUNT, "a whole number of at least 1"),
    (CAP, "a whole number of at most 4096"), (FREE, "a number"), (WHOLE, "a whole number"),
    (FLAG, "true or false"), (SIGN, "one of positive, negative"), (TEXT, "text"),
    (Param("tol", float, 0.25, "h", low=0.05, high=2.5), "a number between 0.05 and 2.5"),
])
def test_allowed_values_in_words(param, text):
    assert param.allowed() == text


def test_an_error_names_owner_option_range_and_value():
    with pytest.raises(MethodError, match=r"^rise: top-n must be a whole number of at least 1, not 0$"):
        COUNT.check(0, "rise")
    with pytest.raises(MethodError, match=r"^max-side must be a whole number of at most 4096, not 5000$"):
        CAP.check(5000)
    with pytest.raises(MethodError, match=r"^fuse must be text, not 3$"):
        TEXT.check(3)


def test_unbounded_numbers_accept_any_finite_value_only():
    assert FREE.check(-1e300) == -1e300 and WHOLE.check(-7) == -7
    for bad in (float("inf"), float("-inf"), float("nan")):
        with pytest.raises(MethodError):
            FREE.check(bad)


def test_which_methods_a_parameter_applies_to():
    assert FLAG.applies(is_cam=True) and not FLAG.applies(is_cam=False)
    assert ON.applies(is_cam=False) and not ON.applies(is_cam=True)
    assert LEVEL.applies(is_cam=True) and LEVEL.applies(is_cam=False)


def test_defaults_changed_and_unknown_names():
    declared = (LEVEL, COUNT, FLAG)
    assert check_params(declared, {}, "m") == {"clip_level": 0.5, "top_n": 10, "edges": False}  # the defaults
    assert changed(declared, {"clip_level": 0.5, "top_n": 3, "other": 1}) == {"top_n": 3}
    assert changed(declared, {}) == {}
    with pytest.raises(MethodError, match=r"^m has no parameter bad-name, worse \(its parameters: clip-level, top-n, edges\)$"):
        check_params(declared, {"bad_name": 1, "worse": 2}, "m")
    assert check_params(declared, {"top_n": 4}, "m") == {"clip_level": 0.5, "top_n": 4, "edges": False}


def test_a_bad_declaration_says_what_is_wrong_at_import():
    with pytest.raises(MethodError, match=r"^declaration: n must be a whole number of at least 1, not 0$"):
        Param("n", int, 0, "count", low=1)
    with pytest.raises(ValueError, match=r"^n: applies_to must be one of any, cam, gradient$"):
        Param("n", int, 1, "count", applies_to="layers")


def test_check_params_names_the_method_in_a_refused_value():
    with pytest.raises(MethodError, match=r"^smoothgrad: top-n must be a whole number of at least 1, not 0$"):
        check_params((COUNT,), {"top_n": 0}, "smoothgrad")


def test_values_of_the_wrong_kind_are_refused_and_numpy_scalars_accepted():
    assert FLAG.check(np.bool_(True)) is True and SIGN.check(None) is None
    assert LEVEL.check(np.float64(0.25)) == 0.25 and COUNT.check(np.int32(5)) == 5
    for param, bad in ((TEXT, None), (COUNT, None), (LEVEL, None), (FLAG, None), (FLAG, 1), (FLAG, "true"),
                       (COUNT, np.bool_(True)), (COUNT, True), (LEVEL, np.bool_(False)), (COUNT, 2.5),
                       (LEVEL, "0.5"), (SIGN, 3)):
        with pytest.raises(MethodError, match=param.option[2:]):
            param.check(bad, "m")
