"""Analysis panels: Monte Carlo, migration, charge slider, XRD, snapshots / lab-meeting mode, figures.

Small cells and few sweeps keep this fast; physics is checked against core recomputed from scratch,
pymatgen, or docs/science.md, never against numbers copied from the panels.
"""

import numpy as np
import pytest

pytest.importorskip("pytestqt")

from core.structure.model import Model  # noqa: E402
from gui.document import Document  # noqa: E402


def honeycomb_model(n=3, layers=1) -> Model:
    from core.orderings import preset_occupancy
    m = Model.build("O3", "Li", supercell=str(n), layers=layers, tm_spec="Li:1/3,Mn:2/3", seed=3)
    m.set_occupancy(preset_occupancy(m, "honeycomb"))
    return m


def random_model(n=3, layers=1, seed=5) -> Model:
    return Model.build("O3", "Li", supercell=str(n), layers=layers, tm_spec="Li:1/3,Mn:2/3", seed=seed)


# ---------------------------------------------------------------------------------------------- snapshots
def test_snapshots_survive_save_load_and_going_to_one_is_undoable(qtbot, tmp_path):
    from core.io.project import load_project, save_project
    from gui.panels import snapshots as snap
    from gui.panels.labmode import SnapshotPanel

    doc = Document(random_model())
    panel = SnapshotPanel(doc)
    qtbot.addWidget(panel)
    start = doc.model.occupancy.copy()
    panel.take("random")
    doc.set_occupancy(honeycomb_model().occupancy, "honeycomb")
    doc.model.set_oxidation("Mn", 3.5)
    panel.take("honeycomb")
    assert [s["name"] for s in snap.snapshots(doc.model)] == ["random", "honeycomb"]
    assert panel.list.count() == 2

    path = tmp_path / "with_snapshots.json"
    save_project(path, doc.model)
    loaded = load_project(path)
    snaps = snap.snapshots(loaded)
    assert [s["name"] for s in snaps] == ["random", "honeycomb"]
    occ0, ox0 = snap.snapshot_state(loaded, snaps[0])
    occ1, ox1 = snap.snapshot_state(loaded, snaps[1])
    assert np.array_equal(occ0, start)
    assert np.array_equal(occ1, honeycomb_model().occupancy)
    assert ox0["Mn"] == 4.0 and ox1["Mn"] == 3.5

    # going to a snapshot is one undo step; undo restores the state before it
    doc2 = Document(loaded)
    before = doc2.model.occupancy.copy()
    depth = doc2.undo_stack.count()
    assert snap.go_to_snapshot(doc2, 0)
    assert doc2.undo_stack.count() == depth + 1
    assert np.array_equal(doc2.model.occupancy, start) and doc2.model.oxidation["Mn"] == 4.0
    doc2.undo_stack.undo()
    assert np.array_equal(doc2.model.occupancy, before) and doc2.model.oxidation["Mn"] == 3.5

    # taking a snapshot is not an edit: Ctrl+Z right after it undoes the last edit (the honeycomb
    # arrangement), keeps every snapshot, and the document still counts as modified
    doc.mark_saved()
    assert not doc.modified
    panel.take("third")
    assert doc.modified
    n = doc.undo_stack.index()
    doc.undo_stack.undo()
    assert doc.undo_stack.index() == n - 1 and np.array_equal(doc.model.occupancy, start)
    assert len(snap.snapshots(doc.model)) == 3


def test_snapshot_from_other_supercell_is_refused(qtbot):
    from gui.panels import snapshots as snap
    small = Document(random_model(3))
    big = random_model(6)
    big.metadata["snapshots"] = [snap.make_snapshot(small.model, "small")]
    with pytest.raises(snap.SnapshotError, match="another supercell"):
        snap.go_to_snapshot(Document(big), 0)


def test_keyboard_steps_through_snapshots(qtbot):
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QMainWindow

    from gui.panels.labmode import LabMode, SnapshotPanel

    win = QMainWindow()
    doc = Document(random_model())
    panel = SnapshotPanel(doc)
    win.setCentralWidget(panel)
    qtbot.addWidget(win)
    lab = LabMode(win, panel)
    states = []
    for seed in (1, 2, 3):
        doc.set_occupancy(random_model(seed=seed).occupancy, f"seed {seed}")
        states.append(doc.model.occupancy.copy())
        panel.take(f"seed {seed}")
    win.show()
    qtbot.waitExposed(win)
    win.windowHandle().requestActivate()
    qtbot.waitUntil(win.isActiveWindow)
    for expected in (0, 1, 2, 0):
        qtbot.keyClick(win, Qt.Key_PageDown)
        assert np.array_equal(doc.model.occupancy, states[expected])
    qtbot.keyClick(win, Qt.Key_PageUp)
    assert np.array_equal(doc.model.occupancy, states[2])
    # F11 enters lab-meeting mode (full screen, larger font), Esc leaves it
    from PySide6.QtWidgets import QApplication
    size = QApplication.font().pointSizeF()
    qtbot.keyClick(win, Qt.Key_F11)
    assert lab.active and QApplication.font().pointSizeF() > size
    qtbot.waitUntil(win.isActiveWindow)
    qtbot.keyClick(win, Qt.Key_Right)   # arrows step only in lab mode
    assert np.array_equal(doc.model.occupancy, states[0])
    qtbot.keyClick(win, Qt.Key_Escape)
    assert not lab.active and QApplication.font().pointSizeF() == pytest.approx(size)
    qtbot.keyClick(win, Qt.Key_Right)
    assert np.array_equal(doc.model.occupancy, states[0])


def test_compare_view_energy_difference_matches_pymatgen(qtbot):
    from pymatgen.analysis.ewald import EwaldSummation

    from core.io.pmg import to_structure
    from gui.panels import snapshots as snap
    from gui.panels.labmode import CompareView

    hc, rnd = honeycomb_model(), random_model()
    view = CompareView()
    qtbot.addWidget(view)
    view.set_snapshots(hc, snap.make_snapshot(rnd, "random"), snap.make_snapshot(hc, "honeycomb"))
    e_hc = EwaldSummation(to_structure(hc, charges=True)).total_energy
    e_rnd = EwaldSummation(to_structure(rnd, charges=True)).total_energy
    assert view.energy_difference == pytest.approx(e_hc - e_rnd, abs=1e-5)
    assert view.energy_difference < 0  # the honeycomb is the Ewald ground state at 1:2 (reference sec. 6)
    assert "honeycomb" in view.titles[1].text()
    assert "per MO2" in view.diff.text()


# ---------------------------------------------------------------------------------------------- XRD
def test_xrd_superlattice_window(qtbot, runner):
    from pymatgen.analysis.diffraction.xrd import XRDCalculator

    from core.io.pmg import to_structure
    from gui.panels.xrd_panel import XRDPanel

    doc = Document(honeycomb_model())
    panel = XRDPanel(doc, runner)
    qtbot.addWidget(panel)
    # the pattern's child process runs at a lower CPU priority (automatic work): slow on a busy machine
    with qtbot.waitSignal(panel.sigUpdated, timeout=120000) as blocker:
        panel.recompute()
    hc = blocker.args[0]
    ref = XRDCalculator("CuKa").get_pattern(to_structure(doc.model), two_theta_range=(10, 80))
    assert np.allclose(hc["two_theta"], ref.x) and np.allclose(hc["intensity"], ref.y)
    # ordered honeycomb: superlattice reflections in 20-30 deg (docs/science.md §11)
    assert hc["window_max"] > 5.0
    panel.pin_reference()   # keep the ordered pattern in grey for comparison
    # an edit (back to a random layer) updates the pattern after the debounce, in the worker
    panel.show()
    with qtbot.waitSignal(panel.sigUpdated, timeout=120000) as blocker:
        doc.set_occupancy(random_model(seed=11).occupancy, "random")
    assert blocker.args[0]["window_max"] < hc["window_max"]
    assert len(panel.ref_curve.getData()[0]) > 0 and panel.reference is hc


# ---------------------------------------------------------------------------------------------- Monte Carlo
def test_monte_carlo_run_progress_apply_is_one_undo_step(qtbot, runner):
    from core.energy.ewald import EwaldEngine
    from core.orderings.recognition import recognise
    from gui.panels.mc_panel import MonteCarloPanel

    doc = Document(random_model(3, seed=7))
    start = doc.model.occupancy.copy()
    panel = MonteCarloPanel(doc, runner)
    qtbot.addWidget(panel)
    panel.sweeps.setValue(400)
    panel.seed.setValue(2)
    runner_items = []
    with qtbot.waitSignal(panel.sigRunFinished, timeout=60000) as done:
        with qtbot.waitSignal(panel.sigStarted, timeout=1000):
            panel.start_btn.click()
        panel.sigProgress.connect(runner_items.append)
    assert runner_items, "no progress signals arrived from the worker"
    assert np.array_equal(doc.model.occupancy, start)  # the run never touches the document
    best = done.args[0]
    assert panel.results.count() == len(best) >= 1
    energies = [e for e, _ in best]
    assert energies == sorted(energies)
    # the trace plot holds the run: best energy never increases
    _, ys = panel.best_curve.getData()
    assert len(ys) >= 10 and np.all(np.diff(ys) <= 1e-9)

    # previewing leaves the document alone; applying is ONE undo step
    panel.results.setCurrentRow(0)
    assert np.array_equal(doc.model.occupancy, start)
    depth = doc.undo_stack.count()
    assert panel.apply_selected()
    assert doc.undo_stack.count() == depth + 1
    # the applied state's energy, recomputed by a fresh engine, is the energy the panel listed
    fresh = EwaldEngine(doc.model.supercell).energy(doc.model.charges())
    assert fresh == pytest.approx(best[0][0], abs=1e-6)
    # Li1/3Mn2/3 anneals to the honeycomb, whose Ewald energy is the lowest (docs/science.md §6)
    hc = honeycomb_model(3)
    assert fresh == pytest.approx(EwaldEngine(hc.supercell).energy(hc.charges()), abs=1e-6)
    assert recognise(doc.model)["label"] == "honeycomb"
    doc.undo_stack.undo()
    assert np.array_equal(doc.model.occupancy, start)


def test_monte_carlo_abort(qtbot, runner):
    from gui.panels.mc_panel import MonteCarloPanel

    doc = Document(random_model(6, seed=1))
    panel = MonteCarloPanel(doc, runner)
    qtbot.addWidget(panel)
    panel.sweeps.setValue(100000)   # minutes if not aborted
    finished = []
    panel.sigRunFinished.connect(finished.append)
    panel.start()
    task = panel.task
    qtbot.waitUntil(lambda: len(panel.trace) >= 1, timeout=30000)
    with qtbot.waitSignal(panel.sigAborted, timeout=10000):
        panel.abort_btn.click()
    assert task.cancelled and panel.task is None
    assert not finished and panel.results.count() == 0
    assert panel.start_btn.isEnabled() and not panel.abort_btn.isEnabled()
    assert doc.undo_stack.count() == 0


def test_monte_carlo_nothing_to_anneal_is_a_message(qtbot, runner):
    from gui.panels.mc_panel import MonteCarloPanel

    doc = Document(Model.build("O3", "Li", supercell="3", layers=1, tm_spec="Co"))  # LiCoO2
    panel = MonteCarloPanel(doc, runner)
    qtbot.addWidget(panel)
    panel.start()
    qtbot.waitUntil(lambda: panel.task is None, timeout=20000)
    assert "nothing to anneal" in panel.status.text()
    assert panel.start_btn.isEnabled() and panel.results.count() == 0


# ---------------------------------------------------------------------------------------------- migration
def delithiated_honeycomb(n=3):
    """Honeycomb Li2MnO3 with every TM-layer Li removed: in-plane Mn migration into the vacated
    honeycomb centres opens (docs/science.md §7)."""
    m = honeycomb_model(n)
    sc = m.supercell
    centres = sc.tm_sites[m.occupancy[sc.tm_sites] == 1]
    m.apply([(int(s), 0) for s in centres])
    return m


def test_migration_path_selected_and_profile_shown(qtbot, runner):
    from core.migration.search import find_paths
    from gui.panels.migration_panel import MigrationPanel

    doc = Document(delithiated_honeycomb())
    panel = MigrationPanel(doc, runner)
    qtbot.addWidget(panel)
    with qtbot.waitSignal(panel.sigPathsUpdated, timeout=30000):
        panel.refresh()
    assert panel.table.rowCount() >= 1
    panel.filter.setCurrentIndex(1)  # TM migration only
    assert all(p.is_tm for p in panel.rows) and panel.rows
    with qtbot.waitSignal(panel.sigPathSelected) as sel:
        panel.select_row(0)
    path = sel.args[0]
    assert path.species == "Mn" and path.open
    # the plotted profile is core's for this path: total = Coulomb + repulsion, image 0 at zero
    ref = {(p.from_site, p.to_site, p.kind): p for p in find_paths(doc.model)}[(path.from_site, path.to_site,
                                                                                path.kind)]
    prof = panel.profile()
    assert np.allclose(prof["total"], ref.coulomb + ref.repulsion)
    assert np.allclose(prof["coulomb"], ref.coulomb) and prof["total"][0] == pytest.approx(0.0, abs=1e-9)
    assert len(prof["total"]) >= 9
    # animation walks the ion from the start site to the end site along the images
    moves = []
    panel.sigIonMoved.connect(lambda pos, code: moves.append(pos))
    for k in range(panel.n_frames()):
        panel.show_frame(k)
    assert np.allclose(moves[0], doc.model.supercell.cart[path.from_site])
    assert np.allclose(moves[len(path.images) - 1], path.images[-1])


def test_migration_paths_refresh_after_edit(qtbot, runner):
    from gui.panels.migration_panel import MigrationPanel

    doc = Document(honeycomb_model())
    panel = MigrationPanel(doc, runner)
    qtbot.addWidget(panel)
    panel.show()
    with qtbot.waitSignal(panel.sigPathsUpdated, timeout=30000):
        panel.refresh()
    # pristine Li2MnO3 honeycomb: no open TM path
    assert not any(p.is_tm and p.open for p in panel.paths)
    with qtbot.waitSignal(panel.sigPathsUpdated, timeout=30000):
        doc.set_occupancy(delithiated_honeycomb().occupancy, "remove TM-layer Li")
    assert any(p.is_tm and p.open and p.kind.startswith("inplane") for p in panel.paths)


# ---------------------------------------------------------------------------------------------- charge
def test_charge_slider_changes_readout_not_document(qtbot, runner):
    from core.analysis.capacity import mAh_per_g
    from gui.panels.charge_panel import ChargePanel

    doc = Document(honeycomb_model())
    doc.undo_stack.setClean()
    start = doc.model.occupancy.copy()
    panel = ChargePanel(doc, runner)
    qtbot.addWidget(panel)
    previews = []
    panel.sigPreview.connect(previews.append)
    with qtbot.waitSignal(panel.sigReady, timeout=30000):
        panel.rebuild()
    pristine = panel.readout.text()
    n = panel.slider.maximum()
    # Li2MnO3: 2 Li per MO2... per 3 O: every Li is extractable, 4/3 per MO2
    assert n * panel.cm.x_per_step == pytest.approx(4 / 3)
    panel.slider.setValue(n // 2)
    text = panel.readout.text()
    assert text != pristine
    # capacity so far for x = 2/3 Li per MO2 of Li[Li1/3Mn2/3]O2 (M from the reference: 116.818 / 1.5)
    q = 96485.33212 * (2 / 3) / (3.6 * 116.818 / 1.5)
    assert f"{q:.1f} mAh/g" in text
    assert abs(mAh_per_g(2 / 3, 116.818 / 1.5) - q) < 0.2
    assert "O2-/O-" in text      # Mn4+ is inert: oxygen compensates (docs/science.md §8)
    assert previews and previews[-1].step == n // 2
    # dragging and releasing never edits the document
    panel.slider.setValue(n)
    panel.slider.sliderReleased.emit()
    assert doc.undo_stack.count() == 0 and doc.undo_stack.isClean()
    assert np.array_equal(doc.model.occupancy, start)
    # "apply as edit" is one undo step; undo restores occupancy and oxidation states
    ox0 = dict(doc.model.oxidation)
    assert panel.apply_as_edit()
    assert doc.undo_stack.count() == 1
    assert not np.any(doc.model.occupancy == 1)          # all Li removed at full charge
    assert doc.model.net_charge == pytest.approx(0.0, abs=1e-6)  # holes on O keep it neutral
    doc.undo_stack.undo()
    assert np.array_equal(doc.model.occupancy, start) and doc.model.oxidation == ox0


# ---------------------------------------------------------------------------------------------- window
@pytest.fixture
def window(qtbot, messages, isolated_settings):
    from gui.mainwindow import MainWindow
    w = MainWindow(honeycomb_model(3))
    # clean before pytest-qt closes it: no unsaved-changes box at teardown
    qtbot.addWidget(w, before_close_func=lambda win: win.document.mark_saved())
    yield w
    w.runner.cancel_all()
    w.runner.wait(10000)


def test_install_adds_docks_menus_and_previews(qtbot, window):
    from PySide6.QtWidgets import QLabel

    from gui.panels import PanelHost

    host = window.panels
    assert isinstance(host, PanelHost)
    for name in ("monte_carlo", "migration", "state_of_charge", "xrd", "snapshots", "view3d"):
        assert name in window.docks
    texts = [a.text() for a in window.menus["tools"].actions()]
    assert any("Monte Carlo" in t for t in texts) and any("snapshot" in t.lower() for t in texts)
    import os
    if os.environ.get("QT_QPA_PLATFORM") == "offscreen":
        # no OpenGL on the offscreen platform: a plain message instead of the 3D view, no crash
        assert isinstance(host.view3d, QLabel) and not host.has_3d
        assert "3D view unavailable" in host.view3d.text()
    # a Monte Carlo preview recolours the layer view but not the document; an edit ends it
    lv = window.layer_view
    doc = window.document
    before = doc.model.occupancy.copy()
    other = random_model(3, seed=4).occupancy
    host.preview_occupancy(other)
    assert lv.model is not doc.model and np.array_equal(lv.model.occupancy, other)
    assert np.array_equal(doc.model.occupancy, before) and doc.undo_stack.count() == 0
    site = int(doc.model.supercell.tm_sites[0])
    doc.edit([(site, 6 if before[site] != 6 else 1)], "paint")
    assert lv.model is doc.model and host.overlay.preview_model is None


def test_charge_preview_moves_layer_view_and_paths(qtbot, window):
    host = window.panels
    doc = window.document
    with qtbot.waitSignal(host.charge.sigReady, timeout=30000):
        host.charge.rebuild()
    n = host.charge.slider.maximum()
    window.editor.set_lioli_overlay(True)
    lv = window.layer_view
    o = doc.model.supercell.o_sites
    assert np.all(lv._o_counts[o] == 1)   # Li2MnO3: one Li-O-Li axis on every O (reference sec. 9)
    host.charge.slider.setValue(n)
    assert np.all(lv._o_counts[o] == 0)   # fully delithiated preview: no Li left on any axis
    # the layer view shows the charged state (no Li left), the document keeps its Li
    assert not np.any(lv.model.occupancy == 1) and np.any(doc.model.occupancy == 1)
    assert host.migration.preview_model is lv.model
    assert host.overlay.oxo_item.isVisible()  # oxidised O marked
    # the key readouts of the previewed state are written on the layer view itself (lab-meeting mode)
    q_full = 96485.33212 * (4 / 3) / (3.6 * 116.818 / 1.5)   # all Li of Li[Li1/3Mn2/3]O2 removed
    assert f"{q_full:.0f} mAh/g" in host.overlay.banner.text() and "O2-/O-" in host.overlay.banner.text()
    # the Readouts dock follows the preview: energy of the charged state from a fresh engine, no Li-O-Li
    from core.energy.ewald import EwaldEngine
    ro = window.readouts
    state = host.charge.cm.state(n)
    fu = doc.model.formula_units()
    assert ro.preview_banner.isVisibleTo(ro)
    e_fresh = EwaldEngine(doc.model.supercell).energy(state.charges) / fu
    assert ro.lab_energy.text() == f"{e_fresh:.4f} eV"
    assert ro.lab_lioli_hist.text().startswith(f"{len(o)} / 0 / 0 / 0")
    assert ro.lab_capacity.text().startswith("<b>0.0</b>")   # nothing left to extract from MnO3
    assert ro.lab_formula.text() == "MnO3"
    doc_e = ro.energy_eV / fu
    assert ro.lab_delta.text() == f"{e_fresh - doc_e:+.3f} eV/MO2"
    # the space group follows the displayed state too (spglib on the previewed configuration)
    from core.structure.symmetry import space_group
    qtbot.waitUntil(lambda: ro.values.get("space_group") is not None, timeout=20000)
    assert ro.values["space_group"]["number"] == space_group(lv.model).number
    host.charge.slider.setValue(0)
    assert lv.model is doc.model and host.migration.preview_model is None
    assert np.all(lv._o_counts[o] == 1)
    assert not ro.preview_banner.isVisibleTo(ro)
    qtbot.waitUntil(lambda: ro.values.get("space_group") is not None, timeout=20000)
    assert ro.values["space_group"]["number"] == space_group(doc.model).number
    assert ro.lab_energy.text() == f"{ro.energy_eV / fu:.4f} eV"
    assert ro.lab_lioli_hist.text().startswith(f"0 / {len(o)} / 0 / 0")
    assert doc.undo_stack.count() == 0


def test_migration_arrow_on_layer_view(qtbot, window):
    doc = window.document
    doc.set_model(delithiated_honeycomb())
    host = window.panels
    with qtbot.waitSignal(host.migration.sigPathsUpdated, timeout=30000):
        host.migration.refresh()
    host.migration.filter.setCurrentIndex(1)
    host.migration.select_row(0)
    path = host.migration.selected
    pts = host.overlay.path_points()
    # the drawn arrow starts on the moving ion's disc and has the path's in-plane shape
    assert np.allclose(pts[0], window.layer_view.site_xy(path.from_site))
    assert np.allclose(pts - pts[0], path.images[:, :2] - path.images[0, :2])
    assert host.overlay.head.isVisible()


@pytest.mark.slow
def test_figure_export_4x_and_gifs(qtbot, window, tmp_path):
    from gui.panels.figures import FigureExportError, gif_frame_count, image_size

    window.resize(1000, 700)
    window.show()
    qtbot.waitExposed(window)
    lv = window.layer_view
    out = window.panels.export_figure("layer", tmp_path / "layer.png")
    assert image_size(out) == (4 * lv.width(), 4 * lv.height())
    with pytest.raises(FigureExportError):
        window.panels.export_figure("layer", tmp_path / "layer.xyz")

    # compare view of two snapshots, exported at 4x
    host = window.panels
    host.snapshots.take("honeycomb")
    window.document.set_occupancy(random_model(3, seed=9).occupancy, "random")
    host.snapshots.take("random")
    view = host.compare(0, 1)
    assert view is not None
    out = host.export_figure("compare", tmp_path / "compare.png")
    assert image_size(out) == (4 * view.width(), 4 * view.height())

    # GIF of a migration path: one frame per image, there and back
    window.document.set_model(delithiated_honeycomb())
    with qtbot.waitSignal(host.migration.sigPathsUpdated, timeout=30000):
        host.migration.refresh()
    host.migration.select_row(0)
    gif = host.export_migration_gif(tmp_path / "path.gif")
    assert gif_frame_count(gif) == 2 * len(host.migration.selected.images) - 2

    # GIF of a Monte Carlo run
    with qtbot.waitSignal(host.mc.sigRunFinished, timeout=60000):
        host.mc.sweeps.setValue(50)
        host.mc.start()
    gif = host.export_mc_gif(tmp_path / "mc.gif")
    assert gif_frame_count(gif) > 5


def test_lab_mode_gives_floating_docks_back_a_frame_later(qtbot):
    """Leaving lab mode shows the docked panels at once and the floating ones (windows of their own) a
    frame later, so their mapping and painting is not one stall with the main window's; entering again
    before that still restores everything on the next leave."""
    from gui_helpers import make_window

    w = make_window(qtbot, random_model(), install_panels=True)
    lab = w.panels.lab
    xrd = w.panels.docks["xrd"]
    w.panels.show_dock("xrd")
    xrd.setFloating(True)
    qtbot.waitUntil(xrd.isVisible, timeout=2000)
    before = {d.objectName(): d.isVisible() for d in lab.docks()}
    lab.enter()
    assert not xrd.isVisible()
    lab.leave()
    assert lab.restoring() and not xrd.isVisible()
    assert w.docks["readouts"].isVisible()
    qtbot.waitUntil(lambda: not lab.restoring(), timeout=2000)
    assert xrd.isVisible() and {d.objectName(): d.isVisible() for d in lab.docks()} == before
    lab.enter()
    lab.leave()
    lab.enter()          # again before the floating docks came back: they stay hidden in lab mode
    qtbot.wait(100)
    assert not xrd.isVisible()
    lab.leave()
    qtbot.waitUntil(lambda: not lab.restoring(), timeout=2000)
    assert {d.objectName(): d.isVisible() for d in lab.docks()} == before
