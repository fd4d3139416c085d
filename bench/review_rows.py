"""Generated review folders for tests and benchmarks: a results.csv / results.parquet with
any number of plausible rows (labels, predictions, masks, errors), written in seconds."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

CLASS_NAMES = ("ok", "scratch", "spot", "crack")


def generated_table(rows: int, seed: int = 0, class_names: tuple[str, ...] = CLASS_NAMES):
    """An Arrow table with the review schema: 85% correct, masks on defect images, 0.1% errors."""
    import pyarrow as pa

    from engine.review.table import schema

    rng = np.random.default_rng(seed)
    count = len(class_names)
    truth = rng.integers(0, count, rows)
    guess = np.where(rng.random(rows) < 0.85, truth, rng.integers(0, count, rows))
    error = rng.random(rows) < 0.001
    masked = (truth > 0) & ~error
    names = np.array(class_names, dtype=object)
    number = np.arange(rows)
    paths = [f"{names[t]}/img_{i:07d}.png" for t, i in zip(truth.tolist(), number.tolist(), strict=True)]

    def valid(values, where):
        return pa.array(values, mask=~where)

    columns = {
        "path": pa.array(paths), "label": pa.array(names[truth].tolist()),
        "label_index": pa.array(truth), "predicted": pa.array(np.where(error, "", names[guess]).tolist()),
        "predicted_index": valid(guess, ~error), "confidence": valid(rng.uniform(0.3, 1.0, rows), ~error),
        "correct": valid(truth == guess, ~error), "explained": pa.array(np.where(error, "", names[guess]).tolist()),
        "explained_index": valid(guess, ~error), "peak_x": valid(rng.integers(0, 96, rows), ~error),
        "peak_y": valid(rng.integers(0, 96, rows), ~error),
        "mask": pa.array(np.where(masked, "class", "").tolist()),
        "pointing_hit": valid(rng.random(rows) < 0.9, masked), "energy_inside": valid(rng.random(rows), masked),
        "iou": valid(rng.random(rows), masked), "width": valid(np.full(rows, 96), ~error),
        "height": valid(np.full(rows, 96), ~error), "empty_map": pa.array(rng.random(rows) < 0.01),
        "note": pa.array([""] * rows), "error": pa.array(np.where(error, "unreadable image", "").tolist()),
    }
    flags = np.array(["clear", "off-defect", "survives-removal", "off-defect; survives-removal"], dtype=object)
    trust = {name: valid(rng.random(rows), masked) for name in (
        "deletion_auc", "insertion_auc", "random_deletion_auc", "random_insertion_auc", "pixel_auroc",
        "removal_probability")}
    trust["kept_after_removal"] = valid(rng.random(rows) < 0.2, masked)
    trust["flag"] = pa.array(np.where(masked, flags[rng.integers(0, 4, rows)], "").tolist())
    trust["control_kept_after_removal"] = valid(rng.random(rows) < 0.9, masked)
    columns["mask_source"] = pa.array(np.where(masked, "mask", "").tolist())
    columns["mask_kind"] = pa.array(np.where(masked, "pixel", "").tolist())
    columns.update(trust)
    # a column declared since this generator was written stays empty
    return pa.table([columns[f.name].cast(f.type) if f.name in columns else pa.nulls(rows, f.type) for f in schema()],
                    schema=schema())


def write_generated_review(folder: str | Path, rows: int, seed: int = 0, csv: bool = True,
                           parquet: bool = True, images: str = "") -> Path:
    """A review folder with `rows` generated rows: results.parquet/, results.csv, summary.json."""
    import pyarrow as pa
    import pyarrow.csv  # noqa: F401
    import pyarrow.parquet  # noqa: F401

    from engine.review.table import PARQUET_NAME

    root = Path(folder)
    (root / PARQUET_NAME).mkdir(parents=True, exist_ok=True)
    table = generated_table(rows, seed)
    if parquet:
        pa.parquet.write_table(table, root / PARQUET_NAME / "part-generated-00000.parquet")
    if csv:
        as_text = table.cast(pa.schema([pa.field(f.name, pa.string()) for f in table.schema]))
        bools = {f.name for f in table.schema if pa.types.is_boolean(f.type)}
        columns = [pa.compute.if_else(pa.compute.equal(c, "true"), "1", pa.compute.if_else(
            pa.compute.equal(c, "false"), "0", c)) if n in bools else c for n, c in zip(table.column_names, as_text.columns, strict=True)]
        pa.csv.write_csv(pa.table(columns, names=table.column_names), root / "results.csv",
                         pa.csv.WriteOptions(quoting_style="none"))
    summary = {"status": "complete", "images_total": rows, "images_done": rows, "complete": True, "seconds": 0.0,
               "class_names": list(CLASS_NAMES), "run": {"images": images, "class_names": list(CLASS_NAMES),
                                                         "method": "gradcam"}}
    (root / "summary.json").write_text(json.dumps(summary), encoding="utf-8")
    return root
