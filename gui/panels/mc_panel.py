"""Monte Carlo panel: simulated annealing / replica exchange (core.orderings.montecarlo.anneal) in a worker,
with a live energy trace and an energy-vs-temperature plot.

The form sets the sublattice, sweeps, seed, the kT schedule (start / end in eV, "auto" = from the
energy scale; profile) and the number of replicas. The generator runs on the editor's TaskRunner
(which passes it its abort event); its progress records arrive on the GUI thread and extend the
energy-vs-sweep and energy-vs-kT plots (every replica's rung); the final AnnealResult redraws the full
trace. Abort sets the abort event, which the generator checks about every 20 ms. The best few distinct
configurations are listed with their energy and ordering (core.orderings.recognition: motif, Wood name
of the superlattice, confidence); selecting one previews it (sigPreview) without touching the
document, and "Apply" replaces the occupancy as ONE undoable step (the plots and the list shrink first,
so the panel fits a 1280x800 window without scrolling). Spin boxes take the mouse wheel only when focused, so
scrolling the panel does not change them.
"""
from __future__ import annotations

import functools

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSpinBox,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from core.analysis.snapshots import with_state
from core.report import ordering_text

from ..progressbar import ProgressBar
from .style import CURVE
from .visibility import on_screen

SUBLATTICES = (("TM layer", "tm"), ("alkali layer", "alkali"), ("both, coupled (each within itself)", "all"),
               ("mixed (TM/alkali exchange)", "mixed"))
SCHEDULES = (("anneal: linger in the ordering region", "anneal"), ("geometric", "geometric"),
             ("linear", "linear"), ("parallel tempering (fixed ladder)", "tempering"))


PROGRESS_EVERY = 0.01  # fraction of the run between progress records (100 points on the trace)


def anneal_job(sublattice: str, sweeps: int, seed: int, t_start=None, t_end=None, replicas: int | None = None,
               schedule: str = "anneal"):
    """core.orderings.montecarlo.anneal with these settings, as a picklable callable(model) for the
    Monte Carlo child process (numba's import and kernel loading hold the GIL: not in the GUI process)."""
    from ..process_child import anneal_with_labels
    return functools.partial(anneal_with_labels, sublattice=sublattice, sweeps=sweeps, seed=seed,
                             progress_every=PROGRESS_EVERY, t_start=t_start, t_end=t_end, replicas=replicas,
                             schedule=schedule)


class _WheelGuard:
    """Mixin: the mouse wheel changes the value only when the box has keyboard focus (a click or Tab);
    otherwise the event goes to the scroll area around it."""

    def _setup_guard(self):
        self.setFocusPolicy(Qt.StrongFocus)

    def wheelEvent(self, ev):  # noqa: N802
        if self.hasFocus():
            super().wheelEvent(ev)
        else:
            ev.ignore()


class SpinBox(_WheelGuard, QSpinBox):
    def __init__(self, *a, **k):
        super().__init__(*a, **k)
        self._setup_guard()


class DoubleSpinBox(_WheelGuard, QDoubleSpinBox):
    def __init__(self, *a, **k):
        super().__init__(*a, **k)
        self._setup_guard()


def _kt_box(tip: str) -> DoubleSpinBox:
    box = DoubleSpinBox()
    box.setRange(0.0, 1000.0)
    box.setDecimals(4)
    box.setSingleStep(0.1)
    box.setSuffix(" eV")
    box.setSpecialValueText("auto")   # 0: derived from the energy scale of the sublattice
    box.setToolTip(tip)
    return box


class MonteCarloPanel(QWidget):
    """Signals: sigPreview(object) - an occupancy to show instead of the document's (None: stop);
    sigRunFinished(list) - best configurations [(energy, occupancy)] of a completed run."""

    sigPreview = Signal(object)
    sigProgress = Signal(object)   # a core.orderings.montecarlo progress record from the run
    sigRunFinished = Signal(object)
    sigStarted = Signal()
    sigAborted = Signal()

    def __init__(self, doc, runner, parent=None):
        super().__init__(parent)
        self.setObjectName("mcPanel")
        self.doc, self.runner = doc, runner
        self.task = None
        self.trace: list[tuple[float, float, float]] = []  # (sweep, energy, best energy) eV per cell
        self.et: list[tuple[float, float]] = []  # (kT eV, energy eV per cell) of every replica and record
        self.result = None
        self._sweeps = 1
        self.best: list[tuple[float, np.ndarray]] = []
        self.start_energy: float | None = None

        self.sublattice = QComboBox()
        for text, key in SUBLATTICES:
            self.sublattice.addItem(text, key)
        self.sweeps = SpinBox()
        self.sweeps.setRange(1, 100000)
        self.sweeps.setValue(5000)  # ~0.3 s on a 12x12x3 TM sublattice at 1e7 swaps/s
        self.sweeps.setSuffix(" per site")
        self.seed = SpinBox()
        self.seed.setRange(0, 2**31 - 1)
        self.t_start = _kt_box("Start temperature kT in eV (model units of the bare point-charge energy, not "
                               "kelvin). auto: 0.3 J of the stiffest sublattice, J = dq^2 e^2 / (4 pi eps0 a).")
        self.t_end = _kt_box("Final kT in eV. auto: 0.003 J of the softest sublattice.")
        self.schedule = QComboBox()
        for text, key in SCHEDULES:
            self.schedule.addItem(text, key)
        self.replicas = SpinBox()
        self.replicas.setRange(0, 64)
        self.replicas.setSpecialValueText("auto")   # 0: core.orderings.montecarlo.auto_replicas
        self.replicas.setValue(0)
        self.replicas.setToolTip("Replicas at neighbouring temperatures exchanging configurations (replica "
                                 "exchange); sweeps are per replica. 1: plain simulated annealing. auto: 1 for "
                                 "one swap group of ions, replica exchange (8-32 rungs) for coupled sublattices "
                                 "or vacancy orderings, where plain annealing stops above the ground state.")
        self.start_btn = QPushButton("Start")
        self.abort_btn = QPushButton("Abort")
        self.abort_btn.setEnabled(False)
        self.progress = ProgressBar()
        self.progress.setRange(0, 1000)
        self.status = QLabel("Anneals swaps on the electrostatic (Ewald) energy; temperatures are kT in eV.")
        self.status.setWordWrap(True)
        self.plot = pg.PlotWidget(background="w")
        self.plot.setLabel("bottom", "sweep")
        self.plot.setLabel("left", "energy", units="eV/MO2")
        self.plot.addLegend(offset=(-10, 10))
        self.curve = self.plot.plot([], [], pen=pg.mkPen(CURVE["current"], width=1.5), name="current")
        self.best_curve = self.plot.plot([], [], pen=pg.mkPen(CURVE["best"], width=2), name="best")
        self.plot.setMinimumHeight(90)
        self.et_plot = pg.PlotWidget(background="w")
        self.et_plot.setObjectName("mcEnergyTemperature")
        self.et_plot.setLabel("bottom", "kT (eV)")
        self.et_plot.setLabel("left", "energy", units="eV/MO2")
        self.et_plot.setLogMode(x=True, y=False)
        self.et_points = pg.ScatterPlotItem(size=4, pen=None, brush=pg.mkBrush(CURVE["current"]))
        self.et_plot.addItem(self.et_points)
        self.et_plot.setMinimumHeight(90)
        self.plots = QTabWidget()
        self.plots.addTab(self.plot, "Energy vs sweep")
        self.plots.addTab(self.et_plot, "Energy vs kT")
        self.results = QListWidget()
        self.results.setObjectName("mcResults")
        self.results.setMinimumHeight(60)
        self.apply_btn = QPushButton("Apply selected (one undo step)")
        self.apply_btn.setEnabled(False)
        self.clear_btn = QPushButton("Stop preview")

        form = QFormLayout()
        form.addRow("Sublattice", self.sublattice)
        form.addRow("Sweeps", self.sweeps)
        form.addRow("Seed", self.seed)
        form.addRow("kT start", self.t_start)
        form.addRow("kT end", self.t_end)
        form.addRow("Schedule", self.schedule)
        form.addRow("Replicas", self.replicas)
        buttons = QHBoxLayout()
        buttons.addWidget(self.start_btn)
        buttons.addWidget(self.abort_btn)
        lay = QVBoxLayout(self)
        lay.addLayout(form)
        lay.addLayout(buttons)
        lay.addWidget(self.progress)
        lay.addWidget(self.status)
        lay.addWidget(self.plots, 2)      # the plots and the list give way first on a small screen
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
        self.et = []
        self.result = None
        self._sweeps = self.sweeps.value()
        self.curve.setData([], [])
        self.best_curve.setData([], [])
        self.et_points.setData([], [])
        self.results.clear()
        self.best = []
        self.sigPreview.emit(None)
        self.progress.setValue(0)
        model = self.doc.model
        self.start_energy = None
        sub = self.sublattice.currentData()
        from core.orderings.montecarlo import auto_replicas
        k = self.replicas.value() or auto_replicas(model, sub)
        self.status.setText(f"Annealing {sub} sublattice, {self.sweeps.value()} sweeps, seed {self.seed.value()}"
                            + (f", {k} replicas" if k > 1 else "") + "...")
        self.start_btn.setEnabled(False)
        self.abort_btn.setEnabled(True)
        snapshot = model.copy()
        snapshot.metadata = {}
        job = anneal_job(sub, self.sweeps.value(), self.seed.value(), t_start=self.t_start.value() or None,
                         t_end=self.t_end.value() or None, replicas=k, schedule=self.schedule.currentData())
        self.task = self.runner.submit_process(
            "montecarlo", job, snapshot, label="Monte Carlo", on_progress=self._on_progress,
            on_result=self._on_result, on_error=self._on_error, on_finished=self._on_finished)
        self.sigStarted.emit()

    def abort(self) -> None:
        if self.task is not None:
            self.task.cancel()
            self.status.setText("Aborting...")

    def _on_progress(self, item) -> None:
        self.sigProgress.emit(item)
        if not hasattr(item, "sweep"):
            return  # the final AnnealResult arrives through _on_result
        if self.start_energy is None:
            self.start_energy = item.energy
        self.trace.append((item.sweep, item.energy, item.best_energy))
        self.et.extend(zip(item.temperatures, item.energies))
        self._plot_trace()
        self.progress.setValue(int(1000 * min(item.sweep / max(self._sweeps, 1), 1.0)))

    def _plot_trace(self) -> None:
        if not self.trace:
            return
        arr = np.array(self.trace)
        fu = self.doc.model.formula_units()
        self.curve.setData(arr[:, 0], arr[:, 1] / fu)
        self.best_curve.setData(arr[:, 0], arr[:, 2] / fu)
        if self.et:
            et = np.array(self.et)
            self.et_points.setData(et[:, 0], et[:, 1] / fu)

    def _on_result(self, result) -> None:
        """The AnnealResult: full trace (the runner thins progress to ~20/s), best configurations."""
        self.result = result
        self.start_energy = result.start_energy
        self.trace = [(r.sweep, r.energy, r.best_energy) for r in result.trace]
        self.et = [p for r in result.trace for p in zip(r.temperatures, r.energies)]
        self._plot_trace()
        self.best = [(float(e), np.asarray(o, np.int8)) for e, o in result.configurations]
        self.progress.setValue(1000)
        fu = self.doc.model.formula_units()
        labels = getattr(result, "ordering_labels", None)   # recognised in the Monte Carlo process
        for k, (e, occ) in enumerate(self.best):
            label = labels[k] if labels is not None else ordering_text(with_state(self.doc.model, occ))
            text = f"{e / fu:.4f} eV/MO2  {label}  (dE {e - result.start_energy:+.3f} eV/cell)"
            item = QListWidgetItem(text)
            item.setToolTip(f"{e:.6f} eV for the whole cell (electrostatic only)")
            item.setData(Qt.UserRole, e)
            self.results.addItem(item)
        if self.best:
            self.results.setCurrentRow(0)
            self.apply_btn.setEnabled(True)
            ex = (f", {result.replicas} replicas, exchange acceptance {result.exchange_acceptance:.2f}"
                  if result.exchange_acceptance is not None else "")
            self.status.setText(
                f"Done: best {self.best[0][0] / fu:.4f} eV/MO2 (electrostatic only), "
                f"{result.attempts_per_s / 1e6:.1f} M swaps/s{ex}, kT {result.temperatures[0]:.3g} -> "
                f"{result.temperatures[1]:.3g} eV. Select a result to preview it; Apply makes it one undo step.")
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

    def values(self) -> dict:
        """What the panel shows, as numbers: running, the result energies (eV/MO2, best first) and the
        selected row."""
        fu = self.doc.model.formula_units()
        return {"running": self.task is not None, "results_eV_per_MO2": [float(e) / fu for e, _ in self.best],
                "selected": self.results.currentRow() if self.best else None}

    def warm_up(self) -> None:
        """Start the Monte Carlo process and load its kernels now (the panel came on screen)."""
        from ..process_child import warm_monte_carlo
        self.runner.lane("montecarlo").warm(warm_monte_carlo)

    def showEvent(self, ev):  # noqa: N802
        super().showEvent(ev)
        QTimer.singleShot(0, lambda: self.warm_up() if on_screen(self) else None)

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
