"""What the panels draw on the editor's layer view and the 3D view: previews, paths, a moving ion,
oxidised O, a picked site.

Previews never touch the document: the layer view is pointed at a detached model of the same
supercell (geometry unchanged, only colours) and back again, so honeycomb rings and images follow the
previewed state too. Any document edit ends a preview.
"""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QObject

from core.hosts import ALKALI_ROLES, ROLE_O, ROLE_TM


def wrapped_xy(supercell, sites) -> np.ndarray:
    """(n, 2) in-plane Angstrom of sites wrapped into the supercell parallelogram (as the layer view)."""
    xy = supercell.inplane_coords(np.atleast_1d(sites))
    L = supercell.inplane_lattice
    f = xy @ np.linalg.inv(L)
    f -= np.floor(f + 1e-6)
    return f @ L


class LayerOverlay(QObject):
    """Overlay items on a gui.layer_view.LayerView plus preview switching for it and a 3D view."""

    def __init__(self, layer_view, document, view3d=None, parent=None):
        super().__init__(parent)
        self.lv = layer_view
        self.doc = document
        self.view3d = view3d
        self.preview_model = None
        self.path = None
        self._start_xy = None
        lv = layer_view
        self.path_item = pg.PlotDataItem(pen=pg.mkPen((20, 20, 20), width=3.5))
        self.path_item.setZValue(50)
        self.head = pg.ArrowItem(pen=pg.mkPen((20, 20, 20)), brush=(20, 20, 20), headLen=20, tipAngle=36)
        self.head.setZValue(51)
        self.inter_item = pg.ScatterPlotItem(symbol="d", size=14, brush=pg.mkBrush(255, 255, 255),
                                             pen=pg.mkPen((20, 20, 20), width=2), pxMode=True)
        self.inter_item.setZValue(52)
        self.ion_item = pg.ScatterPlotItem(pxMode=True)
        self.ion_item.setZValue(45)  # under the arrow, which must stay readable
        # oxidised O (holes, O-) in gold: O itself is red in every colour scheme
        self.oxo_item = pg.ScatterPlotItem(symbol="o", pxMode=True, brush=pg.mkBrush(255, 200, 0, 235),
                                           pen=pg.mkPen((0, 0, 0), width=2))
        self.oxo_item.setZValue(40)
        self.pick_item = pg.ScatterPlotItem(symbol="o", pxMode=True, brush=None,
                                            pen=pg.mkPen((255, 170, 0), width=4))
        self.pick_item.setZValue(55)
        self.banner = pg.TextItem("", color=(150, 0, 0), anchor=(0, 0))
        self.banner.setZValue(70)
        for item in (self.path_item, self.head, self.inter_item, self.ion_item, self.oxo_item,
                     self.pick_item, self.banner):
            lv.addItem(item)
            item.setVisible(False)
        document.sigSitesChanged.connect(self._doc_edited)
        document.sigModelReplaced.connect(self._doc_replaced)

    # ------------------------------------------------------------------ previews
    def show_preview(self, model, caption: str = "preview (not applied)", oxidised_o=None) -> None:
        """Show `model` (same supercell as the document) in the layer view and 3D view."""
        lv = self.lv
        if model is None:
            self.end_preview()
            return
        if model.supercell is not self.doc.model.supercell:
            raise ValueError("a preview must use the document's supercell")
        self.preview_model = model
        lv.model = model
        lv.recolour_all()
        if self.view3d is not None and hasattr(self.view3d, "set_occupancy"):
            self.view3d.set_occupancy(model.occupancy)
        self._show_oxidised(oxidised_o)
        vb = lv.getPlotItem().getViewBox()
        (x0, _x1), (_y0, y1) = vb.viewRange()
        self.banner.setText(caption)
        self.banner.setPos(x0, y1)
        self.banner.setVisible(True)

    def end_preview(self) -> None:
        if self.preview_model is None:
            return
        self.preview_model = None
        self.lv.model = self.doc.model
        self.lv.recolour_all()
        if self.view3d is not None and hasattr(self.view3d, "set_occupancy"):
            self.view3d.set_occupancy(self.doc.model.occupancy)
        self.oxo_item.setVisible(False)
        self.banner.setVisible(False)

    def _show_oxidised(self, sites) -> None:
        if sites is None or not len(sites):
            self.oxo_item.setVisible(False)
            return
        sc = self.doc.model.supercell
        sites = np.asarray(sites)
        mine = sites[(sc.layer[sites] == self.lv.layer_index) & (sc.role[sites] == ROLE_O)]
        if not len(mine):
            self.oxo_item.setVisible(False)
            return
        xy = wrapped_xy(sc, mine)
        self.oxo_item.setData(pos=xy, size=max(self.lv._spot_px * 0.5, 6.0))
        self.oxo_item.setVisible(True)

    def _doc_edited(self, _sites) -> None:
        # the layer view has just recoloured from whatever model it holds: return it to the document
        if self.preview_model is not None:
            self.end_preview()

    def _doc_replaced(self) -> None:
        self.preview_model = None
        self.set_path(None)
        self.show_pick(None)
        self.oxo_item.setVisible(False)
        self.banner.setVisible(False)

    # ------------------------------------------------------------------ paths and the moving ion
    def _site_xy(self, site: int) -> np.ndarray:
        try:
            return np.array(self.lv.site_xy(site))
        except (ValueError, IndexError):
            return wrapped_xy(self.doc.model.supercell, [site])[0]

    def set_path(self, path) -> None:
        """Draw a core.migration.Path in-plane (arrow through the intermediate site); None hides it."""
        self.path = path
        if path is None:
            for item in (self.path_item, self.head, self.inter_item, self.ion_item):
                item.setVisible(False)
            if self.view3d is not None and hasattr(self.view3d, "set_path"):
                self.view3d.set_path(None)
            return
        start = self._site_xy(path.from_site)
        self._start_xy = start
        pts = start + (path.images[:, :2] - path.images[0, :2])
        self.path_item.setData(pts[:, 0], pts[:, 1])
        d = pts[-1] - pts[-2]
        self.head.setStyle(angle=180 - float(np.degrees(np.arctan2(d[1], d[0]))))
        self.head.setPos(float(pts[-1, 0]), float(pts[-1, 1]))
        mid = (len(pts) - 1) // 2
        if path.intermediate is not None:
            self.inter_item.setData(pos=pts[mid:mid + 1])
            self.inter_item.setVisible(True)
        else:
            self.inter_item.setVisible(False)
        self.path_item.setVisible(True)
        self.head.setVisible(True)
        if self.view3d is not None and hasattr(self.view3d, "set_path"):
            self.view3d.set_path(path.images)

    def path_points(self) -> np.ndarray | None:
        """(k, 2) drawn polyline of the current path (layer-view coordinates), for tests."""
        if self.path is None:
            return None
        x, y = self.path_item.getData()
        return np.column_stack([x, y])

    def move_ion(self, position, code: int) -> None:
        """Put the animated ion at 3D `position` (Angstrom) in both views; None hides it."""
        if position is None or self.path is None:
            self.ion_item.setVisible(False)
            if self.view3d is not None and hasattr(self.view3d, "set_marker"):
                self.view3d.set_marker(None)
            return
        p = np.asarray(position, float)
        xy = self._start_xy + (p[:2] - self.path.images[0, :2])
        style = self.lv._style
        self.ion_item.setData(pos=xy[None, :], size=self.lv._spot_px * 0.9, brush=[style.brushes[code]],
                              pen=pg.mkPen((255, 255, 255), width=3))
        self.ion_item.setVisible(True)
        if self.view3d is not None and hasattr(self.view3d, "set_marker"):
            self.view3d.set_marker(p, code)

    # ------------------------------------------------------------------ picked site
    def show_pick(self, site) -> None:
        """Ring the picked site in the layer view, switching to its layer first."""
        if site is None or site < 0:
            self.pick_item.setVisible(False)
            return
        sc = self.doc.model.supercell
        role = sc.role[site]
        kind = "alkali" if role in ALKALI_ROLES else "tm"
        if role not in (ROLE_TM, ROLE_O) and role not in ALKALI_ROLES:
            return
        if (self.lv.layer_kind, self.lv.layer_index) != (kind, int(sc.layer[site])):
            self.lv.set_layer(kind, int(sc.layer[site]))
        xy = self._site_xy(site) if role != ROLE_O else wrapped_xy(sc, [site])[0]
        self.pick_item.setData(pos=np.asarray(xy)[None, :], size=self.lv._spot_px * 1.5)
        self.pick_item.setVisible(True)


__all__ = ["LayerOverlay", "wrapped_xy"]
