"""Every method, run directly (its Job), reports its progress from 0 of its total to the total
and returns float32 maps with the batch's logits and classes: the window's progress bar and the
review's memory budget rely on both. Guards a report with a wrong count, a missing first or last
report, and maps left in float64 (twice the memory of a review's maps)."""

from __future__ import annotations

import numpy as np
import pytest

from engine.methods import METHODS
from engine.methods.base import Job
from tests.engine.test_methods_properties import _cnn, _image, _session

SMALL = {"smoothgrad": {"samples": 2}, "integrated-gradients": {"steps": 2}, "rise": {"masks": 8},
         "occlusion": {"patch": 12, "stride": 12}, "faster-scorecam": {"top_n": 4}}


@pytest.fixture(scope="module")
def session():
    return _session(_cnn())


@pytest.mark.parametrize("name", sorted(METHODS))
def test_a_method_reports_progress_from_zero_to_its_total_and_gives_float32_maps(session, name):
    worker = session.method(name)
    inputs = np.stack([session.model_input(_image(seed)) for seed in (1, 2)]).astype(np.float32)
    reports: list[tuple[int, int]] = []
    layer = "last" if worker.needs_layer else None
    job = Job(inputs, np.array([-1, 1], np.int32), layer, 0, worker.params(SMALL.get(name, {})),
              lambda done, total: reports.append((done, total)), None, "unit")
    raw = worker.run(job)
    total = reports[-1][1]
    assert total >= 1 and reports[0] == (0, total) and reports[-1] == (total, total), reports
    assert all(0 <= done <= t == total for done, t in reports)  # one total, counts within it
    assert [done for done, _ in reports] == sorted(done for done, _ in reports)  # never backwards
    assert raw.maps.dtype == np.float32 and raw.maps.shape[0] == 2
    assert raw.logits.shape == (2, 3) and raw.classes[1] == 1
    assert raw.classes[0] == int(np.argmax(raw.logits[0]))  # -1: the predicted class
