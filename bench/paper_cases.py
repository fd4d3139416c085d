"""Bench cases of the methods tf-keras-vis does not have (HiResCAM, Eigen-CAM, Ablation-CAM,
occlusion, RISE, ...): each next to the straightforward implementation of its paper in
bench/papers.py, timed interleaved (bench.harness.measure), plus their agreement (the
correlation of the two maps)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from bench.harness import Bench, Result, Settings, measure

RISE_MASKS = 1000
OCCLUSION = {"patch": 16, "stride": 8}


def _agreement(ours, theirs) -> str:
    a, b = np.ravel(ours).astype(np.float64), np.ravel(theirs).astype(np.float64)
    if a.shape != b.shape or a.std() == 0 or b.std() == 0:
        return "maps not comparable"
    return f"map correlation {np.corrcoef(a, b)[0, 1]:.4f}"


def _pairs(bench: Bench, gradient_free: bool) -> dict[str, tuple[str, dict, Callable[[], object]]]:
    """method -> (title, our parameters, the paper implementation as a call)."""
    from bench import papers

    model, x, layer = bench.reference_model, bench.x, bench.layer
    pairs = {
        "hirescam": ("HiResCAM", {}, lambda: papers.hirescam(model, x, layer)),
        "gradcam-elementwise": ("Grad-CAM element-wise", {}, lambda: papers.gradcam_elementwise(model, x, layer)),
        "xgradcam": ("XGrad-CAM", {}, lambda: papers.xgradcam(model, x, layer)),
        "eigencam": ("Eigen-CAM", {}, lambda: papers.eigencam(model, x, layer)),
        "gradient-input": ("gradient x input", {}, lambda: papers.gradient_input(model, x)),
        "ablationcam": ("Ablation-CAM", {}, lambda: papers.ablation_cam(model, x, layer)),
    }
    if gradient_free:
        pairs["occlusion"] = ("occlusion 16/8", OCCLUSION, lambda: papers.occlusion(model, x, **OCCLUSION))
        pairs["rise"] = (f"RISE {RISE_MASKS} masks", {"masks": RISE_MASKS},
                         lambda: papers.rise(model, x, n_masks=RISE_MASKS))
    return pairs


def paper_methods(bench: Bench, settings: Settings, gradient_free: bool = True) -> list[Result]:
    """Every new method, ours against its paper implementation; occlusion and RISE only where
    `gradient_free` (hundreds of forward passes: the demo model, not VGG16)."""
    rows = []
    for name, (title, params, reference) in _pairs(bench, gradient_free).items():
        ours = bench.ours(name, **params)
        heavy = name in ("ablationcam", "occlusion", "rise")
        t = measure({"ours": ours, "paper": reference}, settings.heavy_repeats if heavy else settings.repeats,
                    settings.warmup)
        raw = ours().raw
        mine = np.maximum(raw, 0).mean(axis=-1) if raw.ndim == 3 and name != "occlusion" else np.squeeze(raw)
        theirs = reference()
        theirs = np.maximum(theirs, 0).mean(axis=-1) if np.ndim(theirs) == 3 else theirs
        note = _agreement(mine, np.reshape(theirs, np.shape(mine)))
        if name == "eigencam":
            from bench import papers

            signed = papers.eigencam(bench.reference_model, bench.x, bench.layer, agree_with_mean=True)
            note += (f" (pytorch-grad-cam keeps the SVD's sign); with the sign that agrees with the channel mean: "
                     f"{_agreement(mine, signed)}")
        rows.append(Result(f"{bench.label} {title} vs the paper's implementation", t["ours"], t["paper"], note=note))
    return rows
