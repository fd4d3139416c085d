"""Train the bundled demo defect classifier and (with --images) write the demo images.

Run from the repository root:  .venv/bin/python resources/demo/train_demo.py --images

Data come from resources.demo.synthetic: generated at 256x256 and downscaled to the 128x128 model
input, exactly as the app feeds a 256 px demo image to the model. Inputs are pixel/255
outside the model ("unit" preprocessing in the sidecar). The training set mixes single-defect
images, two-defect images (both classes labelled) and hard frames (flat fields, very dark,
very bright, blurred; half of them defect-free, labelled ok). Prints held-out accuracy, the
share of hard frames classified right, and Grad-CAM peak-in-mask rates on single- and
two-defect images as ConvScope computes them.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import zlib
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import cv2  # noqa: E402
import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))

from resources.demo.synthetic import (  # noqa: E402
    CLASS_NAMES,
    CONDITIONS,
    TEXTURES,
    make_dataset,
    make_sample,
    make_training_set,
)

TRAIN_SEED = 1234
HELDOUT_SEED = 98765  # never used for training; the tests use yet other seeds
LOCAL_SEED = 5151  # the script's own localisation and hard-frame figures
IMAGES_SEED = 2007
IMAGE_SIZE = (256, 256)
MODEL_SIZE = (128, 128)
MODEL_PATH = HERE / "defects.keras"
SIDECAR = {"class_names": list(CLASS_NAMES), "preprocessing": "unit", "target_layer": "last_conv"}
MIXED_PAIRS = ((1, 2), (1, 3), (2, 3), (2, 1), (3, 1), (3, 2))


def _conv_block(
    x: keras.KerasTensor, filters: int, name: str, strides: int = 1
) -> keras.KerasTensor:
    x = keras.layers.Conv2D(
        filters, 3, strides=strides, padding="same", use_bias=False, name=f"{name}_conv"
    )(x)
    x = keras.layers.BatchNormalization(momentum=0.9, name=f"{name}_bn")(x)
    return keras.layers.ReLU(name=f"{name}_relu")(x)


def build_model(name: str = "convscope_demo_defects", head: str = "maps") -> keras.Model:
    """Small functional CNN: three conv blocks down to a 16x16 `last_conv`, then the head.

    head "maps": a 1x1 convolution gives one score map per class, and each class's logit is
    the maximum plus the mean of its map, then softmax. Pooling class maps rather than
    features ties a logit to places: training on "is there a crack anywhere" teaches the
    crack map to stay low on scratches, and a class's Grad-CAM (its gradient is the 1x1
    weights, at the maximum and spread evenly) is that class's own score map. The max
    carries a defect covering a few percent of the image; the mean gives every place a
    gradient, which max pooling alone does not (it trained far slower in a trial).
    head "dense": global max pooling of the features, dropout, Dense, softmax (the first demo).
    """
    inputs = keras.Input((*MODEL_SIZE, 3), name="image")
    x = _conv_block(inputs, 24, "block1", strides=2)  # stride 2 first: 2x cheaper on 2 cores
    x = keras.layers.MaxPooling2D(2, name="block1_pool")(x)
    x = _conv_block(x, 48, "block2")
    x = keras.layers.MaxPooling2D(2, name="block2_pool")(x)
    x = _conv_block(x, 96, "block3")
    x = keras.layers.Conv2D(128, 3, padding="same", activation="relu", name="last_conv")(x)
    if head == "maps":
        x = keras.layers.SpatialDropout2D(0.1, name="dropout")(x)
        maps = keras.layers.Conv2D(len(CLASS_NAMES), 1, name="class_maps")(x)
        peak = keras.layers.GlobalMaxPooling2D(name="class_max")(maps)
        mean = keras.layers.GlobalAveragePooling2D(name="class_mean")(maps)
        logits = keras.layers.Add(name="logits")([peak, mean])
    else:
        x = keras.layers.GlobalMaxPooling2D(name="global_pool")(x)
        x = keras.layers.Dropout(0.3, name="dropout")(x)
        logits = keras.layers.Dense(len(CLASS_NAMES), name="logits")(x)
    outputs = keras.layers.Activation("softmax", name="predictions")(logits)
    return keras.Model(inputs, outputs, name=name)


def logits_model(model: keras.Model) -> keras.Model:
    """The same layers up to the pre-softmax scores."""
    return keras.Model(model.inputs, model.get_layer("logits").output)


def multilabel_loss(y_true: tf.Tensor, logits: tf.Tensor) -> tf.Tensor:
    """Softmax cross-entropy on the label shares plus one-vs-rest sigmoid loss per defect.

    `y_true` is multi-hot (an image with two defects has both). The sigmoid part asks each
    defect's logit alone "is this defect anywhere?", so a class's evidence must be absent
    from images of the other classes, not merely lower than theirs. "ok" (absence) is left
    to the softmax part: a max over places cannot see an absence.
    """
    shares = y_true / tf.reduce_sum(y_true, axis=1, keepdims=True)
    softmax = tf.nn.softmax_cross_entropy_with_logits(shares, logits)
    sigmoid = tf.nn.sigmoid_cross_entropy_with_logits(y_true[:, 1:], logits[:, 1:])
    return softmax + tf.reduce_sum(sigmoid, axis=1)


def to_unit(x: np.ndarray) -> np.ndarray:
    """The sidecar's "unit" preprocessing: uint8 pixels to float32 in [0, 1]."""
    return x.astype(np.float32) / 255.0


def training_data(x: np.ndarray, y: np.ndarray, batch: int, seed: int) -> tf.data.Dataset:
    """Shuffled batches with random flips and quarter turns (defect classes are rotation-free)."""

    def augment(img: tf.Tensor, label: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        img = tf.cast(img, tf.float32) / 255.0
        img = tf.image.random_flip_left_right(img, seed=seed)
        img = tf.image.rot90(img, tf.random.uniform([], 0, 4, tf.int32, seed=seed + 1))
        return img, label

    ds = tf.data.Dataset.from_tensor_slices((x, y)).shuffle(len(x), seed=seed)
    return ds.map(augment, num_parallel_calls=1).batch(batch).prefetch(2)


def fit(
    model: keras.Model,
    x: np.ndarray,
    y: np.ndarray,
    epochs: int,
    batch: int,
    seed: int,
    rate: float = 2e-3,
) -> keras.Model:
    """Fit the model's logits to multi-hot labels with Adam and a cosine learning rate."""
    steps = epochs * int(np.ceil(len(x) / batch))
    lr = keras.optimizers.schedules.CosineDecay(rate, steps, alpha=0.02)
    trainer = logits_model(model)
    trainer.compile(optimizer=keras.optimizers.Adam(lr), loss=multilabel_loss, jit_compile=True)
    trainer.fit(training_data(x, y, batch, seed), epochs=epochs, verbose=2)
    return model


def training_set(n: int, seed: int, cache: Path | None = None, **options) -> tuple[np.ndarray, np.ndarray]:
    """make_training_set at the demo's sizes, kept in `cache` (a folder) between trial runs."""
    key = "_".join(f"{k}{v}" for k, v in sorted(options.items())).replace(" ", "")
    stored = None if cache is None else cache / f"train_{n}_{seed}_{zlib.crc32(key.encode()):08x}.npz"
    if stored is not None and stored.exists():
        data = np.load(stored)
        return data["x"], data["y"]
    t0 = time.perf_counter()
    x, y = make_training_set(n, seed, IMAGE_SIZE, MODEL_SIZE, **options)
    print(f"generated {n} training images in {time.perf_counter() - t0:.1f} s")
    if stored is not None:
        stored.parent.mkdir(parents=True, exist_ok=True)
        np.savez(stored, x=x, y=y)
    return x, y


def train(
    n_train: int,
    epochs: int,
    batch: int,
    head: str = "maps",
    cache: Path | None = None,
    stage: int = 1,
    init: Path | None = None,
) -> keras.Model:
    """Generate the training set (single, two-defect and hard frames) and fit the model.

    Stage n > 1 continues the model of stage n - 1 (`init`) on a fresh set (seed + n - 1)
    at half the previous starting rate; every stage is needed to rebuild the shipped model
    (see the README).
    """
    seed = TRAIN_SEED + stage - 1
    x, y = training_set(n_train, seed, cache)
    model = build_model(head=head)
    if init is not None:
        model.set_weights(keras.saving.load_model(init, compile=False, safe_mode=True).get_weights())
    return fit(model, x, y, epochs, batch, seed, 2e-3 / 2 ** (stage - 1))


def heldout(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Held-out single-label set at model size, generated at 256 px and shrunk as the app does."""
    x, labels, _ = make_dataset(n, seed, IMAGE_SIZE, MODEL_SIZE)
    return x, labels


def predict(model: keras.Model, x: np.ndarray) -> np.ndarray:
    """Predicted class indices for uint8 model-size images."""
    return model.predict(to_unit(x), batch_size=128, verbose=0).argmax(1)


def evaluate_accuracy(model: keras.Model, n: int, seed: int) -> dict[str, float]:
    """Print and return held-out accuracy and per-class accuracy."""
    x, y = heldout(n, seed)
    pred = predict(model, x)
    result = {"accuracy": float(np.mean(pred == y))}
    print(f"held-out accuracy ({n} images, seed {seed}): {result['accuracy']:.4f}")
    for c, name in enumerate(CLASS_NAMES):
        result[f"acc_{name}"] = float(np.mean(pred[y == c] == c))
        print(f"  {name:8s} {result[f'acc_{name}']:.4f}")
    return result


def hard_frames(
    n: int, seed: int, label: int = 0, textures: tuple[str, ...] = TEXTURES
) -> dict[str, np.ndarray]:
    """Per hard condition, `n` frames of class `label` at model size (ok by default)."""
    rng = np.random.default_rng(seed)
    frames = {}
    for condition in CONDITIONS[1:]:
        images = [
            make_sample(rng, label, IMAGE_SIZE, textures[i % len(textures)], None, condition).image
            for i in range(n)
        ]
        frames[condition] = np.stack(
            [cv2.resize(im, MODEL_SIZE[::-1], interpolation=cv2.INTER_AREA) for im in images]
        )
    return frames


def flat_frames() -> np.ndarray:
    """Exactly flat frames: black, white, mid grey and a few saturated colours."""
    colours = [(0, 0, 0), (255, 255, 255), (128, 128, 128), (255, 0, 0), (0, 255, 0),
               (0, 0, 255), (255, 255, 0), (40, 40, 40), (220, 220, 220)]  # fmt: skip
    return np.stack([np.full((*MODEL_SIZE, 3), c, np.uint8) for c in colours])


def evaluate_hard_frames(model: keras.Model, n: int, seed: int) -> dict[str, float]:
    """Share of defect-free hard frames called ok, and of defect hard frames called right."""
    result = {"flat_ok": float(np.mean(predict(model, flat_frames()) == 0))}
    for condition, x in hard_frames(n, seed).items():
        result[f"{condition}_ok"] = float(np.mean(predict(model, x) == 0))
    for label in (1, 2, 3):
        for condition, x in hard_frames(n // 3 + 1, seed + label, label).items():
            result.setdefault(f"{condition}_defect", 0.0)
            result[f"{condition}_defect"] += float(np.mean(predict(model, x) == label)) / 3
    print("hard frames: " + " ".join(f"{k}={v:.3f}" for k, v in result.items()))
    return result


def _loaded(image: np.ndarray):  # noqa: ANN202 - engine.images.decoding.LoadedImage
    from engine.images.decoding import decode_image

    ok, data = cv2.imencode(".png", cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
    assert ok
    return decode_image(data.tobytes(), "<synthetic>")


HALF_CELL = 8  # px at 256 px: half a cell of the 16x16 `last_conv` map


def peak_hits(session, samples: list, classes: list[int]) -> np.ndarray:  # noqa: ANN001
    """Per sample, where ConvScope's Grad-CAM of `classes[i]` peaks: (inside that class's
    mask, within HALF_CELL px of it, within HALF_CELL px of another defect's mask)."""
    results = session.explain_batch([_loaded(s.image) for s in samples], "gradcam", classes=classes)
    hits = []
    for sample, cls, result in zip(samples, classes, results, strict=True):
        y, x = np.unravel_index(np.argmax(result.heatmap), result.heatmap.shape)
        near = []
        for region in (sample.mask == cls, (sample.mask > 0) & (sample.mask != cls)):
            distance = cv2.distanceTransform((~region).astype(np.uint8), cv2.DIST_L2, 5)
            near.append(bool(region.any() and distance[y, x] <= HALF_CELL))
        hits.append((bool(sample.mask[y, x] == cls), *near))
    return np.array(hits, bool).reshape(-1, 3)


def evaluate_localisation(path: Path, per_class: int, seed: int) -> dict[str, float]:
    """Grad-CAM peak rates as ConvScope computes them (last_conv, on the logit): inside the
    defect's mask, within half a map cell of it ("near"), near another defect ("other").

    Single defects: correctly classified images, the predicted class. Two defects: every
    image, each of its two classes explained in turn.
    """
    from engine import Session

    rng = np.random.default_rng(seed)
    single = [make_sample(rng, label) for label in (1, 2, 3) for _ in range(per_class)]
    session = Session.open(path)
    predicted = [p.best.index for p in session.predict([_loaded(s.image) for s in single], top=1)]
    kept = [s for s, p in zip(single, predicted, strict=True) if p == s.label]
    pairs = [(a, b) for a in (1, 2, 3) for b in (1, 2, 3) if a != b]
    mixed = [make_sample(rng, a, extra_defect=b) for _ in range(per_class // 2) for a, b in pairs]
    sets = {
        "single": (peak_hits(session, kept, [s.label for s in kept]), [s.label for s in kept]),
        "mixed": (
            np.concatenate([peak_hits(session, mixed, [s.defects[k] for s in mixed]) for k in (0, 1)]),
            [s.defects[0] for s in mixed] + [s.defects[1] for s in mixed],
        ),
    }
    result: dict[str, float] = {}
    for name, (hits, classes) in sets.items():
        result[f"{name}_n"] = len(hits)
        for c in (0, 1, 2, 3):  # 0: every class
            rows = hits[np.equal(classes, c) | (c == 0)]
            suffix = f"_{CLASS_NAMES[c]}" if c else ""
            result[f"{name}_inside{suffix}"], result[f"{name}_near{suffix}"] = rows[:, :2].mean(0)
        result[f"{name}_other"] = float(hits[:, 2].mean())
    print("Grad-CAM peak: " + " ".join(f"{k}={float(v):.3f}" for k, v in result.items()))
    return result


def save_model(model: keras.Model, path: Path = MODEL_PATH, sidecar: dict = SIDECAR) -> None:
    """Save an uncompiled .keras (no optimizer state) and its sidecar `<stem>.convscope.json`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    keras.Model(model.inputs, model.outputs, name=model.name).save(path)
    side = path.with_name(f"{path.stem}.convscope.json")
    side.write_text(json.dumps(sidecar, indent=2) + "\n", encoding="utf-8")
    print(f"saved {path} ({path.stat().st_size / 1e6:.2f} MB) and {side.name}")


def _write_png(path: Path, array: np.ndarray) -> None:
    ok, buf = cv2.imencode(".png", array, [cv2.IMWRITE_PNG_COMPRESSION, 9])
    assert ok, path
    buf.tofile(str(path))


def save_sample(folder: Path, stem: str, image: np.ndarray, mask: np.ndarray | None) -> None:
    """Write `<stem>.png` (RGB image) and, for a defect image, `<stem>_mask.png`."""
    folder.mkdir(parents=True, exist_ok=True)
    _write_png(folder / f"{stem}.png", cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
    if mask is not None:
        _write_png(folder / f"{stem}_mask.png", mask)


def write_demo_images(out: Path, seed: int = IMAGES_SEED, per_class: int = 9) -> int:
    """Write per-class and mixed demo images with masks; every 4th image is 320x256 (w x h)."""
    rng = np.random.default_rng(seed)
    for old in out.glob("*/*.png"):
        old.unlink()
    count = 0
    for label, name in enumerate(CLASS_NAMES):
        for i in range(per_class):
            size = (256, 320) if i % 4 == 3 else IMAGE_SIZE
            s = make_sample(rng, label, size, TEXTURES[(i + label) % len(TEXTURES)])
            save_sample(out / name, f"{name}_{i + 1:02d}", s.image, s.mask if label else None)
            count += 1
    for i, (a, b) in enumerate(MIXED_PAIRS):
        size = (256, 320) if i % 3 == 2 else IMAGE_SIZE
        s = make_sample(rng, a, size, TEXTURES[i % len(TEXTURES)], extra_defect=b)
        stem = f"mixed_{i + 1:02d}_{CLASS_NAMES[a]}_{CLASS_NAMES[b]}"
        save_sample(out / "mixed", stem, s.image, s.mask)
        count += 1
    print(f"wrote {count} demo images to {out}")
    return count


def main(argv: list[str] | None = None) -> int:
    """Command line: train, save, evaluate; --images also writes the demo images."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", action="store_true", help="also write resources/demo/images")
    parser.add_argument("--images-only", action="store_true", help="write the images, no training")
    parser.add_argument("--evaluate-only", action="store_true", help="evaluate --out, no training")
    parser.add_argument("--out", type=Path, default=MODEL_PATH, help="model file to write")
    parser.add_argument("--n-train", type=int, default=4000)
    parser.add_argument("--epochs", type=int, help="default 6 for stage 1, 4 for later stages")
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--n-heldout", type=int, default=800)
    parser.add_argument("--head", choices=("maps", "dense"), default="maps")
    parser.add_argument("--cache", type=Path, help="keep generated training sets in this folder")
    parser.add_argument("--stage", type=int, choices=(1, 2, 3), default=1)
    parser.add_argument("--init", type=Path, help="stage 2 or 3: the previous stage's model")
    parser.add_argument("--n-local", type=int, default=60, help="localisation images per class")
    args = parser.parse_args(argv)
    if args.images or args.images_only:
        write_demo_images(HERE / "images")
    if args.images_only:
        return 0
    tf.config.threading.set_intra_op_parallelism_threads(2)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    keras.utils.set_random_seed(TRAIN_SEED)
    np.random.seed(TRAIN_SEED)
    if args.evaluate_only:
        model = keras.saving.load_model(args.out, compile=False, safe_mode=True)
    else:
        t0 = time.perf_counter()
        if (args.stage > 1) != (args.init is not None):
            parser.error("--init (the previous stage's model) goes with --stage 2 or more")
        epochs = args.epochs or (6 if args.stage == 1 else 4)
        model = train(args.n_train, epochs, args.batch, args.head, args.cache, args.stage, args.init)
        print(f"training time (data + fit): {time.perf_counter() - t0:.0f} s")
        save_model(model, args.out)
    evaluate_accuracy(model, args.n_heldout, HELDOUT_SEED)
    evaluate_hard_frames(model, 60, LOCAL_SEED)
    evaluate_localisation(args.out, args.n_local, LOCAL_SEED)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
