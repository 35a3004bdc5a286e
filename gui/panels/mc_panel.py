"""Monte Carlo panel: simulated annealing (core.montecarlo.anneal) in a worker, with a live energy trace.

The generator runs on the editor's TaskRunner; its progress items arrive on the GUI thread and extend the
energy-vs-step plot. Abort sets the generator's abort event. The best few distinct configurations are
listed with their energy and ordering label; selecting one previews it (sigPreview) without touching the
document, and "Apply" replaces the occupancy as ONE undoable step.
"""
from __future__ import annotations

import inspect

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QComboBox, QFormLayout, QHBoxLayout, QLabel, QListWidget, QListWidgetItem,
                               QProgressBar, QPushButton, QSpinBox, QVBoxLayout, QWidget)

from .science import ordering_label, with_state
from .style import CURVE

SUBLATTICES = (("TM layer", "tm"), ("alkali layer", "alkali"), ("both", "all"))


def run_anneal(model, *, sublattice: str, sweeps: int, seed: int, abort=None):
    """Call core.montecarlo.anneal with the keyword names it accepts (a detached model copy is annealed,
    so the document never changes under the user's feet). Returns the generator."""
    from core.montecarlo import anneal
    params = inspect.signature(anneal).parameters
    kwargs = {"sublattice": sublattice, "sweeps": sweeps, "seed": seed}
    if "abort" in params:
        kwargs["abort"] = abort
    return anneal(model.copy(), **{k: v for k, v in kwargs.items() if k in params or k == "abort"})


def _get(obj, *names, default=None):
    for n in names:
        if isinstance(obj, dict) and n in obj:
            return obj[n]
        if hasattr(obj, n):
            return getattr(obj, n)
    return default


def progress_point(item) -> tuple[float, float, float, float] | None:
    """(step, current energy eV, best energy eV, fraction done or -1) from one progress item."""
    step = _get(item, "step", "sweep")
    energy = _get(item, "energy", "current_energy", "current")
    best = _get(item, "best_energy", "best")
    if step is None or energy is None:
        return None
    frac = _get(item, "progress", "fraction", default=-1.0)
    return float(step), float(energy), float(best if best is not None and np.isscalar(best) else energy), \
        float(frac)


def best_configurations(result) -> list[tuple[float, np.ndarray]]:
    """[(energy eV, occupancy (N,) int8), ...] lowest first, from anneal's return value."""
    best = _get(result, "best", "best_configurations", "results", default=None)
    if best is None:
        best = [result]
    out = []
    for entry in best:
        if isinstance(entry, tuple) and len(entry) == 2:
            e, occ = entry
        else:
            e = _get(entry, "energy", "best_energy")
            occ = _get(entry, "occupancy", "best_occupancy")
        if e is not None and occ is not None:
            out.append((float(e), np.asarray(occ, dtype=np.int8)))
    out.sort(key=lambda t: t[0])
    return out


class MonteCarloPanel(QWidget):
    """Signals: sigPreview(object) - an occupancy to show instead of the document's (None: stop);
    sigRunFinished(list) - best configurations [(energy, occupancy)] of a completed run."""

    sigPreview = Signal(object)
    sigRunFinished = Signal(object)
    sigStarted = Signal()
    sigAborted = Signal()

    def __init__(self, doc, runner, parent=None):
        super().__init__(parent)
        self.setObjectName("mcPanel")
        self.doc, self.runner = doc, runner
        self.task = None
        self.trace: list[tuple[float, float, float]] = []
        self.best: list[tuple[float, np.ndarray]] = []
        self.start_energy: float | None = None
        self.frames: list[np.ndarray] = []  # best occupancy whenever it improved (for the GIF)

        self.sublattice = QComboBox()
        for text, key in SUBLATTICES:
            self.sublattice.addItem(text, key)
        self.sweeps = QSpinBox()
        self.sweeps.setRange(1, 100000)
        self.sweeps.setValue(200)
        self.seed = QSpinBox()
        self.seed.setRange(0, 2**31 - 1)
        self.start_btn = QPushButton("Start")
        self.abort_btn = QPushButton("Abort")
        self.abort_btn.setEnabled(False)
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.status = QLabel("Anneals swaps on the electrostatic (Ewald) energy; temperature in model units.")
        self.status.setWordWrap(True)
        self.plot = pg.PlotWidget(background="w")
        self.plot.setLabel("bottom", "step")
        self.plot.setLabel("left", "energy", units="eV")
        self.plot.addLegend(offset=(-10, 10))
        self.curve = self.plot.plot([], [], pen=pg.mkPen(CURVE["current"], width=1.5), name="current")
        self.best_curve = self.plot.plot([], [], pen=pg.mkPen(CURVE["best"], width=2), name="best")
        self.plot.setMinimumHeight(160)
        self.results = QListWidget()
        self.results.setObjectName("mcResults")
        self.apply_btn = QPushButton("Apply selected (one undo step)")
        self.apply_btn.setEnabled(False)
        self.clear_btn = QPushButton("Stop preview")

        form = QFormLayout()
        form.addRow("Sublattice", self.sublattice)
        form.addRow("Sweeps", self.sweeps)
        form.addRow("Seed", self.seed)
        buttons = QHBoxLayout()
        buttons.addWidget(self.start_btn)
        buttons.addWidget(self.abort_btn)
        lay = QVBoxLayout(self)
        lay.addLayout(form)
        lay.addLayout(buttons)
        lay.addWidget(self.progress)
        lay.addWidget(self.status)
        lay.addWidget(self.plot, 2)
        lay.addWidget(QLabel("Best configurations (select to preview):"))
        lay.addWidget(self.results, 1)
        row = QHBoxLayout()
        row.addWidget(self.apply_btn)
        row.addWidget(self.clear_btn)
        lay.addLayout(row)

        self.start_btn.clicked.connect(self.start)
        self.abort_btn.clicked.connect(self.abort)
        self.apply_btn.clicked.connect(self.apply_selected)
        self.clear_btn.clicked.connect(lambda: (self.results.clearSelection(), self.sigPreview.emit(None)))
        self.results.currentRowChanged.connect(self._preview_row)
        doc.sigModelReplaced.connect(self._model_replaced)

    # ------------------------------------------------------------------ running
    def running(self) -> bool:
        return self.task is not None

    def start(self) -> None:
        if self.task is not None:
            return
        self.trace.clear()
        self.frames.clear()
        self.curve.setData([], [])
        self.best_curve.setData([], [])
        self.results.clear()
        self.best = []
        self.sigPreview.emit(None)
        self.progress.setValue(0)
        model = self.doc.model
        self.start_energy = None
        sub = self.sublattice.currentData()
        self.status.setText(f"Annealing {sub} sublattice, {self.sweeps.value()} sweeps, seed {self.seed.value()}...")
        self.start_btn.setEnabled(False)
        self.abort_btn.setEnabled(True)
        self.task = self.runner.submit(
            self._job, model.copy(), sub, self.sweeps.value(), self.seed.value(), label="Monte Carlo",
            on_progress=self._on_progress, on_result=self._on_result, on_error=self._on_error,
            on_finished=self._on_finished)
        self.sigStarted.emit()

    @staticmethod
    def _job(model, sublattice, sweeps, seed, abort=None):
        # a generator function: the runner drains it, forwarding items, and honours `abort`
        gen = run_anneal(model, sublattice=sublattice, sweeps=sweeps, seed=seed, abort=abort)
        result = yield from gen
        return result

    def abort(self) -> None:
        if self.task is not None:
            self.task.cancel()
            self.status.setText("Aborting...")

    def _on_progress(self, item) -> None:
        pt = progress_point(item)
        if pt is None:
            return
        step, e, best, frac = pt
        if self.start_energy is None:
            self.start_energy = e
        if not self.trace or best < self.trace[-1][2] - 1e-9:
            occ = _get(item, "best_occupancy")
            if occ is not None:
                self.frames.append(np.asarray(occ, np.int8).copy())
        self.trace.append((step, e, best))
        arr = np.array(self.trace)
        self.curve.setData(arr[:, 0], arr[:, 1])
        self.best_curve.setData(arr[:, 0], arr[:, 2])
        if frac >= 0:
            self.progress.setValue(int(1000 * min(frac, 1.0)))

    def _on_result(self, result) -> None:
        self.best = best_configurations(result)
        self.progress.setValue(1000)
        fu = self.doc.model.formula_units()
        for e, occ in self.best:
            label = ordering_label(with_state(self.doc.model, occ)) or "ordering n/a"
            text = f"{e:.4f} eV  ({e / fu:.4f} eV/MO2)  {label}"
            if self.start_energy is not None:
                text += f"  dE {e - self.start_energy:+.3f} eV"
            item = QListWidgetItem(text)
            item.setData(Qt.UserRole, e)
            self.results.addItem(item)
        if self.best:
            self.results.setCurrentRow(0)
            self.apply_btn.setEnabled(True)
            self.status.setText(f"Done: best {self.best[0][0]:.4f} eV (electrostatic only). "
                                "Select a result to preview it; Apply makes it one undo step.")
        self.sigRunFinished.emit(self.best)

    def _on_error(self, message: str) -> None:
        self.status.setText(message)

    def _on_finished(self) -> None:
        if self.task is not None and self.task.cancelled:
            self.status.setText("Aborted; the document is unchanged.")
            self.sigAborted.emit()
        self.task = None
        self.start_btn.setEnabled(True)
        self.abort_btn.setEnabled(False)

    # ------------------------------------------------------------------ results
    def _preview_row(self, row: int) -> None:
        if 0 <= row < len(self.best):
            self.sigPreview.emit(self.best[row][1])

    def apply_selected(self) -> bool:
        row = max(self.results.currentRow(), 0)
        if row >= len(self.best):
            return False
        e, occ = self.best[row]
        self.sigPreview.emit(None)
        return self.doc.set_occupancy(occ, f"Monte Carlo result {e:.3f} eV")

    def _model_replaced(self) -> None:
        # results belong to the old supercell
        if self.task is not None:
            self.task.cancel()
        self.best = []
        self.results.clear()
        self.apply_btn.setEnabled(False)
        self.sigPreview.emit(None)
