"""The Trust tab's plots stay still (issue 20, item 13): a result or the sanity check's stage maps do
not lay the three plots out again or rescale their axes, the first show lays each out once, and
the grid is one curve rather than pyqtgraph's axis grid, which cost 4-8 ms per repaint of a plot.
Counted, not timed (`python -m bench.responsiveness` gives the times)."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
import pytest
from PySide6.QtWidgets import QApplication, QLabel, QTabWidget

from .test_trust_view import _faithfulness, _request


def _settle() -> None:
    for _ in range(3):
        QApplication.processEvents()


@pytest.fixture
def tabbed(qtbot):
    """A Trust view with its plots made, behind another tab of a 1280x720 tab widget."""
    from gui.trust.view import TrustView

    tabs = QTabWidget()
    qtbot.addWidget(tabs)
    tabs.resize(1280, 720)
    tabs.addTab(QLabel("heatmap"), "heatmap")
    view = TrustView()
    tabs.addTab(view, "trust")
    view._build_plots()
    tabs.show()
    _settle()
    return tabs, view


@pytest.fixture
def layouts(monkeypatch):
    """Count the plots' layouts: GraphicsView.resizeEvent with a real size change, per plot."""
    counts: dict[int, int] = {}
    original = pg.GraphicsView.resizeEvent

    def counting(self, event):
        if event is not None:
            counts[id(self)] = counts.get(id(self), 0) + 1
        original(self, event)

    monkeypatch.setattr(pg.GraphicsView, "resizeEvent", counting)
    return counts


@pytest.fixture
def rescales(monkeypatch):
    """Count the axes' range changes (each re-lays-out the axis and repaints its ticks)."""
    calls: list[float] = []
    original = pg.AxisItem.setRange

    def counting(self, low, high):
        calls.append(high - low)
        original(self, low, high)

    monkeypatch.setattr(pg.AxisItem, "setRange", counting)
    return calls


def _sanity_display(stages: int = 9, methods: tuple[str, ...] = ("gradcam", "saliency")):
    from engine.trust.sanity import SanityResult, SanityStage
    from gui.protocol import Explain, SanityDisplay, SanityRequest

    heatmap = np.random.default_rng(0).random((16, 16)).astype(np.float32)
    sequence = tuple(SanityStage(f"conv{i}" if i else "", heatmap * (1 - i / 10), 1 - i / 8, 1 - i / 9)
                     for i in range(stages))
    request = SanityRequest(Explain("/x/a.png", "gradcam", None, None), methods)
    results = tuple(SanityResult(method, stages // 2, sequence, True, "ok") for method in methods)
    return SanityDisplay(request, "scratch", results)


def _check_result(faithful: bool = True, with_mask: bool = True):
    from gui.protocol import TrustResult

    display = np.zeros((40, 60, 3), np.uint8)
    if not with_mask:
        return TrustResult(_request(), "scratch", _faithfulness(faithful), display)
    return TrustResult(_request(), "scratch", _faithfulness(faithful), display, display + 50,
                       np.ones((40, 60), bool), 0.98, 0.91, "scratch", True)


def test_the_first_show_lays_each_plot_out_once(tabbed, layouts, monkeypatch):
    relabelled: list[str] = []
    original = pg.AxisItem._updateLabel
    monkeypatch.setattr(pg.AxisItem, "_updateLabel", lambda axis: relabelled.append(axis.orientation) or original(axis))
    tabs, view = tabbed
    tabs.setCurrentWidget(view)
    _settle()
    assert {id(view.deletion), id(view.insertion), id(view.similarity)} == set(layouts)
    assert set(layouts.values()) == {1}  # a vertical scroll bar that appeared after it narrowed them: twice
    assert relabelled == []  # auto SI prefix: each axis's label re-laid-out at each range change


def test_results_neither_lay_out_nor_rescale_the_plots(tabbed, layouts, rescales):
    tabs, view = tabbed
    tabs.setCurrentWidget(view)
    _settle()
    layouts.clear()
    view.show_result(_check_result())  # the painted-out pictures appear
    _settle()
    view.show_result(_check_result(False, with_mask=False))  # and go
    _settle()
    view.show_sanity(_sanity_display())  # the stage maps' rows appear under the removal
    _settle()
    assert layouts == {}  # the page grew: plots that could shrink were squeezed and grown back
    rescales.clear()
    view.show_sanity(_sanity_display())  # the same stages again: the similarity axes stay too
    view.show_result(_check_result())
    _settle()
    assert rescales == []


def test_the_curve_plots_keep_their_ranges_through_results(qtbot, tabbed, rescales):
    tabs, view = tabbed
    tabs.setCurrentWidget(view)
    _settle()
    qtbot.wait(300)  # on a loaded machine the first show's layout can still be arriving: let it land
    _settle()
    before = [plot.getViewBox().viewRange() for plot in (view.deletion, view.insertion)]
    rescales.clear()
    for faithful in (True, False, True):
        view.show_result(_check_result(faithful))
        _settle()
    assert rescales == []  # auto-range on: every result re-ranged both axes of both plots
    assert [plot.getViewBox().viewRange() for plot in (view.deletion, view.insertion)] == before
    assert before[0][1] == [0.0, pytest.approx(1.02)]  # probability, with p = 1 visible


def test_the_grid_is_one_curve_at_the_ticks_not_the_axes_grid(tabbed):
    tabs, view = tabbed
    view.show_sanity(_sanity_display(stages=5))
    for plot in (view.deletion, view.insertion, view.similarity):
        assert not any(plot.getAxis(side).grid for side in ("left", "bottom"))  # showGrid: 4-8 ms per repaint
        assert plot.grid.getViewBox() is plot.getViewBox()
        xs, ys = plot.grid.getData()
        ticks = [value for value, _text in plot.getAxis("bottom")._tickLevels[0]]
        verticals = sorted({x for x, next_x in zip(xs[::2], xs[1::2], strict=True) if x == next_x})
        assert verticals == sorted(ticks)  # a vertical line at each tick of the bottom axis
    view.show_result(_check_result())
    assert view.deletion.grid.getViewBox() is view.deletion.getViewBox()  # clear() between results keeps it
    assert view.similarity.getAxis("bottom")._tickLevels[0] == [(i, str(i)) for i in range(5)]


@pytest.mark.parametrize(("lowest", "ticks"), [
    (-0.1, [0.0, 0.2, 0.4, 0.6, 0.8, 1.0]),
    (-0.35, [-0.2, 0.0, 0.2, 0.4, 0.6, 0.8, 1.0]),
    (-0.9, [-0.5, 0.0, 0.5, 1.0]),
    (-0.4, [-0.4, -0.2, 0.0, 0.2, 0.4, 0.6, 0.8, 1.0]),
])
def test_similarity_ticks_lie_inside_the_range(lowest, ticks):
    from gui.trust.plots import similarity_ticks

    assert similarity_ticks(lowest) == pytest.approx(ticks)


def test_no_context_menu_is_built_for_the_plots(qtbot, monkeypatch):
    import sys

    from gui.trust.view import TrustView

    viewbox_module = sys.modules["pyqtgraph.graphicsItems.ViewBox.ViewBox"]  # the module, not its class
    built: list[object] = []
    original = viewbox_module.ViewBoxMenu
    monkeypatch.setattr(viewbox_module, "ViewBoxMenu", lambda view: built.append(view) or original(view))
    view = TrustView()
    qtbot.addWidget(view)
    view._build_plots()
    assert built == []  # each built (about 2 ms of the plot's idle-time construction), then disabled


def test_the_similarity_range_keeps_the_lowest_point_whole(tabbed):
    import dataclasses

    _tabs, view = tabbed
    display = _sanity_display(stages=5)
    low = tuple(dataclasses.replace(stage, rank_correlation=stage.rank_correlation - 0.9)
                for stage in display.results[0].stages)
    view.show_sanity(dataclasses.replace(display, results=(dataclasses.replace(display.results[0], stages=low),)))
    lowest = min(stage.rank_correlation for stage in low)
    (left, right), (bottom, top) = view.similarity.getViewBox().viewRange()
    assert bottom < lowest and top > 1.0  # a marker on the plot's edge is cut in half
    assert left < 0 < 4 < right
