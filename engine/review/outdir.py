"""Writing a review into one output folder: overlays, results.csv, summary.json, report.html.

Nothing is written outside that folder. Rows are appended and flushed a batch at a time;
the summary and the report are rewritten (atomically) at the end or on interruption,
from the rows so far, so the folder is readable whatever happens.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import os
import re
from collections.abc import Callable
from pathlib import Path, PurePosixPath
from typing import Any

import cv2
import numpy as np

from engine.errors import OutputPathError
from engine.maps.render import overlay, write_png
from engine.review.report import render_report
from engine.review.rows import CsvAppender, ReviewRow, read_rows
from engine.review.runner import ReviewedImage, ReviewOptions, check_options, review_folder
from engine.review.stats import ReviewResult
from engine.review.table import PARQUET_NAME, ParquetAppender

CSV_NAME, SUMMARY_NAME, REPORT_NAME, OVERLAYS = "results.csv", "summary.json", "report.html", "overlays"
# Settings that must match for --resume to continue an earlier run.
_RUN_KEYS = ("images", "model_sha256", "method", "layer", "params", "target", "tolerance", "threshold", "trust",
             "annotations", "label_map")


def convscope_version() -> str:
    """The installed package version, else the one in pyproject.toml, else "unknown"."""
    try:
        from importlib.metadata import PackageNotFoundError, version

        return version("convscope")
    except (ImportError, PackageNotFoundError):
        pass
    pyproject = Path(__file__).resolve().parents[2] / "pyproject.toml"
    try:
        found = re.search(r'^version\s*=\s*"([^"]+)"', pyproject.read_text(encoding="utf-8"), re.M)
    except OSError:
        found = None
    return found.group(1) if found else "unknown"


def file_sha256(path: str | os.PathLike) -> str:
    """SHA-256 of a file, or of every file of a folder in sorted order (a SavedModel)."""
    digest, root = hashlib.sha256(), Path(path)
    files = sorted(p for p in root.rglob("*") if p.is_file()) if root.is_dir() else [root]
    for file in files:
        with open(file, "rb") as handle:
            while block := handle.read(1 << 20):
                digest.update(block)
    return digest.hexdigest()


def run_description(session, options: ReviewOptions, images: str | os.PathLike) -> dict[str, Any]:
    """What produced a review: model and its hash, method, layer, parameters, date, version."""
    worker = session.method(options.method)
    return {
        "convscope_version": convscope_version(),
        "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        "model": session.info.path, "model_sha256": file_sha256(session.info.path),
        "images": str(Path(images).resolve()), "method": options.method,
        "layer": " + ".join(session.target_layers(options.layer, options.params.get("fuse")))
        if worker.needs_layer else None,
        "params": checked_params(worker, options.params), "target": options.target,
        "tolerance": options.tolerance, "threshold": options.threshold, "batch_size": options.batch_size,
        "trust": options.trust,
        # the ground truth the mask scores and the trust verdict were measured against
        "annotations": str(Path(options.annotations).resolve()) if options.annotations else None,
        "label_map": dict(options.label_map),
        "preprocessing": session.info.preprocessing, "class_names": list(session.info.class_names),
    }


def checked_params(worker, given: dict[str, Any]) -> dict[str, Any]:
    """Every method parameter and combination, checked, as explanations' `params` hold them."""
    from engine.maps.combine import check_request

    method, combinations = check_request(worker, dict(given))
    return {**method, **combinations}


def overlay_name(row: ReviewRow) -> str:
    """Where a row's overlay goes, relative to the output folder: overlays/<relative path>.png."""
    return str(PurePosixPath(OVERLAYS) / PurePosixPath(row.path).with_suffix(".png"))


def draw_review_overlay(item: ReviewedImage, alpha: float = 0.4, colormap: str = "jet") -> np.ndarray:
    """The heatmap over the image, the mask region outlined in white, the peak marked by a cross.
    Only for an image that was read and explained (`item.image` and `item.heatmap` set)."""
    if item.image is None or item.heatmap is None:
        raise ValueError(f"{item.row.path}: no image or map to draw")
    picture = overlay(item.image.display, item.heatmap, alpha, colormap)
    if item.region is not None:
        contours, _ = cv2.findContours(item.region.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        cv2.drawContours(picture, contours, -1, (255, 255, 255), 1, cv2.LINE_AA)
    if item.row.peak_x is not None and item.row.peak_y is not None:
        size = max(7, min(picture.shape[:2]) // 24)
        cv2.drawMarker(picture, (item.row.peak_x, item.row.peak_y), (255, 0, 255), cv2.MARKER_CROSS, size, 2)
    return picture


def _write_text(path: Path, text: str) -> None:
    staging = path.with_name(path.name + ".part")
    try:
        staging.write_text(text, encoding="utf-8")
        os.replace(staging, path)
    except OSError as exc:
        raise OutputPathError(f"{path}: cannot write ({exc.strerror or exc})") from None


class ReviewOutput:
    """An output folder being filled by a review (fresh, or resumed from its results.csv)."""

    def __init__(self, folder: str | os.PathLike, run: dict[str, Any], resume: bool = False,
                 alpha: float = 0.4, colormap: str = "jet") -> None:
        """Prepare the folder; a fresh run refuses a folder that already holds results."""
        self.folder, self.run = Path(folder), dict(run)
        self.alpha, self.colormap = alpha, colormap
        self._prepare_folder()
        self.done = self._earlier_rows() if resume else self._refuse_old_results()
        self.rows: list[ReviewRow] = list(self.done)
        self._csv = CsvAppender(self.folder / CSV_NAME, self.done)
        self._parquet = ParquetAppender(self.folder / PARQUET_NAME)  # the same rows, columnar
        self._parquet.start(self.done)
        self.finish(None, "running")

    def _prepare_folder(self) -> None:
        if self.folder.exists() and not self.folder.is_dir():
            raise OutputPathError(f"{self.folder}: exists and is not a folder")
        try:
            (self.folder / OVERLAYS).mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise OutputPathError(f"{self.folder}: cannot create ({exc.strerror or exc})") from None

    def _refuse_old_results(self) -> list[ReviewRow]:
        if (self.folder / CSV_NAME).exists():
            raise OutputPathError(f"{self.folder} already holds {CSV_NAME}: pass --resume to continue "
                                  "that review, or choose another output folder")
        return []

    def _earlier_rows(self) -> list[ReviewRow]:
        csv_path, summary = self.folder / CSV_NAME, self.folder / SUMMARY_NAME
        if not csv_path.exists():
            return []
        try:
            earlier = json.loads(summary.read_text(encoding="utf-8")).get("run", {}) if summary.exists() else {}
            rows = read_rows(csv_path)
        except (OSError, ValueError) as exc:
            raise OutputPathError(f"cannot resume from {csv_path}: {exc}") from None
        changed = [k for k in _RUN_KEYS if k in earlier and earlier[k] != self.run.get(k)]
        if changed:
            raise OutputPathError(f"cannot resume: {', '.join(changed)} {'differs' if len(changed) == 1 else 'differ'} from the run in {self.folder}; "
                                  "use the same settings or another output folder")
        return rows

    def on_rows(self, rows: list[ReviewRow]) -> None:
        """Append and flush a batch of rows."""
        self.rows.extend(rows)
        self._csv.append(rows)
        self._parquet.append(rows)

    def on_images(self, items: list[ReviewedImage]) -> None:
        """Write the overlays of a batch."""
        for item in items:
            if item.image is not None and item.heatmap is not None:
                write_png(self.folder / overlay_name(item.row), draw_review_overlay(item, self.alpha, self.colormap))

    def finish(self, result: ReviewResult | None, status: str, total: int | None = None) -> None:
        """(Re)write summary.json and report.html from `result`, or from the rows so far."""
        from engine.review.stats import summarise

        if status != "running":
            self._parquet.flush()
        if result is None:
            result = summarise(self.rows, self.run.get("class_names", ()), total or len(self.rows),
                               complete=False)
        summary = {"status": status, "run": self.run, **result.to_json(),
                   "files": {"csv": CSV_NAME, "report": REPORT_NAME, "overlays": OVERLAYS}}
        _write_text(self.folder / SUMMARY_NAME, json.dumps(summary, indent=2, default=_json_default) + "\n")
        report = render_report(result, self.run, status, self._overlay_link, self.folder)
        _write_text(self.folder / REPORT_NAME, report)

    def review(self, session, images: str | os.PathLike, options: ReviewOptions, progress=None, cancel=None,
               on_rows: Callable[[list[ReviewRow]], None] | None = None) -> ReviewResult:
        """Review `images` into this folder (skipping the rows it already holds), then write the
        summary and the report. An exception (Ctrl+C) leaves the rows so far for the caller to finish."""
        def rows_written(rows: list[ReviewRow]) -> None:
            self.on_rows(rows)
            if on_rows is not None:
                on_rows(rows)

        result = review_folder(session, images, options=options, progress=progress, cancel=cancel,
                               on_rows=rows_written, on_images=self.on_images, done=self.done, exclude=self.folder)
        self.finish(result, "complete" if result.complete else "interrupted")
        return result

    def _overlay_link(self, row: ReviewRow) -> str | None:
        name = overlay_name(row)
        return name if (self.folder / name).is_file() else None

    def close(self) -> None:
        """Close the CSV file and write the last Parquet part."""
        self._csv.close()
        self._parquet.close()


def open_review_output(session, images: str | os.PathLike, out: str | os.PathLike, options: ReviewOptions,
                       resume: bool = False, alpha: float = 0.4, colormap: str = "jet") -> ReviewOutput:
    """Check the settings and prepare OUT for a review of IMAGES (a folder of its own)."""
    if Path(out).resolve() == Path(images).resolve():
        raise OutputPathError("the output folder must be a folder of its own, not the images folder")
    check_options(session, options)
    return ReviewOutput(out, run_description(session, options, images), resume, alpha, colormap)


def _json_default(value: Any) -> Any:
    if hasattr(value, "tolist"):
        return value.tolist()
    return str(value)
