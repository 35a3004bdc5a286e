"""Monte Carlo panel: simulated annealing (core.orderings.montecarlo.anneal) in a worker, with a live energy trace.

The generator runs on the editor's TaskRunner (which passes it its abort event); its progress records
arrive on the GUI thread and extend the energy-vs-sweep plot; the final AnnealResult redraws the full
trace. Abort sets the abort event, which the generator checks about every 20 ms. The best few distinct configurations are
listed with their energy and ordering label; selecting one previews it (sigPreview) without touching the
document, and "Apply" replaces the occupancy as ONE undoable step.
"""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from .science import ordering_label, with_state
from .style import CURVE

SUBLATTICES = (("TM layer", "tm"), ("alkali layer", "alkali"), ("both", "all"))


PROGRESS_EVERY = 0.01  # fraction of the run between progress records (100 points on the trace)


def run_anneal(model, *, sublattice: str, sweeps: int, seed: int, abort=None):
    """core.orderings.montecarlo.anneal generator on `model` (which it does not modify)."""
    from core.orderings.montecarlo import anneal
    return anneal(model, sublattice=sublattice, sweeps=sweeps, seed=seed, abort=abort,
                  progress_every=PROGRESS_EVERY)


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
        self.trace: list[tuple[float, float, float]] = []  # (sweep, energy, best energy) eV per cell
        self.result = None
        self._sweeps = 1
        self.best: list[tuple[float, np.ndarray]] = []
        self.start_energy: float | None = None

        self.sublattice = QComboBox()
        for text, key in SUBLATTICES:
            self.sublattice.addItem(text, key)
        self.sweeps = QSpinBox()
        self.sweeps.setRange(1, 100000)
        self.sweeps.setValue(5000)  # ~0.3 s on a 12x12x3 TM sublattice at 1e7 swaps/s
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
        self.plot.setLabel("bottom", "sweep")
        self.plot.setLabel("left", "energy", units="eV/MO2")
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
        self.result = None
        self._sweeps = self.sweeps.value()
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
            run_anneal, model.copy(), sublattice=sub, sweeps=self.sweeps.value(), seed=self.seed.value(),
            label="Monte Carlo",
            on_progress=self._on_progress, on_result=self._on_result, on_error=self._on_error,
            on_finished=self._on_finished)
        self.sigStarted.emit()

    def abort(self) -> None:
        if self.task is not None:
            self.task.cancel()
            self.status.setText("Aborting...")

    def _on_progress(self, item) -> None:
        if not hasattr(item, "best_energy"):
            return  # the final AnnealResult arrives through _on_result
        if self.start_energy is None:
            self.start_energy = item.energy
        self.trace.append((item.sweep, item.energy, item.best_energy))
        self._plot_trace()
        self.progress.setValue(int(1000 * min(item.sweep / max(self._sweeps, 1), 1.0)))

    def _plot_trace(self) -> None:
        if not self.trace:
            return
        arr = np.array(self.trace)
        fu = self.doc.model.formula_units()
        self.curve.setData(arr[:, 0], arr[:, 1] / fu)
        self.best_curve.setData(arr[:, 0], arr[:, 2] / fu)

    def _on_result(self, result) -> None:
        """The AnnealResult: full trace (the runner thins progress to ~20/s), best configurations."""
        self.result = result
        self.start_energy = result.start_energy
        self.trace = [(r.sweep, r.energy, r.best_energy) for r in result.trace]
        self._plot_trace()
        self.best = [(float(e), np.asarray(o, np.int8)) for e, o in result.configurations]
        self.progress.setValue(1000)
        fu = self.doc.model.formula_units()
        for e, occ in self.best:
            label = ordering_label(with_state(self.doc.model, occ)) or "ordering n/a"
            text = f"{e / fu:.4f} eV/MO2  {label}  (dE {e - result.start_energy:+.3f} eV/cell)"
            item = QListWidgetItem(text)
            item.setToolTip(f"{e:.6f} eV for the whole cell (electrostatic only)")
            item.setData(Qt.UserRole, e)
            self.results.addItem(item)
        if self.best:
            self.results.setCurrentRow(0)
            self.apply_btn.setEnabled(True)
            self.status.setText(
                f"Done: best {self.best[0][0] / fu:.4f} eV/MO2 (electrostatic only), "
                f"{result.attempts_per_s / 1e6:.1f} M swaps/s. Select a result to preview it; "
                "Apply makes it one undo step.")
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
