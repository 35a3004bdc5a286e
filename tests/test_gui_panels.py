"""Analysis panels: Monte Carlo, migration, charge slider, XRD, snapshots / lab-meeting mode, figures.

Small cells and few sweeps keep this fast; physics is checked against core recomputed from scratch,
pymatgen, or the reference file, never against numbers copied from the panels.
"""
import importlib.util

import numpy as np
import pytest

pytest.importorskip("pytestqt")

from core.model import Model  # noqa: E402
from gui.document import Document  # noqa: E402
from gui.workers import TaskRunner  # noqa: E402


def have(mod: str) -> bool:
    return importlib.util.find_spec(mod) is not None


@pytest.fixture
def runner(qtbot):
    r = TaskRunner()
    yield r
    r.cancel_all()
    r.wait(10000)


def honeycomb_model(n=3, layers=1) -> Model:
    from core.orderings import preset_occupancy
    m = Model.build("O3", "Li", supercell=str(n), layers=layers, tm_spec="Li:1/3,Mn:2/3", seed=3)
    m.set_occupancy(preset_occupancy(m, "honeycomb"))
    return m


def random_model(n=3, layers=1, seed=5) -> Model:
    return Model.build("O3", "Li", supercell=str(n), layers=layers, tm_spec="Li:1/3,Mn:2/3", seed=seed)


# ---------------------------------------------------------------------------------------------- snapshots
def test_snapshots_are_undoable_and_survive_save_load(qtbot, tmp_path):
    from core.project import load_project, save_project
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

    # taking a snapshot is undoable too (and marks the document modified)
    n = doc.undo_stack.count()
    doc.undo_stack.undo()
    assert len(snap.snapshots(doc.model)) == 1 and doc.undo_stack.count() == n


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
    lab.enter()
    assert lab.active and QApplication.font().pointSizeF() > size
    lab.leave()
    assert not lab.active and QApplication.font().pointSizeF() == pytest.approx(size)


@pytest.mark.skipif(not have("core.ewald"), reason="core.ewald not available")
def test_compare_view_energy_difference_matches_pymatgen(qtbot):
    from pymatgen.analysis.ewald import EwaldSummation

    from core.pmg import to_structure
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
    assert "meV per MO2" in view.diff.text()


# ---------------------------------------------------------------------------------------------- XRD
def test_xrd_superlattice_window(qtbot, runner):
    from pymatgen.analysis.diffraction.xrd import XRDCalculator

    from core.pmg import to_structure
    from gui.panels.xrd_panel import XRDPanel

    doc = Document(honeycomb_model())
    panel = XRDPanel(doc, runner)
    qtbot.addWidget(panel)
    with qtbot.waitSignal(panel.sigUpdated, timeout=20000) as blocker:
        panel.recompute()
    hc = blocker.args[0]
    ref = XRDCalculator("CuKa").get_pattern(to_structure(doc.model), two_theta_range=(10, 80))
    assert np.allclose(hc["two_theta"], ref.x) and np.allclose(hc["intensity"], ref.y)
    # ordered honeycomb: superlattice reflections in 20-30 deg (reference section 11)
    assert hc["window_max"] > 5.0
    # an edit (back to a random layer) updates the pattern after the debounce, in the worker
    panel.show()
    with qtbot.waitSignal(panel.sigUpdated, timeout=20000) as blocker:
        doc.set_occupancy(random_model(seed=11).occupancy, "random")
    assert blocker.args[0]["window_max"] < hc["window_max"]
