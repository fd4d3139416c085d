"""The bundled demo model classifies freshly generated, never-seen defect images."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from resources.demo.synthetic import CLASS_NAMES, make_dataset  # noqa: E402

DEMO = Path(__file__).resolve().parents[2] / "resources" / "demo"
TEST_SEED = 31337  # not the training (1234), held-out (98765) or demo-image (2007) seed


@pytest.fixture(scope="module")
def demo_model():
    keras = pytest.importorskip("keras")
    return keras.saving.load_model(DEMO / "defects.keras", compile=False, safe_mode=True)


def test_sidecar_matches_the_model(demo_model) -> None:
    sidecar = json.loads((DEMO / "defects.convscope.json").read_text(encoding="utf-8"))
    assert sidecar == {
        "class_names": list(CLASS_NAMES),
        "preprocessing": "unit",
        "target_layer": "last_conv",
    }
    assert tuple(demo_model.input_shape) == (None, 128, 128, 3)
    assert tuple(demo_model.output_shape) == (None, len(CLASS_NAMES))
    assert tuple(demo_model.get_layer("last_conv").output.shape) == (None, 16, 16, 128)
    assert (DEMO / "defects.keras").stat().st_size < 2_000_000


def test_demo_model_accuracy_on_fresh_images(demo_model) -> None:
    x, y, _ = make_dataset(400, seed=TEST_SEED, size=(256, 256), model_size=(128, 128))
    probs = demo_model.predict(x.astype(np.float32) / 255.0, batch_size=100, verbose=0)
    accuracy = float(np.mean(probs.argmax(axis=1) == y))
    assert accuracy >= 0.95, f"demo model accuracy {accuracy:.3f} on 400 fresh images"


def test_demo_images_have_masks() -> None:
    images = [p for p in (DEMO / "images").glob("*/*.png") if not p.stem.endswith("_mask")]
    assert 40 <= len(images) <= 48
    for path in images:
        mask = path.with_name(f"{path.stem}_mask.png")
        assert mask.exists() == (path.parent.name != "ok"), path
