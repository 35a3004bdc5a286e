"""Force-field panel: CHGNet (or another ASE calculator) single points, relaxations, NEB barriers and the
"is Ewald lying?" re-ranking, beside the electrostatic numbers.

All work runs on the window's TaskRunner through the `core.mlip` generators (progress, abort), relayed from
one long-lived worker process (`core.mlip.process`): CHGNet holds the GIL long enough while building its
graphs (up to about a second per step at 100-200 atoms, bench/mlip.py) to freeze the window from a thread.
The last result is also shown in a small box inserted
under the Ewald energy of the readouts ("Force field" section), and oxygen with a predicted moment above
`O_HOLE_MUB` is ringed in the layer view (the O-hole map).
"""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from .style import CURVE

#: O moment (muB) above which an oxygen counts as holed (oxidised) in the O-hole map.
O_HOLE_MUB = 0.2
MODELS = (("CHGNet (pretrained)", "chgnet"), ("Ewald (single point only)", "ewald"))


def _relax_job(model, spec, fmax, steps, cell, abort=None):
    """Worker thread: relays a relaxation (or single point) run in the force-field worker process."""
    from core.mlip.process import in_process

    return (yield from in_process("core.mlip.jobs:relax_with_moments", model, spec, fmax, steps, cell, abort=abort))


def _neb_job(model, path, spec, n_images, fmax, steps, abort=None):
    from core.mlip.process import in_process

    return (yield from in_process("core.mlip.neb:neb_path", model, path, spec, n_images=n_images, fmax=fmax,
                                  steps=steps, abort=abort))


def _rerank_job(model, occupancies, spec, abort=None):
    from core.mlip.process import in_process

    return (yield from in_process("core.mlip.rerank:rerank", model, occupancies, spec, abort=abort))


class ForceFieldReadout(QGroupBox):
    """The box under the Ewald readout: model, eV/MO2 unrelaxed and relaxed, moments summary."""

    def __init__(self, parent=None):
        super().__init__("Force field (CHGNet)", parent)
        self.setObjectName("forceFieldReadout")
        f = QFormLayout(self)
        self.unrelaxed = QLabel("-")
        self.relaxed = QLabel("-")
        self.moments = QLabel("-")
        self.moments.setWordWrap(True)
        for lab in (self.unrelaxed, self.relaxed, self.moments):
            lab.setTextInteractionFlags(Qt.TextSelectableByMouse)
        f.addRow("unrelaxed", self.unrelaxed)
        f.addRow("relaxed", self.relaxed)
        f.addRow("moments", self.moments)
        self.setToolTip("Machine-learned potential (Deng et al. 2023), not formal charges; "
                        "Tools > Force field to run it")
        self.setVisible(False)  # shown once there is a result: the readouts keep their size until then

    def show_result(self, res, mom: dict | None) -> None:
        self.setVisible(True)
        self.setTitle(f"Force field ({res.model_name})")
        self.unrelaxed.setText(f"{res.initial_energy_eV_per_MO2:.4f} eV/MO2")
        self.relaxed.setText(f"{res.energy_eV_per_MO2:.4f} eV/MO2 ({res.steps} steps, fmax {res.fmax:.3f} eV/Å"
                             f"{', cell' if res.cell_relaxed else ''})" if res.relaxed else "-")
        if mom:
            ox = ", ".join(f"{k} {v}" for k, v in mom["oxidation_counts"].items())
            self.moments.setText(f"{ox}; O mean {mom['o_mean']:.2f}, max {mom['o_max']:.2f} μB")
        else:
            self.moments.setText("-")

    def clear(self) -> None:
        for lab in (self.unrelaxed, self.relaxed, self.moments):
            lab.setText("-")


def attach_readout(readouts, box: QWidget) -> bool:
    """Insert `box` under the readouts' Ewald energy section if that panel exposes its layout."""
    lay = getattr(readouts, "_layout", None)
    sections = getattr(readouts, "sections", {})
    if lay is None:
        return False
    anchor = sections.get("energy")
    index = lay.indexOf(anchor) + 1 if anchor is not None else lay.count() - 1
    lay.insertWidget(max(index, 0), box)
    return True


class ForceFieldPanel(QWidget):
    """Signals: sigResult(object) - an EnergyResult; sigOxygenHoles(object) - O sites above O_HOLE_MUB;
    sigNEB(object) - an NEBResult."""

    sigResult = Signal(object)
    sigOxygenHoles = Signal(object)
    sigNEB = Signal(object)
    sigIonMoved = Signal(object, int)

    def __init__(self, doc, runner, migration=None, mc=None, parent=None):
        super().__init__(parent)
        self.setObjectName("forceFieldPanel")
        self.doc, self.runner, self.migration, self.mc = doc, runner, migration, mc
        self.task = None
        self.result = None
        self.moments = None
        self.neb = None
        self.rerank_table = None
        self.progress_items: list = []
        self.readout = ForceFieldReadout()

        self.model_box = QComboBox()
        for text, key in MODELS:
            self.model_box.addItem(text, key)
        self.fmax = QDoubleSpinBox()
        self.fmax.setRange(0.005, 2.0)
        self.fmax.setSingleStep(0.01)
        self.fmax.setDecimals(3)
        self.fmax.setValue(0.05)
        self.fmax.setSuffix(" eV/Å")
        self.steps = QSpinBox()
        self.steps.setRange(0, 5000)
        self.steps.setValue(100)
        self.cell = QCheckBox("relax the cell")
        self.images = QSpinBox()
        self.images.setRange(1, 15)
        self.images.setValue(5)
        form = QFormLayout()
        form.addRow("model", self.model_box)
        form.addRow("fmax", self.fmax)
        form.addRow("max steps", self.steps)
        form.addRow("", self.cell)
        form.addRow("NEB images", self.images)

        self.point_btn = QPushButton("Single point")
        self.relax_btn = QPushButton("Relax")
        self.relax_btn.setObjectName("relaxButton")
        self.neb_btn = QPushButton("NEB of selected path")
        self.rerank_btn = QPushButton("Re-rank MC best list")
        self.animate_btn = QPushButton("Animate NEB")
        self.animate_btn.setCheckable(True)
        self.animate_btn.setEnabled(False)
        self.animate_btn.toggled.connect(self.set_animating)
        self._timer = QTimer(self)
        self._timer.setInterval(120)
        self._timer.timeout.connect(self._next_frame)
        self._frame = 0
        self._neb_path = None
        self.abort_btn = QPushButton("Abort")
        self.abort_btn.setObjectName("abortButton")
        self.abort_btn.setEnabled(False)
        self.point_btn.clicked.connect(lambda: self.run_relax(steps=0))
        self.relax_btn.clicked.connect(lambda: self.run_relax())
        self.neb_btn.clicked.connect(self.run_neb)
        self.rerank_btn.clicked.connect(self.run_rerank)
        self.abort_btn.clicked.connect(self.abort)
        row, row2 = QHBoxLayout(), QHBoxLayout()
        for b in (self.point_btn, self.relax_btn, self.abort_btn):
            row.addWidget(b)
        for b in (self.neb_btn, self.animate_btn, self.rerank_btn):
            row2.addWidget(b)
        self.bar = QProgressBar()
        self.bar.setRange(0, 1000)
        self.status = QLabel("CHGNet: a universal machine-learned potential. Energies here are not the "
                             "electrostatic estimate.")
        self.status.setWordWrap(True)

        self.plot = pg.PlotWidget(background="w")
        self.plot.setObjectName("forceFieldPlot")
        self.plot.addLegend(offset=(10, 10))
        self.plot.setMinimumHeight(170)
        self.table = QTableWidget(0, 4)
        self.table.setHorizontalHeaderLabels(["Ewald rank", "model rank", "Ewald eV/MO2", "model eV/MO2"])
        self.table.verticalHeader().setVisible(False)
        self.table.setVisible(False)

        lay = QVBoxLayout(self)
        lay.addLayout(form)
        lay.addLayout(row)
        lay.addLayout(row2)
        lay.addWidget(self.bar)
        lay.addWidget(self.status)
        lay.addWidget(self.plot, 2)
        lay.addWidget(self.table, 1)

    # ------------------------------------------------------------------ running
    def spec(self) -> str:
        return self.model_box.currentData()

    def _busy(self, on: bool) -> None:
        for b in (self.point_btn, self.relax_btn, self.neb_btn, self.rerank_btn):
            b.setEnabled(not on)
        self.abort_btn.setEnabled(on)
        if on:
            self.bar.setValue(0)
            self.progress_items = []

    def _submit(self, fn, *args, label: str, on_result):
        self._busy(True)
        self.task = self.runner.submit(fn, *args, label=label, on_result=on_result, on_error=self._failed,
                                       on_progress=self._progress, on_finished=self._finished)
        self.task.signals.sigCancelled.connect(lambda: self.status.setText(f"{label}: aborted"))
        return self.task

    def run_relax(self, steps: int | None = None):
        """Relax (or single point with steps=0) a copy of the document's model in a worker."""
        steps = self.steps.value() if steps is None else steps
        model = self.doc.model.copy()
        self.status.setText(f"{'Relaxing' if steps else 'Evaluating'} {model.formula()} "
                            f"({int((model.occupancy != 0).sum())} atoms) with {self.model_box.currentText()}…")
        return self._submit(_relax_job, model, self.spec(), self.fmax.value(), steps, self.cell.isChecked(),
                            label="Force field", on_result=self._relaxed)

    def run_neb(self):
        path = getattr(self.migration, "selected", None) if self.migration is not None else None
        if path is None:
            self.status.setText("Select a migration path first (Migration paths panel)")
            return None
        model = getattr(self.migration, "preview_model", None) or self.doc.model
        self.status.setText(f"NEB of {path.summary()}…")
        return self._submit(_neb_job, model.copy(), path, self.spec(), self.images.value(), max(self.fmax.value(), 0.05),
                            self.steps.value(), label="NEB", on_result=self._neb_done)

    def run_rerank(self, occupancies=None):
        if occupancies is None:
            res = getattr(self.mc, "result", None) if self.mc is not None else None
            if res is None:
                self.status.setText("Run a Monte Carlo search first: its best list is re-ranked")
                return None
            occupancies = [occ for _, occ in res.configurations]
        return self._submit(_rerank_job, self.doc.model.copy(), list(occupancies), self.spec(),
                            label="Re-rank", on_result=self._reranked)

    def abort(self) -> None:
        if self.task is not None:
            self.task.cancel()

    def _progress(self, item) -> None:
        if not isinstance(item, dict):
            return
        self.progress_items.append(item)
        p = item.get("progress", -1.0)
        if p is not None and p >= 0:
            self.bar.setValue(int(1000 * p))
        self.status.setText(item.get("message", ""))

    def _failed(self, message: str) -> None:
        self.status.setText(message)

    def _finished(self) -> None:
        self._busy(False)
        self.task = None

    # ------------------------------------------------------------------ results
    def _relaxed(self, out) -> None:
        res, mom = out
        self.result, self.moments = res, mom
        self.readout.show_result(res, mom)
        self.bar.setValue(1000)
        self.status.setText(f"{res.model_name}: {res.initial_energy_eV_per_MO2:.4f} -> {res.energy_eV_per_MO2:.4f} "
                            f"eV/MO2{' (cached)' if res.cached else ''}")
        self.plot.clear()
        if res.trace:
            steps, _f, e = zip(*res.trace)
            self.plot.setLabel("bottom", "optimizer step")
            self.plot.setLabel("left", "energy", units="eV/MO2")
            self.plot.plot(steps, np.asarray(e) / res.formula_units, pen=pg.mkPen(CURVE["total"], width=2),
                           name="relaxation")
        holes = self.o_hole_sites()
        self.sigOxygenHoles.emit(holes)
        self.sigResult.emit(res)

    def o_hole_sites(self) -> np.ndarray:
        """Model sites of O whose predicted moment exceeds O_HOLE_MUB (empty without moments)."""
        if not self.moments:
            return np.zeros(0, np.int64)
        o = self.moments["o"]
        return np.array([s for s, m in zip(o["sites"], o["moments"]) if m > O_HOLE_MUB], np.int64)

    def _neb_done(self, res) -> None:
        if res is None:
            return
        self.neb = res
        self._neb_path = getattr(self.migration, "selected", None)
        self.animate_btn.setEnabled(self._neb_path is not None)
        self.bar.setValue(1000)
        self.status.setText(f"NEB ({res.model_name}): barrier {res.barrier_eV:.3f} eV, end {res.end_eV:+.3f} eV, "
                            f"fmax {res.fmax:.3f} eV/Å after {res.steps} steps"
                            f"{'' if res.converged else ' (not converged)'}")
        self.plot.clear()
        self.plot.setLabel("bottom", "fraction of the path")
        self.plot.setLabel("left", "energy vs start", units="eV")
        x = np.linspace(0.0, 1.0, len(res.energies))
        self.plot.plot(x, res.energies, pen=pg.mkPen(CURVE["best"], width=2.5), symbol="o", name=res.model_name)
        path = getattr(self.migration, "selected", None)
        if path is not None and path.total is not None:
            self.plot.plot(np.linspace(0.0, 1.0, len(path.total)), path.total,
                           pen=pg.mkPen(CURVE["coulomb"], width=2, style=Qt.DashLine),
                           name="electrostatic estimate")
        self.sigNEB.emit(res)

    def neb_positions(self) -> np.ndarray:
        """(n_images + 2, 3) Angstrom: the moving ion along the NEB band, continuous from the path's start."""
        res, path = self.neb, self._neb_path
        from ase.geometry import find_mic

        pos = [np.asarray(path.images[0], float)]
        for a, b in zip(res.images[:-1], res.images[1:]):
            d, _ = find_mic(np.array([b.positions[res.moving_atom] - a.positions[res.moving_atom]]), a.cell, pbc=True)
            pos.append(pos[-1] + d[0])
        return np.array(pos)

    def set_animating(self, on: bool) -> None:
        """Walk the ion along the NEB images in the layer view (back and forth)."""
        if on and self.neb is not None and self._neb_path is not None:
            self._positions = self.neb_positions()
            self._frame = 0
            self._timer.start()
        else:
            self._timer.stop()
            self.sigIonMoved.emit(None, 0)

    def _next_frame(self) -> None:
        from core.structure.species import CODE

        n = len(self._positions)
        i = self._frame % max(2 * n - 2, 1)
        i = i if i < n else 2 * n - 2 - i
        self._frame += 1
        self.sigIonMoved.emit(self._positions[i], CODE.get(self._neb_path.species, 0))

    def _reranked(self, table) -> None:
        if table is None:
            return
        self.rerank_table = table
        rows = table["rows"]
        self.table.setVisible(True)
        self.table.setRowCount(len(rows))
        for i, r in enumerate(rows):
            for j, v in enumerate((r["ewald_rank"], r["model_rank"], f"{r['ewald_eV_per_MO2']:.4f}",
                                   f"{r['model_eV_per_MO2']:.4f}")):
                self.table.setItem(i, j, QTableWidgetItem(str(v)))
        self.plot.clear()
        self.plot.setLabel("bottom", "Ewald rank")
        self.plot.setLabel("left", f"{table['model']} rank")
        self.plot.plot([r["ewald_rank"] for r in rows], [r["model_rank"] for r in rows], pen=None, symbol="o",
                       symbolBrush=CURVE["best"], name=f"Spearman {table['spearman']:.2f}")
        self.status.setText(f"Spearman rank correlation Ewald vs {table['model']}: {table['spearman']:.2f} "
                            f"over {len(rows)} configurations")


__all__ = ["ForceFieldPanel", "ForceFieldReadout", "attach_readout", "O_HOLE_MUB"]
