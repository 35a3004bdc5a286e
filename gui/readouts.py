"""Readout panel: the numbers of the displayed state (the document or a preview), as a view.

The numbers are core.report.info(live=...) of the displayed state's LiveAnalysis (held by
gui.analysis.AnalysisController): the same summary as `layerstudio info`. The panel follows the
controller's one signal, sigChanged(names), recomputing and redrawing only the sections named:
  Energy       Ewald energy per MO2, change by the last edit, history, pinned reference
  Charge       net charge (warning when non-zero), formula, layer formula
  Capacity     total / cationic / anionic mAh/g as a stacked bar
  Oxygen       Li-O-Li histogram and means
  Ordering     recognised label and confidence            (worker, debounced)
  Space group  spglib                                      (child process on big cells, debounced)
The summary dict is kept in `summary`, its readout numbers (core.report.readout_numbers) in `values`
(what `gui.Studio.state()` reports).
"""
from __future__ import annotations

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

from core.report import SECTIONS, info, ordering_phrase, oxidation_lines, readout_numbers
from core.structure.species import SPECIES, charge_by_code

log = logging.getLogger(__name__)
HISTORY = 300       # energies kept for the history plot


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
    """Readouts of the displayed state; `analysis` is the window's gui.analysis.AnalysisController.

    `values` holds what the labels show, as numbers (core.report.readout_numbers: None where undefined
    or still being computed). Signals: sigEnergyReady() when the engine for a new model is in place;
    sigSpaceGroup(str); sigValuesChanged() after `values` changed.
    """

    sigEnergyReady = Signal()
    sigSpaceGroup = Signal(str)
    sigValuesChanged = Signal()

    def __init__(self, document, analysis, parent=None):
        super().__init__(parent)
        self.doc = document
        self.analysis = analysis
        self.pinned_per_MO2 = None     # pinned reference energy (eV/MO2)
        self.summary: dict = {}        # core.report.info of the displayed state, section by section
        self._parts: dict[str, dict] = {}
        self.values: dict = readout_numbers({})
        self._history: list[float] = []
        self._history_dirty = False
        self._last_doc_energy = None   # document energy before the last edit (for "Δ last edit")

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
        # shown while another state (a preview) is displayed instead of the document
        self.preview_banner = QLabel()
        self.preview_banner.setWordWrap(True)
        self.preview_banner.setStyleSheet("color: #A00000; font-weight: bold")
        self.preview_banner.setVisible(False)
        self._layout.addWidget(self.preview_banner)
        self._build_energy()
        self._build_charge()
        self._build_capacity()
        self._build_oxygen()
        self._build_ordering()
        self._build_symmetry()
        self._layout.addStretch(1)

        self._fast_timer = QTimer(self)       # composition-level readouts: cheap, but not per drag step
        self._fast_timer.setSingleShot(True)
        self._fast_timer.setInterval(60)
        self._fast_timer.timeout.connect(self._update_fast)
        # a new model: its readouts a turn of the event loop after the views' own rebuild (a 48x48 cell's
        # 2D view, analysis and readouts in one slot held the GUI thread ~90 ms)
        self._model_timer = QTimer(self)
        self._model_timer.setSingleShot(True)
        self._model_timer.setInterval(0)
        self._model_timer.timeout.connect(self._update_fast)

        document.sigModelReplaced.connect(self._model_replaced)
        analysis.sigEngineReady.connect(self.sigEnergyReady)
        analysis.sigChanged.connect(self._changed)
        self._model_replaced()
        self._changed(frozenset({"energy", "engine", "displayed", "symmetry", "ordering"}))
        self._update_fast()

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
        self.lab_layer_ordering = self._value_label()
        self.lab_layer_ordering.setWordWrap(True)
        self.lab_layer_ordering.setToolTip("the ordering of the layer the editor shows")
        f.addRow("This layer:", self.lab_layer_ordering)
        self._ordering_form = f
        self.shown_layer: tuple[str, int] = ("tm", 0)

    def _build_symmetry(self) -> None:
        f = self._section("symmetry", "Symmetry")
        self.lab_spacegroup = self._value_label()
        f.addRow("Space group:", self.lab_spacegroup)

    # ------------------------------------------------------------------ what other parts read
    @property
    def model(self):
        return self.doc.model

    @property
    def live(self):
        """The document's core.energy.live.LiveEwald (None while the engine is being built)."""
        return self.analysis.document_live.ewald

    @property
    def energy_eV(self) -> float | None:
        """Ewald energy of the document's whole cell (eV), None while the engine is being built."""
        return self.analysis.document_live.energy_eV

    @property
    def oxygen(self):
        return self.analysis.document_live.oxygen

    def site_energies(self):
        """(N,) per-site electrostatic energies (eV) of the displayed state, or None (no engine yet)."""
        return self.analysis.site_energies()

    def pending(self) -> bool:
        """True while a batched redraw is still to come."""
        return self._fast_timer.isActive() or self._model_timer.isActive()

    # ------------------------------------------------------------------ following the analysis
    def _model_replaced(self) -> None:
        self.pinned_per_MO2 = None
        self._history = []
        self._history_dirty = True
        self._last_doc_energy = None
        self.pin_line.setVisible(False)
        self.lab_delta.setText("-")
        self.lab_pinned.setText("-")

    def _changed(self, names) -> None:
        preview = self.doc.preview
        if "displayed" in names:
            self.preview_banner.setVisible(preview is not None)
            if preview is not None:
                self.preview_banner.setText(f"Preview, not applied: {preview.title}")
            self._delta_row_label.setText("Δ last edit:" if preview is None else "Δ vs document:")
        if names & {"energy", "engine", "displayed"}:
            self._show_energy(edited="energy" in names and preview is None and "engine" not in names)
        if "model" in names:
            self._fast_timer.stop()
            self._model_timer.start()
        elif "displayed" in names:
            self._fast_timer.stop()
            self._update_fast()      # one step (a preview shown or left): at once
        elif names & {"composition", "oxygen", "energy"}:
            self._fast_timer.start()  # edits: batched, a drag does not redraw per step
        if names & {"symmetry", "displayed"}:
            self._show_space_group()
        if names & {"ordering", "displayed"}:
            self._show_ordering()

    def _summarise(self, sections: list[str]) -> dict:
        """Sections of the one core summary (core.report.info) of the displayed state, kept in `summary`."""
        live = self.analysis.shown
        d = {}
        for name in sections:   # section by section: what a section gave before (or its error) is replaced
            self._parts[name] = info(live=live, sections=[name])
            d.update(self._parts[name])
        self.summary = {k: v for name, _fn in SECTIONS for k, v in self._parts.get(name, {}).items()}
        self.values = readout_numbers(self.summary)
        self.sigValuesChanged.emit()
        return d

    def _show_energy(self, edited: bool) -> None:
        d = self._summarise(["ewald"])
        doc_e = self.energy_eV
        e, per_mo2 = d.get("ewald_eV"), d.get("ewald_eV_per_MO2")
        if "ewald" in d:       # the engine could not be built (e.g. a species without an oxidation state)
            self.lab_energy.setText("unavailable")
            self.lab_energy.setToolTip(d["ewald"]["error"])
            return
        if e is None:
            self.lab_energy.setText("computing…")
            self.lab_energy.setToolTip("")
            return
        fu = self.analysis.shown.model.formula_units()
        self.lab_energy.setText(f"{per_mo2:.4f} eV")
        self.lab_energy.setToolTip(f"{e:.6f} eV for the whole cell ({fu} MO2)")
        if self.doc.preview is not None:
            # per MO2: a preview may have another supercell than the document
            doc_fu = self.model.formula_units()
            self.lab_delta.setText(f"{per_mo2 - doc_e / doc_fu:+.3f} eV/MO2" if doc_e is not None else "-")
        else:
            if edited and self._last_doc_energy is not None:
                self.lab_delta.setText(f"{(e - self._last_doc_energy) / fu * 1e3:+.2f} meV/MO2")
            if edited or not self._history:
                self._history.append(per_mo2)
                del self._history[:-HISTORY]
                self._history_dirty = True
            self._last_doc_energy = e
        if self.pinned_per_MO2 is not None:
            self.lab_pinned.setText(f"{(per_mo2 - self.pinned_per_MO2) * 1e3:+.2f} meV/MO2")

    def pin_reference(self) -> None:
        """Remember the document's energy per MO2 as the reference."""
        if self.energy_eV is None:
            return
        self.pinned_per_MO2 = self.energy_eV / self.model.formula_units()
        self.pin_line.setValue(self.pinned_per_MO2)
        self.pin_line.setVisible(True)
        self._show_energy(False)

    # ------------------------------------------------------------------ composition-level readouts
    def _update_fast(self) -> None:
        """Composition, charge, capacity and O readouts of the displayed state."""
        if self._history_dirty:
            # the plot redraw is the slowest part of a click: batch it with the other cheap readouts
            self._history_dirty = False
            self.history_curve.setData(np.arange(len(self._history)), np.array(self._history))
        d = self._summarise(["basics", "charge", "capacity", "oxygen"])
        self.lab_formula.setText(d["formula"] or "(empty)")
        self.lab_layer_formula.setText(d["layer_formula"])
        q = d["net_charge"]
        if abs(q) > 1e-6:
            self.lab_charge.setText(f"<span style='color:#C00000; font-weight:bold'>{q:+.3f} e "
                                    f"(not neutral)</span>")
            self.lab_charge.setToolTip("The cell is charged: the Ewald energy includes a uniform "
                                       "neutralising background. Fix the composition or oxidation states.")
        else:
            self.lab_charge.setText("0 (neutral)")
            self.lab_charge.setToolTip("")
        self.lab_states.setText(oxidation_text(d))
        if "capacity" in d:
            self.lab_capacity.setText("-")
            self.lab_capacity_note.setText(d["capacity"]["error"])
            self.capacity_bar.set_values(0, 0)
        else:
            c = d["capacity_mAh_g"]
            self.lab_capacity.setText(f"<b>{c['total']:.1f}</b> (cationic {c['cationic']:.1f}, "
                                      f"anionic {c['anionic']:.1f})")
            self.capacity_bar.set_values(c["cationic"], c["anionic"])
            self.lab_capacity_note.setText(self.analysis.shown.capacity().get("oxidation_note") or "")
        o = d["oxygen"]
        hist = o["li_o_li_histogram"]
        self.lab_lioli_hist.setText(" / ".join(str(v) for v in hist) + f"  (of {sum(hist)})")
        self.lab_lioli_mean.setText(f"{o['li_o_li_mean_per_O']:.3f}")
        self.lab_aoa.setText(f"{o['a_o_a_mean_per_O']:.3f}")

    # ------------------------------------------------------------------ slow readouts
    def _show_space_group(self) -> None:
        from .analysis import space_group_text
        sg = self._summarise(["space_group"])["space_group"]
        # the cell's group, or the framework's (TM + O) while the cell's is pending or failed, saying so
        text, tip = space_group_text(self.analysis.shown.results)
        self.lab_spacegroup.setText(text)
        self.lab_spacegroup.setToolTip(tip)
        if sg is None:
            return
        self.sigSpaceGroup.emit(text)

    def set_shown_layer(self, kind: str, index: int) -> None:
        """The editor shows layer `index` (from 0) of `kind`: the "This layer" row names its ordering."""
        self.shown_layer = (kind, int(index))
        self._show_ordering()

    def _show_ordering(self) -> None:
        o = self._summarise(["ordering"])["ordering"]
        self.lab_ordering.setText(ordering_phrase(o))
        layers = (o or {}).get("per_layer") or []
        kind, index = self.shown_layer
        entry = next((p for p in layers if p.get("kind", "tm") == kind and p["layer"] == index), None)
        name = "TM" if kind == "tm" else "alkali"
        phrase = ordering_phrase(entry) if entry else None
        self.lab_layer_ordering.setText(f"{name} layer {index + 1}: {phrase}" if phrase else "")
        # only when it says something the stack's label does not (an alkali layer, a layer unlike the rest)
        self._ordering_form.setRowVisible(self.lab_layer_ordering, bool(phrase) and phrase != ordering_phrase(o))
        self.lab_ordering.setToolTip("\n".join(f"{p.get('kind', 'tm')} layer {p['layer'] + 1}: {p['label']} "
                                               f"({p['confidence']:.2f})" for p in layers))


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


def oxidation_text(d: dict) -> str:
    """The Oxidation readout from a core.report.info dict: states per element, then how the charges
    came about, or what would neutralise the cell."""
    text = "; ".join(oxidation_lines(d))
    if d.get("neutral_hint"):
        return text + f"\nTo neutralise: {d['neutral_hint']} (right-click > Set oxidation state > Neutralise)"
    if d.get("oxidation_history"):           # the counts are on the line above: only how they came about
        return text + f"\nHow: {d['oxidation_history']}"
    return text if d.get("oxidation_note") else text + "\nHow: formal states of the species table"
