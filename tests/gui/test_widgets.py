"""Widgets on their own: composition, parameter widgets, layer tree with nested models, settings."""

from __future__ import annotations

import numpy as np
from engine.maps.render import overlay
from engine.model.layers import LayerInfo
from engine.params import Param
from gui.compose import ViewSettings, compose, outline_contours
from gui.method_panel import MethodPanel, parameter_widget, set_widget_value, widget_value
from gui.protocol import MethodSpec
from PySide6.QtWidgets import QCheckBox, QComboBox, QDoubleSpinBox, QLineEdit, QSpinBox


def _pair():
    rng = np.random.default_rng(0)
    image = rng.integers(0, 255, (40, 50, 3), dtype=np.uint8)
    heat = np.zeros((40, 50), np.float32)
    heat[10:20, 15:30] = 1.0
    return image, heat


def test_compose_modes():
    image, heat = _pair()
    view = ViewSettings(0.5, 0.2, "jet", False, "overlay")
    np.testing.assert_array_equal(compose(image, heat, view), overlay(image, heat, 0.5, "jet", 0.2))
    np.testing.assert_array_equal(compose(image, heat, ViewSettings(mode="image")), image)
    assert compose(image, None, view).shape == image.shape
    alone = compose(image, heat, ViewSettings(threshold=0.5, mode="heatmap"))
    assert (alone[0, 0] == 0).all() and alone[15, 20].any()


def test_outline_is_the_thresholded_contour():
    image, heat = _pair()
    contours = outline_contours(heat, 0.5)
    assert len(contours) == 1
    drawn = compose(image, heat, ViewSettings(outline=True, mode="image"))
    assert drawn[10, 16:29].min() >= 200 and not np.array_equal(drawn, image)


def test_parameter_widgets_from_declarations(qtbot):
    spin = parameter_widget(Param("n", int, 3, "count", low=1, high=9))
    assert isinstance(spin, QSpinBox) and (spin.minimum(), spin.maximum(), spin.value()) == (1, 9, 3)
    double = parameter_widget(Param("x", float, 0.5, "level", low=0.0, high=1.0))
    assert isinstance(double, QDoubleSpinBox) and (double.minimum(), double.maximum()) == (0.0, 1.0)
    assert "level" in double.toolTip() and "between 0 and 1" in double.toolTip()
    assert isinstance(parameter_widget(Param("b", bool, True, "flag")), QCheckBox)
    combo = parameter_widget(Param("s", str, "black", "start", choices=("black", "random")))
    assert isinstance(combo, QComboBox) and widget_value(combo) == "black"
    off = parameter_widget(Param("p", str, None, "sign", choices=("positive", "negative")))
    assert widget_value(off) is None and off.itemText(0) == "off"
    set_widget_value(off, "negative")
    assert widget_value(off) == "negative"
    assert isinstance(parameter_widget(Param("t", str, "free text", "text")), QLineEdit)


def test_method_panel_reports_changed_params(qtbot):
    panel = MethodPanel()
    qtbot.addWidget(panel)
    spec = MethodSpec("smooth", "SmoothGrad", False, (Param("samples", int, 25, "copies", low=1, high=100),
                                                      Param("noise", float, 0.15, "sigma", low=0.0, high=1.0),
                                                      Param("abs", bool, True, "absolute")))
    panel.set_methods((MethodSpec("gradcam", "Grad-CAM", True), spec), "smooth")
    assert panel.method() == "smooth" and panel.params() == {}
    panel.widgets["samples"].setValue(10)
    panel.widgets["abs"].setChecked(False)
    assert panel.params() == {"samples": 10, "abs": False}
    assert "not used" in panel.note.text()
    with qtbot.waitSignal(panel.changed, timeout=1000):  # an arrow click applies at once
        panel.widgets["samples"].stepUp()
    assert panel.params()["samples"] == 11
    assert not panel.widgets["samples"].keyboardTracking()  # typed digits wait for Enter
    panel.select("gradcam")  # another method: its own parameters, smooth's kept for later
    assert panel.params() == {} and panel.params_for("smooth")["samples"] == 11
    panel.select("smooth")
    assert panel.widgets["samples"].value() == 11


def test_layer_tree_nested_models(qtbot):
    from gui.layer_tree import LayerTree

    layers = (
        LayerInfo("input", "input", "InputLayer", (None, 32, 32, 3), 0, 0, False),
        LayerInfo("base", "base", "Functional", (None, 8, 8, 16), 500, 0, True),
        LayerInfo("base/conv1", "conv1", "Conv2D", (None, 16, 16, 8), 224, 1, False),
        LayerInfo("base/conv2", "conv2", "Conv2D", (None, 8, 8, 16), 1168, 1, False),
        LayerInfo("gap", "gap", "GlobalAveragePooling2D", (None, 16), 0, 0, False),
        LayerInfo("predictions", "predictions", "Dense", (None, 3), 51, 0, False),
    )
    tree = LayerTree()
    qtbot.addWidget(tree)
    tree.set_layers(layers, "base/conv2")
    assert tree.topLevelItemCount() == 4
    base = tree.items["base"]
    assert base.childCount() == 2 and base.child(1).text(1) == "8×8×16" and base.child(1).text(3) == "Conv2D"
    assert "(None, 8, 8, 16)" in base.child(1).toolTip(1)  # summary()'s form on hover
    assert tree.items["gap"].text(1) == "16"
    assert base.child(1).text(0).startswith("◎") and base.child(1).font(0).bold()
    assert tree.items["base/conv1"].text(0).startswith("○")
    chosen = []
    tree.targetChosen.connect(chosen.append)
    tree._clicked(tree.items["gap"], 0)
    tree._clicked(tree.items["base/conv1"], 0)
    assert chosen == ["base/conv1"]


def test_settings_round_trip(tmp_path):
    from gui.settings import Settings, make_settings

    settings = Settings(make_settings(tmp_path / "s.ini"))
    settings.set("opacity", 0.7)
    settings.set("outline", True)
    settings.add_recent("models", "/a.keras")
    settings.add_recent("models", "/b.keras")
    settings.add_recent("models", "/a.keras")
    settings.sync()
    again = Settings(make_settings(tmp_path / "s.ini"))
    assert again.get("opacity") == 0.7 and again.get("outline") is True
    assert again.recent("models") == ["/a.keras", "/b.keras"]
    assert again.get("method") == "gradcam"


def test_duration_text_reads_as_people_read_times():
    from gui.compose import duration_text

    assert duration_text(0.0027) == "3 ms"
    assert duration_text(0.4) == "400 ms"
    assert duration_text(1.234) == "1.23 s"
