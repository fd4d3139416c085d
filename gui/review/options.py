"""The review's settings beyond method and layer: the class to explain, the metric settings,
the ground truth and an optional report folder, as `convscope batch` takes them (`--target`,
`--tolerance`, `--threshold`, `--annotations`, `--out`). The panel reads and writes the engine's
own ReviewOptions."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from engine.review.metrics import DEFAULT_THRESHOLD, DEFAULT_TOLERANCE
from PySide6.QtCore import QObject, QUrl, Signal
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QMenu,
    QPushButton,
    QWidget,
)

if TYPE_CHECKING:
    from engine.review.runner import ReviewOptions


def _spin(low: float, high: float, value: float, tip: str, decimals: int = 2, step: float = 0.05,
          suffix: str = "") -> QDoubleSpinBox:
    spin = QDoubleSpinBox()
    spin.setRange(low, high)
    spin.setDecimals(decimals)
    spin.setSingleStep(step)
    spin.setSuffix(suffix)
    spin.setValue(value)
    spin.setToolTip(tip)
    return spin


class ReviewOptionsPanel(QObject):
    """Two rows of widgets, `settings_row` and `report_row`; `options(method, layer, params)`
    gives the engine's ReviewOptions they describe."""

    folderChanged = Signal(str)
    changed = Signal()  # target, tolerance or threshold
    reportNotOpened = Signal(str)  # no web browser could be started: where the report is

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.target = QComboBox()
        self.target.addItem("predicted class", "predicted")
        self.target.addItem("folder label's class", "label")
        self.target.setToolTip("Explain each image's predicted class (`--target predicted`) or the class "
                               "named by its sub-folder (`--target label`; images without one use the prediction)")
        self.tolerance = _spin(0.0, 500.0, DEFAULT_TOLERANCE, "Pointing game: the heatmap's peak counts as a hit "
                               "within this many pixels of the mask (`--tolerance`)", 0, 1.0, " px")
        self.threshold = _spin(0.05, 0.95, DEFAULT_THRESHOLD,
                               "IoU: the emphasized region is where the map is at least this (`--threshold`)")
        self.trust = QCheckBox("Trust metrics")
        self.trust.setToolTip("Also compute deletion / insertion curves, pixel AUROC, defect removal and a verdict "
                              "(as “batch --trust”); several times slower")
        self.write_report = QCheckBox("Write report to")
        self.write_report.setToolTip("Also write results.csv, summary.json, report.html and the overlays "
                                     "into a folder of your choice, as “batch --out” does")
        self.folder_button = QPushButton("Choose folder…")
        self.folder_button.clicked.connect(self.choose_folder)
        self.open_report = QPushButton("Open report")
        self.open_report.setToolTip("Open report.html in the web browser")
        self.open_report.clicked.connect(self._open_report)
        self.open_report.setEnabled(False)
        self.report_folder = ""
        self.annotations = ""  # a COCO / CVAT file or a folder of per-image files; "" = beside the images
        self.annotations_button = QPushButton()
        menu = QMenu(self.annotations_button)
        menu.addAction("COCO JSON or CVAT XML file…", self.choose_annotations_file)
        menu.addAction("Folder laid out like the images…", self.choose_annotations_folder)
        menu.addAction("Only masks and files beside the images", lambda: self.set_annotations(""))
        self.annotations_button.setMenu(menu)
        self.set_annotations("")
        self.settings_row = self._settings_row()
        self.report_row = QWidget()
        row = QHBoxLayout(self.report_row)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.write_report)
        row.addWidget(self.folder_button)
        row.addWidget(self.open_report)
        self.write_report.toggled.connect(self._report_toggled)
        self.target.currentIndexChanged.connect(lambda _i: self.changed.emit())
        self.tolerance.valueChanged.connect(lambda _v: self.changed.emit())
        self.threshold.valueChanged.connect(lambda _v: self.changed.emit())

    def _settings_row(self) -> QWidget:
        widget = QWidget()
        row = QHBoxLayout(widget)
        row.setContentsMargins(0, 0, 0, 0)
        for label, field in (("Explain", self.target), ("Pointing within", self.tolerance),
                             ("IoU region ≥", self.threshold)):
            row.addWidget(QLabel(label))
            row.addWidget(field)
            row.addSpacing(8)
        row.addWidget(self.trust)
        row.addStretch(1)
        return widget

    def options(self, method: str, layer: str | None, params: dict) -> ReviewOptions:
        """The engine's ReviewOptions for a method, its layer and parameters, with these settings."""
        from engine.review.runner import ReviewOptions  # every annotation reader: not at start-up

        return ReviewOptions(method, layer, target=self.target.currentData(), tolerance=self.tolerance.value(),
                             threshold=self.threshold.value(), params=dict(params), trust=self.trust.isChecked(),
                             annotations=self.annotations or None)

    def set_annotations(self, path: str) -> None:
        """Read the ground truth from `path` too (as `batch --annotations`); "" for the masks and the
        LabelMe / VOC / YOLO files beside the images only."""
        self.annotations = path
        self.annotations_button.setText(f"Regions: {Path(path).name}" if path else "Regions: beside images")
        self.annotations_button.setToolTip(
            f"Ground truth also read from {path} (as “batch --annotations”); pixel masks beside an image win"
            if path else "Ground truth: pixel masks (_mask, DAGM, MVTec) and LabelMe / VOC / YOLO files beside "
            "each image; choose a COCO or CVAT file, or a folder laid out like the images, for more")
        self.changed.emit()

    def choose_annotations_file(self) -> None:
        """Ask for a COCO JSON or CVAT for-images XML file."""
        path, _ = QFileDialog.getOpenFileName(self.settings_row, "Annotations of the lot", self.annotations,
                                              "COCO JSON or CVAT XML (*.json *.xml)")
        if path:
            self.set_annotations(path)

    def choose_annotations_folder(self) -> None:
        """Ask for a folder of per-image annotation files laid out like the images."""
        path = QFileDialog.getExistingDirectory(self.settings_row, "Folder of annotation files", self.annotations)
        if path:
            self.set_annotations(path)

    def show_options(self, target: str, tolerance: float, threshold: float) -> None:
        """Show remembered settings."""
        self.target.setCurrentIndex(max(0, self.target.findData(target)))
        self.tolerance.setValue(tolerance)
        self.threshold.setValue(threshold)

    def set_report_folder(self, folder: str) -> None:
        """Where the report goes (an empty folder turns writing off)."""
        self.report_folder = folder
        self.folder_button.setText(Path(folder).name + "/" if folder else "Choose folder…")
        self.folder_button.setToolTip(folder or "Choose the folder for the report")
        self.write_report.setChecked(bool(folder))
        self.refresh()
        self.folderChanged.emit(folder)

    def refresh(self) -> None:
        """Enable Open report once the folder holds one."""
        folder = self.report_folder
        self.open_report.setEnabled(bool(folder) and (Path(folder) / "report.html").is_file())

    def choose_folder(self) -> None:
        """Ask for the report folder."""
        folder = QFileDialog.getExistingDirectory(self.report_row, "Folder for the review report", self.report_folder)
        if folder:
            self.set_report_folder(folder)

    def _report_toggled(self, on: bool) -> None:
        if on and not self.report_folder:
            self.choose_folder()
            if not self.report_folder:
                self.write_report.setChecked(False)

    def report_destination(self) -> str:
        """The report folder if writing is on, else ""."""
        return self.report_folder if self.write_report.isChecked() else ""

    def _open_report(self) -> None:
        report = Path(self.report_folder) / "report.html"
        if not QDesktopServices.openUrl(QUrl.fromLocalFile(str(report))):
            self.reportNotOpened.emit(f"No web browser could be started here; open {report} in one")
