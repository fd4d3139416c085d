"""Help > Getting started (F1): how to bring your own model and folder, which method to pick,
and the keys, in one scrollable dialog that stays open beside the window."""

from __future__ import annotations

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QTextBrowser, QVBoxLayout, QWidget

GUIDE = """
<h2>Getting started</h2>
<ol>
<li><b>Open your model</b>: File &gt; Open model (Ctrl+O), or drop a <code>.keras</code> / <code>.h5</code>
file on the window. Put a <code>&lt;model&gt;.convscope.json</code> beside it to give class names,
preprocessing and the default CAM layer:
<pre>{"class_names": ["ok", "scratch", "spot", "crack"],
 "preprocessing": "unit",
 "target_layer": "last_conv"}</pre>
Preprocessing is what the model was trained on: <code>unit</code> (pixels / 255), <code>symmetric</code>
(-1..1), <code>caffe</code> or <code>torch</code> (the ImageNet recipes) or <code>none</code> (0..255, for
models that rescale inside). Without the file, classes are called "class 0", "class 1", ... and the preprocessing is guessed (the status
bar says which). A model with a <code>Lambda</code> layer can run code when loaded: ConvScope asks before
loading it, so say yes only for a model you trust.</li>
<li><b>Open a folder of images</b> (Ctrl+Shift+O, or drop it). Sub-folder names are the labels;
an image whose prediction disagrees with its label is marked ✗. Defect masks are found as
<code>&lt;image&gt;_mask.png</code>, DAGM's <code>Label/</code> or MVTec AD's <code>ground_truth/</code>.</li>
<li><b>Click an image</b>: the heatmap shows the evidence for the predicted class. Click another class
on the right to see the evidence for it; pick a method under the predictions; click a layer marked ○ in
the layer tree to explain at that layer.</li>
</ol>
<h3>Which method?</h3>
<ul>
<li><b>Grad-CAM</b>: fast, coarse regions; the default. <b>Grad-CAM++</b>: better with several defects.
<b>LayerCAM</b>: usable on early layers, finer maps. <b>HiResCAM</b> and <b>Grad-CAM element-wise</b>:
gradient times activation cell by cell, faithful to what the layer computes. <b>XGrad-CAM</b>:
Grad-CAM with weights that satisfy its axioms.</li>
<li><b>Score-CAM</b> / <b>Faster Score-CAM</b> and <b>Ablation-CAM</b>: no gradients (robust to saturated
heads), slower. <b>Eigen-CAM</b>: the layer's main component, the same for every class.</li>
<li><b>Saliency (gradients)</b>, <b>SmoothGrad</b> (less noisy), <b>Integrated Gradients</b> (attributions
that add up to the score change), <b>Gradient x Input</b>, <b>Guided Backpropagation</b>: pixel-level maps
of what the score is sensitive to.</li>
<li><b>Occlusion</b> and <b>RISE</b>: hide parts of the image and watch the score; they need nothing of
the model's insides, and take seconds.</li>
<li>For thin defects (a 2-pixel scratch): Ctrl+click several layers in the tree to fuse their maps, or
tick <i>edges</i> under Combinations. For frames much larger than the model's input: <i>tiles</i> under
Combinations explains the frame in overlapping tiles at full resolution.</li>
</ul>
<h3>Tabs</h3>
<p><b>Compare</b>: every method, layer or class side by side, zooming together; its Faithfulness button
marks the maps that beat the controls.
<b>Activations &amp; filters</b>: a layer's feature maps for the image and the patterns its filters
respond to. <b>Review</b>: the whole folder at once: accuracy, confusion matrix, and whether the heatmap
sits on the defect mask, with an HTML report; tick <i>Trust metrics</i> for a verdict on the lot.
<b>Trust</b>: is this map faithful to the model (deletion and insertion curves against a random and an
edge-map control; "inconclusive" when removing pixels barely moves the score), does the model need the defect (it is painted out and the image predicted again),
and does the map depend on the model at all (<i>Sanity check</i>: the weights randomised layer by
layer)?</p>
<h3>Keys</h3>
<p>Right / Left (PgDown / PgUp): next / previous image · 1 / 2 / 3: overlay / heatmap / image ·
Ctrl+M: misclassified only · Ctrl+E: export · Esc: cancel the running job · F1: this guide.</p>
"""


class GuideDialog(QDialog):
    """The getting-started text in a scrollable, non-modal dialog."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Getting started with ConvScope")
        self.text = QTextBrowser()
        self.text.setHtml(GUIDE)
        self.text.setOpenExternalLinks(False)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.close)
        layout = QVBoxLayout(self)
        layout.addWidget(self.text)
        layout.addWidget(buttons)
        self.resize(640, 620)
