"""The window opens what it was given or what it remembers; a remembered model or folder that
has since disappeared falls back to the demo and the status line says so (issue 20, item 6).
A typo in `gui --model/--images` never gets this far: tests/cli/test_paths_before_engine.py."""

from __future__ import annotations

from argparse import Namespace

from .conftest import DEMO_IMAGES, DEMO_MODEL, WAIT_MS

NOTHING_GIVEN = Namespace(model=None, images=None, trust_model=False)


def test_remembered_paths_that_disappeared_fall_back_to_the_demo_with_a_notice(settings, tmp_path):
    from gui.app import initial_paths

    settings.set("model", str(tmp_path / "gone.keras"))
    settings.set("folder", str(tmp_path / "gone"))
    model, folder, gone = initial_paths(NOTHING_GIVEN, settings)
    assert (model, folder) == (str(DEMO_MODEL), str(DEMO_IMAGES))
    assert gone == [str(tmp_path / "gone.keras"), str(tmp_path / "gone")]


def test_remembered_paths_that_exist_open_without_a_notice(settings, tmp_path):
    from gui.app import initial_paths

    (tmp_path / "lot").mkdir()
    settings.set("folder", str(tmp_path / "lot"))
    assert initial_paths(NOTHING_GIVEN, settings) == (str(DEMO_MODEL), str(tmp_path / "lot"), [])


def test_the_status_line_says_the_remembered_model_is_gone_after_the_first_map(qtbot, settings, tmp_path):
    from gui.app import create_window

    settings.set("model", str(tmp_path / "gone.keras"))
    window = create_window(NOTHING_GIVEN, settings)
    qtbot.addWidget(window)
    qtbot.waitUntil(lambda: window.canvas.explanation is not None, timeout=WAIT_MS)
    assert window.message.text() == "⚠ Gone since last time: gone.keras; opened the demo instead"
    assert str(window.controller.info.path).endswith("defects.keras")
    window.close()
