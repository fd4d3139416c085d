"""`batch --trust`, `explain --faithfulness` and `sanity` end to end."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from cli.common import DEMO_MODEL
from resources.demo.lots import write_lot
from resources.demo.synthetic import CLASS_NAMES
from tests.cli_run import refused, run

TRUST_COLUMNS = ["deletion_auc", "insertion_auc", "random_deletion_auc", "random_insertion_auc", "pixel_auroc",
                 "removal_probability", "kept_after_removal", "flag"]
SUMMARY_FIELDS = {"verdict", "verdict_reason", "kept_after_removal_rate", "aupro", "mean_pixel_auroc",
                  "deletion_auc", "insertion_auc"}


@pytest.fixture(scope="module")
def images(tmp_path_factory) -> Path:
    return write_lot(tmp_path_factory.mktemp("lot"), per_class=2, size=(96, 96), seed=11)


def test_batch_trust_adds_columns_and_a_verdict(images, tmp_path, capsys):
    out = tmp_path / "out"
    code, stdout, _ = run(capsys, "batch", "--model", DEMO_MODEL, "--images", images, "--out", out, "--trust")
    assert code == 0 and "verdict: " in stdout
    with open(out / "results.csv", newline="", encoding="utf-8") as handle:
        records = list(csv.DictReader(handle))
    assert len(records) == 8 and all(name in records[0] for name in TRUST_COLUMNS)
    for record in records:
        assert record["deletion_auc"] != "" and 0.0 <= float(record["insertion_auc"]) <= 1.0
        has_mask = record["mask"] != ""
        assert (record["flag"] != "") == has_mask and (record["pixel_auroc"] != "") == has_mask
        assert (record["kept_after_removal"] in ("0", "1")) == has_mask
    summary = json.loads((out / "summary.json").read_text())
    trust = summary["trust"]
    assert SUMMARY_FIELDS <= set(trust["overall"]) and set(trust["per_label"]) == set(CLASS_NAMES)
    assert all(SUMMARY_FIELDS <= set(v) for v in trust["per_label"].values())
    assert all(v["verdict"] == "insufficient-data" for v in trust["per_label"].values())  # 2 images a label
    assert trust["overall"]["verdict"] in ("right-reason", "shortcut-suspected", "insufficient-data")
    assert trust["overall"]["verdict_reason"]
    assert summary["run"]["trust"] is True
    report = (out / "report.html").read_text()
    assert trust["overall"]["verdict"] in report and "insufficient-data" in report


def test_batch_without_trust_leaves_the_columns_empty(images, tmp_path, capsys):
    out = tmp_path / "plain"
    code, stdout, _ = run(capsys, "batch", "--model", DEMO_MODEL, "--images", images, "--out", out)
    assert code == 0 and "verdict" not in stdout
    with open(out / "results.csv", newline="", encoding="utf-8") as handle:
        records = list(csv.DictReader(handle))
    assert all(record[name] == "" for record in records for name in TRUST_COLUMNS)
    assert "trust" not in json.loads((out / "summary.json").read_text())
    refused(capsys, "batch", "--model", DEMO_MODEL, "--images", images, "--out", out, "--resume", "--trust")


def test_explain_faithfulness_json(images, capsys):
    image = images / "scratch" / "scratch_0.png"
    code, stdout, _ = run(capsys, "explain", "--model", DEMO_MODEL, "--image", image, "--faithfulness", "--json")
    assert code == 0
    found = json.loads(stdout)["faithfulness"]
    for name in ("deletion_auc", "insertion_auc", "random_deletion_auc", "random_insertion_auc"):
        assert 0.0 <= found[name] <= 1.0
    curves = found["curves"]
    assert len(curves["fractions"]) == found["steps"] + 1 == len(curves["map"]["deletion"])
    assert set(curves) == {"fractions", "map", "random", "edges"} and isinstance(found["faithful"], bool)
    code, stdout, _ = run(capsys, "explain", "--model", DEMO_MODEL, "--image", image, "--faithfulness")
    assert code == 0 and "deletion AUC" in stdout and "insertion AUC" in stdout


def test_sanity_command(tmp_path, capsys):
    from tests.models import save_model, tiny_cnn

    model = save_model(tiny_cnn(), tmp_path, "tiny.keras")
    image = tmp_path / "x.png"
    cv2.imwrite(str(image), (np.random.default_rng(0).random((32, 32, 3)) * 255).astype(np.uint8))
    code, stdout, _ = run(capsys, "sanity", "--model", model, "--image", image, "--method", "gradcam",
                          "--method", "saliency", "--json")
    assert code == 0
    found = json.loads(stdout)
    assert [r["method"] for r in found["results"]] == ["gradcam", "saliency"]
    assert all(len(r["stages"]) == 4 and r["verdict"] in ("pass", "fail") for r in found["results"])
    code, stdout, _ = run(capsys, "sanity", "--model", model, "--image", image, "--method", "gradcam")
    assert code == 0 and ("PASS" in stdout or "FAIL" in stdout) and "rank correlation" in stdout
    refused(capsys, "sanity", "--model", model, "--image", image, "--method", "no-such-method")
    refused(capsys, "sanity", "--model", model, "--image", tmp_path / "missing.png")
