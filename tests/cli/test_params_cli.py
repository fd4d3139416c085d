"""Every declared method parameter and combination is an option of `explain` and of `batch`,
reaches the output's `params`, and is refused in one line when out of range. Parametrised over
the declarations themselves, so a new `Param` is covered without touching this file."""

from __future__ import annotations

import json
import math
from pathlib import Path

import cv2
import numpy as np
import pytest

from cli.params import markdown_table
from engine.maps.combine import COMBINATIONS
from engine.methods import METHODS
from engine.params import Param
from tests.cli_run import refused, run

METHOD_PARAMS = [(name, p) for name, cls in METHODS.items() for p in cls.parameters]
BOUNDED = [(name, p) for name, p in METHOD_PARAMS + [("", c) for c in COMBINATIONS]
           if p.kind in (int, float) and (p.low is not None or p.high is not None)]


def _id(item: tuple[str, Param]) -> str:
    return f"{item[0] or 'combination'}:{item[1].name}"


def other_value(param: Param):
    """A valid value near the default but different from it (cheap: the cost stays the default's)."""
    if param.kind is bool:
        return not param.default
    if param.choices:
        return next(c for c in param.choices if c != param.default)
    high = math.inf if param.high is None else param.high
    low = -math.inf if param.low is None else param.low
    step = 1 if param.kind is int else (0.1 if high - low <= 10 else 1.0)
    up = param.default + step
    value = up if param.high is None or up <= param.high else param.default - step
    return param.check(value)


def option_argv(param: Param, value) -> list[str]:
    """The command-line words giving `value` to `param`."""
    if param.kind is bool:
        return [param.option if value else "--no-" + param.option[2:]]
    return [param.option, str(value)]


def method_for(param: Param) -> str:
    """A method the combination applies to."""
    return next(name for name, cls in METHODS.items() if param.applies(cls.needs_layer) and not cls.parameters)


@pytest.fixture(scope="module")
def lot(tmp_path_factory) -> tuple[Path, Path]:
    """A tiny model and a folder of two labelled images."""
    from tests.models import save_model, tiny_cnn

    root = tmp_path_factory.mktemp("params")
    model = save_model(tiny_cnn((48, 48, 3)), root, "tiny.keras")
    rng = np.random.default_rng(0)
    for label in ("ok", "scratch"):
        (root / "images" / label).mkdir(parents=True)
        cv2.imwrite(str(root / "images" / label / "a.png"), rng.integers(0, 255, (48, 48, 3), dtype=np.uint8))
    return model, root / "images"


def _explain(capsys, lot, method: str, *extra: str) -> dict:
    model, images = lot
    code, out, err = run(capsys, "explain", "--model", model, "--image", images / "ok" / "a.png",
                         "--method", method, "--json", *extra)
    assert code == 0, err
    return json.loads(out)["params"]


def _batch(capsys, lot, out: Path, method: str, *extra: str) -> dict:
    model, images = lot
    code, _out, err = run(capsys, "batch", "--model", model, "--images", images, "--out", out,
                          "--method", method, *extra)
    assert code == 0, err
    return json.loads((out / "summary.json").read_text(encoding="utf-8"))["run"]["params"]


def _same(recorded, value) -> bool:
    return recorded == pytest.approx(value) if isinstance(value, float) else recorded == value


@pytest.mark.parametrize("item", METHOD_PARAMS, ids=_id)
def test_method_parameter_reaches_explain_and_batch(item, lot, tmp_path, capsys):
    method, param = item
    value = other_value(param)
    assert _same(_explain(capsys, lot, method, *option_argv(param, value))[param.name], value)
    assert _same(_batch(capsys, lot, tmp_path / "out", method, *option_argv(param, value))[param.name], value)


@pytest.mark.parametrize("param", COMBINATIONS, ids=lambda p: p.name)
def test_combination_reaches_explain_and_batch(param, lot, tmp_path, capsys):
    value, method = other_value(param), method_for(param)
    params = _explain(capsys, lot, method, *option_argv(param, value))
    assert _same(params[param.name], value)
    assert {p.name for p in COMBINATIONS} <= set(params)  # every combination recorded, default or not
    assert _same(_batch(capsys, lot, tmp_path / "out", method, *option_argv(param, value))[param.name], value)


@pytest.mark.parametrize("item", BOUNDED, ids=_id)
def test_out_of_range_is_refused_in_one_line_naming_the_parameter(item, lot, tmp_path, capsys):
    method, param = item
    method = method or method_for(param)
    value = param.high + 1 if param.high is not None else param.low - 1
    model, images = lot
    words = option_argv(param, param.kind(value))
    for command in (["explain", "--image", images / "ok" / "a.png"], ["batch", "--images", images,
                                                                      "--out", tmp_path / "out"]):
        err = refused(capsys, *command, "--model", model, "--method", method, *words)
        assert param.option[2:] in err and param.allowed() in err
    assert not (tmp_path / "out").exists()  # refused before anything is written


def test_a_parameter_the_method_lacks_is_refused_naming_its_parameters(lot, capsys):
    owner, param = METHOD_PARAMS[0]
    other = next(name for name, cls in METHODS.items() if param not in cls.parameters)
    model, images = lot
    err = refused(capsys, "explain", "--model", model, "--image", images / "ok" / "a.png", "--method", other,
                  *option_argv(param, other_value(param)))
    names = ", ".join(p.option[2:] for p in METHODS[other].parameters) or "none"
    assert f"{other} has no parameter {param.option[2:]} (its parameters: {names})" in err


def test_a_combination_that_does_not_apply_is_refused(lot, capsys):
    model, images = lot
    for param in (p for p in COMBINATIONS if p.applies_to != "any"):
        wrong = next(name for name, cls in METHODS.items() if not param.applies(cls.needs_layer))
        err = refused(capsys, "explain", "--model", model, "--image", images / "ok" / "a.png", "--method", wrong,
                      *option_argv(param, other_value(param)))
        assert param.option in err and wrong in err


def test_help_states_each_default_and_range(capsys):
    code, out, _err = run(capsys, "batch", "--help")
    assert code == 0
    text = " ".join(out.split())
    for _method, param in METHOD_PARAMS + [("", c) for c in COMBINATIONS]:
        assert param.option in text and f"default {param.default_text()}" in text
        if param.kind is not bool:
            assert param.allowed() in text


def test_readme_table_lists_every_declaration():
    table = markdown_table()
    for method, param in METHOD_PARAMS:
        assert f"| `{method}` | {param.name} | `{param.option}` |" in table
    for param in COMBINATIONS:
        assert f"| {param.name} | `{param.option}` |" in table
