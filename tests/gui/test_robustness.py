"""Bad inputs in the window: a message box or a status line, never a crash; a failed model
load keeps the previous model; a bad image does not stop the next good one."""

from __future__ import annotations

import shutil

import cv2
import numpy as np
import pytest
from PySide6.QtWidgets import QMessageBox

from .conftest import DEMO_IMAGES, WAIT_MS, wait_idle


def close_boxes(window) -> list[str]:
    """Texts of the visible message boxes, which are then closed."""
    boxes = [w for w in window.findChildren(QMessageBox) if w.isVisible()]
    texts = [box.text() for box in boxes]
    for box in boxes:
        box.close()
    return texts


def open_model(qtbot, window, path, fails: bool) -> None:
    """Open a model file and wait for the answer (a failure, or the new model)."""
    errors = len(window.controller.errors)
    if fails:
        window.open_path(str(path))
        qtbot.waitUntil(lambda: len(window.controller.errors) > errors, timeout=WAIT_MS)
    else:
        with qtbot.waitSignal(window.controller.modelChanged, timeout=WAIT_MS):
            window.open_path(str(path))
    qtbot.waitUntil(lambda: "model" not in window.controller.busy, timeout=WAIT_MS)
    assert (window.controller.info.path == str(path)) != fails


def explain_next(qtbot, window, index: int = 2):
    """Select another image and wait for its map."""
    paths = window.browser.visible_paths()
    path = next(p for p in paths[index:] + paths if p != window.controller.path)
    with qtbot.waitSignal(window.controller.explanationShown, timeout=WAIT_MS) as signal:
        window.browser.select_path(path)
    return signal.args[0]


def test_broken_model_files_keep_the_previous_model(qtbot, window, tmp_path):
    from tests.models import save_model, tiny_cnn

    empty = tmp_path / "empty.keras"
    empty.write_bytes(b"")
    whole = save_model(tiny_cnn(), tmp_path, "whole.keras").read_bytes()
    truncated = tmp_path / "truncated.keras"
    truncated.write_bytes(whole[: len(whole) // 2])
    text = tmp_path / "notes.h5"
    text.write_text("these are my notes, not a model\n")
    for path in (empty, truncated, text):
        open_model(qtbot, window, path, fails=True)
        assert window.controller.info.name == "defects.keras"
        assert "Model not loaded" in window.message.text()
        texts = close_boxes(window)
        assert texts and "still loaded" in texts[0], path.name
        assert "\n" not in window.message.text()
        explanation = explain_next(qtbot, window)
        assert explanation.class_name in window.controller.info.class_names


def test_lambda_model_asks_whether_to_trust_it(qtbot, window, tmp_path, trust_question):
    from tests.models import lambda_model, save_model

    path = save_model(lambda_model(), tmp_path, "with_lambda.keras")
    answers, asked = trust_question
    open_model(qtbot, window, path, fails=True)
    assert len(asked) == 1 and "trust" in asked[0].lower() + window.message.text().lower()
    assert window.controller.info.name == "defects.keras"
    explain_next(qtbot, window)

    answers[0] = QMessageBox.StandardButton.Yes
    with qtbot.waitSignal(window.controller.modelChanged, timeout=WAIT_MS):
        window.open_path(str(path))
    assert len(asked) == 2
    assert window.controller.info.name == "with_lambda.keras"
    qtbot.waitUntil(lambda: window.canvas.explanation is not None and not window.controller.busy, timeout=WAIT_MS)
    assert window.canvas.heatmap.shape == window.canvas.image.shape[:2]


def test_model_without_4d_layer_cam_says_why_gradients_work(qtbot, window, tmp_path):
    from tests.models import dense_only_model, save_model

    wait_idle(qtbot, window)
    path = save_model(dense_only_model(), tmp_path, "dense.keras")
    failures = []
    window.controller.client.signals.job_failed.connect(lambda reply: failures.append((reply.channel, reply.message)))
    open_model(qtbot, window, path, fails=False)
    assert window.controller.layer is None
    # `failures` fills on the worker thread as the error is emitted; the canvas shows it
    # once the GUI thread has handled the queued signal, so wait for both.
    qtbot.waitUntil(lambda: any(c == "explain" for c, _m in failures), timeout=WAIT_MS)
    reason = next(m for c, m in failures if c == "explain")
    qtbot.waitUntil(lambda: window.canvas.title.text() == reason, timeout=WAIT_MS)
    assert window.canvas.explanation is None
    assert reason in window.message.text() and "\n" not in reason
    with qtbot.waitSignal(window.controller.explanationShown, timeout=WAIT_MS) as signal:
        window.method_panel.select("saliency")
    assert signal.args[0].method == "saliency" and signal.args[0].heatmap.ndim == 2
    window.method_panel.select("gradcam")
    qtbot.waitUntil(lambda: window.canvas.explanation is None, timeout=WAIT_MS)
    window.review.run_button.click()  # a CAM review cannot run either: a status line
    qtbot.waitUntil(lambda: any(c == "review" for c, _m in failures), timeout=WAIT_MS)
    assert "⚠" in window.message.text()
    wait_idle(qtbot, window)


def test_grayscale_non_square_model(qtbot, window, tmp_path):
    from tests.models import save_model, tiny_cnn

    path = save_model(tiny_cnn((24, 40, 1)), tmp_path, "gray.keras")
    open_model(qtbot, window, path, fails=False)
    assert window.controller.info.input_shape[:3] == (24, 40, 1)
    explanation = explain_next(qtbot, window, 4)
    assert explanation.layer == "conv2"
    assert window.canvas.heatmap.shape == window.canvas.image.shape[:2]
    # the folder is predicted again (in batches that may arrive after the explanation)
    qtbot.waitUntil(lambda: bool(window.controller.predictions), timeout=WAIT_MS)


@pytest.fixture
def bad_folder(tmp_path):
    """A folder of one label with good, odd and broken images."""
    folder = tmp_path / "lot" / "ok"
    folder.mkdir(parents=True)
    source = sorted((DEMO_IMAGES / "ok").glob("*.png"))[0]
    shutil.copy(source, folder / "good.png")
    data = source.read_bytes()
    (folder / "corrupt.png").write_bytes(data[: len(data) // 3])
    (folder / "empty.png").write_bytes(b"")
    (folder / "notes.jpg").write_text("hello, not an image")
    image = cv2.imread(str(source))
    cv2.imwrite(str(folder / "deep.png"), image.astype(np.uint16) * 257)
    rgba = cv2.cvtColor(image, cv2.COLOR_BGR2BGRA)
    rgba[..., 3] = 128
    cv2.imwrite(str(folder / "alpha.png"), rgba)
    return folder.parent


def test_bad_images_give_a_reason_and_the_next_good_one_explains(qtbot, window, bad_folder):
    wait_idle(qtbot, window)
    assert window.controller.open_folder(str(bad_folder))
    paths = {p.rsplit("/", 1)[-1]: p for p in window.browser.paths()}
    assert set(paths) == {"good.png", "corrupt.png", "empty.png", "notes.jpg", "deep.png", "alpha.png"}
    for bad in ("corrupt.png", "empty.png", "notes.jpg"):
        window.browser.select_path(paths[bad])
        qtbot.waitUntil(lambda name=bad: name in window.message.text() and "⚠" in window.message.text(),
                        timeout=WAIT_MS)
        assert "\n" not in window.message.text()
        assert window.canvas.image is None and bad in window.canvas.title.text()
        assert "⚠" in window.predictions.summary.text()
        with qtbot.waitSignal(window.controller.explanationShown, timeout=WAIT_MS):
            window.browser.select_path(paths["good.png"])
        assert window.canvas.image is not None
    for odd in ("deep.png", "alpha.png"):  # 16-bit and RGBA images are fine
        with qtbot.waitSignal(window.controller.explanationShown, timeout=WAIT_MS):
            window.browser.select_path(paths[odd])
        assert window.canvas.image.dtype == np.uint8 and window.canvas.image.shape[2] == 3
    model = window.browser.model
    qtbot.waitUntil(lambda: sum(bool(r.error) for r in model.rows) == 3, timeout=WAIT_MS)
    row = model.row_of(paths["empty.png"])
    assert model.index(row, 2).data() == "⚠ unreadable"

    window.show_tab("review")
    window.review.run_button.click()
    qtbot.waitUntil(lambda: window.review.result is not None, timeout=WAIT_MS)
    result = window.review.result
    assert len(result.rows) == 6 and result.overall.errors == 3
    assert "3 unreadable" in window.review.summary.text()
    texts = [window.review.proxy.index(r, 2).data() for r in range(window.review.proxy.rowCount())]
    assert texts.count("unreadable") == 3
