"""Drawing defect regions on the heatmap canvas (issue 22 item 4): the tools on the canvas
(layer), their bar of buttons and keys (bar), and "Mark defects" mode (marking).
The geometry, undo and the LabelMe file are engine.annotations.editing's."""

from .bar import DrawingBar
from .layer import TOOLS, DrawingLayer
from .marking import DrawingController

__all__ = ["TOOLS", "DrawingBar", "DrawingController", "DrawingLayer"]
