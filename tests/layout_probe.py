"""Probe run in a fresh process on an offscreen screen of a given size (see tests/test_gui_layout.py).

Prints one JSON object: {"problems": {view: [lines]}, "window": [w, h], "lab": [w, h],
"energy_px": headline energy pixel size in lab mode, "other_px": largest other label text in lab mode}.
"""
from __future__ import annotations

import json
import os
import sys
import tempfile
import time

from PySide6.QtCore import QRect
from PySide6.QtGui import QRegion
from PySide6.QtWidgets import (
    QAbstractButton,
    QApplication,
    QDockWidget,
    QLabel,
    QScrollArea,
    QStackedWidget,
    QTabBar,
    QToolButton,
)

PANELS = ["readouts", "mc", "migration", "charge", "xrd", "snapshots", "view3d", "forcefield"]


def _on_top(widget, window) -> bool:
    """Shown and not on a page hidden behind another tab (Qt reports those as visible)."""
    if not widget.isVisible() or widget.window() is not window:
        return False
    w = widget
    while w is not None and w is not window:
        parent = w.parentWidget()
        if isinstance(w, QDockWidget) and w.visibleRegion().isEmpty():
            return False
        if isinstance(parent, QStackedWidget) and parent.currentWidget() is not w:
            return False
        w = parent
    return True


def _whole(widget) -> bool:
    """The widget's whole rectangle is visible (nothing cut by a parent, a scroll area, the window)."""
    r = widget.rect()
    if r.isEmpty():
        return True
    vis = widget.visibleRegion()
    # siblings painted over a widget (corner captions on the view) are not clipping: use the bounding rect
    return vis.boundingRect() == r or QRegion(r).subtracted(vis).isEmpty()


def layout_problems(window) -> list[str]:
    """Every clipped label, cut tab title, squeezed or unreachable button of `window` as one line each."""
    QApplication.processEvents()
    bad = []
    win_rect = QRect(0, 0, window.width(), window.height())
    for lab in window.findChildren(QLabel):
        if not _on_top(lab, window) or not lab.text().strip():
            continue
        name = f"label {lab.text()[:40]!r} ({lab.objectName() or type(lab.parentWidget()).__name__})"
        cr = lab.contentsRect()
        if lab.wordWrap():
            need = lab.heightForWidth(lab.width())
            if need > lab.height() + 1:
                bad.append(f"{name}: needs {need} px height, has {lab.height()}")
        else:
            hint = lab.sizeHint()
            if lab.pixmap().isNull() and (hint.width() > lab.width() + 1 or hint.height() > lab.height() + 1):
                bad.append(f"{name}: needs {hint.width()}x{hint.height()}, has {lab.width()}x{lab.height()}")
        if cr.width() > 0 and not _whole(lab):
            bad.append(f"{name}: partly hidden (clipped by its parent or scrolled away)")
    for bar in window.findChildren(QTabBar):
        if not _on_top(bar, window) or bar.count() < 2:
            continue
        vertical = bar.shape() in (QTabBar.RoundedEast, QTabBar.RoundedWest, QTabBar.TriangularEast,
                                   QTabBar.TriangularWest)
        for i in range(bar.count()):
            text = bar.tabText(i)
            rect = bar.tabRect(i)
            room = rect.height() if vertical else rect.width()
            need = bar.fontMetrics().horizontalAdvance(text)
            if need > room - 8:
                bad.append(f"tab {text!r}: needs {need} px, has {room}")
            if not bar.rect().contains(rect):
                bad.append(f"tab {text!r}: scrolled out of its tab bar")
    for b in window.findChildren(QAbstractButton):
        if not _on_top(b, window):
            continue
        if isinstance(b, QToolButton) and b.parentWidget() is not None and \
                type(b.parentWidget()).__name__ in ("QTabBar", "QDockWidget", "QToolBarExtension"):
            continue  # Qt's own tab-scroll / dock title buttons
        name = f"button {b.text()!r} ({b.objectName() or type(b).__name__})"
        if b.text() and b.sizeHint().width() > b.width() + 1:
            bad.append(f"{name}: text needs {b.sizeHint().width()} px, has {b.width()}")
        top_left = b.mapTo(window, b.rect().topLeft())
        if not win_rect.contains(QRect(top_left, b.size())) or not _whole(b):
            bad.append(f"{name}: not reachable (outside the window or hidden by scrolling)")
    for area in window.findChildren(QScrollArea):
        if _on_top(area, window) and (area.verticalScrollBar().isVisible()
                                      or area.horizontalScrollBar().isVisible()):
            bad.append(f"scroll area around {type(area.widget()).__name__}: needs scrolling")
    return bad


def _settle(app, w, seconds=0.4):
    end = time.monotonic() + 30
    t_quiet = None
    while time.monotonic() < end:
        app.processEvents()
        if w.runner.busy():
            t_quiet = None
        elif t_quiet is None:
            t_quiet = time.monotonic()
        elif time.monotonic() - t_quiet > seconds:
            break
        time.sleep(0.01)
    app.processEvents()


def _shot(w, name: str) -> None:
    """With LAYOUT_PROBE_SHOTS=dir, save what was checked (for a human to look at)."""
    folder = os.environ.get("LAYOUT_PROBE_SHOTS")
    if folder:
        from gui.panels.figures import grab_window
        grab_window(w).save(os.path.join(folder, f"{name}_{w.width()}x{w.height()}.png"))


def main() -> int:
    app = QApplication(sys.argv[:1])
    from core.orderings import preset_occupancy
    from core.structure.model import Model
    from gui import settings
    from gui.mainwindow import MainWindow
    settings.use_settings_dir(tempfile.mkdtemp(prefix="layerstudio-layout-"))
    m = Model.build("O3", "Li", supercell="6", layers=1, tm_spec="Li:1/3,Mn:2/3", seed=4)
    m.set_occupancy(preset_occupancy(m, "honeycomb"))
    w = MainWindow(m)
    w.showMaximized()
    _settle(app, w)
    out = {"window": [w.width(), w.height()], "problems": {}}
    for key in PANELS:
        if key == "readouts":
            w.docks["readouts"].raise_()
        else:
            w.panels.show_dock(key)
        _settle(app, w)
        out["problems"][key] = layout_problems(w)
        _shot(w, key)
    w.panels.lab.enter()
    _settle(app, w)
    out["lab"] = [w.width(), w.height()]
    out["problems"]["lab mode"] = layout_problems(w)
    _shot(w, "lab")
    energy = w.readouts.lab_energy
    out["energy_px"] = energy.fontInfo().pixelSize()
    out["other_px"] = max(lab.fontInfo().pixelSize() for lab in w.findChildren(QLabel)
                          if _on_top(lab, w) and lab is not energy and lab.text().strip())
    w.panels.lab.leave()
    w.document.undo_stack.setClean()
    w.runner.shutdown(5000)
    w.close()
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
