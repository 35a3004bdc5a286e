"""Help menu contents: the keyboard-shortcut table and a short guide.

The shortcut table is read from the window's QActions and QShortcuts when it is opened, so it lists
exactly the keys the window answers to (a shortcut added anywhere appears without editing this file).
A QShortcut has no text of its own: its `whatsThis()` is used as the description.
"""
from __future__ import annotations

from PySide6.QtGui import QAction, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QTextBrowser,
    QVBoxLayout,
)

GUIDE_HTML = """
<h3>Layer Studio in five minutes</h3>
<ol>
<li><b>Start</b>: File &gt; New model (stacking, alkali, supercell, TM composition, an ordering preset) or
File &gt; Open demo. Presets that cannot fit the supercell are marked in the Presets menu with the
supercell that would fit.</li>
<li><b>Edit</b>: pick a species in the palette (keys 1-0), click a site to place it, drag to paint,
right-click for the site menu, Shift+drag to pan, the wheel to zoom. Every action is one undo step
(Ctrl+Z / Ctrl+Shift+Z).</li>
<li><b>Read</b>: the Readouts tab updates with every click: electrostatic energy per MO2 (a ranking aid,
not a prediction), charge, capacity, Li-O-Li oxygen environments, the recognised ordering and the space
group. Ctrl+P pins the energy as a reference.</li>
<li><b>Analyse</b>: the tabs on the right edge hold Monte Carlo search, migration paths, state of charge,
simulated XRD, snapshots and the 3D view (Tools &gt; 3D view opens it in its own window).</li>
<li><b>Present</b>: View &gt; Lab-meeting mode (F11) fills the screen with the layer, its species legend
and large readouts; PageDown/PageUp step through snapshots; Esc leaves. File &gt; Export figure writes
4x pictures with the species legend.</li>
</ol>
<p>All energies are formal-charge point-charge electrostatics: compare states of the same composition
and charge; they say nothing about kinetics or the true ground state.</p>
"""


def _clean(text: str) -> str:
    return text.replace("&&", "\0").replace("&", "").replace("\0", "&").replace("…", "").strip()


def _menu_path(action: QAction) -> str:
    """'File', 'View > 3D view along', ... : the menus an action sits in (empty for window-level keys)."""
    for w in action.associatedObjects():
        title = getattr(w, "title", None)
        if callable(title) and title():
            parts = [_clean(title())]
            parent = w.parentWidget()
            while parent is not None and callable(getattr(parent, "title", None)) and parent.title():
                parts.insert(0, _clean(parent.title()))
                parent = parent.parentWidget()
            return " > ".join(parts)
    return ""


def shortcut_rows(window) -> list[tuple[str, str, str]]:
    """(keys, what it does, menu) for every shortcut of `window`, from its QActions and QShortcuts;
    keys in the platform's native text ("Ctrl+Z"), sorted by menu then description."""
    rows = {}
    for a in window.findChildren(QAction):
        keys = [k for k in a.shortcuts() if not k.isEmpty()]
        if not keys or not a.text():
            continue
        text = ", ".join(k.toString(QKeySequence.NativeText) for k in keys)
        rows[(text, _clean(a.text()))] = _menu_path(a)
    for s in window.findChildren(QShortcut):
        if s.key().isEmpty():
            continue
        desc = s.whatsThis() or "(no description)"
        rows[(s.key().toString(QKeySequence.NativeText), desc)] = ""
    return sorted(((k, d, m or "anywhere") for (k, d), m in rows.items()), key=lambda r: (r[2] == "anywhere", r[2], r[1]))


class ShortcutsDialog(QDialog):
    def __init__(self, window):
        super().__init__(window)
        self.setWindowTitle("Keyboard shortcuts")
        rows = shortcut_rows(window)
        self.table = QTableWidget(len(rows), 3)
        self.table.setObjectName("shortcutTable")
        self.table.setHorizontalHeaderLabels(["Keys", "Action", "Where"])
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QTableWidget.NoEditTriggers)
        for r, row in enumerate(rows):
            for c, text in enumerate(row):
                self.table.setItem(r, c, QTableWidgetItem(text))
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        lay = QVBoxLayout(self)
        lay.addWidget(QLabel("Read from the window's actions: every key listed here works."))
        lay.addWidget(self.table)
        buttons = QDialogButtonBox(QDialogButtonBox.Close)
        buttons.rejected.connect(self.reject)
        lay.addWidget(buttons)
        self.resize(640, 560)


class GuideDialog(QDialog):
    def __init__(self, window):
        super().__init__(window)
        self.setWindowTitle("Quick guide")
        text = QTextBrowser()
        text.setHtml(GUIDE_HTML)
        lay = QVBoxLayout(self)
        lay.addWidget(text)
        buttons = QDialogButtonBox(QDialogButtonBox.Close)
        buttons.rejected.connect(self.reject)
        lay.addWidget(buttons)
        self.resize(620, 520)


def show_shortcuts(window) -> ShortcutsDialog:
    dlg = ShortcutsDialog(window)
    dlg.show()
    return dlg


def show_guide(window) -> GuideDialog:
    dlg = GuideDialog(window)
    dlg.show()
    return dlg
