"""Force-field panel: CHGNet (or another ASE calculator) single points, relaxations, NEB barriers and the
"is Ewald lying?" re-ranking, beside the electrostatic numbers.

Every job runs in the window's "forcefield" child process (gui.processes, a cooperative lane): CHGNet holds
the GIL long enough while building its graphs (up to about a second per step at 100-200 atoms,
bench/mlip.py) to freeze the window from a thread, and the child keeps the loaded model between jobs, so
only the first job pays for loading it. Abort stops the job at its next optimizer step without killing
the child; a new request supersedes the running one; a new document cancels it.

The last result is also shown in a small box under the Ewald energy of the readouts ("Force field"
section); O sites are coloured by their predicted moment in the layer view (the O-hole map, with a colour
bar); an NEB profile is drawn in the migration panel beside the electrostatic one.
"""
from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import time

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from core.mlip.jobs import load_model, neb_job, relax_with_moments, rerank_job

from ..progressbar import ProgressBar
from .style import CURVE
from .visibility import on_screen

#: O moment (muB) above which an oxygen counts as holed (oxidised) in the O-hole map.
O_HOLE_MUB = 0.2
MODELS = (("CHGNet (pretrained)", "chgnet"), ("Ewald (single point only)", "ewald"))
#: The child-process lane of force-field jobs (the charge panel's moments run there too).
LANE = "forcefield"


def forcefield_lane(runner):
    """The runner's force-field lane: cooperative, so an abort keeps the child and its loaded model."""
    return runner.lane(LANE, cooperative=True)


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
        self.setVisible(False)


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
    """Signals: sigResult(object) - an EnergyResult; sigOxygenMoments(object, object) - O sites (k,) and
    their moments (k,) muB of the last result, or (None, None); sigNEB(object) - an NEBResult."""

    sigResult = Signal(object)
    sigOxygenMoments = Signal(object, object)
    sigNEB = Signal(object)

    def __init__(self, doc, runner, migration=None, mc=None, open_path=None, parent=None):
        super().__init__(parent)
        self.setObjectName("forceFieldPanel")
        self.doc, self.runner, self.migration, self.mc = doc, runner, migration, mc
        self.open_path = open_path    # callable(path) opening a structure file in the window
        forcefield_lane(runner)
        self.task = None
        self._token = None
        self._label = ""
        self.latencies: list[float] = []   # seconds from a click to the job's first answer
        self.result = None
        self.moments = None
        self.neb = None
        self._neb_path = None
        self._neb_request = None      # arguments of the last NEB (for Resume)
        self._neb_root = None
        self.rerank_table = None
        self.progress_items: list = []
        self.readout = ForceFieldReadout()
        self._warmed = False          # the child was started and the model loaded when the tab came up
        self._warm_timer = QTimer(self, singleShot=True, interval=400)
        self._warm_timer.timeout.connect(self._warm)

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
        self.resume_btn = QPushButton("Resume NEB")
        self.resume_btn.setEnabled(False)
        self.rerank_btn = QPushButton("Re-rank MC best list")
        self.animate_btn = QPushButton("Animate NEB")
        self.animate_btn.setCheckable(True)
        self.animate_btn.setEnabled(False)
        self.animate_btn.setToolTip("walk the ion along the NEB images (migration panel and layer view)")
        self.animate_btn.toggled.connect(self.set_animating)
        self.export_btn = QPushButton("Export relaxed…")
        self.export_btn.setToolTip("write the relaxed structure (CIF, POSCAR, extended XYZ)")
        self.open_btn = QPushButton("Open relaxed")
        self.open_btn.setToolTip("open the relaxed structure in the editor (asks to save your work first)")
        for b in (self.export_btn, self.open_btn):
            b.setEnabled(False)
        self.abort_btn = QPushButton("Abort")
        self.abort_btn.setObjectName("abortButton")
        self.abort_btn.setEnabled(False)
        self.point_btn.clicked.connect(lambda: self.run_relax(steps=0))
        self.relax_btn.clicked.connect(lambda: self.run_relax())
        self.neb_btn.clicked.connect(lambda: self.run_neb())
        self.resume_btn.clicked.connect(lambda: self.run_neb(resume=True))
        self.rerank_btn.clicked.connect(lambda: self.run_rerank())
        self.abort_btn.clicked.connect(self.abort)
        self.export_btn.clicked.connect(self.export_relaxed_dialog)
        self.open_btn.clicked.connect(self.open_relaxed)
        rows = []
        for group in ((self.point_btn, self.relax_btn, self.abort_btn),
                      (self.neb_btn, self.resume_btn, self.animate_btn),
                      (self.rerank_btn, self.export_btn, self.open_btn)):
            row = QHBoxLayout()
            for b in group:
                row.addWidget(b)
            rows.append(row)
        self.bar = ProgressBar()
        self.bar.setRange(0, 1000)
        self.status = QLabel("CHGNet: a universal machine-learned potential. Energies here are not the "
                             "electrostatic estimate.")
        self.status.setWordWrap(True)

        self.plot = pg.PlotWidget(background="w")
        self.plot.setObjectName("forceFieldPlot")
        self.plot.addLegend(offset=(-10, 10))   # top right: relaxation traces start top left
        self.plot.setMinimumHeight(170)
        self.rank_item = None
        self.table = QTableWidget(0, 4)
        self.table.setHorizontalHeaderLabels(["Ewald rank", "model rank", "Ewald eV/MO2", "model eV/MO2"])
        self.table.verticalHeader().setVisible(False)
        self.table.setVisible(False)

        lay = QVBoxLayout(self)
        lay.addLayout(form)
        for row in rows:
            lay.addLayout(row)
        lay.addWidget(self.bar)
        lay.addWidget(self.status)
        lay.addWidget(self.plot, 2)
        lay.addWidget(self.table, 1)
        doc.sigModelReplaced.connect(self.new_document)
        doc.sigSitesChanged.connect(lambda _sites: self.sigOxygenMoments.emit(None, None))

    # ------------------------------------------------------------------ running
    def screen_changed(self, visible: bool) -> None:
        """Its dock's tab came to the top: start the force-field child and load the model there now, so the
        first job a user starts does not wait for it (CHGNet: about 17 s for a cold first job here, about 1 s
        for later ones). Nothing is loaded for a user who never opens this tab."""
        # the window's first show passes every tab through the top: load only if it stays there a moment
        if visible and not self._warmed:
            self._warm_timer.start()
        else:
            self._warm_timer.stop()

    def _warm(self) -> None:
        if not self._warmed and on_screen(self):
            self._warmed = True
            forcefield_lane(self.runner).warm(load_model, self.spec())

    def spec(self) -> str:
        return self.model_box.currentData()

    def _busy(self, on: bool) -> None:
        for b in (self.point_btn, self.relax_btn, self.neb_btn, self.rerank_btn):
            b.setEnabled(not on)
        self.resume_btn.setEnabled(not on and self._neb_request is not None and self.neb is None)
        self.abort_btn.setEnabled(on)
        if on:
            self.bar.setValue(0)
            self.progress_items = []

    def _submit(self, fn, *args, label: str, on_result):
        """Run fn(*args) in the force-field child; whatever ran there before is superseded."""
        token = self._token = object()
        self._label = label
        self._started = time.monotonic()
        self._answered = False
        self._busy(True)
        self.task = self.runner.submit_process(
            LANE, fn, *args, label=label,
            on_result=lambda r, t=token: self._deliver(t, on_result, r),
            on_error=lambda m, t=token: self._failed(t, m),
            on_progress=lambda item, t=token: self._progress(t, item),
            on_finished=lambda t=token: self._finished(t))
        return self.task

    def _answer(self) -> None:
        if not self._answered:
            self._answered = True
            self.latencies.append(time.monotonic() - self._started)

    def run_relax(self, steps: int | None = None):
        """Relax (or single point with steps=0) a copy of the document's model in the child."""
        steps = self.steps.value() if steps is None else steps
        model = self.doc.model.copy()
        self.status.setText(f"{'Relaxing' if steps else 'Evaluating'} {model.formula()} "
                            f"({int((model.occupancy != 0).sum())} atoms) with {self.model_box.currentText()}…")
        return self._submit(relax_with_moments, model, self.spec(), self.fmax.value(), steps, self.cell.isChecked(),
                            label="Force field", on_result=self._relaxed)

    def _neb_dir(self, model, path, n_images: int) -> str:
        """Where the band of this NEB is saved (and resumed from): one folder per configuration and path."""
        if self._neb_root is None:
            self._neb_root = tempfile.TemporaryDirectory(prefix="layerstudio-neb-")
        h = hashlib.sha1(model.occupancy.tobytes())
        h.update(repr((path.from_site, path.to_site, path.kind, n_images, self.spec())).encode())
        return os.path.join(self._neb_root.name, h.hexdigest()[:16])

    def run_neb(self, resume: bool = False):
        """NEB of the migration panel's selected path (resume=True: continue the last, aborted one)."""
        if resume:
            if self._neb_request is None:
                return None
            model, path, args = self._neb_request
        else:
            path = getattr(self.migration, "selected", None) if self.migration is not None else None
            if path is None:
                self.status.setText("Select a migration path first (Migration paths panel)")
                return None
            model = (getattr(self.migration, "preview_model", None) or self.doc.model).copy()
            n_images = self.images.value()
            out_dir = self._neb_dir(model, path, n_images)
            shutil.rmtree(out_dir, ignore_errors=True)   # a new NEB starts from the interpolated band
            args = (self.spec(), n_images, max(self.fmax.value(), 0.05), self.steps.value(), out_dir)
            self._neb_request = (model, path, args)
        self.neb, self._neb_path = None, path
        self.animate_btn.setEnabled(False)
        self.status.setText(f"{'Resuming the' if resume else ''} NEB of {path.summary()}…")
        return self._submit(neb_job, model, path, *args, label="NEB", on_result=self._neb_done)

    def run_rerank(self, occupancies=None, model=None):
        """Re-rank `occupancies` of `model` (default: the Monte Carlo best list of the document's model)."""
        if occupancies is None:
            res = getattr(self.mc, "result", None) if self.mc is not None else None
            if res is None:
                self.status.setText("Run a Monte Carlo search first: its best list is re-ranked")
                return None
            occupancies = [occ for _, occ in res.configurations]
        return self._submit(rerank_job, (model or self.doc.model).copy(), list(occupancies), self.spec(),
                            label="Re-rank", on_result=self._reranked)

    def abort(self) -> None:
        """Stop the running job at its next step (the child and its loaded model stay)."""
        if self.task is None:
            return
        label = self._label
        self.task.cancel()
        more = "; Resume NEB continues from the last saved band" if label == "NEB" else ""
        self.status.setText(f"{label}: aborted{more}")

    def new_document(self) -> None:
        """A new or opened document: its predecessor's job and results no longer apply."""
        if self.task is not None:
            self.task.cancel()
        self.result = self.moments = self.neb = self._neb_request = self.rerank_table = None
        self.readout.clear()
        self.plot.clear()
        self.table.setVisible(False)
        self._busy(False)
        for b in (self.export_btn, self.open_btn, self.animate_btn):
            b.setEnabled(False)
        self.sigOxygenMoments.emit(None, None)

    def _progress(self, token, item) -> None:
        if token is not self._token or not isinstance(item, dict):
            return
        self._answer()
        self.progress_items.append(item)
        p = item.get("progress", -1.0)
        if p is not None and p >= 0:
            self.bar.setValue(int(1000 * p))
        self.status.setText(item.get("message", ""))

    def _failed(self, token, message: str) -> None:
        if token is self._token:
            self.status.setText(message)

    def _deliver(self, token, on_result, value) -> None:
        if token is self._token:
            self._answer()
            on_result(value)

    def _finished(self, token) -> None:
        if token is self._token:
            self.task = None
            self._busy(False)

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
        for b in (self.export_btn, self.open_btn):
            b.setEnabled(bool(res.relaxed))
        if mom and mom.get("o"):
            self.sigOxygenMoments.emit(np.asarray(mom["o"]["sites"], np.int64),
                                       np.asarray(mom["o"]["moments"], float))
        else:
            self.sigOxygenMoments.emit(None, None)
        self.sigResult.emit(res)

    def o_hole_sites(self) -> np.ndarray:
        """Model sites of O whose predicted moment exceeds O_HOLE_MUB (empty without moments)."""
        if not self.moments:
            return np.zeros(0, np.int64)
        o = self.moments["o"]
        return np.array([s for s, m in zip(o["sites"], o["moments"]) if m > O_HOLE_MUB], np.int64)

    def export_relaxed(self, path: str) -> str:
        """Write the last relaxed structure (format from the extension: .cif, .vasp/POSCAR, .xyz)."""
        from core.mlip.relax import write_structure

        if self.result is None or not self.result.relaxed:
            raise ValueError("no relaxed structure yet")
        return write_structure(self.result, path)

    def export_relaxed_dialog(self) -> None:
        from core.errors import LayerStudioError

        from ..dialogs import show_error
        path, _ = QFileDialog.getSaveFileName(self, "Export relaxed structure", "relaxed.cif",
                                              "CIF (*.cif);;POSCAR (*.vasp POSCAR*);;Extended XYZ (*.xyz)")
        if not path:
            return
        try:
            self.export_relaxed(path)
            self.status.setText(f"Wrote {path}")
        except LayerStudioError as exc:
            show_error(self, "Export relaxed structure", str(exc))

    def open_relaxed(self) -> str | None:
        """Open the relaxed structure in the editor (through a CIF in a temporary folder)."""
        if self.result is None or not self.result.relaxed or self.open_path is None:
            return None
        if self._neb_root is None:
            self._neb_root = tempfile.TemporaryDirectory(prefix="layerstudio-neb-")
        path = os.path.join(self._neb_root.name, f"relaxed_{self.doc.model.formula() or 'model'}.cif")
        self.export_relaxed(path)
        self.open_path(path)
        return path

    def _neb_done(self, res) -> None:
        if res is None:
            return
        self.neb = res
        self.bar.setValue(1000)
        self.status.setText(f"NEB ({res.model_name}): barrier {res.barrier_eV:.3f} eV, end {res.end_eV:+.3f} eV, "
                            f"fmax {res.fmax:.3f} eV/Å after {res.steps} steps"
                            f"{'' if res.converged else ' (not converged)'}{', resumed' if res.resumed else ''}")
        if self.migration is not None and hasattr(self.migration, "set_neb"):
            self.migration.set_neb(self._neb_path, res.energies, self.neb_positions(), res.model_name)
        self.animate_btn.setEnabled(self.migration is not None and getattr(self.migration, "neb", None) is not None)
        self.resume_btn.setEnabled(False)
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
        """Walk the ion along the NEB images (the migration panel's animation follows the band)."""
        if self.migration is not None:
            self.migration.set_animating(bool(on))

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
        self.rank_item = self.plot.plot([r["ewald_rank"] for r in rows], [r["model_rank"] for r in rows], pen=None,
                                        symbol="o", symbolBrush=CURVE["best"],
                                        name=f"Spearman {table['spearman']:.2f}")
        self.plot.setTitle(f"Ewald vs {table['model']}: Spearman ρ = {table['spearman']:.2f}", color="k", size="9pt")
        self.status.setText(f"Spearman rank correlation Ewald vs {table['model']}: {table['spearman']:.2f} "
                            f"over {len(rows)} configurations")

    def rank_points(self) -> np.ndarray:
        """(n, 2) plotted (Ewald rank, model rank) points of the last re-ranking."""
        if self.rank_item is None:
            return np.zeros((0, 2))
        x, y = self.rank_item.getData()
        return np.column_stack([x, y])


__all__ = ["ForceFieldPanel", "ForceFieldReadout", "attach_readout", "forcefield_lane", "O_HOLE_MUB", "LANE"]
