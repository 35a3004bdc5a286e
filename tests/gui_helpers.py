"""Shared helpers for the editor GUI tests: an isolated window fixture and real mouse gestures.

Mouse events go to `view.viewport()` at the pixel of a site's data position (data -> scene with the
view box, scene -> viewport with the QGraphicsView), so pyqtgraph's own click/drag machinery runs.
"""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QPointF, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QApplication

# pyqtgraph drops mouse moves closer than 10 ms (a throttle for real mice); synthetic drags send
# them back to back, so switch the throttle off or intermediate points of a drag would be skipped
pg.setConfigOption("mouseRateLimit", 0)


def make_window(qtbot, model, **kw):
    from gui.mainwindow import MainWindow
    kw.setdefault("install_panels", False)
    w = MainWindow(model, **kw)
    w.document.mark_saved()
    # mark clean before pytest-qt closes it, so no unsaved-changes box can appear at teardown
    qtbot.addWidget(w, before_close_func=lambda win: win.document.mark_saved())
    w.resize(1100, 800)
    w.show()
    qtbot.waitExposed(w)
    # keyboard shortcuts need the active window; under Xvfb there is no window manager to give it
    w.windowHandle().requestActivate()
    qtbot.waitUntil(w.isActiveWindow, timeout=3000)
    QApplication.processEvents()
    return w


def wait_engine(qtbot, w, timeout=20000):
    qtbot.waitUntil(lambda: w.readouts.live is not None, timeout=timeout)


def wait_idle(qtbot, w, timeout=20000):
    qtbot.waitUntil(lambda: not w.runner.busy(), timeout=timeout)
    QApplication.processEvents()


def site_pixel(view, site):
    return view.viewport_pos(site)


def click_site(qtbot, view, site, button=Qt.LeftButton):
    qtbot.mouseClick(view.viewport(), button, pos=site_pixel(view, site))


def _send(widget, etype, pos, button, buttons):
    p = QPointF(pos)
    ev = QMouseEvent(etype, p, widget.mapToGlobal(p), button, buttons, Qt.NoModifier)
    QApplication.sendEvent(widget, ev)


def drag_sites(view, sites):
    """Press on the first site, move through the others (via intermediate points), release on the last."""
    vp = view.viewport()
    pts = [site_pixel(view, s) for s in sites]
    _send(vp, QEvent.MouseButtonPress, pts[0], Qt.LeftButton, Qt.LeftButton)
    prev = pts[0]
    for p in pts[1:]:
        for t in (0.5, 1.0):
            q = QPointF(prev.x() + t * (p.x() - prev.x()), prev.y() + t * (p.y() - prev.y()))
            _send(vp, QEvent.MouseMove, q, Qt.NoButton, Qt.LeftButton)
        prev = p
    _send(vp, QEvent.MouseButtonRelease, pts[-1], Qt.LeftButton, Qt.NoButton)
    QApplication.processEvents()


def neighbour_path(view, start, length, rng):
    """A chain of distinct in-plane nearest neighbours from `start` that are also adjacent on screen
    (no jump across the periodic boundary), as site indices of the displayed layer."""
    model = view.model
    nn = model.supercell.tm_nn
    a = model.supercell.host.a
    path = [int(start)]
    while len(path) < length:
        x0, y0 = view.site_xy(path[-1])
        options = [int(s) for s in nn[path[-1]] if int(s) not in path
                   and np.hypot(*(np.array(view.site_xy(int(s))) - (x0, y0))) < 1.01 * a]
        if not options:
            break
        path.append(options[rng.integers(len(options))])
    return path


def fresh_energy(model):
    """Ewald energy (eV) from scratch: a new engine (not the cached one the GUI uses)."""
    from core.energy.ewald import EwaldEngine
    return float(EwaldEngine(model.supercell).energy(model.charges()))


def assert_close(a, b, tol=1e-6):
    assert abs(a - b) <= tol * max(1.0, abs(b)), (a, b)


__all__ = ["make_window", "wait_engine", "wait_idle", "click_site",
           "drag_sites", "neighbour_path", "fresh_energy", "assert_close", "np"]
