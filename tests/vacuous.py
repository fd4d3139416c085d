"""Find test functions that assert nothing (issue 24 item 5).

    python tests/vacuous.py          # lists them, exit 1 if any

A test function (``test_*`` in ``tests/**/test_*.py``) checks something when its body,
nested functions included, has one of:

- an ``assert`` statement;
- ``pytest.raises`` / ``pytest.warns`` / ``pytest.deprecated_call`` / ``pytest.fail``;
- a pytest-qt wait that fails on timeout (``qtbot.waitUntil``, ``waitSignal(s)``,
  ``waitCallback``, ``waitExposed``, ``waitActive``; a bare ``qtbot.wait(ms)`` only sleeps);
- a call to an assert helper: any callable named ``assert*`` / ``_assert*`` (numpy.testing,
  unittest), or one of :data:`KNOWN_HELPERS`, helpers under tests/ whose job is to check a
  result (each must itself check something by these rules: :func:`unchecked_helpers`).

A helper that merely asserts a precondition while building data (an ``encode`` that asserts
the PNG was written) does not count: a test that only calls it checks nothing of the product.
Everything else, a test that only runs code and would pass whatever it returned, is reported.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from pathlib import Path

TESTS = Path(__file__).resolve().parent
PYTEST_CHECKS = {"raises", "warns", "deprecated_call", "fail"}
QT_WAITS = {"waitUntil", "waitSignal", "waitSignals", "waitCallback", "waitExposed", "waitActive"}
# Helpers under tests/ that check a result of the product (not a precondition of the data).
KNOWN_HELPERS = {
    "refused",  # tests/cli_run.py: exit 2, one stderr line, no traceback
    "_check",  # tests/engine/test_images.py: shape, dtype and the display copy of a decoded image
    "_crash_and_recover",  # tests/gui/test_engine_process.py: one error line, then a new engine
}


def _called_name(call: ast.Call) -> tuple[str | None, str]:
    """(object name or None, function name) of a call such as pytest.raises(...) or check(...)."""
    func = call.func
    if isinstance(func, ast.Attribute):
        owner = func.value.id if isinstance(func.value, ast.Name) else None
        return owner, func.attr
    if isinstance(func, ast.Name):
        return None, func.id
    return None, ""


def _checks_directly(node: ast.AST) -> bool:
    """True when this node is an assert, a pytest check or a failing Qt wait."""
    if isinstance(node, ast.Assert):
        return True
    if isinstance(node, ast.Call):
        owner, name = _called_name(node)
        return ((owner == "pytest" and name in PYTEST_CHECKS) or name in QT_WAITS
                or name.lstrip("_").startswith("assert"))
    return False


def _called_names(function: ast.AST) -> set[str]:
    return {_called_name(n)[1] for n in ast.walk(function) if isinstance(n, ast.Call)}


def _functions(tree: ast.AST) -> Iterator[ast.FunctionDef | ast.AsyncFunctionDef]:
    yield from (n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef))


def _parsed(root: Path) -> dict[Path, ast.AST]:
    return {path: ast.parse(path.read_text(encoding="utf-8")) for path in sorted(root.rglob("*.py"))}


def _checks(function: ast.AST) -> bool:
    """True when the function checks something: directly, or through a known helper."""
    return any(_checks_directly(n) for n in ast.walk(function)) or bool(_called_names(function) & KNOWN_HELPERS)


def unchecked_helpers(root: Path = TESTS) -> list[str]:
    """KNOWN_HELPERS that are missing under `root` or do not check anything themselves."""
    defined: dict[str, list[ast.AST]] = {name: [] for name in KNOWN_HELPERS}
    for tree in _parsed(root).values():
        for function in _functions(tree):
            if function.name in defined:
                defined[function.name].append(function)
    return sorted(name for name, fs in defined.items() if not fs or not all(_checks(f) for f in fs))


def vacuous_tests(root: Path = TESTS) -> list[str]:
    """'path::name' of every test function under `root` that checks nothing."""
    found = []
    for path, tree in _parsed(root).items():
        if not path.name.startswith("test_"):
            continue
        found += [f"{path.relative_to(root.parent).as_posix()}::{function.name}"
                  for function in _functions(tree) if function.name.startswith("test_") and not _checks(function)]
    return found


if __name__ == "__main__":
    empty = vacuous_tests() + [f"KNOWN_HELPERS: {name} checks nothing" for name in unchecked_helpers()]
    print("\n".join(empty) or "every test function checks something")
    sys.exit(1 if empty else 0)
