"""Force-field panel in the window: relax through the worker (progress, result under the Ewald readout,
abort), on a 12-atom Li2MnO3 cell with real CHGNet."""
import pytest
from PySide6.QtCore import Qt

pytest.importorskip("pytestqt")
pytest.importorskip("chgnet")

from core.orderings import preset_occupancy  # noqa: E402
from core.structure.model import Model  # noqa: E402
from tests.gui_helpers import make_window, wait_engine  # noqa: E402


def li2mno3():
    m = Model.build("O3", "Li", "sqrt3", 1, tm_spec="Li:1/3,Mn:2/3")
    m.set_occupancy(preset_occupancy(m, "honeycomb"))
    return m


@pytest.mark.slow
def test_relax_action_progress_readout_and_abort(qtbot):
    from core.mlip.models import get_energy_model

    get_energy_model("chgnet", threads=1)  # load once, outside the timed waits
    w = make_window(qtbot, li2mno3(), install_panels=True)
    wait_engine(qtbot, w)
    panel = w.panels.forcefield
    assert w.readouts.isAncestorOf(panel.readout)  # the box sits in the readouts, under the Ewald energy
    assert panel.readout.isHidden()  # until there is a result
    panel.steps.setValue(4)
    panel.fmax.setValue(0.1)
    qtbot.mouseClick(panel.relax_btn, Qt.LeftButton)
    qtbot.waitUntil(lambda: panel.result is not None and panel.task is None, timeout=240000)
    res = panel.result
    assert [i["step"] for i in panel.progress_items][:2] == [0, 1]
    assert res.relaxed and res.energy_eV < res.initial_energy_eV and res.steps <= 4
    assert panel.readout.relaxed.text().startswith(f"{res.energy_eV_per_MO2:.4f} eV/MO2")
    assert panel.readout.unrelaxed.text() == f"{res.initial_energy_eV_per_MO2:.4f} eV/MO2"
    assert "Mn4+ 2" in panel.readout.moments.text() and not panel.readout.isHidden()
    assert len(panel.o_hole_sites()) == 0  # pristine Li2MnO3: no O holes
    # abort: a long relaxation stopped after its first steps leaves the last result in place
    panel.fmax.setValue(0.005)
    panel.steps.setValue(500)
    qtbot.mouseClick(panel.relax_btn, Qt.LeftButton)
    assert panel.abort_btn.isEnabled() and not panel.relax_btn.isEnabled()
    qtbot.waitUntil(lambda: len(panel.progress_items) >= 2, timeout=120000)
    qtbot.mouseClick(panel.abort_btn, Qt.LeftButton)
    qtbot.waitUntil(lambda: panel.task is None, timeout=60000)
    assert "aborted" in panel.status.text()
    assert panel.result is res and len(panel.progress_items) < 20
    assert panel.relax_btn.isEnabled()
