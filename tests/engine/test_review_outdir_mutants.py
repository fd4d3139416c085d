"""The review's output folder without a model: what --resume compares, what a fresh run refuses,
what summary.json / report.html / the overlays hold, and what a run description records.

The run description normally comes from a session; here it is a plain dict, so these tests
run for every mutant of engine.review.outdir (issue 24: a review resumed with changed method
parameters must be refused, every resume key changed one at a time).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from types import SimpleNamespace

import cv2
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.errors import MethodError, OutputPathError
from engine.images.decoding import LoadedImage
from engine.methods import METHODS
from engine.review import outdir
from engine.review.outdir import (
    CSV_NAME,
    REPORT_NAME,
    SUMMARY_NAME,
    ReviewOutput,
    draw_review_overlay,
    file_sha256,
    open_review_output,
    overlay_name,
    run_description,
)
from engine.review.rows import ReviewRow, read_rows
from engine.review.runner import ReviewedImage, ReviewOptions

RUN = {"images": "/lot", "model_sha256": "abc", "method": "smoothgrad", "layer": None,
       "params": {"samples": 4, "noise": 0.2}, "target": "predicted", "tolerance": 2.0, "threshold": 0.5,
       "trust": False, "annotations": None, "label_map": {}, "batch_size": 4, "date": "2026-12-06T06:00:00+00:00",
       "convscope_version": "1.0", "class_names": ["ok", "scratch"]}
ROW = ReviewRow("scratch/a.png", "scratch", 1, predicted="scratch", predicted_index=1)


def _interrupted(folder: Path, run: dict | None = None) -> None:
    output = ReviewOutput(folder, run or RUN)
    output.on_rows([ROW])
    output.finish(None, "interrupted")
    output.close()


OTHER_VALUES = {"images": "/other", "model_sha256": "def", "method": "saliency", "layer": "conv2",
                "params": {"samples": 5, "noise": 0.2}, "target": "label", "tolerance": 3.0, "threshold": 0.4,
                "trust": True, "annotations": "/lot/coco.json", "label_map": {"Kratzer": "scratch"}}


def test_every_resume_key_is_compared():
    assert set(outdir._RUN_KEYS) == set(OTHER_VALUES)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(key=st.sampled_from(sorted(OTHER_VALUES)))
def test_resume_refuses_any_one_changed_setting_and_names_it(tmp_path_factory, key):
    folder = tmp_path_factory.mktemp("out")
    _interrupted(folder)
    with pytest.raises(OutputPathError, match=f"^cannot resume: {key} differs from the run in "):
        ReviewOutput(folder, {**RUN, key: OTHER_VALUES[key]}, resume=True)
    assert [r.path for r in read_rows(folder / CSV_NAME)] == ["scratch/a.png"]  # the earlier rows stay


@pytest.mark.parametrize("params", [{"samples": 5, "noise": 0.2}, {"samples": 4, "noise": 0.3}, {"samples": 4}])
def test_resume_with_other_method_parameters_is_refused(tmp_path, params):
    _interrupted(tmp_path)
    with pytest.raises(OutputPathError, match="cannot resume: params differs"):
        ReviewOutput(tmp_path, {**RUN, "params": params}, resume=True)


def test_two_changed_settings_are_both_named_in_order(tmp_path):
    _interrupted(tmp_path)
    with pytest.raises(OutputPathError, match=r"^cannot resume: method, tolerance differ from the run in .*; "
                                              "use the same settings or another output folder$"):
        ReviewOutput(tmp_path, {**RUN, "tolerance": 9.0, "method": "gradcam"}, resume=True)


def test_resume_with_the_same_settings_keeps_the_rows_and_appends(tmp_path):
    _interrupted(tmp_path)
    free = {**RUN, "batch_size": 64, "date": "later", "convscope_version": "2.0"}  # not resume keys
    resumed = ReviewOutput(tmp_path, free, resume=True)
    assert resumed.done == resumed.rows and [r.path for r in resumed.done] == ["scratch/a.png"]
    resumed.on_rows([ReviewRow("ok/b.png", "ok", 0, predicted="ok", predicted_index=0)])
    resumed.finish(None, "complete")
    resumed.close()
    assert [r.path for r in read_rows(tmp_path / CSV_NAME)] == ["scratch/a.png", "ok/b.png"]
    summary = json.loads((tmp_path / SUMMARY_NAME).read_text())
    assert summary["status"] == "complete" and summary["run"]["batch_size"] == 64


def test_a_setting_missing_from_an_older_summary_is_not_compared(tmp_path):
    older = {k: v for k, v in RUN.items() if k != "label_map"}
    _interrupted(tmp_path, older)
    resumed = ReviewOutput(tmp_path, {**RUN, "label_map": {"a": "b"}}, resume=True)
    resumed.close()
    assert len(resumed.done) == 1


def test_resume_without_a_summary_keeps_the_rows_and_without_rows_starts_afresh(tmp_path):
    _interrupted(tmp_path / "a")
    (tmp_path / "a" / SUMMARY_NAME).unlink()
    resumed = ReviewOutput(tmp_path / "a", {**RUN, "method": "gradcam"}, resume=True)
    resumed.close()
    assert [r.path for r in resumed.done] == ["scratch/a.png"]
    fresh = ReviewOutput(tmp_path / "b", RUN, resume=True)
    fresh.close()
    assert fresh.done == [] and read_rows(tmp_path / "b" / CSV_NAME) == []


def test_resume_from_an_unreadable_summary_is_one_clear_error(tmp_path):
    _interrupted(tmp_path)
    (tmp_path / SUMMARY_NAME).write_text("{not json", encoding="utf-8")
    with pytest.raises(OutputPathError, match=f"^cannot resume from {tmp_path / CSV_NAME}: "):
        ReviewOutput(tmp_path, RUN, resume=True)


def test_a_fresh_run_refuses_a_folder_holding_results(tmp_path):
    _interrupted(tmp_path)
    with pytest.raises(OutputPathError, match=f"already holds {CSV_NAME}: pass --resume"):
        ReviewOutput(tmp_path, RUN)


def test_the_output_must_be_a_folder(tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(OutputPathError, match="exists and is not a folder"):
        ReviewOutput(tmp_path / "file", RUN)
    with pytest.raises(OutputPathError, match="cannot create"):
        ReviewOutput(tmp_path / "file" / "below", RUN)


def test_a_new_folder_is_readable_at_once_and_holds_nothing_else(tmp_path):
    output = ReviewOutput(tmp_path / "new" / "out", RUN)
    folder = tmp_path / "new" / "out"
    assert sorted(p.name for p in folder.iterdir()) == sorted(["overlays", CSV_NAME, SUMMARY_NAME, REPORT_NAME,
                                                                  outdir.PARQUET_NAME])
    summary = json.loads((folder / SUMMARY_NAME).read_text())
    assert summary["status"] == "running" and summary["run"] == RUN
    assert summary["files"] == {"csv": CSV_NAME, "report": REPORT_NAME, "overlays": "overlays"}
    output.on_rows([ROW])
    output.finish(None, "interrupted", total=5)
    output.close()
    summary = json.loads((folder / SUMMARY_NAME).read_text())
    assert summary["status"] == "interrupted" and summary["images_total"] == 5 and summary["images_done"] == 1
    assert "partial" in (folder / REPORT_NAME).read_text()
    assert not list(folder.glob("*.part"))


def test_an_unwritable_summary_is_a_one_line_error(tmp_path):
    output = ReviewOutput(tmp_path, RUN)
    (tmp_path / SUMMARY_NAME).unlink()
    (tmp_path / SUMMARY_NAME).mkdir()  # a folder where the file goes: os.replace fails
    with pytest.raises(OutputPathError, match=f"{tmp_path / SUMMARY_NAME}: cannot write"):
        output.finish(None, "interrupted")
    output.close()


def test_summary_writes_numpy_values_as_lists_and_other_objects_as_text():
    assert outdir._json_default(np.array([1, 2])) == [1, 2]
    assert outdir._json_default(np.float32(0.5)) == 0.5
    assert outdir._json_default(Path("a/b")) == "a/b"


def _image(height=32, width=48) -> LoadedImage:
    display = np.full((height, width, 3), 100, np.uint8)
    return LoadedImage("x.png", display, display.astype(np.float32), False, "uint8", 8)


def test_overlays_go_under_overlays_as_png():
    assert overlay_name(ReviewRow("scratch/sub/a.jpg", "scratch", 1)) == "overlays/scratch/sub/a.png"


def test_the_overlay_outlines_the_mask_in_white_and_marks_the_peak_in_magenta():
    region = np.zeros((32, 48), bool)
    region[8:20, 10:30] = True
    row = ReviewRow("a.png", None, None, peak_x=40, peak_y=25)
    picture = draw_review_overlay(ReviewedImage(row, _image(), np.zeros((32, 48), np.float32), region), alpha=0.0)
    edge = picture[8, 20].astype(int)  # anti-aliased white line on the grey image
    assert edge.min() > 200 and edge.min() == edge.max() and tuple(picture[14, 20]) == (100, 100, 100)
    assert tuple(picture[25, 40]) == (255, 0, 255)
    assert tuple(picture[25, 40 + 3]) == (255, 0, 255) and tuple(picture[25, 40 + 5]) == (100, 100, 100)  # 7 px
    bare = draw_review_overlay(ReviewedImage(ReviewRow("a.png", None, None, peak_x=40), _image(),
                                             np.zeros((32, 48), np.float32), None), alpha=0.0)
    assert (bare == 100).all()  # no region, no full peak: nothing drawn


def test_the_peak_marker_grows_with_the_image():
    row = ReviewRow("a.png", None, None, peak_x=120, peak_y=120)
    picture = draw_review_overlay(ReviewedImage(row, _image(240, 240), np.zeros((240, 240), np.float32), None),
                                  alpha=0.0)
    assert tuple(picture[120, 124]) == (255, 0, 255) and tuple(picture[120, 128]) == (100, 100, 100)  # 10 px


def test_the_overlay_uses_the_given_opacity_and_colormap():
    heat = np.ones((32, 48), np.float32)
    item = ReviewedImage(ReviewRow("a.png", None, None), _image(), heat, None)
    assert not np.array_equal(draw_review_overlay(item, 0.4, "jet"), draw_review_overlay(item, 0.8, "jet"))
    assert not np.array_equal(draw_review_overlay(item, 0.4, "jet"), draw_review_overlay(item, 0.4, "viridis"))
    assert np.array_equal(draw_review_overlay(item), draw_review_overlay(item, 0.4, "jet"))


def test_an_image_without_a_map_has_no_overlay(tmp_path):
    with pytest.raises(ValueError, match="a.png: no image or map to draw"):
        draw_review_overlay(ReviewedImage(ReviewRow("a.png", None, None), _image(), None, None))
    with pytest.raises(ValueError, match="no image or map"):
        draw_review_overlay(ReviewedImage(ReviewRow("a.png", None, None), None, np.zeros((2, 2)), None))
    output = ReviewOutput(tmp_path, RUN, alpha=0.0, colormap="viridis")
    drawn = ReviewedImage(ReviewRow("ok/b.png", None, None), _image(), np.ones((32, 48), np.float32), None)
    output.on_images([ReviewedImage(ReviewRow("bad/a.png", None, None), None, None, None),
                      ReviewedImage(ReviewRow("ok/c.png", None, None), _image(), None, None), drawn])
    output.close()
    written = sorted(p.relative_to(tmp_path).as_posix() for p in (tmp_path / "overlays").rglob("*.png"))
    assert written == ["overlays/ok/b.png"]
    saved = cv2.imread(str(tmp_path / "overlays/ok/b.png"))[..., ::-1]
    assert np.array_equal(saved, draw_review_overlay(drawn, 0.0, "viridis"))  # the folder's opacity and colours
    assert output._overlay_link(drawn.row) == "overlays/ok/b.png"
    assert output._overlay_link(ReviewRow("bad/a.png", None, None)) is None


def test_version_is_unknown_without_a_readable_pyproject(monkeypatch):
    import importlib.metadata as metadata

    def missing(name):
        raise metadata.PackageNotFoundError(name)

    def unreadable(self, *args, **kwargs):
        raise OSError("gone")

    monkeypatch.setattr(metadata, "version", missing)
    monkeypatch.setattr(Path, "read_text", unreadable)
    assert outdir.convscope_version() == "unknown"


def test_file_hash_is_sha256_of_a_file_or_of_a_folders_files_in_order(tmp_path):
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "b").write_bytes(b"second")
    (tmp_path / "m" / "a").write_bytes(b"first")
    (tmp_path / "m" / "sub").mkdir()
    assert file_sha256(tmp_path / "m" / "a") == hashlib.sha256(b"first").hexdigest()
    assert file_sha256(tmp_path / "m") == hashlib.sha256(b"firstsecond").hexdigest()
    big = tmp_path / "big"
    big.write_bytes(b"x" * ((1 << 20) + 5))
    assert file_sha256(big) == hashlib.sha256(b"x" * ((1 << 20) + 5)).hexdigest()


def test_version_comes_from_the_package_else_from_pyproject(monkeypatch):
    import importlib.metadata as metadata

    monkeypatch.setattr(metadata, "version", lambda name: {"convscope": "9.9"}[name])
    assert outdir.convscope_version() == "9.9"

    def missing(name):
        raise metadata.PackageNotFoundError(name)

    monkeypatch.setattr(metadata, "version", missing)
    text = (Path(outdir.__file__).resolve().parents[2] / "pyproject.toml").read_text()
    import re

    assert outdir.convscope_version() == re.search(r'^version\s*=\s*"([^"]+)"', text, re.M).group(1)


class _FakeSession:
    """What run_description asks of a session (no model loaded)."""

    def __init__(self, path: Path):
        self.info = SimpleNamespace(path=str(path), preprocessing="unit", class_names=("ok", "scratch"))
        self.layers_asked: list = []

    def method(self, name):
        return METHODS[name]

    def target_layers(self, layer, fuse):
        self.layers_asked.append((layer, fuse))
        return (layer or "conv2").split(",") if fuse else [layer or "conv2"]


def test_run_description_records_what_produced_the_review(tmp_path):
    model = tmp_path / "m.keras"
    model.write_bytes(b"weights")
    session = _FakeSession(model)
    options = ReviewOptions(method="smoothgrad", params={"samples": 4}, batch_size=3, tolerance=1.5, threshold=0.3,
                            target="label", trust=True, annotations=str(tmp_path / "coco.json"),
                            label_map=(("Kratzer", "scratch"),))
    run = run_description(session, options, tmp_path / "lot")
    assert run["model"] == str(model) and run["model_sha256"] == hashlib.sha256(b"weights").hexdigest()
    assert run["images"] == str((tmp_path / "lot").resolve()) and run["method"] == "smoothgrad"
    assert run["layer"] is None and session.layers_asked == []  # smoothgrad has no layer
    assert run["params"]["samples"] == 4 and run["params"]["noise"] == 0.15  # defaults filled in
    assert run["params"]["emphasize"] is False  # combinations recorded too
    assert (run["target"], run["tolerance"], run["threshold"], run["batch_size"], run["trust"]) == \
        ("label", 1.5, 0.3, 3, True)
    assert run["annotations"] == str((tmp_path / "coco.json").resolve())
    assert run["label_map"] == {"Kratzer": "scratch"}
    assert run["preprocessing"] == "unit" and run["class_names"] == ["ok", "scratch"]
    assert run["convscope_version"] == outdir.convscope_version() and run["date"][:2] == "20"
    json.dumps(run)  # a summary can hold it


def test_run_description_names_the_fused_layers(tmp_path):
    model = tmp_path / "m.keras"
    model.write_bytes(b"w")
    session = _FakeSession(model)
    run = run_description(session, ReviewOptions(method="gradcam", layer="c1,c2", params={"fuse": "max"}),
                          tmp_path)
    assert run["layer"] == "c1 + c2" and session.layers_asked == [("c1,c2", "max")]
    assert run["annotations"] is None and run["label_map"] == {}


def test_open_review_output_refuses_the_images_folder_itself(tmp_path):
    with pytest.raises(OutputPathError, match="^the output folder must be a folder of its own, not the images folder$"):
        open_review_output(None, tmp_path, tmp_path / "." , ReviewOptions())
    assert not (tmp_path / "overlays").exists()


def test_a_review_fills_the_folder_and_finishes_it(tmp_path):
    from tests.engine.test_review_runner_mutants import _Session
    from tests.engine.test_review_runner_mutants import _write as write_image

    images = tmp_path / "lot"
    write_image(images / "scratch" / "s1.png", mask_box=(3, 5, 8, 10))
    write_image(images / "ok" / "o1.png")
    session, seen, progress = _Session(), [], []
    output = ReviewOutput(tmp_path / "out", {**RUN, "class_names": ["ok", "scratch", "spot"]}, alpha=0.0)
    result = output.review(session, images, ReviewOptions(batch_size=1, method="saliency"),
                           progress=lambda d, t: progress.append((d, t)),
                           on_rows=lambda rows: seen.extend(r.path for r in rows))
    output.close()
    assert result.complete and seen == ["ok/o1.png", "scratch/s1.png"] and progress == [(0, 2), (1, 2), (2, 2)]
    assert {method for _, method, *_ in session.explained} == {"saliency"}  # the options reach the runner
    assert [r.path for r in read_rows(tmp_path / "out" / CSV_NAME)] == seen
    assert (tmp_path / "out" / "overlays" / "scratch" / "s1.png").is_file()
    summary = json.loads((tmp_path / "out" / SUMMARY_NAME).read_text())
    assert summary["status"] == "complete" and summary["complete"] is True and summary["images_total"] == 2
    write_image(images / "ok" / "o2.png")  # one more image since
    resumed = ReviewOutput(tmp_path / "out", {**RUN, "class_names": ["ok", "scratch", "spot"]}, resume=True)
    again = resumed.review(_Session(), images, ReviewOptions(), cancel=lambda: True)
    resumed.close()
    assert not again.complete and len(again.rows) == 2 and again.total == 3  # the earlier rows kept
    assert json.loads((tmp_path / "out" / SUMMARY_NAME).read_text())["status"] == "interrupted"


def test_a_review_written_inside_the_images_folder_does_not_review_itself(tmp_path):
    from tests.engine.test_review_runner_mutants import _Session
    from tests.engine.test_review_runner_mutants import _write as write_image

    images = tmp_path / "lot"
    write_image(images / "ok" / "o1.png")
    output = ReviewOutput(images / "review", RUN)
    write_image(images / "review" / "overlays" / "ok" / "stale.png")
    result = output.review(_Session(), images, ReviewOptions())
    output.close()
    assert [r.path for r in result.rows] == ["ok/o1.png"]


def test_open_review_output_checks_the_options_and_describes_the_run(tmp_path):
    from tests.engine.test_review_runner_mutants import _Session

    model = tmp_path / "m.keras"
    model.write_bytes(b"weights")
    session = _Session()
    session.info.path, session.info.preprocessing = str(model), "unit"
    with pytest.raises(MethodError, match="batch size"):
        open_review_output(session, tmp_path / "lot", tmp_path / "out", ReviewOptions(batch_size=0))
    assert not (tmp_path / "out").exists()  # nothing written before the options are checked
    output = open_review_output(session, tmp_path / "lot", tmp_path / "out", ReviewOptions(method="saliency"),
                                alpha=0.7, colormap="viridis")
    output.close()
    assert output.run["method"] == "saliency" and output.run["model_sha256"] == hashlib.sha256(b"weights").hexdigest()
    assert (output.alpha, output.colormap, output.done) == (0.7, "viridis", [])
    plain = open_review_output(session, tmp_path / "lot", tmp_path / "plain", ReviewOptions(method="saliency"))
    plain.close()
    assert (plain.alpha, plain.colormap) == (0.4, "jet")
    with pytest.raises(OutputPathError, match="already holds results.csv"):  # no resume unless asked
        open_review_output(session, tmp_path / "lot", tmp_path / "plain", ReviewOptions(method="saliency"))
    (tmp_path / "out" / SUMMARY_NAME).write_text(json.dumps({"run": {"method": "gradcam"}}))
    with pytest.raises(OutputPathError, match="cannot resume: method differs"):
        open_review_output(session, tmp_path / "lot", tmp_path / "out", ReviewOptions(method="saliency"), resume=True)
