"""The main window: layer editor in the centre, palette and readouts in docks, menus, status bar.

Hooks for other parts of the GUI (gui.panels.install(window) is called at the end of construction):
  window.document        gui.document.Document (model + undo stack; `edit`, `set_occupancy`)
  window.layer_view      gui.layer_view.LayerView
  window.analysis        gui.analysis.AnalysisController (live analysis of the displayed state)
  window.readouts        gui.readouts.ReadoutPanel (a view of window.analysis; `values`, `energy_eV`)
  window.runner          gui.workers.TaskRunner (run core generators off the GUI thread)
  window.menus           dict: "file", "edit", "view", "presets", "tools", "window", "help" -> QMenu
  window.toolbar         the main QToolBar
  window.add_dock(widget, title, area=Right, name=None) -> QDockWidget (listed in the Window menu)
  window.add_menu_action(menu_name, action_or_text, slot=None, shortcut=None) -> QAction
  window.apply_occupancy(occ, label)   one undoable step (Monte Carlo results etc.)
  window.sigSiteSelected(int)          a site was clicked (after its edit) or picked in the menu
"""
from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import (
    QComboBox,
    QDockWidget,
    QLabel,
    QMainWindow,
    QMenu,
    QTabBar,
    QTabWidget,
    QToolButton,
)

from core.structure.species import SPECIES

from . import dialogs, guide, settings
from .analysis import AnalysisController
from .colors import default_scheme, scheme_names
from .document import Document
from .editing import EditController
from .fileio import FileController, is_openable
from .fitscroll import FitScrollArea
from .layer_view import LayerView
from .palette import ElementPalette
from .progressbar import ProgressBar
from .readouts import ReadoutPanel, site_info
from .recovery import RecoveryManager
from .workers import TaskRunner

log = logging.getLogger(__name__)

#: Tab titles of the docks: short enough that every tab of the side bar is readable at 1280x800;
#: the full title is the tab's tooltip and the Window menu entry.
SHORT_TITLES = {"Migration paths": "Migration", "State of charge": "Charge", "Simulated XRD": "XRD",
                "3D view": "3D view"}


class MainWindow(QMainWindow):
    sigSiteSelected = Signal(int)

    def __init__(self, model, parent=None, autosave_every: int | None = None, install_panels: bool = True):
        super().__init__(parent)
        self.setObjectName("LayerStudioMain")
        self.setAcceptDrops(True)
        self.runner = TaskRunner(self)
        self.document = Document(model, self)
        scheme = settings.value("view/scheme", default_scheme())
        self.layer_view = LayerView(self, scheme=scheme)
        self.setCentralWidget(self.layer_view)
        self.palette = ElementPalette(scheme=scheme)
        self.analysis = AnalysisController(self.document, self.runner, self)
        self.readouts = ReadoutPanel(self.document, self.analysis)
        self.layer_view.sigLayerChanged.connect(self.readouts.set_shown_layer)
        self.menus: dict[str, QMenu] = {}
        self.docks: dict[str, QDockWidget] = {}
        self.files = FileController(self)
        self.editor = EditController(self)
        kw = {} if autosave_every is None else {"every": autosave_every}
        self.recovery = RecoveryManager(self.document, **kw)

        self.add_dock(self.palette, "Palette", Qt.LeftDockWidgetArea, "palette", scroll=False)
        self.add_dock(self.readouts, "Readouts", Qt.RightDockWidgetArea, "readouts", scroll=False)
        self.readouts.setMinimumWidth(300)
        self._build_status_bar()
        self._build_menus()
        self._connect()
        self.layer_view.set_model(model)
        self._model_replaced()
        if install_panels:
            self._install_panels()
        self._arrange_layout()
        settings.restore_window(self)

    # ------------------------------------------------------------------ hooks
    def add_dock(self, widget, title: str, area=Qt.RightDockWidgetArea, name: str | None = None,
                 scroll: bool = True) -> QDockWidget:
        """Add `widget` as a dock (listed in the Window menu). With `scroll` it sits in a scroll area,
        so a panel whose labels grow cannot squeeze the layer editor."""
        dock = QDockWidget(SHORT_TITLES.get(title, title), self)
        dock.setObjectName(f"dock_{name or title}".replace(" ", "_"))
        dock.setToolTip(title)
        dock.toggleViewAction().setText(title)
        dock.toggleViewAction().setToolTip(title)
        dock.dockLocationChanged.connect(lambda _a: QTimer.singleShot(0, self._polish_tab_bars))
        dock.topLevelChanged.connect(lambda _f: QTimer.singleShot(0, self._polish_tab_bars))
        if scroll:
            dock.setWidget(FitScrollArea(widget))  # scrolls only below the panel's minimum size
        else:
            dock.setWidget(widget)
        self.addDockWidget(area, dock)
        self.docks[name or title] = dock
        if "window" in self.menus:
            self.menus["window"].addAction(dock.toggleViewAction())
        return dock

    def add_menu_action(self, menu_name: str, action, slot=None, shortcut=None) -> QAction:
        menu = self.menus.get(menu_name)
        if menu is None:
            menu = self.menus[menu_name] = self.menuBar().addMenu(menu_name.capitalize())
        if isinstance(action, str):
            action = QAction(action, self)
        if slot is not None:
            action.triggered.connect(slot)
        if shortcut:
            action.setShortcut(QKeySequence(shortcut))
        menu.addAction(action)
        return action

    def apply_occupancy(self, occupancy, label: str) -> bool:
        return self.document.set_occupancy(occupancy, label)

    # ------------------------------------------------------------------ construction
    def _build_status_bar(self) -> None:
        sb = self.statusBar()
        self.lab_site = QLabel("")
        self.lab_formula = QLabel("")
        self.lab_sg = QLabel("")
        self.lab_charge = QLabel("")
        self.progress = ProgressBar()
        self.progress.setMaximumWidth(160)
        self.progress.setVisible(False)
        self.btn_cancel = QToolButton()
        self.btn_cancel.setText("Cancel")
        self.btn_cancel.setVisible(False)
        self.btn_cancel.clicked.connect(self.runner.cancel_all)
        sb.addWidget(self.lab_site, 1)
        for w in (self.lab_formula, self.lab_sg, self.lab_charge, self.progress, self.btn_cancel):
            sb.addPermanentWidget(w)

    def _act(self, menu: str, text: str, slot, shortcut=None, tip: str = "", checkable=False, checked=False):
        a = QAction(text, self)
        if shortcut:
            a.setShortcuts([QKeySequence(s) for s in shortcut] if isinstance(shortcut, (list, tuple))
                           else [QKeySequence(shortcut)])
        a.setStatusTip(tip)
        a.setCheckable(checkable)
        if checkable:
            a.setChecked(checked)
            a.toggled.connect(slot)
        else:
            a.triggered.connect(slot)
        self.menus[menu].addAction(a)
        return a

    def _build_menus(self) -> None:
        mb = self.menuBar()
        for key, title in (("file", "&File"), ("edit", "&Edit"), ("view", "&View"), ("presets", "&Presets"),
                           ("tools", "&Tools"), ("window", "&Window"), ("help", "&Help")):
            self.menus[key] = mb.addMenu(title)
        f = self.files
        self.act_new = self._act("file", "&New model…", self.new_model, "Ctrl+N")
        self.act_open = self._act("file", "&Open…", f.open_dialog, "Ctrl+O")
        self.recent_menu = self.menus["file"].addMenu("Open &recent")
        self._act("file", "Open &demo (Li2MnO3 honeycomb)", self.open_demo)
        self.act_open_screen = self._act("file", "Open screening res&ults…", self.open_screening_results,
                                         tip="browse the results table of `layerstudio screen`")
        self.act_save = self._act("file", "&Save", f.save, "Ctrl+S")
        self.act_save_as = self._act("file", "Save &as…", f.save_as, "Ctrl+Shift+S")
        self.menus["file"].addSeparator()
        self.act_export = self._act("file", "&Export…", f.export_dialog, "Ctrl+E")
        self._act("file", "Export for &DFT…", f.export_dft)
        self._quit_separator = self.menus["file"].addSeparator()
        self.act_quit = self._act("file", "&Quit", self.close, "Ctrl+Q")
        self.set_recent(settings.recent_files())

        st = self.document.undo_stack
        self.act_undo = st.createUndoAction(self, "&Undo")
        self.act_undo.setShortcuts([QKeySequence("Ctrl+Z")])
        self.act_redo = st.createRedoAction(self, "&Redo")
        self.act_redo.setShortcuts([QKeySequence("Ctrl+Shift+Z"), QKeySequence("Ctrl+Y")])
        self.menus["edit"].addAction(self.act_undo)
        self.menus["edit"].addAction(self.act_redo)
        self.menus["edit"].addSeparator()
        self._act("edit", "Change &supercell (tile)…", self.editor.change_supercell_dialog)
        self._act("edit", "&Pin energy reference", self.readouts.pin_reference, "Ctrl+P")
        self.act_keep_neutral = self._act(
            "edit", "&Keep the model neutral", self.editor.set_keep_neutral, checkable=True,
            checked=self.editor.keep_neutral,
            tip="Placing or painting a species that changes the net charge also changes oxidation states "
                "along the redox ladder (same undo step); off: edit charged cells on purpose")

        v = self.layer_view
        self.act_images = self._act("view", "Periodic &images", lambda on: v.set_toggles(images=on), checkable=True,
                                    checked=True)
        self.act_alkali = self._act("view", "&Neighbouring layer (alkali under TM)", lambda on: v.set_toggles(alkali=on),
                                    "Ctrl+L", checkable=True)
        self.act_oxygen = self._act("view", "&O positions", lambda on: v.set_toggles(oxygen=on), checkable=True)
        self.menus["view"].addSeparator()
        self.act_motif = self._act("view", "Honeycomb/ribbon &rings", lambda on: v.set_toggles(motif=on),
                                   checkable=True, checked=True)
        self.act_cell = self._act("view", "Superlattice &cell (found ordering)", lambda on: v.set_toggles(cell=on),
                                  checkable=True)
        self.act_energy_overlay = self._act("view", "Colour by site &energy", self.editor.set_energy_overlay,
                                            checkable=True)
        self.act_lioli_overlay = self._act("view", "O coloured by &Li-O-Li count", self.editor.set_lioli_overlay,
                                           checkable=True)
        self.menus["view"].addSeparator()
        schemes = self.menus["view"].addMenu("Colour &scheme")
        group = QActionGroup(self)
        current = settings.value("view/scheme", default_scheme())
        for name in scheme_names():
            a = QAction(name, self, checkable=True)
            a.setChecked(name == current)
            a.triggered.connect(lambda _=False, n=name: self.set_scheme(n))
            group.addAction(a)
            schemes.addAction(a)

        self.editor.build_presets_menu(self.menus["presets"])
        self.menus["presets"].aboutToShow.connect(self._mark_presets)
        for dock in self.docks.values():  # docks created before the menus existed
            self.menus["window"].addAction(dock.toggleViewAction())
        self.act_shortcuts = self._act("help", "&Keyboard shortcuts", lambda: guide.show_shortcuts(self),
                                       "F1")
        self._act("help", "Quick &guide", lambda: guide.show_guide(self))
        self.menus["help"].addSeparator()
        self._act("help", "&About Layer Studio", self._about)

        tb = self.addToolBar("Main")
        self.toolbar = tb
        tb.setObjectName("main_toolbar")
        for a in (self.act_new, self.act_open, self.act_save, self.act_undo, self.act_redo, self.act_export):
            tb.addAction(a)
        tb.addSeparator()
        tb.addWidget(QLabel(" Layer: "))
        self.layer_combo = QComboBox()
        self.layer_combo.setMinimumWidth(130)
        self.layer_combo.currentIndexChanged.connect(self._layer_chosen)
        tb.addWidget(self.layer_combo)
        tb.addSeparator()
        for a, short in ((self.act_alkali, "Alkali layer"), (self.act_oxygen, "O"), (self.act_motif, "Rings")):
            a.setIconText(short)
            a.setToolTip(a.text().replace("&", ""))
            tb.addAction(a)
        for key, code in self.palette.shortcut_keys():
            a = QAction(f"Paint with {SPECIES[code] if code else 'vacancy'}", self)
            a.setShortcut(QKeySequence(key))
            a.triggered.connect(lambda _=False, c=code: self.palette.set_species(c))
            self.addAction(a)
        esc = QAction("Cancel a swap in progress", self)
        esc.setShortcut(QKeySequence(Qt.Key_Escape))
        esc.triggered.connect(self.editor.cancel_swap)
        self.addAction(esc)

    def _connect(self) -> None:
        d, v = self.document, self.layer_view
        d.sigSitesChanged.connect(v.update_sites)
        d.sigSitesChanged.connect(self.editor.sites_changed)
        d.sigModelReplaced.connect(self._model_replaced)
        d.sigDisplayedChanged.connect(self._displayed_changed)
        self.analysis.sigChanged.connect(self.editor.analysis_changed)
        d.sigOxidationChanged.connect(lambda: self.palette.oxidation_labels(d.model.oxidation))
        d.sigSnapshotsChanged.connect(self._update_title)
        d.sigPathChanged.connect(lambda _p: self._update_title())
        d.undo_stack.cleanChanged.connect(lambda _c: self._update_title())
        v.sigSiteClicked.connect(self.editor.site_clicked)
        v.sigPaintFinished.connect(self.editor.paint_finished)
        v.sigContextRequested.connect(self.editor.context_menu)
        v.sigSiteHovered.connect(self._site_hovered)
        self.palette.sigSpeciesChanged.connect(self._species_chosen)
        self.readouts.sigSpaceGroup.connect(lambda t: self.lab_sg.setText(f"  {t}  "))
        self.runner.sigBusy.connect(self._busy)
        self.runner.sigProgress.connect(self._progress)
        self.readouts.sigValuesChanged.connect(self._update_status)
        self._species_chosen(self.palette.species())

    def _install_panels(self) -> None:
        try:
            from . import panels
            panels.install(self)
        except Exception as exc:  # the editor must keep working even if an analysis panel is broken
            log.exception("analysis panels failed to load")
            self.statusBar().showMessage(f"Analysis panels unavailable: {exc}", 10000)

    def _arrange_layout(self) -> None:
        """Fit the window to the screen: side panels as a vertical tab bar on the window's outer edge
        (every title readable at 1280x800), the 3D view as one of those tabs (Tools > 3D view opens it
        as a window of its own), a toolbar that keeps its width, Export above Quit in the File menu."""
        screen = self.screen().availableGeometry() if self.screen() is not None else None
        w, h = 1280, 860
        if screen is not None:
            w, h = min(w, screen.width()), min(h, screen.height())
        self.resize(w, h)
        self.setTabPosition(Qt.RightDockWidgetArea, QTabWidget.East)
        self.setTabPosition(Qt.LeftDockWidgetArea, QTabWidget.West)
        self.setDockOptions(self.dockOptions() | QMainWindow.VerticalTabs)
        d3 = self.docks.get("view3d")
        panels = getattr(self, "panels", None)
        if d3 is not None and panels is not None:
            last = panels.docks.get("snapshots")
            if last is not None:
                self.addDockWidget(Qt.RightDockWidgetArea, d3)
                self.tabifyDockWidget(last, d3)
            for a in self.menus["tools"].actions():
                if a.text().replace("&", "") == "3D view":
                    a.triggered.connect(self.open_3d_window)
            self.docks["readouts"].raise_()
        # File menu: the panels' export entries came after Quit
        file_menu = self.menus["file"]
        if panels is not None:
            from .panels.figures import PREVIEW_SETTING
            self.act_preview_note = self._act(
                "file", "Figures include the &preview note",
                lambda on: settings.set_value(PREVIEW_SETTING, bool(on)), checkable=True,
                checked=bool(settings.value(PREVIEW_SETTING, False)),
                tip="Exported figures of a previewed state keep its red 'preview, not applied' note")
        file_menu.removeAction(self._quit_separator)
        file_menu.removeAction(self.act_quit)
        file_menu.addAction(self._quit_separator)
        file_menu.addAction(self.act_quit)
        self._fix_toolbar_widths()
        right = [d for d in self.docks.values()
                 if self.dockWidgetArea(d) == Qt.RightDockWidgetArea and not d.isFloating()]
        if right:
            self.resizeDocks(right[:1], [max(430, int(0.33 * w))], Qt.Horizontal)
        if "palette" in self.docks:
            self.resizeDocks([self.docks["palette"]], [180], Qt.Horizontal)
        self._polish_tab_bars()

    def _fix_toolbar_widths(self) -> None:
        """Undo/Redo change their text with every edit ("Undo paint Mn4+"): the toolbar shows a fixed
        "Undo"/"Redo" (the full text is the tooltip), so the buttons after them never move."""
        for a, text in ((self.act_undo, "Undo"), (self.act_redo, "Redo")):
            a.setIconText(text)

    def _polish_tab_bars(self) -> None:
        """Tab bars of tabbed docks (Qt makes a new one whenever docks move): full titles as tooltips,
        no eliding, scroll buttons as a last resort."""
        titles = {d.windowTitle(): d.toolTip() or d.windowTitle() for d in self.docks.values()}
        for bar in self.findChildren(QTabBar):
            bar.setUsesScrollButtons(True)
            bar.setElideMode(Qt.ElideNone)
            bar.setExpanding(False)
            for i in range(bar.count()):
                bar.setTabToolTip(i, titles.get(bar.tabText(i), bar.tabText(i)))

    def open_3d_window(self) -> None:
        """The 3D view in a window of its own, about half the screen (double-click its title to dock it)."""
        d3 = self.docks.get("view3d")
        if d3 is None:
            return
        screen = self.screen().availableGeometry()
        d3.show()
        d3.setFloating(True)
        d3.resize(int(0.55 * screen.width()), int(0.7 * screen.height()))
        d3.move(screen.x() + int(0.08 * screen.width()), screen.y() + int(0.12 * screen.height()))
        d3.raise_()

    # ------------------------------------------------------------------ state updates
    def _model_replaced(self) -> None:
        m = self.document.model
        if self.layer_view.model is not m:
            self.layer_view.set_model(m)
        kind, index = self._fill_layer_combo(m.supercell.layers, reset_kind=True)
        if (kind, index) != (self.layer_view.layer_kind, self.layer_view.layer_index):
            self.layer_view.set_layer(kind, index)
        self.palette.oxidation_labels(m.oxidation)
        self.editor.model_replaced()
        self._update_status()
        self._update_title()

    def _fill_layer_combo(self, n: int, reset_kind: bool) -> tuple[str, int]:
        """The Layer box lists the `n` layers of the displayed model and selects the layer the view
        keeps: its own if it exists, else the first (a TM layer, or with `reset_kind` False the first of
        its kind, as LayerView.set_model does)."""
        self.layer_combo.blockSignals(True)
        self.layer_combo.clear()
        for k in range(n):
            self.layer_combo.addItem(f"TM layer {k + 1}", ("tm", k))
        for k in range(n):
            self.layer_combo.addItem(f"Alkali layer {k + 1}", ("alkali", k))
        kind, index = self.layer_view.layer_kind, self.layer_view.layer_index
        if index >= n:
            kind, index = ("tm" if reset_kind else kind), 0
        self.layer_combo.setCurrentIndex(index + (n if kind == "alkali" else 0))
        self.layer_combo.blockSignals(False)
        return kind, index

    def _displayed_changed(self, _preview) -> None:
        # a preview of another supercell (a screening result) may have another number of layers
        n = self.document.displayed_model.supercell.layers
        if self.layer_combo.count() != 2 * n:
            self._fill_layer_combo(n, reset_kind=False)

    def _layer_chosen(self, index: int) -> None:
        data = self.layer_combo.itemData(index)
        if data:
            self.layer_view.set_layer(*data)
            self.editor.refresh_overlays()

    def _species_chosen(self, code: int) -> None:
        self.layer_view.paint_code = code

    def _update_status(self) -> None:
        """Formula and net charge of the displayed state, as the readouts have them."""
        v = self.readouts.values
        if v.get("formula") is None:
            return
        self.lab_formula.setText(f"  {v['formula']}  ")
        q = v["net_charge"]
        if abs(q) > 1e-6:
            self.lab_charge.setText(f"<span style='color:#C00000'>  charge {q:+.2f} e  </span>")
        else:
            self.lab_charge.setText("  neutral  ")

    def _update_title(self) -> None:
        d = self.document
        name = Path(d.path).name if d.path else d.model.metadata.get("title", "untitled")
        self.setWindowTitle(f"{name}[*] — Layer Studio")
        self.setWindowModified(d.modified)

    def _site_hovered(self, site: int) -> None:
        if site < 0:
            self.lab_site.setText("")
            self.layer_view.setToolTip("")
            return
        energies = self.analysis.site_energies()
        text = site_info(self.document.displayed_model, site, None if energies is None else float(energies[site]))
        self.lab_site.setText(text)
        self.layer_view.setToolTip(text.replace("; ", "\n"))

    def _busy(self, busy: bool) -> None:
        self.progress.setVisible(busy)
        self.btn_cancel.setVisible(busy)
        if not busy:
            self.progress.setRange(0, 100)

    def _progress(self, label: str, frac: float, text: str) -> None:
        if frac < 0:
            self.progress.setRange(0, 0)
        else:
            self.progress.setRange(0, 100)
            self.progress.setValue(int(100 * frac))
        self.progress.setFormat(f"{label} %p%")
        self.progress.setToolTip(f"{label} {text}")

    def set_scheme(self, name: str) -> None:
        settings.set_value("view/scheme", name)
        self.layer_view.set_scheme(name)
        self.palette.set_scheme(name)

    def set_recent(self, files: list[str]) -> None:
        self.recent_menu.clear()
        for path in files:
            a = self.recent_menu.addAction(path)
            a.triggered.connect(lambda _=False, p=path: self.files.open_path(p))
        self.recent_menu.setEnabled(bool(files))

    # ------------------------------------------------------------------ actions
    def new_model(self) -> None:
        if not self.maybe_save():
            return
        self.new_model_dialog()

    def new_model_dialog(self, defaults: dict | None = None, refusal: str | None = None):
        """The New-model dialog, filled with `defaults`; after a refusal (`refusal`: why) it opens
        again with everything the user typed and the nearest supercell that fits on offer."""
        dlg = dialogs.NewModelDialog(self, defaults)
        self.last_new_model_dialog = dlg
        if refusal:
            dlg.show_refusal(refusal)
        if not dlg.exec():
            return
        params = dlg.params()
        self.runner.submit(dialogs.build_model, params, label="Build model",
                           on_result=self._new_model_ready,
                           on_error=lambda msg, p=params: QTimer.singleShot(
                               0, lambda: self.new_model_dialog(p, msg)))

    def _mark_presets(self) -> None:
        from .presetfit import mark_presets
        mark_presets(self)

    def _new_model_ready(self, model) -> None:
        model.metadata.setdefault("title", f"{model.formula()} {model.metadata.get('ordering', '')}".strip())
        self.document.set_model(model)
        self.document.path = None
        self._update_title()

    def open_demo(self) -> None:
        if not self.maybe_save():
            return
        from resources.demo import build_demo_model
        self.document.set_model(build_demo_model())
        self.document.path = None
        self._update_title()

    def open_screening_results(self, path: str | None = None):
        """A results dock for a `layerstudio screen` output directory (gui/panels/screen_panel.py)."""
        from .panels.screen_panel import open_screening_results
        return open_screening_results(self, path or None)

    def maybe_save(self) -> bool:
        """True if it is fine to discard the current document (saved, or the user said so)."""
        if not self.document.modified:
            return True
        name = Path(self.document.path).name if self.document.path else "the current model"
        answer = dialogs.ask_save_changes(self, name)
        if answer == "save":
            return self.files.save()
        return answer == "discard"

    def _about(self) -> None:
        import core
        dialogs.show_info(self, "About Layer Studio",
                          f"Layer Studio {core.__version__}\nCation orderings in layered-oxide cathodes.\n"
                          "Energies are point-charge electrostatics: a ranking aid, not a prediction.")

    # ------------------------------------------------------------------ Qt events
    def dragEnterEvent(self, ev) -> None:
        urls = ev.mimeData().urls() if ev.mimeData().hasUrls() else []
        if any(u.isLocalFile() and is_openable(u.toLocalFile()) for u in urls):
            ev.acceptProposedAction()

    def dropEvent(self, ev) -> None:
        for u in ev.mimeData().urls():
            if u.isLocalFile() and is_openable(u.toLocalFile()):
                ev.acceptProposedAction()
                self.files.open_path(u.toLocalFile())
                return

    def closeEvent(self, ev) -> None:
        if not self.maybe_save():
            ev.ignore()
            return
        settings.save_window(self)
        self.runner.shutdown(5000)
        self.recovery.remove()
        ev.accept()

