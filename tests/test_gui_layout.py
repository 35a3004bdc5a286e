"""The window on a laptop (1280x800) and a projector (1920x1080): nothing clipped, nothing out of reach.

For the main window, each side panel brought to the front, and lab-meeting mode, every label, tab
title and button on screen is checked against what it needs: a label's size hint (or, when it wraps,
its height for the shown width), a tab's text width, a button's size hint. A widget must also be
wholly visible (its visible region is its whole rectangle: not cut by a scroll area's viewport, a
dock edge or the window edge), so every button can be reached without scrolling.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtWidgets import QApplication

from core.structure.model import Model

SIZES = [(1280, 800), (1920, 1080)]


def run_probe(tmp_path, width: int, height: int) -> dict:
    """tests/layout_probe.py in a fresh process whose only screen is width x height (Qt offscreen)."""
    cfg = tmp_path / f"screen_{width}x{height}.json"
    cfg.write_text(json.dumps({"screens": [{"name": "probe", "x": 0, "y": 0, "width": width, "height": height,
                                            "logicalDpi": 96, "logicalBaseDpi": 96, "dpr": 1}]}))
    root = Path(__file__).resolve().parents[1]
    env = dict(os.environ, QT_QPA_PLATFORM=f"offscreen:configfile={cfg}", PYQTGRAPH_QT_LIB="PySide6",
               PYTHONPATH=os.pathsep.join([str(root), os.environ.get("PYTHONPATH", "")]))
    res = subprocess.run([sys.executable, str(root / "tests" / "layout_probe.py")], env=env, cwd=root,
                         capture_output=True, text=True, timeout=240)
    assert res.returncode == 0, res.stderr[-3000:]
    return json.loads(res.stdout.strip().splitlines()[-1])


@pytest.mark.slow
@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_nothing_clipped_and_every_button_reachable(tmp_path, size):
    out = run_probe(tmp_path, *size)
    # the window and lab mode really are on a screen of that size
    assert out["window"][0] <= size[0] and out["window"][1] <= size[1]
    assert out["window"][0] >= 0.9 * size[0]
    assert out["lab"] == list(size)
    problems = [f"{view}: {p}" for view, ps in out["problems"].items() for p in ps]
    assert not problems, "\n".join(problems)
    # in lab-meeting mode the headline energy is the largest text on screen
    assert out["energy_px"] > out["other_px"]


def test_toolbar_does_not_move_when_undo_text_changes(qtbot, isolated_settings):
    from tests.gui_helpers import make_window
    m = Model.build("O3", "Li", supercell="3", layers=1, tm_spec="Li:1/3,Mn:2/3", seed=4)
    w = make_window(qtbot, m)
    undo = w.toolbar.widgetForAction(w.act_undo)
    export = w.toolbar.widgetForAction(w.act_export)
    x0, width0 = export.x(), undo.width()
    site = int(w.layer_view.sites[0])
    w.document.edit([(site, 0 if w.document.model.occupancy[site] else 1)], "paint a long label on a site")
    QApplication.processEvents()
    assert "paint a long label" in w.act_undo.text()
    assert (export.x(), undo.width()) == (x0, width0)
    assert "paint a long label" in w.act_undo.toolTip()


def test_file_menu_exports_before_quit(qtbot, isolated_settings):
    from gui.mainwindow import MainWindow
    m = Model.build("O3", "Li", supercell="3", layers=1, tm_spec="Li:1/3,Mn:2/3", seed=4)
    w = MainWindow(m)
    qtbot.addWidget(w)
    texts = [a.text().replace("&", "") for a in w.menus["file"].actions() if not a.isSeparator()]
    assert texts[-1] == "Quit"
    assert any(t.startswith("Export figure") for t in texts)
    assert any(t.startswith("Export animation") for t in texts)


def test_shortcut_list_is_read_from_the_actions(qtbot, isolated_settings):
    from PySide6.QtGui import QAction, QKeySequence

    from gui import guide
    from gui.mainwindow import MainWindow
    m = Model.build("O3", "Li", supercell="3", layers=1, tm_spec="Li:1/3,Mn:2/3", seed=4)
    w = MainWindow(m)
    qtbot.addWidget(w)
    rows = guide.shortcut_rows(w)
    keys = {(k, d) for k, d, _m in rows}
    native = lambda s: QKeySequence(s).toString(QKeySequence.NativeText)  # noqa: E731
    assert (native("Ctrl+Z"), "Undo") in keys
    assert (native("F11"), "Lab-meeting mode on/off") in keys
    assert any(d == "Paint with Mn" for _k, d in keys)
    # a shortcut added later shows up without touching the help module
    extra = QAction("Frobnicate the lattice", w)
    extra.setShortcut(QKeySequence("Ctrl+Alt+F"))
    w.menus["tools"].addAction(extra)
    rows = guide.shortcut_rows(w)
    assert (native("Ctrl+Alt+F"), "Frobnicate the lattice", "Tools") in rows
    dlg = guide.show_shortcuts(w)
    assert dlg.table.rowCount() == len(rows)
    dlg.close()


def test_probe_sees_a_clipped_label_and_an_unreachable_button(qtbot, isolated_settings):
    """The checker itself: a label narrower than its text, a word-wrapped label shorter than its
    lines, a button pushed below the window edge and a tab bar that scrolls are all reported."""
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QLabel, QPushButton, QTabWidget, QWidget

    from tests.layout_probe import layout_problems
    win = QWidget()
    win.resize(300, 200)
    qtbot.addWidget(win)
    ok = QLabel("fits", win)
    ok.move(5, 5)
    ok.adjustSize()
    narrow = QLabel("a label far too long for its box", win)
    narrow.setGeometry(5, 30, 60, 20)
    wrapped = QLabel("word wrapped text " * 8, win)
    wrapped.setWordWrap(True)
    wrapped.setGeometry(5, 55, 120, 20)
    below = QPushButton("Apply", win)
    below.setGeometry(5, 190, 80, 30)          # half under the bottom edge
    tabs = QTabWidget(win)
    tabs.setGeometry(150, 5, 120, 80)
    tabs.tabBar().setUsesScrollButtons(True)
    tabs.tabBar().setElideMode(Qt.ElideNone)
    for name in ("Readouts", "Monte Carlo", "Migration paths"):
        tabs.addTab(QWidget(), name)
    win.show()
    qtbot.waitExposed(win)
    text = "\n".join(layout_problems(win))
    assert "'a label far too long" in text
    assert "'word wrapped text" in text
    assert "button 'Apply'" in text and "not reachable" in text
    assert "tab 'Migration paths'" in text
    assert "'fits'" not in text
