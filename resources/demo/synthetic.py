"""Procedural defect images on industrial textures, for the bundled demo model and tests.

Each sample is a textured surface (brushed metal, woven fabric, DAGM-like granular
speckle, wood grain, concrete) with zero, one or two defects drawn on it: a scratch
(long thin anti-aliased line, straight or gently curved), a spot (blurred irregular
stain) or a crack (thin jagged branching dark path). The mask holds, per pixel, the
class index of the defect there (0 = background). numpy and OpenCV only.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

CLASS_NAMES: tuple[str, ...] = ("ok", "scratch", "spot", "crack")
TEXTURES: tuple[str, ...] = ("brushed_metal", "woven_fabric", "granular", "wood_grain", "concrete")
# Capture conditions: "normal", a uniform field instead of a texture (any grey or colour), and
# very dark, very bright or strongly blurred frames. A defect-free frame is "ok" whatever its
# condition; defects drawn under a hard condition stay visible (milder extremes than for ok).
CONDITIONS: tuple[str, ...] = ("normal", "uniform", "dark", "bright", "blurred")

_SHIFT = 2  # cv2 drawing with 2 fractional bits: sub-pixel, anti-aliased polylines
_MASK_RADIUS = 4  # thin-defect footprint: 4 px at 256 = 2 px at the 128 px model input


@dataclass(frozen=True)
class Sample:
    """One generated image with its defect mask (pixel value = class index)."""

    image: np.ndarray  # (H, W, 3) uint8 RGB
    mask: np.ndarray  # (H, W) uint8 class index, 0 = background
    label: int
    defects: tuple[int, ...]
    texture: str


# ----------------------------------------------------------------------------- textures


def _smooth_noise(rng: np.random.Generator, h: int, w: int, cell: float) -> np.ndarray:
    """Zero-mean, unit-ish noise with features about `cell` pixels wide (bicubic upsampling)."""
    if cell <= 1.5:
        return rng.standard_normal((h, w), dtype=np.float32)
    gh, gw = int(h / cell) + 3, int(w / cell) + 3
    grid = rng.standard_normal((gh, gw), dtype=np.float32)
    big = cv2.resize(grid, (int(gw * cell), int(gh * cell)), interpolation=cv2.INTER_CUBIC)
    y0 = rng.integers(0, big.shape[0] - h + 1)
    x0 = rng.integers(0, big.shape[1] - w + 1)
    return big[y0 : y0 + h, x0 : x0 + w]


def _fractal_noise(
    rng: np.random.Generator, h: int, w: int, cell: float, octaves: int
) -> np.ndarray:
    """Sum of smooth noise octaves, each half the size and half the amplitude of the last."""
    out = np.zeros((h, w), np.float32)
    for i in range(octaves):
        out += _smooth_noise(rng, h, w, max(1.0, cell / 2**i)) / 2**i
    return out / np.float32(1.5)


def _rotated_coords(rng: np.random.Generator, h: int, w: int) -> tuple[np.ndarray, np.ndarray]:
    """Pixel coordinates rotated by a random angle: (along, across)."""
    theta = rng.uniform(0, np.pi)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    c, s = np.float32(np.cos(theta)), np.float32(np.sin(theta))
    return xx * c + yy * s, -xx * s + yy * c


def _tint(gray: np.ndarray, rgb: tuple[float, float, float]) -> np.ndarray:
    """Gray [0, 1] map to an RGB image by multiplying with a base colour."""
    gray = gray.astype(np.float32, copy=False)
    return cv2.merge([gray * np.float32(c) for c in rgb])


def _brushed_metal(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    pad = int(np.hypot(h, w)) + 8
    streak_len = int(rng.integers(25, 70)) | 1
    noise = rng.standard_normal((pad, pad)).astype(np.float32)
    streaks = cv2.blur(noise, (streak_len, 1)) * np.sqrt(streak_len)
    angle = rng.uniform(-90, 90)
    rot = cv2.getRotationMatrix2D((pad / 2, pad / 2), angle, 1.0)
    streaks = cv2.warpAffine(streaks, rot, (pad, pad), flags=cv2.INTER_LINEAR)
    y0, x0 = (pad - h) // 2, (pad - w) // 2
    streaks = streaks[y0 : y0 + h, x0 : x0 + w]
    base = rng.uniform(0.45, 0.7) + 0.06 * _smooth_noise(rng, h, w, 90)
    gray = base + rng.uniform(0.025, 0.06) * streaks
    tone = rng.uniform(0.95, 1.05)
    return _tint(gray, (tone * 0.98, 1.0, 1.0 / tone * 1.02))


def _woven_fabric(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    u, v = _rotated_coords(rng, h, w)
    period = rng.uniform(5.0, 11.0)
    pu, pv = np.pi * u / period, np.pi * v / period
    # Which thread is on top alternates cell by cell (plain weave).
    warp_on_top = (np.floor(pu) + np.floor(pv)) % 2 == 0
    warp = np.abs(np.sin(pv * 2)) ** 0.5
    weft = np.abs(np.sin(pu * 2)) ** 0.5
    gray = np.where(warp_on_top, 0.55 + 0.3 * warp, 0.45 + 0.3 * weft)
    gray = gray * (1 + 0.08 * _smooth_noise(rng, h, w, 3.0)) + 0.05 * _smooth_noise(rng, h, w, 60)
    gray = cv2.GaussianBlur(gray.astype(np.float32), (0, 0), 0.7)
    palette = (
        (0.55, 0.6, 0.75),
        (0.8, 0.75, 0.6),
        (0.6, 0.72, 0.6),
        (0.8, 0.8, 0.8),
        (0.75, 0.55, 0.55),
    )
    return _tint(gray, palette[rng.integers(len(palette))])


def _granular(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    fine = _fractal_noise(rng, h, w, rng.uniform(3.0, 6.0), 3)
    coarse = _smooth_noise(rng, h, w, rng.uniform(30, 80))
    gray = rng.uniform(0.35, 0.6) + rng.uniform(0.05, 0.11) * fine + 0.04 * coarse
    return _tint(gray, (1.0, 1.0, 1.0))


def _wood_grain(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    u, v = _rotated_coords(rng, h, w)
    period = rng.uniform(7.0, 16.0)
    warp = 12.0 * _smooth_noise(rng, h, w, rng.uniform(50, 110))
    rings = 0.5 + 0.5 * np.sin(2 * np.pi * (v + warp + 0.002 * u * u / w) / period)
    fibre = cv2.blur(rng.standard_normal((h, w)).astype(np.float32), (9, 1))
    gray = 0.55 + 0.18 * rings**2 + 0.04 * fibre + 0.05 * _smooth_noise(rng, h, w, 70)
    browns = ((0.85, 0.62, 0.4), (0.75, 0.5, 0.3), (0.92, 0.78, 0.55), (0.6, 0.42, 0.28))
    return _tint(gray.astype(np.float32), browns[rng.integers(len(browns))])


def _concrete(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    base = _fractal_noise(rng, h, w, rng.uniform(10, 25), 4)
    aggregate = np.clip(_smooth_noise(rng, h, w, rng.uniform(4, 8)) - 1.2, 0, None)
    pores = (rng.random((h, w)) < 0.0025).astype(np.float32)
    pores = cv2.GaussianBlur(pores, (0, 0), 0.9) * 4.0
    gray = rng.uniform(0.45, 0.65) + 0.07 * base + 0.08 * aggregate - 0.2 * np.clip(pores, 0, 1)
    warm = rng.uniform(0.97, 1.04)
    return _tint(gray, (warm, 1.0, 2.0 - warm))


_TEXTURE_FUNCS = {
    "brushed_metal": _brushed_metal,
    "woven_fabric": _woven_fabric,
    "granular": _granular,
    "wood_grain": _wood_grain,
    "concrete": _concrete,
}


# ------------------------------------------------------------------------------ defects

Box = tuple[float, float, float, float]  # x0, y0, x1, y1


def _fit_paths(rng: np.random.Generator, paths: list[np.ndarray], box: Box) -> list[np.ndarray]:
    """Scale paths down together if needed and move them to a random place inside `box`."""
    pts = np.vstack(paths)
    lo = pts.min(0)
    span = np.maximum(pts.max(0) - lo, 1.0)
    room = np.array([box[2] - box[0], box[3] - box[1]])
    scale = min(1.0, float(np.min(room / span)))
    offset = np.array([box[0], box[1]]) + rng.uniform(0, 1, 2) * np.maximum(room - span * scale, 0)
    return [(p - lo) * scale + offset for p in paths]


def _draw_paths(shape: tuple[int, int], paths: list[tuple[np.ndarray, int]]) -> np.ndarray:
    """Anti-aliased polylines (points, thickness) as a float alpha map in [0, 1]."""
    canvas = np.zeros(shape, np.uint8)
    for pts, thickness in paths:
        fixed = np.round(pts * (1 << _SHIFT)).astype(np.int32).reshape(-1, 1, 2)
        cv2.polylines(canvas, [fixed], False, 255, thickness, cv2.LINE_AA, _SHIFT)
    return canvas.astype(np.float32) / 255.0


def _thin_mask(alpha: np.ndarray) -> np.ndarray:
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * _MASK_RADIUS + 1,) * 2)
    return cv2.dilate((alpha > 0.25).astype(np.uint8), kernel) > 0


def _scratch(
    rng: np.random.Generator, shape: tuple[int, int], box: Box
) -> tuple[np.ndarray, np.ndarray]:
    """Long thin line, straight or gently curved (quadratic Bezier)."""
    length = rng.uniform(0.35, 0.8) * min(box[2] - box[0], box[3] - box[1]) * 1.3
    angle = rng.uniform(0, np.pi)
    direction = np.array([np.cos(angle), np.sin(angle)])
    normal = np.array([-direction[1], direction[0]])
    bend = rng.choice([0.0, rng.uniform(-0.15, 0.15)]) * length
    t = np.linspace(0, 1, 40)[:, None]
    pts = t * length * direction + (4 * t * (1 - t) * bend) * normal
    (pts,) = _fit_paths(rng, [pts], box)
    alpha = _draw_paths(shape, [(pts, int(rng.integers(2, 5)))])
    # Scratches fade in and out along their length.
    alpha *= np.clip(0.75 + 0.5 * _smooth_noise(rng, *shape, 40), 0.35, 1.0)
    return alpha, _thin_mask(alpha)


def _spot(
    rng: np.random.Generator, shape: tuple[int, int], box: Box
) -> tuple[np.ndarray, np.ndarray]:
    """Blurred irregular blob, like a stain or a pit."""
    h, w = shape
    side = min(box[2] - box[0], box[3] - box[1])
    a = rng.uniform(0.06, 0.16) * side * 1.6
    b = a * rng.uniform(0.5, 1.0)
    cx = rng.uniform(box[0] + a, box[2] - a)
    cy = rng.uniform(box[1] + a, box[3] - a)
    theta = rng.uniform(0, np.pi)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    dx, dy = xx - cx, yy - cy
    u = (dx * np.cos(theta) + dy * np.sin(theta)) / a
    v = (-dx * np.sin(theta) + dy * np.cos(theta)) / b
    field = np.sqrt(u * u + v * v) + 0.25 * _smooth_noise(rng, h, w, max(4.0, a / 1.5))
    alpha = np.clip((1.0 - field) / 0.35, 0, 1).astype(np.float32)
    alpha = cv2.GaussianBlur(alpha, (0, 0), max(1.0, 0.15 * a))
    return alpha, alpha > 0.2


def _crack_walk(
    rng: np.random.Generator, steps: int, heading: float, start: np.ndarray
) -> np.ndarray:
    """Jagged random walk whose heading drifts back towards its initial direction."""
    jitter = rng.normal(0, 0.45, steps)
    step_len = rng.uniform(1.5, 4.0, steps)
    angles = np.empty(steps)
    a = heading
    for i in range(steps):
        a = a + jitter[i] - 0.25 * (a - heading)
        angles[i] = a
    moves = np.stack([np.cos(angles), np.sin(angles)], 1) * step_len[:, None]
    return start + np.vstack([np.zeros(2), np.cumsum(moves, 0)])


def _crack(
    rng: np.random.Generator, shape: tuple[int, int], box: Box
) -> tuple[np.ndarray, np.ndarray]:
    """Thin dark branching path: a main random walk plus shorter side branches."""
    side = min(box[2] - box[0], box[3] - box[1])
    heading = rng.uniform(0, 2 * np.pi)
    trunk = _crack_walk(rng, int(rng.uniform(0.2, 0.5) * side), heading, np.zeros(2))
    paths = [(trunk, 3 if rng.random() < 0.3 else 2)]
    for _ in range(int(rng.integers(1, 4))):
        origin = trunk[rng.integers(len(trunk) // 5, len(trunk))]
        branch_heading = heading + rng.choice([-1, 1]) * rng.uniform(0.5, 1.2)
        steps = int(rng.integers(10, len(trunk) // 2 + 12))
        paths.append((_crack_walk(rng, steps, branch_heading, origin), int(rng.integers(1, 3))))
    fitted = _fit_paths(rng, [p for p, _ in paths], box)
    paths = [(p, t) for p, (_, t) in zip(fitted, paths, strict=True)]
    alpha = _draw_paths(shape, paths)
    return alpha, _thin_mask(alpha)


_DEFECT_FUNCS = {1: _scratch, 2: _spot, 3: _crack}


def _apply_defect(
    rng: np.random.Generator, img: np.ndarray, cls: int, alpha: np.ndarray
) -> np.ndarray:
    """Blend a defect's alpha map into the float image with a class-typical appearance."""
    a = alpha[..., None]
    if cls == 1:  # scratch: bright or dark line
        delta = rng.uniform(0.2, 0.45) * float(rng.choice([-1.0, 1.0]))
        return img + delta * a
    if cls == 2:  # spot: dark or light stain, sometimes tinted
        tint = np.asarray(rng.uniform(0.85, 1.15, 3), np.float32)
        if rng.random() < 0.7:
            return img * (1 - a * rng.uniform(0.35, 0.65) * tint)
        return img + a * rng.uniform(0.2, 0.35) * tint
    return img * (1 - a * rng.uniform(0.55, 0.85))  # crack: dark


# ----------------------------------------------------------------------------- samples


def _regions(rng: np.random.Generator, h: int, w: int, n: int) -> list[Box]:
    """One box per defect: the whole image, or two disjoint halves split along a random axis."""
    m = 0.06 * min(h, w)
    if n <= 1:
        return [(m, m, w - m, h - m)][:n]
    if rng.random() < 0.5:
        boxes = [(m, m, w / 2 - m, h - m), (w / 2 + m, m, w - m, h - m)]
    else:
        boxes = [(m, m, w - m, h / 2 - m), (m, h / 2 + m, w - m, h - m)]
    return boxes if rng.random() < 0.5 else boxes[::-1]


def _uniform_field(rng: np.random.Generator, h: int, w: int, defect_free: bool) -> np.ndarray:
    """A flat field of one grey or colour; defect-free fields reach pure black and white."""
    lo, hi = (0.0, 1.0) if defect_free else (0.2, 0.8)
    if defect_free and rng.random() < 0.25:
        colour = np.full(3, float(rng.choice([0.0, 1.0])))
    elif rng.random() < 0.5:
        colour = np.full(3, rng.uniform(lo, hi))
    else:
        colour = rng.uniform(lo, hi, 3)
    return np.broadcast_to(colour.astype(np.float32), (h, w, 3)).copy()


def _hard_condition(
    rng: np.random.Generator, img: np.ndarray, condition: str, defect_free: bool
) -> np.ndarray:
    """Very dark or bright exposure, or a strong blur (scaled to the image size)."""
    if condition in ("dark", "bright"):
        factor = np.float32(rng.uniform(0.03, 0.3) if defect_free else rng.uniform(0.15, 0.35))
        return img * factor if condition == "dark" else 1 - (1 - np.clip(img, 0, 1)) * factor
    if condition == "blurred":
        sigma = rng.uniform(2.0, 6.0) if defect_free else rng.uniform(1.2, 2.2)
        return cv2.GaussianBlur(img, (0, 0), sigma * min(img.shape[:2]) / 256)
    return img


def _finish(
    rng: np.random.Generator, img: np.ndarray, condition: str = "normal", defect_free: bool = True
) -> np.ndarray:
    """Global lighting, slight blur, the capture condition and sensor noise; float RGB to uint8."""
    h, w = img.shape[:2]
    gx, gy = (float(g) for g in rng.uniform(-0.12, 0.12, 2))
    ramp_x = gx * (np.arange(w, dtype=np.float32) / w - 0.5)
    ramp_y = gy * (np.arange(h, dtype=np.float32) / h - 0.5)
    light = 1 + ramp_y[:, None] + ramp_x[None, :]
    contrast = rng.uniform(0.85, 1.2)
    offset = 0.5 - 0.5 * contrast + rng.uniform(-0.08, 0.08)
    img = cv2.multiply(img * np.float32(contrast) + np.float32(offset), cv2.merge([light] * 3))
    sigma = rng.uniform(0.0, 0.9)
    if sigma > 0.3:
        img = cv2.GaussianBlur(img, (0, 0), sigma)
    img = _hard_condition(rng, img, condition, defect_free)
    # OpenCV's generator (seeded from rng, so still deterministic) is ~10x faster here.
    cv2.setRNGSeed(int(rng.integers(2**31)))
    noise = np.empty(img.shape, np.float32)
    cv2.randn(noise, 0.0, rng.uniform(0.002, 0.01))
    img = cv2.add(img, noise)
    return cv2.convertScaleAbs(np.clip(img, 0, 1), alpha=255)


def make_sample(
    rng: np.random.Generator,
    label: int,
    size: tuple[int, int] = (256, 256),
    texture: str | None = None,
    extra_defect: int | None = None,
    condition: str = "normal",
) -> Sample:
    """Generate one image of class `label` (0 ok, 1 scratch, 2 spot, 3 crack).

    `size` is (height, width). `extra_defect` adds a second, different defect class in
    the other half of the image; `label` stays the first defect. The mask stores the
    class index of the defect at each pixel. `condition` is one of CONDITIONS; a defect-free
    "uniform" frame is sometimes exactly flat (no lighting, no noise).
    """
    if label not in range(len(CLASS_NAMES)):
        raise ValueError(f"label must be 0..{len(CLASS_NAMES) - 1}, got {label}")
    if extra_defect is not None and (
        label == 0 or extra_defect in (0, label) or extra_defect not in _DEFECT_FUNCS
    ):
        raise ValueError("extra_defect must be a defect class (1..3) different from a defect label")
    if condition not in CONDITIONS:
        raise ValueError(f"unknown condition {condition!r}; choose from {CONDITIONS}")
    texture = texture or TEXTURES[rng.integers(len(TEXTURES))]
    if texture not in _TEXTURE_FUNCS:
        raise ValueError(f"unknown texture {texture!r}; choose from {TEXTURES}")
    h, w = size
    defects = tuple(c for c in (label, extra_defect) if c)
    if condition == "uniform":
        img = _uniform_field(rng, h, w, not defects)
        if not defects and rng.random() < 0.3:
            flat = cv2.convertScaleAbs(img, alpha=255)
            return Sample(flat, np.zeros((h, w), np.uint8), 0, (), "uniform")
    else:
        img = _TEXTURE_FUNCS[texture](rng, h, w).astype(np.float32)
    mask = np.zeros((h, w), np.uint8)
    for cls, box in zip(defects, _regions(rng, h, w, len(defects)), strict=True):
        alpha, footprint = _DEFECT_FUNCS[cls](rng, (h, w), box)
        img = _apply_defect(rng, img, cls, alpha).astype(np.float32, copy=False)
        mask[footprint] = cls
    image = _finish(rng, img, condition, not defects)
    return Sample(image, mask, int(label), defects, "uniform" if condition == "uniform" else texture)


def make_dataset(
    n: int,
    seed: int,
    size: tuple[int, int] = (256, 256),
    model_size: tuple[int, int] = (128, 128),
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Balanced single-defect data set: (images N,h,w,3 uint8, labels N, masks N,h,w uint8).

    Images are generated at `size` and downscaled to `model_size` (height, width) with
    INTER_AREA, masks with INTER_NEAREST, as the app does for a larger image.
    """
    rng = np.random.default_rng(seed)
    labels = rng.permutation(np.arange(n) % len(CLASS_NAMES)).astype(np.int64)
    mh, mw = model_size
    x = np.empty((n, mh, mw, 3), np.uint8)
    masks = np.empty((n, mh, mw), np.uint8)
    for i, label in enumerate(labels):
        s = make_sample(rng, int(label), size, TEXTURES[i % len(TEXTURES)])
        x[i] = cv2.resize(s.image, (mw, mh), interpolation=cv2.INTER_AREA)
        masks[i] = cv2.resize(s.mask, (mw, mh), interpolation=cv2.INTER_NEAREST)
    return x, labels, masks


def make_training_set(
    n: int,
    seed: int,
    size: tuple[int, int] = (256, 256),
    model_size: tuple[int, int] = (128, 128),
    mixed: float = 0.15,
    hard: float = 0.25,
    textures: dict[int, tuple[str, ...]] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Training images and multi-hot labels (N, 4): single defects, two defects, hard frames.

    A share `mixed` of the images carries two different defects (both labelled), a share
    `hard` is taken under a random hard condition (uniform, dark, bright, blurred), half of
    them defect-free; the rest are balanced single-label images. `textures` maps a class to
    the texture families its images are drawn on (all families by default).
    """
    rng = np.random.default_rng(seed)
    mh, mw = model_size
    x = np.empty((n, mh, mw, 3), np.uint8)
    y = np.zeros((n, len(CLASS_NAMES)), np.float32)
    for i in range(n):
        kind = rng.random()
        extra, condition = None, "normal"
        if kind < mixed:
            label, extra = (int(c) for c in rng.choice(np.arange(1, 4), 2, replace=False))
        elif kind < mixed + hard:
            label = 0 if rng.random() < 0.5 else int(rng.integers(1, 4))
            condition = CONDITIONS[1 + int(rng.integers(len(CONDITIONS) - 1))]
        else:
            label = int(rng.integers(len(CLASS_NAMES)))
        family = (textures or {}).get(label, TEXTURES)
        s = make_sample(rng, label, size, family[int(rng.integers(len(family)))], extra, condition)
        x[i] = cv2.resize(s.image, (mw, mh), interpolation=cv2.INTER_AREA)
        y[i, list(s.defects) or [0]] = 1.0
    return x, y
