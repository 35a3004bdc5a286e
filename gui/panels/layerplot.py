"""A read-only picture of one TM layer of any occupancy (compare mode, GIF frames, thumbnails).

The editor's layer view is bound to the document; these pictures show states that are *not* the
document (snapshots, Monte Carlo results), so they take an occupancy array instead.
"""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor, QPen

from core.structure.hosts import ROLE_TM
from core.structure.species import SPECIES, VACANCY

from .overlay import wrapped_xy
from .style import species_rgba

SPOT = 0.78  # disc diameter / lattice constant a (as in the editor's layer view)


def _brush_tables():
    rgba = (species_rgba() * 255).astype(int)
    brushes, pens = [], []
    for code in range(len(SPECIES)):
        col = QColor(*rgba[code])
        if code == VACANCY:
            brushes.append(QBrush(Qt.NoBrush))
            pen = QPen(col, 2.0)
        else:
            brushes.append(QBrush(col))
            pen = QPen(QColor(40, 40, 40), 1.0)
        pen.setCosmetic(True)
        pens.append(pen)
    return np.array(brushes, dtype=object), np.array(pens, dtype=object)


class LayerPlot(pg.PlotWidget):
    """One TM layer (sites coloured by species) of `supercell` for a given occupancy.

    `set_state(supercell, occupancy, layer=0)`; `set_arrow(points (k, 2) Angstrom or None)` draws a
    polyline with an arrow head; `set_marker(xy or None, code)` draws a moving ion.
    """

    def __init__(self, parent=None, symbol_size: float = 0.0, title: str | None = None):
        super().__init__(parent, background="w")
        self.setAspectLocked(True)
        self.hideAxis("left")
        self.hideAxis("bottom")
        self.setMenuEnabled(False)
        self.setMouseEnabled(False, False)
        if title:
            self.setTitle(title, color="k", size="12pt")
        self.symbol_size = symbol_size
        self._brushes, self._pens = _brush_tables()
        self.scatter = pg.ScatterPlotItem(pxMode=True)
        self.addItem(self.scatter)
        self.outline = pg.PlotDataItem(pen=pg.mkPen((60, 60, 60), width=1.5))
        self.addItem(self.outline)
        self.path = pg.PlotDataItem(pen=pg.mkPen((0, 0, 0), width=3))
        self.addItem(self.path)
        self.head = pg.ArrowItem(pen=None, brush=(0, 0, 0), headLen=18, tipAngle=35)
        self.head.setVisible(False)
        self.addItem(self.head)
        self.marker = pg.ScatterPlotItem(pxMode=True)
        self.addItem(self.marker)
        self.legend = None          # a species key, once set_state is given the oxidation states
        self.sites = np.zeros(0, np.int64)
        self._a = 0.0
        self._px = 10.0
        self.getPlotItem().getViewBox().sigResized.connect(self._auto_size)
        self.getPlotItem().getViewBox().sigRangeChanged.connect(self._auto_size)

    def _auto_size(self, *args) -> None:
        size = self.symbol_size
        if not size and self._a:
            px = self.getPlotItem().getViewBox().viewPixelSize()[0]
            size = float(np.clip(SPOT * self._a / px, 3.0, 200.0)) if np.isfinite(px) and px > 0 else 10.0
        self.scatter.setSize(size or 10.0)
        self._px = size or 10.0

    def set_state(self, supercell, occupancy: np.ndarray, layer: int = 0, oxidation: dict | None = None) -> None:
        """Draw TM layer `layer` of `supercell` with `occupancy` (N,); with `oxidation` (species ->
        formal charge) a species key with oxidation states is shown in the bottom-right corner."""
        sites = supercell.layer_sites(layer, roles=(ROLE_TM,))
        self.sites = sites
        xy = wrapped_xy(supercell, sites)
        codes = np.asarray(occupancy)[sites]
        self._a = float(supercell.host.a)
        self.scatter.setData(x=xy[:, 0], y=xy[:, 1], size=self._px, brush=self._brushes[codes],
                             pen=self._pens[codes], data=sites)
        a, b = supercell.inplane_lattice
        corners = np.array([[0, 0], a, a + b, b, [0, 0]])
        # sites are wrapped into the parallelogram that starts at the origin (as in the layer view)
        self.outline.setData(corners[:, 0], corners[:, 1])
        self.getPlotItem().getViewBox().autoRange(padding=0.08)
        self._auto_size()
        if oxidation is not None:
            from types import SimpleNamespace

            from ..legend import SpeciesLegend, legend_entries
            if self.legend is None:
                self.legend = SpeciesLegend(self.getPlotItem().getViewBox())
            state = SimpleNamespace(occupancy=np.asarray(occupancy), oxidation=oxidation)
            self.legend.set_entries(legend_entries(state, sites))

    def set_arrow(self, points) -> None:
        """Polyline through `points` (k, 2) Angstrom with an arrow head at the end; None hides it."""
        if points is None or len(points) < 2:
            self.path.setData([], [])
            self.head.setVisible(False)
            return
        p = np.asarray(points, float)
        self.path.setData(p[:, 0], p[:, 1])
        d = p[-1] - p[-2]
        # ArrowItem points along its angle; 180 deg = pointing right
        self.head.setStyle(angle=180 - np.degrees(np.arctan2(d[1], d[0])))
        self.head.setPos(p[-1, 0], p[-1, 1])
        self.head.setVisible(True)

    def set_marker(self, xy, code: int = 1) -> None:
        if xy is None:
            self.marker.setData([], [])
            return
        self.marker.setData([xy[0]], [xy[1]], size=self._px * 1.2, brush=self._brushes[code],
                            pen=pg.mkPen((0, 0, 0), width=2.5))
