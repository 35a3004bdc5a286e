"""The panel host: creates the analysis panels of one main window, docks them, adds their menu
entries and wires them to the document (see gui.panels for the window contract it uses).
"""
from __future__ import annotations

from PySide6.QtCore import QObject, Qt, QTimer
from PySide6.QtWidgets import QDialog, QFileDialog, QHBoxLayout, QMessageBox, QToolButton, QVBoxLayout, QWidget

from core.analysis.snapshots import with_state
from core.errors import LayerStudioError

from ..document import Preview
from . import snapshots as snap
from .charge_panel import ChargePanel, species_mean_oxidation
from .enumerate_panel import EnumeratePanel
from .figures import SCALE, animate, export_figure
from .labmode import CompareView, LabMode, SnapshotPanel
from .mc_panel import MonteCarloPanel
from .migration_panel import MigrationPanel
from .mlip_panel import ForceFieldPanel, attach_readout
from .overlay import LayerOverlay
from .view3d import fallback_label, make_view3d, prepare_view3d
from .visibility import on_screen
from .xrd_panel import XRDPanel


class PanelHost(QObject):
    """Owns the panels of one main window and wires them to its document and views.

    The window provides the contract listed in gui.panels (docks, menus, status bar, the layer view);
    the panels themselves get the document and the runner only, and talk to each other through the
    document's displayed state (`Document.show_preview`) and signals wired here.
    """

    def __init__(self, window):
        super().__init__(window)
        self.window = window
        self.doc = doc = window.document
        self.layer_view = window.layer_view
        runner = window.runner
        # The OpenGL view is made the first time its tab is on screen: an OpenGL widget anywhere in the window
        # makes Qt compose the whole window through OpenGL (llvmpipe under Xvfb), which doubled the cost of
        # every repaint (a click on 24x24: 18 -> 51 ms) for users who never open the 3D view.
        reason = prepare_view3d()
        self.has_3d = reason is None
        self._view3d = None if self.has_3d else fallback_label(reason)
        self.overlay = LayerOverlay(self.layer_view, doc, None, self)
        self.mc = MonteCarloPanel(doc, runner)
        self.enumerate = EnumeratePanel(doc, runner)
        self.migration = MigrationPanel(doc, runner)
        self.charge = ChargePanel(doc, runner)
        self.xrd = XRDPanel(doc, runner)
        self.snapshots = SnapshotPanel(doc)
        files = getattr(window, "files", None)
        self.forcefield = ForceFieldPanel(doc, runner, self.migration, self.mc,
                                          open_path=getattr(files, "open_path", None))
        self.compare_dialog = None
        self.compare_view = None

        add = window.add_dock
        self.docks = {
            "mc": add(self.mc, "Monte Carlo", Qt.RightDockWidgetArea, "monte_carlo"),
            "enumerate": add(self.enumerate, "Enumerate", Qt.RightDockWidgetArea, "enumerate"),
            "migration": add(self.migration, "Migration paths", Qt.RightDockWidgetArea, "migration"),
            "charge": add(self.charge, "State of charge", Qt.RightDockWidgetArea, "state_of_charge"),
            "xrd": add(self.xrd, "Simulated XRD", Qt.RightDockWidgetArea, "xrd"),
            "snapshots": add(self.snapshots, "Snapshots", Qt.RightDockWidgetArea, "snapshots"),
            "forcefield": add(self.forcefield, "Force field", Qt.RightDockWidgetArea, "force_field"),
            "view3d": add(self._view3d_panel(), "3D view", Qt.LeftDockWidgetArea, "view3d"),
        }
        readouts_dock = window.docks.get("readouts")
        first = self.docks["mc"]
        if readouts_dock is not None:
            window.tabifyDockWidget(readouts_dock, first)
        for key in ("enumerate", "migration", "charge", "xrd", "snapshots", "forcefield"):
            window.tabifyDockWidget(first, self.docks[key])
        if readouts_dock is not None:
            readouts_dock.raise_()
        palette_dock = window.docks.get("palette")
        if palette_dock is not None:
            window.splitDockWidget(palette_dock, self.docks["view3d"], Qt.Vertical)

        self.lab = LabMode(window, self.snapshots, keep_docks={"dock_readouts"})
        self._wire()
        self._menus()

    def _view3d_panel(self) -> QWidget:
        """The 3D view (or its fallback message) with a row of view-direction buttons."""
        box = QWidget()
        lay = QVBoxLayout(box)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(2)
        self._view3d_box = lay
        if not self.has_3d:
            lay.addWidget(self._view3d, 1)
        else:
            self._view3d_placeholder = QWidget()
            lay.addWidget(self._view3d_placeholder, 1)
            row = QHBoxLayout()
            row.setContentsMargins(2, 0, 2, 2)
            for axis, text, tip in (("a", "a", "view along a"), ("b", "b", "view along b"),
                                    ("c", "c", "view along the supercell's third vector"),
                                    ("stacking", "⊥", "view down the stacking normal (onto the layers)"),
                                    ("perspective", "3D", "oblique view")):
                b = QToolButton()
                b.setAutoRaise(True)
                b.setText(text)
                b.setToolTip(tip)
                b.clicked.connect(lambda _=False, ax=axis: self.view3d.view_along(ax))
                row.addWidget(b)
            row.addStretch(1)
            lay.addLayout(row)
        return box

    @property
    def view3d(self):
        """The 3D view (made now if it was not yet), or the label saying why there is none."""
        return self.ensure_view3d() if self.has_3d else self._view3d

    def ensure_view3d(self):
        if self._view3d is None:
            v = self._view3d = make_view3d(checked=True)
            self._view3d_box.replaceWidget(self._view3d_placeholder, v)
            self._view3d_placeholder.deleteLater()
            if not hasattr(v, "set_model"):   # the driver failed after all: the label says why
                self.has_3d = False
                return v
            v.setToolTip("drag: rotate, wheel: zoom, click an atom: select it in the 2D editor")
            v.sigSitePicked.connect(self.select_site)
            v.set_model(self.overlay.preview_model or self.doc.model)
            self.overlay.view3d = v
            if self.overlay.o_moments is not None:
                self.overlay.show_o_moments(*self.overlay.o_moments)
            if self.overlay.path is not None:
                v.set_path(self.overlay.path.images)
        return self._view3d

    def _view3d_screen_changed(self, visible: bool) -> None:
        # the window's first show passes tabs through the top: make the view only if its tab stays there
        if visible and self._view3d is None:
            QTimer.singleShot(300, self._view3d_if_on_screen)

    def _view3d_if_on_screen(self) -> None:
        if self._view3d is None and on_screen(self._view3d_placeholder):
            self.ensure_view3d()

    # ------------------------------------------------------------------ wiring
    def _wire(self) -> None:
        doc, w = self.doc, self.window
        self.mc.sigPreview.connect(self.preview_occupancy)
        self.charge.sigPreview.connect(self.preview_charge_state)
        self.enumerate.sigRerank.connect(self.rerank_list)
        doc.sigDisplayedChanged.connect(self._displayed_changed)
        # only panels really on screen compute: a dock says when its tab comes to the top
        for key in ("migration", "charge", "xrd", "forcefield"):
            panel = getattr(self, key)
            self.docks[key].visibilityChanged.connect(panel.screen_changed)
        self.migration.sigPathSelected.connect(self.overlay.set_path)
        self.migration.sigIonMoved.connect(self.overlay.move_ion)
        self.snapshots.sigCompare.connect(self.compare)
        attach_readout(w.readouts, self.forcefield.readout)
        self.forcefield.sigOxygenMoments.connect(self.overlay.show_o_moments)
        self.snapshots.sigMessage.connect(lambda m: w.statusBar().showMessage(m, 5000))
        self.snapshots.sigStepped.connect(self._snapshot_shown)
        self.lab.sigToggled.connect(lambda on: self.overlay.set_caption(None) if not on else None)
        if self.has_3d:
            doc.sigSitesChanged.connect(self._refresh_3d)
            # a turn of the event loop later: uploading and drawing a new big cell (~40 ms for 27,648
            # sites under software GL) then does not add to the 2D view's and readouts' own rebuild
            doc.sigModelReplaced.connect(lambda: QTimer.singleShot(0, self._view3d_follow_model))
            w.sigSiteSelected.connect(lambda s: self._view3d is not None and self._view3d.highlight([s]))
            self.docks["view3d"].visibilityChanged.connect(self._view3d_screen_changed)

    def _view3d_follow_model(self) -> None:
        if self._view3d is not None and self.overlay.preview_model is None:
            self._view3d.set_model(self.doc.model)

    def _refresh_3d(self, _sites) -> None:
        if self._view3d is not None and self.overlay.preview_model is None:
            self._view3d.refresh()

    def _snapshot_shown(self, index: int, name: str) -> None:
        if self.lab.active:  # in front of a room the state's name is part of the picture
            n = len(snap.snapshots(self.doc.model))
            self.overlay.set_caption(f"{name}  ({index + 1}/{n})")

    # ------------------------------------------------------------------ previews
    def preview_occupancy(self, occupancy) -> None:
        """Show a Monte Carlo result (or None: the document again) without touching the document."""
        if occupancy is None:
            self._end_preview("mc")
            return
        self.doc.show_preview(Preview(with_state(self.doc.model, occupancy),
                                      "Monte Carlo result - preview, not applied", kind="mc"))

    def preview_charge_state(self, state) -> None:
        """Show a state of charge (core.analysis.charge.ChargeState; None: the document)."""
        if state is None:
            self._end_preview("charge")
            return
        model = with_state(self.doc.model, state.occupancy,
                           {**self.doc.model.oxidation, **species_mean_oxidation(state)})
        fu = model.formula_units()
        caption = (f"x = {state.x_removed:.3f} removed: {state.capacity_mAh_g:.0f} mAh/g "
                   f"({100 * state.anionic_share:.0f} % from O), "
                   f"{state.active_couple or '-'}, {state.energy_eV / fu:.3f} eV/MO2\n"
                   "preview, not applied; gold: oxidised O (O-)")
        self.doc.show_preview(Preview(model, f"state of charge x = {state.x_removed:.3f}", kind="charge",
                                      energy_eV=state.energy_eV, charges=state.charges,
                                      oxidised_o=state.oxidised_o,
                                      extra={"caption": caption}))

    def rerank_list(self, model, occupancies) -> None:
        """A list of arrangements of `model` (the enumeration's small cell) to the force field's re-rank."""
        self.show_dock("forcefield")
        self.forcefield.run_rerank(occupancies, model=model)

    def _end_preview(self, kind: str) -> None:
        if self.doc.preview is not None and self.doc.preview.kind == kind:
            self.doc.end_preview()

    def _displayed_changed(self, preview) -> None:
        """Every view follows the displayed state: the layer view and 3D view, the migration paths, the
        editor's colourings."""
        if preview is None:
            self.overlay.end_preview()
            self.migration.set_preview_model(None)
        else:
            self.overlay.show_preview(preview.model, preview.extra.get("caption", preview.title),
                                      oxidised_o=preview.oxidised_o)
            self.migration.set_preview_model(preview.model)
        self.window.editor.refresh_overlays()   # colourings by site energy / Li-O-Li of the shown state

    # ------------------------------------------------------------------ 3D picking
    def select_site(self, site: int) -> None:
        """A site picked in 3D: select it in the 2D editor (its layer shown, ringed) and say what it is."""
        self.overlay.show_pick(site)
        if self.has_3d and self._view3d is not None:
            self._view3d.highlight([site])
        self.window.statusBar().showMessage(f"Picked {self.doc.model.site_label(site)}", 8000)
        self.window.sigSiteSelected.emit(site)

    # ------------------------------------------------------------------ compare and lab mode
    def compare(self, left: int, right: int) -> CompareView | None:
        lst = snap.snapshots(self.doc.model)
        if not (0 <= left < len(lst) and 0 <= right < len(lst)):
            self._error("Take at least two snapshots to compare")
            return None
        if self.compare_dialog is None:
            self.compare_dialog = QDialog(self.window)
            self.compare_dialog.setWindowTitle("Compare snapshots")
            self.compare_view = CompareView()
            QVBoxLayout(self.compare_dialog).addWidget(self.compare_view)
            self.compare_dialog.resize(1100, 720)
        try:
            self.compare_view.set_snapshots(self.doc.model, lst[left], lst[right],
                                            layer=self.layer_view.layer_index)
        except LayerStudioError as exc:
            self._error(str(exc))
            return None
        if self.lab.active:
            self.compare_dialog.showFullScreen()
        else:
            self.compare_dialog.show()
        self.compare_dialog.raise_()
        return self.compare_view

    # ------------------------------------------------------------------ menus
    def _menus(self) -> None:
        w = self.window
        act = w.add_menu_action
        for key, text in (("mc", "&Monte Carlo search…"), ("enumerate", "&Enumerate orderings…"),
                          ("migration", "Migration &paths…"),
                          ("charge", "State of &charge…"), ("xrd", "Simulated &XRD…"),
                          ("snapshots", "S&napshots…"), ("view3d", "&3D view"),
                          ("forcefield", "&Force field (CHGNet)…")):
            act("tools", text, lambda _=False, k=key: self.show_dock(k))
        w.menus["tools"].addSeparator()
        act("tools", "Take &snapshot", lambda: self.snapshots.take(), "Ctrl+T")
        act("tools", "&Compare snapshots", lambda: self.compare(self.snapshots.left.currentIndex(),
                                                                 self.snapshots.right.currentIndex()))
        lab = act("view", "&Lab-meeting mode (F11, Esc to leave)", self.lab.toggle)
        lab.setCheckable(True)
        self.lab.sigToggled.connect(lab.setChecked)
        keep = w.menus["view"].addMenu("Lab-meeting mode &keeps")
        for _name, dock in list(w.docks.items()):
            a = keep.addAction(dock.windowTitle())
            a.setCheckable(True)
            a.setChecked(dock.objectName() in self.lab.keep_docks)
            a.toggled.connect(lambda on, d=dock: self._keep_dock(d, on))
        if self.has_3d:
            along = w.menus["view"].addMenu("3D view &along")
            for axis, label in (("a", "a"), ("b", "b"), ("c", "c"), ("stacking", "stacking normal"),
                                ("perspective", "oblique")):
                along.addAction(label, lambda ax=axis: (self.show_dock("view3d"), self.view3d.view_along(ax)))
        act("file", "Export current view at 4x…", self.export_current_dialog, "Ctrl+Alt+E")
        fig = w.menus["file"].addMenu("Export &figure (4x)")
        fig.addAction("Layer view…", lambda: self.export_figure_dialog("layer"))
        fig.addAction("3D view…", lambda: self.export_figure_dialog("3d"))
        fig.addAction("Compare view…", lambda: self.export_figure_dialog("compare"))
        gif = w.menus["file"].addMenu("Export &animation (GIF)")
        gif.addAction("Migration path…", lambda: self.export_gif_dialog("migration"))
        gif.addAction("Monte Carlo run…", lambda: self.export_gif_dialog("mc"))

    def _keep_dock(self, dock, on: bool) -> None:
        (self.lab.keep_docks.add if on else self.lab.keep_docks.discard)(dock.objectName())

    def show_dock(self, key: str) -> None:
        dock = self.docks[key]
        dock.show()
        dock.raise_()

    def _error(self, message: str) -> None:
        self.window.statusBar().showMessage(message, 8000)
        if self.window.isVisible():
            QMessageBox.warning(self.window, "Layer Studio", message)

    # ------------------------------------------------------------------ export
    def figure_widget(self, which: str):
        if which == "layer":
            return self.layer_view
        if which == "3d":
            if not self.has_3d:
                raise LayerStudioError("the 3D view is unavailable here (no OpenGL)")
            return self.view3d
        if which == "compare":
            if self.compare_view is None or not self.compare_dialog.isVisible():
                raise LayerStudioError("open a snapshot comparison first (Tools > Compare snapshots)")
            return self.compare_view
        raise LayerStudioError(f"unknown view {which!r}")

    def current_view(self) -> str:
        """'compare' if the compare window is active, '3d' if the 3D view has focus, else 'layer'."""
        if self.compare_dialog is not None and self.compare_dialog.isActiveWindow():
            return "compare"
        if self.has_3d and self._view3d is not None and (self._view3d.hasFocus() or self._view3d.underMouse()):
            return "3d"
        return "layer"

    def export_current_dialog(self) -> None:
        self.export_figure_dialog(self.current_view())

    def export_figure(self, which: str, path, scale: int = SCALE):
        return export_figure(self.figure_widget(which), path, scale)

    def export_figure_dialog(self, which: str) -> None:
        path, _ = QFileDialog.getSaveFileName(self.window, "Export figure (4x)", f"{which}_view.png",
                                              "PNG image (*.png);;TIFF image (*.tif)")
        if path:
            try:
                self.export_figure(which, path)
                self.window.statusBar().showMessage(f"Wrote {path}", 5000)
            except LayerStudioError as exc:
                self._error(str(exc))

    def export_migration_gif(self, path, duration_ms: int = 90):
        """GIF of the selected migration path: the ion walking there and back in the layer view."""
        if self.migration.selected is None:
            raise LayerStudioError("select a migration path first (Tools > Migration paths)")
        n = self.migration.n_frames()
        out = animate(self.layer_view, self.migration.show_frame, n, path, duration_ms=duration_ms)
        self.migration.set_animating(False)
        return out

    def export_mc_gif(self, path, duration_ms: int = 80):
        """GIF of the last Monte Carlo run: its energy trace drawn sweep by sweep beside the TM layer,
        which shows the starting configuration and, on the last frames, the best one found."""
        from .mc_gif import mc_run_gif
        if self.mc.result is None:
            raise LayerStudioError("run a Monte Carlo search first (Tools > Monte Carlo search)")
        return mc_run_gif(self.doc.model, self.mc.result, path, duration_ms=duration_ms,
                          layer=self.layer_view.layer_index)

    def export_gif_dialog(self, which: str) -> None:
        path, _ = QFileDialog.getSaveFileName(self.window, "Export animation", f"{which}.gif", "GIF (*.gif)")
        if not path:
            return
        try:
            (self.export_migration_gif if which == "migration" else self.export_mc_gif)(path)
            self.window.statusBar().showMessage(f"Wrote {path}", 5000)
        except LayerStudioError as exc:
            self._error(str(exc))


def install(window) -> PanelHost:
    """Add the analysis panels to `window` (see module docstring); returns the PanelHost."""
    host = PanelHost(window)
    window.panels = host
    return host


__all__ = ["install", "PanelHost"]
