"""Readout panel: live numbers for the document, one section per core module that exists.

Sections and the core module behind each (a section is only built when its module is importable, so
the panel never shows a number core cannot compute):
  Energy       core.energy.ewald      LiveEwald: per-click energy change (microseconds), history, pinned reference
  Charge       core.structure.model      net charge (warning when non-zero), formula, layer formula
  Capacity     core.analysis.capacity   capacity_summary: total / cationic / anionic mAh/g as a stacked bar
  Oxygen       core.analysis.oxygen     OxygenEnvironments, updated incrementally: Li-O-Li histogram
  Ordering     core.orderings.recognition recognise(): label and confidence            (worker, debounced)
  Space group  core.structure.symmetry   space_group(): spglib, ~0.8 s on a 12x12 cell (worker, debounced)

The energy engine for a new supercell is built in a worker; edits made meanwhile are replayed onto it
when it arrives, so the live value is always that of the current occupancy.
"""
from __future__ import annotations

import importlib.util
import logging

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QPainter
from PySide6.QtWidgets import (
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from core.structure.species import SPECIES, VACANCY, charge_by_code

log = logging.getLogger(__name__)
HISTORY = 300       # energies kept for the history plot
DEBOUNCE_MS = 250
REBUILD_ABOVE = 256  # changed sites beyond which the live energy is rebuilt instead of updated
SPACE_GROUP_MAX_ATOMS = 7000  # larger cells: no space-group readout (spglib would freeze the window)


def have(module: str) -> bool:
    """True if `core.<module>` exists (sections appear only for core parts that are there)."""
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


class CapacityBar(QWidget):
    """Stacked horizontal bar: cationic (blue) + anionic (orange) capacity on a 0..scale mAh/g axis."""

    def __init__(self, parent=None, scale: float = 500.0):
        super().__init__(parent)
        self.scale = scale
        self.cationic = self.anionic = 0.0
        self.setMinimumHeight(22)
        self.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Fixed)

    def set_values(self, cationic: float, anionic: float) -> None:
        self.cationic, self.anionic = max(cationic, 0.0), max(anionic, 0.0)
        self.scale = max(500.0, 1.1 * (self.cationic + self.anionic))
        self.setToolTip(f"cationic {cationic:.1f} mAh/g, anionic {anionic:.1f} mAh/g")
        self.update()

    def paintEvent(self, _ev):
        p = QPainter(self)
        w, h = self.width() - 1, self.height() - 1
        p.setPen(QColor("#888"))
        p.setBrush(QColor("#f4f4f4"))
        p.drawRect(0, 0, w, h)
        x = 0.0
        for val, col in ((self.cationic, "#0072B2"), (self.anionic, "#E69F00")):
            dx = w * val / self.scale
            p.fillRect(QRectF(x + 1, 1, dx, h - 1), QColor(col))
            x += dx
        p.end()


class ReadoutPanel(QWidget):
    """Live readouts for a `gui.document.Document`; slow ones run on `runner` (gui.workers.TaskRunner).

    Attributes useful to tests and other panels: `energy_eV` (current Ewald energy of the whole cell,
    eV, or None while the engine is being built), `live` (the core LiveEwald), `engine`,
    `oxygen` (core.analysis.oxygen.OxygenEnvironments or None), `space_group_text`.
    Signals: sigEnergyReady() when the engine for a new model is in place; sigSpaceGroup(str);
    sigSiteEnergiesChanged() when cached site energies are stale.
    """

    sigEnergyReady = Signal()
    sigSpaceGroup = Signal(str)
    sigOrdering = Signal(str)

    def __init__(self, document, runner, parent=None):
        super().__init__(parent)
        self.doc = document
        self.runner = runner
        self.engine = None
        self.live = None
        self.oxygen = None
        self.energy_eV = None
        self.pinned_eV = None
        self.space_group_text = ""
        self.ordering_text = ""
        self._history: list[float] = []
        self._version = 0             # bumps on every edit: stale worker results are dropped
        self._engine_token = 0
        self._pending_sites: list[np.ndarray] = []  # edits made while the engine was being built
        self._site_energy_cache = None
        self._qtable = None

        inner = QWidget()
        self._layout = QVBoxLayout(inner)
        self._layout.setContentsMargins(4, 4, 4, 4)
        scroll = QScrollArea(self)
        scroll.setWidgetResizable(True)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
        scroll.setWidget(inner)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(scroll)
        self.sections: dict[str, QGroupBox] = {}
        # shown while another state (a state-of-charge preview) is displayed instead of the document
        self.preview_banner = QLabel()
        self.preview_banner.setWordWrap(True)
        self.preview_banner.setStyleSheet("color: #A00000; font-weight: bold")
        self.preview_banner.setVisible(False)
        self._layout.addWidget(self.preview_banner)
        self.preview_model = None

        self.has_ewald = have("core.energy.ewald")
        self.has_capacity = have("core.analysis.capacity")
        self.has_oxygen = have("core.analysis.oxygen")
        self.has_recognition = have("core.orderings.recognition")
        self.has_symmetry = have("core.structure.symmetry")
        if self.has_ewald:
            self._build_energy()
        self._build_charge()
        if self.has_capacity:
            self._build_capacity()
        if self.has_oxygen:
            self._build_oxygen()
        if self.has_recognition:
            self._build_ordering()
        if self.has_symmetry:
            self._build_symmetry()
        self._layout.addStretch(1)

        self._slow_timer = QTimer(self)
        self._slow_timer.setSingleShot(True)
        self._slow_timer.setInterval(DEBOUNCE_MS)
        self._slow_timer.timeout.connect(self._run_slow)
        self._fast_timer = QTimer(self)       # composition-level readouts: cheap, but not per drag step
        self._fast_timer.setSingleShot(True)
        self._fast_timer.setInterval(60)
        self._fast_timer.timeout.connect(self._update_fast)

        document.sigSitesChanged.connect(self.sites_changed)
        document.sigModelReplaced.connect(self.model_replaced)
        self.model_replaced()

    # ------------------------------------------------------------------ sections
    def _section(self, name: str, title: str) -> QFormLayout:
        box = QGroupBox(title)
        form = QFormLayout(box)
        form.setLabelAlignment(Qt.AlignRight)
        self._layout.addWidget(box)
        self.sections[name] = box
        return form

    @staticmethod
    def _value_label() -> QLabel:
        lab = QLabel("-")
        lab.setWordWrap(True)
        lab.setTextInteractionFlags(Qt.TextSelectableByMouse)
        return lab

    def _build_energy(self) -> None:
        f = self._section("energy", "Electrostatic energy (Ewald, formal charges)")
        self.lab_energy = self._value_label()
        self.lab_energy.setStyleSheet("font-size: 15px; font-weight: bold;")
        self.lab_delta = self._value_label()
        self.lab_pinned = self._value_label()
        f.addRow("E / MO2:", self.lab_energy)
        f.addRow("Δ last edit:", self.lab_delta)
        self._delta_row_label = f.labelForField(self.lab_delta)
        row = QHBoxLayout()
        row.addWidget(self.lab_pinned, 1)
        self.btn_pin = QPushButton("Pin")
        self.btn_pin.setToolTip("Remember the current energy as the reference")
        self.btn_pin.clicked.connect(self.pin_reference)
        row.addWidget(self.btn_pin)
        f.addRow("Δ pinned:", row)
        self.history_plot = pg.PlotWidget(background="w")
        self.history_plot.setFixedHeight(90)
        self.history_plot.setMouseEnabled(False, False)
        self.history_plot.hideButtons()
        self.history_plot.getPlotItem().hideAxis("bottom")
        self.history_plot.getPlotItem().getAxis("left").setWidth(44)
        self.history_curve = self.history_plot.plot(pen=pg.mkPen("#0072B2", width=1.5))
        self.pin_line = pg.InfiniteLine(angle=0, pen=pg.mkPen("#E69F00", style=Qt.DashLine))
        self.pin_line.setVisible(False)
        self.history_plot.addItem(self.pin_line)
        f.addRow(self.history_plot)
        note = QLabel("electrostatic only: a ranking aid, not a prediction")
        note.setStyleSheet("color: #777; font-size: 10px;")
        f.addRow(note)

    def _build_charge(self) -> None:
        f = self._section("charge", "Composition and charge")
        self.lab_formula = self._value_label()
        self.lab_layer_formula = self._value_label()
        self.lab_charge = self._value_label()
        f.addRow("Formula:", self.lab_formula)
        f.addRow("Per MO2:", self.lab_layer_formula)
        f.addRow("Net charge:", self.lab_charge)
        self.lab_states = self._value_label()   # counts per oxidation state and how neutrality was reached
        self.lab_states.setObjectName("oxidation_states")
        self.lab_states.setWordWrap(True)
        f.addRow("Oxidation:", self.lab_states)

    def _build_capacity(self) -> None:
        f = self._section("capacity", "Theoretical capacity")
        self.lab_capacity = self._value_label()
        self.capacity_bar = CapacityBar()
        self.lab_capacity_note = self._value_label()
        self.lab_capacity_note.setWordWrap(True)
        self.lab_capacity_note.setStyleSheet("color: #777; font-size: 10px;")
        f.addRow("mAh/g:", self.lab_capacity)
        f.addRow(self.capacity_bar)
        f.addRow(self.lab_capacity_note)

    def _build_oxygen(self) -> None:
        f = self._section("oxygen", "Oxygen environments (Li-O-Li)")
        self.lab_lioli_hist = self._value_label()
        self.lab_lioli_mean = self._value_label()
        self.lab_aoa = self._value_label()
        f.addRow("O with 0/1/2/3:", self.lab_lioli_hist)
        f.addRow("Li-O-Li per O:", self.lab_lioli_mean)
        f.addRow("A-O-A' per O:", self.lab_aoa)

    def _build_ordering(self) -> None:
        f = self._section("ordering", "Ordering")
        self.lab_ordering = self._value_label()
        self.lab_ordering.setWordWrap(True)
        f.addRow("Label:", self.lab_ordering)

    def _build_symmetry(self) -> None:
        f = self._section("symmetry", "Symmetry")
        self.lab_spacegroup = self._value_label()
        f.addRow("Space group:", self.lab_spacegroup)

    # ------------------------------------------------------------------ model life cycle
    @property
    def model(self):
        return self.doc.model

    def _charges_of(self, sites: np.ndarray) -> np.ndarray:
        # Model.set_oxidation installs a new dict: a changed identity means new charges per species
        if self._qtable is None or self._qtable_src is not self.model.oxidation:
            self._qtable_src = self.model.oxidation
            self._qtable = charge_by_code(self.model.oxidation)
        return self._qtable[self.model.occupancy[sites]]

    def model_replaced(self) -> None:
        self._version += 1
        self._qtable = None
        self._qtable_src = None
        self.engine = self.live = None
        self.energy_eV = None
        self.pinned_eV = None
        self._history = []
        self._site_energy_cache = None
        if self.oxygen is not None:
            self.oxygen = None
        if self.has_oxygen:
            from core.analysis.oxygen import OxygenEnvironments
            self.oxygen = OxygenEnvironments(self.model)
        if self.has_ewald:
            self._start_engine()
        self._update_fast()
        self._slow_timer.start()

    def _start_engine(self) -> None:
        self._engine_token += 1
        token = self._engine_token
        self._pending_sites = []
        self.lab_energy.setText("computing…")
        self.lab_delta.setText("-")
        self.lab_pinned.setText("-")
        model = self.model
        q0 = model.charges()

        def build(supercell, q):
            from core.energy.ewald import get_engine
            from core.energy.live import LiveEwald
            engine = get_engine(supercell)
            engine.tiled_columns()  # built lazily on the first edit otherwise: keep it off the GUI thread
            return engine, LiveEwald(engine, q), q

        self.runner.submit(build, model.supercell, q0.copy(), label="Ewald engine", priority=10,
                           on_result=lambda res, t=token, m=model: self._engine_ready(t, m, res),
                           on_error=self._engine_failed)

    def _engine_failed(self, message: str) -> None:
        self.lab_energy.setText("unavailable")
        self.lab_energy.setToolTip(message)

    def _engine_ready(self, token: int, model, result) -> None:
        if token != self._engine_token or model is not self.model:
            return  # a newer model replaced this one meanwhile
        self.engine, self.live, q_then = result
        # replay edits made while the engine was being built
        now = self.model.charges()
        changed = np.flatnonzero(now != q_then)
        if len(changed):
            self.live.apply(changed, now[changed])
        self._pending_sites = []
        self.energy_eV = float(self.live.energy)
        self._history = [self.energy_eV / self.model.formula_units()]
        self._show_energy(None)
        self._update_fast()
        self.sigEnergyReady.emit()

    # ------------------------------------------------------------------ edits
    def sites_changed(self, sites) -> None:
        """Called for every edit, undo and redo: O(len(sites)) work here, the rest debounced."""
        self._version += 1
        if self.preview_model is not None:
            self.end_preview()
        self._site_energy_cache = None
        sites = np.asarray(sites, dtype=np.int64)
        if self.oxygen is not None:
            self.oxygen.update(sites)
        if self.live is not None:
            before = self.energy_eV
            if len(sites) > REBUILD_ABOVE:
                # an incremental update costs O(k^2) for k changed sites; a fresh potential is one FFT
                self.live = type(self.live)(self.engine, self._charges_of(np.arange(self.model.supercell.n_sites)))
            else:
                self.live.apply(sites, self._charges_of(sites))
            self.energy_eV = float(self.live.energy)
            per = self.energy_eV / self.model.formula_units()
            self._history.append(per)
            del self._history[:-HISTORY]
            self._show_energy(before)
        self._fast_timer.start()
        self._slow_timer.start()

    def oxidation_changed(self) -> None:
        """The per-species oxidation states changed: charges of many sites change at once."""
        self._qtable = None
        self.sites_changed(np.arange(self.model.supercell.n_sites))

    def _show_energy(self, before) -> None:
        fu = self.model.formula_units()
        per = self.energy_eV / fu
        self.lab_energy.setText(f"{per:.4f} eV")
        self.lab_energy.setToolTip(f"{self.energy_eV:.6f} eV for the whole cell ({fu} MO2)")
        if before is not None:
            self.lab_delta.setText(f"{(self.energy_eV - before) / fu * 1e3:+.2f} meV/MO2")
        if self.pinned_eV is not None:
            self.lab_pinned.setText(f"{(self.energy_eV - self.pinned_eV) / fu * 1e3:+.2f} meV/MO2")
        self._history_dirty = True

    def pin_reference(self) -> None:
        if self.energy_eV is None:
            return
        self.pinned_eV = self.energy_eV
        self.pin_line.setValue(self.energy_eV / self.model.formula_units())
        self.pin_line.setVisible(True)
        self._show_energy(None)

    def site_energies(self):
        """(N,) per-site electrostatic energies (eV) of the current occupancy, or None (no engine)."""
        if self.engine is None:
            return None
        if self._site_energy_cache is None:
            if self.live is not None and hasattr(self.live, "site_energies"):
                self._site_energy_cache = np.asarray(self.live.site_energies(), float)
            else:
                self._site_energy_cache = np.asarray(self.engine.site_energies(self.model.charges()), float)
        return self._site_energy_cache

    def lioli_counts(self):
        """(N,) Li-O-Li counts on O sites (NaN elsewhere), or None without core.analysis.oxygen."""
        return None if self.oxygen is None else self.oxygen.site_values("li_o_li")

    # ------------------------------------------------------------------ composition-level readouts
    def _update_fast(self, model=None, oxygen=None) -> None:
        """Composition, charge, capacity and O readouts of the document (or of `model`, a preview)."""
        if model is None and self.preview_model is not None:
            return  # a preview is on screen; the document's values come back with end_preview()
        if self.__dict__.get("_history_dirty") and self.has_ewald:
            # the plot redraw is the slowest part of a click: batch it with the other cheap readouts
            self._history_dirty = False
            self.history_curve.setData(np.arange(len(self._history)), np.array(self._history))
        m = self.model if model is None else model
        self.lab_formula.setText(m.formula() or "(empty)")
        self.lab_layer_formula.setText(m.layer_formula())
        q = m.net_charge
        if abs(q) > 1e-6:
            self.lab_charge.setText(f"<span style='color:#C00000; font-weight:bold'>{q:+.3f} e "
                                    f"(not neutral)</span>")
            self.lab_charge.setToolTip("The cell is charged: the Ewald energy includes a uniform "
                                       "neutralising background. Fix the composition or oxidation states.")
        else:
            self.lab_charge.setText("0 (neutral)")
        self.lab_states.setText(charge_balance_text(m))
        if self.has_capacity:
            self._update_capacity(m)
        o = self.oxygen if oxygen is None else oxygen
        if o is not None:
            self.lab_lioli_hist.setText(" / ".join(str(v) for v in o.histogram) + f"  (of {o.n_oxygen})")
            self.lab_lioli_mean.setText(f"{o.li_o_li_mean:.3f}")
            self.lab_aoa.setText(f"{o.a_o_a_mean:.3f}")

    def _update_capacity(self, model) -> None:
        from core.analysis.capacity import capacity_summary
        from core.errors import LayerStudioError
        try:
            s = capacity_summary(model)
        except LayerStudioError as exc:
            self.lab_capacity.setText("-")
            self.lab_capacity_note.setText(str(exc))
            self.capacity_bar.set_values(0, 0)
            return
        c = s["capacity_mAh_g"]
        self.lab_capacity.setText(f"<b>{c['total']:.1f}</b> (cationic {c['cationic']:.1f}, "
                                  f"anionic {c['anionic']:.1f})")
        self.capacity_bar.set_values(c["cationic"], c["anionic"])
        self.lab_capacity_note.setText(s.get("oxidation_note") or "")

    # ------------------------------------------------------------------ previews
    def show_preview(self, model, energy_eV: float | None, title: str) -> None:
        """Show the readouts of `model` (a state not in the document, e.g. a state of charge).

        energy_eV: its Ewald energy (eV per cell) if the caller has it. The energy line then reads the
        preview's energy and its difference from the document; capacity and O statistics are the
        preview's (what is left to extract from that state). Any document edit ends the preview.
        """
        if self.preview_model is None:
            # what the preview overwrites, restored by end_preview()
            self._saved = {lab: lab.text() for lab in self._document_only_labels()}
            if self.has_ewald:
                self._saved_delta = self.lab_delta.text()
        self.preview_model = model
        self.preview_banner.setText(f"Preview, not applied: {title}")
        self.preview_banner.setVisible(True)
        fu = model.formula_units()
        if self.has_ewald and energy_eV is not None:
            self.lab_energy.setText(f"{energy_eV / fu:.4f} eV")
            self._delta_row_label.setText("Δ vs document:")
            if self.energy_eV is not None:
                self.lab_delta.setText(f"{(energy_eV - self.energy_eV) / fu:+.3f} eV/MO2")
        # computed for the document only (spglib and recognition run in workers): say so
        for lab in self._document_only_labels():
            self._set_document_label(lab, self._saved[lab])
        oxygen = None
        if self.has_oxygen:
            from core.analysis.oxygen import OxygenEnvironments
            oxygen = OxygenEnvironments(model)
        self._update_fast(model, oxygen)

    def _document_only_labels(self) -> list:
        """Labels that always describe the document (ordering, space group), marked during a preview."""
        labs = []
        if self.has_recognition:
            labs.append(self.lab_ordering)
        if self.has_symmetry:
            labs.append(self.lab_spacegroup)
        return labs

    def _set_document_label(self, lab, text: str) -> None:
        """Set a document-only label; during a preview it is marked and restored afterwards."""
        if self.preview_model is None:
            lab.setText(text)
        else:
            self._saved[lab] = text
            lab.setText(f"{text}  (document)")

    def end_preview(self) -> None:
        """Back to the document's readouts."""
        if self.preview_model is None:
            return
        self.preview_model = None
        self.preview_banner.setVisible(False)
        for lab, text in self._saved.items():
            lab.setText(text)
        if self.has_ewald:
            self._delta_row_label.setText("Δ last edit:")
            self.lab_delta.setText(self._saved_delta)
            if self.energy_eV is not None:
                self._show_energy(None)
        self._update_fast()

    # ------------------------------------------------------------------ slow readouts (workers)
    def _run_slow(self) -> None:
        if self.runner.busy() and any(t.label in ("Space group", "Ordering") for t in self.runner.tasks):
            self._slow_timer.start()  # one of each at a time; try again when it is done
            return
        version = self._version
        snapshot = self.model.copy()
        n_atoms = int(np.count_nonzero(snapshot.occupancy != VACANCY))
        if self.has_symmetry and n_atoms > SPACE_GROUP_MAX_ATOMS:
            # spglib holds the GIL for its whole run (1.4 s at 6,912 atoms, growing as ~N^2): the window
            # would freeze, so large cells show why instead
            self.space_group_text = "?"
            self._set_document_label(self.lab_spacegroup, f"not computed for {n_atoms:,} atoms (layerstudio info)")
        elif self.has_symmetry:
            from core.structure.symmetry import space_group
            self._set_document_label(self.lab_spacegroup, "computing…")
            self.runner.submit(space_group, snapshot, label="Space group",
                               on_result=lambda r, v=version: self._space_group_ready(v, r),
                               on_error=lambda msg, v=version: self._space_group_ready(v, None, msg))
        if self.has_recognition:
            from core.orderings.recognition import recognise
            self._set_document_label(self.lab_ordering, "computing…")
            self.runner.submit(recognise, snapshot, label="Ordering",
                               on_result=lambda r, v=version: self._ordering_ready(v, r),
                               on_error=lambda msg, v=version: self._ordering_ready(v, None, msg))

    def _space_group_ready(self, version: int, info, error: str | None = None) -> None:
        if version != self._version:
            return  # the occupancy changed since; the debounced rerun will answer
        self.space_group_text = f"{info.symbol} ({info.number})" if info is not None else "?"
        self._set_document_label(self.lab_spacegroup, self.space_group_text if error is None else f"? ({error})")
        self.sigSpaceGroup.emit(self.space_group_text)

    def _ordering_ready(self, version: int, result, error: str | None = None) -> None:
        if version != self._version:
            return
        if error is not None or not isinstance(result, dict):
            self._set_document_label(self.lab_ordering, f"? ({error})" if error else "?")
            return
        label = result.get("label", "?")
        cell = (result.get("superlattice") or {}).get("name")
        if cell and cell != label:
            label = f"{label} on {cell}"
        conf = result.get("confidence")
        text = f"{label}" + (f"  (confidence {float(conf):.2f})" if conf is not None else "")
        self.ordering_text = text
        self._set_document_label(self.lab_ordering, text)
        layers = result.get("per_layer") or []
        self.lab_ordering.setToolTip("\n".join(f"layer {p['layer']}: {p['label']} ({p['confidence']:.2f})"
                                               for p in layers))
        self.sigOrdering.emit(text)


def charge_balance_text(model) -> str:
    """'Ni 21 Ni3+ + 3 Ni2+ (2.875); Co 3 Co3+ ...' plus how it was reached, or what would neutralise it."""
    from core.energy.valence import charge_balance, neutral_hint

    b = charge_balance(model)
    parts = []
    for el, st in b["states"].items():
        if el == "O" and list(st["counts"]) == ["O2-"]:
            continue
        counts = " + ".join(f"{n} {lab}" for lab, n in st["counts"].items())
        avg = f" (avg {st['average']:g})" if len(st["counts"]) > 1 else ""
        parts.append(f"{el}: {counts}{avg}")
    text = "; ".join(parts)
    if not b["neutral"]:
        return text + f"\nTo neutralise: {neutral_hint(model, 'right-click > Set oxidation state > Neutralise')}"
    return text + (f"\nHow: {b['how']}" if b["how"] else "\nHow: formal states of the species table")


def site_info(model, site: int, site_energy: float | None = None) -> str:
    """One-line description of a site: species, charge (e), site energy (eV), six in-plane neighbours."""
    sc = model.supercell
    occ = model.occupancy
    sym = SPECIES[occ[site]]
    q = float(charge_by_code(model.oxidation)[occ[site]])
    nn = sc.tm_nn[site]
    counts: dict[str, int] = {}
    for s in nn.tolist():
        k = SPECIES[occ[s]]
        counts[k] = counts.get(k, 0) + 1
    nn_text = " ".join(f"{k}{v}" for k, v in sorted(counts.items(), key=lambda kv: -kv[1]))
    i, j, _k = sc.ijk[site]
    e = f", site energy {site_energy:+.3f} eV" if site_energy is not None else ""
    return (f"site {site} ({i},{j}) {sc.role[site]} layer {sc.layer[site] + 1}: {sym} "
            f"q={q:+g}{e}; 6 NN: {nn_text}")

