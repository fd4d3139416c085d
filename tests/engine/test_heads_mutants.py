"""What a model output means (engine.model.heads): softmax, one-unit sigmoid and independent
sigmoid probabilities, the per-class logits of a one-unit head, and which classes count as
defects when a lot's verdict is taken."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from engine.model.heads import OK_NAMES, SQUASHING, Head, activation_name, defect_classes


def test_a_one_unit_head_is_two_classes() -> None:
    assert SQUASHING == ("softmax", "sigmoid")
    assert Head("sigmoid", 1).binary and Head("sigmoid", 1).class_count == 2
    assert not Head("softmax", 2).binary and Head("softmax", 2).class_count == 2
    assert Head("linear", 5).class_count == 5


def test_one_unit_logits_become_minus_logit_and_logit() -> None:
    logits = np.array([[1.5], [-2.0]], np.float32)
    np.testing.assert_array_equal(Head("sigmoid", 1).class_logits(logits), [[-1.5, 1.5], [2.0, -2.0]])
    many = np.array([[1.0, 2.0, 3.0]])
    assert Head("softmax", 3).class_logits(many) is many


def test_one_unit_probabilities_are_one_minus_p_and_p() -> None:
    probabilities = Head("sigmoid", 1).probabilities(np.array([[0.0], [np.log(3.0)]]))
    np.testing.assert_allclose(probabilities, [[0.5, 0.5], [0.25, 0.75]])


def test_softmax_probabilities_sum_to_one_even_for_huge_logits() -> None:
    probabilities = Head("softmax", 3).probabilities(np.array([[0.0, np.log(2.0), np.log(5.0)], [1000.0, 0.0, 0.0]]))
    np.testing.assert_allclose(probabilities, [[0.125, 0.25, 0.625], [1.0, 0.0, 0.0]], atol=1e-12)
    np.testing.assert_allclose(Head("linear", 2).probabilities(np.array([[0.0, 0.0]])), [[0.5, 0.5]])


def test_multi_unit_sigmoid_classes_are_independent() -> None:
    probabilities = Head("sigmoid", 2).probabilities(np.array([[0.0, np.log(3.0)]], np.float32))
    np.testing.assert_allclose(probabilities, [[0.5, 0.75]])
    assert probabilities.dtype == np.float64


class Softmax:
    pass


def test_activation_names() -> None:
    assert activation_name(Softmax()) == "softmax"
    assert activation_name(SimpleNamespace()) == "linear"
    assert activation_name(SimpleNamespace(activation=None)) == "linear"
    assert activation_name(SimpleNamespace(activation="relu")) == "relu"

    def sigmoid(x: float) -> float:
        return x

    assert activation_name(SimpleNamespace(activation=sigmoid)) == "sigmoid"
    assert activation_name(SimpleNamespace(activation=object())) == "linear"


@pytest.mark.parametrize(("names", "binary", "expected"), [
    (("ok", "scratch", "spot"), False, [1, 2]),
    (("Good", "No-Defect", "crack"), False, [2]),
    ((" NORMAL ", "Non Defective", "dent"), False, [2]),
    (("scratch", "spot"), False, [0, 1]),  # no good class named: every class
    (("neg", "pos"), True, [1]),  # a one-unit model without a good name: class 1
    (("ok", "defect"), True, [1]),
    (("ok", "good"), False, [0, 1]),  # only good classes: every class
])
def test_defect_classes(names: tuple[str, ...], binary: bool, expected: list[int]) -> None:
    assert defect_classes(names, binary).tolist() == expected


def test_good_names_are_the_documented_ones() -> None:
    assert OK_NAMES == {"ok", "good", "normal", "pass", "clean", "background", "negative", "no_defect", "nodefect",
                        "defect_free", "non_defective"}
    assert defect_classes(("ok", "x")).tolist() == [1]


def test_without_saying_so_a_model_is_not_one_unit() -> None:
    assert defect_classes(("scratch", "spot", "dent")).tolist() == [0, 1, 2]
