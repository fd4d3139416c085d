"""`explain`: one heatmap for one image, as an overlay PNG, a raw map, and JSON."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from .common import add_model_options, check_outputs, fraction, open_session, print_json

# Method parameters: option destination -> engine parameter name (passed only when given).
METHOD_OPTIONS = ("top_n", "samples", "noise", "steps", "baselines")
# Combination flags and values (engine.maps.combine), always passed so --json shows them.
COMBINATION_FLAGS = ("guided", "edges", "emphasize", "outline", "cleanup")
COMBINATION_VALUES = ("emphasize_threshold", "outline_level", "polarity", "clip_percentile", "clip_below")


def add_commands(commands) -> None:
    """Register `explain`."""
    from engine.maps.render import COLORMAPS
    from engine.methods import METHODS

    explain = commands.add_parser("explain", help="explain why the model chose a class for an image")
    add_model_options(explain)
    explain.add_argument("--image", required=True)
    explain.add_argument("--method", default="gradcam", choices=sorted(METHODS))
    explain.add_argument("--layer", help="target layer (path or unique name); default: the last 4-D layer")
    explain.add_argument("--class", dest="class_", help="class index or name; default: the predicted class")
    explain.add_argument("--output", default="0", help="model output to explain, by index or name (multi-output models)")
    explain.add_argument("--out", help="overlay PNG to write")
    explain.add_argument("--save-heatmap", help="raw full-resolution map: .npy (float32) or .png (16-bit)")
    explain.add_argument("--alpha", type=fraction, default=0.4, help="overlay opacity (default 0.4)")
    explain.add_argument("--colormap", default="jet", choices=sorted(COLORMAPS))
    explain.add_argument("--json", action="store_true", help="print one JSON object")
    _add_method_options(explain.add_argument_group("method parameters"))
    _add_combinations(explain.add_argument_group("combinations"))
    explain.set_defaults(run=run_explain)


def _add_method_options(group) -> None:
    group.add_argument("--top-n", type=int, help="faster-scorecam: channels with the largest std (default 10)")
    group.add_argument("--samples", type=int, help="smoothgrad: noisy copies (default 25)")
    group.add_argument("--noise", type=float, help="smoothgrad: noise sigma / value range (default 0.15)")
    group.add_argument("--steps", type=int, help="integrated-gradients: path steps (default 50)")
    group.add_argument("--baselines", type=int,
                       help="integrated-gradients: 0 = black baseline (default), K = mean over K random ones")


def _add_combinations(group) -> None:
    group.add_argument("--guided", action="store_true", help="CAMs: multiply by guided backprop (same class)")
    group.add_argument("--edges", action="store_true", help="multiply by the dilated Sobel edges of the image")
    group.add_argument("--emphasize", action="store_true", help="keep the strong region (steep sigmoid)")
    group.add_argument("--emphasize-threshold", type=float, default=0.5, help="emphasis threshold (default 0.5)")
    group.add_argument("--outline", action="store_true", help="show only the contours of the largest regions")
    group.add_argument("--outline-level", type=float, default=0.5, help="outline binarisation level (default 0.5)")
    group.add_argument("--cleanup", action="store_true", help="morphological closing then opening")
    group.add_argument("--polarity", choices=("positive", "negative"),
                       help="gradient methods: show positive or negative attributions")
    group.add_argument("--clip-percentile", type=float, default=100.0,
                       help="gradient methods: attribution mass percentile mapped to 1 (e.g. 99; default 100 = off)")
    group.add_argument("--clip-below", type=float, default=0.0,
                       help="gradient methods: percentile mapped to 0, weaker ones dropped (default 0)")


def explain_params(args: argparse.Namespace) -> dict[str, Any]:
    """Engine keyword parameters from the parsed options (missing ones tolerated)."""
    params = {name: getattr(args, name) for name in METHOD_OPTIONS if getattr(args, name, None) is not None}
    params.update({name: bool(getattr(args, name, False)) for name in COMBINATION_FLAGS})
    params.update({name: getattr(args, name) for name in COMBINATION_VALUES if hasattr(args, name)})
    return params


def run_explain(args: argparse.Namespace) -> int:
    """Compute the map and write what was asked for."""
    from engine.maps.render import overlay, save_heatmap, write_png

    check_outputs({"--out": (args.out, (".png",)), "--save-heatmap": (args.save_heatmap, (".npy", ".png"))},
                  [args.model, args.image])
    session = open_session(args)
    image = session.load_image(args.image)
    result = session.explain(image, method=args.method, layer=args.layer, class_index=args.class_,
                             output=args.output, **explain_params(args))
    written: dict[str, str] = {}
    if args.out:
        lines = bool(result.params.get("outline"))  # outlines: draw the contour lines only, clearly
        picture = overlay(image.display, result.heatmap, max(args.alpha, 0.8) if lines else args.alpha,
                          args.colormap, 0.5 if lines else 0.0)
        written["overlay"] = str(write_png(args.out, picture))
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
