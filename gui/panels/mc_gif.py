"""Animated GIF of a Monte Carlo run (core.orderings.montecarlo.AnnealResult): the energy trace drawn record by
record beside the TM layer, which shows the starting configuration and then the best one found.

The annealer does not expose intermediate configurations (its swap loop runs in compiled code), so
the picture honestly shows only the two configurations that exist: the start and the best result.
"""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QApplication, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from .figures import FigureExportError, render_widget, write_gif
from .layerplot import LayerPlot
from .style import CURVE

HOLD_FRAMES = 8  # frames the final picture stays before the GIF loops


def mc_run_gif(model, result, path, *, duration_ms: int = 80, layer: int = 0, size=(900, 420)):
    """Write the GIF of `result` (AnnealResult of a run on `model`'s supercell) to `path`."""
    trace = np.array([(r.sweep, r.energy, r.best_energy) for r in result.trace], float)
    if not len(trace):
        raise FigureExportError("the Monte Carlo run recorded no progress to animate")
    fu = model.formula_units()
    start_occ = np.asarray(model.occupancy)
    best_occ = np.asarray(result.best_occupancy)

    w = QWidget()
    w.resize(*size)
    w.setStyleSheet("background: white;")
    caption = QLabel()
    layer_plot = LayerPlot()
    plot = pg.PlotWidget(background="w")
    plot.setLabel("bottom", "sweep")
    plot.setLabel("left", "energy", units="eV/MO2")
    plot.addLegend(offset=(-10, 10))
    cur = plot.plot([], [], pen=pg.mkPen(CURVE["current"], width=1.5), name="current")
    best = plot.plot([], [], pen=pg.mkPen(CURVE["best"], width=2), name="best")
    plot.setXRange(0, trace[-1, 0], padding=0.02)
    lo, hi = trace[:, 1:].min() / fu, trace[:, 1:].max() / fu
    pad = 0.05 * (hi - lo or 1.0)
    plot.setYRange(lo - pad, hi + pad, padding=0)
    row = QHBoxLayout()
    row.addWidget(layer_plot, 1)
    row.addWidget(plot, 1)
    col = QVBoxLayout(w)
    col.addWidget(caption)
    col.addLayout(row)
    w.show()
    frames = []
    layer_plot.set_state(model.supercell, start_occ, layer)
    n = len(trace)
    for k in range(1, n + 1 + HOLD_FRAMES):
        upto = min(k, n)
        cur.setData(trace[:upto, 0], trace[:upto, 1] / fu)
        best.setData(trace[:upto, 0], trace[:upto, 2] / fu)
        final = k >= n
        if k == n:
            layer_plot.set_state(model.supercell, best_occ, layer)
        caption.setText(
            f"<b>Monte Carlo</b> ({result.sublattice} sublattice, seed {result.seed}): "
            f"sweep {int(trace[upto - 1, 0])}, best {trace[upto - 1, 2] / fu:.4f} eV/MO2 "
            f"- layer shows {'the best configuration found' if final else 'the start'} "
            "(electrostatic only)")
        QApplication.processEvents()
        frames.append(render_widget(w, 1))
    w.close()
    return write_gif(frames, path, duration_ms=duration_ms)
