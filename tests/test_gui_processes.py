"""Cooperative child-process lanes: an abort stops the job at its next step and keeps the child (and what
it has loaded); a superseded job is dropped; a plain lane still kills and restarts its child."""
import pytest

pytest.importorskip("pytestqt")

from tests.child_jobs import counted_steps  # noqa: E402


@pytest.fixture
def lanes(runner):
    yield runner
    runner.shutdown()   # the children end with their lanes


def test_cooperative_lane_abort_keeps_child(qtbot, lanes):
    runner = lanes
    lane = runner.lane("coop", cooperative=True)
    got, progress, finished = [], [], []
    job = runner.submit_process("coop", counted_steps, 400, on_result=got.append, on_progress=progress.append,
                                on_finished=lambda: finished.append(1))
    qtbot.waitUntil(lambda: len(progress) >= 2, timeout=20000)
    pid = lane._proc.pid
    assert progress[0]["pid"] == pid
    job.cancel()
    assert finished == [1] and not lane.busy() and got == []   # the caller is free at once
    # the next job runs in the same child once the aborted one has stopped at its next step
    runner.submit_process("coop", counted_steps, 3, on_result=got.append)
    qtbot.waitUntil(lambda: bool(got), timeout=20000)
    assert got == [(3, pid, False)] and lane.restarts == 0 and lane._proc.pid == pid


def test_cooperative_lane_superseded_jobs_are_dropped(qtbot, lanes):
    runner = lanes
    lane = runner.lane("coop2", cooperative=True)
    results = {k: [] for k in "abc"}
    runner.submit_process("coop2", counted_steps, 400, on_result=results["a"].append)
    runner.submit_process("coop2", counted_steps, 400, on_result=results["b"].append)   # supersedes a
    runner.submit_process("coop2", counted_steps, 2, on_result=results["c"].append)     # supersedes b
    qtbot.waitUntil(lambda: bool(results["c"]), timeout=30000)
    assert results["a"] == [] and results["b"] == [] and results["c"][0][0] == 2
    assert lane.restarts == 0


def test_plain_lane_still_kills_on_cancel(qtbot, lanes):
    runner = lanes
    lane = runner.lane("plain")
    progress = []
    job = runner.submit_process("plain", counted_steps, 400, on_progress=progress.append)
    qtbot.waitUntil(lambda: bool(progress), timeout=20000)
    job.cancel()
    assert lane.restarts == 1 and not lane._alive()


def test_forcefield_jobs_in_the_lane_relay_results_and_user_errors(qtbot, lanes):
    """The window's force-field jobs through a cooperative lane: an Ewald single point equals the one
    computed here; a relaxation with a model without forces comes back as one line."""
    from core.mlip.jobs import relax_with_moments
    from core.mlip.relax import single_point
    from core.orderings import preset_occupancy
    from core.structure.model import Model

    m = Model.build("O3", "Li", "sqrt3", 1, tm_spec="Li:1/3,Mn:2/3")
    m.set_occupancy(preset_occupancy(m, "honeycomb"))
    runner = lanes
    runner.lane("ff", cooperative=True)
    got, errors = [], []
    runner.submit_process("ff", relax_with_moments, m, "ewald", 0.05, 0, False, on_result=got.append)
    qtbot.waitUntil(lambda: bool(got), timeout=30000)
    assert got[0][0].energy_eV == pytest.approx(single_point(m, "ewald", cache=False).energy_eV, abs=1e-9)
    runner.submit_process("ff", relax_with_moments, m, "ewald", 0.05, 5, False, on_error=errors.append)
    qtbot.waitUntil(lambda: bool(errors), timeout=30000)
    assert "no forces" in errors[0] and "\n" not in errors[0]
