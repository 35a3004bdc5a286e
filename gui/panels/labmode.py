"""Lab-meeting mode: full screen, large fonts, chosen docks only, snapshot stepping, side-by-side compare.

- `SnapshotPanel`: the model's named snapshots (kept in the project file, see `snapshots.py`): take,
  rename, delete, go to (one undo step each), and pick two to compare.
- `CompareView`: two snapshots side by side (TM layer pictures, readouts) and their energy difference.
- `LabMode`: F11 toggles full screen with fonts scaled up and every dock hidden except the ones chosen
  (the readouts by default); Esc leaves; PageDown/PageUp (or Right/Left) step through the snapshots.
"""
from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QFont, QFontInfo, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QApplication,
    QComboBox,
    QDockWidget,
    QFormLayout,
    QGridLayout,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QListWidget,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from core.analysis.snapshots import ewald_energy, with_state
from core.errors import LayerStudioError
from core.report import summary_texts

from . import snapshots as snap
from .layerplot import LayerPlot

LAPTOP_SCALE = 1.25   # text scale on a 1280x800 screen; larger windows get more (see `lab_scale`)
HEADLINE = 2.4        # the energy readout, relative to the (scaled) body text: the largest on screen
READOUT_SECTIONS = {"energy": "Energy", "charge": "Composition and charge", "capacity": "Capacity",
                    "oxygen": "Oxygen environments", "ordering": "Ordering", "symmetry": "Space group"}
DEFAULT_SECTIONS = ("energy", "charge", "capacity", "ordering")


def lab_scale(width: int, height: int) -> float:
    """Text scale for lab-meeting mode on a width x height (px) window: LAPTOP_SCALE at 1280x800,
    growing with the window (1.69 at 1920x1080), never below 1.1 or above 2.4."""
    return float(min(max(LAPTOP_SCALE * min(width / 1280, height / 800), 1.1), 2.4))


class SnapshotPanel(QWidget):
    """Signals: sigCompare(int, int) - compare these two snapshot indices; sigMessage(str)."""

    sigCompare = Signal(int, int)
    sigMessage = Signal(str)
    sigStepped = Signal(int, str)  # a snapshot was gone to: index, name

    def __init__(self, doc, parent=None):
        super().__init__(parent)
        self.setObjectName("snapshotPanel")
        self.doc = doc
        self.current = -1  # index last gone to (for stepping)
        self.list = QListWidget()
        self.list.setObjectName("snapshotList")
        self.take_btn = QPushButton("Take snapshot")
        self.preview_btn = QPushButton("Preview")
        self.preview_btn.setToolTip("Show this snapshot (editor, readouts, panels) without changing the document")
        self.go_btn = QPushButton("Go to")
        self.go_btn.setToolTip("Make the document this snapshot's state (one undo step)")
        self.rename_btn = QPushButton("Rename")
        self.delete_btn = QPushButton("Delete")
        self.left = QComboBox()
        self.right = QComboBox()
        self.compare_btn = QPushButton("Compare side by side")
        lay = QVBoxLayout(self)
        lay.addWidget(self.list, 1)
        for buttons in ((self.take_btn, self.preview_btn, self.go_btn), (self.rename_btn, self.delete_btn)):
            row = QHBoxLayout()
            for b in buttons:
                row.addWidget(b)
            lay.addLayout(row)
        form = QFormLayout()
        form.addRow("Left", self.left)
        form.addRow("Right", self.right)
        lay.addLayout(form)
        lay.addWidget(self.compare_btn)
        self.take_btn.clicked.connect(self.take)
        self.preview_btn.clicked.connect(lambda: self.preview(self.list.currentRow()))
        self.go_btn.clicked.connect(lambda: self.go(self.list.currentRow()))
        self.list.itemDoubleClicked.connect(lambda _item: self.go(self.list.currentRow()))
        self.rename_btn.clicked.connect(self._rename)
        self.delete_btn.clicked.connect(self._delete)
        self.compare_btn.clicked.connect(
            lambda: self.sigCompare.emit(self.left.currentIndex(), self.right.currentIndex()))
        doc.sigModelReplaced.connect(self.refresh)
        doc.undo_stack.indexChanged.connect(self.refresh)
        self.refresh()

    def refresh(self, *args) -> None:
        names = [s.get("name", "?") for s in snap.snapshots(self.doc.model)]
        row = self.list.currentRow()
        self.list.clear()
        self.list.addItems(names)
        if names:
            self.list.setCurrentRow(min(max(row, 0), len(names) - 1))
        for box, default in ((self.left, 0), (self.right, 1)):
            keep = box.currentIndex()
            box.clear()
            box.addItems(names)
            if names:
                box.setCurrentIndex(keep if 0 <= keep < len(names) else min(default, len(names) - 1))
        if len(names) >= 2 and self.left.currentIndex() == self.right.currentIndex():
            self.right.setCurrentIndex(1 if self.left.currentIndex() == 0 else 0)  # a snapshot vs itself says nothing
        self.compare_btn.setEnabled(len(names) >= 2)

    def take(self, name: str | None = None) -> dict:
        if not name:
            name = f"snapshot {len(snap.snapshots(self.doc.model)) + 1}"
        s = snap.add_snapshot(self.doc, name, on_change=self.refresh)
        self.list.setCurrentRow(self.list.count() - 1)
        self.sigMessage.emit(f"Snapshot '{s['name']}' taken")
        return s

    def preview(self, index: int) -> bool:
        """Show snapshot `index` as the document's displayed state (a preview, not an edit)."""
        from ..document import Preview

        lst = snap.snapshots(self.doc.model)
        if not 0 <= index < len(lst):
            self.sigMessage.emit("Take a snapshot first" if not lst else f"no snapshot number {index + 1}")
            return False
        try:
            model = snap.snapshot_model(self.doc.model, lst[index])
        except LayerStudioError as exc:
            self.sigMessage.emit(str(exc))
            return False
        name = lst[index].get("name", "")
        self.doc.show_preview(Preview(model, f"snapshot '{name}'", kind="snapshot",
                                      extra={"caption": f"snapshot '{name}' - preview, not applied"}))
        return True

    def go(self, index: int) -> None:
        try:
            snap.go_to_snapshot(self.doc, index)
        except LayerStudioError as exc:
            self.sigMessage.emit(str(exc))
            return
        self.current = index
        self.list.setCurrentRow(index)
        name = snap.snapshots(self.doc.model)[index].get("name", "")
        self.sigMessage.emit(f"Snapshot {index + 1}/{self.list.count()}: {name}")
        self.sigStepped.emit(index, name)

    def step(self, delta: int) -> None:
        n = len(snap.snapshots(self.doc.model))
        if not n:
            self.sigMessage.emit("No snapshots yet: take one first")
            return
        start = self.current if self.current >= 0 else (-1 if delta > 0 else n)
        self.go((start + delta) % n)

    def _rename(self) -> None:
        row = self.list.currentRow()
        if row < 0:
            return
        name, ok = QInputDialog.getText(self, "Rename snapshot", "Name:",
                                        text=self.list.item(row).text())
        if ok and name.strip():
            snap.rename_snapshot(self.doc, row, name.strip(), on_change=self.refresh)

    def _delete(self) -> None:
        row = self.list.currentRow()
        if row >= 0:
            snap.remove_snapshot(self.doc, row, on_change=self.refresh)


def not_comparable(a, b) -> str | None:
    """Why two states' total energies must not be subtracted (None if they may): a different number
    of some species, or a different net charge or oxidation states (a different Madelung sum)."""
    import numpy as np

    from core.structure.species import SPECIES
    ca = np.bincount(a.occupancy, minlength=len(SPECIES))
    cb = np.bincount(b.occupancy, minlength=len(SPECIES))
    if not np.array_equal(ca, cb):
        diff = [f"{SPECIES[k] if k else 'vacancies'} {ca[k]} vs {cb[k]}" for k in np.flatnonzero(ca != cb)]
        return "the two snapshots have different compositions (" + ", ".join(diff) + ")"
    if abs(a.net_charge - b.net_charge) > 1e-6:
        return f"the two snapshots carry different net charges ({a.net_charge:+.2f} e vs {b.net_charge:+.2f} e)"
    present = [SPECIES[k] for k in np.flatnonzero(ca) if k]
    changed = [s for s in present if abs(a.oxidation.get(s, 0.0) - b.oxidation.get(s, 0.0)) > 1e-9]
    if changed:
        return "the oxidation states differ (" + ", ".join(
            f"{s} {a.oxidation[s]:+g} vs {b.oxidation[s]:+g}" for s in changed) + ")"
    return None


class CompareView(QWidget):
    """Two snapshots side by side: TM-layer pictures, readouts, and E(right) - E(left)."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("compareView")
        self.plots = [LayerPlot(), LayerPlot()]
        self.titles = [QLabel(), QLabel()]
        self.tables = [QLabel(), QLabel()]
        self.diff = QLabel()
        self.diff.setObjectName("compareDiff")
        self.diff.setAlignment(Qt.AlignCenter)
        grid = QGridLayout(self)
        for col in (0, 1):
            self.titles[col].setAlignment(Qt.AlignCenter)
            f = self.titles[col].font()
            f.setPointSizeF(f.pointSizeF() * 1.4)
            f.setBold(True)
            self.titles[col].setFont(f)
            self.tables[col].setTextFormat(Qt.RichText)
            self.tables[col].setAlignment(Qt.AlignTop | Qt.AlignHCenter)
            grid.addWidget(self.titles[col], 0, col)
            grid.addWidget(self.plots[col], 1, col)
            grid.addWidget(self.tables[col], 2, col)
        grid.addWidget(self.diff, 3, 0, 1, 2)
        grid.setRowStretch(1, 1)
        self.energies = [None, None]
        self.comparable = True

    def set_snapshots(self, model, left: dict, right: dict, layer: int = 0) -> None:
        """Show snapshot dicts `left` and `right` of `model`'s supercell."""
        fu = model.formula_units()
        states = []
        for col, s in enumerate((left, right)):
            occ, ox = snap.snapshot_state(model, s)
            m = with_state(model, occ, ox)
            states.append(m)
            self.titles[col].setText(s.get("name", "?"))
            self.plots[col].set_state(model.supercell, occ, layer, oxidation=m.oxidation)
            rows = "".join(f"<tr><td><b>{k}</b>&nbsp;&nbsp;</td><td>{v}</td></tr>" for k, v in summary_texts(m).items())
            self.tables[col].setText(f"<table>{rows}</table>")
            self.energies[col] = ewald_energy(m)
        why_not = not_comparable(*states)
        self.comparable = why_not is None
        e0, e1 = self.energies
        if why_not:
            self.diff.setText(f"No energy difference shown: {why_not}. Electrostatic energies only rank "
                              "arrangements of the same ions with the same charge.")
        elif e0 is None or e1 is None:
            self.diff.setText("Energy difference: the electrostatics module is not available")
        else:
            d = e1 - e0
            per = f"{d / fu:+.3f} eV" if abs(d / fu) >= 1 else f"{1000 * d / fu:+.1f} meV"
            self.diff.setText(
                f"E({right.get('name')}) − E({left.get('name')}) = {d:+.4f} eV per cell = "
                f"{per} per MO2  (electrostatic only)")
        self.diff.setWordWrap(True)
        f = self.diff.font()
        f.setPointSizeF(max(f.pointSizeF(), 13))
        self.diff.setFont(f)

    @property
    def energy_difference(self) -> float | None:
        """E(right) - E(left) in eV per cell; None when the two are not comparable (see `not_comparable`)."""
        e0, e1 = self.energies
        return None if e0 is None or e1 is None or not self.comparable else e1 - e0


#: leaving lab mode, floating docks (windows of their own) come back this long after the rest of the window
FLOATING_AFTER_MS = 25


class LabMode(QObject):
    """Full-screen presentation mode for a main window (see module docstring).

    `keep_docks`: objectName()s of the docks left visible (readouts by default).
    """

    sigToggled = Signal(bool)

    def __init__(self, window, snapshot_panel: SnapshotPanel | None = None, keep_docks=None):
        super().__init__(window)
        self.window = window
        self.snapshot_panel = snapshot_panel
        self.keep_docks = set(keep_docks or ())
        self.active = False
        self._saved = {}
        self._floating = {}     # floating docks still to show after leaving
        self._font = None
        self._was_maximized = False
        self.shortcuts = []
        sc = QShortcut(QKeySequence(Qt.Key_F11), window)
        sc.activated.connect(self.toggle)
        self.shortcuts.append(sc)
        # Esc and the arrows only exist in lab mode: outside it Esc belongs to the editor (cancel a
        # swap) and the arrows to whichever widget has focus; two shortcuts on one key cancel out
        self.esc = QShortcut(QKeySequence(Qt.Key_Escape), window)
        self.esc.activated.connect(self.leave)
        self.esc.setEnabled(False)
        self.arrows = []
        for key, delta in ((Qt.Key_PageDown, 1), (Qt.Key_PageUp, -1), (Qt.Key_Right, 1), (Qt.Key_Left, -1)):
            s = QShortcut(QKeySequence(key), window)
            s.activated.connect(lambda d=delta: self._step(d))
            self.shortcuts.append(s)
            if key in (Qt.Key_Right, Qt.Key_Left):
                s.setEnabled(False)
                self.arrows.append(s)
        self._disabled_actions = []
        for sc, what in zip(self.shortcuts, ("Lab-meeting mode on/off", "Lab mode: next snapshot",
                                             "Lab mode: previous snapshot", "Lab mode: next snapshot",
                                             "Lab mode: previous snapshot")):
            sc.setWhatsThis(what)
        self.esc.setWhatsThis("Leave lab-meeting mode")
        self.sections = set(DEFAULT_SECTIONS)
        self._restore = []          # callables undoing the lab-mode styling
        views = getattr(window, "menus", {}).get("view")
        if views is not None:
            shows = views.addMenu("Lab-meeting mode &shows")
            for key, title in READOUT_SECTIONS.items():
                a = shows.addAction(title)
                a.setCheckable(True)
                a.setChecked(key in self.sections)
                a.toggled.connect(lambda on, k=key: self.show_section(k, on))

    def show_section(self, key: str, on: bool) -> None:
        """Choose whether readout section `key` (see READOUT_SECTIONS) is shown in lab-meeting mode."""
        (self.sections.add if on else self.sections.discard)(key)
        if self.active:
            self._apply_sections()

    def _apply_sections(self) -> None:
        for key, box in getattr(getattr(self.window, "readouts", None), "sections", {}).items():
            box.setVisible(key in self.sections)

    def eventFilter(self, obj, ev):  # noqa: N802
        if obj is self.window and ev.type() == QEvent.Resize and self.active:
            self.rescale()
        return False

    def rescale(self) -> None:
        """Size text, readouts and legend to the window (called on entering and on every resize)."""
        w = self.window
        scale = lab_scale(w.width(), w.height())
        app = QApplication.instance()
        big = QFont(self._font)
        big.setPointSizeF(self._font.pointSizeF() * scale)
        app.setFont(big)
        body_px = QFontInfo(big).pixelSize()
        r = getattr(w, "readouts", None)
        if r is not None and hasattr(r, "lab_energy"):
            r.lab_energy.setStyleSheet(f"font-size: {int(HEADLINE * body_px)}px; font-weight: bold;")
        if r is not None and hasattr(r, "history_plot"):
            hp = r.history_plot
            hp.setFixedHeight(int(8 * body_px))
            tick = QFont(big)
            tick.setPointSizeF(big.pointSizeF() * 0.8)
            for name in ("left", "bottom"):
                axis = hp.getPlotItem().getAxis(name)
                axis.setStyle(tickFont=tick)
                axis.setTextPen("k")
                axis.setPen("k")
                axis.enableAutoSIPrefix(False)
            hp.getPlotItem().getAxis("left").setWidth(None)
            hp.getPlotItem().showAxis("bottom")
            size = f"{0.8 * big.pointSizeF():.0f}pt"
            hp.setLabel("left", "E / MO2", units="eV", **{"font-size": size, "color": "#000"})
            hp.setLabel("bottom", "edit (oldest → newest)", **{"font-size": size, "color": "#000"})
        legend = getattr(getattr(w, "layer_view", None), "species_legend", None)
        if legend is not None:
            legend.set_scale(1.4 * scale)
        dock = next((d for d in self.docks() if d.objectName() == "dock_readouts"), None)
        if dock is not None and dock.isVisible():
            w.resizeDocks([dock], [int(0.38 * w.width())], Qt.Horizontal)

    def _style_readouts(self) -> None:
        """Remember what lab mode restyles (headline size, history plot) so leaving restores it."""
        r = getattr(self.window, "readouts", None)
        self._restore = []
        if r is None:
            return
        if hasattr(r, "lab_energy"):
            sheet = r.lab_energy.styleSheet()
            self._restore.append(lambda: r.lab_energy.setStyleSheet(sheet))
        if hasattr(r, "history_plot"):
            hp = r.history_plot
            height = hp.height()
            item = hp.getPlotItem()
            left, bottom = item.getAxis("left"), item.getAxis("bottom")
            left_w = left.width()
            was_bottom = bottom.isVisible()
            tick_font = left.style.get("tickFont")

            def restore():
                hp.setFixedHeight(height)
                for ax in (left, bottom):
                    ax.setStyle(tickFont=tick_font)
                    ax.setLabel(None)
                    ax.showLabel(False)
                left.setWidth(left_w)
                if not was_bottom:
                    item.hideAxis("bottom")
            self._restore.append(restore)
        saved = {k: b.isVisible() for k, b in getattr(r, "sections", {}).items()}
        self._restore.append(lambda: [b.setVisible(saved[k]) for k, b in r.sections.items() if k in saved])
        legend = getattr(getattr(self.window, "layer_view", None), "species_legend", None)
        if legend is not None:
            self._restore.append(lambda: legend.set_scale(1.0))

    def _step(self, delta: int) -> None:
        if self.snapshot_panel is not None:
            self.snapshot_panel.step(delta)

    def _lab_keys(self, on: bool) -> None:
        self.esc.setEnabled(on)
        for s in self.arrows:
            s.setEnabled(on)
        if on:
            esc = QKeySequence(Qt.Key_Escape)
            self._disabled_actions = [a for a in self.window.findChildren(QAction)
                                      if a.isEnabled() and esc in a.shortcuts()]
            for a in self._disabled_actions:
                a.setEnabled(False)
        else:
            for a in self._disabled_actions:
                a.setEnabled(True)
            self._disabled_actions = []

    def docks(self) -> list[QDockWidget]:
        return self.window.findChildren(QDockWidget)

    def toggle(self) -> None:
        self.leave() if self.active else self.enter()

    def enter(self) -> None:
        if self.active:
            return
        self.active = True
        self._show_floating()      # left a moment ago: its floating docks first
        self._saved = {d: d.isVisible() for d in self.docks()}
        for d in self.docks():
            d.setVisible(d.objectName() in self.keep_docks)
        app = QApplication.instance()
        self._font = QFont(app.font())
        self._was_maximized = self.window.isMaximized()
        self._lab_keys(True)
        self._style_readouts()
        self._apply_sections()
        self.window.showFullScreen()
        # widgets without an explicit font follow the application font, scaled to the window
        self.rescale()
        self.window.installEventFilter(self)
        self.sigToggled.emit(True)

    def leave(self) -> None:
        if not self.active:
            return
        self.active = False
        self.window.removeEventFilter(self)
        self._lab_keys(False)
        for undo in reversed(self._restore):
            undo()
        self._restore = []
        # floating docks are windows of their own: shown with the rest, their mapping and painting made
        # one ~90 ms stall; a frame later, the main window is already painted
        self._floating = {d: vis for d, vis in self._saved.items() if d.isFloating()}
        for d, vis in self._saved.items():
            if d not in self._floating:
                d.setVisible(vis)
        app = QApplication.instance()
        if self._font is not None:
            app.setFont(self._font)
        if self._was_maximized:
            self.window.showMaximized()
        else:
            self.window.showNormal()
        QTimer.singleShot(FLOATING_AFTER_MS, lambda: None if self.active else self._show_floating())
        self.sigToggled.emit(False)

    def restoring(self) -> bool:
        """True between leaving lab mode and its floating docks being shown again."""
        return bool(self._floating)

    def _show_floating(self) -> None:
        pending, self._floating = self._floating, {}
        for d, vis in pending.items():
            d.setVisible(vis)
