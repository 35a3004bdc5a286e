"""State-of-charge slider: drag the model from pristine to fully charged with core.analysis.charge.ChargeModel.

The removal sequence is precomputed once per document state in a worker (~0.6 s on 12x12x3); dragging
then rebuilds a state in well under a millisecond and emits it as a *preview* (the layer view, 3D view,
oxygen colouring and migration paths follow) without touching the document. "Apply as edit" writes the
shown state into the document as ONE undo step: the occupancy (alkali removed) plus, because a model
keeps one oxidation state per species, each species' mean charge in that state (the hole positions
inside a species are a property of the preview only). A box under the slider computes CHGNet magnetic
moments along the same path (gui.panels.soc_moments).
"""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import QComboBox, QFormLayout, QHBoxLayout, QLabel, QPushButton, QSlider, QVBoxLayout, QWidget

from core.structure.species import SPECIES, VACANCY

from ..commands import OxidationCommand
from ..process_child import charge_model
from .soc_moments import SocMomentsBox
from .visibility import on_screen

DEBOUNCE_MS = 500
ORDER_LABELS = (("lowest electrostatic cost", "electrostatic"), ("alkali layer first", "alkali_layer"),
                ("TM layer first", "tm_layer"))


def species_mean_oxidation(state) -> dict[str, float]:
    """Species -> mean charge (e) over the sites it occupies in `state` (vacancies excluded)."""
    out = {}
    for code in np.unique(state.occupancy):
        if code == VACANCY:
            continue
        sites = state.occupancy == code
        out[SPECIES[code]] = float(state.charges[sites].mean())
    return out


class ChargePanel(QWidget):
    """Signals: sigPreview(object) - a ChargeState to show instead of the document (None: back to the
    document); sigReady() - the charge model for the current document state is built."""

    sigPreview = Signal(object)
    sigReady = Signal()

    def __init__(self, doc, runner, parent=None):
        super().__init__(parent)
        self.setObjectName("chargePanel")
        self.doc, self.runner = doc, runner
        self.cm = None
        self.state = None
        self.task = None
        self._stale = True
        self._applying = False
        #: what the panel shows, as numbers (None before the charge model of the current state is ready)
        self.values: dict | None = None

        self.order = QComboBox()
        for text, key in ORDER_LABELS:
            self.order.addItem(text, key)
        self.slider = QSlider(Qt.Horizontal)
        self.slider.setObjectName("socSlider")
        self.slider.setEnabled(False)
        self.slider.setTracking(True)
        self.readout = QLabel("State of charge: pristine")
        self.readout.setObjectName("socReadout")
        self.readout.setTextFormat(Qt.RichText)
        self.readout.setWordWrap(True)
        self.apply_btn = QPushButton("Apply as edit")
        self.apply_btn.setEnabled(False)
        self.reset_btn = QPushButton("Back to pristine")
        self.status = QLabel("")
        self.status.setWordWrap(True)
        form = QFormLayout()
        form.addRow("Remove alkali", self.order)
        lay = QVBoxLayout(self)
        lay.addLayout(form)
        row = QHBoxLayout()
        row.addWidget(QLabel("pristine"))
        row.addWidget(self.slider, 1)
        row.addWidget(QLabel("charged"))
        lay.addLayout(row)
        lay.addWidget(self.readout)
        btns = QHBoxLayout()
        btns.addWidget(self.apply_btn)
        btns.addWidget(self.reset_btn)
        lay.addLayout(btns)
        lay.addWidget(self.status)
        # force-field moments along the same path (CHGNet, in the force-field child process)
        self.moments = SocMomentsBox(doc, runner, order_of=self.order.currentData)
        lay.addWidget(self.moments, 1)

        self.slider.valueChanged.connect(self.show_step)
        self.apply_btn.clicked.connect(self.apply_as_edit)
        self.reset_btn.clicked.connect(lambda: self.slider.setValue(0))
        self.order.currentIndexChanged.connect(self.rebuild)
        # a build takes ~0.6 s on 12x12x3 and cannot be interrupted: wait for a pause in the edits
        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(DEBOUNCE_MS)
        self._debounce.timeout.connect(self.rebuild)
        doc.sigSitesChanged.connect(self._doc_changed)
        doc.sigModelReplaced.connect(self._doc_changed)

    # ------------------------------------------------------------------ charge model
    def _doc_changed(self, *args) -> None:
        if self._applying:
            return
        self._stale = True
        self.cm = None
        self.slider.blockSignals(True)
        self.slider.setValue(0)
        self.slider.blockSignals(False)
        self.slider.setEnabled(False)
        self.apply_btn.setEnabled(False)
        if self.state is not None:
            self.state = None
            self.sigPreview.emit(None)
        # the numbers shown belong to the state before this change
        self.values = None
        self.readout.setText("State of charge: waiting for the charge model of the current state…")
        self.status.setText("")
        if on_screen(self):
            self._debounce.start()

    def screen_changed(self, visible: bool) -> None:
        """Its dock's tab came to the top (True) or was covered (False)."""
        if visible and self._stale:
            self._debounce.start()

    def showEvent(self, ev):  # noqa: N802
        super().showEvent(ev)
        # shown as a covered tab too: look once the layout has settled
        QTimer.singleShot(0, self._catch_up)

    def _catch_up(self) -> None:
        if self._stale and self.task is None and on_screen(self):
            self.rebuild()

    def rebuild(self, *args) -> None:
        """Precompute the removal sequence of the document's current state (in a worker)."""

        if self.task is not None:
            self.runner.cancel(self.task)
        self._stale = False
        model = self.doc.model.copy()
        order = self.order.currentData()
        self.status.setText("Preparing the state-of-charge sequence...")
        token = object()
        self._token = token
        model.metadata = {}
        # the removal sequence is seconds of Python and NumPy on big cells: a child process, so the GUI
        # thread never waits for the GIL; a newer state kills the old job
        self.task = self.runner.submit_process(
            "charge", charge_model, model, order, label="Charge model",
            on_result=lambda cm, t=token: self._ready(t, cm), on_error=self._failed, on_finished=self._finished)

    def _finished(self) -> None:
        self.task = None

    def _failed(self, message: str) -> None:
        self.status.setText(message)

    def _ready(self, token, cm) -> None:
        if token is not self._token or self._stale:
            return
        self.cm = cm
        self.slider.blockSignals(True)
        self.slider.setRange(0, cm.n_steps)
        self.slider.setValue(0)
        self.slider.blockSignals(False)
        self.slider.setEnabled(cm.n_steps > 0)
        note = f" Oxidation states: {cm.note}" if cm.note else ""
        self.status.setText(f"{cm.n_steps} alkali ions can be removed "
                            f"({cm.x_per_step:.4f} per MO2 each).{note} Energies are electrostatic only.")
        self._show(cm.state(0))
        self.sigReady.emit()

    # ------------------------------------------------------------------ dragging
    def show_step(self, step: int) -> None:
        """Show state `step` as a preview (never modifies the document)."""
        if self.cm is None:
            return
        st = self.cm.state(int(step))
        self._show(st)
        self.state = st if st.step > 0 else None
        self.apply_btn.setEnabled(st.step > 0)
        self.sigPreview.emit(self.state)

    def _show(self, st) -> None:
        cm = self.cm
        fu = cm.formula_units
        e0 = cm.energies[0]
        self.values = {"step": int(st.step), "n_steps": int(cm.n_steps), "x_removed": float(st.x_removed),
                       "capacity_mAh_g": {"total": float(st.capacity_mAh_g), "cationic": float(st.cationic_mAh_g),
                                          "anionic": float(st.anionic_mAh_g)},
                       "active_couple": st.active_couple or None, "ewald_eV_per_MO2": float(st.energy_eV) / fu}
        ox = species_mean_oxidation(st)
        ox_text = ", ".join(f"{s} {v:+.2f}" for s, v in ox.items())
        n_o = max(int(np.count_nonzero(st.occupancy == SPECIES.index("O"))), 1)
        self.readout.setText(
            f"<b>x removed = {st.x_removed:.3f}</b> per MO2 (step {st.step}/{cm.n_steps})<br>"
            f"capacity so far <b>{st.capacity_mAh_g:.1f} mAh/g</b> "
            f"(cationic {st.cationic_mAh_g:.1f}, anionic {st.anionic_mAh_g:.1f}; "
            f"{100 * st.anionic_share:.0f} % from O)<br>"
            f"active couple: <b>{st.active_couple or '-'}</b><br>"
            f"oxidised O: {len(st.oxidised_o)} of {n_o} ({100 * len(st.oxidised_o) / n_o:.0f} %)<br>"
            f"Ewald energy {st.energy_eV / fu:.4f} eV/MO2 "
            f"({(st.energy_eV - e0) / fu:+.3f} eV/MO2 vs pristine)<br>"
            f"mean charges: {ox_text}")

    # ------------------------------------------------------------------ applying
    def apply_as_edit(self) -> bool:
        """Write the shown state into the document as one undo step."""
        st = self.state
        if st is None:
            return False
        doc = self.doc
        label = f"Charge to x = {st.x_removed:.3f}"
        ox = {**doc.model.oxidation, **species_mean_oxidation(st)}
        self._applying = True
        try:
            doc.undo_stack.beginMacro(label)
            if any(doc.model.oxidation.get(k) != v for k, v in ox.items()):
                doc.undo_stack.push(OxidationCommand(doc, ox, label))
            doc.set_occupancy(st.occupancy, label)
            doc.undo_stack.endMacro()
        finally:
            self._applying = False
        self.sigPreview.emit(None)
        self._doc_changed()
        return True
