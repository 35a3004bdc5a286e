"""Scheduling that cannot freeze or starve, and the stale-state fixes.

- a process lane runs GIL-holding work in a child; a newer job kills the running one;
- a user action starts at once although automatic work fills the automatic pool;
- a keyed automatic task supersedes the queued one (dropped without running);
- panels covered by another tab do not compute after an edit; raising their tab makes them catch up;
- after Open the Layer box and the view show the same layer; the charge panel drops the old numbers;
  the palette follows an oxidation change at once.
"""
import time

import numpy as np
from gui_helpers import make_window, wait_engine, wait_idle

from core.structure.model import Model


def _sleep(seconds, abort=None):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if abort is not None and abort.is_set():
            return "aborted"
        time.sleep(0.01)
    return seconds


def test_process_lane_supersedes_and_reports(qtbot):
    from reference_models import li2mno3_by_hand

    from core.structure.symmetry import cell_space_group, spglib_cell
    from gui.workers import TaskRunner

    runner = TaskRunner()
    try:
        got, errors = [], []
        # a job that would run for a minute, then a newer one: the first is killed, never reported
        runner.submit_process("lane", time.sleep, 60, on_result=got.append, on_error=errors.append)
        cell = spglib_cell(li2mno3_by_hand("sqrt3", layers=3))
        runner.submit_process("lane", cell_space_group, cell, 1e-3, on_result=got.append, on_error=errors.append)
        qtbot.waitUntil(lambda: bool(got or errors), timeout=60000)
        assert not errors and len(got) == 1
        assert got[0].number == 12          # C2/m Li2MnO3 (Strobel & Lambert-Andron 1988)
        assert runner.lanes["lane"].restarts == 1 and not runner.busy()
        # a failure in the child is one line, and the lane keeps working
        runner.submit_process("lane", cell_space_group, (np.eye(3), np.zeros((0, 3)), np.zeros(0, int)), 1e-3,
                              on_result=got.append, on_error=errors.append)
        qtbot.waitUntil(lambda: bool(errors), timeout=60000)
        assert "empty cell" in errors[0] and "\n" not in errors[0]
    finally:
        runner.shutdown()


def test_user_action_is_not_queued_behind_automatic_work(qtbot):
    from gui.workers import TaskRunner

    runner = TaskRunner(max_threads=2)
    try:
        for k in range(4):   # fills the automatic pool, two more wait
            runner.submit(_sleep, 3.0, label=f"auto {k}")
        done = []
        t0 = time.monotonic()
        task = runner.submit(_sleep, 0.01, label="Monte Carlo", user=True, on_result=done.append)
        qtbot.waitUntil(lambda: bool(done), timeout=2000)
        assert task.started_at - t0 < 0.5
        # a keyed task still queued is dropped (never run) when a newer one with the key arrives
        first = runner.submit(_sleep, 0.01, label="XRD", key="xrd")
        second = runner.submit(_sleep, 0.01, label="XRD", key="xrd")
        assert first.cancelled and first.done.is_set() and first.started_at is None
        assert not second.cancelled
    finally:
        runner.shutdown()


def test_covered_panels_wait_and_catch_up(qtbot, isolated_settings, messages):
    w = make_window(qtbot, Model.build("O3", "Li", "3", layers=2, tm_spec="Li:1/3,Mn:2/3", seed=2),
                    install_panels=True)
    wait_engine(qtbot, w)
    w.docks["readouts"].raise_()
    wait_idle(qtbot, w)
    host = w.panels
    for key in ("migration", "charge", "xrd"):
        assert host.docks[key].visibleRegion().isEmpty() or not host.docks[key].isVisible()
    started = []
    w.runner.sigProgress.connect(lambda label, *_: started.append(label))
    w.document.edit([(int(np.flatnonzero(w.document.model.supercell.role == "tm")[0]), 0)], "edit")
    wait_idle(qtbot, w)
    assert not {"Migration paths", "Charge model", "XRD"} & set(started), started
    # the charge panel's tab comes up: it computes for the current state
    host.show_dock("charge")
    qtbot.waitUntil(lambda: host.charge.values is not None, timeout=20000)
    assert "Charge model" in started


def test_layer_box_charge_panel_and_palette_follow_the_document(qtbot, isolated_settings, messages):
    from core.analysis.charge import ChargeModel
    from core.structure.species import CODE

    w = make_window(qtbot, Model.build("O3", "Li", "3", layers=2, tm_spec="Li:1/3,Mn:2/3", seed=2),
                    install_panels=True)
    wait_engine(qtbot, w)
    host = w.panels
    host.show_dock("charge")
    qtbot.waitUntil(lambda: host.charge.values is not None, timeout=20000)
    old_text = host.charge.readout.text()
    w.layer_combo.setCurrentIndex(w.layer_combo.findText("Alkali layer 2"))
    assert (w.layer_view.layer_kind, w.layer_view.layer_index) == ("alkali", 1)
    # "Open" another model with the same layers: box and view still agree
    other = Model.build("O3", "Li", "3", layers=2, tm_spec="Ni:1/2,Mn:1/2", seed=5)
    w.document.set_model(other)
    assert w.layer_combo.currentText() == "Alkali layer 2"
    assert (w.layer_view.layer_kind, w.layer_view.layer_index) == ("alkali", 1)
    # the charge panel no longer shows the old model's numbers, then shows the new model's
    assert host.charge.values is None and host.charge.readout.text() != old_text
    qtbot.waitUntil(lambda: host.charge.values is not None, timeout=20000)
    assert host.charge.values["n_steps"] == ChargeModel(other.copy()).n_steps
    # fewer layers: both fall back to layer 1 of the same kind
    w.document.set_model(Model.build("O3", "Li", "3", layers=1, tm_spec="Co", seed=1))
    assert w.layer_combo.currentText() == "Alkali layer 1"
    assert (w.layer_view.layer_kind, w.layer_view.layer_index) == ("alkali", 0)
    # the palette shows an oxidation change at once
    w.document.model.set_oxidation("Co", 3.5)
    assert "3.5+" in w.palette.buttons[CODE["Co"]].text()
    wait_idle(qtbot, w)


def test_waiting_lane_keeps_its_child_and_runs_only_the_newest(qtbot):
    """The quick space-group lane keeps its child (and the operation tables cached there): a newer job
    waits for the running one instead of killing it, and of several waiting only the newest runs."""
    from gui.processes import WAITING_LANES
    from gui.workers import TaskRunner

    assert "symmetry-quick" in WAITING_LANES
    runner = TaskRunner()
    try:
        got, finished = [], []
        runner.submit_process("symmetry-quick", time.sleep, 1.0, on_result=got.append,
                              on_finished=lambda: finished.append("sleep"))
        older = runner.submit_process("symmetry-quick", max, 5, 0, on_result=got.append,
                                      on_finished=lambda: finished.append("older"))
        runner.submit_process("symmetry-quick", max, 7, 0, on_result=got.append,
                              on_finished=lambda: finished.append("newest"))
        assert older.cancelled and finished == ["older"]     # dropped without running
        qtbot.waitUntil(lambda: not runner.busy(), timeout=60000)
        assert got == [None, 7] and finished == ["older", "sleep", "newest"]
        assert runner.lanes["symmetry-quick"].restarts == 0  # never killed
    finally:
        runner.shutdown()
