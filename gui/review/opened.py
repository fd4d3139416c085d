"""Opening a finished review folder in the Review tab, without recomputing anything: the
rows (results.parquet, else results.csv) are read in a background thread into columns, then
the table, confusion matrix, per-label figures and any trust verdict appear. A double-click
shows the row's overlay from the folder and, when the reviewed images are reachable from
this machine, opens the image for a live explanation."""

from __future__ import annotations

import threading
from pathlib import Path

from engine.errors import ConvScopeError
from engine.review.columns import FLAG_NAMES
from engine.review.stats import figures_line
from engine.review.table import read_review_table
from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QFileDialog,
    QLabel,
    QPushButton,
    QVBoxLayout,
)

from .columnar_model import ColumnarReviewModel, OpenedReview
from .table import fit_columns_once, fit_columns_to_rows, show_flag_after_correct

ALL_FLAGS = "Any flag"


def load_opened(folder: str | Path) -> OpenedReview:
    """Read a review folder into an OpenedReview (run it off the GUI thread)."""
    return OpenedReview(read_review_table(folder))


def summary_line(opened: OpenedReview) -> str:
    """The one-line summary of an opened review, as the tab shows a finished one."""
    result, overall = opened.result, opened.result.overall
    text = (f"Opened {opened.review.folder.name}: {result.done} of {result.total} images · "
            f"{figures_line(overall)} ({overall.correct}/{overall.labelled} labelled, "
            f"{overall.with_mask} with a mask)")
    if overall.errors:
        text += f" · {overall.errors} unreadable"
    if not result.complete:
        text += " · partial review"
    return text


def verdict_html(summary: dict, titles=None, default_layer: str | None = None) -> str:  # noqa: ANN001
    """The lot's trust verdict from summary.json ("" when the review had no --trust), naming the
    method (its title through `titles`) and layer of the run it is about."""
    from gui.trust.banner import banner_html

    return banner_html(summary.get("trust"), run=summary.get("run"), titles=titles, default_layer=default_layer)


class OverlayPreview(QDialog):
    """A row's overlay as the review wrote it, with its path and figures."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Review overlay")
        self.picture = QLabel(alignment=Qt.AlignmentFlag.AlignCenter)
        self.picture.setMinimumSize(256, 256)
        self.caption = QLabel(wordWrap=True)
        layout = QVBoxLayout(self)
        layout.addWidget(self.picture, 1)
        layout.addWidget(self.caption)

    def show_overlay(self, overlay: Path, caption: str) -> None:
        """Show the overlay file (or say that the folder has none)."""
        pixmap = QPixmap(str(overlay)) if overlay.is_file() else QPixmap()
        if pixmap.isNull():
            self.picture.setPixmap(QPixmap())
            self.picture.setText(f"No overlay in this folder for\n{overlay.name}")
        else:
            self.picture.setPixmap(pixmap.scaled(512, 512, Qt.AspectRatioMode.KeepAspectRatio,
                                                 Qt.TransformationMode.SmoothTransformation))
        self.caption.setText(caption)
        self.show()
        self.raise_()


class ReviewFolderOpener(QObject):
    """The tab's "Open review…" button, the flag filter, and what happens with an opened review."""

    _loaded = Signal(object, str)  # (OpenedReview or None, error message), from the loading thread

    def __init__(self, window, tab) -> None:
        super().__init__(tab)
        self.window, self.tab = window, tab
        self.model = ColumnarReviewModel(self)
        self.live_proxy = tab.proxy  # the live review's model, restored when a review runs
        self.opened: OpenedReview | None = None
        self.comparison = None  # the tab's comparison mode (gui.review.comparison), which opens comparison folders
        self.button = QPushButton("Open review…")
        self.button.setToolTip("Show a finished review folder (results.csv / results.parquet from batch, "
                               "batch --ray or an earlier session) or comparison folder (comparison.csv "
                               "from compare) without recomputing it")
        self.button.clicked.connect(self.choose)
        self.flags = QComboBox()
        self.flags.addItems([ALL_FLAGS, *FLAG_NAMES])
        self.flags.setToolTip("Show only rows with a flag")
        self.flags.currentIndexChanged.connect(lambda _i: tab._filter())
        self.model.flag_source = self.flag
        self.live_proxy.flag_source = self.flag
        self.preview = OverlayPreview(tab)
        self._loaded.connect(self._show)
        tab.table.doubleClicked.connect(self._double_clicked)

    def choose(self) -> None:
        """Ask for a review folder and open it."""
        folder = QFileDialog.getExistingDirectory(self.tab, "Open a review folder")
        if folder:
            self.open(folder)

    def open(self, folder: str) -> None:
        """Read the folder in the background; the tab fills when it is read."""
        from .comparison import is_comparison_folder

        if self.comparison is not None and is_comparison_folder(folder):
            self.comparison.open_folder(folder)
            return
        self.tab.show_message(f"Opening {folder}…")

        def load() -> None:
            try:
                self._loaded.emit(load_opened(folder), "")
            except (ConvScopeError, OSError, ValueError) as exc:
                self._loaded.emit(None, f"{folder}: {exc}")

        threading.Thread(target=load, daemon=True, name="open-review").start()

    @property
    def active(self) -> bool:
        """True while the tab shows an opened review (not a live one)."""
        return self.tab.proxy is self.model

    def _show(self, opened: OpenedReview | None, error: str) -> None:
        if opened is None:
            self.tab.show_message(f"Could not open the review: {error}")
            return
        if self.comparison is not None:
            self.comparison.leave()
        tab, self.opened = self.tab, opened
        self.model.set_review(opened)
        tab.proxy = self.model
        tab.table.setModel(self.model)
        fit_columns_once(tab.table)
        show_flag_after_correct(tab.table.horizontalHeader())
        tab.result, tab.class_names = None, opened.result.class_names
        tab.matrix.set_matrix(opened.result.class_names, opened.result.confusion)
        tab.stats.set_stats(opened.result.per_label, opened.result.overall, opened.review.summary.get("trust"))
        tab._set_labels(opened.columns.labels)
        titles = getattr(getattr(self.window, "controller", None), "title", None)  # the method's window title
        tab.show_banner(verdict_html(opened.review.summary, titles))
        tab.show_message(summary_line(opened))
        tab.choose_cell(None, emit=False)

    def flag(self) -> str | None:
        """The chosen flag filter (None: any)."""
        text = self.flags.currentText()
        return None if text == ALL_FLAGS else text

    def leave(self) -> None:
        """Back to the live review's table (a review starts)."""
        if self.active:
            self.tab.proxy = self.live_proxy
            self.tab.table.setModel(self.live_proxy)
            fit_columns_to_rows(self.tab.table.horizontalHeader())
            self.model.set_review(None)
            self.opened = None
            self.flags.setCurrentIndex(0)

    def _double_clicked(self, index) -> None:
        if not self.active or not index.isValid():
            return
        row = self.model.review_row(index.row())
        path = self.model.path(row)
        texts = [self.model.text(row, c) for c in range(1, self.model.columnCount())]
        caption = f"<b>{path}</b><br>" + " · ".join(t for t in texts if t)
        self.preview.show_overlay(self.opened.overlay(path), caption)
        image = self.model.absolute(row)
        if image and Path(image).is_file():
            self.window.controller.open_image(image)  # the live explanation with the open model
            self.window.show_tab("heatmap")
        else:
            self.window.status(f"The reviewed images are not reachable here ({self.opened.images or 'unknown'}): "
                               "showing the review's overlay only")

    def in_browser(self, folder: str) -> bool:
        """True when the browser shows the opened review's images folder."""
        images = self.opened.images if self.opened else ""
        return bool(images and folder) and Path(images).resolve() == Path(folder).resolve()


def _layout_holding(root, widget):
    """The layout under `root` (a QWidget) that directly holds `widget`, or None."""
    from PySide6.QtWidgets import QLayout

    for layout in root.findChildren(QLayout):
        if layout.indexOf(widget) >= 0:
            return layout
    return None


def install_opener(window, tab) -> ReviewFolderOpener:
    """Create the opener and put its button before the report controls and its flag filter
    after the label filter."""
    opener = ReviewFolderOpener(window, tab)
    tab.options.report_row.layout().insertWidget(0, opener.button)
    filters = _layout_holding(tab, tab.label_box)
    if filters is not None:
        filters.insertWidget(filters.indexOf(tab.label_box) + 1, opener.flags)
    return opener
