"""A tab whose view is built the first time it is shown (or asked for), not with the window:
the window's first paint waits only for the tabs it shows."""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import QVBoxLayout, QWidget

View = TypeVar("View", bound=QWidget)


class LazyTab(QWidget, Generic[View]):
    """An empty page that builds its view with `make` at its first show or first `view` access,
    then hands it to `built` (the window connects it there) and holds it."""

    def __init__(self, make: Callable[[], View], built: Callable[[View], None] = lambda _view: None) -> None:
        super().__init__()
        self._make, self._built = make, built
        self._view: View | None = None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)

    @property
    def is_built(self) -> bool:
        """Whether the view exists yet."""
        return self._view is not None

    @property
    def view(self) -> View:
        """The view, built now if it was not."""
        if self._view is None:
            self._view = self._make()
            self.layout().addWidget(self._view)
            self._built(self._view)
        return self._view

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 - Qt's name
        """Build the view before the page paints for the first time."""
        self.view  # noqa: B018 - the property builds
        super().showEvent(event)
