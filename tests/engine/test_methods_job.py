"""What every method relies on from its Job (engine.methods.base): the CAM layer it must have,
progress reported as given, and a cancel honoured before any progress is reported."""

from __future__ import annotations

import numpy as np
import pytest

from engine.errors import Cancelled, MethodError
from engine.methods.base import Job, Method
from engine.params import Param


def _job(**fields) -> Job:
    return Job(np.zeros((1, 4, 4, 3), np.float32), np.array([-1], np.int32), **{"layer": "conv", **fields})


def test_a_job_defaults_to_the_first_output_no_params_and_no_preprocessing():
    job = _job()
    assert (job.output, job.params, job.progress, job.cancel, job.preprocessing) == (0, {}, None, None, "none")
    assert _job().params is not job.params  # each job its own dict


def test_a_cam_job_names_its_layer_and_one_without_is_a_programming_error():
    assert _job().cam_layer == "conv"
    with pytest.raises(ValueError, match="^a CAM job needs a target layer$"):
        _ = _job(layer=None).cam_layer


def test_report_passes_progress_on_unchanged():
    calls: list[tuple[int, int]] = []
    job = _job(progress=lambda done, total: calls.append((done, total)))
    job.report(3, 7)
    job.report(7, 7)
    assert calls == [(3, 7), (7, 7)]
    _job().report(1, 2)  # no progress callback: nothing to call


def test_report_raises_cancelled_before_reporting():
    calls: list[tuple[int, int]] = []
    flags = iter([False, True])
    job = _job(progress=lambda done, total: calls.append((done, total)), cancel=lambda: next(flags))
    job.report(1, 4)
    with pytest.raises(Cancelled):
        job.report(2, 4)
    assert calls == [(1, 4)]
    _job(cancel=lambda: False).report(1, 1)


class _Counted(Method):
    name = "counted"
    title = "Counted"
    needs_layer = False
    parameters = (Param("steps", int, 5, "steps", low=1, high=9),)


def test_method_params_fill_defaults_and_refuse_unknown_or_out_of_range():
    method = _Counted(context=None)  # type: ignore[arg-type]
    assert method.params({}) == {"steps": 5} and method.params({"steps": 9}) == {"steps": 9}
    with pytest.raises(MethodError, match="counted"):
        method.params({"steps": 10})
    with pytest.raises(MethodError, match="counted has no parameter"):
        method.params({"stride": 1})
    assert Method.floor == "zero" and not Method.class_agnostic and not Method.gradient_free
    with pytest.raises(NotImplementedError):
        Method(None).run(_job())  # type: ignore[arg-type]
