"""The Review tab's verdict banner says which method and layer the verdict is about, and warns
when that layer is not the model's default CAM layer (a UX review read "SHORTCUT-SUSPECTED" for
the honest demo model after clicking an early layer elsewhere)."""

from __future__ import annotations

from .conftest import WAIT_MS, wait_idle


def test_the_banner_names_method_and_layer_and_warns_off_the_default(qtbot, window):
    wait_idle(qtbot, window)
    default = window.controller.info.default_layer
    window.controller.select_layer("block2_conv")
    window.show_tab("review")
    window.review.options.trust.setChecked(True)
    window.review_controller.run()
    qtbot.waitUntil(lambda: window.review.banner.isVisible() and window.review.banner.text() != "",
                    timeout=3 * WAIT_MS)
    text = window.review.banner.text()
    assert "Verdict for Grad-CAM at layer block2_conv" in text
    assert f"not the model's default CAM layer {default}" in text
    stats = window.review.stats
    headers = [stats.horizontalHeaderItem(c).text() for c in range(stats.columnCount())]
    assert headers[1:3] == ["Verdict", "Kept after removal"]  # each label's own verdict, first
    trust = window.review.result.trust
    for row in range(stats.rowCount() - 1):
        label = stats.item(row, 0).text()
        found = trust["per_label"].get(label)
        assert stats.item(row, 1).text() == (found["verdict"] if found else "–")
