"""`python -m bench.scope_figure OUT.png`: the README's picture of fused and tiled maps.

Top row, a demo scratch image: Grad-CAM and LayerCAM on the default layer, LayerCAM fused
over the default layer set, the mask. Bottom row, a 1024 x 1024 defect-free frame with a
crack pasted near its bottom-right corner (tests/engine/test_methods_scope.py builds the
same): Grad-CAM of the frame squeezed into the model input, and in tiles at full
resolution with the verdict tile outlined.
"""

from __future__ import annotations

import sys
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
CELL = 256


def _cell(rgb: np.ndarray, title: str) -> np.ndarray:
    cell = cv2.resize(rgb, (CELL, CELL), interpolation=cv2.INTER_AREA)
    cv2.rectangle(cell, (0, 0), (CELL, 22), (0, 0, 0), -1)
    cv2.putText(cell, title, (4, 16), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (255, 255, 255), 1, cv2.LINE_AA)
    return cell


def _frame():
    from engine.images.decoding import LoadedImage
    from resources.demo.synthetic import make_sample

    rng = np.random.default_rng(3)
    frame = cv2.resize(make_sample(rng, 0, (2048, 2048), texture="brushed_metal").image, (1024, 1024),
                       interpolation=cv2.INTER_AREA)
    defect = make_sample(rng, 3, (256, 256), texture="brushed_metal")
    frame[-140:-12, -140:-12] = cv2.resize(defect.image, (128, 128), interpolation=cv2.INTER_AREA)
    return LoadedImage("frame.png", frame, frame.astype(np.float32), False, "uint8", 8)


def figure() -> np.ndarray:
    """The composed RGB picture."""
    from engine.maps.render import overlay
    from engine.session import Session

    session = Session.open(ROOT / "resources" / "demo" / "defects.keras")
    path = ROOT / "resources" / "demo" / "images" / "scratch" / "scratch_02.png"
    image = session.load_image(path)
    mask = cv2.imread(str(path.with_name("scratch_02_mask.png")), cv2.IMREAD_GRAYSCALE)
    top = [_cell(overlay(image.display, session.explain(image, m, class_index=1, **p).heatmap), title)
           for m, p, title in (("gradcam", {}, "Grad-CAM last_conv"), ("layercam", {}, "LayerCAM last_conv"),
                               ("layercam", {"fuse": "max"}, "LayerCAM fused (3 layers)"))]
    top.append(_cell(cv2.cvtColor((mask > 0).astype(np.uint8) * 255, cv2.COLOR_GRAY2RGB), "scratch mask"))
    frame = _frame()
    whole = session.explain(frame, "gradcam")
    tiled = session.explain(frame, "gradcam", tiles=True)
    boxed = overlay(frame.display, tiled.heatmap)
    x, y, w, h = tiled.tile
    cv2.rectangle(boxed, (x, y), (x + w, y + h), (255, 255, 255), 6)
    bottom = [_cell(frame.display, "1024 px frame, crack near a corner"),
              _cell(overlay(frame.display, whole.heatmap), f"squeezed: {whole.class_name} {whole.probability:.2f}"),
              _cell(boxed, f"tiles: {tiled.class_name} {tiled.probability:.2f}"),
              _cell(overlay(frame.display, tiled.heatmap)[-256:, -256:], "tiles, corner at full resolution")]
    return np.vstack([np.hstack(top), np.hstack(bottom)])


def main(argv: list[str] | None = None) -> int:
    """Write the figure to the path given (default docs/fused-and-tiles.png)."""
    from engine.maps.render import write_png

    args = sys.argv[1:] if argv is None else argv
    out = Path(args[0]) if args else ROOT / "docs" / "fused-and-tiles.png"
    print(f"wrote {write_png(out, figure())}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
