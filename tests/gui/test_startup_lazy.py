"""Start-up (issue 20, item 13): what the first paint does not need waits. The Trust tab's three
pyqtgraph plots (about half of the window's construction) are made one by one after the first
paint, or at once when the tab is shown or gets a result before that; the first folder is listed
after the first paint. (The times themselves: `python -m bench.startup`, `bench.responsiveness`.)"""

from __future__ import annotations

from dataclasses import replace

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
    from gui.protocol import TrustResult
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


def _lazy_views(window) -> dict[str, list]:
    from gui.compare import CompareGrid
    from gui.features_view import FeaturesView
    from gui.review import ReviewTab

    return {name: window.findChildren(kind) for name, kind in
            (("compare", CompareGrid), ("features", FeaturesView), ("review", ReviewTab))}


def test_hidden_tabs_are_built_at_their_first_show_not_with_the_window(qtbot, settings):
    """Guards against: the window building Compare, Activations & filters and Review with itself
    (as it did), or the engine's start, the model's load or a state change reaching a view
    that was never shown and so building it."""
    settings.set("compare_mode", "layers")
    window = open_window(qtbot, settings)  # the engine started, the model loaded, the first map shown
    try:
        assert _lazy_views(window) == {"compare": [], "features": [], "review": []}
        window.controller.set_view(replace(window.controller.state.view, opacity=0.3))
        assert _lazy_views(window) == {"compare": [], "features": [], "review": []}
        for name in ("compare", "features", "review"):
            window.show_tab(name)
            QApplication.processEvents()
            assert len(_lazy_views(window)[name]) == 1
            assert _lazy_views(window)[name][0].isVisible()
    finally:
        window.close()


def test_a_tab_built_late_shows_what_it_would_have_been_told(qtbot, settings):
    """Guards against: a late-built view missing what the window told the views before it
    existed: the compare mode and the engine's methods, the Faithfulness button, the features
    layer, the review's set-up line, and its signals to the controllers."""
    settings.set("compare_mode", "layers")
    window = open_window(qtbot, settings)
    try:
        state = window.controller.state
        window.show_tab("compare")
        grid = window.compare
        assert grid.mode() == "layers"
        assert set(grid.chosen_methods()) == {spec.name for spec in window.controller.specs} != set()
        assert window.trust_controller.compare is not None and window.trust_controller.compare.button.parent()
        grid.set_mode("classes")  # the grid's choices reach the controller
        assert window.controller.state.compare_mode == "classes"
        window.show_tab("features")
        assert window.features.layer == state.layer.split(",")[-1]
        window.show_tab("review")
        assert window.review_controller.tab is window.review
        assert window.review.run_button.isEnabled()  # the set-up line describes the open model and folder
    finally:
        window.close()


def test_a_cancel_before_any_tab_was_shown_builds_none(qtbot, settings, slow_method):
    """Guards against: Cancel telling the Compare and Features views to stop waiting by
    building them."""
    window = open_window(qtbot, settings)
    try:
        window.method_panel.select(slow_method)
        qtbot.waitUntil(lambda: "explain" in window.controller.busy, timeout=5000)
        window.controller.cancel()
        assert _lazy_views(window) == {"compare": [], "features": [], "review": []}
    finally:
        window.close()


def test_the_controllers_and_the_engine_come_after_the_first_paint(qtbot, settings):
    """Guards against: the window making its controllers (and importing the engine protocol) or
    starting the engine before its first paint, as it did; or never making them without a click."""
    from PySide6.QtCore import QEvent, QObject

    at_paint: list[tuple[bool, bool]] = []

    class Paints(QObject):
        def eventFilter(self, watched, event):  # noqa: N802 - Qt's name
            if event.type() == QEvent.Type.Paint and not at_paint:
                at_paint.append((window.has_controllers, window._controllers is not None
                                 and window.controller.client.engine_thread.isRunning()))
            return False

    window = open_window(qtbot, settings, wait=False)
    try:
        watcher = Paints()
        window.installEventFilter(watcher)
        assert not window.has_controllers  # not made with the window
        qtbot.waitUntil(lambda: window.has_controllers and window.controller.client.engine_thread.isRunning(),
                        timeout=5000)
        assert at_paint == [(False, False)]
        qtbot.waitUntil(lambda: window.canvas.explanation is not None, timeout=60_000)  # and the first map comes
    finally:
        window.close()


def test_a_window_closed_before_its_first_paint_starts_no_engine(qtbot, settings):
    """Guards against: the steps after the first paint making the controllers and starting the
    engine for a window already closed (its QThread was then destroyed while running: an abort)."""
    window = open_window(qtbot, settings, wait=False)
    window.close()
    qtbot.wait(400)  # past FirstPaint's fallback (250 ms): the steps had their chance
    assert not window.has_controllers


def test_steps_run_one_per_event_loop_pass_until_told_to_stop(qtbot):
    from gui.lazy import one_per_pass

    calls: list[int] = []
    stopped = [False]
    one_per_pass([lambda: calls.append(1), lambda: calls.append(2), lambda: calls.append(3)],
                 stop=lambda: stopped[0])
    assert calls == []  # not with what the current pass has queued
    QApplication.processEvents()
    assert calls == [1]  # then one a pass
    QApplication.processEvents()
    assert calls == [1, 2]
    stopped[0] = True
    qtbot.wait(50)
    assert calls == [1, 2]  # stopped before the third
