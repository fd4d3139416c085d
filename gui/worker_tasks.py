"""Engine calls the worker makes for the method list and the feature views (worker thread only)."""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Mapping

import numpy as np

from .protocol import Activations, FeatureResult, MethodSpec, Patterns, ReviewFolder


def method_specs(methods: Mapping[str, type]) -> tuple[MethodSpec, ...]:
    """Describe each registered method class for the window: name, title, declared parameters."""
    return tuple(MethodSpec(name, str(getattr(cls, "title", name)), bool(getattr(cls, "needs_layer", True)),
                            tuple(getattr(cls, "parameters", ())), bool(getattr(cls, "gradient_free", False)))
                 for name, cls in methods.items())


def activation_result(session, request: Activations) -> FeatureResult:
    """The layer's feature maps for the image as a labelled grid."""
    from engine.features.activations import activations
    from engine.maps.grids import activation_grid

    image = session.load_image(request.path)
    maps = activations(session, image, request.layer)
    grid = activation_grid(maps)
    caption = (f"Activations of {request.layer} for {os.path.basename(request.path)}: {maps.shape[2]} channels, "
               f"{maps.shape[0]}x{maps.shape[1]}")
    return FeatureResult(grid.image, caption, True, grid.columns, path=request.path)


def pattern_result(session, request: Patterns, progress: Callable, cancel: Callable,
                   partial: Callable[[FeatureResult], None]) -> FeatureResult:
    """Filter patterns by gradient ascent; `partial` receives the grid as it fills in."""
    from engine.features.activations import feature_layer
    from engine.features.patterns import REGULARISED, PatternSettings, filter_patterns, pattern_grid

    info = feature_layer(session, request.layer)
    channels = info.output_shape[-1] or request.count
    filters = list(range(min(request.count, channels)))
    columns = max(1, math.ceil(math.sqrt(len(filters))))
    settings = (PatternSettings(size=request.size, steps=request.steps, **REGULARISED) if request.regularised
                else PatternSettings(size=request.size, steps=request.steps))

    def grid(patterns: np.ndarray, final: bool) -> FeatureResult:
        caption = (f"Filter patterns of {info.path}: filters 0-{len(filters) - 1} of {channels}, "
                   f"{request.size} px, {request.steps} steps"
                   + (", regularised" if request.regularised else ", plain ascent (seed 002)"))
        return FeatureResult(pattern_grid(patterns, columns, 4, labels=filters), caption, final, columns,
                             patterns, "filters")

    patterns = filter_patterns(session, info.path, filters, settings, progress, cancel,
                               lambda p: partial(grid(p, False)))
    return grid(patterns, True)


def review_result(session, request: ReviewFolder, progress: Callable, cancel: Callable,
                  on_rows: Callable[[list], None]):
    """Review the folder exactly as `convscope batch` does, with the request's target, tolerance
    and threshold; with a report folder, write what `batch --out` writes there as it goes.
    A cancel returns the rows so far with `complete` False (and leaves a readable report)."""
    from engine.review import review_folder

    if not request.report_folder:
        return review_folder(session, request.folder, request.options, progress, cancel, on_rows)
    return _review_with_report(session, request, progress, cancel, on_rows)


def _review_with_report(session, request: ReviewFolder, progress: Callable, cancel: Callable,
                        on_rows: Callable[[list], None]):
    from engine.review.outdir import open_review_output

    output = open_review_output(session, request.folder, request.report_folder, request.options, request.resume)
    try:
        return output.review(session, request.folder, request.options, progress, cancel, on_rows)
    finally:
        output.close()
