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

import numpy as np
import pytest
from PySide6.QtCore import Qt
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


def test_refused_new_model_keeps_the_input_and_offers_the_nearest_cell(qtbot, isolated_settings, monkeypatch):
    """honeycomb (sqrt3 x sqrt3 superlattice of Li in the Mn layer) cannot tile a 5x3 cell; the
    dialog comes back with everything typed and offers the closest cell that fits (2sqrt3: 12
    primitive cells against 15; 3x3 has 9, 6x6 36)."""
    from gui import dialogs
    from gui.mainwindow import MainWindow
    w = MainWindow(Model.build("O3", "Li", supercell="3", layers=1, tm_spec="Li:1/3,Mn:2/3", seed=4))
    qtbot.addWidget(w, before_close_func=lambda win: win.document.undo_stack.setClean())
    shown = []

    def fake_exec(dlg):
        shown.append(dlg)
        if len(shown) == 1:  # the user's first try: a 5x3 cell with a lattice parameter of their own
            dlg.supercell.setText("5x3")
            dlg.layers.setValue(3)
            dlg.a.setValue(2.91)
            dlg.ordering.setCurrentText("honeycomb")
            dlg.tm_spec.setText("Li:1/3,Mn:2/3")
            return 1
        return 0
    monkeypatch.setattr(dialogs.NewModelDialog, "exec", fake_exec)
    w.new_model_dialog()
    qtbot.waitUntil(lambda: len(shown) == 2, timeout=20000)
    again = shown[1]
    assert again.supercell.text() == "5x3" and again.a.value() == pytest.approx(2.91)
    assert again.layers.value() == 3 and again.tm_spec.text() == "Li:1/3,Mn:2/3"
    assert "does not fit a 5x3 supercell" in again.error.text()
    assert "[[" not in again.error.text()          # plain words, no matrices
    assert again.use_cell.isVisibleTo(again) and "2sqrt3" in again.use_cell.text()
    again.show()                                    # the message and the offer are readable, not cut
    qtbot.waitExposed(again)
    from tests.layout_probe import layout_problems
    assert not layout_problems(again)
    qtbot.mouseClick(again.use_cell, Qt.LeftButton)
    assert again.supercell.text() == "2sqrt3"
    model = dialogs.build_model(again.params())      # and it does build
    assert model.metadata["ordering"] == "honeycomb"


def test_presets_that_cannot_fit_are_marked_with_the_fix(qtbot, isolated_settings):
    """LiNi0.5Mn0.5O2 on 6x6: the zigzag ordering repeats on a 4-row pattern (needs 4x4, 8x8, ...),
    so it is marked with the nearest cell that fits (4x4: 16 cells against 36; 8x8 has 64); the
    stripe (period 2) fits and stays plain."""
    from gui.mainwindow import MainWindow
    w = MainWindow(Model.build("O3", "Li", supercell="6", layers=1, tm_spec="Ni:1/2,Mn:1/2", seed=4))
    qtbot.addWidget(w, before_close_func=lambda win: win.document.undo_stack.setClean())
    w.menus["presets"].aboutToShow.emit()
    texts = {a.data(): a.text() for a in w.menus["presets"].actions() if a.data()}
    assert texts["stripe"] == "stripe"
    assert texts["zigzag"].endswith("does not fit this 6x6 cell: use 4x4?")
    assert w.preset_fixes["zigzag"] == "4x4"
    occ = w.document.model.occupancy.copy()
    stripe = next(a for a in w.menus["presets"].actions() if a.data() == "stripe")
    stripe.trigger()                                  # a fitting preset still applies (one undo step)
    assert not np.array_equal(occ, w.document.model.occupancy)


def _rgb(img):
    from PySide6.QtGui import QImage
    im = img.convertToFormat(QImage.Format_RGB32)
    a = np.frombuffer(im.constBits(), np.uint8).reshape(im.height(), im.bytesPerLine() // 4, 4)
    return a[:, : im.width(), 2::-1].copy()   # BGRA in memory -> RGB


def test_figure_has_species_legend_no_preview_banner_and_scaled_lines(qtbot, isolated_settings):
    from core.orderings import preset_occupancy
    from gui.mainwindow import MainWindow
    from gui.panels.figures import render_widget
    m = Model.build("O3", "Li", supercell="6", layers=1, tm_spec="Li:1/3,Mn:2/3", seed=4)
    m.set_occupancy(preset_occupancy(m, "honeycomb"))
    w = MainWindow(m)
    qtbot.addWidget(w, before_close_func=lambda win: win.document.undo_stack.setClean())
    w.resize(1280, 800)
    w.show()
    qtbot.waitExposed(w)
    lv = w.layer_view
    # the legend names the species with the model's oxidation states
    assert lv.species_legend.labels() == ["Li1+", "Mn4+"]
    w.document.model.set_oxidation("Mn", 3.5)
    w.document.sigModelReplaced.emit()
    QApplication.processEvents()
    assert "Mn3.5+" in lv.species_legend.labels()
    # lines keep their on-screen weight: dark pixels (rings, outline, rims) grow with the area (16x at 4x),
    # not with the length (4x) as one-pixel cosmetic lines would
    dark = [int((_rgb(render_widget(lv, s)).max(axis=2) < 60).sum()) for s in (1, 4)]
    assert dark[1] / dark[0] > 10
    # a preview banner is on screen but not in the figure unless asked for
    rnd = Model.build("O3", "Li", supercell="6", layers=1, tm_spec="Li:1/3,Mn:2/3", seed=8)
    w.panels.preview_occupancy(rnd.occupancy)
    assert w.panels.overlay.banner.isVisible()

    def red(img):  # the banner's dark red text; no species colour of this model is red
        a = _rgb(img).astype(int)
        return int(((a[..., 0] > 110) & (a[..., 1] < 50) & (a[..., 2] < 50)).sum())
    assert red(render_widget(lv, 2)) == 0
    assert red(render_widget(lv, 2, preview_banner=True)) > 100
    w.act_preview_note.setChecked(True)             # File > Figures include the preview note
    assert red(render_widget(lv, 2)) > 100
    w.act_preview_note.setChecked(False)
    assert w.panels.overlay.banner.isVisible()   # still shown on screen afterwards


def test_compare_gives_no_energy_difference_across_compositions_or_charges(qtbot):
    """Delithiating changes the number of ions (and, with O taking the charge, the oxidation
    states): total Ewald energies of such states are not on one scale, so no difference is shown."""
    from core.orderings import preset_occupancy
    from core.structure.species import CODE, VACANCY
    from gui.panels import snapshots as snap
    from gui.panels.labmode import CompareView
    full = Model.build("O3", "Li", supercell="3", layers=3, tm_spec="Li:1/3,Mn:2/3", seed=4)
    full.set_occupancy(preset_occupancy(full, "honeycomb"))
    swapped = full.copy()                      # same ions, one Li/Mn swap: comparable
    tm = swapped.supercell.tm_sites
    li = int(tm[swapped.occupancy[tm] == CODE["Li"]][0])
    mn = int(tm[swapped.occupancy[tm] == CODE["Mn"]][0])
    swapped.apply([(li, CODE["Mn"]), (mn, CODE["Li"])])
    charged = full.copy()                      # two alkali-layer Li removed: fewer ions, net charge -2 e
    alk = charged.supercell.alkali_sites
    charged.apply([(int(s), VACANCY) for s in alk[charged.occupancy[alk] == CODE["Li"]][:2]])
    view = CompareView()
    qtbot.addWidget(view)
    view.set_snapshots(full, snap.make_snapshot(full, "honeycomb"), snap.make_snapshot(swapped, "swap"))
    assert view.energy_difference is not None and "eV per cell" in view.diff.text()
    assert view.plots[0].legend.labels() == ["Li1+", "Mn4+"]      # each picture names its colours
    view.set_snapshots(full, snap.make_snapshot(full, "honeycomb"), snap.make_snapshot(charged, "charged"))
    assert view.energy_difference is None
    assert "different compositions" in view.diff.text() and "Li" in view.diff.text()
    neutral = charged.copy()                   # same ions as `charged`, the O taking the charge
    neutral.set_oxidation("O", -2.0 + 2 / len(neutral.supercell.o_sites))
    view.set_snapshots(full, snap.make_snapshot(charged, "charged"), snap.make_snapshot(neutral, "O holes"))
    assert view.energy_difference is None
    assert "net charge" in view.diff.text()


def test_tools_3d_view_opens_a_window_of_real_size(qtbot, isolated_settings):
    from gui.mainwindow import MainWindow
    w = MainWindow(Model.build("O3", "Li", supercell="3", layers=1, tm_spec="Li:1/3,Mn:2/3", seed=4))
    qtbot.addWidget(w, before_close_func=lambda win: win.document.undo_stack.setClean())
    w.show()
    qtbot.waitExposed(w)
    d3 = w.docks["view3d"]
    assert w.tabifiedDockWidgets(d3)                 # docked: one of the side tabs, full height
    action = next(a for a in w.menus["tools"].actions() if a.text().replace("&", "") == "3D view")
    action.trigger()
    QApplication.processEvents()
    screen = w.screen().availableGeometry()
    assert d3.isFloating() and d3.isVisible()
    assert d3.width() >= 0.5 * screen.width() and d3.height() >= 0.6 * screen.height()


def test_no_open_paths_says_why(qtbot):
    """A fully lithiated cell has no empty site to hop into: the panel says so and what to do."""
    from core.structure.species import CODE, VACANCY
    from gui.panels.migration_panel import compute_paths, why_no_paths
    full = Model.build("O3", "Li", supercell="3", layers=1, tm_spec="Li:1/3,Mn:2/3", seed=4)
    paths, _groups = compute_paths(full)
    assert not any(p.open for p in paths)
    assert "Remove some alkali first" in why_no_paths(full)
    emptied = full.copy()
    alk = emptied.supercell.alkali_sites
    emptied.apply([(int(s), VACANCY) for s in alk[emptied.occupancy[alk] == CODE["Li"]][:3]])
    assert "3 vacancies" in why_no_paths(emptied)
