"""`activations` and `filters`: a layer's feature maps for an image, and its filter patterns."""

from __future__ import annotations

import argparse
import sys
from dataclasses import asdict

from .common import (
    add_model_options,
    check_outputs,
    open_session,
    positive_int,
    print_json,
    progress_for,
)


def add_commands(commands) -> None:
    """Register `activations` and `filters`."""
    acts = commands.add_parser("activations", help="a layer's feature maps for an image, as a grid")
    add_model_options(acts)
    acts.add_argument("--image", required=True)
    acts.add_argument("--layer", required=True, help="layer with a 4-D output (path or unique name)")
    acts.add_argument("--out", required=True, help="grid PNG to write")
    acts.add_argument("--scale", choices=("shared", "tile"), default="shared",
                      help="one colour scale for all channels, or one per tile (default shared)")
    acts.add_argument("--sort", choices=("index", "mean"), default="index",
                      help="tile order: channel index, or highest mean activation first")
    acts.add_argument("--columns", type=positive_int, help="tiles per row (default: square grid)")
    acts.add_argument("--tile", type=positive_int, help="tile size in pixels (default: at least 64)")
    acts.add_argument("--output", default="0", help="model output, by index or name (multi-output models)")
    acts.add_argument("--json", action="store_true", help="print one JSON object")
    acts.set_defaults(run=run_activations)

    filters = commands.add_parser("filters", help="filter patterns by gradient ascent, as a grid")
    add_model_options(filters)
    filters.add_argument("--layer", required=True, help="layer with a 4-D output (path or unique name)")
    filters.add_argument("--out", required=True, help="grid PNG to write")
    filters.add_argument("--count", type=positive_int, default=64, help="how many filters (default 64)")
    filters.add_argument("--first", type=int, default=0, help="first filter index (default 0)")
    filters.add_argument("--size", type=positive_int, default=64, help="pattern size in pixels (default 64)")
    filters.add_argument("--steps", type=int, default=40, help="gradient ascent steps (default 40)")
    filters.add_argument("--plain", action="store_true",
                         help="seed 002's plain ascent (step 1, no jitter, blur or pre-activation) instead of the "
                              "regularised one the window uses by default (step 4, jitter 4, blur every 4 steps, "
                              "pre-activation)")
    filters.add_argument("--step-size", type=float, help="step per normalised gradient (default 4; --plain: 1)")
    filters.add_argument("--seed", type=int, default=0, help="noise seed (default 0)")
    filters.add_argument("--columns", type=positive_int, default=8, help="tiles per row (default 8)")
    filters.add_argument("--jitter", type=int, help="random shift of up to PX pixels per step (default 4; --plain: 0)")
    filters.add_argument("--blur-every", type=int, help="Gaussian blur every N steps (default 4; --plain: 0 = off)")
    filters.add_argument("--tv", type=float, default=0.0, help="total-variation penalty weight (default 0)")
    filters.add_argument("--pre-activation", action=argparse.BooleanOptionalAction,
                         help="maximise the filter before its fused activation, which moves silent filters "
                              "(default on; --plain: off)")
    filters.add_argument("--labels", action=argparse.BooleanOptionalAction, default=True,
                         help="write the filter index on each tile (default on)")
    filters.add_argument("--quiet", action="store_true", help="no progress on stderr")
    filters.add_argument("--json", action="store_true", help="print one JSON object")
    filters.set_defaults(run=run_filters)


def run_activations(args: argparse.Namespace) -> int:
    """Write the feature-map grid of one layer for one image."""
    from engine.features.activations import activations, feature_layer
    from engine.maps.grids import activation_grid
    from engine.maps.render import write_png

    check_outputs({"--out": (args.out, (".png",))}, [args.model, args.image])
    session = open_session(args)
    image = session.load_image(args.image)
    layer = feature_layer(session, args.layer).path
    maps = activations(session, image, layer, args.output)
    grid = activation_grid(maps, scale=args.scale, order=args.sort, columns=args.columns, tile=args.tile)
    path = write_png(args.out, grid.image)
    if args.json:
        print_json({"layer": layer, "map_shape": list(maps.shape), "order": list(grid.order),
                    "columns": grid.columns, "rows": grid.rows, "tile": list(grid.tile),
                    "grid_shape": list(grid.image.shape), "written": str(path)})
        return 0
    print(f"activations of {layer} {maps.shape[0]}x{maps.shape[1]}x{maps.shape[2]}: "
          f"{grid.rows}x{grid.columns} tiles, wrote {path}")
    return 0


def run_filters(args: argparse.Namespace) -> int:
    """Compute filter patterns and write them as a grid."""
    import time

    from engine.errors import MethodError
    from engine.features.activations import feature_layer
    from engine.features.patterns import filter_patterns, pattern_grid
    from engine.maps.render import write_png

    check_outputs({"--out": (args.out, (".png",))}, [args.model])
    session = open_session(args)
    info = feature_layer(session, args.layer)
    channels = info.output_shape[-1]
    if args.first < 0 or (channels is not None and args.first >= channels):
        raise MethodError(f"--first {args.first} is out of range: layer '{info.path}' has {channels} filters")
    last = args.first + args.count if channels is None else min(args.first + args.count, channels)
    chosen = list(range(args.first, last))
    settings = pattern_settings(args)
    started = time.perf_counter()
    progress = progress_for(sys.stderr, f"filter patterns of {info.path}", "step", args.quiet or args.json)
    patterns = filter_patterns(session, info.path, chosen, settings, progress=progress)
    grid = pattern_grid(patterns, columns=min(args.columns, len(chosen)), margin=5,
                        labels=chosen if args.labels else None)
    path = write_png(args.out, grid)
    seconds = time.perf_counter() - started
    if args.json:
        print_json({"layer": info.path, "filters": chosen, "size": args.size, "steps": args.steps,
                    "regularised": not args.plain, "settings": asdict(settings),
                    "grid_shape": list(grid.shape), "seconds": round(seconds, 3), "written": str(path)})
        return 0
    kind = "plain" if args.plain else "regularised"
    print(f"{len(chosen)} filter patterns of {info.path} ({args.size} px, {args.steps} steps), {kind} ascent, "
          f"in {seconds:.1f}s, wrote {path}")
    return 0


def pattern_settings(args: argparse.Namespace):
    """PatternSettings from the options: the regularised ascent unless --plain, each option
    given overriding its part."""
    from engine.features.patterns import REGULARISED, PatternSettings

    base = {} if args.plain else dict(REGULARISED)
    given = {"step_size": args.step_size, "jitter": args.jitter, "blur_every": args.blur_every,
             "pre_activation": args.pre_activation}
    base.update({key: value for key, value in given.items() if value is not None})
    return PatternSettings(size=args.size, steps=args.steps, seed=args.seed, tv=args.tv, **base)
