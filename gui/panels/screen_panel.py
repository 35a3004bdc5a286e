"""Screening results (`layerstudio screen` output) in a dock: sortable, filterable table, a scatter plot of
any two numeric columns, a click previews that task's model, "Open as document" opens it.

Preview: the task's model (its own supercell) becomes the window's displayed state
(`Document.show_preview`, kind "screen"), so the layer and 3D views, the readouts (computed for that model)
and the other panels show it while the document stays as it was; the layer view is read-only meanwhile.
Any document change (undo, another panel's result, a file opened) ends the preview.
"Open as document" opens the task's project file like File > Open: a screening result is usually another
composition or supercell, so it replaces the document (asking first when it has unsaved changes) rather than
being an edit of it.
"""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QAbstractTableModel, QSortFilterProxyModel, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from core.errors import LayerStudioError

from .style import CURVE

DOCK_NAME = "screen_results"
PREVIEW_KIND = "screen"     # Preview.kind of a screening result
#: columns shown first (the rest follow in table order); paths and timings go last
LEAD = ("ewald_eV_per_MO2", "ordering_label", "ordering_confidence", "superlattice")
TAIL = ("task", "model_path", "cif_path", "seconds", "error")
#: a filter starting with one of these compares numbers ("< -110", ">= 0.9")
OPS = ("<=", ">=", "!=", "<", ">", "=")


class ResultsTableModel(QAbstractTableModel):
    """Read-only rows of a results table (column lists of Python values); UserRole gives the raw value."""

    def __init__(self, columns: list[str], data: dict[str, list], numeric: set[str], parent=None):
        super().__init__(parent)
        self.columns = columns
        self.cols = data
        self.numeric = numeric
        self.n = len(next(iter(data.values()))) if data else 0

    def rowCount(self, parent=None):  # noqa: N802 - Qt API
        return 0 if parent is not None and parent.isValid() else self.n

    def columnCount(self, parent=None):  # noqa: N802
        return 0 if parent is not None and parent.isValid() else len(self.columns)

    def value(self, row: int, column: str):
        return self.cols[column][row]

    def data(self, index, role=Qt.DisplayRole):
        if not index.isValid():
            return None
        name = self.columns[index.column()]
        v = self.cols[name][index.row()]
        if role == Qt.UserRole:
            return v
        if role == Qt.DisplayRole:
            if v is None:
                return ""
            if isinstance(v, float):
                return f"{v:.6g}" if abs(v) < 1e5 else f"{v:.4e}"
            return str(v)
        if role == Qt.TextAlignmentRole and name in self.numeric:
            return int(Qt.AlignRight | Qt.AlignVCenter)
        if role == Qt.ToolTipRole and name == "error" and v:
            return str(v)
        return None

    def headerData(self, section, orientation, role=Qt.DisplayRole):  # noqa: N802
        if role == Qt.DisplayRole:
            return self.columns[section] if orientation == Qt.Horizontal else str(section + 1)
        return None


class ResultsFilter(QSortFilterProxyModel):
    """Sorts by raw values (numbers as numbers, empty cells last) and filters rows by one text:
    a substring of any cell (or of the chosen column), or a comparison such as ``< -110`` on a numeric column."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setSortRole(Qt.UserRole)
        self.text = ""
        self.column: str | None = None   # None: any column

    def set_filter(self, text: str, column: str | None) -> None:
        if hasattr(self, "beginFilterChange"):  # Qt >= 6.10 (invalidateFilter is deprecated there)
            self.beginFilterChange()
            self.text, self.column = text.strip(), column
            self.endFilterChange(QSortFilterProxyModel.Direction.Rows)
        else:
            self.text, self.column = text.strip(), column
            self.invalidateFilter()

    def lessThan(self, left, right):  # noqa: N802
        a, b = left.data(Qt.UserRole), right.data(Qt.UserRole)
        if a is None or (isinstance(a, float) and math.isnan(a)):
            return False
        if b is None or (isinstance(b, float) and math.isnan(b)):
            return True
        try:
            return a < b
        except TypeError:
            return str(a) < str(b)

    def _comparison(self):
        for op in OPS:
            if self.text.startswith(op):
                try:
                    return op, float(self.text[len(op):])
                except ValueError:
                    return None
        return None

    def filterAcceptsRow(self, row, parent):  # noqa: N802
        if not self.text:
            return True
        m: ResultsTableModel = self.sourceModel()
        cmp = self._comparison()
        if cmp is not None and self.column in m.numeric:
            v = m.value(row, self.column)
            if v is None or (isinstance(v, float) and math.isnan(v)):
                return False
            op, x = cmp
            return {"<": v < x, ">": v > x, "<=": v <= x, ">=": v >= x, "=": v == x, "!=": v != x}[op]
        needle = self.text.lower()
        names = [self.column] if self.column else m.columns
        return any(needle in ("" if m.value(row, c) is None else str(m.value(row, c))).lower() for c in names)


class ScreenResultsPanel(QWidget):
    """The dock's widget: a click previews a task's model as the document's displayed state (its own
    supercell; the document is untouched), `open_path(str)` opens a task's project file."""

    sigPreviewed = Signal(str)   # task name shown in the editor ("" when the document is shown again)

    def __init__(self, document, open_path, parent=None):
        super().__init__(parent)
        self.document, self.open_path = document, open_path
        self.outdir: Path | None = None
        self.model: ResultsTableModel | None = None
        self.proxy = ResultsFilter(self)

        self.title = QLabel("No screening results loaded")
        self.filter_column = QComboBox()
        self.filter_column.setToolTip("column the filter looks at")
        self.filter_edit = QLineEdit()
        self.filter_edit.setPlaceholderText("filter: text, or < -110 / >= 0.9 on a numeric column")
        self.filter_edit.setClearButtonEnabled(True)
        self.table = QTableView()
        self.table.setModel(self.proxy)
        self.table.setSortingEnabled(True)
        self.table.setSelectionBehavior(QAbstractItemView.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.NoEditTriggers)
        self.table.verticalHeader().setDefaultSectionSize(20)
        self.x_combo, self.y_combo = QComboBox(), QComboBox()
        self.plot = pg.PlotWidget(background="w")
        self.plot.setMinimumHeight(160)
        self.scatter = pg.ScatterPlotItem(size=9, pen=pg.mkPen(CURVE["current"]), brush=pg.mkBrush(70, 110, 200, 170))
        self.marker = pg.ScatterPlotItem(size=16, pen=pg.mkPen((220, 40, 40), width=2.5), brush=None)
        self.plot.addItem(self.scatter)
        self.plot.addItem(self.marker)
        self.status = QLabel("")
        self.status.setWordWrap(True)
        self.btn_apply = QPushButton("Open as document")
        self.btn_apply.setToolTip("Open this result's project file in place of the document, like File > Open")
        self.btn_back = QPushButton("Back to document")
        self.btn_apply.setEnabled(False)
        self.btn_back.setEnabled(False)

        top = QHBoxLayout()
        top.addWidget(self.title, 1)
        top.addWidget(self.filter_column)
        top.addWidget(self.filter_edit, 1)
        axes = QHBoxLayout()
        axes.addWidget(QLabel("x"))
        axes.addWidget(self.x_combo, 1)
        axes.addWidget(QLabel("y"))
        axes.addWidget(self.y_combo, 1)
        right = QWidget()
        rl = QVBoxLayout(right)
        rl.setContentsMargins(0, 0, 0, 0)
        rl.addLayout(axes)
        rl.addWidget(self.plot, 1)
        split = QSplitter(Qt.Horizontal)
        split.addWidget(self.table)
        split.addWidget(right)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)
        buttons = QHBoxLayout()
        buttons.addWidget(self.status, 1)
        buttons.addWidget(self.btn_back)
        buttons.addWidget(self.btn_apply)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.addLayout(top)
        lay.addWidget(split, 1)
        lay.addLayout(buttons)

        self.filter_edit.textChanged.connect(self._filter_changed)
        self.filter_column.currentIndexChanged.connect(self._filter_changed)
        self.x_combo.currentIndexChanged.connect(self.replot)
        self.y_combo.currentIndexChanged.connect(self.replot)
        self.proxy.layoutChanged.connect(self.replot)
        self.proxy.rowsInserted.connect(self.replot)
        self.proxy.rowsRemoved.connect(self.replot)
        self.proxy.modelReset.connect(self.replot)
        self.table.clicked.connect(lambda idx: self.preview_row(self.proxy.mapToSource(idx).row()))
        self.scatter.sigClicked.connect(self._point_clicked)
        self.btn_apply.clicked.connect(self.apply)
        self.btn_back.clicked.connect(self.end_preview)
        document.sigDisplayedChanged.connect(self._displayed_changed)

    # ------------------------------------------------------------------ data
    def set_results(self, outdir, table) -> None:
        """Show a results table (pyarrow.Table) of the output directory `outdir`."""
        self.end_preview()
        self.outdir = Path(outdir)
        names = list(table.column_names)
        data = {c: table.column(c).to_pylist() for c in names}
        # grid columns come before "task"; those that vary lead, the ones with a single value go to the end
        grid = names[:names.index("task")] if "task" in names else []
        varying = [c for c in grid if len({repr(v) for v in data[c]}) > 1]
        constant = [c for c in grid if c not in varying]
        rest = [c for c in names if c not in grid and c not in LEAD and c not in TAIL]
        columns = varying + [c for c in LEAD if c in names] + rest + constant + [c for c in TAIL if c in names]
        numeric = {f.name for f in table.schema if _is_number(f.type)}
        self.model = ResultsTableModel(columns, data, numeric, self)
        self.proxy.setSourceModel(self.model)
        self.table.sortByColumn(-1, Qt.AscendingOrder)
        n_err = sum(1 for e in data.get("error", []) if e)
        self.title.setText(f"{self.outdir.name}: {self.model.n} task(s)" + (f", {n_err} failed" if n_err else ""))
        for combo, pick in ((self.x_combo, "ewald_eV_per_MO2"), (self.y_combo, "ordering_confidence")):
            combo.blockSignals(True)
            combo.clear()
            nums = [c for c in columns if c in numeric]
            combo.addItems(nums)
            if pick in nums:
                combo.setCurrentText(pick)
            combo.blockSignals(False)
        if self.y_combo.currentText() == self.x_combo.currentText() and self.y_combo.count() > 1:
            self.y_combo.setCurrentIndex(1 if self.x_combo.currentIndex() == 0 else 0)
        self.filter_column.blockSignals(True)
        self.filter_column.clear()
        self.filter_column.addItem("all columns", None)
        for c in columns:
            self.filter_column.addItem(c, c)
        self.filter_column.blockSignals(False)
        self.table.resizeColumnsToContents()
        self.replot()

    def _filter_changed(self, *_):
        self.proxy.set_filter(self.filter_edit.text(), self.filter_column.currentData())
        self.replot()

    def visible_rows(self) -> list[int]:
        """Source rows that pass the filter, in the table's current order."""
        return [self.proxy.mapToSource(self.proxy.index(r, 0)).row() for r in range(self.proxy.rowCount())]

    # ------------------------------------------------------------------ scatter
    def replot(self, *_):
        if self.model is None:
            return
        xc, yc = self.x_combo.currentText(), self.y_combo.currentText()
        if not xc or not yc:
            self.scatter.setData([])
            return
        rows = [r for r in self.visible_rows()
                if _finite(self.model.value(r, xc)) and _finite(self.model.value(r, yc))]
        x = np.array([self.model.value(r, xc) for r in rows], dtype=float)
        y = np.array([self.model.value(r, yc) for r in rows], dtype=float)
        self.scatter.setData(x=x, y=y, data=rows)
        self.plot.setLabel("bottom", xc)
        self.plot.setLabel("left", yc)
        self._mark()

    def _point_clicked(self, _item, points, *_):
        if len(points):
            row = int(points[0].data())
            self.select_row(row)
            self.preview_row(row)

    def select_row(self, row: int) -> None:
        idx = self.proxy.mapFromSource(self.model.index(row, 0))
        if idx.isValid():
            self.table.selectRow(idx.row())
            self.table.scrollTo(idx)

    def _mark(self) -> None:
        if self.preview_task is None or self.model is None:
            self.marker.setData([])
            return
        xc, yc = self.x_combo.currentText(), self.y_combo.currentText()
        row = self._row_of(self.preview_task)
        if row is None or not xc or not yc:
            self.marker.setData([])
            return
        x, y = self.model.value(row, xc), self.model.value(row, yc)
        self.marker.setData([x], [y]) if _finite(x) and _finite(y) else self.marker.setData([])

    def _row_of(self, task: str):
        try:
            return self.model.cols["task"].index(task)
        except (ValueError, KeyError):
            return None

    # ------------------------------------------------------------------ preview / apply
    def model_path(self, row: int) -> Path | None:
        rel = self.model.value(row, "model_path") if "model_path" in self.model.cols else None
        return (self.outdir / rel) if rel else None

    def preview_row(self, row: int) -> bool:
        """Show the model of source row `row` as the window's displayed state (Document.show_preview):
        the layer and 3D views, the readouts and the other panels follow it; the document is unchanged."""
        from core.io.project import load_project

        from ..document import Preview

        path = self.model_path(row)
        task = self.model.value(row, "task")
        if path is None:
            self.status.setText(f"{task}: no model (the task failed: {self.model.value(row, 'error')})")
            return False
        try:
            m = load_project(path)
        except LayerStudioError as exc:
            self.status.setText(str(exc))
            return False
        e = self.model.value(row, "ewald_eV_per_MO2") if "ewald_eV_per_MO2" in self.model.cols else None
        energy = f", {e:.4f} eV/MO2" if _finite(e) else ""
        caption = f"screening result {task}: {m.formula()} {m.supercell.describe()}{energy} - not applied"
        self.document.show_preview(Preview(m, f"screening result {task}", kind=PREVIEW_KIND,
                                           extra={"caption": caption, "task": task}))
        return True

    @property
    def preview_task(self) -> str | None:
        """Task of the screening result on screen, None when something else is displayed."""
        p = self.document.preview
        return p.extra.get("task") if p is not None and p.kind == PREVIEW_KIND else None

    def _displayed_changed(self, _preview) -> None:
        task = self.preview_task
        self.btn_apply.setEnabled(task is not None)
        self.btn_back.setEnabled(task is not None)
        if task is None:
            self.status.setStyleSheet("")
            self.status.setText("")
        else:
            self.status.setStyleSheet("color: #960000; font-weight: bold;")
            self.status.setText(f"Previewing {task} (not applied): the editor and readouts show it; "
                                "Open makes it the document, Back returns to the document")
        self._mark()
        self.sigPreviewed.emit(task or "")

    def end_preview(self) -> None:
        """Show the document again (if a screening result is displayed)."""
        if self.preview_task is not None:
            self.document.end_preview()

    def apply(self) -> None:
        """Open the previewed task's project file as the document, like File > Open: one action that
        replaces the document (asking first when it has unsaved changes); the undo history starts anew."""
        task = self.preview_task
        if task is None:
            return
        path = self.model_path(self._row_of(task))
        self.end_preview()
        self.open_path(str(path))


# ---------------------------------------------------------------------------------------------- window hook
def open_screening_results(window, path: str | None = None):
    """File > Open screening results: pick OUTDIR/results.parquet (or a directory), show it in the dock."""
    from core.screen import load_results

    from .. import dialogs

    if path is None:
        start = str(getattr(window.files, "last_dir", Path.home()))
        path, _ = QFileDialog.getOpenFileName(window, "Open screening results", start,
                                              "Screening results (results.parquet *.parquet);;All files (*)")
        if not path:
            return None
    p = Path(path)
    try:
        table = load_results(p)
    except LayerStudioError as exc:
        dialogs.show_error(window, "Open screening results", str(exc))
        return None
    except ImportError:
        dialogs.show_error(window, "Open screening results",
                           "reading screening results needs pyarrow (pip install 'layerstudio[screen]')")
        return None
    outdir = p if p.is_dir() else p.parent
    dock = window.docks.get(DOCK_NAME)
    if dock is None:
        panel = ScreenResultsPanel(window.document, window.files.open_path)
        dock = window.add_dock(panel, "Screening results", Qt.BottomDockWidgetArea, DOCK_NAME, scroll=False)
        # a closed (or covered) dock must not leave the editor showing a model that is not the document
        dock.visibilityChanged.connect(lambda visible, p=panel: None if visible else p.end_preview())
    panel = dock.widget()
    panel.set_results(outdir, table)
    dock.show()
    dock.raise_()
    window.statusBar().showMessage(f"Screening results: {table.num_rows} task(s) from {outdir}", 6000)
    return panel


def _is_number(t) -> bool:
    import pyarrow as pa
    return pa.types.is_integer(t) or pa.types.is_floating(t)


def _finite(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


__all__ = ["ScreenResultsPanel", "ResultsTableModel", "ResultsFilter", "open_screening_results"]
