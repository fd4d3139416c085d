"""`compare`: one lot reviewed by two models (a retrained version, a quantised export, ...)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .common import Progress, add_model_options, method_help, method_name
from .params import add_param_options, request_params


def add_commands(commands) -> None:
    """Register `compare`."""
    from engine.images.preprocessing import PREPROCESSING_MODES

    compare = commands.add_parser("compare", help="review one lot with two models and show where they differ")
    add_model_options(compare)
    compare.add_argument("--against", required=True, metavar="MODEL_B",
                         help="the second model (Keras, .tflite, .onnx or a SavedModel folder)")
    compare.add_argument("--against-preprocessing", choices=PREPROCESSING_MODES,
                         help="input preprocessing of the second model (overrides its sidecar)")
    compare.add_argument("--images", required=True, help="folder of images, labels from sub-folder names")
    compare.add_argument("--method", default="occlusion", type=method_name, metavar="NAME",
                         help=method_help("occlusion") + "; on an exported model only occlusion and rise")
    compare.add_argument("--out", required=True, help="output folder (nothing is written outside it)")
    compare.add_argument("--batch-size", type=int, default=16, help="images per batch (default 16)")
    compare.add_argument("--layer", help="target layer of a CAM (Keras models only)")
    compare.add_argument("--target", choices=("predicted", "label"), default="predicted",
                         help="explain the predicted class (default) or the class named by the folder")
    compare.add_argument("--trust", action="store_true",
                         help="add each model's defect-removal result, flag and verdict (engine.trust)")
    compare.add_argument("--ray", nargs="?", const="local", metavar="ADDRESS",
                         help="run on Ray Data, as `batch --ray`")
    add_param_options(compare)
    compare.set_defaults(run=run_compare)


def run_compare(args: argparse.Namespace) -> int:
    """Compare the two models on the folder and write comparison.csv, .json and report.html."""
    from engine import Session
    from engine.errors import ImageLoadError, OutputPathError
    from engine.review import ReviewOptions, folder_images
    from engine.review.compare import check_pair
    from engine.review.compare_output import ComparisonOutput
    from engine.review.two_models import comparison_run

    params = request_params(args, args.method)
    if Path(args.out).resolve() == Path(args.images).resolve():
        raise OutputPathError("--out must be a folder of its own, not the images folder")
    if args.ray is not None:
        from engine.review.ray_runner import import_ray

        import_ray()
    if not folder_images(args.images, exclude=args.out):
        raise ImageLoadError(f"{args.images}: no images found")
    session_a = Session.open(args.model, trust=args.trust_model, preprocessing=args.preprocessing)
    session_b = Session.open(args.against, trust=args.trust_model, preprocessing=args.against_preprocessing)
    options = ReviewOptions(args.method, args.layer, args.batch_size, args.target, params=params, trust=args.trust)
    check_pair(session_a, session_b, options)
    output = ComparisonOutput(args.out, comparison_run(session_a, session_b, args.images, options), trust=args.trust)
    progress = Progress(sys.stderr, "compare", "img", every=0.1)
    if args.ray is not None:
        from engine.review.compare_ray import compare_with_ray

        comparison = compare_with_ray(session_a, session_b, args, options, output.on_rows, progress)
    else:
        from engine.review.compare import compare_folder

        comparison = compare_folder(session_a, session_b, args.images, options, progress,
                                    on_rows=output.on_rows, exclude=args.out)
    summary = output.finish(comparison)
    _print(summary, args.out)
    return 0 if comparison.complete else 130


def _print(summary: dict, out: str) -> None:
    def num(value: float | None) -> str:
        return "–" if value is None else f"{value:.3f}"

    print(f"compared {summary['images']} images in {summary['seconds']:.1f}s: agreement {num(summary['agreement'])} "
          f"({summary['flips']} flipped), mean map Spearman {num(summary['mean_map_spearman'])}, "
          f"mean top-10% IoU {num(summary['mean_map_top_iou'])}")
    if summary["verdict_a"] or summary["verdict_b"]:
        print(f"verdict A: {summary['verdict_a']}; verdict B: {summary['verdict_b']}")
    print(f"wrote {Path(out) / 'comparison.csv'}, comparison.json, report.html")
