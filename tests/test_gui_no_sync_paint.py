"""Work that froze the window on every update, now deferred or yielded:

- QProgressBar.setValue repaints synchronously (with the 3D dock in the window each repaint composes the
  whole window: ~110 ms per Monte Carlo progress record under Xvfb); gui.progressbar.ProgressBar paints
  in the next ordinary paint pass instead;
- the child processes of automatic recomputation (space group, XRD, state of charge) run at a lower CPU
  priority than those of user actions (Monte Carlo), so a run starts at once on a busy machine.
"""
import os

from PySide6.QtWidgets import QProgressBar

from gui.progressbar import ProgressBar


def _counting(cls):
    class Counting(cls):
        paints = 0

        def paintEvent(self, ev):  # noqa: N802
            type(self).paints += 1
            super().paintEvent(ev)
    return Counting


def test_progress_bar_paints_later_not_inside_set_value(qtbot):
    plain, ours = _counting(QProgressBar)(), _counting(ProgressBar)()
    for bar in (plain, ours):
        bar.setRange(0, 100)
        qtbot.addWidget(bar)
        bar.show()
        qtbot.waitExposed(bar)
        qtbot.wait(50)
    before = (type(plain).paints, type(ours).paints)
    plain.setValue(40)
    ours.setValue(40)
    # Qt's own bar painted inside setValue (the freeze); ours did not ...
    assert type(plain).paints > before[0]
    assert type(ours).paints == before[1]
    # ... but shows the new value at the next paint pass
    qtbot.waitUntil(lambda: type(ours).paints > before[1], timeout=2000)
    assert ours.value() == 40 and ours.updatesEnabled()


def test_automatic_lanes_run_at_lower_priority(qtbot):
    from gui.processes import BACKGROUND_NICE
    from gui.workers import TaskRunner

    runner = TaskRunner()
    try:
        got = {}
        for lane in ("xrd", "symmetry", "montecarlo"):
            runner.submit_process(lane, os.nice, 0, on_result=lambda v, k=lane: got.__setitem__(k, v))
        qtbot.waitUntil(lambda: len(got) == 3, timeout=60000)
        base = os.nice(0)
        assert got["montecarlo"] == base                       # the user's job: the window's priority
        assert got["xrd"] == got["symmetry"] == min(base + BACKGROUND_NICE, 19) > base
    finally:
        runner.shutdown()


def test_every_progress_bar_of_the_window_paints_later(qtbot):
    """No panel brings back Qt's synchronous bar: every progress bar of the window with all panels is ours."""
    from gui_helpers import make_window

    from core.structure.model import Model

    w = make_window(qtbot, Model.build("O3", "Li", "3", tm_spec="Co"), install_panels=True)
    bars = w.findChildren(QProgressBar)
    assert len(bars) >= 3
    assert [b.objectName() or type(b.parent()).__name__ for b in bars if not isinstance(b, ProgressBar)] == []
