"""Start-up (issue 20, item 13): what the first paint does not need waits. The Trust tab's three
pyqtgraph plots (about half of the window's construction) are made one by one after the first
paint, or at once when the tab is shown or gets a result before that; the first folder is listed
after the first paint. (The times themselves: `python -m bench.startup`, `bench.responsiveness`.)"""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtWidgets import QApplication

from .conftest import open_window


def test_the_trust_plots_are_made_after_the_first_paint_while_idle(qtbot, settings):
    window = open_window(qtbot, settings, wait=False)
    try:
        view = window.trust
        assert view.findChildren(pg.PlotWidget) == []  # none before the first paint
        qtbot.waitUntil(lambda: len(view.findChildren(pg.PlotWidget)) == 3, timeout=10_000)  # made while idle
        assert window.current_tab() == "heatmap"  # without the tab being shown
        window.show_tab("trust")
        QApplication.processEvents()
        assert {view.deletion, view.insertion, view.similarity} == set(view.findChildren(pg.PlotWidget))
        assert all(plot.isVisible() for plot in view.findChildren(pg.PlotWidget))
    finally:
        window.close()


def test_a_trust_tab_shown_before_its_plots_are_made_makes_them_at_once(qtbot):
    from gui.trust.view import TrustView

    view = TrustView()
    qtbot.addWidget(view)
    assert view.findChildren(pg.PlotWidget) == []
    view.show()
    plots = view.findChildren(pg.PlotWidget)
    assert len(plots) == 3 and all(plot.isVisible() for plot in plots)
    assert view.plots_built


def test_a_result_for_a_never_shown_trust_tab_makes_its_plots(qtbot):
    import numpy as np
    from gui.trust.requests import TrustResult
    from gui.trust.view import TrustView

    from .test_trust_view import _faithfulness, _request

    view = TrustView()
    qtbot.addWidget(view)
    view.reset()  # before any plot: nothing to clear, no error
    display = np.zeros((40, 40, 3), np.uint8)
    view.show_result(TrustResult(_request(), "scratch", _faithfulness(), display))
    assert len(view.deletion.getPlotItem().listDataItems()) == 3
    view.reset()
    assert view.deletion.getPlotItem().listDataItems() == []


def test_the_first_folder_is_listed_after_the_first_paint(qtbot, settings):
    from PySide6.QtCore import QEvent, QObject

    painted: list[str] = []

    class Paints(QObject):
        def eventFilter(self, watched, event):  # noqa: N802 - Qt's name
            if event.type() == QEvent.Type.Paint and not painted:
                painted.append(window.browser.folder)
            return False

    from .conftest import DEMO_IMAGES

    window = open_window(qtbot, settings, wait=False)
    try:
        watcher = Paints()
        window.installEventFilter(watcher)
        assert window.browser.folder in ("", None)  # not listed before the event loop runs
        qtbot.waitUntil(lambda: window.browser.folder == str(DEMO_IMAGES), timeout=5000)
        assert painted and painted[0] in ("", None)  # the first paint came before the listing
    finally:
        window.close()
