"""The Compare tab compares the methods the user ticks, and each tile names its method's
parameters that differ from the defaults."""

from __future__ import annotations

from engine.maps.combine import COMBINATIONS
from engine.params import Param
from gui.compose import parameter_text
from gui.method_panel import set_widget_value

from .conftest import WAIT_MS, open_window, wait_idle


def test_parameter_text_names_only_changed_values():
    declared = (Param("samples", int, 25, "copies", low=1), Param("noise", float, 0.15, "sigma", low=0.0))
    params = {"samples": 3, "noise": 0.15, "emphasize": True, "polarity": "negative", "cleanup": False,
              "clip_percentile": 100.0}
    assert parameter_text(params, declared + COMBINATIONS) == "samples 3, polarity negative, emphasize"
    assert parameter_text({"samples": 25}, declared) == ""


def _tick(window, names: set[str]) -> None:
    for action in window.compare.methods_menu.actions():
        action.setChecked(action.data() in names)


def test_compare_a_subset_of_methods_with_their_parameters(qtbot, settings):
    window = open_window(qtbot, settings)
    try:
        wait_idle(qtbot, window)
        compare = window.compare
        compare.set_mode("methods")
        assert not compare.methods_button.isHidden()  # the Methods menu shows in "methods" mode only
        compare.set_mode("classes")
        assert compare.methods_button.isHidden()
        compare.set_mode("methods")
        assert set(compare.chosen_methods()) == {s.name for s in window.controller.specs}  # all by default
        _tick(window, {"gradcam", "smoothgrad"})
        assert compare.chosen_methods() == ("gradcam", "smoothgrad")
        with qtbot.waitSignal(window.controller.explanationShown, timeout=WAIT_MS):
            window.method_panel.select("smoothgrad")
        set_widget_value(window.method_panel.widgets["samples"], 4)
        set_widget_value(window.method_panel.combination_widgets["edges"], True)
        wait_idle(qtbot, window)
        window.show_tab("compare")
        qtbot.waitUntil(lambda: len(compare.tiles) == 2 and all(t.explanation for t in compare.tiles),
                        timeout=WAIT_MS)
        smooth, grad = sorted(compare.tiles, key=lambda t: t.explanation.method, reverse=True)
        assert smooth.explanation.method == "smoothgrad" and "(samples 4, edges)" in smooth.caption()
        assert grad.explanation.params["edges"] is True and "(edges)" in grad.caption()
        for action in compare.methods_menu.actions():  # the last ticked method cannot be unticked
            action.setChecked(False)
        assert len(compare.chosen_methods()) == 1
        assert window.controller.state.compare_methods == compare.chosen_methods()
    finally:
        window.close()
