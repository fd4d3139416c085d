"""`explain`: one heatmap for one image, as an overlay PNG, a raw map, and JSON."""

from __future__ import annotations

import argparse
from pathlib import Path

from .common import (
    add_model_options,
    check_outputs,
    fraction,
    method_help,
    method_name,
    open_session,
    print_json,
)
from .params import add_param_options, request_params


def add_commands(commands) -> None:
    """Register `explain`."""
    from engine.maps.render import COLORMAPS

    explain = commands.add_parser("explain", help="explain why the model chose a class for an image")
    add_model_options(explain)
    explain.add_argument("--image", required=True)
    explain.add_argument("--method", default="gradcam", type=method_name, metavar="NAME", help=method_help())
    explain.add_argument("--layer", help="target layer (path or unique name); default: the last 4-D layer")
    explain.add_argument("--layers", help="several target layers, comma-separated: their CAMs fused into one "
                       "sharper map (LayerCAM's multi-layer combination, see --fuse)")
    explain.add_argument("--class", dest="class_", help="class index or name; default: the predicted class")
    explain.add_argument("--output", default="0", help="model output to explain, by index or name (multi-output models)")
    explain.add_argument("--out", help="overlay PNG to write")
    explain.add_argument("--save-heatmap", help="raw full-resolution map: .npy (float32) or .png (16-bit)")
    explain.add_argument("--alpha", type=fraction, default=0.4, help="overlay opacity (default 0.4)")
    explain.add_argument("--colormap", default="jet", choices=sorted(COLORMAPS))
    explain.add_argument("--json", action="store_true", help="print one JSON object")
    explain.add_argument("--faithfulness", action="store_true",
                         help="deletion / insertion curves of the map against random and edge controls")
    add_param_options(explain)
    explain.set_defaults(run=run_explain)


def run_explain(args: argparse.Namespace) -> int:
    """Compute the map and write what was asked for."""
    from engine.maps.render import overlay, save_heatmap, write_png

    params = request_params(args, args.method)  # bad parameters refused before the model loads
    check_outputs({"--out": (args.out, (".png",)), "--save-heatmap": (args.save_heatmap, (".npy", ".png"))},
                  [args.model, args.image])
    session = open_session(args)
    image = session.load_image(args.image)
    result = session.explain(image, method=args.method, layer=args.layers or args.layer, class_index=args.class_,
                             output=args.output, **params)
    written: dict[str, str] = {}
    if args.out:
        lines = bool(result.params.get("outline"))  # outlines: draw the contour lines only, clearly
        picture = overlay(image.display, result.heatmap, max(args.alpha, 0.8) if lines else args.alpha,
                          args.colormap, 0.5 if lines else 0.0)
        written["overlay"] = str(write_png(args.out, picture))
    if args.save_heatmap:
        written["heatmap"] = str(save_heatmap(args.save_heatmap, result.heatmap))
    faithful = _faithfulness(session, image, result, args) if getattr(args, "faithfulness", False) else None
    if args.json:
        extra = {"faithfulness": faithful.to_json()} if faithful is not None else {}
        print_json({**result.to_json(), "image": str(Path(args.image)), "written": written, **extra})
        return 0
    if result.class_agnostic:  # the map is the same for every class: the class is only the prediction's
        print(f"{result.method} on {result.layer or 'input'}: class-agnostic (the same map for every class; "
              f"predicted {result.class_index} '{result.class_name}' p={result.probability:.3f}) "
              f"in {result.seconds:.3f}s")
    else:
        print(f"{result.method} on {result.layer or 'input'}: class {result.class_index} '{result.class_name}' "
              f"p={result.probability:.3f} logit={result.logit:.3f} in {result.seconds:.3f}s")
    for note in result.notes:
        print(f"note: {note}")
    for kind, path in written.items():
        print(f"wrote {kind}: {path}")
    if not written:
        print("nothing written: add --out overlay.png (and/or --save-heatmap map.npy) to keep the map")
    if faithful is not None:
        from engine.trust.cli_text import faithfulness_lines

        print("\n".join(faithfulness_lines(faithful)))
    return 0


def _faithfulness(session, image, result, args):
    """Deletion / insertion curves of the explanation (engine.trust.faithfulness)."""
    from engine.trust.faithfulness import faithfulness

    return faithfulness(session, [image], [result.heatmap], [result.class_index], output=args.output)[0]
