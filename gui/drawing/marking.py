"""Ties the drawing bar and layer to the window: loads the regions of the image shown, saves
them beside it (asking before replacing a LabelMe file ConvScope did not write), refreshes the
mask line, and steps through the images without a region in "Mark defects" mode."""

from __future__ import annotations

from pathlib import Path

from engine.annotations import is_ours
from engine.annotations.editing import (
    RegionEditor,
    has_regions,
    labelme_path,
    load_regions,
    save_regions,
)
from engine.errors import ConvScopeError
from engine.trust.verdict import MIN_IMAGES, images_short
from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import QMessageBox

from .bar import PAN, TOOL_KEYS, DrawingBar
from .layer import BOX, DrawingLayer


class DrawingController(QObject):
    """Drawing on the window's heatmap canvas."""

    def __init__(self, window) -> None:
        super().__init__(window)
        self.window = window
        self.canvas = window.canvas
        self.bar = DrawingBar()
        self.canvas.layout().insertWidget(2, self.bar)  # under the title and the mask line
        self.layer = DrawingLayer(self.canvas)
        self.path: str | None = None
        self.marking = False
        self.marked: set[str] = set()  # in Mark defects mode: the images with a region
        self.ask = self._ask_overwrite  # tests replace the dialog
        self._connect()
        self._shortcuts()
        self._refresh_status()

    def _connect(self) -> None:
        bar, layer = self.bar, self.layer
        bar.toolChosen.connect(self.set_tool)
        bar.labelChosen.connect(lambda label: setattr(layer, "label", label))
        bar.radiusChanged.connect(lambda radius: setattr(layer, "radius", float(radius)))
        bar.undo.clicked.connect(layer.undo)
        bar.save.clicked.connect(self.enter)
        bar.mark.toggled.connect(self.set_marking)
        bar.skip.clicked.connect(self.next_unmarked)
        layer.changed.connect(self._refresh_status)

    def _shortcuts(self) -> None:
        """Letters choose a tool (a text field keeps the letters typed into it); Enter, Ctrl+Z, N and
        Alt+digit work only while drawing, so Enter still applies a typed parameter otherwise."""
        tools = [(key, lambda tool=name: self.set_tool(tool)) for name, _text, key, _tip in TOOL_KEYS]
        tools += [("M", self.bar.mark.toggle)]
        # Alt+digit: the plain digits switch overlay / heatmap / image and Esc cancels (gui.actions);
        # a key bound twice would do nothing at all
        drawing = [("Ctrl+Z", self.layer.undo), ("Return", self.enter), ("Enter", self.enter),
                   ("N", self.next_unmarked)]
        drawing += [(f"Alt+{n}", lambda n=n: self.bar.choose_class(n - 1)) for n in range(1, 10)]
        self._drawing_keys = [self._shortcut(key, slot) for key, slot in drawing]
        for key, slot in tools:
            self._shortcut(key, slot)
        self._update_keys()

    def _shortcut(self, key: str, slot) -> QShortcut:
        shortcut = QShortcut(QKeySequence(key), self.window)
        shortcut.setContext(Qt.ShortcutContext.WindowShortcut)
        shortcut.activated.connect(lambda: self._when_visible(slot))
        return shortcut

    def _update_keys(self) -> None:
        for shortcut in self._drawing_keys:
            shortcut.setEnabled(self.layer.tool is not None or self.marking)

    def _when_visible(self, slot) -> None:
        if self.canvas.isVisible():  # the keys draw on the Heatmap tab only
            slot()

    # -- the image shown --------------------------------------------------------------------
    def set_classes(self, names: tuple[str, ...]) -> None:
        """The model's classes: the choices of a region's class."""
        self.layer.labels = tuple(names)
        self.bar.set_classes(tuple(names), self._default_label())
        self.layer.redraw()

    def _default_label(self) -> str:
        label = self.window.browser.label_of(self.path) if self.path else None
        return label or self.bar.classes.currentText()

    def canvas_changed(self) -> None:
        """The canvas shows another image (or the same one again): save and load regions."""
        canvas = self.canvas
        if canvas.path == self.path and (self.layer.editor is not None or canvas.image is None):
            return
        self.save_if_changed()
        self.path = canvas.path if canvas.image is not None else None
        self.layer.start(self._editor() if self.path else None)
        if self.path:
            label = self.window.browser.label_of(self.path)
            if label in self.layer.labels:
                self.bar.classes.setCurrentText(label)
        self._refresh_status()

    def _editor(self) -> RegionEditor | None:
        height, width = self.canvas.image.shape[:2]
        try:
            regions, _ours = load_regions(self.path, height, width)
        except ConvScopeError as exc:
            self.window.report_error(f"{exc}; drawing starts empty and saving asks before replacing it")
            regions = []
        return RegionEditor(height, width, regions)

    def set_tool(self, tool: str) -> None:
        """Choose a tool (PAN: none)."""
        self.layer.set_tool(None if tool == PAN else tool)
        self.bar.show_tool(self.layer.tool)
        self._update_keys()

    # -- saving -----------------------------------------------------------------------------
    def enter(self) -> None:
        """Enter: close an open polygon, else save (and in Mark defects mode go on)."""
        if self.layer.polygon:
            self.layer.close_polygon()
            return
        if self.save() and self.marking:
            self.next_unmarked()

    def save_if_changed(self) -> bool:
        """Save the edited image's regions if they changed; False if saving failed or was declined."""
        editor = self.layer.editor
        return editor is None or not editor.changed or self.save()

    def save(self) -> bool:
        """Write the regions beside the image; True when saved."""
        editor, path = self.layer.editor, self.path
        if editor is None or path is None:
            return False
        target = labelme_path(path)
        theirs = target.is_file() and not is_ours(target)
        if theirs and not self.ask(target):
            self.window.status(f"Not saved: {target.name} was left as it was")
            return False
        try:
            save_regions(path, editor.regions, editor.height, editor.width, overwrite_theirs=theirs)
        except (ConvScopeError, OSError) as exc:
            self.window.report_error(f"Regions not saved: {exc}")
            return False
        editor.changed = False
        self._note_saved(path, bool(editor.regions))
        return True

    def _note_saved(self, path: str, any_region: bool) -> None:
        (self.marked.add if any_region else self.marked.discard)(path)
        overlay = self.window.mask_overlay
        overlay.forget()
        overlay.update()  # the mask line scores the map against the regions at once
        count = len(self.layer.editor.regions) if self.layer.editor else 0
        self.window.status(f"Saved {count} region{'s' if count != 1 else ''} in {labelme_path(path).name}"
                           + ("; the Review counts them when it runs again" if self._review_rows() else ""))
        self._refresh_status()

    def _ask_overwrite(self, target: Path) -> bool:
        answer = QMessageBox.question(
            self.window, "Replace the annotation file?",
            f"{target} was not written by ConvScope (another labelling tool made it).\n\nReplace it with the "
            "regions drawn here? Its own shapes are lost unless they were loaded and kept.")
        return answer == QMessageBox.StandardButton.Yes

    # -- Mark defects mode ------------------------------------------------------------------
    def set_marking(self, on: bool) -> None:
        """Enter or leave Mark defects mode (entering shows the first image without a region)."""
        self.marking = on
        self._update_keys()
        if self.bar.mark.isChecked() != on:
            self.bar.mark.setChecked(on)
        if on:
            folder = self.window.browser.folder or None
            self.marked = {p for p in self.window.browser.paths() if has_regions(p, folder)}
            if self.layer.tool is None:
                self.set_tool(BOX)
            if self.path is None or self.path in self.marked:
                self.next_unmarked()
        self._refresh_status()

    def next_unmarked(self) -> None:
        """Show the next image (after the current one, wrapping) without a region."""
        if not self.save_if_changed():
            return
        paths = self.window.browser.paths()
        folder = self.window.browser.folder or None
        start = paths.index(self.path) + 1 if self.path in paths else 0
        for path in paths[start:] + paths[:start]:
            if path != self.path and path not in self.marked and not has_regions(path, folder):
                self.window.browser.select_path(path)
                return
        self.window.status("Every image in the folder has a region")

    # -- status -----------------------------------------------------------------------------
    def _review_rows(self) -> tuple:
        result = getattr(self.window.built_view("review"), "result", None)
        return tuple(getattr(result, "rows", ()) or ())

    def _refresh_status(self) -> None:
        editor = self.layer.editor
        parts = []
        if editor is not None:
            count = len(editor.regions)
            parts.append(f"{count} region{'s' if count != 1 else ''}" + (" · not saved" if editor.changed else ""))
        if self.marking:
            total = len(self.window.browser.paths())
            parts.append(f"{total - len(self.marked)} of {total} images unmarked · Enter saves, goes on · N skips")
            parts.append(self._verdict_need())
        self.bar.set_status(" · ".join(p for p in parts if p))
        self.bar.status.setToolTip(f"The trust verdict needs at least {MIN_IMAGES} correctly classified defect images whose "
                                   "region, painted out, gave a conclusive answer (engine.trust.verdict)"
                                   if self.marking else "")

    def _verdict_need(self) -> str:
        rows = self._review_rows()
        if getattr(getattr(self.window.built_view("review"), "result", None), "trust", None) is None:
            return "a Review with Trust metrics tells how many the verdict needs"
        short = images_short(rows)
        if not short:
            return "the last review had enough for a verdict"
        return f"the last review's verdict needs {short} more"

