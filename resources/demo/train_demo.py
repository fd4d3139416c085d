"""Train the bundled demo defect classifier and (with --images) write the demo images.

Run from the repository root:  .venv/bin/python resources/demo/train_demo.py --images

Data come from resources.demo.synthetic: generated at 256x256 and downscaled to the 128x128 model
input, exactly as the app feeds a 256 px demo image to the model. Inputs are pixel/255
outside the model ("unit" preprocessing in the sidecar). Prints held-out accuracy, per-class
accuracy and a Grad-CAM hit rate (the Grad-CAM peak lies inside the defect mask).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import cv2  # noqa: E402
import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))

from resources.demo.synthetic import CLASS_NAMES, TEXTURES, make_dataset, make_sample  # noqa: E402

TRAIN_SEED = 1234
HELDOUT_SEED = 98765  # never used for training; the tests use yet another seed
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


def build_model() -> keras.Model:
    """Small functional CNN: three conv blocks down to a 16x16 `last_conv`, max pool, softmax."""
    inputs = keras.Input((*MODEL_SIZE, 3), name="image")
    x = _conv_block(inputs, 24, "block1", strides=2)  # stride 2 first: 2x cheaper on 2 cores
    x = keras.layers.MaxPooling2D(2, name="block1_pool")(x)
    x = _conv_block(x, 48, "block2")
    x = keras.layers.MaxPooling2D(2, name="block2_pool")(x)
    x = _conv_block(x, 96, "block3")
    x = keras.layers.Conv2D(128, 3, padding="same", activation="relu", name="last_conv")(x)
    # Max pooling, not average: a defect covers a few percent of the image and averaging
    # drowns it in texture (GAP trained to ~60 % here). Grad-CAM still reduces to the CAM.
    x = keras.layers.GlobalMaxPooling2D(name="global_pool")(x)
    x = keras.layers.Dropout(0.3, name="dropout")(x)
    outputs = keras.layers.Dense(len(CLASS_NAMES), activation="softmax", name="predictions")(x)
    return keras.Model(inputs, outputs, name="convscope_demo_defects")


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


def train(n_train: int, epochs: int, batch: int) -> keras.Model:
    """Generate the training set and fit the model with Adam and a cosine learning rate."""
    t0 = time.perf_counter()
    x, y, _ = make_dataset(n_train, TRAIN_SEED, IMAGE_SIZE, MODEL_SIZE)
    print(f"generated {n_train} training images in {time.perf_counter() - t0:.1f} s")
    model = build_model()
    steps = epochs * int(np.ceil(n_train / batch))
    lr = keras.optimizers.schedules.CosineDecay(2e-3, steps, alpha=0.02)
    model.compile(
        optimizer=keras.optimizers.Adam(lr),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
        jit_compile=True,
    )
    model.fit(training_data(x, y, batch, TRAIN_SEED), epochs=epochs, verbose=2)
    return model


def heldout(n: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Held-out set: model-size inputs, labels, and full-resolution masks for the hit rate."""
    full, labels, masks = make_dataset(n, seed, IMAGE_SIZE, IMAGE_SIZE)
    small = np.stack(
        [cv2.resize(im, MODEL_SIZE[::-1], interpolation=cv2.INTER_AREA) for im in full]
    )
    return small, labels, masks


def gradcam_maps(model: keras.Model, x: np.ndarray, logits: bool = True) -> np.ndarray:
    """keras.io Grad-CAM at `last_conv` for the predicted class: (N, h, w), ReLU'd, unnormalised.

    With `logits` the score is the pre-softmax output of `predictions`, else the probability.
    """
    dense = model.get_layer("predictions")
    grad_model = keras.Model(model.inputs, [model.get_layer("last_conv").output, dense.input])
    maps = []
    for start in range(0, len(x), 64):
        xb = tf.convert_to_tensor(to_unit(x[start : start + 64]))
        with tf.GradientTape() as tape:
            conv, features = grad_model(xb, training=False)
            scores = tf.matmul(features, dense.kernel) + dense.bias
            if not logits:
                scores = tf.nn.softmax(scores)
            top = tf.gather(scores, tf.argmax(scores, axis=1), batch_dims=1)
        grads = tape.gradient(top, conv)
        pooled = tf.reduce_mean(grads, axis=(1, 2))
        maps.append(tf.nn.relu(tf.einsum("bhwk,bk->bhw", conv, pooled)).numpy())
    return np.concatenate(maps)


def hit_rate(maps: np.ndarray, masks: np.ndarray, interpolation: int = cv2.INTER_CUBIC) -> float:
    """Share of maps whose peak, upsampled to the mask size, lies inside the mask.

    Bicubic by default, as keras.io resizes its heatmap (PIL's default filter).
    """
    h, w = masks.shape[1:]
    hits = 0
    for cam, mask in zip(maps, masks, strict=True):
        if cam.max() <= 0:
            continue  # no positive evidence: a miss
        big = cv2.resize(cam.astype(np.float32), (w, h), interpolation=interpolation)
        hits += bool(mask.flat[int(np.argmax(big))])
    return hits / max(1, len(maps))


def evaluate(model: keras.Model, n: int, seed: int) -> dict[str, float]:
    """Print and return held-out accuracy, per-class accuracy and the Grad-CAM hit rates."""
    x, y, masks = heldout(n, seed)
    pred = model.predict(to_unit(x), batch_size=128, verbose=0).argmax(1)
    result = {"accuracy": float(np.mean(pred == y))}
    print(f"held-out accuracy ({n} images, seed {seed}): {result['accuracy']:.4f}")
    for c, name in enumerate(CLASS_NAMES):
        result[f"acc_{name}"] = float(np.mean(pred[y == c] == c))
        print(f"  {name:8s} {result[f'acc_{name}']:.4f}")
    chosen = (pred == y) & (y > 0)
    cams = {
        True: gradcam_maps(model, x[chosen], True),
        False: gradcam_maps(model, x[chosen], False),
    }
    for logits, interpolation, key in (
        (True, cv2.INTER_CUBIC, "hit_rate"),
        (True, cv2.INTER_LINEAR, "hit_rate_bilinear"),
        (False, cv2.INTER_CUBIC, "hit_rate_softmax"),
    ):
        result[key] = hit_rate(cams[logits], masks[chosen], interpolation)
        per_class = [
            hit_rate(cams[logits][y[chosen] == c], masks[chosen][y[chosen] == c], interpolation)
            for c in range(1, len(CLASS_NAMES))
        ]
        print(
            f"Grad-CAM hit rate, {'pre' if logits else 'post'}-softmax, "
            f"{'bicubic' if interpolation == cv2.INTER_CUBIC else 'bilinear'} "
            f"({chosen.sum()} images): {result[key]:.4f}  per class "
            + " ".join(f"{n}={r:.3f}" for n, r in zip(CLASS_NAMES[1:], per_class, strict=True))
        )
    return result


def save_model(model: keras.Model) -> None:
    """Save weights-only-sized .keras (no optimizer state) and the sidecar JSON."""
    inference = keras.Model(
        model.inputs, model.outputs, name=model.name
    )  # uncompiled: no optimizer
    inference.save(MODEL_PATH)
    sidecar = MODEL_PATH.with_name("defects.convscope.json")
    sidecar.write_text(json.dumps(SIDECAR, indent=2) + "\n", encoding="utf-8")
    print(f"saved {MODEL_PATH.name} ({MODEL_PATH.stat().st_size / 1e6:.2f} MB) and {sidecar.name}")


def _write_png(path: Path, array: np.ndarray) -> None:
    ok, buf = cv2.imencode(".png", array, [cv2.IMWRITE_PNG_COMPRESSION, 9])
    assert ok, path
    buf.tofile(str(path))


def _save_sample(folder: Path, stem: str, image: np.ndarray, mask: np.ndarray | None) -> None:
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
            _save_sample(out / name, f"{name}_{i + 1:02d}", s.image, s.mask if label else None)
            count += 1
    for i, (a, b) in enumerate(MIXED_PAIRS):
        size = (256, 320) if i % 3 == 2 else IMAGE_SIZE
        s = make_sample(rng, a, size, TEXTURES[i % len(TEXTURES)], extra_defect=b)
        stem = f"mixed_{i + 1:02d}_{CLASS_NAMES[a]}_{CLASS_NAMES[b]}"
        _save_sample(out / "mixed", stem, s.image, s.mask)
        count += 1
    print(f"wrote {count} demo images to {out}")
    return count


def main(argv: list[str] | None = None) -> int:
    """Command line: train, evaluate, save; --images also writes the demo images."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", action="store_true", help="also write resources/demo/images")
    parser.add_argument("--images-only", action="store_true", help="write the images, no training")
    parser.add_argument("--n-train", type=int, default=5000)
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--n-heldout", type=int, default=800)
    args = parser.parse_args(argv)
    if args.images or args.images_only:
        write_demo_images(HERE / "images")
    if args.images_only:
        return 0
    tf.config.threading.set_intra_op_parallelism_threads(2)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    keras.utils.set_random_seed(TRAIN_SEED)
    np.random.seed(TRAIN_SEED)
    t0 = time.perf_counter()
    model = train(args.n_train, args.epochs, args.batch)
    print(f"training time (data + fit): {time.perf_counter() - t0:.0f} s")
    save_model(model)
    evaluate(model, args.n_heldout, HELDOUT_SEED)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
