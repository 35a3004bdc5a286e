"""Force-field moments along the state-of-charge path (a box in the charge panel).

CHGNet single points of the states the charge slider walks through (alkali removed in the panel's order,
ideal lattice): the mean moment of each TM element and of O against x removed, and the oxidation states
read from the TM moments (core.mlip.moments.soc_moments). A rising O moment is the hole on oxygen that
anionic redox is about (Seo et al., Nat. Chem. 2016). Runs in the window's force-field child process, so
the CHGNet loaded for the force-field panel is reused.
"""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QGroupBox, QHBoxLayout, QLabel, QPushButton, QSpinBox, QVBoxLayout

from core.mlip.jobs import soc_job

from .mlip_panel import LANE, forcefield_lane
from .style import CURVE

TM_PENS = ("#0072B2", "#009E73", "#CC79A7", "#E69F00", "#56B4E9")


class SocMomentsBox(QGroupBox):
    """Signals none; `rows` holds the last soc_moments table (list of dicts) or None."""

    def __init__(self, doc, runner, order_of=lambda: "electrostatic", parent=None):
        super().__init__("Magnetic moments along the path (CHGNet)", parent)
        self.setObjectName("socMoments")
        self.doc, self.runner, self.order_of = doc, runner, order_of
        forcefield_lane(runner)
        self.rows = None
        self.task = None
        self._token = None
        self.states = QSpinBox()
        self.states.setRange(1, 40)
        self.states.setValue(4)
        self.states.setPrefix("states: ")
        self.states.setToolTip("single points at this many steps of x, plus the pristine state")
        self.run_btn = QPushButton("Compute moments")
        self.abort_btn = QPushButton("Abort")
        self.abort_btn.setEnabled(False)
        self.run_btn.clicked.connect(self.run)
        self.abort_btn.clicked.connect(self.abort)
        self.status = QLabel("CHGNet single points of the delithiated states (ideal lattice)")
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextSelectableByMouse)
        self.plot = pg.PlotWidget(background="w")
        self.plot.setObjectName("socMomentPlot")
        self.plot.setMinimumHeight(140)
        self.plot.setLabel("bottom", "x removed (per MO2)")
        self.plot.setLabel("left", "mean |moment| (μB)")
        self.plot.addLegend(offset=(5, 5))
        self.curves: dict = {}
        row = QHBoxLayout()
        for wdg in (self.states, self.run_btn, self.abort_btn):
            row.addWidget(wdg)
        lay = QVBoxLayout(self)
        lay.addLayout(row)
        lay.addWidget(self.status)
        lay.addWidget(self.plot, 1)
        doc.sigModelReplaced.connect(self.clear)
        doc.sigSitesChanged.connect(lambda _s: self.clear())

    def run(self):
        """Single points along the path of the document's current state, in the force-field child."""
        token = self._token = object()
        self.run_btn.setEnabled(False)
        self.abort_btn.setEnabled(True)
        self.status.setText("Computing moments along the path (the first job loads CHGNet)…")
        self.task = self.runner.submit_process(
            LANE, soc_job, self.doc.model.copy(), "chgnet", self.states.value(), self.order_of(),
            label="Moments along x",
            on_result=lambda rows, t=token: self._ready(t, rows),
            on_error=lambda m, t=token: t is self._token and self.status.setText(m),
            on_progress=lambda item, t=token: (t is self._token and isinstance(item, dict)
                                               and self.status.setText(item.get("message", ""))),
            on_finished=lambda t=token: self._finished(t))
        return self.task

    def abort(self) -> None:
        if self.task is not None:
            self.task.cancel()
            self.status.setText("Moments along x: aborted")

    def _finished(self, token) -> None:
        if token is self._token:
            self.task = None
            self.run_btn.setEnabled(True)
            self.abort_btn.setEnabled(False)

    def clear(self) -> None:
        """The document changed: the curves belong to its previous state."""
        if self.task is not None:
            self.task.cancel()
        self.rows = None
        self.plot.clear()
        self.curves = {}

    def _ready(self, token, rows) -> None:
        if token is not self._token or not rows:
            return
        self.rows = rows
        self.plot.clear()
        x = np.array([r["x_removed"] for r in rows])
        self.curves = {"O": self.plot.plot(x, [r["o_moment_mean"] for r in rows], name="O",
                                           pen=pg.mkPen(CURVE["best"], width=2.5), symbol="o", symbolSize=6,
                                           symbolBrush=CURVE["best"])}
        elements = sorted({e for r in rows for e in r.get("tm_mean", {})})
        for i, el in enumerate(elements):
            y = [r["tm_mean"].get(el, np.nan) for r in rows]
            pen = TM_PENS[i % len(TM_PENS)]
            self.curves[el] = self.plot.plot(x, y, name=el, pen=pg.mkPen(pen, width=2), symbol="s", symbolSize=5,
                                             symbolBrush=pen)
        lines = [f"x = {r['x_removed']:.3f}: " + ", ".join(f"{k} {v}" for k, v in r["oxidation_counts"].items())
                 + f"; O mean {r['o_moment_mean']:.2f} μB, {100 * r['o_holed_fraction']:.0f} % O above 0.2 μB"
                 for r in rows]
        self.status.setText("\n".join(lines))

    def curve(self, name: str) -> np.ndarray:
        """(n, 2) plotted (x removed, mean moment) of 'O' or a TM element."""
        x, y = self.curves[name].getData()
        return np.column_stack([x, y])


__all__ = ["SocMomentsBox"]
