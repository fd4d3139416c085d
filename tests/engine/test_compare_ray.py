"""`compare --ray` gives the single-process rows, in the folder's order (one local Ray, 2 CPUs)."""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

import pytest

ray = pytest.importorskip("ray")

from cli.common import DEMO_IMAGES, DEMO_MODEL  # noqa: E402
from engine import Session  # noqa: E402
from engine.review import ReviewOptions  # noqa: E402
from engine.review.compare import compare_folder  # noqa: E402
from engine.review.compare_ray import compare_with_ray  # noqa: E402
from engine.review.ray_runner import connect  # noqa: E402

DEMO = Path(DEMO_MODEL).parent


def test_ray_rows_equal_the_single_process_rows(tmp_path):
    # guards: batches merged out of order, one side's rows or trust lost in the actors' pickles
    for label in ("scratch", "crack", "ok"):
        (tmp_path / "lot" / label).mkdir(parents=True)
        for source in sorted((DEMO_IMAGES / label).glob("*_0[12]*.png")):
            shutil.copy(source, tmp_path / "lot" / label / source.name)
    a, b = Session.open(DEMO_MODEL), Session.open(DEMO / "defects_int8.tflite")
    options = ReviewOptions("occlusion", batch_size=2, params={"patch": 32, "stride": 32, "fill": "mean"},
                            trust=True)
    local = compare_folder(a, b, tmp_path / "lot", options)
    args = argparse.Namespace(ray="local", images=str(tmp_path / "lot"), out=str(tmp_path / "out"),
                              trust_model=False, preprocessing=None, against_preprocessing=None)
    assert connect(None, num_cpus=2)
    try:
        remote = compare_with_ray(a, b, args, options, actors=2)
    finally:
        ray.shutdown()
    assert [r.path for r in remote.rows] == [r.path for r in local.rows] and len(local.rows) == 6
    for mine, theirs in zip(remote.rows, local.rows, strict=True):
        assert (mine.predicted_a, mine.predicted_b, mine.flag_a, mine.flag_b) == \
            (theirs.predicted_a, theirs.predicted_b, theirs.flag_a, theirs.flag_b)
        assert mine.map_spearman == pytest.approx(theirs.map_spearman, abs=1e-6)
    assert remote.a.verdict == local.a.verdict and remote.b.verdict == local.b.verdict
