"""How much of the model and of the image one explanation covers, declared as Param data.

`fuse`: the CAMs of several layers fused into one sharper map (LayerCAM's multi-layer
combination, engine.methods.fusion); the layers are the ones the user picked (several
comma-separated in `layer`) or, when only `fuse` is set, a default set from shallow to deep.
`tiles` / `tile_overlap`: a frame much larger than the model input explained tile by tile at
its own resolution (engine.tiles). Appended to engine.maps.combine.COMBINATIONS so
the command line, the window's method panel and the README table offer them like the
combinations; imports engine.params only.
"""

from __future__ import annotations

from engine.params import Param

FUSIONS = ("max", "mean")

SCOPE: tuple[Param, ...] = (
    Param("fuse", str, None, "fuse the CAMs of several layers (LayerCAM's multi-layer combination): "
          "the layers given (comma-separated) or the last layer of each resolution", choices=FUSIONS,
          applies_to="cam"),
    Param("tiles", bool, False, "run the model on overlapping tiles of the image at its own input size and "
          "blend their maps at the image's full resolution (large frames)"),
    Param("tile_overlap", float, 0.25, "overlap of neighbouring tiles, as a fraction of the tile", low=0.0,
          high=0.75),
)
