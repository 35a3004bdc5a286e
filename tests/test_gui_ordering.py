"""Monte Carlo panel schedule/replica fields, energy-vs-kT plot, labels from the recognition, wheel guard,
Apply on screen at 1280x800; the superlattice cell drawn on the layer view from the View menu."""
import numpy as np
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import QApplication

from core.orderings import preset_occupancy
from core.structure.model import Model
from gui.document import Document


def _wheel(widget, up=True):
    ev = QWheelEvent(QPointF(5, 5), QPointF(widget.mapToGlobal(QPoint(5, 5))), QPoint(0, 0),
                     QPoint(0, 120 if up else -120), Qt.NoButton, Qt.NoModifier, Qt.NoScrollPhase, False)
    QApplication.sendEvent(widget, ev)


def test_replica_run_fills_energy_vs_kT_and_labels(qtbot, runner):
    from gui.panels.mc_panel import MonteCarloPanel

    m = Model.build("O3", "Li", "3", tm_spec="Li:1/3,Mn:2/3", seed=7)
    doc = Document(m)
    panel = MonteCarloPanel(doc, runner)
    qtbot.addWidget(panel)
    panel.sweeps.setValue(300)
    panel.replicas.setValue(4)
    panel.schedule.setCurrentIndex(panel.schedule.findData("tempering"))
    panel.t_start.setValue(10.0)
    panel.t_end.setValue(0.1)
    assert panel.t_start.suffix() == " eV" and panel.t_start.specialValueText() == "auto"
    with qtbot.waitSignal(panel.sigRunFinished, timeout=60000):
        panel.start_btn.click()
    assert panel.result.replicas == 4 and panel.result.schedule == "tempering"
    assert panel.result.temperatures == (10.0, 0.1)
    x, y = panel.et_points.getData()
    # every record holds the four rungs of the fixed ladder 0.1 ... 10 eV (geometric)
    assert np.allclose(sorted(set(np.round(x, 9))), np.geomspace(0.1, 10.0, 4))
    assert len(x) == 4 * len(panel.result.trace)
    # the best entry is the honeycomb, labelled with its motif and Wood name by the recognition
    assert "honeycomb on sqrt3 x sqrt3 R30, confidence 1.00" in panel.results.item(0).text()
    assert "exchange acceptance" in panel.status.text()


def test_spin_boxes_ignore_wheel_unless_focused(qtbot, runner):
    from gui.panels.mc_panel import MonteCarloPanel

    panel = MonteCarloPanel(Document(Model.build("O3", "Li", "3", tm_spec="Li:1/3,Mn:2/3")), runner)
    qtbot.addWidget(panel)
    panel.show()
    qtbot.waitExposed(panel)
    for box in (panel.sweeps, panel.replicas, panel.t_start):
        before = box.value()
        _wheel(box)
        assert box.value() == before
    # under Xvfb there is no window manager: activate the window by hand before giving focus
    panel.windowHandle().requestActivate()
    qtbot.waitUntil(panel.isActiveWindow, timeout=2000)
    panel.replicas.setFocus()
    qtbot.waitUntil(panel.replicas.hasFocus, timeout=2000)
    before = panel.replicas.value()
    _wheel(panel.replicas)
    assert panel.replicas.value() == before + 1


def test_apply_on_screen_at_1280x800_and_cell_overlay(qtbot):
    from gui_helpers import make_window

    m = Model.build("O3", "Li", "6", tm_spec="Li:1/3,Mn:2/3", seed=1)
    m.set_occupancy(preset_occupancy(m, "honeycomb"))
    w = make_window(qtbot, m, install_panels=True)
    w.resize(1280, 800)
    w.panels.show_dock("mc")
    qtbot.waitUntil(lambda: not w.panels.mc.visibleRegion().isEmpty(), timeout=3000)
    btn = w.panels.mc.apply_btn
    QApplication.processEvents()
    top_left = btn.mapTo(w, QPoint(0, 0))
    assert not btn.visibleRegion().isEmpty()
    assert 0 <= top_left.y() and top_left.y() + btn.height() <= w.height()

    view = w.layer_view
    xs0 = view.cell_item.getData()[0]
    assert view.cell_info is None and (xs0 is None or len(xs0) == 0)
    w.act_cell.trigger()      # View > Superlattice cell
    assert view.show_cell and view.cell_info["name"] == "sqrt3 x sqrt3 R30"
    assert view.cell_info["lattice_points"] == 36 // 3
    xs, _ys = view.cell_item.getData()
    assert len(xs) == 4 * 12   # two edges (u, v) from each of the 12 lattice points
    w.act_cell.trigger()
    assert view.cell_info is None


def test_replicas_default_to_auto_and_coupled_vacancy_runs_use_replica_exchange(qtbot, runner):
    from core.orderings.montecarlo import auto_replicas
    from gui.panels.mc_panel import MonteCarloPanel

    m = Model.build("O3", "Li", [[3, 0], [0, 4]], tm_spec="Mn:5/6,Va:1/6", alkali_spec="Li:2/3", seed=4)
    panel = MonteCarloPanel(Document(m), runner)
    qtbot.addWidget(panel)
    assert panel.replicas.value() == 0 and panel.replicas.text() == "auto"
    panel.sublattice.setCurrentIndex(panel.sublattice.findData("all"))
    panel.sweeps.setValue(200)
    with qtbot.waitSignal(panel.sigRunFinished, timeout=60000):
        panel.start_btn.click()
    # TM vacancies beside a partly filled Li layer: replica exchange, as `layerstudio anneal` does by default
    assert panel.result.replicas == auto_replicas(m, "all") >= 8
    assert "replicas" in panel.status.text()


def test_readouts_name_the_ordering_of_the_layer_shown(qtbot):
    """The Ordering box names the stack and, on a second row, the layer the editor shows: switching the
    Layer box to an alkali layer with a Li/vacancy stripe order shows that layer's superlattice (as core's
    recognition of the same model, computed here from scratch, names it)."""
    from gui_helpers import make_window

    from core.orderings.recognition import recognise
    from core.report import ordering_phrase
    from core.structure.species import CODE, VACANCY

    m = Model.build("O3", "Li", "6", layers=3, tm_spec="Li:1/3,Mn:2/3", seed=1)
    m.set_occupancy(preset_occupancy(m, "honeycomb"))
    sc = m.supercell
    alk = sc.alkali_sites[sc.layer[sc.alkali_sites] == 1]
    occ = m.occupancy.copy()
    occ[alk] = np.where(sc.ijk[alk, 1] % 2 == 0, CODE["Li"], VACANCY)    # rows of Li, rows of vacancies
    m.occupancy[:] = occ
    w = make_window(qtbot, m)
    row = w.readouts.lab_layer_ordering
    qtbot.waitUntil(lambda: row.text().startswith("TM layer 1: honeycomb"), timeout=20000)
    assert row.isHidden()   # the same as the stack's label: no second row

    expect = {(p["kind"], p["layer"]): p for p in recognise(m)["per_layer"]}
    alkali = expect[("alkali", 1)]
    assert alkali["superlattice"]["name"] == "2 x 1"
    combo = w.layer_combo
    combo.setCurrentIndex(combo.findText("Alkali layer 2"))
    assert (w.layer_view.layer_kind, w.layer_view.layer_index) == ("alkali", 1)
    assert row.text() == "alkali layer 2: " + ordering_phrase(alkali) and not row.isHidden()
    combo.setCurrentIndex(combo.findText("Alkali layer 1"))
    assert row.text() == "alkali layer 1: " + ordering_phrase(expect[("alkali", 0)])   # "full, ..."
