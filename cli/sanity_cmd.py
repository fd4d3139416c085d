"""`sanity`: the cascading model-parameter randomisation test of one or more methods on one image."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .common import add_model_options, method_name, open_session, print_json, progress_for

DEFAULT_METHODS = ("gradcam", "guided-backprop")


def add_commands(commands) -> None:
    """Register `sanity`."""
    sanity = commands.add_parser(
        "sanity", help="does the map depend on the model? randomise the weights top-down and compare (Adebayo 2018)")
    add_model_options(sanity)
    sanity.add_argument("--image", required=True)
    sanity.add_argument("--method", action="append", type=method_name, metavar="NAME",
                        help=f"method to check; repeat for several (default: {' and '.join(DEFAULT_METHODS)})")
    sanity.add_argument("--layer", help="CAM target layer (path or unique name); default: the last 4-D layer")
    sanity.add_argument("--class", dest="class_", help="class index or name; default: the predicted class")
    sanity.add_argument("--json", action="store_true", help="print one JSON object")
    sanity.set_defaults(run=run_sanity)


def run_sanity(args: argparse.Namespace) -> int:
    """Run the cascade on a copy of the model and print each method's verdict and curve."""
    from engine.trust.cli_text import sanity_lines
    from engine.trust.sanity import sanity_check

    methods = list(dict.fromkeys(args.method or DEFAULT_METHODS))
    session = open_session(args)
    image = session.load_image(args.image)
    progress = progress_for(sys.stderr, "sanity", "layer")
    results = sanity_check(session, image, methods, args.layer, args.class_, progress=progress)
    if args.json:
        print_json({"image": str(Path(args.image)), "model": session.info.path,
                    "class_index": results[0].class_index, "class_name": session.class_name(results[0].class_index),
                    "results": [r.to_json() for r in results]})
        return 0
    for result in results:
        print("\n".join(sanity_lines(result)))
    return 0
