"""Image-space post-processing of explanation maps: pure numpy / OpenCV functions.

From seed 001: *guided* (CAM x guided backprop), *edges* (CAM x dilated Sobel magnitude of
the image), *emphasize* (a steep sigmoid around a threshold that keeps the strong region).
From seed 004: *polarity* (positive or negative attributions, mean over channels),
percentile clipping (its linear transformation), morphological clean-up, and *outline*
(contours of the largest regions). `finish` applies them in that order to one map.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from engine.errors import MethodError
from engine.maps.normalise import normalise, resize_map
from engine.maps.scope import SCOPE
from engine.params import APPLIES_TO, Param, check_params

if TYPE_CHECKING:
    from engine.methods.base import Method

# The combinations, declared once: validation, `explain` / `batch` options, the window's
# "Combinations" controls, the JSON `params` and the README's table all come from here.
COMBINATIONS: tuple[Param, ...] = (  # in the order `finish` applies them
    Param("polarity", str, None, "show the positive or the negative attributions",
          choices=("positive", "negative"), applies_to="gradient"),
    Param("clip_percentile", float, 100.0, "attribution mass percentile mapped to 1 (100 = no clipping)",
          low=0.0, high=100.0, applies_to="gradient"),
    Param("clip_below", float, 0.0, "percentile mapped to 0, weaker attributions dropped",
          low=0.0, high=100.0, applies_to="gradient"),
    Param("cleanup", bool, False, "morphological closing then opening"),
    Param("edges", bool, False, "multiply by the dilated Sobel edges of the image"),
    Param("guided", bool, False, "multiply by guided backprop of the same class", applies_to="cam"),
    Param("emphasize", bool, False, "keep the strong region only (steep sigmoid at the threshold)"),
    Param("emphasize_threshold", float, 0.5, "map level where the emphasis sigmoid is centred", low=0.0, high=1.0),
    Param("outline", bool, False, "show only the contours of the largest regions"),
    Param("outline_level", float, 0.5, "map level the outline binarises at", low=0.0, high=1.0),
) + SCOPE  # then what the explanation covers: fused layers, tiles (engine.maps.scope; not used by `finish`)
COMBINATION_NAMES = frozenset(p.name for p in COMBINATIONS)
EMPHASIS_STEEPNESS = 50.0  # seed 001: sigmoid(x, a=50, b=0.5)
OUTLINE_PERCENTAGE = 90.0  # seed 004: keep the largest regions holding 90 % of the area ...
OUTLINE_MAX_REGIONS = 3  # ... but at most three of them


def split_options(params: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(method parameters as given, every combination's value: given or default, checked)."""
    method = {k: v for k, v in params.items() if k not in COMBINATION_NAMES}
    options = check_params(COMBINATIONS, {k: v for k, v in params.items() if k in COMBINATION_NAMES}, "")
    if options["clip_below"] >= options["clip_percentile"]:
        raise MethodError(f"clip-below ({options['clip_below']:g}) must be lower than clip-percentile "
                          f"({options['clip_percentile']:g})")
    return method, options


def check_options(options: dict[str, Any], method: str, is_cam: bool) -> None:
    """Refuse a combination set away from its default on a method it does not apply to."""
    for param in COMBINATIONS:
        if not param.applies(is_cam) and options.get(param.name, param.default) != param.default:
            kind = "a CAM" if is_cam else "not a CAM"
            raise MethodError(f"{param.option} applies to {APPLIES_TO[param.applies_to]}; {method} is {kind}")


def check_request(method: type[Method] | Method, params: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(the method's parameters, the combinations) for `method` (a Method class or object with
    `name`, `needs_layer` and `params(given)`), every value checked: unknown names, values out of
    range and combinations that do not apply to the method are refused in one line."""
    given, options = split_options(params)
    check_options(options, method.name, method.needs_layer)
    if isinstance(method, type):
        return check_params(method.parameters, given, method.name), options
    return method.params(given), options


def _clipping(options: dict[str, Any]) -> bool:
    return options["clip_percentile"] < 100.0 or options["clip_below"] > 0.0


def polarity_map(attributions: np.ndarray, polarity: str) -> np.ndarray:
    """(H, W, C) signed attributions -> (H, W): the positive (or negated negative) part,
    averaged over channels (seed 004, without its clip at 1 of raw attributions)."""
    signed = attributions if polarity == "positive" else -attributions
    values = np.maximum(np.asarray(signed, dtype=np.float32), 0.0)
    return values.mean(axis=-1) if values.ndim == 3 else values


def threshold_at(values: np.ndarray, percentage: float) -> float:
    """The value at which the largest magnitudes first hold `percentage` % of the total."""
    if percentage >= 100.0:
        return float(values.min())
    ordered = np.sort(np.abs(values).ravel())[::-1]
    total = ordered.sum()
    if total <= 0.0:
        return 0.0
    cumulative = 100.0 * np.cumsum(ordered) / total
    return float(ordered[min(int(np.searchsorted(cumulative, percentage)), len(ordered) - 1)])


def linear_transformation(values: np.ndarray, clip_above: float = 99.9, clip_below: float = 0.0,
                          lower_end: float = 0.0) -> np.ndarray:
    """Seed 004: map |values| linearly so the clip_above threshold -> 1 and clip_below -> lower_end,
    keep the sign, zero what falls below lower_end, clip to [0, 1]. Never NaN."""
    high = threshold_at(values, 100.0 - clip_above)
    low = threshold_at(values, 100.0 - clip_below)
    if high - low <= 0.0:
        return np.where(np.abs(values) >= high, 1.0, 0.0).astype(np.float32) * (high > 0.0)
    transformed = (1.0 - lower_end) * (np.abs(values) - low) / (high - low) + lower_end
    transformed *= np.sign(values)
    transformed *= transformed >= lower_end
    return np.clip(transformed, 0.0, 1.0).astype(np.float32)


def sobel_edges(rgb: np.ndarray) -> np.ndarray:
    """Seed 001: Sobel gradient magnitude of the gray image, dilated 5x5, scaled to [0, 1]."""
    import cv2
    gray = cv2.cvtColor(np.asarray(rgb, dtype=np.uint8), cv2.COLOR_RGB2GRAY) if rgb.ndim == 3 else rgb
    gray = np.asarray(gray, dtype=np.float64)
    dx = cv2.Sobel(gray, cv2.CV_64F, 1, 0, ksize=3)
    dy = cv2.Sobel(gray, cv2.CV_64F, 0, 1, ksize=3)
    magnitude = cv2.dilate(np.sqrt(dx**2 + dy**2), np.ones((5, 5), np.uint8), iterations=1)
    return normalise(magnitude)[0]


def emphasize(heatmap: np.ndarray, threshold: float = 0.5, steepness: float = EMPHASIS_STEEPNESS) -> np.ndarray:
    """Seed 001's emphasis: 1 / (1 + exp(-steepness * (x - threshold))): the strong region only."""
    exponent = np.clip(-steepness * (heatmap.astype(np.float32) - threshold), -60.0, 60.0)
    return (1.0 / (1.0 + np.exp(exponent))).astype(np.float32)


def morphological_cleanup(heatmap: np.ndarray, size: int = 3) -> np.ndarray:
    """Seed 004: grey closing then grey opening with a size x size square."""
    import cv2
    kernel = np.ones((size, size), np.uint8)
    closed = cv2.morphologyEx(heatmap.astype(np.float32), cv2.MORPH_CLOSE, kernel)
    return cv2.morphologyEx(closed, cv2.MORPH_OPEN, kernel)


def outline(heatmap: np.ndarray, level: float = 0.5, percentage: float = OUTLINE_PERCENTAGE,
            max_regions: int = OUTLINE_MAX_REGIONS) -> np.ndarray:
    """Seed 004: binarise at `level`, fill holes, keep the largest 8-connected regions that
    hold `percentage` % of the area (at most `max_regions`), return their borders as 0/1.
    A level at or above the map's peak outlines the peak itself: a map with evidence never
    comes out blank because of where the outline level was set."""
    import cv2
    peak = float(heatmap.max(initial=0.0))
    mask = (heatmap > level if level < peak else heatmap >= peak).astype(np.uint8) * (peak > 0.0)
    contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    filled = np.zeros_like(mask)
    cv2.drawContours(filled, contours, -1, 1, thickness=cv2.FILLED)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(filled, connectivity=8)
    if count <= 1:
        return np.zeros(heatmap.shape, np.float32)
    areas = stats[1:, cv2.CC_STAT_AREA]
    order = np.argsort(-areas, kind="stable")
    cumulative = np.cumsum(areas[order])
    cutoff = min(int(np.searchsorted(cumulative, percentage * areas.sum() / 100.0)), max_regions - 1)
    kept = np.isin(labels, order[: cutoff + 1] + 1).astype(np.uint8)
    cross = cv2.getStructuringElement(cv2.MORPH_CROSS, (3, 3))
    eroded = cv2.erode(kept, cross, borderType=cv2.BORDER_CONSTANT, borderValue=0)
    border: np.ndarray = kept - eroded
    thickness = max(1, round(min(heatmap.shape[:2]) / 256))
    if thickness > 1:
        border = cv2.dilate(border, np.ones((thickness, thickness), np.uint8))
    return border.astype(np.float32)


def finish(raw: np.ndarray, attributions: np.ndarray | None, display: np.ndarray, options: dict[str, Any],
           guided: np.ndarray | None = None, floor: str = "zero") -> tuple[np.ndarray, bool]:
    """A method's raw map -> (heatmap in [0, 1] at the display image's size, empty).

    `floor` is the method's declaration of what the raw map's zero means (engine.maps.normalise);
    a polarity view always has zero as "no evidence".

    Order: polarity (signed attributions) -> percentile clipping or (min, max) normalisation
    -> resize (and normalisation again, at full resolution) -> clean-up -> x edges -> x guided backprop -> emphasis -> outline. Products
    are renormalised; a map left with no positive value is empty (all zero), never NaN.
    """
    source = raw
    if attributions is not None and options["polarity"] is not None:
        source, floor = polarity_map(attributions, options["polarity"]), "zero"
    if _clipping(options):
        heatmap = linear_transformation(source, options["clip_percentile"], options["clip_below"])
        heatmap, empty = heatmap, not bool(heatmap.max(initial=0.0) > 0.0)
    else:
        heatmap, empty = normalise(source, floor)
    height, width = display.shape[:2]
    heatmap = resize_map(heatmap, height, width)
    if not empty:  # interpolation moves the extremes off the pixel grid: back to a peak of 1
        heatmap, empty = (heatmap / heatmap.max(), False) if _clipping(options) else normalise(heatmap)
    steps = [(options["cleanup"], morphological_cleanup),
             (options["edges"], lambda m: m * sobel_edges(display)),
             (guided is not None, lambda m: m * resize_map(normalise(np.asarray(guided))[0], height, width))]
    for wanted, step in steps:
        if wanted and not empty:
            heatmap, empty = normalise(step(heatmap))
    if empty:
        return np.zeros((height, width), np.float32), True
    if options["emphasize"]:
        heatmap = emphasize(heatmap, options["emphasize_threshold"])
    if options["outline"]:
        heatmap = outline(heatmap, options["outline_level"])
    return np.clip(heatmap, 0.0, 1.0).astype(np.float32), False
