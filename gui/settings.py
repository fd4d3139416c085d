"""What the window remembers between runs, kept in QSettings.

Tests inject a QSettings on an INI file in a temporary folder (`make_settings(path)`), so
they never touch the user's own settings.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from engine.review.metrics import DEFAULT_THRESHOLD, DEFAULT_TOLERANCE
from PySide6.QtCore import QSettings

ORGANISATION = "ConvScope"
APPLICATION = "ConvScope"
RECENT_LIMIT = 8

# key -> default; the type of the default is the type read back
DEFAULTS: dict[str, Any] = {
    "model": "",
    "folder": "",
    "image": "",
    "layer": "",
    "method": "gradcam",
    "colormap": "jet",
    "opacity": 0.45,
    "threshold": 0.0,
    "outline": False,
    "view_mode": "overlay",
    "compare_mode": "methods",
    "misclassified_only": False,
    "sort": "name",
    "mask_outline": True,
    "review_target": "predicted",
    "review_tolerance": float(DEFAULT_TOLERANCE),
    "review_threshold": DEFAULT_THRESHOLD,
    "review_report_folder": "",
}


def make_settings(path: str | Path | None = None) -> QSettings:
    """The user's settings, or an INI file at `path` (for tests and portable use)."""
    if path is not None:
        return QSettings(str(path), QSettings.Format.IniFormat)
    return QSettings(QSettings.Format.IniFormat, QSettings.Scope.UserScope, ORGANISATION, APPLICATION)


class Settings:
    """Typed access to the remembered values."""

    def __init__(self, store: QSettings) -> None:
        self.store = store

    def get(self, key: str) -> Any:
        """The stored value converted to the default's type (the default when missing or bad)."""
        default = DEFAULTS[key]
        value = self.store.value(key, default)
        try:
            if isinstance(default, bool):
                return value if isinstance(value, bool) else str(value).lower() in ("true", "1", "yes")
            return type(default)(value)
        except (TypeError, ValueError):
            return default

    def set(self, key: str, value: Any) -> None:
        """Remember a value."""
        self.store.setValue(key, value)

    def recent(self, kind: str) -> list[str]:
        """Recently opened models or folders ("models" / "folders"), newest first."""
        value = self.store.value(f"recent_{kind}", [])
        if isinstance(value, str):
            value = [value] if value else []
        return [str(v) for v in value or []]

    def add_recent(self, kind: str, path: str) -> list[str]:
        """Put `path` first in a recent list and return the list."""
        items = [path] + [p for p in self.recent(kind) if p != path]
        items = items[:RECENT_LIMIT]
        self.store.setValue(f"recent_{kind}", items)
        return items

    def sync(self) -> None:
        """Write to disk now."""
        self.store.sync()
