"""The method panel shows a control for every declared parameter of every method and for every
combination, built from the declarations, and what the user changes reaches the request."""

from __future__ import annotations

import pytest
from engine.maps.combine import COMBINATIONS
from engine.methods import METHODS
from engine.params import Param
from gui.method_panel import MethodPanel, set_widget_value, widget_value
from gui.worker_tasks import method_specs
from PySide6.QtWidgets import QCheckBox, QComboBox, QDoubleSpinBox, QSpinBox

from tests.cli.test_params_cli import other_value
from tests.gui.conftest import WAIT_MS, open_window, wait_idle

KINDS = {bool: QCheckBox, int: QSpinBox, float: QDoubleSpinBox}


def _expected_type(param: Param) -> type:
    return QComboBox if param.choices else KINDS[param.kind]


def _check_control(widget, param: Param) -> None:
    assert isinstance(widget, _expected_type(param)), param.name
    assert widget_value(widget) == param.default and param.help in widget.toolTip()
    assert ("true or false" in widget.toolTip()) is False  # a checkbox is on or off; other controls say their range
    if isinstance(widget, (QSpinBox, QDoubleSpinBox)):
        assert param.low is None or widget.minimum() == pytest.approx(param.low)
        assert param.high is None or widget.maximum() == pytest.approx(param.high)
    if isinstance(widget, QComboBox):
        assert {widget.itemData(i) for i in range(widget.count())} - {None} == set(param.choices)


@pytest.fixture
def panel(qtbot):
    widget = MethodPanel()
    qtbot.addWidget(widget)
    widget.set_methods(method_specs(METHODS))
    return widget


@pytest.mark.parametrize("method", list(METHODS))
def test_every_method_parameter_has_its_control(method, panel, qtbot):
    panel.select(method)
    declared = METHODS[method].parameters
    assert list(panel.widgets) == [p.name for p in declared]
    for param in declared:
        _check_control(panel.widgets[param.name], param)
        value = other_value(param)
        with qtbot.waitSignal(panel.params_changed, timeout=1000) as signal:
            set_widget_value(panel.widgets[param.name], value)
        assert signal.args[0] == panel.params() and panel.params()[param.name] == pytest.approx(value)
        set_widget_value(panel.widgets[param.name], param.default)
    assert panel.params() == {}
    for param in COMBINATIONS:  # enabled where the combination applies to the method
        assert panel.combination_widgets[param.name].isEnabled() == param.applies(METHODS[method].needs_layer)


@pytest.mark.parametrize("param", COMBINATIONS, ids=lambda p: p.name)
def test_every_combination_has_its_control(param, panel, qtbot):
    method = next(name for name, cls in METHODS.items() if param.applies(cls.needs_layer))
    panel.select(method)
    widget = panel.combination_widgets[param.name]
    _check_control(widget, param)
    value = other_value(param)
    with qtbot.waitSignal(panel.params_changed, timeout=1000) as signal:
        set_widget_value(widget, value)
    assert signal.args[0][param.name] == pytest.approx(value)
    others = [name for name, cls in METHODS.items() if not param.applies(cls.needs_layer)]
    for other in others:  # not sent to a method it does not apply to
        assert param.name not in panel.params_for(other)


def test_changed_parameter_and_combination_reach_the_explanation(qtbot, settings):
    window = open_window(qtbot, settings)
    try:
        wait_idle(qtbot, window)
        panel = window.method_panel
        with qtbot.waitSignal(window.controller.explanationShown, timeout=WAIT_MS):
            panel.select("smoothgrad")
        with qtbot.waitSignal(window.controller.explanationShown, timeout=WAIT_MS,
                              check_params_cb=lambda e: e.params["samples"] == 3 and e.params["polarity"] == "negative"
                              and e.params["emphasize"]) as shown:
            set_widget_value(panel.widgets["samples"], 3)
            set_widget_value(panel.combination_widgets["polarity"], "negative")
            set_widget_value(panel.combination_widgets["emphasize"], True)
        assert shown.args[0].method == "smoothgrad"
        title = window.canvas.title_text()  # the map says what shaped it
        assert "SmoothGrad (samples 3, polarity negative, emphasize)" in title, title
        wait_idle(qtbot, window)
        with qtbot.waitSignal(window.controller.explanationShown, timeout=WAIT_MS,
                              check_params_cb=lambda e: e.method == "gradcam") as shown:
            panel.select("gradcam")  # polarity does not apply to a CAM: not sent; emphasis is
        assert shown.args[0].params["polarity"] is None and shown.args[0].params["emphasize"] is True
    finally:
        window.close()
