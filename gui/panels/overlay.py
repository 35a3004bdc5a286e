"""What the panels draw on the editor's layer view and the 3D view: previews, paths, a moving ion,
oxidised O, the O-hole map (O coloured by a force field's magnetic moment, with a colour bar), a picked site.

Previews never touch the document: the layer view is pointed at a detached model of the same
supercell (geometry unchanged, only colours) and back again, so honeycomb rings and images follow the
previewed state too; a preview of another supercell (a screening result) rebuilds the views and is
read-only. The editor's site-energy and Li-O-Li colourings follow through
EditController.refresh_overlays, called by the panel host once the views have switched. Any document
edit ends a preview.
"""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtWidgets import QLabel

from core.structure.hosts import ALKALI_ROLES, ROLE_O, ROLE_TM

#: Colour scale of the O-hole map: |moment| in muB from 0 (O2-) to 1 (one O 2p hole, O-).
O_MOMENT_RANGE = (0.0, 1.0)
O_MOMENT_LEVELS = 16


def o_moment_colours(moments, levels: int = O_MOMENT_LEVELS) -> np.ndarray:
    """(n, 4) uint8 RGBA of O moments (muB) on the O-hole colour scale, quantised to `levels` steps (a few
    shared brushes draw much faster than one per point)."""
    lo, hi = O_MOMENT_RANGE
    t = np.clip((np.abs(np.asarray(moments, float)) - lo) / (hi - lo), 0.0, 1.0)
    t = np.round(t * (levels - 1)) / (levels - 1)
    return o_moment_map().map(t, mode="byte")


def o_moment_map():
    return pg.colormap.get("CET-L3")   # perceptually uniform black-red-yellow-white (heat)


def wrapped_xy(supercell, sites) -> np.ndarray:
    """(n, 2) in-plane Angstrom of sites wrapped into the supercell parallelogram (as the layer view)."""
    xy = supercell.inplane_coords(np.atleast_1d(sites))
    L = supercell.inplane_lattice
    f = xy @ np.linalg.inv(L)
    f -= np.floor(f + 1e-6)
    return f @ L


class _CornerLabel(QLabel):
    """A text pinned to a corner of a widget (follows its resizes)."""

    def __init__(self, host, corner: str, style: str, bold: bool = False):
        super().__init__(host)
        self.corner = corner
        self.bold = bold
        self.setStyleSheet(style + " padding: 3px 6px; border-radius: 3px;")
        self.setAttribute(Qt.WA_TransparentForMouseEvents)
        self.hide()
        host.installEventFilter(self)

    def show_text(self, text: str | None, point_size: float | None = None) -> None:
        if not text:
            self.hide()
            return
        f = self.font()
        f.setBold(self.bold)
        if point_size:
            f.setPointSizeF(point_size)
        self.setFont(f)
        self.setText(text)
        self._fit()
        self._place()
        self.show()
        self.raise_()

    def _fit(self) -> None:
        """As wide as the longest line, at most the host's width (then wrapped)."""
        fm = self.fontMetrics()
        longest = max((fm.horizontalAdvance(t) for t in self.text().split("\n")), default=0)
        room = max(self.parentWidget().width() - 12, 100)
        w = min(longest + 24, room)
        self.setWordWrap(longest + 24 > room)  # wrap only when the longest line cannot fit
        self.setFixedWidth(w)
        self.setFixedHeight(self.heightForWidth(w) if self.heightForWidth(w) > 0 else fm.height() + 8)

    def _place(self) -> None:
        host = self.parentWidget()
        x = 6 if self.corner == "top-left" else host.width() - self.width() - 6
        self.move(max(x, 0), 6)

    def eventFilter(self, obj, ev):  # noqa: N802
        if ev.type() == QEvent.Resize and self.isVisible():
            self._fit()
            self._place()
        return False


class LayerOverlay(QObject):
    """Overlay items on a gui.layer_view.LayerView plus preview switching for it and a 3D view."""

    def __init__(self, layer_view, document, view3d=None, parent=None):
        super().__init__(parent)
        self.lv = layer_view
        self.doc = document
        self.view3d = view3d
        self.preview_model = None
        self.foreign = False       # the preview has another supercell than the document
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
        self.o_moment_item = pg.ScatterPlotItem(symbol="o", pxMode=True, pen=pg.mkPen((40, 40, 40), width=1.2))
        self.o_moment_item.setZValue(41)
        self.o_moment_bar = pg.ColorBarItem(values=O_MOMENT_RANGE, colorMap=o_moment_map(), interactive=False,
                                            width=14, label="O moment (μB)")
        self.o_moments = None          # (sites (k,), moments (k,) muB) of the O-hole map, or None
        self._o_layer = None
        self.pick_item = pg.ScatterPlotItem(symbol="o", pxMode=True, brush=None,
                                            pen=pg.mkPen((255, 170, 0), width=4))
        self.pick_item.setZValue(55)
        # texts stay in widget pixels (not data coordinates), so zoom and full screen keep them in place
        self.banner = _CornerLabel(lv, "top-left", "color: #960000; background: rgba(255,255,255,200);")
        self.banner.setObjectName("previewBanner")   # figure export leaves it out unless asked
        self.caption = _CornerLabel(lv, "top-right", "color: #141414; background: rgba(255,255,255,210);",
                                    bold=True)
        for item in (self.path_item, self.head, self.inter_item, self.ion_item, self.oxo_item,
                     self.o_moment_item, self.pick_item):
            lv.addItem(item)
            item.setVisible(False)
        lv.sites_item.sigPlotChanged.connect(self._layer_redrawn)   # a layer change redraws the sites
        document.sigSitesChanged.connect(self._doc_edited)
        document.sigModelReplaced.connect(self._doc_replaced)

    # ------------------------------------------------------------------ previews
    def show_preview(self, model, caption: str = "preview (not applied)", oxidised_o=None) -> None:
        """Show `model` in the layer view and 3D view. A model of another supercell than the document's
        (a screening result) rebuilds the views' geometry and makes the layer view read-only until the
        preview ends: its sites are not the document's."""
        lv = self.lv
        if model is None:
            self.end_preview()
            return
        if self.foreign:
            self._end_foreign()
        self.preview_model = model
        if model.supercell is not self.doc.model.supercell:
            self.foreign = True
            lv.paint_enabled = False
            lv.blockSignals(True)       # no click, paint or hover reaches the document
            lv.set_model(model)
            if self.view3d is not None and hasattr(self.view3d, "set_model"):
                self.view3d.set_model(model)
        else:
            lv.model = model
            lv.recolour_all()
            if self.view3d is not None and hasattr(self.view3d, "set_occupancy"):
                self.view3d.set_occupancy(model.occupancy)
        self._show_oxidised(oxidised_o)
        self.banner.show_text(caption)

    def end_preview(self) -> None:
        if self.preview_model is None:
            return
        self.preview_model = None
        if self.foreign:
            self._end_foreign()
        else:
            self.lv.model = self.doc.model
            self.lv.recolour_all()
            if self.view3d is not None and hasattr(self.view3d, "set_occupancy"):
                self.view3d.set_occupancy(self.doc.model.occupancy)
        self.oxo_item.setVisible(False)
        self.banner.show_text(None)

    def _end_foreign(self) -> None:
        """The document back in views that showed a model of another supercell."""
        self.foreign = False
        self.lv.blockSignals(False)
        self.lv.paint_enabled = True
        self.lv.set_model(self.doc.model)
        if self.view3d is not None and hasattr(self.view3d, "set_model"):
            self.view3d.set_model(self.doc.model)

    def set_caption(self, text: str | None, point_size: float = 22.0) -> None:
        """A large caption in the top-right corner of the layer view (None/empty hides it)."""
        self.caption.show_text(text, point_size)

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

    # ------------------------------------------------------------------ O-hole map
    def show_o_moments(self, sites, moments) -> None:
        """Colour O `sites` (k,) by their moments (k,) muB in the layer view (those of the shown layer) and
        the 3D view, with a colour bar; None hides the map."""
        if sites is None or moments is None or not len(sites):
            self.o_moments = None
            self.o_moment_item.setVisible(False)
            self._show_bar(False)
            if self.view3d is not None and hasattr(self.view3d, "set_site_colours"):
                self.view3d.set_site_colours(None, None)
            return
        self.o_moments = (np.asarray(sites, np.int64), np.asarray(moments, float))
        self._draw_o_moments()
        self._show_bar(True)
        if self.view3d is not None and hasattr(self.view3d, "set_site_colours"):
            self.view3d.set_site_colours(self.o_moments[0], o_moment_colours(self.o_moments[1]) / 255.0,
                                         self.doc.model.supercell)

    def _draw_o_moments(self) -> None:
        sites, moments = self.o_moments
        sc = self.doc.model.supercell
        mine = (sc.layer[sites] == self.lv.layer_index) & (sc.role[sites] == ROLE_O)
        self._o_layer = self._layer_key()
        if not mine.any() or self.lv.model.supercell is not sc:   # a preview of another supercell is shown
            self.o_moment_item.setVisible(False)
            return
        rgba = o_moment_colours(moments[mine])
        table = {}
        brushes = [table.setdefault(tuple(c), pg.mkBrush(*c)) for c in rgba]
        self.o_moment_item.setData(pos=wrapped_xy(sc, sites[mine]), size=max(self.lv._spot_px * 0.45, 7.0),
                                   brush=brushes, data=sites[mine])
        self.o_moment_item.setVisible(True)

    def o_moment_brushes(self) -> np.ndarray:
        """(k, 4) uint8 RGBA of the O-hole map points drawn in the layer view (for tests)."""
        if not self.o_moment_item.isVisible():
            return np.zeros((0, 4), np.uint8)
        return np.array([b.color().getRgb() for b in self.o_moment_item.data["brush"]], np.uint8)

    def _show_bar(self, on: bool) -> None:
        layout = self.lv.plotItem.layout
        present = any(layout.itemAt(i) is self.o_moment_bar for i in range(layout.count()))
        if on and not present:
            layout.addItem(self.o_moment_bar, 2, 5)
            self.o_moment_bar.setVisible(True)
        elif not on and present:
            layout.removeItem(self.o_moment_bar)
            self.o_moment_bar.setVisible(False)

    def _layer_key(self) -> tuple:
        return (id(self.lv.model.supercell), self.lv.layer_kind, self.lv.layer_index)

    def _layer_redrawn(self, *_args) -> None:
        if self.o_moments is not None and self._o_layer != self._layer_key():
            self._draw_o_moments()

    def _doc_edited(self, _sites) -> None:
        # the layer view has just recoloured from whatever model it holds: return it to the document
        if self.preview_model is not None:
            self.end_preview()

    def _doc_replaced(self) -> None:
        self.preview_model = None
        self.set_path(None)
        self.show_pick(None)
        self.oxo_item.setVisible(False)
        self.show_o_moments(None, None)
        self.banner.show_text(None)

    # ------------------------------------------------------------------ paths and the moving ion
    def _site_xy(self, site: int) -> np.ndarray:
        try:
            return np.array(self.lv.site_xy(site))
        except (ValueError, IndexError):
            return wrapped_xy(self.doc.model.supercell, [site])[0]

    def set_path(self, path) -> None:
        """Draw a core.migration.search.Path in-plane (arrow through the intermediate site); None hides it."""
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
