"""Large cells in the window: the space-group readout (spglib holds the GIL and grows as ~N^2) is not
computed above a size, and says so, so the window stays responsive."""
from gui_helpers import make_window

from core.structure.model import Model


def test_space_group_readout_is_skipped_on_large_cells(qtbot, isolated_settings, messages, monkeypatch):
    from gui import readouts
    monkeypatch.setattr(readouts, "SPACE_GROUP_MAX_ATOMS", 20)  # a 3x3x1 LiCoO2 cell has 36 atoms
    w = make_window(qtbot, Model.build("O3", "Li", "3", 1, tm_spec="Co"))
    w.readouts._run_slow()
    assert "not computed for 36 atoms" in w.readouts.lab_spacegroup.text()
    assert not any(t.label == "Space group" for t in w.runner.tasks)


def test_space_group_readout_still_computed_on_small_cells(qtbot, isolated_settings, messages):
    w = make_window(qtbot, Model.build("O3", "Li", "3", 1, tm_spec="Co"))
    w.readouts._run_slow()
    qtbot.waitUntil(lambda: "R-3m" in w.readouts.lab_spacegroup.text(), timeout=10000)
