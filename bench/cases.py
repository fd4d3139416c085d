"""The benchmark cases: ConvScope next to the seeds' algorithms and tf-keras-vis (the methods
that have neither are in bench/paper_cases.py), and `run_all`, every case in turn."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import numpy as np

from bench.harness import (
    GRID_LAYER,
    Bench,
    Result,
    Settings,
    demo_bench,
    machine,
    measure,
    synthetic_image,
    vgg16_bench,
)
from bench.paper_cases import paper_methods


# -- cases ----------------------------------------------------------------------------------
def gradient_cams(bench: Bench, settings: Settings) -> list[Result]:
    """Grad-CAM, Grad-CAM++, LayerCAM (ours, seed 000, tf-keras-vis) and a compiled forward pass."""
    from bench.reference import make_gradcam_heatmap
    from engine.model.backend import tf

    model, x = bench.session.model, bench.x
    forward = tf.function(lambda t: model(t, training=False),
                          input_signature=[tf.TensorSpec((None, *x.shape[1:]), tf.float32)])
    xt = tf.constant(x)
    contestants = {
        "forward": lambda: forward(xt).numpy(),
        "gradcam": bench.ours("gradcam"),
        "gradcam++": bench.ours("gradcam++"),
        "layercam": bench.ours("layercam"),
        "seed-gradcam": lambda: make_gradcam_heatmap(x, bench.reference_model, bench.layer),
    }
    for name in ("gradcam", "gradcam++", "layercam"):
        if name in bench.tkv:
            contestants[f"tkv-{name}"] = lambda f=bench.tkv[name]: f(x)
    t = measure(contestants, settings.repeats, settings.warmup)
    vgg = bench.label == "VGG16"
    rows = [
        Result(f"{bench.label} Grad-CAM vs seed 000", t["gradcam"], t["seed-gradcam"], 3.0 if vgg else None),
        Result(f"{bench.label} Grad-CAM vs compiled forward pass", t["gradcam"], t["forward"],
               1 / 1.5 if vgg else None,
               f"ours = {t['gradcam'] / t['forward']:.2f} forward passes (target <= 1.5)"),
    ]
    if "tkv-gradcam" in t:
        rows.insert(1, Result(f"{bench.label} Grad-CAM vs tf-keras-vis", t["gradcam"], t["tkv-gradcam"],
                              3.0 if vgg else None))
    for name, title in (("gradcam++", "Grad-CAM++"), ("layercam", "LayerCAM")):
        if f"tkv-{name}" in t:
            rows.append(Result(f"{bench.label} {title} vs tf-keras-vis", t[name], t[f"tkv-{name}"]))
        rows.append(Result(f"{bench.label} {title} vs our Grad-CAM", t[name], t["gradcam"], 1 / 1.2 if vgg else None,
                           f"ours = {t[name] / t['gradcam']:.2f} x our Grad-CAM (target <= 1.2)"))
    return rows


def score_cams(bench: Bench, settings: Settings, full: bool = False) -> list[Result]:
    """Faster Score-CAM (N=10), and on small models the full Score-CAM: ours, seed 001, tf-keras-vis."""
    from bench.reference import score_cam

    x, model, layer = bench.x, bench.reference_model, bench.layer
    contestants = {"faster": bench.ours("faster-scorecam", top_n=10),
                   "seed-faster": lambda: score_cam(model, x, layer, max_N=10)}
    if "faster-scorecam" in bench.tkv:
        contestants["tkv-faster"] = lambda: bench.tkv["faster-scorecam"](x)
    if full:
        contestants["full"] = bench.ours("scorecam")
        contestants["seed-full"] = lambda: score_cam(model, x, layer)
    # warm-up with one channel: the same compiled functions (batch dimension left open)
    warm = {"faster": bench.ours("faster-scorecam", top_n=1),
            "seed-faster": lambda: score_cam(model, x, layer, max_N=1)}
    t = measure(contestants, settings.heavy_repeats, settings.warmup, warm)
    vgg = bench.label == "VGG16"
    rows = [Result(f"{bench.label} Faster Score-CAM N=10 vs seed 001", t["faster"], t["seed-faster"],
                   1.5 if vgg else None)]
    if "tkv-faster" in t:
        rows.append(Result(f"{bench.label} Faster Score-CAM N=10 vs tf-keras-vis", t["faster"], t["tkv-faster"],
                           1.5 if vgg else None))
    if full:
        rows.append(Result(f"{bench.label} Score-CAM (all channels) vs seed 001", t["full"], t["seed-full"]))
    return rows


def input_gradients(bench: Bench, settings: Settings, steps: int) -> list[Result]:
    """Saliency (ours vs tf-keras-vis) and Integrated Gradients (ours vs seed 004)."""
    from bench.reference import get_integrated_gradients
    from engine.images.preprocessing import preprocess

    rows = []
    if "saliency" in bench.tkv:
        t = measure({"ours": bench.ours("saliency"), "tkv": lambda: bench.tkv["saliency"](bench.x)},
                    settings.repeats, settings.warmup)
        rows.append(Result(f"{bench.label} saliency vs tf-keras-vis", t["ours"], t["tkv"]))
    pixels = bench.session.model_pixels(bench.image)
    mode = bench.session.info.preprocessing
    t = measure({"ours": bench.ours("integrated-gradients", steps=steps),
                 "seed": lambda: get_integrated_gradients(bench.reference_model, pixels, bench.class_index,
                                                          lambda p: preprocess(p, mode), num_steps=steps)},
                settings.heavy_repeats, settings.warmup,
                warm={"ours": bench.ours("integrated-gradients", steps=1),
                      "seed": lambda: get_integrated_gradients(bench.reference_model, pixels, bench.class_index,
                                                               lambda p: preprocess(p, mode), num_steps=1)})
    rows.append(Result(f"{bench.label} Integrated Gradients ({steps} steps) vs seed 004", t["ours"], t["seed"]))
    return rows


def _conv_flops(model, size: int, layer: str) -> float:
    """Forward FLOPs (2 per multiply-add) of the convolutions up to `layer` on a size x size input."""
    flops, side = 0.0, size
    for item in model.layers:
        kind = type(item).__name__
        if kind == "MaxPooling2D":
            side //= item.pool_size[0]
        elif kind == "Conv2D":
            kh, kw = item.kernel_size
            flops += 2.0 * side * side * item.kernel.shape[2] * item.filters * kh * kw
        if item.name == layer:
            break
    return flops


def _flop_rate(seconds: float = 3.0) -> float:
    """The machine's measured float32 rate on a compiled 3x3 convolution (FLOP/s), the kernel
    that dominates the filter-pattern steps (block2-sized: 32x32x128 -> 128)."""
    from engine.model.backend import tf

    x = tf.random.normal((16, 32, 32, 128))
    w = tf.random.normal((3, 3, 128, 128))
    run = tf.function(lambda a: tf.nn.conv2d(a, w, 1, "SAME"))
    run(x).numpy()
    flops = 2.0 * 16 * 32 * 32 * 128 * 128 * 9
    count, began = 0, time.perf_counter()
    while time.perf_counter() - began < seconds:
        run(x).numpy()
        count += 1
    return flops * count / (time.perf_counter() - began)


def filter_grid(bench: Bench, settings: Settings) -> list[Result]:
    """The block3_conv1 filter grid at 64 px: ours (one batched compiled step) vs seed 002's loop."""
    from bench.reference import pattern_grid
    from engine.features.patterns import PatternSettings, filter_patterns
    from engine.model.backend import keras

    side, steps, size = settings.grid_side, settings.grid_steps, 64
    # Seed 002's model takes any size; the same VGG16 convolutions on a free-size input.
    free = keras.applications.VGG16(weights=None, include_top=False, input_shape=(None, None, 3))
    pattern = PatternSettings(size=size, steps=steps)
    count = side * side
    one_step = PatternSettings(size=size, steps=1)
    t = measure({"ours": lambda: filter_patterns(bench.session, GRID_LAYER, list(range(count)), pattern),
                 "seed": lambda: pattern_grid(free, GRID_LAYER, side, side, size, steps)},
                settings.heavy_repeats, settings.warmup,
                warm={"ours": lambda: filter_patterns(bench.session, GRID_LAYER, [0], one_step),
                      "seed": lambda: pattern_grid(free, GRID_LAYER, 1, 1, size, 1)})
    # The floor: one compiled forward pass of the same layers on the whole batch, times two
    # (the input-gradient pass costs about as much), per step.
    from engine.model.backend import tf

    extractor = keras.Model(free.inputs, free.get_layer(GRID_LAYER).output)
    forward_pass = tf.function(lambda a: extractor(a, training=False))
    batch = tf.constant(np.random.default_rng(0).random((count, size, size, 3), dtype=np.float32) * 20 + 128)
    timed = measure({"forward": lambda: forward_pass(batch).numpy()}, 5, 1)["forward"]
    forward = _conv_flops(free, size, GRID_LAYER)
    per_step = 2.0 * forward
    work = per_step * count * steps
    model_rate = forward * count / timed
    floor = 2.0 * timed * steps
    rate = _flop_rate()
    note = (f"per step and filter {per_step / 1e9:.2f} GFLOP (forward {forward / 1e9:.2f} + input gradient); "
            f"{count} filters x {steps} steps = {work / 1e12:.2f} TFLOP. Measured: 3x3-conv kernel peak "
            f"{rate / 1e9:.0f} GFLOP/s; these layers' compiled forward pass {model_rate / 1e9:.0f} GFLOP/s -> "
            f"compute floor (2 x forward x {steps} steps) {floor:.1f} s. Ours {t['ours']:.1f} s "
            f"({work / t['ours'] / 1e9:.0f} GFLOP/s, {t['ours'] / floor:.2f} x floor); seed {t['seed']:.1f} s "
            f"({work / t['seed'] / 1e9:.0f} GFLOP/s). Batching buys nothing on this CPU (batch 1 runs at the same "
            f"rate), so the most any implementation could gain is seed / floor = {t['seed'] / floor:.1f}x, "
            f"not 10x")
    return [Result(f"{bench.label} {side}x{side} filter grid {GRID_LAYER} 64 px {steps} steps vs seed 002",
                   t["ours"], t["seed"], 10.0, note)]


def batched_folder(bench: Bench, settings: Settings, workdir: Path) -> list[Result]:
    """Grad-CAM over a folder of images, 32 at a time, against plain model.predict on them."""
    from engine.images.decoding import load_image

    count = settings.batch_images
    folder = workdir / "batch"
    folder.mkdir(exist_ok=True)
    images = [synthetic_image(folder / f"{i:03d}.png", 224, seed=100 + i) for i in range(count)]
    paths = [image.path for image in images]
    model, session, batch = bench.session.model, bench.session, 32

    def ours():
        loaded = [load_image(p) for p in paths]
        for i in range(0, count, batch):
            session.explain_batch(loaded[i:i + batch], "gradcam", bench.layer)

    def predict():
        loaded = [load_image(p) for p in paths]
        model.predict(session.batch(loaded), batch_size=batch, verbose=0)

    # warm-up on two images (traces both functions), then the timed rounds on the whole folder
    session.explain_batch(images[:2], "gradcam", bench.layer)
    model.predict(session.batch(images[:2]), batch_size=batch, verbose=0)
    t = measure({"ours": ours, "predict": predict}, settings.heavy_repeats, warmup=0)
    per_ours, per_predict = t["ours"] / count, t["predict"] / count
    return [Result(f"{bench.label} Grad-CAM over {count} images (batches of {batch}) vs model.predict",
                   per_ours, per_predict, 0.5,
                   f"seconds per image (files read, preprocessed, explained); throughput {1 / per_ours:.2f} vs "
                   f"{1 / per_predict:.2f} images/s = {per_predict / per_ours:.2f} of predict's (target >= 0.5)")]


def _demo_folder(folder: Path, count: int) -> None:
    """`count` demo-size (256 px) synthetic images in label folders, each with its mask."""
    import cv2

    from resources.demo.synthetic import CLASS_NAMES, make_sample

    rng = np.random.default_rng(2024)
    for i in range(count):
        label = i % len(CLASS_NAMES)
        sample = make_sample(rng, label, (256, 256))
        sub = folder / CLASS_NAMES[label]
        sub.mkdir(parents=True, exist_ok=True)
        cv2.imwrite(str(sub / f"{i:04d}.png"), cv2.cvtColor(sample.image, cv2.COLOR_RGB2BGR))
        cv2.imwrite(str(sub / f"{i:04d}_mask.png"), sample.mask)


def lot_review(bench: Bench, settings: Settings, workdir: Path) -> list[Result]:
    """engine.review.review_folder with Grad-CAM (predict, explain, score against masks), per image,
    next to seed 000's loop (read, preprocess, make_gradcam_heatmap, resize) on a subset."""
    import cv2

    from bench.reference import make_gradcam_heatmap
    from engine.images.decoding import list_images
    from engine.images.preprocessing import preprocess
    from engine.review import ReviewOptions, review_folder

    folder, warm = workdir / "lot", workdir / "lot-warm"
    began = time.perf_counter()
    _demo_folder(folder, settings.review_images)
    _demo_folder(warm, 8)
    generated = time.perf_counter() - began
    session, model, layer = bench.session, bench.reference_model, bench.layer
    height, width = session.info.input_shape[:2]
    mode = session.info.preprocessing
    subset = list_images(folder)[:settings.review_reference_images]

    def seed_loop():
        for path in subset:
            img = cv2.cvtColor(cv2.imread(str(path)), cv2.COLOR_BGR2RGB)
            array = preprocess(cv2.resize(img, (width, height)).astype(np.float32)[None], mode)
            heatmap = make_gradcam_heatmap(array, model, layer)
            cv2.resize(heatmap, (img.shape[1], img.shape[0]))

    review_folder(session, warm, ReviewOptions("gradcam", layer))
    result = None

    def ours():
        nonlocal result
        result = review_folder(session, folder, ReviewOptions("gradcam", layer))

    t = measure({"ours": ours, "seed": seed_loop}, settings.heavy_repeats if not settings.quick else 1, warmup=0)
    per_ours = t["ours"] / settings.review_images
    per_seed = t["seed"] / len(subset)
    reviewed = len(result.rows)
    return [Result(f"lot review: {settings.review_images} demo images (256 px) with Grad-CAM, per image",
                   per_ours, per_seed, None,
                   f"review_folder: {t['ours']:.1f} s for {reviewed} images ({1 / per_ours:.0f} images/s, with "
                   f"masks and metrics); seed 000 loop per image on {len(subset)} of them (heatmap only); "
                   f"generating the images took {generated:.1f} s (not timed)")]


def scope_cases(bench: Bench, settings: Settings) -> list[Result]:
    """Fused LayerCAM (default layer set) against single-layer LayerCAM, and a 1024 x 1024 frame
    in tiles against the whole frame squeezed into the model input (Grad-CAM)."""
    from engine.images.decoding import LoadedImage

    rng = np.random.default_rng(0)
    pixels = (rng.random((1024, 1024, 3)) * 255).astype(np.uint8)
    frame = LoadedImage("frame.png", pixels, pixels.astype(np.float32), False, "uint8", 8)
    session = bench.session
    t = measure({"fused": lambda: session.explain(bench.image, "layercam", fuse="max"),
                 "single": bench.ours("layercam"),
                 "tiles": lambda: session.explain(frame, "gradcam", tiles=True),
                 "whole": lambda: session.explain(frame, "gradcam")}, settings.heavy_repeats, settings.warmup)
    layers = " + ".join(session.target_layers(None, "max"))
    count = session.explain(frame, "gradcam", tiles=True).notes[-1].split(" tiles")[0]
    return [Result(f"{bench.label} fused LayerCAM ({layers}) vs single-layer LayerCAM", t["fused"], t["single"],
                   note=f"ours = {t['fused'] / t['single']:.1f} x one layer"),
            Result(f"{bench.label} Grad-CAM on a 1024 x 1024 frame in tiles vs the frame squeezed to the input",
                   t["tiles"], t["whole"], note=f"{count}; {t['tiles'] / t['whole']:.0f} x the squeezed frame")]


def run_all(settings: Settings, only: str | None = None, log=print) -> tuple[dict, list[Result]]:
    """Every case in turn; `only` keeps the groups whose name contains it."""
    results: list[Result] = []
    info = machine()
    with tempfile.TemporaryDirectory(prefix="convscope-bench-") as tmp:
        workdir = Path(tmp)
        benches: dict[str, Bench] = {}

        def get(name: str) -> Bench:
            if name not in benches:
                log(f"# building the {name} model ...")
                benches[name] = vgg16_bench(workdir) if name == "VGG16" else demo_bench(workdir)
            return benches[name]

        groups = [
            ("vgg-cams", lambda: gradient_cams(get("VGG16"), settings)),
            ("vgg-scorecam", lambda: score_cams(get("VGG16"), settings)),
            ("vgg-batch", lambda: batched_folder(get("VGG16"), settings, workdir)),
            ("vgg-filters", lambda: filter_grid(get("VGG16"), settings)),
            ("vgg-gradients", lambda: input_gradients(get("VGG16"), settings, settings.ig_steps)),
            ("demo-cams", lambda: gradient_cams(get("demo"), settings)),
            ("demo-scorecam", lambda: score_cams(get("demo"), settings, full=True)),
            ("demo-gradients", lambda: input_gradients(get("demo"), settings, 50)),
            ("demo-review", lambda: lot_review(get("demo"), settings, workdir)),
            ("vgg-new-methods", lambda: paper_methods(get("VGG16"), settings, gradient_free=False)),
            ("demo-new-methods", lambda: paper_methods(get("demo"), settings)),
            ("demo-scope", lambda: scope_cases(get("demo"), settings)),
        ]
        for name, case in groups:
            if only and only not in name:
                continue
            began = time.perf_counter()
            rows = case()
            results.extend(rows)
            log(f"# {name}: {time.perf_counter() - began:.0f} s")
    return info, results
