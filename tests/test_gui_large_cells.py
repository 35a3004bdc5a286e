"""Large cells in the window: spglib holds the GIL for its whole run (growing as ~N^2), so above a size
the space-group readout is computed in a child process and the window stays responsive; small cells
are answered in the GUI process (milliseconds)."""
from gui_helpers import make_window, wait_idle

from core.structure.model import Model


def test_space_group_of_large_cells_comes_from_a_child_process(qtbot, isolated_settings, messages, monkeypatch):
    from core.structure.symmetry import clear_cache
    from gui import analysis
    monkeypatch.setattr(analysis, "IN_PROCESS_ATOMS", 20)  # a 3x3x1 LiCoO2 cell has 36 atoms
    clear_cache()   # an earlier test of the session may have answered this configuration in process
    w = make_window(qtbot, Model.build("O3", "Li", "3", 1, tm_spec="Co"))
    qtbot.waitUntil(lambda: "R-3m" in w.readouts.lab_spacegroup.text(), timeout=60000)
    assert "symmetry" in w.runner.lanes          # answered by the child process
    assert w.readouts.values["space_group"] == {"symbol": "R-3m", "number": 166}   # LiCoO2 (Orman 1984)
    wait_idle(qtbot, w)


def test_space_group_readout_of_small_cells_in_process(qtbot, isolated_settings, messages):
    w = make_window(qtbot, Model.build("O3", "Li", "3", 1, tm_spec="Co"))
    qtbot.waitUntil(lambda: "R-3m" in w.readouts.lab_spacegroup.text(), timeout=10000)
    assert "symmetry" not in w.runner.lanes
