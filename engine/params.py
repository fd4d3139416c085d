"""Parameters declared as data: one declaration gives validation, command-line options, the
window's controls, the `params` written to outputs and the README's table.

A method (or the set of map combinations) lists its parameters as `Param` values beside its
code; nothing else restates a name, a default or a range.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from engine.errors import MethodError


@dataclass(frozen=True)
class Param:
    """One parameter: its name (snake_case), type, default, allowed values and one-line help."""

    name: str
    kind: type  # int, float, bool or str
    default: Any
    help: str
    low: float | None = None
    high: float | None = None
    choices: tuple[str, ...] = ()  # for kind=str; default None means "off" when allowed

    @property
    def option(self) -> str:
        """The command-line option: `--top-n` for `top_n`."""
        return "--" + self.name.replace("_", "-")

    def allowed(self) -> str:
        """The allowed values in words, for help texts and error messages."""
        if self.kind is bool:
            return "true or false"
        if self.choices:
            return "one of " + ", ".join(self.choices)
        kind = "a whole number" if self.kind is int else "a number"
        if self.low is not None and self.high is not None:
            return f"{kind} between {_plain(self.low)} and {_plain(self.high)}"
        if self.low is not None:
            return f"{kind} of at least {_plain(self.low)}"
        if self.high is not None:
            return f"{kind} of at most {_plain(self.high)}"
        return kind

    def check(self, value: Any, owner: str = "") -> Any:
        """The value converted to the declared type; MethodError naming the parameter otherwise."""
        if self.kind is bool:
            if isinstance(value, (bool, np.bool_)):
                return bool(value)
            return self._refuse(value, owner)
        if self.choices:
            if value is None and self.default is None:
                return None
            if value in self.choices:
                return str(value)
            return self._refuse(value, owner)
        kinds: tuple[type, ...] = (int, np.integer) if self.kind is int else (int, float, np.integer, np.floating)
        if isinstance(value, bool) or not isinstance(value, kinds) or not np.isfinite(value):
            return self._refuse(value, owner)
        if (self.low is not None and value < self.low) or (self.high is not None and value > self.high):
            return self._refuse(value, owner)
        return self.kind(value)

    def _refuse(self, value: Any, owner: str) -> Any:
        prefix = f"{owner}: " if owner else ""
        raise MethodError(f"{prefix}{self.option[2:]} must be {self.allowed()}, not {value!r}")


def _plain(number: float) -> str:
    return str(int(number)) if float(number).is_integer() else str(number)


def check_params(declared: Iterable[Param], given: Mapping[str, Any], owner: str) -> dict[str, Any]:
    """Every declared parameter's value (given or default), checked; unknown names refused."""
    by_name = {p.name: p for p in declared}
    unknown = sorted(set(given) - set(by_name))
    if unknown:
        names = ", ".join(p.option[2:] for p in by_name.values()) or "none"
        raise MethodError(f"{owner} has no parameter {', '.join(unknown)} (its parameters: {names})")
    return {name: p.check(given.get(name, p.default), owner) for name, p in by_name.items()}


def defaults(declared: Iterable[Param]) -> dict[str, Any]:
    """{name: default} of the declared parameters."""
    return {p.name: p.default for p in declared}
