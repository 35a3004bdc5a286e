"""The 2D layer editor: one TM (or alkali) layer of a model as a triangular lattice of coloured discs.

Coordinates are in-plane Cartesian Angstrom (x along a1). The active layer's sites are wrapped into the
supercell parallelogram; periodic images within `IMAGE_MARGIN` lattice constants of the edges are drawn
faded and are clickable (they stand for the same site). Vacancies are open circles.

The view never edits the model: it emits
  sigSiteClicked(site, modifiers)    a left click on a site (palette placement, swap target)
  sigPaintFinished(list)             sites swept by a left drag, in order (one undo step for the caller)
  sigContextRequested(site, QPoint)  right click on a site, global screen position for a menu
  sigSiteHovered(site)               site under the cursor changed (-1: none)
and the owner calls `update_sites(changed)` after edits (recolours only those points, with brushes
shared per species; see gui/colors.py).
"""
from __future__ import annotations

import time

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPoint, QPointF, Qt, Signal
from PySide6.QtWidgets import QLabel

from core.structure.hosts import ALKALI_ROLES, ROLE_O, ROLE_TM
from core.structure.species import CODE, OXYGEN

from .colors import SpeciesStyle, ValueColormap, extra_color, lioli_brushes
from .legend import SpeciesLegend, legend_entries

IMAGE_MARGIN = 1.2      # periodic images shown within this many lattice constants of the cell edges
SPOT = 0.78             # disc diameter as a fraction of the lattice constant a
PICK_RADIUS = 0.55      # clicks farther than this (in units of a) from every site hit nothing
# in-plane nearest-neighbour steps in (a1, a2) units, ordered by angle (for drawing rings)
NN_STEPS = np.array([(1, 0), (1, 1), (0, 1), (-1, 0), (-1, -1), (0, -1)], dtype=float)


class _Dots(pg.ScatterPlotItem):
    """Scatter points that leave every click to the view box (which maps it to a site itself)."""

    def mouseClickEvent(self, ev):
        ev.ignore()


class _EditViewBox(pg.ViewBox):
    """Right click opens the site menu; Shift/middle drag pans and the wheel zooms (pyqtgraph)."""

    def __init__(self, owner: LayerView):
        super().__init__(lockAspect=True, enableMenu=False)
        self._owner = owner

    def mouseClickEvent(self, ev):
        if ev.button() == Qt.RightButton:
            ev.accept()
            sp = ev.screenPos()
            self._owner._right_click(self.mapSceneToView(ev.scenePos()), QPoint(int(sp.x()), int(sp.y())))
        else:
            super().mouseClickEvent(ev)


class LayerView(pg.PlotWidget):
    sigSiteClicked = Signal(int, object)
    sigPaintFinished = Signal(object)
    sigContextRequested = Signal(int, QPoint)
    sigSiteHovered = Signal(int)
    sigLayerChanged = Signal(str, int)   # kind ("tm"/"alkali"), index from 0 of the layer shown

    def __init__(self, parent=None, scheme: str | None = None):
        self._vb = _EditViewBox(self)
        super().__init__(parent, viewBox=self._vb, background="w")
        self.plotItem.hideAxis("left")
        self.plotItem.hideAxis("bottom")
        self.plotItem.hideButtons()
        self.setMinimumSize(300, 300)
        self.model = None
        self.layer_kind = "tm"     # "tm" or "alkali"
        self.layer_index = 0
        self.paint_enabled = True
        self.paint_code = CODE["Mn"]
        self.show_images = True
        self.show_alkali = False   # the neighbouring layer (alkali under a TM view, TM under an alkali view)
        self.show_oxygen = False
        self.show_motif = True
        self.show_cell = False     # the superlattice cell found by core.orderings.superlattice
        self.cell_info = None      # {name, matrix, origin} of the drawn cell, or None
        self.last_update_ms = 0.0
        self._style = SpeciesStyle(scheme)
        self._scheme_name = scheme
        self._faded = SpeciesStyle(scheme, alpha=80)
        self._aux_style = SpeciesStyle(scheme, alpha=110)
        self._cmap = ValueColormap()
        self._site_values = None   # (N,) per-site values for colour-by-value, or None
        self._value_range = (0.0, 1.0)
        self._o_counts = None      # (N,) Li-O-Li counts on O sites, or None
        self._drag_sites: list[int] = []
        self._drag_last = None
        self._hover = -1
        self._spot_px = 10.0
        self._press_pos = None
        self._dragging = False

        self.outline_item = pg.PlotCurveItem(pen=pg.mkPen(extra_color("outline"), width=1.5, style=Qt.DashLine))
        self.oxygen_item = _Dots(pxMode=True, symbol="o")
        self.aux_item = _Dots(pxMode=True, symbol="o")
        self.images_item = _Dots(pxMode=True, symbol="o")
        self.sites_item = _Dots(pxMode=True, symbol="o")
        ring_pen = pg.mkPen(extra_color("motif_ring"), width=2.5)
        self.rings_item = pg.PlotCurveItem(pen=ring_pen, connect="pairs")
        self.cell_item = pg.PlotCurveItem(pen=pg.mkPen("#7a1fa2", width=2.0, style=Qt.DashLine),
                                          connect="pairs")
        self.hover_item = _Dots(pxMode=True, symbol="o", brush=None,
                                             pen=pg.mkPen(extra_color("hover"), width=2.5))
        # rings sit under the discs so they read as the Mn honeycomb net between ring centres
        for z, item in enumerate((self.outline_item, self.oxygen_item, self.aux_item, self.images_item,
                                  self.rings_item, self.sites_item, self.cell_item, self.hover_item)):
            item.setZValue(z)
            self.addItem(item)
        self._vb.sigTransformChanged.connect(self._update_spot_sizes)
        self.legend = QLabel(self)   # colour key of the active overlays (top-left corner)
        self.legend.setStyleSheet("background: rgba(255,255,255,220); border: 1px solid #bbb; padding: 3px;")
        self.legend.move(8, 8)
        self.legend.hide()
        # which colour is which ion (and its oxidation state): part of the scene, so of every export
        self.species_legend = SpeciesLegend(self._vb)
        self.show_species_legend = True
        self._auto_fit = True   # refit the cell on resize until the user zooms or pans
        self._vb.sigRangeChangedManually.connect(self._user_moved)
        self._vb.sigResized.connect(self._vb_resized)
        self.scene().sigMouseMoved.connect(self._mouse_moved)

    # ------------------------------------------------------------------ model and layer
    def set_model(self, model) -> None:
        """Show `model` (rebuilds geometry); keeps the layer choice if it still exists."""
        self.model = model
        self._site_values = None
        self._o_counts = None
        if self.layer_index >= model.supercell.layers:
            self.layer_index = 0
        self._rebuild(autorange=True)
        self.sigLayerChanged.emit(self.layer_kind, self.layer_index)

    def set_layer(self, kind: str, index: int) -> None:
        if kind not in ("tm", "alkali"):
            raise ValueError("layer kind must be 'tm' or 'alkali'")
        self.layer_kind, self.layer_index = kind, int(index)
        self._rebuild(autorange=False)
        self.sigLayerChanged.emit(kind, int(index))

    def layer_roles(self, kind: str | None = None) -> tuple[str, ...]:
        return (ROLE_TM,) if (kind or self.layer_kind) == "tm" else tuple(ALKALI_ROLES)

    @property
    def a(self) -> float:
        return float(self.model.supercell.host.a)

    def _wrapped_xy(self, sites: np.ndarray) -> np.ndarray:
        sc = self.model.supercell
        xy = sc.inplane_coords(sites)
        L = sc.inplane_lattice
        f = xy @ np.linalg.inv(L)
        f -= np.floor(f + 1e-6)
        return f @ L

    def _with_images(self, sites: np.ndarray, xy: np.ndarray):
        """Periodic images of (sites, xy) near the cell: (image_xy (m, 2), image owner index (m,))."""
        L = self.model.supercell.inplane_lattice
        Linv = np.linalg.inv(L)
        margin = IMAGE_MARGIN * self.a / np.linalg.norm(L, axis=1)
        out_xy, out_idx = [], []
        for s0 in (-1, 0, 1):
            for s1 in (-1, 0, 1):
                if s0 == 0 and s1 == 0:
                    continue
                p = xy + s0 * L[0] + s1 * L[1]
                f = p @ Linv
                keep = np.all((f > -margin) & (f < 1 + margin), axis=1)
                out_xy.append(p[keep])
                out_idx.append(np.flatnonzero(keep))
        return np.concatenate(out_xy), np.concatenate(out_idx)

    def _rebuild(self, autorange: bool) -> None:
        sc = self.model.supercell
        self.sites = sc.layer_sites(self.layer_index, self.layer_roles())
        self.xy = self._wrapped_xy(self.sites)
        self.img_xy, self.img_owner = self._with_images(self.sites, self.xy)
        self.img_sites = self.sites[self.img_owner]
        self._slot = -np.ones(sc.n_sites, dtype=np.int64)    # site -> index into self.sites
        self._slot[self.sites] = np.arange(len(self.sites))
        self._pick_xy = np.vstack([self.xy, self.img_xy])
        self._pick_site = np.concatenate([self.sites, self.img_sites])
        # spacing of the displayed points: a in a TM layer, a/sqrt3 in a P2 alkali layer (Na_e + Na_f)
        probe = self._pick_xy[:min(40, len(self.xy))]
        d = np.hypot(*(probe[:, None, :] - self._pick_xy[None, :, :]).transpose(2, 0, 1))
        d[d < 1e-6] = np.inf
        self.spacing = float(min(d.min(), self.a)) if np.isfinite(d.min()) else self.a
        L = sc.inplane_lattice
        corners = np.array([[0, 0], L[0], L[0] + L[1], L[1], [0, 0]])
        self.outline_item.setData(corners[:, 0], corners[:, 1])
        occ = self.model.occupancy
        if autorange:   # fit first, so the points are made once at their final size (~3,000 on 48x48)
            self.sites_item.clear()
            self.images_item.clear()
            self._auto_fit = True
            self.fit()
            self._update_spot_sizes()
        self.sites_item.setData(pos=self.xy, data=self.sites, size=self._spot_px,
                                brush=self._brushes(self.sites), pen=self._style.pens[occ[self.sites]])
        self.images_item.setData(pos=self.img_xy, data=self.img_sites, size=self._spot_px,
                                 brush=self._faded.brushes[occ[self.img_sites]],
                                 pen=self._faded.pens[occ[self.img_sites]])
        self.images_item.setVisible(self.show_images)
        self._rebuild_aux()
        self._rebuild_oxygen()
        self._update_motif_items()
        self._update_species_legend()
        self.hover_item.clear()
        self._hover = -1
        self._update_spot_sizes()   # the items above were made at self._spot_px

    def fit(self) -> None:
        """Zoom so the whole cell and its image margin fill the view."""
        L = self.model.supercell.inplane_lattice
        corners = np.array([[0, 0], L[0], L[0] + L[1], L[1]])
        pad = 0.8 * self.a
        lo = corners.min(axis=0) - pad
        hi = corners.max(axis=0) + pad
        self._vb.setRange(xRange=(lo[0], hi[0]), yRange=(lo[1], hi[1]), padding=0)

    def _user_moved(self, *_):
        self._auto_fit = False

    def _vb_resized(self, *_):
        if self._auto_fit and self.model is not None:
            self.fit()

    def _rebuild_aux(self) -> None:
        if not self.show_alkali:
            self.aux_item.clear()
            self.aux_item.setVisible(False)
            return
        other = "alkali" if self.layer_kind == "tm" else "tm"
        sc = self.model.supercell
        self.aux_sites = sc.layer_sites(self.layer_index, self.layer_roles(other))
        xy = self._wrapped_xy(self.aux_sites)
        occ = self.model.occupancy[self.aux_sites]
        self.aux_item.setData(pos=xy, size=self._spot_px * 0.55, brush=self._aux_style.brushes[occ],
                              pen=self._aux_style.pens[occ])
        self.aux_item.setVisible(True)

    def _rebuild_oxygen(self) -> None:
        if not self.show_oxygen:
            self.oxygen_item.clear()
            self.oxygen_item.setVisible(False)
            return
        sc = self.model.supercell
        self.o_sites = sc.layer_sites(self.layer_index, (ROLE_O,))
        xy = self._wrapped_xy(self.o_sites)
        self.oxygen_item.setData(pos=xy, size=self._spot_px * 0.45, brush=self._oxygen_brushes(),
                                 pen=pg.mkPen((60, 60, 60), width=1))
        self.oxygen_item.setVisible(True)

    def _oxygen_brushes(self):
        if self._o_counts is not None:
            counts = np.clip(self._o_counts[self.o_sites], 0, 3).astype(int)
            return np.array(lioli_brushes(), dtype=object)[counts]
        return self._style.brushes[np.full(len(self.o_sites), OXYGEN)]

    # ------------------------------------------------------------------ colouring
    def _brushes(self, sites: np.ndarray) -> np.ndarray:
        if self._site_values is not None:
            return self._cmap.brushes_for(self._site_values[sites], *self._value_range)
        return self._style.brushes[self.model.occupancy[sites]]

    def update_sites(self, changed) -> None:
        """Recolour the points of `changed` site indices (those not in this layer are ignored)."""
        t0 = time.perf_counter()
        changed = np.asarray(changed, dtype=np.int64)
        if self.model is None or not len(changed):
            return
        occ = self.model.occupancy
        slots = self._slot[changed]
        slots = slots[slots >= 0]
        if len(slots):
            sites = self.sites[slots]
            self._restyle(self.sites_item, slots, self._brushes(sites), self._style.pens[occ[sites]])
            if self.show_images:
                img = np.flatnonzero(np.isin(self.img_owner, slots))
                if len(img):
                    s = self.img_sites[img]
                    self._restyle(self.images_item, img, self._faded.brushes[occ[s]], self._faded.pens[occ[s]])
            self._update_motif_items()
        if self.show_alkali and self.aux_item.isVisible():
            if np.isin(changed, self.aux_sites).any():
                self._rebuild_aux()
        self._update_species_legend()
        self.last_update_ms = (time.perf_counter() - t0) * 1e3

    @staticmethod
    def _restyle(item: pg.ScatterPlotItem, idx: np.ndarray, brushes, pens) -> None:
        """Change brush/pen of points idx in place: only those points get new atlas lookups."""
        data = item.data
        b = data["brush"]
        p = data["pen"]
        for k, i in enumerate(idx.tolist()):
            b[i] = brushes[k]
            p[i] = pens[k]
        data["sourceRect"][idx] = (0, 0, 0, 0)
        item.updateSpots(data)

    def recolour_all(self) -> None:
        occ = self.model.occupancy
        self.sites_item.setBrush(list(self._brushes(self.sites)), update=False)
        self.sites_item.setPen(list(self._style.pens[occ[self.sites]]))
        self.images_item.setBrush(list(self._faded.brushes[occ[self.img_sites]]), update=False)
        self.images_item.setPen(list(self._faded.pens[occ[self.img_sites]]))
        self._rebuild_aux()
        self._rebuild_oxygen()
        self._update_motif_items()

    def set_scheme(self, scheme: str) -> None:
        self._style = SpeciesStyle(scheme)
        self._scheme_name = scheme
        self._faded = SpeciesStyle(scheme, alpha=80)
        self._aux_style = SpeciesStyle(scheme, alpha=110)
        if self.model is not None:
            self.recolour_all()

    def set_site_values(self, values, vrange=None) -> None:
        """Colour the active layer by per-site values (N,) (e.g. site energies in eV); None: by species.

        The colour range defaults to the min/max over the displayed sites."""
        if values is None:
            self._site_values = None
        else:
            values = np.asarray(values, dtype=float)
            shown = values[self.sites]
            self._value_range = vrange or (float(shown.min()), float(shown.max()))
            self._site_values = values
        self.recolour_all()
        self._update_legend()

    def set_oxygen_counts(self, counts) -> None:
        """Colour O sites by their Li-O-Li axis count (N,) int (0..3); None: plain O colour."""
        self._o_counts = None if counts is None else np.asarray(counts)
        if self.show_oxygen:
            self.oxygen_item.setBrush(list(self._oxygen_brushes()))
        self._update_legend()

    def _update_legend(self) -> None:
        from .layer_export import legend_html
        html = legend_html(self._site_values is not None and self._value_range, self._cmap,
                           self._o_counts is not None and self.show_oxygen)
        self.legend.setVisible(bool(html))
        if html:
            self.legend.setText(html)
            self.legend.adjustSize()

    def _update_species_legend(self) -> None:
        """Species of the shown layer (and the neighbouring layer / O when those are drawn)."""
        if self.model is None or not self.show_species_legend:
            self.species_legend.setVisible(False)
            return
        sites = self.sites
        if self.show_alkali and getattr(self, "aux_sites", None) is not None and self.aux_item.isVisible():
            sites = np.concatenate([sites, self.aux_sites])
        self.species_legend.set_entries(legend_entries(self.model, sites, with_oxygen=self.show_oxygen),
                                        self._scheme_name)

    def set_species_legend(self, on: bool) -> None:
        self.show_species_legend = bool(on)
        self._update_species_legend()

    def set_toggles(self, *, images=None, alkali=None, oxygen=None, motif=None, cell=None) -> None:
        if images is not None:
            self.show_images = bool(images)
            self.images_item.setVisible(self.show_images)
            if self.show_images:
                self.recolour_all()
        if alkali is not None:
            self.show_alkali = bool(alkali)
            self._rebuild_aux()
        if oxygen is not None:
            self.show_oxygen = bool(oxygen)
            self._rebuild_oxygen()
        if motif is not None:
            self.show_motif = bool(motif)
            self._update_motif_items()
        if cell is not None:
            self.show_cell = bool(cell)
            self._update_cell()
        self._update_species_legend()
        self._update_spot_sizes(force=True)

    # ------------------------------------------------------------------ motif rings
    def ring_centres(self) -> np.ndarray:
        """Sites of the displayed layer at the centre of a LiMn6-type ring (core.orderings.recognition)."""
        from core.orderings.recognition import ring_centres
        return ring_centres(self.model, self.sites)

    def _update_motif_items(self) -> None:
        self._update_rings()
        self._update_cell()

    def _update_cell(self) -> None:
        """Draw the smallest superlattice in which the displayed TM layer repeats (its basis cell from
        the layer's first minority site, and the net of that cell over the supercell, thinner)."""
        self.cell_info = None
        if not self.show_cell or self.model is None or self.layer_kind != "tm":
            self.cell_item.setData([], [])
            return
        from core.orderings.superlattice import layer_net
        net = layer_net(self.model, self.sites)
        if net is None:
            self.cell_item.setData([], [])
            return
        pts = self.xy[net["points"]]                                           # lattice points of the net
        u, v = net["basis"]
        seg = np.stack([pts, pts + u, pts, pts + v], axis=1).reshape(-1, 2)
        self.cell_item.setData(seg[:, 0], seg[:, 1], connect="pairs")
        self.cell_info = {"name": net["name"], "matrix": net["matrix"], "origin": net["origin"],
                          "lattice_points": int(len(pts))}

    def _update_rings(self) -> None:
        if not self.show_motif or self.model is None:
            self.rings_item.setData([], [])
            return
        centre = np.zeros(self.model.supercell.n_sites, dtype=bool)
        centre[self.ring_centres()] = True
        pts = self.xy[centre[self.sites]]   # primary copies only: rings on images clutter the edges
        if not len(pts):
            self.rings_item.setData([], [])
            return
        h = self.model.supercell.host
        steps = NN_STEPS @ np.array([h.a1[:2], h.a2[:2]])          # (6, 2) Angstrom
        v0 = pts[:, None, :] + steps[None, :, :]                   # (n, 6, 2)
        v1 = np.roll(v0, -1, axis=1)
        seg = np.stack([v0, v1], axis=2).reshape(-1, 2)            # pairs of segment ends
        self.rings_item.setData(seg[:, 0], seg[:, 1], connect="pairs")

    # ------------------------------------------------------------------ picking
    def site_at(self, pos) -> int:
        """Site index under the data point `pos` (QPointF or (x, y) Angstrom), or -1."""
        if self.model is None:
            return -1
        x, y = (pos.x(), pos.y()) if hasattr(pos, "x") else pos
        d2 = (self._pick_xy[:, 0] - x) ** 2 + (self._pick_xy[:, 1] - y) ** 2
        k = int(np.argmin(d2))
        return int(self._pick_site[k]) if d2[k] <= (PICK_RADIUS * self.spacing) ** 2 else -1

    def site_xy(self, site: int) -> tuple[float, float]:
        """Displayed (x, y) of a site of the active layer (the primary copy, not an image)."""
        slot = self._slot[site]
        if slot < 0:
            raise ValueError(f"site {site} is not in the displayed layer")
        return float(self.xy[slot, 0]), float(self.xy[slot, 1])

    def viewport_pos(self, site: int) -> QPoint:
        """Viewport pixel position of a site (for tests and tooltips)."""
        x, y = self.site_xy(site)
        scene = self._vb.mapViewToScene(QPointF(x, y))
        return self.mapFromScene(scene)

    def _left_click(self, pos, modifiers) -> None:
        site = self.site_at(pos)
        if site >= 0:
            self.sigSiteClicked.emit(site, modifiers)

    def _right_click(self, pos, screen_pos: QPoint) -> None:
        site = self.site_at(pos)
        if site >= 0:
            self.sigContextRequested.emit(site, screen_pos)

    def _drag_begin(self, pos) -> None:
        self._drag_sites = []
        self._drag_last = (pos.x(), pos.y())
        self._drag_add(self.site_at(pos))

    def _drag_to(self, pos) -> None:
        if self._drag_last is None:
            return
        # sample the segment so a fast drag does not skip sites
        x0, y0 = self._drag_last
        x1, y1 = pos.x(), pos.y()
        n = max(1, int(np.hypot(x1 - x0, y1 - y0) / (0.3 * self.a)))
        for t in np.linspace(0, 1, n + 1)[1:]:
            self._drag_add(self.site_at((x0 + t * (x1 - x0), y0 + t * (y1 - y0))))
        self._drag_last = (x1, y1)

    def _drag_add(self, site: int) -> None:
        if site < 0 or (self._drag_sites and self._drag_sites[-1] == site) or site in self._drag_sites:
            return
        self._drag_sites.append(site)
        self._preview(site)

    def _preview(self, site: int) -> None:
        """Show the paint colour on a swept site before the edit is committed on release."""
        slot = self._slot[site]
        if slot < 0:
            return
        code = self.paint_code
        self._restyle(self.sites_item, np.array([slot]), [self._style.brushes[code]], [self._style.pens[code]])

    def _drag_end(self) -> None:
        sites, self._drag_sites, self._drag_last = self._drag_sites, [], None
        if sites:
            self.sigPaintFinished.emit(sites)
            # if the owner did not commit (e.g. nothing changed), drop the preview colours
            self.update_sites(np.array(sites))

    # ------------------------------------------------------------------ left button: click and paint
    # Handled at the view (widget) level, before pyqtgraph's scene dispatch: the scene would look for
    # items under the cursor and send hover events (10-20 ms on a 24x24 layer), which we do not need
    # since the site under the cursor is a nearest-point lookup.
    def _paint_gesture(self, ev) -> bool:
        return (ev.button() == Qt.LeftButton and self.paint_enabled and self.model is not None
                and not (ev.modifiers() & Qt.ShiftModifier))

    def _data_pos(self, vp_pos) -> QPointF:
        return self._vb.mapSceneToView(self.mapToScene(vp_pos.toPoint()))

    def mousePressEvent(self, ev):
        if self._paint_gesture(ev):
            self._press_pos = ev.position()
            self._dragging = False
            ev.accept()
            return
        self._press_pos = None
        super().mousePressEvent(ev)

    def mouseMoveEvent(self, ev):
        press = self.__dict__.get("_press_pos")
        if press is not None and ev.buttons() & Qt.LeftButton:
            if not self._dragging and (ev.position() - press).manhattanLength() > 4:
                self._dragging = True
                self._drag_begin(self._data_pos(press))
            if self._dragging:
                self._drag_to(self._data_pos(ev.position()))
            ev.accept()
            return
        super().mouseMoveEvent(ev)

    def mouseReleaseEvent(self, ev):
        press = self.__dict__.get("_press_pos")
        if press is not None and ev.button() == Qt.LeftButton:
            self._press_pos = None
            if self._dragging:
                self._drag_to(self._data_pos(ev.position()))
                self._drag_end()
            else:
                self._left_click(self._data_pos(ev.position()), ev.modifiers())
            ev.accept()
            return
        super().mouseReleaseEvent(ev)

    # ------------------------------------------------------------------ hover
    def leaveEvent(self, ev):
        super().leaveEvent(ev)
        if self.__dict__.get("_hover", -1) >= 0:
            self._hover = -1
            self.hover_item.clear()
            self.sigSiteHovered.emit(-1)

    def _mouse_moved(self, scene_pos) -> None:
        if self.model is None:
            return
        site = self.site_at(self._vb.mapSceneToView(scene_pos))
        if site != self._hover:
            self._hover = site
            self._show_hover(site)
            self.sigSiteHovered.emit(site)

    def _show_hover(self, site: int) -> None:
        if site < 0 or self._slot[site] < 0:
            self.hover_item.clear()
            return
        h = self.model.supercell.host
        x, y = self.site_xy(site)
        steps = NN_STEPS @ np.array([h.a1[:2], h.a2[:2]])
        pts = np.vstack([[x, y], np.array([x, y]) + steps])
        sizes = np.array([self._spot_px * 1.25] + [self._spot_px * 1.05] * 6)
        self.hover_item.setData(pos=pts, size=sizes)

    # ------------------------------------------------------------------ sizes and export
    def _update_spot_sizes(self, *args, force: bool = False) -> None:
        if self.model is None:
            return
        px = self._vb.viewPixelSize()[0]
        if not np.isfinite(px) or px <= 0:
            return
        size = float(np.clip(SPOT * self.__dict__.get("spacing", self.a) / px, 3.0, 200.0))
        if not force and abs(size - self._spot_px) < 0.5:
            return
        self._spot_px = size
        self.sites_item.setSize(size)
        self.images_item.setSize(size)
        if self.aux_item.isVisible():
            self.aux_item.setSize(size * 0.55)
        if self.oxygen_item.isVisible():
            self.oxygen_item.setSize(size * 0.45)
        if self._hover >= 0:
            self._show_hover(self._hover)
