"""The comparison mode's table: one row per image compared by models A and B, its columns those
engine.review.compare declares for ComparisonRow, with a proxy for "flips only" and one label,
and the banner and summary line of a comparison's figures (comparison.json's body)."""

from __future__ import annotations

from collections.abc import Callable
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING, Any

from engine.review.columns import Column
from PySide6.QtCore import QModelIndex, QSortFilterProxyModel, Qt
from PySide6.QtGui import QBrush

from gui.row_table import SORT_ROLE, Index, RowTableModel, filter_change
from gui.trust.banner import COLOURS

from .table import PATH_ROLE, RIGHT_ALIGNED, WRONG

if TYPE_CHECKING:  # engine.review.compare imports the review runner: not on the way to the window
    from engine.review.compare import ComparisonRow

DIFFERS = ("predicted_b", "agree")  # the cells painted as a warning on a row whose prediction flipped


def shown_columns(trust: bool) -> tuple[Column, ...]:
    """The comparison columns the window shows: those declaring a header, and with trust the
    trust ones (each model's removal figures and flag); the error goes to the row's tool tip."""
    from engine.review.compare import comparison_columns

    return tuple(c for c in comparison_columns(trust) if c.header or c.trust)


def title(column: Column) -> str:
    """A column's title: its declared header, else its name in words ("flag a")."""
    return column.header or column.name.replace("_", " ")


class ComparisonTableModel(RowTableModel):
    """The rows of a comparison, filled a batch at a time (absolute paths under `root`)."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.rows: list[ComparisonRow] = []
        self.root = ""
        self._declare(False)

    def _declare(self, trust: bool) -> None:
        self.trust = trust
        self.shown = shown_columns(trust)
        self.columns = tuple(title(c) for c in self.shown)
        self.tips = tuple(c.tip or c.help for c in self.shown)

    def reset(self, root: str, rows: list[ComparisonRow] | tuple = (), trust: bool | None = None) -> None:
        """Start over for a folder (with the given rows; `trust` also shows the trust columns)."""
        self.beginResetModel()
        if trust is not None:
            self._declare(trust)
        self.root, self.rows = root, list(rows)
        self.endResetModel()

    def add_rows(self, rows: list[ComparisonRow]) -> None:
        """Append a finished batch."""
        if rows:
            self.beginInsertRows(QModelIndex(), len(self.rows), len(self.rows) + len(rows) - 1)
            self.rows.extend(rows)
            self.endInsertRows()

    def absolute(self, row: ComparisonRow) -> str:
        """The image's path as the browser lists it."""
        return str(Path(self.root) / row.path) if self.root else row.path

    def column_of(self, name: str) -> int:
        """The table column of a ComparisonRow field."""
        return [c.name for c in self.shown].index(name)

    def text(self, row: ComparisonRow, column: int) -> str:
        """A cell as shown."""
        shown = self.shown[column]
        return shown.show(getattr(row, shown.name), bool(row.error))

    def sort_value(self, row: ComparisonRow, column: int) -> Any:
        """Numbers sort as numbers (missing ones first in ascending order), text in lower case."""
        shown = self.shown[column]
        return shown.sort_key(getattr(row, shown.name), row.path)

    def role_data(self, row: ComparisonRow, column: int, role: int) -> Any:
        """Absolute path, a flip's warning colour, alignment and tool tip."""
        shown = self.shown[column]
        if role == PATH_ROLE:
            return self.absolute(row)
        if role == Qt.ItemDataRole.ForegroundRole and row.agree is False and shown.name in DIFFERS:
            return QBrush(WRONG)
        if role == Qt.ItemDataRole.TextAlignmentRole and shown.numeric:
            return RIGHT_ALIGNED
        if role == Qt.ItemDataRole.ToolTipRole:
            return "\n".join(t for t in (row.path, row.error) if t)
        return None


class ComparisonFilterProxy(QSortFilterProxyModel):
    """Sorting by any column; filters: flips only, one label. Takes the review proxy's
    `set_filters` call (the tab's label box) and ignores what has no meaning here."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setSortRole(SORT_ROLE)
        self.flips_only = False
        self.label: str | None = None
        self.cell: tuple[int, int] | None = None  # the tab sets it; a comparison has no confusion cells

    def set_filters(self, _misclassified_only: bool, label: str | None, _cell: tuple[int, int] | None) -> None:
        """Show one label's rows (None: all)."""
        with filter_change(self):
            self.label = label

    def set_flips_only(self, on: bool) -> None:
        """Show only the images whose prediction differs between A and B."""
        with filter_change(self):
            self.flips_only = on

    def filterAcceptsRow(self, source_row: int, source_parent: Index) -> bool:
        row = self.sourceModel().rows[source_row]
        if self.flips_only and row.agree is not False:
            return False
        return self.label is None or (row.label or "") == self.label

    def visible_rows(self) -> list[ComparisonRow]:
        """The rows shown, in order."""
        model = self.sourceModel()
        return [model.rows[self.mapToSource(self.index(r, 0)).row()] for r in range(self.rowCount())]


def _num(value: float | None, percent: bool = False) -> str:
    if value is None:
        return "–"
    return f"{value:.1%}" if percent else f"{value:.3f}"


def _side(side: str, model: str, verdict: str | None, reason: str | None, accuracy: float | None) -> str:
    name = escape(Path(model).name) if model else ""
    head = f"<b>{side}</b> <span style='font-size:10pt'>{name}</span> · accuracy {_num(accuracy, True)}"
    if not verdict:
        return f"<td bgcolor='#eeeeee'>{head}<br>no verdict: tick “Trust metrics” to judge the evidence</td>"
    return (f"<td bgcolor='{COLOURS.get(verdict, '#eeeeee')}'>{head}<br><span style='font-size:13pt; "
            f"font-weight:700'>{escape(verdict.upper())}</span> <span style='font-size:9pt'>"
            f"{escape(reason or '')}</span></td>")


def comparison_banner(summary: dict) -> str:
    """Both models' verdicts (with their reasons and accuracy) side by side, and how far they agree."""
    run = summary.get("run") or {}
    sides = "".join(_side(side, run.get(f"model_{key}", ""), summary.get(f"verdict_{key}"),
                          summary.get(f"verdict_reason_{key}"), summary.get(f"accuracy_{key}"))
                    for side, key in (("A", "a"), ("B", "b")))
    agreement = (f"Agreement {_num(summary.get('agreement'), True)} ({summary.get('flips', 0)} flipped) · "
                 f"mean map ρ {_num(summary.get('mean_map_spearman'))} · "
                 f"mean top-10% IoU {_num(summary.get('mean_map_top_iou'))}")
    return (f"<table width='100%' cellpadding='6' cellspacing='2'><tr>{sides}</tr>"
            f"<tr><td colspan='2'><b>{agreement}</b></td></tr></table>")


def comparison_line(summary: dict, prefix: str = "Compared",
                    title: Callable[[str], str | None] | None = None) -> str:
    """One line: images, method (its window title through `title`), time and whether the comparison is whole."""
    run = summary.get("run") or {}
    text = f"{prefix} {summary.get('images', 0)} images"
    if run.get("method"):
        text += f" with {(title(run['method']) if title else None) or run['method']}"
    if summary.get("seconds") is not None:
        text += f" · {summary['seconds']:.1f} s"
    if not summary.get("complete", True):
        text += " · cancelled: partial comparison"
    return text
