"""`explain`: one heatmap for one image, as an overlay PNG, a raw map, and JSON."""

from __future__ import annotations

import argparse
from pathlib import Path

from .common import add_model_options, open_session, print_json


def add_commands(commands) -> None:
    """Register `explain`."""
    from engine.methods import METHODS
    from engine.render import COLORMAPS

    explain = commands.add_parser("explain", help="explain why the model chose a class for an image")
    add_model_options(explain)
    explain.add_argument("--image", required=True)
    explain.add_argument("--method", default="gradcam", choices=sorted(METHODS))
    explain.add_argument("--layer", help="target layer (path or unique name); default: the last 4-D layer")
    explain.add_argument("--class", dest="class_", help="class index or name; default: the predicted class")
    explain.add_argument("--output", type=int, default=0, help="model output to explain (multi-output models)")
    explain.add_argument("--out", help="overlay PNG to write")
    explain.add_argument("--save-heatmap", help="raw full-resolution map: .npy (float32) or .png (16-bit)")
    explain.add_argument("--alpha", type=float, default=0.4, help="overlay opacity (default 0.4)")
    explain.add_argument("--colormap", default="jet", choices=sorted(COLORMAPS))
    explain.add_argument("--json", action="store_true", help="print one JSON object")
    explain.set_defaults(run=run_explain)


def run_explain(args: argparse.Namespace) -> int:
    """Compute the map and write what was asked for."""
    from engine.render import overlay, save_heatmap, write_png

    session = open_session(args)
    image = session.load_image(args.image)
    result = session.explain(image, method=args.method, layer=args.layer, class_index=args.class_,
                             output=args.output)
    written: dict[str, str] = {}
    if args.out:
        written["overlay"] = str(write_png(args.out, overlay(image.display, result.heatmap, args.alpha, args.colormap)))
    if args.save_heatmap:
        written["heatmap"] = str(save_heatmap(args.save_heatmap, result.heatmap))
    if args.json:
        print_json({**result.to_json(), "image": str(Path(args.image)), "written": written})
        return 0
    print(f"{result.method} on {result.layer or 'input'}: class {result.class_index} '{result.class_name}' "
          f"p={result.probability:.3f} logit={result.logit:.3f} in {result.seconds:.3f}s")
    for note in result.notes:
        print(f"note: {note}")
    for kind, path in written.items():
        print(f"wrote {kind}: {path}")
    return 0
