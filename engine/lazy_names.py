"""A package's public names imported from their modules on first use (PEP 562), so importing
one light submodule does not load every sibling (the window needs a few at start-up)."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any


def lazy_exports(package: str, modules: dict[str, tuple[str, ...]], namespace: dict[str, Any]) -> Callable[[str], Any]:
    """The module `__getattr__` for `package`: each name of `modules` (module -> names) is
    imported from its module when first asked for, then kept in `namespace` (the package's
    globals) so later look-ups skip this function."""
    homes = {name: module for module, names in modules.items() for name in names}

    def __getattr__(name: str) -> Any:
        if name not in homes:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(homes[name]), name)
        namespace[name] = value
        return value

    return __getattr__
