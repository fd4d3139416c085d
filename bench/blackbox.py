"""Deployed exports: batched occlusion / RISE on an export against a per-image loop with the
runtime, and `compare` against one review of the same lot (the issue asks for <= 2.2x)."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from bench.harness import Result, Settings, measure

DEMO = Path(__file__).resolve().parents[1] / "resources" / "demo"


def _runtime_loop(session, method: str, x: np.ndarray, params: dict) -> np.ndarray:
    """What a user with only the runtime writes: every perturbed image through the runtime alone."""
    from engine.methods.perturbation import fill_values, patch_starts, rise_masks

    runtime = session.runtime
    base = runtime.run(x[None])[0]
    top = int(np.argmax(base))
    height, width = x.shape[:2]
    if method == "occlusion":
        patch, stride = params["patch"], params["stride"]
        fill = fill_values(x[None], "mean", patch)[0]
        total = np.zeros((height, width))
        for y in patch_starts(height, patch, stride):
            for x0 in patch_starts(width, patch, stride):
                occluded = x.copy()
                occluded[y:y + patch, x0:x0 + patch] = fill[y:y + patch, x0:x0 + patch]
                total[y:y + patch, x0:x0 + patch] += base[top] - runtime.run(occluded[None])[0][top]
        return total
    rng = np.random.default_rng(0)
    grids = rng.random((params["masks"], params["grid"], params["grid"])) < 0.5
    shifts = rng.integers(0, -(-height // params["grid"]), (params["masks"], 2))
    total = np.zeros((height, width))
    for index in range(params["masks"]):
        mask = rise_masks(np.array([index]), grids, shifts, height, width)[0]
        total += runtime.run((x * mask[..., None])[None])[0][top] * mask
    return total


def export_perturbation(settings: Settings) -> list[Result]:
    """Occlusion and RISE on the demo's int8 TFLite and ONNX exports: the engine's batched path
    (session.explain) against the runtime called once per perturbed image."""
    from engine import Session

    image_path = DEMO / "images" / "scratch" / "scratch_01.png"
    cases = (("occlusion", {"patch": 16, "stride": 8}), ("rise", {"masks": 500 if settings.quick else 1000,
                                                                   "grid": 8}))
    results = []
    for export in ("defects_int8.tflite", "defects.onnx"):
        session = Session.open(DEMO / export)
        image = session.load_image(image_path)
        x = session.model_input(image)
        for method, params in cases:
            t = measure({"ours": lambda s=session, i=image, m=method, p=params: s.explain(i, m, **p),
                         "loop": lambda s=session, v=x, m=method, p=params: _runtime_loop(s, m, v, p)},
                        settings.heavy_repeats, warmup=1)
            results.append(Result(f"{method} on {export}, one 128 px image: batched vs per-image runtime loop",
                                  t["ours"], t["loop"], None, f"parameters {params}"))
    return results


def compare_cost(settings: Settings) -> list[Result]:
    """compare (decode once, both models on the same batches) against one review of the same lot
    with model A; ratio = review / compare, target >= 1 / 2.2."""
    from engine import Session
    from engine.review import ReviewOptions, review_folder
    from engine.review.compare import compare_folder

    options = ReviewOptions("occlusion", params={"patch": 16, "stride": 16, "fill": "mean"})
    lot = DEMO / "images"
    keras = Session.open(DEMO / "defects.keras")
    results = []
    for against in ("defects_float.tflite", "shortcut.keras"):
        other = Session.open(DEMO / against)
        began = time.perf_counter()
        t = measure({"compare": lambda o=other: compare_folder(keras, o, lot, options),
                     "review": lambda: review_folder(keras, lot, options),
                     "review B": lambda o=other: review_folder(o, lot, options)},
                    settings.heavy_repeats, warmup=1)
        both = t["review"] + t["review B"]
        note = (f"42 demo images, occlusion 16/16; one review of B alone {t['review B']:.2f} s; "
                f"compare / (review A + review B) = {t['compare'] / both:.2f} "
                f"(compare's own cost {t['compare'] - both:+.2f} s); {time.perf_counter() - began:.0f} s in all")
        results.append(Result(f"compare defects.keras vs {against} against one review of defects.keras",
                              t["compare"], t["review"], 1 / 2.2, note))
    return results
