"""Menus, toolbar, shortcuts and recent-file lists of the main window."""

from __future__ import annotations

from pathlib import Path

from engine.images.decoding import IMAGE_SUFFIXES
from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QFileDialog, QMenu, QMessageBox, QStyle, QToolBar

from .compose import VIEW_MODES

MODEL_FILTER = ("Models (*.keras *.h5 *.hdf5 *.tflite *.onnx saved_model.pb);;Keras models (*.keras *.h5 *.hdf5);;"
                "Deployed exports, opened as black boxes (*.tflite *.onnx);;"
                "SavedModel folder: pick its saved_model.pb (saved_model.pb);;All files (*)")
SAVED_MODEL_FILE = "saved_model.pb"  # picked in the dialog: its folder is the model
ABOUT = ("<b>ConvScope</b><br>Look inside convolutional image classifiers: select an image, "
         "read the prediction, and see where the evidence is.<br><br>"
         "Right / Left: next / previous image · 1 / 2 / 3: overlay / heatmap / image · Esc: cancel · "
         "F1: getting started")


class Actions:
    """Every QAction of the window, with its menus and toolbar."""

    def __init__(self, window) -> None:
        self.window = window
        style = window.style()
        icon = style.standardIcon
        self.open_model = self._action("Open &model…", "Ctrl+O", self._ask_model,
                                       icon(QStyle.StandardPixmap.SP_DialogOpenButton))
        self.open_folder = self._action("Open &folder…", "Ctrl+Shift+O", self._ask_folder,
                                        icon(QStyle.StandardPixmap.SP_DirOpenIcon))
        self.open_image = self._action("Open &image…", "Ctrl+I", self._ask_image,
                                       icon(QStyle.StandardPixmap.SP_FileIcon))
        self.compare_model = self._action("&Compare with another model…", "Ctrl+Shift+M", self._ask_model_b,
                                          icon(QStyle.StandardPixmap.SP_FileDialogDetailedView))
        self.compare_model.setToolTip("Open a second model (Keras or a .tflite / .onnx / SavedModel export) and "
                                      "show its maps beside this one's (Ctrl+Shift+M)")
        self.compare_model.setIconText("Compare model")
        self.stop_comparing = self._action("&Stop comparing", None, lambda: window.controller.stop_comparing())
        self.stop_comparing.setEnabled(False)
        self.export = self._action("&Export…", "Ctrl+E", window.export_dialog,
                                   icon(QStyle.StandardPixmap.SP_DialogSaveButton))
        self.quit = self._action("&Quit", QKeySequence.StandardKey.Quit, window.close)
        self.next = self._action("&Next image", "Right", lambda: window.browser.step(1),
                                 icon(QStyle.StandardPixmap.SP_ArrowDown), extra=("PgDown",))
        self.previous = self._action("&Previous image", "Left", lambda: window.browser.step(-1),
                                     icon(QStyle.StandardPixmap.SP_ArrowUp), extra=("PgUp",))
        self.cancel = self._action("&Cancel", "Esc", lambda: window.controller.cancel(), icon(QStyle.StandardPixmap.SP_BrowserStop))
        self.misclassified = self._action("&Misclassified only", "Ctrl+M",
                                          lambda: window.browser.misclassified.toggle())
        self.modes = [self._action(f"Show {mode}", str(k + 1), self._mode_setter(mode))
                      for k, mode in enumerate(VIEW_MODES)]
        self.guide = self._action("&Getting started", "F1", self._guide)
        self.about = self._action("&About ConvScope", None, self._about)
        self._guide_dialog = None
        self.recent_models = QMenu("Recent &models", window)
        self.recent_folders = QMenu("Recent &folders", window)
        self._build_menus()
        self._build_toolbar()
        for kind in ("models", "folders"):
            self._fill_recent(kind, window.settings.recent(kind))

    def _action(self, text: str, shortcut, slot, icon=None, extra: tuple[str, ...] = ()) -> QAction:
        action = QAction(text, self.window)
        if icon is not None:
            action.setIcon(icon)
        if shortcut is not None:
            keys = [QKeySequence(shortcut)] + [QKeySequence(k) for k in extra]
            action.setShortcuts(keys)
            action.setToolTip(f"{text.replace('&', '').rstrip('…')} ({keys[0].toString()})")
        action.triggered.connect(lambda _checked=False: slot())
        self.window.addAction(action)
        return action

    def _build_menus(self) -> None:
        bar = self.window.menuBar()
        file = bar.addMenu("&File")
        for action in (self.open_model, self.open_folder, self.open_image):
            file.addAction(action)
        file.addSeparator()
        file.addAction(self.compare_model)
        file.addAction(self.stop_comparing)
        file.addSeparator()
        file.addMenu(self.recent_models)
        file.addMenu(self.recent_folders)
        file.addSeparator()
        file.addAction(self.export)
        file.addSeparator()
        file.addAction(self.quit)
        view = bar.addMenu("&View")
        for action in (self.next, self.previous, self.misclassified):
            view.addAction(action)
        view.addSeparator()
        for action in self.modes:
            view.addAction(action)
        view.addSeparator()
        view.addAction(self.cancel)
        help_menu = bar.addMenu("&Help")
        help_menu.addAction(self.guide)
        help_menu.addAction(self.about)

    def _build_toolbar(self) -> None:
        toolbar = QToolBar("Main")
        toolbar.setObjectName("main-toolbar")
        toolbar.setMovable(False)
        toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        for action in (self.open_model, self.compare_model, self.open_folder, self.open_image, None, self.previous,
                       self.next,
                       None, self.export):
            toolbar.addSeparator() if action is None else toolbar.addAction(action)
        self.window.addToolBar(toolbar)

    def add_recent(self, kind: str, path: str) -> None:
        """Put a path first in the recent models or folders menu."""
        self._fill_recent(kind, self.window.settings.add_recent(kind, path))

    def _fill_recent(self, kind: str, paths: list[str]) -> None:
        menu = self.recent_models if kind == "models" else self.recent_folders
        menu.clear()
        for path in paths:
            menu.addAction(path.replace("&", "&&"), lambda p=path: self.window.open_path(p)).setToolTip(path)
        menu.setEnabled(bool(paths))

    def _mode_setter(self, mode: str):
        return lambda: self.window.view_controls.set_mode(mode)

    def _ask_model(self) -> None:
        path = self._pick_model("Open a model")
        if path:
            self.window.controller.open_model(path)

    def _ask_model_b(self) -> None:
        path = self._pick_model("Compare with another model (B)")
        if path:
            self.window.controller.open_model_b(path)

    def _pick_model(self, title: str) -> str:
        """A model file, or a SavedModel folder (picked by its saved_model.pb); "" when cancelled."""
        path, _ = QFileDialog.getOpenFileName(self.window, title, self._start_dir("model"), MODEL_FILTER)
        return model_path(path)

    def comparing(self, on: bool) -> None:
        """Stop comparing is offered only while two models are open."""
        self.stop_comparing.setEnabled(on)

    def _ask_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self.window, "Open a folder of images", self._start_dir("folder"))
        if folder:
            self.window.controller.open_folder(folder)

    def _ask_image(self) -> None:
        patterns = " ".join(f"*{s}" for s in sorted(IMAGE_SUFFIXES))
        path, _ = QFileDialog.getOpenFileName(self.window, "Open an image", self._start_dir("folder"),
                                              f"Images ({patterns});;All files (*)")
        if path:
            self.window.controller.open_image(path)

    def _start_dir(self, key: str) -> str:
        value = self.window.settings.get(key)
        return str(Path(value).parent if key == "model" else value) if value else ""

    def _about(self) -> None:
        QMessageBox.about(self.window, "About ConvScope", ABOUT)

    def _guide(self) -> None:
        from .guide import GuideDialog

        if self._guide_dialog is None:
            self._guide_dialog = GuideDialog(self.window)
        self._guide_dialog.show()
        self._guide_dialog.raise_()


def model_path(picked: str) -> str:
    """The model a file picked in the dialog names: a SavedModel's saved_model.pb stands for its folder."""
    return str(Path(picked).parent) if picked and Path(picked).name == SAVED_MODEL_FILE else picked


def build_actions(window) -> Actions:
    """Create the window's actions, menus and toolbar."""
    return Actions(window)
