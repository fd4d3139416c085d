"""Parameters declared as data: one declaration gives validation, command-line options, the
window's controls, the `params` written to outputs and the README's table.

A method (or the set of map combinations, engine.maps.combine.COMBINATIONS) lists its
parameters as `Param` values beside its code; nothing else restates a name, a default or a
range. Imports numpy and engine.errors only.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from engine.errors import MethodError


@dataclass(frozen=True)
class Scope:
    """Which methods a parameter applies to, in words: `phrase` in a sentence (its str), `short` as
    a table's heading (the README's parameter table)."""

    phrase: str
    short: str

    def __str__(self) -> str:
        return self.phrase


# Which methods a parameter (a map combination) applies to: "cam" = methods on a layer
# (needs_layer), "gradient" = methods on the input image, "any" = every method.
APPLIES_TO = {"any": Scope("every method", "every method"), "cam": Scope("CAMs", "CAMs"),
              "gradient": Scope("methods on the input (not CAMs)", "input methods")}


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
    applies_to: str = "any"  # see APPLIES_TO

    def __post_init__(self) -> None:
        if self.applies_to not in APPLIES_TO:
            raise ValueError(f"{self.name}: applies_to must be one of {', '.join(APPLIES_TO)}")
        if self.default is not None:
            self.check(self.default, "declaration")

    @property
    def option(self) -> str:
        """The command-line option: `--top-n` for `top_n`."""
        return "--" + self.name.replace("_", "-")

    @property
    def label(self) -> str:
        """The name in words, for the window: `top n` for `top_n`."""
        return self.name.replace("_", " ")

    def applies(self, is_cam: bool) -> bool:
        """Whether the parameter applies to a CAM (is_cam) or to a method on the input."""
        return self.applies_to == "any" or (self.applies_to == "cam") == is_cam

    def default_text(self) -> str:
        """The default in words: `off` for False or None."""
        if self.default is None or self.default is False:
            return "off"
        if self.default is True:
            return "on"
        return _plain(self.default) if isinstance(self.default, (int, float)) else str(self.default)

    def allowed(self) -> str:
        """The allowed values in words, for help texts and error messages."""
        if self.kind is bool:
            return "true or false"
        if self.choices:
            return "one of " + ", ".join(self.choices)
        if self.kind is str:
            return "text"
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
        if value is None and self.default is None and self.kind is str:
            return None
        if self.kind is str:
            if isinstance(value, str) and (not self.choices or value in self.choices):
                return value
            return self._refuse(value, owner)
        whole = isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))
        if not (whole or (self.kind is float and isinstance(value, (float, np.floating)))):
            return self._refuse(value, owner)
        number = float(value)
        if not np.isfinite(number) or (self.low is not None and number < self.low) or \
                (self.high is not None and number > self.high):
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
        raise MethodError(f"{owner} has no parameter {', '.join(u.replace('_', '-') for u in unknown)} "
                          f"(its parameters: {names})")
    return {name: p.check(given.get(name, p.default), owner) for name, p in by_name.items()}


def changed(declared: Iterable[Param], values: Mapping[str, Any]) -> dict[str, Any]:
    """The values that differ from their declared defaults (names not declared are dropped)."""
    return {p.name: values[p.name] for p in declared if p.name in values and values[p.name] != p.default}
