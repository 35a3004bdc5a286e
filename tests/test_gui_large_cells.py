"""The space-group readout in the window: the framework's (TM + O) and the cell's group come from the
host lattice's operations in a worker (milliseconds on any cell); spglib, which holds the GIL for its
whole run (growing as ~N^2), runs only when those cannot decide, in a child process above a size, and
the readout says meanwhile that it shows the framework."""
from gui_helpers import make_window, wait_idle

from core.structure.model import Model


def _texts(w):
    seen = []
    w.analysis.sigChanged.connect(lambda names: seen.append(w.readouts.lab_spacegroup.text()))
    return seen


def test_space_group_without_spglib_search(qtbot, isolated_settings, messages):
    from core.structure.symmetry import clear_cache
    clear_cache()   # an earlier test of the session may have answered this configuration with spglib
    w = make_window(qtbot, Model.build("O3", "Li", "3", 1, tm_spec="Co"))
    qtbot.waitUntil(lambda: w.readouts.values.get("space_group") is not None, timeout=20000)
    assert w.readouts.values["space_group"] == {"symbol": "R-3m", "number": 166}   # LiCoO2 (Orman 1984)
    fw = w.readouts.summary["framework_space_group"]
    assert (fw["symbol"], fw["number"]) == ("R-3m", 166)
    assert "symmetry" not in w.runner.lanes          # no spglib child needed
    wait_idle(qtbot, w)


def test_framework_first_then_spglib_in_a_child(qtbot, isolated_settings, messages, monkeypatch):
    """All octahedral sites Li: the TM and alkali layers hold the same species, so the lattice method
    cannot tell them apart and spglib (a child process here) decides the cell's group; the framework
    (Li + O, alkali layers emptied: CdI2-type layers, R-3m) is shown first, saying so."""
    from gui import analysis
    monkeypatch.setattr(analysis, "IN_PROCESS_ATOMS", 20)
    model = Model.build("O3", "Li", "3", 3, tm_spec="Li")
    from core.structure.symmetry import clear_cache, space_group
    clear_cache()
    expected = space_group(model)           # spglib on the whole cell, from scratch
    clear_cache()
    w = make_window(qtbot, Model.build("O3", "Li", "3", 1, tm_spec="Co"))
    wait_idle(qtbot, w)
    seen = _texts(w)
    w.document.set_model(model)
    qtbot.waitUntil(lambda: w.readouts.values.get("space_group") is not None, timeout=60000)
    assert "symmetry" in w.runner.lanes      # answered by the child process
    assert w.readouts.values["space_group"] == {"symbol": expected.symbol, "number": expected.number}
    pending = [t for t in seen if "framework; full pending" in t]
    assert pending and pending[0].startswith("R-3m (166)")
    assert seen.index(pending[0]) < seen.index(w.readouts.lab_spacegroup.text())
    wait_idle(qtbot, w)
