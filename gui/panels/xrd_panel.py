"""Simulated powder XRD (pymatgen XRDCalculator, Cu K-alpha) with the superlattice window highlighted.

The honeycomb (sqrt3 x sqrt3) superlattice reflections of Li2MnO3-type layers fall at 2-theta ~ 20-30 deg
for Cu K-alpha (docs/science.md §11); a disordered layer shows none. The pattern (core.io.xrd) is
recomputed in a child process, debounced after edits and only while the panel is on screen: pymatgen
holds the GIL for the whole pattern (~3 s on a 12x12x3 O3 cell, 25-35 s on 24x24x3), and a newer state
kills the old job.
"""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from core.io.xrd import FWHM, RANGE, WINDOW, simulate_xrd

from .style import CURVE
from .visibility import on_screen

DEBOUNCE_MS = 600


class XRDPanel(QWidget):
    """Signals: sigUpdated(dict) after each new pattern (the `simulate_xrd` result)."""

    sigUpdated = Signal(object)

    def __init__(self, doc, runner, parent=None):
        super().__init__(parent)
        self.setObjectName("xrdPanel")
        self.doc, self.runner = doc, runner
        self.task = None
        self.pending = False
        self.result = None
        self.plot = pg.PlotWidget(background="w")
        self.plot.setLabel("bottom", "2θ (deg, Cu Kα)")
        self.plot.setLabel("left", "intensity (max = 100)")
        self.plot.setXRange(*RANGE, padding=0)
        self.plot.setMinimumHeight(200)
        self.legend = self.plot.addLegend(offset=(-6, 6), labelTextColor="k",
                                          brush=pg.mkBrush(255, 255, 255, 220))
        self.region = pg.LinearRegionItem(values=WINDOW, movable=False, brush=pg.mkBrush(*CURVE["window"]))
        self.region.setZValue(-10)
        self.plot.addItem(self.region)
        self.curve = self.plot.plot([], [], pen=pg.mkPen("k", width=1.2), name=f"profile (FWHM {FWHM}°)")
        # peaks are ~1 px wide: "peak" downsampling keeps every maximum visible at any zoom
        self.curve.setDownsampling(auto=True, method="peak")
        # one path of vertical segments: a BarGraphItem draws its bars one by one in Python (tens of
        # milliseconds for the thousands of reflections of a 24x24 cell, on every repaint)
        self.sticks = pg.PlotDataItem([], [], connect="pairs", pen=pg.mkPen(CURVE["coulomb"], width=2))
        self.plot.addItem(self.sticks)
        self.legend.addItem(self.sticks, "reflections")
        self.window_label = QLabel("superlattice window 20-30°: -")
        self.window_label.setObjectName("xrdWindowLabel")
        self.window_label.setWordWrap(True)
        self.log_box = QCheckBox("log scale")
        self.log_box.toggled.connect(self._redraw)
        self.pin_btn = QPushButton("Pin as reference")
        self.pin_btn.setToolTip("keep the current pattern in grey to compare with after edits")
        self.pin_btn.clicked.connect(self.pin_reference)
        self.reference = None
        self.ref_curve = pg.PlotDataItem([], [], pen=pg.mkPen((150, 150, 150), width=1.2))
        self.ref_curve.setZValue(-5)
        self.plot.addItem(self.ref_curve)  # in the legend only once a reference is pinned
        self.auto_box = QCheckBox("update after edits")
        self.auto_box.setChecked(True)
        lay = QVBoxLayout(self)
        lay.addWidget(self.plot, 1)
        lay.addWidget(self.window_label)
        row = QHBoxLayout()
        row.addWidget(self.pin_btn)
        row.addWidget(self.log_box)
        row.addWidget(self.auto_box)
        row.addStretch(1)
        lay.addLayout(row)
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.setInterval(DEBOUNCE_MS)
        self.timer.timeout.connect(lambda: self.recompute() if on_screen(self) else None)
        doc.sigSitesChanged.connect(self._changed)
        doc.sigModelReplaced.connect(self._changed)

    def _changed(self, *args) -> None:
        self.pending = True
        if self.auto_box.isChecked() and on_screen(self):
            self.timer.start()

    def screen_changed(self, visible: bool) -> None:
        """Its dock's tab came to the top (True) or was covered (False)."""
        if visible and self.auto_box.isChecked() and (self.pending or self.result is None):
            self.timer.start()

    def showEvent(self, ev):  # noqa: N802
        super().showEvent(ev)
        # shown as a covered tab too: look once the layout has settled
        QTimer.singleShot(0, lambda: self.screen_changed(on_screen(self)))

    def recompute(self) -> None:
        """Start a pattern computation for the document's current state (restarted if one is running)."""
        self.pending = False
        model = self.doc.model.copy()
        model.metadata = {}   # snapshots and notes stay here: the child gets the structure only
        self.window_label.setText("superlattice window 20-30°: computing...")
        self.task = self.runner.submit_process("xrd", simulate_xrd, model, label="XRD", on_result=self._on_result,
                                               on_error=self.window_label.setText,
                                               on_finished=self._on_finished)

    def _on_finished(self) -> None:
        self.task = None

    def _on_result(self, result: dict) -> None:
        self.result = result
        self._redraw()
        self.window_label.setText(
            f"Superlattice window 20-30°: strongest peak {result['window_max']:.1f} %, "
            f"sum {result['window_sum']:.1f} % of the strongest peak overall")
        self.sigUpdated.emit(result)

    def pin_reference(self) -> None:
        """Keep the current pattern as a grey reference curve (e.g. the ordered model before edits)."""
        self.reference = self.result
        self.legend.removeItem(self.ref_curve)
        if self.reference is not None:
            self.legend.addItem(self.ref_curve, "pinned reference")
        self._redraw()

    def _profile(self, r):
        prof = r["profile"]
        return r["grid"], (np.log10(1 + prof) if self.log_box.isChecked() else prof)

    def _redraw(self, *args) -> None:
        r = self.result
        if r is None:
            return
        grid, prof = self._profile(r)
        y = np.log10(1 + r["intensity"]) if self.log_box.isChecked() else r["intensity"]
        self.curve.setData(grid, prof)
        x = np.repeat(np.asarray(r["two_theta"], float), 2)
        h = np.zeros(len(x))
        h[1::2] = y
        self.sticks.setData(x, h, connect="pairs")
        if self.reference is not None:
            self.ref_curve.setData(*self._profile(self.reference))
        else:
            self.ref_curve.setData([], [])
