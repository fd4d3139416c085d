"""Faithfulness in the Compare tab: each tile's deletion / insertion areas, the most faithful marked.

A button placed in the compare grid's top row sends every finished tile's request to the
engine; the answer adds a line to each tile's title (without changing gui/compare.py:
titles are rewritten when a tile gets a new map, which also drops the stale figures).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import fields, replace

from PySide6.QtWidgets import QHBoxLayout, QPushButton

from gui.protocol import CompareTrust, CompareTrustResult, Explain

TOOL_TIP = ("Deletion / insertion AUC of every tile's map (Petsiuk et al. 2018); ✓ beats the random and edge "
            "controls, ★ the most faithful map; \"inconclusive\": removing pixels barely moves the score, so the "
            "curves cannot rank the maps")
EXPLAIN_FIELDS = tuple(f.name for f in fields(Explain))  # path, method, layer, class_index, params, output, ...


def tile_request(key: tuple) -> Explain:
    """The Explain request behind a compare tile's cache key (gui.protocol.Explain.key: the model, then
    the path and its mtime, then the request's other fields in their declared order). Matched by
    name, so a field added to both Explain and its key is carried through, not a crash."""
    _model, path, _mtime, *rest = key
    return Explain(path, **dict(zip(EXPLAIN_FIELDS[1:], rest, strict=False)))


def tile_line(aucs: dict, faithful: bool, best: bool, conclusive: bool = True) -> str:
    """The figures a tile's title gets; an inconclusive tile gets neither ✓ nor ★, but says so."""
    figures = f"del {aucs['deletion_auc']:.2f} · ins {aucs['insertion_auc']:.2f}"
    if not conclusive:
        return f"{figures} · <span style='color:#8a6d00'>inconclusive</span>"
    mark = " ★ most faithful" if best else ""
    check = " ✓" if faithful else ""
    return f"{figures}{check}{mark}"


class CompareFaithfulness:
    """The button, the request, and the tiles' extra title line."""

    def __init__(self, grid, submit: Callable[[CompareTrust], int]) -> None:
        self.grid, self.submit = grid, submit  # the controller's: progress, Cancel and Esc
        self.generation = 0
        self.waiting = False  # a request of this button is on its way
        self.submitted: Callable[[], None] = lambda: None  # told when the button sends a request
        self.pending: tuple = ()
        self.button = QPushButton("Faithfulness")
        self.button.setToolTip(TOOL_TIP)
        self.button.clicked.connect(self.request)
        row = next((item.layout() for item in (grid.layout().itemAt(i) for i in range(grid.layout().count()))
                    if isinstance(item.layout(), QHBoxLayout)), None)
        if row is not None:
            row.insertWidget(2, self.button)

    def request(self) -> bool:
        """Ask for the curves of every finished tile; False when none is finished."""
        done = [(key, tile) for key, tile in zip(self.grid.keys, self.grid.tiles, strict=False)
                if tile.explanation is not None]
        if not done:
            return False
        items = tuple(replace(tile_request(key), class_index=tile.explanation.class_index) for key, tile in done)
        self.pending = tuple(key for key, _ in done)
        self.generation = self.submit(CompareTrust(items))
        self.waiting = True
        self.submitted()
        self.button.setText("Faithfulness…")
        self.button.setToolTip(TOOL_TIP)
        return True

    def show_error(self, message: str) -> None:
        """The request failed: say so on the button (the Compare tab is in front, not the Trust tab)."""
        self.settle()
        self.button.setText("Faithfulness ⚠ failed")
        self.button.setToolTip(f"The last faithfulness request failed: {message}\n\n{TOOL_TIP}")

    def settle(self) -> None:
        """No request of the button is on its way any more (answered, failed or superseded)."""
        self.waiting = False
        self.button.setText("Faithfulness")

    def show(self, generation: int, result: CompareTrustResult) -> None:
        """Add the figures to the tiles that still show the same maps."""
        if generation != self.generation:
            return
        self.settle()
        best = result.best()
        for index, (key, aucs, faithful) in enumerate(zip(self.pending, result.aucs, result.faithful, strict=True)):
            if key in self.grid.keys:
                tile = self.grid.tiles[self.grid.keys.index(key)]
                line = tile_line(aucs, faithful, index == best, result.is_conclusive(index))
                tile.title.setText(f"{tile.two_line_caption()}<br>{line}")
