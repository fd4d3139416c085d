"""What every benchmark case uses: the settings, a result row, interleaved timing (each repeat
times every contestant once, in rotating order; the median of several repeats after a warm-up),
the machine's description and the models under test (VGG16, the demo model)."""

from __future__ import annotations

import os
import platform
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

VGG_LAYER = "block5_conv3"
GRID_LAYER = "block3_conv1"


@dataclass(frozen=True)
class Settings:
    """How much each case runs; --quick shrinks the expensive ones (see `shrunk`)."""

    quick: bool = False
    repeats: int = 5  # cheap cases (under about a second per call)
    heavy_repeats: int = 3  # Score-CAM, IG, filter grid, batches, review
    warmup: int = 1
    grid_side: int = 8  # the filter grid is grid_side x grid_side filters
    grid_steps: int = 40
    ig_steps: int = 50
    batch_images: int = 64
    review_images: int = 500
    review_reference_images: int = 100  # the seed's per-image loop runs on the first N of them

    @classmethod
    def for_mode(cls, quick: bool) -> Settings:
        if not quick:
            return cls()
        return cls(quick=True, repeats=3, heavy_repeats=2, grid_side=2, grid_steps=40, ig_steps=4,
                   batch_images=16, review_images=500, review_reference_images=50)

    def shrunk(self) -> list[str]:
        """What --quick changed, for the output."""
        full = Settings()
        if not self.quick:
            return []
        return [f"repeats {full.repeats} -> {self.repeats} (heavy cases {full.heavy_repeats} -> {self.heavy_repeats})",
                f"filter grid {full.grid_side}x{full.grid_side} -> {self.grid_side}x{self.grid_side} filters "
                f"(still {self.grid_steps} steps at 64 px)",
                f"Integrated Gradients {full.ig_steps} -> {self.ig_steps} steps",
                f"batched Grad-CAM folder {full.batch_images} -> {self.batch_images} images",
                f"lot review: seed 000's loop on {full.review_reference_images} -> "
                f"{self.review_reference_images} of the {self.review_images} images, 1 timed run"]


@dataclass
class Result:
    """One row: ratio = reference_s / ours_s (above 1: ConvScope is faster)."""

    name: str
    ours_s: float | None
    reference_s: float | None
    target: float | None = None  # the ratio the issue asks for, if any
    note: str = ""
    ratio: float | None = field(init=False)

    def __post_init__(self) -> None:
        ok = self.ours_s and self.reference_s is not None
        self.ratio = self.reference_s / self.ours_s if ok else None

    @property
    def met(self) -> bool | None:
        if self.target is None or self.ratio is None:
            return None
        return self.ratio >= self.target

    def to_json(self) -> dict:
        return {"name": self.name, "ours_s": self.ours_s, "reference_s": self.reference_s, "ratio": self.ratio,
                "target_ratio": self.target, "met": self.met, "note": self.note}


# -- timing ---------------------------------------------------------------------------------
def measure(contestants: dict[str, Callable[[], object]], repeats: int, warmup: int = 1,
            warm: dict[str, Callable[[], object]] | None = None) -> dict[str, float]:
    """Median seconds per contestant; warm-up calls first (`warm` may give a cheaper warm-up
    per contestant), then `repeats` rounds in which every contestant runs once, the order
    rotating from round to round."""
    names = list(contestants)
    for _ in range(warmup):
        for name in names:
            (warm or {}).get(name, contestants[name])()
    samples: dict[str, list[float]] = {name: [] for name in names}
    for r in range(repeats):
        order = names[r % len(names):] + names[:r % len(names)]
        for name in order:
            began = time.perf_counter()
            contestants[name]()
            samples[name].append(time.perf_counter() - began)
    return {name: statistics.median(values) for name, values in samples.items()}


def machine() -> dict:
    """CPU model, cores, library versions and the load at the start (the machine is shared)."""
    from engine.model.backend import keras, tf

    cpu = platform.processor() or "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = os.cpu_count()
    try:
        load = os.getloadavg()[0]
    except OSError:
        load = None
    return {"cpu": cpu, "cores": os.cpu_count(), "usable_cores": usable, "tensorflow": tf.__version__,
            "keras": keras.__version__, "numpy": np.__version__, "python": platform.python_version(),
            "load_1min_at_start": load}


# -- set-up ---------------------------------------------------------------------------------
def synthetic_image(path: Path, size: int, seed: int = 0):
    """A synthetic defect image of `size` px written to `path` and loaded as ConvScope would."""
    import cv2

    from engine.images.decoding import load_image
    from resources.demo.synthetic import make_sample

    sample = make_sample(np.random.default_rng(seed), 1, (size, size))
    cv2.imwrite(str(path), cv2.cvtColor(sample.image, cv2.COLOR_RGB2BGR))
    return load_image(path)


@dataclass
class Bench:
    """A model under test: our Session on it, the linear-head copy for the references, one image."""

    label: str
    session: object
    reference_model: object
    layer: str
    image: object
    x: np.ndarray  # (1, H, W, C) preprocessed model input
    class_index: int
    tkv: dict = field(default_factory=dict)

    @classmethod
    def build(cls, label: str, model, preprocessing: str, layer: str, image, class_names=None) -> Bench:
        from bench.reference import have_tf_keras_vis, linear_copy, tf_keras_vis_methods
        from engine.model.sidecar import Sidecar
        from engine.session import Session

        session = Session(model, label, Sidecar(class_names=class_names), preprocessing)
        reference = linear_copy(model)
        x = session.batch([image])
        class_index = int(np.argmax(session.logits(x)[0]))
        tkv = tf_keras_vis_methods(reference, layer, class_index) if have_tf_keras_vis() else {}
        return cls(label, session, reference, layer, image, x, class_index, tkv)

    def ours(self, method: str, **params) -> Callable[[], object]:
        return lambda: self.session.explain(self.image, method, self.layer, **params)  # ignored without a CAM


def vgg16_bench(workdir: Path) -> Bench:
    from engine.model.backend import keras

    keras.utils.set_random_seed(0)
    model = keras.applications.VGG16(weights=None)
    image = synthetic_image(workdir / "vgg_input.png", 224)
    return Bench.build("VGG16", model, "caffe", VGG_LAYER, image)


def demo_bench(workdir: Path) -> Bench:
    from engine.model.loading import load_keras_model
    from engine.model.sidecar import read_sidecar

    path = Path(__file__).resolve().parent.parent / "resources" / "demo" / "defects.keras"
    sidecar = read_sidecar(path)
    model = load_keras_model(path)
    image = synthetic_image(workdir / "demo_input.png", 256, seed=1)
    return Bench.build("demo", model, sidecar.preprocessing or "unit", sidecar.target_layer or "last_conv",
                       image, sidecar.class_names)
