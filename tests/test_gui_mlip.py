"""Force-field panel in the window, with real CHGNet on small cells and real clicks: relax through the
force-field child process (progress, readout, O-hole map, abort keeps the child and the user's work, export
and open of the relaxed structure); NEB of a selected migration path (progress, abort, resume, profile beside
the electrostatic one, animation along the images); the re-rank action and its plot."""
import numpy as np
import pytest
from PySide6.QtCore import Qt

pytest.importorskip("pytestqt")
pytest.importorskip("chgnet")

from core.orderings import preset_occupancy  # noqa: E402
from core.structure.model import Model  # noqa: E402
from core.structure.species import VACANCY  # noqa: E402
from tests.gui_helpers import make_window, wait_engine  # noqa: E402

LONG = 240000


def li2mno3(cell="sqrt3"):
    m = Model.build("O3", "Li", cell, 1, tm_spec="Li:1/3,Mn:2/3")
    m.set_occupancy(preset_occupancy(m, "honeycomb"))
    return m


def click(qtbot, button):
    assert button.isEnabled(), button.text()
    qtbot.mouseClick(button, Qt.LeftButton)


def idle(qtbot, panel, timeout=LONG):
    qtbot.waitUntil(lambda: panel.task is None, timeout=timeout)


@pytest.mark.slow
def test_relax_action_progress_readout_abort_export_open(qtbot, tmp_path):
    import pyqtgraph as pg
    from ase.io import read

    w = make_window(qtbot, li2mno3(), install_panels=True)
    wait_engine(qtbot, w)
    panel, overlay = w.panels.forcefield, w.panels.overlay
    assert w.readouts.isAncestorOf(panel.readout)  # the box sits in the readouts, under the Ewald energy
    assert panel.readout.isHidden()  # until there is a result
    panel.steps.setValue(4)
    panel.fmax.setValue(0.1)
    click(qtbot, panel.relax_btn)
    idle(qtbot, panel)
    res = panel.result
    assert res is not None, panel.status.text()
    assert [i["step"] for i in panel.progress_items][:2] == [0, 1]
    assert res.relaxed and res.energy_eV < res.initial_energy_eV and res.steps <= 4
    assert panel.readout.relaxed.text().startswith(f"{res.energy_eV_per_MO2:.4f} eV/MO2")
    assert panel.readout.unrelaxed.text() == f"{res.initial_energy_eV_per_MO2:.4f} eV/MO2"
    assert "Mn4+ 2" in panel.readout.moments.text() and not panel.readout.isHidden()
    assert len(panel.o_hole_sites()) == 0  # pristine Li2MnO3: no O holes

    # O-hole map: every O of the shown layer coloured by its moment on the heat scale, colour bar beside
    o_sites = np.asarray(panel.moments["o"]["sites"])
    o_mom = np.asarray(panel.moments["o"]["moments"])
    shown = overlay.o_moment_item.data["data"]
    assert len(shown) > 0 and set(shown) <= set(o_sites.tolist())
    cmap = pg.colormap.get("CET-L3")
    expect = [cmap.map(np.round(min(abs(o_mom[list(o_sites).index(s)]), 1.0) * 15) / 15, mode="byte")
              for s in shown]
    assert np.array_equal(overlay.o_moment_brushes(), np.array(expect, np.uint8))
    assert overlay.o_moment_bar.isVisible()
    assert (o_mom < 0.2).all()   # O2- in the pristine oxide: the dark end of the scale

    first_res = res
    # a second job reuses the child's loaded CHGNet: it answers far sooner than the first
    lane = w.runner.lanes["forcefield"]
    pid = lane._proc.pid
    click(qtbot, panel.point_btn)
    idle(qtbot, panel)
    first, second = panel.latencies[0], panel.latencies[1]
    print(f"force-field latency: first job {first:.2f} s, second job {second:.2f} s")
    assert second < first / 2

    # abort: a long relaxation stopped after its first steps leaves the last result and the child in place
    panel.fmax.setValue(0.005)
    panel.steps.setValue(500)
    panel.cell.setChecked(True)
    click(qtbot, panel.relax_btn)
    assert panel.abort_btn.isEnabled() and not panel.relax_btn.isEnabled()
    qtbot.waitUntil(lambda: len(panel.progress_items) >= 2, timeout=LONG)
    click(qtbot, panel.abort_btn)
    idle(qtbot, panel, 5000)   # the panel is free at once; the child stops at its next step
    assert "aborted" in panel.status.text()
    assert panel.result.steps <= 4 and panel.relax_btn.isEnabled()
    assert lane._proc.pid == pid and lane.restarts == 0
    assert w.document.model.formula() == li2mno3().formula()   # the user's work is untouched

    # the first relaxation again: answered from the child's cache, then exported (CIF, POSCAR)
    panel.fmax.setValue(0.1)
    panel.steps.setValue(4)
    panel.cell.setChecked(False)
    click(qtbot, panel.relax_btn)
    idle(qtbot, panel)
    res = panel.result
    assert res.cached and res.relaxed and res.energy_eV == pytest.approx(first_res.energy_eV)
    for name in ("relaxed.cif", "POSCAR"):
        atoms = read(panel.export_relaxed(str(tmp_path / name)))
        assert atoms.get_chemical_formula() == res.atoms.get_chemical_formula()
        assert np.allclose(atoms.get_scaled_positions() % 1.0, res.atoms.get_scaled_positions() % 1.0, atol=1e-4)
    # ... and opens in the editor as a new document (the panel's results belong to the old one)
    click(qtbot, panel.open_btn)
    qtbot.waitUntil(lambda: w.document.model.metadata.get("title", "").startswith("relaxed"), timeout=60000)
    assert w.document.model.formula() == li2mno3().formula()
    assert panel.result is None and panel.readout.isHidden() and not overlay.o_moment_item.isVisible()


def lco_with_vacancy():
    m = Model.build("O3", "Li", "2", layers=1, tm_spec="Co")   # 16 atoms
    m.apply([(int(m.supercell.alkali_sites[0]), VACANCY)])
    return m


@pytest.mark.slow
def test_neb_of_selected_path_abort_resume_profile_animation(qtbot):
    w = make_window(qtbot, lco_with_vacancy(), install_panels=True)
    wait_engine(qtbot, w)
    panel, mig = w.panels.forcefield, w.panels.migration
    w.panels.show_dock("migration")
    click(qtbot, mig.refresh_btn)
    qtbot.waitUntil(lambda: len(mig.rows) > 0, timeout=60000)
    row = next(i for i, p in enumerate(mig.rows) if p.species == "Li")
    rect = mig.table.visualItemRect(mig.table.item(row, 0))
    qtbot.mouseClick(mig.table.viewport(), Qt.LeftButton, pos=rect.center())
    path = mig.selected
    assert path is not None and path.species == "Li"
    electro = mig.profile()["total"].copy()

    w.panels.show_dock("forcefield")
    panel.images.setValue(1)
    panel.fmax.setValue(0.2)
    panel.steps.setValue(60)
    click(qtbot, panel.neb_btn)
    assert panel.abort_btn.isEnabled() and not panel.neb_btn.isEnabled()
    # progress through the end points, then the band; abort once the band has been saved twice
    qtbot.waitUntil(lambda: sum(i.get("stage") == "band" for i in panel.progress_items) >= 2, timeout=LONG)
    print("NEB progress before abort:", [(i.get("stage"), i.get("step")) for i in panel.progress_items][-4:])
    assert panel.bar.value() > 0
    click(qtbot, panel.abort_btn)
    idle(qtbot, panel, 5000)
    assert "aborted" in panel.status.text() and panel.neb is None
    assert panel.resume_btn.isEnabled() and mig.neb is None

    panel.steps.setValue(3)   # the resumed run keeps the aborted run's settings
    click(qtbot, panel.resume_btn)
    idle(qtbot, panel)
    res = panel.neb
    assert res is not None, panel.status.text()
    assert res.resumed and panel.progress_items[0]["stage"] == "resume"
    assert len(res.energies) == 3 and res.energies[0] == 0.0 and res.barrier_eV > 0.0
    # the profile is drawn beside the electrostatic one, over the same path
    prof = mig.profile()
    assert np.array_equal(prof["total"], electro)
    assert np.allclose(prof["neb"], res.energies)
    x, y = mig.neb_curve.getData()
    assert np.allclose(y, res.energies) and x[0] == 0.0 and x[-1] == len(path.images) - 1
    assert "NEB" in mig.key.text()

    # the animation walks the ion along the NEB images (the middle image is the relaxed saddle estimate)
    moved = []
    mig.sigIonMoved.connect(lambda pos, code: moved.append(None if pos is None else np.array(pos)))
    click(qtbot, panel.animate_btn)
    qtbot.waitUntil(lambda: len([m for m in moved if m is not None]) >= 3, timeout=10000)
    click(qtbot, panel.animate_btn)
    band = panel.neb_positions()
    k = res.moving_atom
    mid = res.images[1].positions[k]
    assert np.allclose(band[0], path.images[0]) and np.allclose(band[1][:2] - band[0][:2],
                                                                 mid[:2] - res.images[0].positions[k][:2], atol=1e-6)
    shown = [m for m in moved if m is not None][:3]
    assert all(np.allclose(a, b) for a, b in zip(shown, band))


@pytest.mark.slow
def test_rerank_action_plot_matches_core(qtbot):
    from core.mlip.relax import run
    from core.mlip.rerank import rerank

    model = li2mno3("3")   # 36 atoms
    w = make_window(qtbot, model, install_panels=True)
    wait_engine(qtbot, w)
    mc, panel = w.panels.mc, w.panels.forcefield
    w.panels.show_dock("mc")
    mc.sweeps.setValue(50)
    click(qtbot, mc.start_btn)
    qtbot.waitUntil(lambda: mc.result is not None, timeout=60000)
    occs = [occ for _, occ in mc.result.configurations]
    assert len(occs) >= 2
    w.panels.show_dock("forcefield")
    click(qtbot, panel.rerank_btn)
    idle(qtbot, panel)
    table = panel.rerank_table
    assert table is not None, panel.status.text()
    expect = run(rerank(w.document.model, occs, "chgnet"))   # the same question asked of core directly
    pts = panel.rank_points()
    assert np.array_equal(pts, [[r["ewald_rank"], r["model_rank"]] for r in expect["rows"]])
    assert f"{expect['spearman']:.2f}" in panel.status.text()
    assert "Spearman" in panel.plot.getPlotItem().titleLabel.text
    assert panel.table.rowCount() == len(occs)


@pytest.mark.slow
def test_charge_panel_moments_along_the_path(qtbot):
    """Li2MnO3 delithiated: Mn stays Mn4+ (about 3 muB) and the charge goes to O, whose mean moment rises
    (Seo et al., Nat. Chem. 2016; CHGNet gives about 0.05 -> 0.5 muB here)."""
    w = make_window(qtbot, li2mno3(), install_panels=True)
    wait_engine(qtbot, w)
    w.panels.show_dock("charge")
    charge = w.panels.charge
    box = charge.moments
    charge.order.setCurrentIndex(charge.order.findData("alkali_layer"))
    box.states.setValue(2)
    click(qtbot, box.run_btn)
    qtbot.waitUntil(lambda: box.rows is not None, timeout=LONG)
    rows = box.rows
    assert len(rows) == 3 and rows[0]["x_removed"] == 0.0 and rows[-1]["x_removed"] > 0.3
    o = box.curve("O")
    assert np.allclose(o[:, 0], [r["x_removed"] for r in rows])
    assert np.allclose(o[:, 1], [r["o_moment_mean"] for r in rows])
    assert o[0, 1] < 0.15 and o[-1, 1] > o[0, 1] + 0.2
    mn = box.curve("Mn")[:, 1]
    assert np.all(np.abs(mn - 3.0) < 0.5)   # Mn4+ d3 throughout
    assert rows[0]["oxidation_counts"] == {"Mn4+": 2}
    assert "x = 0.000: Mn4+ 2" in box.status.text()


@pytest.mark.slow
def test_force_field_tab_loads_the_model_before_the_first_job(qtbot):
    """Bringing the Force field tab to the top starts its child and loads CHGNet there (a covered tab
    loads nothing); the first job after that answers in a fraction of the load time."""
    import time

    w = make_window(qtbot, li2mno3(), install_panels=True)
    wait_engine(qtbot, w)
    panel = w.panels.forcefield
    lane = w.runner.lanes["forcefield"]
    qtbot.wait(200)
    assert not lane._alive() and not lane.busy()   # covered tab: no child, no model
    started = time.monotonic()
    w.panels.show_dock("forcefield")
    qtbot.waitUntil(lane.busy, timeout=5000)
    qtbot.waitUntil(lambda: not lane.busy(), timeout=LONG)
    load_s = time.monotonic() - started
    pid = lane._proc.pid
    click(qtbot, panel.point_btn)
    idle(qtbot, panel)
    assert panel.result is not None, panel.status.text()
    print(f"force-field load {load_s:.1f} s, first job after it {panel.latencies[0]:.2f} s")
    assert panel.latencies[0] < load_s / 2 and lane._proc.pid == pid and lane.restarts == 0
