"""The Trust features' UX fixes: the Compare tab's Faithfulness button on the real window, errors
shown, removal only for defect classes, static plots that let the page scroll, no stale panels,
method titles, and the review banner naming its method and layer."""

from __future__ import annotations


# -- 6. the review banner names its method and layer ---------------------------------------------
def test_banner_names_the_method_and_layer_and_cautions_off_the_default_layer():
    from gui.trust.banner import banner_html

    trust = {"overall": {"verdict": "shortcut-suspected", "verdict_reason": "the maps miss the defects"}}
    text = banner_html(trust, method="Grad-CAM", layer="block2_conv", default_layer="last_conv")
    assert "Grad-CAM at layer block2_conv" in text
    assert "not the model's default CAM layer last_conv" in text
    plain = banner_html(trust, method="Grad-CAM", layer="last_conv", default_layer="last_conv")
    assert "Grad-CAM at layer last_conv" in plain and "default CAM layer" not in plain
    assert "at layer" not in banner_html(trust, method="Saliency")
    assert banner_html(trust).startswith("<table")  # the callers that pass only the verdict still work


def test_banner_reads_the_method_and_layer_of_a_review_run():
    from gui.trust.banner import banner_html

    trust = {"overall": {"verdict": "right-reason", "verdict_reason": "the maps point at the defects"}}
    run = {"method": "gradcam", "layer": "block2_conv"}
    text = banner_html(trust, run=run, titles={"gradcam": "Grad-CAM"}.get, default_layer="last_conv")
    assert "Grad-CAM at layer block2_conv" in text and "last_conv" in text
