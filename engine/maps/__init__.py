"""Maps: what happens to an explanation map after a method computed it.

`normalise` (min-max to [0, 1], resizing), `combine` (guided, edges, emphasis, polarity,
clipping, clean-up, outline: seeds 001 and 004), `render` (colour maps, overlays, PNG and
heatmap files) and `grids` (activation and filter-pattern mosaics). Pure numpy / OpenCV:
may import `engine.errors` and `engine.images`; never TensorFlow, Qt or `gui`.
"""
