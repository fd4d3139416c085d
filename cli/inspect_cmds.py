"""`info` and `predict`: what the model is, and what it says about images."""

from __future__ import annotations

import argparse

from .common import add_model_options, open_session, positive_int, print_json, table


def add_commands(commands) -> None:
    """Register `info` and `predict`."""
    info = commands.add_parser("info", help="layers, classes, input and preprocessing of a model")
    add_model_options(info)
    info.add_argument("--json", action="store_true", help="print one JSON object")
    info.set_defaults(run=run_info)

    predict = commands.add_parser("predict", help="top-k classes for images")
    add_model_options(predict)
    predict.add_argument("images", nargs="+", metavar="IMAGE")
    predict.add_argument("--top", type=positive_int, default=5, help="how many classes to list (default 5)")
    predict.add_argument("--output", default="0", help="model output to read, by index or name (multi-output models)")
    predict.add_argument("--json", action="store_true", help="print one JSON object")
    predict.set_defaults(run=run_predict)


def run_info(args: argparse.Namespace) -> int:
    """Print the model summary."""
    session = open_session(args)
    info = session.info
    if args.json:
        print_json(info.to_json())
        return 0
    print(f"model          {info.path}")
    print(f"input          {info.input_shape}   preprocessing: {info.preprocessing} ({info.preprocessing_source})")
    print(f"classes        {', '.join(info.class_names)}")
    for name, head in zip(info.output_names, info.heads, strict=True):
        print(f"output         {name}: {head.units} unit(s), {head.activation}")
    print(f"default layer  {info.default_layer or '(none: CAMs unavailable)'}")
    print(f"parameters     {info.params:,}")
    for warning in info.warnings:
        print(f"warning        {warning}")
    rows = [("  " * i.depth + i.name, i.type, i.shape_text, f"{i.params:,}", "yes" if i.is_cam_target else "")
            for i in info.layers]
    print()
    print(table(rows, ("layer", "type", "output shape", "params", "CAM target")))
    return 0


def run_predict(args: argparse.Namespace) -> int:
    """Print the top classes of each image."""
    session = open_session(args)
    images = [session.load_image(path) for path in args.images]
    predictions = session.predict(images, top=args.top, output=args.output)
    if args.json:
        print_json({"predictions": [p.to_json() for p in predictions]})
        return 0
    for prediction in predictions:
        print(prediction.path)
        for score in prediction.top:
            print(f"  {score.probability:7.2%}  {score.name} (class {score.index}, logit {score.logit:.3f})")
    return 0
