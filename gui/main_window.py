"""The main window: browser, canvas, compare grid, feature views, layer tree, predictions,
method panel, menus, toolbar, status bar with progress and Cancel, drag and drop."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, cast

from engine.images.decoding import IMAGE_SUFFIXES
from PySide6.QtCore import QSize, Qt, QTimer
from PySide6.QtGui import QCloseEvent, QDragEnterEvent, QDropEvent, QGuiApplication
from PySide6.QtWidgets import (
    QDockWidget,
    QFileDialog,
    QFrame,
    QLabel,
    QMainWindow,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from .actions import build_actions
from .browser import ImageBrowser
from .canvas import HeatmapCanvas
from .layer_tree import LayerTree
from .lazy import LazyTab, construct_later
from .mask_overlay import MaskOverlay
from .method_panel import MethodPanel
from .pair_view import PairView
from .predictions import PredictionsPanel
from .settings import Settings
from .state import initial_state
from .style import hint_style
from .trust.view import TrustView
from .view_controls import ViewControls

if TYPE_CHECKING:  # built with their tabs or controllers: imported after the first paint (gui.app)
    from .compare import CompareGrid
    from .controller import Controller
    from .drawing import DrawingController
    from .features_view import FeaturesView
    from .review import ReviewController, ReviewTab
    from .trust.controller import TrustController

MODEL_SUFFIXES = (".keras", ".h5", ".hdf5", ".tflite", ".onnx")
PREFERRED_SIZE = QSize(1560, 940)
MIN_BROWSER, MIN_RIGHT = 280, 330  # the docks' least widths: at 1280 x 720 the maps keep 660 px, the layer tree all its columns
MIN_TREE_HEIGHT = 120  # px of layer tree left while Combinations are open: a few rows, still clickable


def sentence(text: str) -> str:
    """A message as a sentence: with its full stop (engine messages may end without one)."""
    text = text.rstrip()
    return text if text.endswith((".", "!", "?", "…")) else text + "."


class MainWindow(QMainWindow):
    """ConvScope's one window."""

    def __init__(self, settings: Settings) -> None:
        super().__init__()
        self.settings = settings
        self.setWindowTitle("ConvScope")
        self.setAcceptDrops(True)
        self._fit_screen()
        state = initial_state(settings)
        self._build_views(state)
        self._shown_state = state  # what the views that mirror the state show (_follow_state)
        self._build_docks()
        self._build_status_bar()
        self._initial_state = state
        self._controllers: tuple[Controller, TrustController, DrawingController] | None = None
        self._review_controller: ReviewController | None = None  # made with the Review tab
        self.actions = build_actions(self)
        self._connect_views()
        self.last_export: list[Path] = []
        self.closed = False

    # -- the controllers: made at their first use ---------------------------------------------
    # The window paints without them: the controller, its engine protocol (some fifty message
    # classes), the trust and drawing controllers are a third of the window's import and build
    # time. gui.app makes them right after the first paint, before it opens the first model; a
    # view's signal that needs one before then makes it (the views reach it through these).
    @property
    def controller(self) -> Controller:
        """The controller of the window's state and of the engine (made now if it was not)."""
        return self._made_controllers()[0]

    @property
    def trust_controller(self) -> TrustController:
        """The Trust tab's controller (made with the controller)."""
        return self._made_controllers()[1]

    @property
    def drawing(self) -> DrawingController:
        """The region drawing tools' controller (made with the controller)."""
        return self._made_controllers()[2]

    @property
    def has_controllers(self) -> bool:
        """Whether the controllers exist yet (closing a window that never made them makes none)."""
        return self._controllers is not None

    def _made_controllers(self) -> tuple[Controller, TrustController, DrawingController]:
        if self._controllers is None:
            from .controller import Controller
            from .drawing import DrawingController
            from .trust.controller import TrustController

            controller = Controller(self, self._initial_state)
            trust = TrustController(self.trust, controller)
            self._controllers = (controller, trust, DrawingController(self))
            self.pair.shared_rows = (self.mask_overlay.row, self._controllers[2].bar)
            self._connect_controller(controller)
        return self._controllers

    def _fit_screen(self) -> None:
        """The preferred size, or the screen's available area when that is smaller."""
        screen = QGuiApplication.primaryScreen()
        size = PREFERRED_SIZE
        if screen is not None:
            size = size.boundedTo(screen.availableGeometry().size())
        self.resize(size)

    # -- construction -----------------------------------------------------------------------
    def _build_views(self, state) -> None:
        s = self.settings
        self.browser = ImageBrowser()
        self.browser.set_sort(s.get("sort"))
        self.browser.misclassified.setChecked(s.get("misclassified_only"))
        self.canvas = HeatmapCanvas()
        self.pair = PairView(self.canvas)  # the Heatmap tab: A's canvas, and B's beside it while comparing
        self.trust = TrustView()
        self.view_controls = ViewControls(state.view)
        self.pair.apply(state.view)
        self.mask_overlay = MaskOverlay(self.canvas, self._class_names, lambda: self.browser.folder,
                                        s.get("mask_outline"))
        self.tabs = QTabWidget()
        # Built at their first show (or first use): the first paint shows the Heatmap tab only.
        self.lazy_tabs: dict[str, LazyTab] = {
            "compare": LazyTab(construct_later("gui.compare", "CompareGrid"), self._compare_built),
            "features": LazyTab(construct_later("gui.features_view", "FeaturesView"), self._features_built),
            "review": LazyTab(construct_later("gui.review", "ReviewTab"), self._review_built)}
        self.tab_views: dict[str, QWidget] = {"heatmap": self.pair, **self.lazy_tabs, "trust": self.trust}
        for name, title in (("heatmap", "Heatmap"), ("compare", "Compare"), ("features", "Activations && filters"),
                            ("review", "Review"), ("trust", "Trust")):
            self.tabs.addTab(self.tab_views[name], title)
        centre = QWidget()
        layout = QVBoxLayout(centre)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.tabs, 1)
        layout.addWidget(self.view_controls)
        self.setCentralWidget(centre)

    @property
    def compare(self) -> CompareGrid:
        """The Compare tab's grid (built now if it was not)."""
        return self.lazy_tabs["compare"].view

    @property
    def features(self) -> FeaturesView:
        """The Activations & filters tab (built now if it was not)."""
        return self.lazy_tabs["features"].view

    @property
    def review(self) -> ReviewTab:
        """The Review tab (built now if it was not)."""
        return self.lazy_tabs["review"].view

    @property
    def review_controller(self) -> ReviewController:
        """The Review tab's controller (made with the tab)."""
        self.lazy_tabs["review"].view  # noqa: B018 - the property builds
        assert self._review_controller is not None
        return self._review_controller

    def built_view(self, name: str) -> QWidget | None:
        """A lazy tab's view if it exists, else None: what a view that was never built would show
        it takes from the state when it is built."""
        page = self.lazy_tabs[name]
        return page.view if page.is_built else None

    def _compare_built(self, grid: CompareGrid) -> None:
        state, c = self.controller.state, self.controller
        grid.set_mode(state.compare_mode)
        grid.apply(state.view)
        if c.specs:
            grid.set_methods(c.specs, state.compare_methods)
        grid.modeChanged.connect(c.set_compare_mode)
        grid.methodsChanged.connect(c.set_compare_methods)
        self.trust_controller.attach_compare(grid)

    def _features_built(self, view: FeaturesView) -> None:
        layer = self.controller.state.layer
        view.set_layer(layer.split(",")[-1] if layer else None)
        view.activationsRequested.connect(self.controller.show_activations)
        view.patternsRequested.connect(self.controller.show_patterns)

    def _review_built(self, tab: ReviewTab) -> None:
        from .review import ReviewController

        self._review_controller = ReviewController(self, tab)

    def _class_names(self) -> tuple[str, ...]:
        info = self.controller.info
        return info.class_names if info else ()

    def _dock(self, title: str, widget: QWidget, area: Qt.DockWidgetArea) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(title)
        dock.setWidget(widget)
        dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable
                         | QDockWidget.DockWidgetFeature.DockWidgetFloatable)
        self.addDockWidget(area, dock)
        return dock

    def _build_docks(self) -> None:
        self.layer_tree = LayerTree()
        self.predictions = PredictionsPanel()
        self.method_panel = MethodPanel()
        self.browser_dock = self._dock("Images", self.browser, Qt.DockWidgetArea.LeftDockWidgetArea)
        top = QWidget()  # prediction and method: a plain column, so wrapped lines get their height
        column = QVBoxLayout(top)
        column.setContentsMargins(0, 0, 0, 0)
        column.addWidget(self.predictions)
        column.addWidget(self.method_panel)
        column.addStretch(1)
        scroll = QScrollArea()  # scrolls rather than squeezes on a short screen
        scroll.setWidget(top)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        right = QSplitter(Qt.Orientation.Vertical)
        right.addWidget(scroll)
        right.addWidget(self.layer_tree)
        right.setSizes([430, 390])
        right.setChildrenCollapsible(False)
        self.right_split, self.right_scroll, self.tree_sizes = right, scroll, [430, 390]
        self.method_panel.combinations_button.toggled.connect(self._make_room_for_combinations)
        self.right_dock = self._dock("Prediction · method · layers", right, Qt.DockWidgetArea.RightDockWidgetArea)
        self.browser.setMinimumWidth(MIN_BROWSER)
        right.setMinimumWidth(MIN_RIGHT)
        short = max(0, PREFERRED_SIZE.width() - self.width())  # a smaller screen narrows the docks first
        self.resizeDocks([self.browser_dock, self.right_dock],
                         [max(MIN_BROWSER, 330 - round(0.2 * short)), max(MIN_RIGHT, 445 - round(0.6 * short))],
                         Qt.Orientation.Horizontal)

    def _make_room_for_combinations(self, shown: bool) -> None:
        """Opened Combinations take the room of the layer tree (down to a few rows) and scroll
        into view; closed, the tree gets its room back. On a laptop they showed half a row."""
        split = self.right_split
        if not shown:
            split.setSizes(self.tree_sizes)
            return
        self.tree_sizes = split.sizes()
        total = sum(self.tree_sizes)
        split.setSizes([total - MIN_TREE_HEIGHT, MIN_TREE_HEIGHT])
        button = self.method_panel.combinations_button
        QTimer.singleShot(0, lambda: self.right_scroll.verticalScrollBar().setValue(button.mapTo(
            self.right_scroll.widget(), button.rect().topLeft()).y() - 4))

    def _build_status_bar(self) -> None:
        bar = self.statusBar()
        self.message = QLabel("Loading the engine (TensorFlow)…")
        self.job = QLabel()
        self.job.setStyleSheet(hint_style())
        self.hover = self.canvas.readout  # under the canvas: in the bar it squeezed the messages to nothing
        self.message.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)  # never widens the window
        self.progress = QProgressBar()
        self.progress.setMaximumWidth(220)
        self.progress.setRange(0, 0)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setToolTip("Stop the running computation (Esc)")
        self.cancel_button.clicked.connect(lambda: self.controller.cancel())
        bar.addWidget(self.message, 1)
        bar.addPermanentWidget(self.job)
        bar.addPermanentWidget(self.progress)
        bar.addPermanentWidget(self.cancel_button)
        self.show_busy("Loading the engine (TensorFlow)…", True)

    def _connect_views(self) -> None:
        self.browser.imageSelected.connect(lambda path: self.controller.select_image(path))
        self.predictions.classChosen.connect(lambda index: self.controller.select_class(index))
        self.layer_tree.targetChosen.connect(lambda layer: self.controller.select_layer(layer))
        self.layer_tree.activationsRequested.connect(self._activations_for)
        self.layer_tree.patternsRequested.connect(self._patterns_for)
        self.method_panel.changed.connect(self._method_changed)
        self.view_controls.changed.connect(lambda view: self.controller.set_view(view))
        self.pair.stopRequested.connect(lambda: self.controller.stop_comparing())
        self.tabs.currentChanged.connect(self._tab_changed)
        self.mask_overlay.toggle.toggled.connect(lambda on: self.remember("mask_outline", on))
        self.browser.misclassified.toggled.connect(lambda on: self.remember("misclassified_only", on))
        self.browser.sort_box.currentIndexChanged.connect(lambda _i: self.remember("sort", self.browser.sort_key()))

    def _connect_controller(self, c: Controller) -> None:
        drawing = self.drawing
        c.canvasChanged.connect(self.mask_overlay.update)
        c.canvasChanged.connect(drawing.canvas_changed)
        c.modelChanged.connect(lambda info: drawing.set_classes(info.class_names if info else ()))
        c.stateChanged.connect(self._follow_state)

    # -- slots ------------------------------------------------------------------------------
    def _follow_state(self, state) -> None:
        """The views that mirror a choice follow it: the layer tree marks the target layer (the
        features tab acts on the deepest of several fused ones), the maps redraw with the view settings."""
        shown, self._shown_state = self._shown_state, state
        features, compare = self.built_view("features"), self.built_view("compare")
        if shown is None or state.layer != shown.layer:
            self.layer_tree.set_target(state.layer)
            if state.layer and features is not None:
                features.set_layer(state.layer.split(",")[-1])
        if shown is None or state.view != shown.view:
            self.pair.apply(state.view)
            if compare is not None:
                cast("CompareGrid", compare).apply(state.view)

    def _method_changed(self) -> None:
        panel = self.method_panel
        self.controller.set_method(panel.method(), {name: panel.params_for(name) for name in panel.specs})

    def _tab_changed(self, _index: int) -> None:
        tab = self.current_tab()
        self.view_controls.setVisible(tab in ("heatmap", "compare"))  # maps only
        self.controller.set_tab(tab)

    def current_tab(self) -> str:
        """The name of the tab in front ("heatmap", "compare", "features", "review")."""
        widget = self.tabs.currentWidget()
        return next(name for name, view in self.tab_views.items() if view is widget)

    def show_tab(self, name: str) -> None:
        """Bring a tab to the front by name."""
        self.tabs.setCurrentWidget(self.tab_views[name])

    def _activations_for(self, layer: str) -> None:
        self.show_tab("features")
        self.controller.show_activations(layer)

    def _patterns_for(self, layer: str) -> None:
        self.show_tab("features")
        self.features.set_layer(layer)
        self.controller.show_patterns(self.features.patterns_request())

    # -- called by the controller -----------------------------------------------------------
    def model_loaded(self, info, layer: str | None) -> None:
        """Show a newly loaded model."""
        self.layer_tree.set_layers(info.layers, layer)
        features = self.built_view("features")
        if features is not None:
            features.set_layer(layer)
        self.browser.set_class_names(info.class_names)
        self.setWindowTitle(f"ConvScope · {info.name}")
        self.settings.set("model", info.path)
        self.actions.add_recent("models", info.path)
        text = f"Model {info.name}: {len(info.class_names)} classes ({', '.join(info.class_names)})"
        self.status(text + ("; " + "; ".join(info.warnings) if info.warnings else ""))

    def comparing_changed(self, info_b) -> None:
        """A second model opened (its ModelInfo) or comparing stopped (None)."""
        self.actions.comparing(info_b is not None)
        name = self.controller.info.name if self.controller.info else ""
        self.setWindowTitle(f"ConvScope · {name} vs {info_b.name}" if info_b else f"ConvScope · {name}")

    def model_failed(self, message: str, unsafe: bool, path: str | None, second: bool = False) -> None:
        """A model did not load; the previous one (if any) stays. `second`: the model to compare with."""
        shown = self.controller.info_b if second else self.controller.info
        which = "second model" if second else "previous model"
        keep = f" The {which} ({shown.name}) is still loaded." if shown else ""
        message = sentence(message)
        self.status(f"Model not loaded: {message}")
        if unsafe and path:
            yes, no = QMessageBox.StandardButton.Yes, QMessageBox.StandardButton.No
            answer = QMessageBox.question(self, "Trust this model?", f"{message}{keep}\n\nLoad it anyway? "
                                          "Only do this for a model you trust: it can run code.", yes | no, no)
            if answer == yes:
                (self.controller.open_model_b if second else self.controller.open_model)(path, trust=True)
            return
        QMessageBox(QMessageBox.Icon.Warning, "Model not loaded", message + keep, parent=self).open()

    def report_error(self, message: str) -> None:
        """An engine error as a status line (never a crash)."""
        self.status(f"⚠ {message}")

    def status(self, text: str) -> None:
        """Show a message in the status bar."""
        self.message.setText(text)

    def clear_error(self) -> None:
        """Drop an error message once something succeeds again (it no longer applies)."""
        if self.message.text().startswith(("⚠", "Model not loaded")):
            self.message.setText("")

    def show_busy(self, text: str, busy: bool) -> None:
        """Show or hide the job name, the progress bar and the Cancel button."""
        for widget in (self.job, self.progress, self.cancel_button):
            widget.setVisible(busy)
        if busy:
            if self.job.text() != text:
                self.progress.setRange(0, 0)
            self.job.setText(text)
        elif self.message.text().endswith("…") or not self.message.text():
            self.message.setText(self.ready_text())

    def ready_text(self) -> str:
        """The idle status line."""
        info = self.controller.info
        if info is None:
            return "Ready · no model loaded"
        return (f"Ready · {info.name} · {len(self.browser.paths())} images · "
                "Right/Left: next/previous image · click a class to explain it")

    def show_progress(self, text: str, done: int, total: int) -> None:
        """Determinate progress."""
        self.progress.setRange(0, max(1, total))
        self.progress.setValue(done)
        self.progress.setFormat(f"{done}/{total}")
        self.job.setText(text)

    def remember(self, key: str, value) -> None:
        """Store a setting."""
        self.settings.set(key, value)

    def remember_folder(self, folder: str) -> None:
        """Store the folder and put it in the recent list."""
        self.settings.set("folder", folder)
        self.actions.add_recent("folders", folder)

    # -- files ------------------------------------------------------------------------------
    def open_path(self, path: str) -> None:
        """Open a model file, a folder of images or one image, by what `path` is."""
        file = Path(path)
        if file.suffix.lower() in MODEL_SUFFIXES or (file / "saved_model.pb").exists():
            self.controller.open_model(str(file))
        elif file.is_dir():
            self.controller.open_folder(str(file))
        elif file.suffix.lower() in IMAGE_SUFFIXES:
            self.controller.open_image(str(file))
        else:
            self.report_error(f"{file.name}: not a model (.keras, .h5, .tflite, .onnx), a folder or an image")

    def export_to(self, folder: str | Path) -> list[Path]:
        """Write every exportable view into `folder`."""
        try:
            from .export import export_all

            self.last_export = export_all(self, folder)
        except Exception as exc:  # noqa: BLE001 - disk errors become a status line
            self.report_error(str(exc))
            return []
        self.status(f"Exported {len(self.last_export)} files to {folder}" if self.last_export
                    else "Nothing to export yet: select an image and wait for its map")
        return self.last_export

    def export_dialog(self) -> None:
        """Ask for a folder, then export."""
        folder = QFileDialog.getExistingDirectory(self, "Export into folder")
        if folder:
            self.export_to(folder)

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        for url in event.mimeData().urls():
            if url.isLocalFile():
                self.open_path(url.toLocalFile())
        event.acceptProposedAction()

    def closeEvent(self, event: QCloseEvent) -> None:
        self.closed = True
        if self.has_controllers:
            self.drawing.save_if_changed()  # regions drawn and not saved yet are not lost
        self.settings.set("geometry", self.saveGeometry())
        self.settings.set("state", self.saveState())
        self.settings.sync()
        self.browser.loader.reset()
        if self.has_controllers:
            self.controller.client.stop()
        self.browser.loader.wait(3000)
        compare = self.built_view("compare")
        if compare is not None:
            cast("CompareGrid", compare).release()
        self.pair.release()
        super().closeEvent(event)
