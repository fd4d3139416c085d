"""`batch`: review a folder of labelled images into overlays, a CSV, a JSON summary and an HTML report."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from .common import Progress, add_model_options, fraction, method_help, method_name, open_session
from .params import add_param_options, request_params


def add_commands(commands) -> None:
    """Register `batch`."""
    from engine.maps.render import COLORMAPS
    from engine.review import DEFAULT_THRESHOLD, DEFAULT_TOLERANCE

    batch = commands.add_parser("batch", help="predict, explain and score every image of a folder")
    add_model_options(batch)
    batch.add_argument("--images", required=True, help="folder of images, labels from sub-folder names")
    batch.add_argument("--method", default="gradcam", type=method_name, metavar="NAME", help=method_help())
    batch.add_argument("--out", required=True, help="output folder (nothing is written outside it)")
    batch.add_argument("--resume", action="store_true", help="continue the review in OUT, skipping done images")
    batch.add_argument("--batch-size", type=int, default=16, help="images per batch (default 16)")
    batch.add_argument("--layer", help="target layer (path or unique name); default: the last 4-D layer")
    batch.add_argument("--layers", help="several target layers, comma-separated: their CAMs fused into one "
                       "sharper map (LayerCAM's multi-layer combination, see --fuse)")
    batch.add_argument("--target", choices=("predicted", "label"), default="predicted",
                       help="explain the predicted class (default) or the class named by the folder")
    batch.add_argument("--tolerance", type=float, default=DEFAULT_TOLERANCE,
                       help=f"pointing-game tolerance in image pixels (default {DEFAULT_TOLERANCE})")
    batch.add_argument("--threshold", type=float, default=DEFAULT_THRESHOLD,
                       help=f"heatmap level of the emphasized region for IoU (default {DEFAULT_THRESHOLD})")
    batch.add_argument("--alpha", type=fraction, default=0.4, help="overlay opacity (default 0.4)")
    batch.add_argument("--colormap", default="jet", choices=sorted(COLORMAPS))
    batch.add_argument("--trust", action="store_true",
                       help="add faithfulness, localisation and defect-removal columns and a verdict (engine.trust)")
    batch.add_argument("--annotations", metavar="PATH",
                       help="the lot's annotations: a COCO .json or CVAT for images .xml file (file names relative "
                            "to --images), or a folder of LabelMe .json / Pascal VOC .xml / YOLO .txt files laid out "
                            "like the images; files beside the images are read without it, pixel masks win")
    batch.add_argument("--label-map", metavar="MAP",
                       help="annotation labels to the model's classes, e.g. 'Kratzer=scratch,Fleck=spot' "
                            "(labels match class names ignoring case without it)")
    batch.add_argument("--ray", nargs="?", const="local", metavar="ADDRESS",
                       help="run on Ray Data: a local Ray on this machine's cores, or join the cluster at "
                            "ADDRESS (auto, ray://host:10001); needs pip install -e \".[cluster]\"")
    add_param_options(batch)
    batch.set_defaults(run=run_batch)


def run_batch(args: argparse.Namespace) -> int:
    """Review the folder; on Ctrl+C, finish the summary and the report from the rows so far."""
    from engine.errors import ImageLoadError, OutputPathError
    from engine.review import ReviewOptions, folder_images
    from engine.review.outdir import open_review_output
    from engine.review.runner import annotator_for

    params = request_params(args, args.method)  # bad parameters refused before the model loads
    if Path(args.out).resolve() == Path(args.images).resolve():
        raise OutputPathError("--out must be a folder of its own, not the images folder")
    if args.ray is not None:
        from engine.review.ray_runner import import_ray

        import_ray()  # one line saying how to install it, before any work
    if not folder_images(args.images, exclude=args.out):
        raise ImageLoadError(f"{args.images}: no images found")
    session = open_session(args)
    options = ReviewOptions(args.method, args.layers or args.layer, args.batch_size, args.target, args.tolerance,
                            args.threshold, params, trust=args.trust, annotations=args.annotations,
                            label_map=_label_map(args.label_map, session.info.class_names))
    annotator_for(args.images, options, session.info.class_names)  # a malformed file: one line, nothing written
    output = open_review_output(session, args.images, args.out, options, args.resume, args.alpha, args.colormap)
    progress = Progress(sys.stderr, "review", "img", every=0.1)
    try:
        if args.ray is not None:
            from engine.review.ray_runner import review_with_ray

            result = review_with_ray(output, session, args.images, options, args.ray, trust=args.trust_model,
                                     preprocessing=args.preprocessing, progress=progress)
        else:
            result = output.review(session, args.images, options, progress)
    except KeyboardInterrupt:
        output.finish(None, "interrupted", total=progress.total)
        output.close()
        progress.close()
        sys.stderr.write(f"\nconvscope: interrupted; {len(output.rows)} images written to {Path(args.out)} "
                         "(continue with --resume)\n")
        return 130
    output.close()
    _print_summary(result, len(result.rows) - len(output.done), args.out)
    return 0 if result.complete else 130


def _label_map(text: str | None, class_names) -> tuple[tuple[str, str], ...]:
    from engine.annotations import parse_label_map

    return tuple(parse_label_map(text, class_names).items())


def annotation_lines(rows) -> list[str]:
    """What the review's annotations left out: labels that are not classes (which, in how many
    images) and annotation files skipped as malformed (how many), one line each."""
    from engine.annotations import SKIPPED_NOTE, UNKNOWN_NOTE

    unknown: dict[str, int] = {}
    skipped = 0
    for row in rows:
        for part in row.note.split("; "):
            if part.startswith(UNKNOWN_NOTE):
                for label in part[len(UNKNOWN_NOTE):].split(", "):
                    unknown[label] = unknown.get(label, 0) + 1
            skipped += part.startswith(SKIPPED_NOTE)
    lines = []
    if unknown:
        named = ", ".join(f"{label!r} ({n} image{'s' if n != 1 else ''})" for label, n in sorted(unknown.items()))
        lines.append(f"labels that are not classes of the model, their regions left out: {named}; "
                     "map them with --label-map 'LABEL=CLASS'")
    if skipped:
        lines.append(f"{skipped} malformed annotation file(s) skipped: see the note column of results.csv")
    return lines


def _print_summary(result, new: int, out: str) -> None:
    from engine.review.stats import figures_line

    overall = result.overall
    earlier = f" (+{len(result.rows) - new} from the earlier run)" if len(result.rows) > new else ""
    print(f"reviewed {new} images in {result.seconds:.1f}s{earlier}, {len(result.rows)} of {result.total} done: "
          f"{figures_line(overall, ', ')} ({overall.with_mask} with a mask)")
    if overall.errors:
        print(f"{overall.errors} image(s) could not be read: see results.csv")
    for line in annotation_lines(result.rows):
        print(line)
    if result.trust is not None:
        from engine.trust.review import verdict_line

        print(verdict_line(result.trust))
    print(f"wrote {Path(out) / 'results.csv'}, summary.json, report.html, overlays{os.sep}")
