"""Autosave on a timer: one unsaved edit (fewer than the every-N-edits count) is on disk within the
autosave delay, so a crash loses at most that many seconds of work."""
import numpy as np
from gui_helpers import click_site, make_window

from core.io.project import load_project
from core.structure.model import Model
from core.structure.species import CODE


def test_single_edit_is_autosaved_after_the_delay(qtbot, isolated_settings, messages):
    from gui import recovery
    assert recovery.AUTOSAVE_DELAY_S == 10.0  # the interval stated in the README
    w = make_window(qtbot, Model.build("O3", "Li", "3", 1, tm_spec="Co"))
    assert w.recovery.every == recovery.AUTOSAVE_EVERY > 1
    w.recovery.timer.setInterval(200)  # the same timer, shortened for the test
    w.palette.set_species(CODE["Mg"])
    click_site(qtbot, w.layer_view, int(w.layer_view.sites[0]))
    assert w.document.modified and not w.recovery.path.exists()  # one edit: below the edit count
    qtbot.waitUntil(w.recovery.path.exists, timeout=3000)
    assert w.recovery.saves == 1
    assert np.array_equal(load_project(w.recovery.path).occupancy, w.document.model.occupancy)
    w.document.undo_stack.setClean()  # saved by the user: recovery file gone, timer stopped
    assert not w.recovery.path.exists() and not w.recovery.timer.isActive()
