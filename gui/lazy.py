"""What the window's first paint does not wait for: a tab whose view is built the first time it is
shown (or asked for), and modules imported one per idle pass after the paint."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar

from PySide6.QtCore import QTimer
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


def construct_later(module: str, name: str) -> Callable[[], Any]:
    """A factory for `module.name()` that imports `module` at its first call: a lazy tab whose
    module the first paint does not need either."""
    return lambda: getattr(importlib.import_module(module), name)()


def one_per_pass(steps: Sequence[Callable[[], object]], pause_ms: int = 0,
                 stop: Callable[[], bool] = lambda: False) -> None:
    """Call `steps` in order, one per event-loop pass `pause_ms` apart (the first in the next pass:
    not with what else the current pass has queued), until they are done or `stop()` says so: work
    after the first paint as short stalls, not one long one."""
    pending = list(steps)

    def step() -> None:
        if pending and not stop():
            pending.pop(0)()
            if pending:
                QTimer.singleShot(pause_ms, step)

    QTimer.singleShot(pause_ms, step)


def import_when_idle(modules: Sequence[str], pause_ms: int = 0) -> None:
    """Import `modules`, one per event-loop pass `pause_ms` apart (the first after a pause): what the
    first paint does not need but a later click would otherwise wait for."""
    one_per_pass([lambda name=name: importlib.import_module(name) for name in modules], pause_ms)
