"""Responsiveness (issue 20, item 13) without a clock: a Trust check's result redraws the curves
and keeps the legend it has (pyqtgraph legend entries made anew for each result, with their
LabelItems asking the layout for new sizes, were the Trust check's longest stall)."""

from __future__ import annotations

import numpy as np

from .test_trust_view import _faithfulness, _request


def test_a_trust_result_keeps_the_curves_legend_and_draws_its_curves(qtbot):
    from gui.trust.requests import TrustResult
    from gui.trust.view import TrustView

    view = TrustView()
    qtbot.addWidget(view)
    view.show()
    legend = view.deletion.getPlotItem().legend
    before = [label for _sample, label in legend.items]
    assert [label.text for label in before] == ["map", "random", "edges"]
    display = np.zeros((40, 40, 3), np.uint8)
    for faithful in (True, False, True):
        view.show_result(TrustResult(_request(), "scratch", _faithfulness(faithful), display))
        assert [label for _sample, label in legend.items] == before  # the same entries, not new ones
    curves = view.deletion.getPlotItem().listDataItems()
    assert len(curves) == 3 and all(len(c.getData()[0]) == 3 for c in curves)  # the last result's curves
    view.reset()
    assert view.deletion.getPlotItem().listDataItems() == [] and [label for _s, label in legend.items] == before
