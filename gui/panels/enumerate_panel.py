"""Enumeration panel: every arrangement of one sublattice in a small cell of the host, merged into
symmetry-distinct classes and ranked by the Ewald energy (core.orderings.enumeration).

The small cell is an in-plane superlattice of the host chosen by index and shape (one cell per 6mm
orbit, named in Wood's notation; core.orderings.small_cells), the composition the model's unless one
is typed. Before anything runs the panel says how many arrangements there are (a multinomial, at once)
and, from a worker, how many classes each symmetry leaves (Burnside's lemma over the site
permutations: parent crystal and isolated layer side by side) and how long the run would take; above
`MAX_CONFIGURATIONS` it refuses. The run is a TaskRunner job (numpy in batches: the GUI thread stalls
about 2 ms at a time, measured with a 5 ms heartbeat) with progress and cancel. Each class gets its
name from the recognition (superlattice, motif, confidence) on the arrangement repeated a few times;
the lowest `LABELLED` in the worker, the others when selected.

Selecting a row previews the arrangement tiled onto the model through the document's displayed state;
"Apply" makes it one undoable step. The list exports to CSV and goes to the force-field panel's
re-rank (sigRerank: the small model and the arrangements; CHGNet on the small cell, not the supercell).
"""
from __future__ import annotations

import csv
import html

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from core.errors import LayerStudioError
from core.orderings.enumeration import MAX_CONFIGURATIONS, count_configurations

from ..document import Preview
from ..progressbar import ProgressBar
from .enumerate_jobs import SYMMETRY_TEXT, ClassTable, arrangement_label, enumerate_job, estimate_job
from .visibility import on_screen

SUBLATTICES = (("TM layer", "tm"), ("alkali layer", "alkali"))
SYMMETRY_CHOICES = (("parent crystal (space group)", ("parent",)), ("isolated layer", ("layer",)),
                    ("both, side by side", ("parent", "layer")))
RERANK_TOP = 10     # classes handed to the force-field re-rank
SLOW_S = 10.0       # estimated seconds above which the estimate is shown as a warning
MAX_INDEX = 16


# ---------------------------------------------------------------------------- the panel
class EnumeratePanel(QWidget):
    """Signals: sigRerank(model, occupancies) - the small model and its lowest arrangements, for the
    force field's re-rank; sigFinished(dict) - a completed run {"runs": {symmetry: {...}}}."""

    sigRerank = Signal(object, object)
    sigFinished = Signal(object)

    def __init__(self, doc, runner, parent=None):
        super().__init__(parent)
        self.setObjectName("enumeratePanel")
        self.doc, self.runner = doc, runner
        self.cell = None            # the SmallCell of the current settings (None: invalid settings)
        self.estimate = None        # the estimate_job result for the current settings
        self.task = None
        self.result = None          # {"runs": ..., "cell": SmallCell, "symmetries": (...)}
        self.problem = ""           # why the current settings cannot run (one line)

        self.sublattice = QComboBox()
        for text, key in SUBLATTICES:
            self.sublattice.addItem(text, key)
        self.index = QSpinBox()
        self.index.setRange(1, MAX_INDEX)
        self.index.setValue(3)
        self.index.setToolTip("Number of primitive cells in the small cell (the index of the superlattice)")
        self.cells = QComboBox()
        self.cells.setToolTip("Superlattices of this index, one per orientation class (Wood notation); "
                              "marked when they tile the model's supercell (preview and Apply need that)")
        self.composition = QLineEdit()
        self.composition.setToolTip("Fractions of all sites of the chosen sublattice, e.g. Li:1/3,Mn:2/3 (rest "
                                    "vacant; in P2/P3 both prism kinds count). Empty: the model's.")
        self.symmetry = QComboBox()
        for text, syms in SYMMETRY_CHOICES:
            self.symmetry.addItem(text, syms)
        self.symmetry.setToolTip("Arrangements related by a symmetry operation are one class. The parent "
                                 "crystal's operations keep the energy; the isolated layer's (more of them) "
                                 "merge arrangements a crystallographer draws alike.")
        self.estimate_label = QLabel("")
        self.estimate_label.setObjectName("enumerateEstimate")
        self.estimate_label.setWordWrap(True)
        self.estimate_label.setTextFormat(Qt.RichText)
        self.run_btn = QPushButton("Enumerate")
        self.cancel_btn = QPushButton("Cancel")
        self.cancel_btn.setEnabled(False)
        self.progress = ProgressBar()
        self.progress.setRange(0, 1000)
        self.status = QLabel("Every arrangement of one sublattice in a small cell, ranked by the Ewald "
                             "energy (electrostatic only).")
        self.status.setWordWrap(True)
        self.shown = QComboBox()
        self.shown.setToolTip("Which reduction's classes the table lists")
        self.rows = ClassTable(self)
        self.table = QTableView()
        self.table.setObjectName("enumerateTable")
        self.table.setModel(self.rows)
        self.table.verticalHeader().setVisible(False)
        self.table.setWordWrap(False)
        self.table.horizontalHeader().setResizeContentsPrecision(40)   # size columns from 40 rows, not all
        self.table.setSelectionBehavior(QAbstractItemView.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.NoEditTriggers)
        self.table.horizontalHeader().setSectionResizeMode(4, QHeaderView.Stretch)
        self.table.setMinimumHeight(120)
        self.apply_btn = QPushButton("Apply selected (one undo step)")
        self.apply_btn.setEnabled(False)
        self.stop_btn = QPushButton("Stop preview")
        self.export_btn = QPushButton("Export CSV…")
        self.export_btn.setEnabled(False)
        self.rerank_btn = QPushButton("Re-rank (force field)")
        self.rerank_btn.setToolTip(f"The lowest {RERANK_TOP} classes to the force-field panel's re-rank "
                                   "(CHGNet on the small cell)")
        self.rerank_btn.setEnabled(False)

        for box in (self.sublattice, self.cells, self.symmetry, self.shown):
            # long entries must not widen the dock: the combo shows what fits, the list all of it
            box.setSizeAdjustPolicy(QComboBox.AdjustToMinimumContentsLengthWithIcon)
            box.setMinimumContentsLength(12)
        form = QFormLayout()
        form.addRow("Sublattice", self.sublattice)
        cell_row = QHBoxLayout()
        cell_row.addWidget(QLabel("index"))
        cell_row.addWidget(self.index)
        cell_row.addWidget(self.cells, 1)
        form.addRow("Small cell", cell_row)
        form.addRow("Composition", self.composition)
        form.addRow("Reduce by", self.symmetry)
        buttons = QHBoxLayout()
        buttons.addWidget(self.run_btn)
        buttons.addWidget(self.cancel_btn)
        lay = QVBoxLayout(self)
        lay.addLayout(form)
        lay.addWidget(self.estimate_label)
        lay.addLayout(buttons)
        lay.addWidget(self.progress)
        lay.addWidget(self.status)
        lay.addWidget(self.shown)
        lay.addWidget(self.table, 1)
        row, row2 = QHBoxLayout(), QHBoxLayout()
        row.addWidget(self.apply_btn)
        row.addWidget(self.stop_btn)
        row2.addWidget(self.export_btn)
        row2.addWidget(self.rerank_btn)
        lay.addLayout(row)
        lay.addLayout(row2)
        self.shown.setVisible(False)

        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(120)
        self._timer.timeout.connect(self.refresh_estimate)
        self.sublattice.currentIndexChanged.connect(self._sublattice_changed)
        self.index.valueChanged.connect(self._fill_cells)
        self.cells.currentIndexChanged.connect(self.settings_changed)
        self.composition.editingFinished.connect(self.settings_changed)
        self.symmetry.currentIndexChanged.connect(self.settings_changed)
        self.run_btn.clicked.connect(self.run)
        self.cancel_btn.clicked.connect(self.cancel)
        self.apply_btn.clicked.connect(self.apply_selected)
        self.stop_btn.clicked.connect(self.stop_preview)
        self.export_btn.clicked.connect(self.export_dialog)
        self.rerank_btn.clicked.connect(self.rerank)
        self.shown.currentIndexChanged.connect(self._fill_table)
        self.table.selectionModel().selectionChanged.connect(self._selection_changed)
        doc.sigModelReplaced.connect(self._model_replaced)
        doc.sigSitesChanged.connect(lambda _s: self.settings_changed() if self._follows_model() else None)
        self._sublattice_changed()

    # ------------------------------------------------------------------ settings and estimate
    def _follows_model(self) -> bool:
        return not self.composition.text().strip() and on_screen(self)

    def _sublattice_changed(self, *_):
        from core.orderings.small_cells import sublattice_fractions
        from core.structure.composition import format_spec

        fr = sublattice_fractions(self.doc.model, self.sublattice.currentData())
        self.composition.setPlaceholderText(f"as the model: {format_spec(fr)}")
        self._fill_cells()

    def _fill_cells(self, *_):
        from core.orderings.small_cells import distinct_cells

        keep = self.cells.currentData()
        self.cells.blockSignals(True)
        self.cells.clear()
        for c in distinct_cells(self.index.value(), self.doc.model):
            self.cells.addItem(f"{c['name']}  {'✓ tiles the model' if c['tiles'] else '(does not tile)'}",
                               c["hnf"])
        i = self.cells.findData(keep)
        if i < 0:   # prefer a cell that tiles the model, then the most compact
            i = next((k for k in range(self.cells.count()) if "✓" in self.cells.itemText(k)), 0)
        self.cells.setCurrentIndex(i)
        self.cells.blockSignals(False)
        self.settings_changed()

    def settings_changed(self, *_):
        """Settings edited: say the count at once, the rest from a worker shortly after."""
        self._timer.start()

    def symmetries(self) -> tuple:
        return tuple(self.symmetry.currentData())

    def refresh_estimate(self) -> None:
        """Build the small cell and count its arrangements (GUI thread: a few ms); the classes and time
        come from `estimate_job` in a worker (a symmetry search and an Ewald set-up: tens of ms)."""
        from core.orderings.small_cells import small_cell

        self._timer.stop()
        self.cell, self.estimate, self.problem = None, None, ""
        try:
            cell = small_cell(self.doc.model, self.cells.currentData(), self.sublattice.currentData(),
                              self.composition.text().strip() or None)
        except LayerStudioError as exc:
            return self._refuse(str(exc))
        if len(cell.counts) < 2:
            return self._refuse(f"the {'TM' if cell.sublattice == 'tm' else 'alkali'} sites of the {cell.name} "
                                "cell hold one species: nothing to arrange")
        count = count_configurations(cell.model, cell.sublattice)
        if count > MAX_CONFIGURATIONS:
            return self._refuse(f"{count:,} arrangements on the {cell.info['sites']} sites of the {cell.name} "
                                f"cell: more than the {MAX_CONFIGURATIONS:,} enumerated. Choose a smaller cell "
                                "or use Monte Carlo.")
        self.cell = cell
        self.estimate_label.setText(self._count_text(cell, count) + "<br>estimating classes and time…")
        self.run_btn.setEnabled(self.task is None)
        self.runner.submit(estimate_job, cell, self.symmetries(), label="Enumeration estimate",
                           key="enumerate-estimate", on_result=lambda r, c=cell: self._estimated(c, r),
                           on_error=lambda m, c=cell: self._refuse(m) if c is self.cell else None)

    def _count_text(self, cell, count: int) -> str:
        comp = cell.info["composition"]
        text = (f"<b>{count:,} arrangements</b> of {comp} on the {cell.info['sites']} "
                f"{'TM' if cell.sublattice == 'tm' else 'alkali'} sites of "
                f"the {cell.name} cell ({cell.info['layers']} layer{'s' if cell.info['layers'] > 1 else ''})")
        if not cell.tiles:
            text += f"<br><span style='color:#A05000'>preview and Apply unavailable: {html.escape(cell.reason)}</span>"
        elif not cell.fixed_repeats:
            text += ("<br><span style='color:#A05000'>the model's other sites do not repeat in this cell; "
                     "the cell holds those at its own translations</span>")
        return text

    def _estimated(self, cell, est) -> None:
        if cell is not self.cell:
            return
        self.estimate = est
        parts = []
        total = 0.0
        for sym, r in est["runs"].items():
            g = r["symmetry"]
            parts.append(f"{SYMMETRY_TEXT[sym]} {g['space_group']} ({g['operations']} site permutations): "
                         f"<b>{r['classes']:,} classes</b>")
            total += r["seconds"]
        colour = "#A05000" if total > SLOW_S else "#000000"
        self.estimate_label.setText(
            self._count_text(cell, est["count"]) + "<br>" + "<br>".join(parts)
            + f"<br><span style='color:{colour}'>estimated {total:.2g} s"
            + (" (runs in the background; Cancel stops it)" if total > SLOW_S else "") + "</span>")

    def _refuse(self, message: str) -> None:
        self.problem = message
        self.cell = None
        self.run_btn.setEnabled(False)
        self.estimate_label.setText(f"<span style='color:#B00000'>{html.escape(message)}</span>")

    def values(self) -> dict:
        """What the panel shows, as numbers: arrangements, classes per symmetry (None until estimated),
        the problem with the settings, running, rows."""
        est = self.estimate or {}
        return {"count": None if self.cell is None else count_configurations(self.cell.model, self.cell.sublattice),
                "classes": {s: r["classes"] for s, r in est.get("runs", {}).items()},
                "problem": self.problem, "running": self.task is not None, "rows": self.rows.rowCount()}

    # ------------------------------------------------------------------ running
    def run(self) -> bool:
        from ..dialogs import show_error

        if self.task is not None:
            return False
        if self._timer.isActive() or self.cell is None and not self.problem:
            self.refresh_estimate()
        if self.cell is None:
            show_error(self, "Enumerate", self.problem or "choose a small cell")
            return False
        cell, syms, sc = self.cell, self.symmetries(), self.doc.model.supercell
        self.stop_preview()
        self.progress.setValue(0)
        self.status.setText(f"Enumerating the {cell.name} cell…")
        self.run_btn.setEnabled(False)
        self.cancel_btn.setEnabled(True)
        self.task = self.runner.submit(
            enumerate_job, cell, syms, label="Enumeration", user=True, on_progress=self._on_progress,
            on_result=lambda r: self._on_result(cell, syms, sc, r), on_error=self._on_error, on_finished=self._on_finished)
        self.task.signals.sigCancelled.connect(
            lambda: self.status.setText("Cancelled; the document and the previous list are unchanged."))
        return True

    def cancel(self) -> None:
        if self.task is not None:
            self.runner.cancel(self.task)
            self.status.setText("Cancelling…")

    def _on_progress(self, item) -> None:
        if isinstance(item, dict):
            self.progress.setValue(int(1000 * max(0.0, min(1.0, item.get("progress", 0.0)))))
            self.status.setText(item.get("message", ""))

    def _on_error(self, message: str) -> None:
        from ..dialogs import show_error

        self.status.setText(message)
        show_error(self, "Enumerate", message)

    def _on_finished(self) -> None:
        self.task = None
        self.cancel_btn.setEnabled(False)
        self.run_btn.setEnabled(self.cell is not None)

    def _on_result(self, cell, syms, supercell, result) -> None:
        self.result = {"runs": result["runs"], "cell": cell, "symmetries": syms, "supercell": supercell}
        self.progress.setValue(1000)
        self.shown.blockSignals(True)
        self.shown.clear()
        for sym in syms:
            r = result["runs"][sym]
            self.shown.addItem(f"{SYMMETRY_TEXT[sym]} ({r['info']['space_group']}): {len(r['classes']):,} classes", sym)
        self.shown.blockSignals(False)
        self.shown.setVisible(len(syms) > 1)
        self._fill_table()
        secs = sum(r["seconds"] for r in result["runs"].values())
        counts = ", ".join(f"{SYMMETRY_TEXT[s]} {len(result['runs'][s]['classes']):,}" for s in syms)
        self.status.setText(f"{cell.name}: classes {counts} ({secs:.2g} s). Select a row to preview it"
                            + ("; Apply makes it one undo step." if cell.tiles else f" ({cell.reason})."))
        for b in (self.export_btn, self.rerank_btn):
            b.setEnabled(True)
        self.sigFinished.emit(self.result)

    # ------------------------------------------------------------------ the list
    def classes(self) -> list[dict]:
        """The classes the table shows (lowest energy first)."""
        if self.result is None:
            return []
        sym = self.shown.currentData() or self.result["symmetries"][0]
        return self.result["runs"][sym]["classes"]

    def _fill_table(self, *_):
        self.rows.set_classes(self.classes())
        self.table.resizeColumnsToContents()
        self.table.horizontalHeader().setSectionResizeMode(4, QHeaderView.Stretch)

    def selected_row(self) -> int:
        rows = self.table.selectionModel().selectedRows()
        return rows[0].row() if rows else -1

    def _selection_changed(self, *_) -> None:
        row = self.selected_row()
        classes = self.classes()
        if not (0 <= row < len(classes)):
            return
        c = classes[row]
        if "label" not in c:   # named on demand: one recognition of a small tiled cell, milliseconds
            c["label"] = arrangement_label(self.result["cell"], c["occupancy"])
            self.rows.named(row)
        self.preview_row(row)

    def tiled(self, row: int):
        """(occupancy of the document's model with class `row` tiled onto it, "") or (None, reason)."""
        from core.orderings.small_cells import small_cell, tile

        cell = self.result["cell"]
        model = self.doc.model
        if model.supercell is not self.result["supercell"]:
            # the supercell changed since the run: the same small cell must tile the new one
            again = small_cell(model, cell.hnf, cell.sublattice, cell.info["composition"])
            if not again.tiles:
                return None, again.reason
            if again.stacking_shift != cell.stacking_shift:
                return None, "the model's stacking no longer matches the enumerated cell; enumerate again"
            cell = again
        elif not cell.tiles:
            return None, cell.reason
        return tile(cell, self.classes()[row]["occupancy"], model), ""

    def preview_row(self, row: int) -> bool:
        from core.analysis.snapshots import with_state

        c = self.classes()[row]
        try:
            occ, reason = self.tiled(row)
        except LayerStudioError as exc:
            occ, reason = None, str(exc)
        self.apply_btn.setEnabled(occ is not None)
        if occ is None:
            self.stop_preview()
            self.status.setText(f"Class {row + 1}: {c.get('label', '')}, {c['energy_eV_per_MO2']:.4f} eV/MO2 in "
                                f"the small cell. Not shown on the model: {reason}.")
            return False
        cell = self.result["cell"]
        caption = (f"enumerated {cell.name} class {row + 1}: {c.get('label', '')}, {c['energy_eV_per_MO2']:.4f} "
                   f"eV/MO2 (x{c['multiplicity']}); preview, not applied")
        self.doc.show_preview(Preview(with_state(self.doc.model, occ), f"enumerated class {row + 1} ({cell.name})",
                                      kind="enumerate", extra={"caption": caption}))
        self.status.setText(caption)
        return True

    def stop_preview(self) -> None:
        if self.doc.preview is not None and self.doc.preview.kind == "enumerate":
            self.doc.end_preview()

    def apply_selected(self) -> bool:
        row = self.selected_row()
        if self.result is None or row < 0:
            return False
        occ, reason = self.tiled(row)
        if occ is None:
            from ..dialogs import show_error
            show_error(self, "Enumerate", f"Cannot apply: {reason}")
            return False
        c = self.classes()[row]
        self.stop_preview()
        return self.doc.set_occupancy(occ, f"Enumerated {self.result['cell'].name} ordering "
                                           f"{c['energy_eV_per_MO2']:.3f} eV/MO2")

    # ------------------------------------------------------------------ export and re-rank
    def export_csv(self, path) -> int:
        """Write every class of every reduction run to `path` (CSV); returns the number of rows."""
        from core.orderings.montecarlo import active_sites
        from core.structure.species import SPECIES

        if self.result is None:
            raise LayerStudioError("enumerate first")
        cell = self.result["cell"]
        sites, _ = active_sites(cell.model, cell.sublattice)
        n = 0
        with open(path, "w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh)
            w.writerow(["symmetry", "space_group", "rank", "energy_eV_per_MO2", "energy_max_eV_per_cell",
                        "energy_eV_per_cell", "multiplicity", "ordering", "cell", "cell_hnf", "sublattice",
                        "arrangement"])
            for sym in self.result["symmetries"]:
                run = self.result["runs"][sym]
                for i, c in enumerate(run["classes"]):
                    w.writerow([sym, run["info"]["space_group"], i + 1, f"{c['energy_eV_per_MO2']:.6f}",
                                f"{c['energy_max_eV']:.6f}", f"{c['energy_eV']:.6f}", c["multiplicity"],
                                c.get("label", ""), cell.name, ";".join(",".join(map(str, r)) for r in cell.hnf),
                                cell.sublattice, " ".join(SPECIES[k] for k in c["occupancy"][sites])])
                    n += 1
        return n

    def export_dialog(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Export enumeration", "enumeration.csv", "CSV (*.csv)")
        if path:
            try:
                n = self.export_csv(path)
                self.status.setText(f"Wrote {n} classes to {path}")
            except (OSError, LayerStudioError) as exc:
                from ..dialogs import show_error
                show_error(self, "Enumerate", f"Could not write {path}: {exc}")

    def rerank(self) -> None:
        """Hand the lowest RERANK_TOP classes (as arrangements of the small model) to the re-rank."""
        classes = self.classes()[:RERANK_TOP]
        if classes:
            cell = self.result["cell"]
            self.sigRerank.emit(cell.model.copy(), [c["occupancy"] for c in classes])

    # ------------------------------------------------------------------ document
    def _model_replaced(self) -> None:
        if self.result is not None and self.result["cell"].model.supercell.host.stacking != \
                self.doc.model.supercell.host.stacking:
            self.result = None
            self.rows.set_classes([])
            for b in (self.apply_btn, self.export_btn, self.rerank_btn):
                b.setEnabled(False)
        self._sublattice_changed()

    def showEvent(self, ev):  # noqa: N802
        super().showEvent(ev)
        if self.cell is None and not self.problem:
            self.settings_changed()


__all__ = ["EnumeratePanel"]
