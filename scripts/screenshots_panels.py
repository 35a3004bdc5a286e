#!/usr/bin/env python
"""Screenshots of the analysis panels for the README tour, taken from the real window under Xvfb.

Re-executes itself through `xvfb-run` when there is no display (`--offscreen` uses Qt's offscreen
platform: no 3D view). The window is maximised on a 1280x800 screen (a laptop), as a new user would
see it. Throw-away settings. Writes into docs/:
  panel_monte_carlo.png    Monte Carlo on a random Li[Li1/3Mn2/3]O2 layer, best result previewed
  panel_migration.png      delithiated honeycomb: a Mn in-plane path drawn, its energy profile
  panel_charge.png         state-of-charge slider half way, oxidised O marked
  panel_xrd.png            simulated XRD of the honeycomb with the 20-30 deg window
  panel_snapshots.png      the snapshot list (two snapshots taken)
  panel_view3d.png         the 3D view as a side tab; view3d.png: its own window (Tools > 3D view), 4x
  labmode.png              lab-meeting mode: full screen, readouts only, a snapshot stepped to
  labmode_compare.png      lab-meeting compare mode: honeycomb vs random snapshots
  migration_path.gif       animated GIF of the migration path
"""
from __future__ import annotations

import sys
import time

import shotlib
from shotlib import settle


def main() -> int:
    started = shotlib.start(__file__, __doc__.splitlines()[0], screen="1280x800x24")
    if isinstance(started, int):
        return started
    app, out = started
    import numpy as np

    from core.orderings import preset_occupancy
    from core.structure.model import Model
    from gui.mainwindow import MainWindow
    from gui.panels.figures import grab_window, write_gif


    def honeycomb(n, layers):
        m = Model.build("O3", "Li", supercell=str(n), layers=layers, tm_spec="Li:1/3,Mn:2/3", seed=4)
        m.set_occupancy(preset_occupancy(m, "honeycomb"))
        return m

    w = MainWindow(Model.build("O3", "Li", supercell="6", layers=1, tm_spec="Li:1/3,Mn:2/3", seed=4))
    w.showMaximized()
    host = w.panels
    doc = w.document
    settle(app, w)

    def shot(name, widget=None):
        app.processEvents()
        (widget.grab().toImage() if widget is not None else grab_window(w)).save(str(out / name))
        print("wrote", out / name)

    # Monte Carlo: anneal a random layer, preview the best result (document untouched)
    host.show_dock("mc")
    host.mc.sweeps.setValue(3000)
    host.mc.seed.setValue(1)
    host.mc.start()
    while host.mc.running():
        app.processEvents()
        time.sleep(0.02)
    settle(app, w, 5)
    host.mc.results.setCurrentRow(0)
    settle(app, w, 2)
    shot("panel_monte_carlo.png")
    host.mc.sigPreview.emit(None)

    # migration: honeycomb with half the TM-layer Li removed, the charge taken by the O (kept
    # neutral), cheapest Mn in-plane path
    m = honeycomb(6, 1)
    sc = m.supercell
    centres = sc.tm_sites[m.occupancy[sc.tm_sites] == 1]
    removed = centres[: len(centres) // 2]
    m.apply([(int(s), 0) for s in removed])
    m.set_oxidation("O", -2.0 + len(removed) / len(sc.o_sites))
    doc.set_model(m)
    host.show_dock("migration")
    settle(app, w)
    host.migration.refresh()
    settle(app, w)
    host.migration.filter.setCurrentIndex(1)
    host.migration.select_row(0)
    host.migration.show_frame(2)
    settle(app, w, 2)
    shot("panel_migration.png")
    frames = []
    lv = w.layer_view
    for k in range(host.migration.n_frames()):
        host.migration.show_frame(k)
        app.processEvents()
        frames.append(lv.grab().scaled(lv.width() // 2, lv.height() // 2).toImage())
    write_gif(frames, out / "migration_path.gif", duration_ms=90)
    print("wrote", out / "migration_path.gif")
    host.migration.set_animating(False)
    host.migration.table.clearSelection()

    # state of charge: Li2MnO3 half charged (oxygen holes)
    doc.set_model(honeycomb(6, 1))
    host.show_dock("charge")
    settle(app, w)
    host.charge.rebuild()
    settle(app, w)
    host.charge.slider.setValue(host.charge.slider.maximum() // 2)
    w.layer_view.set_toggles(oxygen=True)
    host.charge.slider.setValue(host.charge.slider.maximum() // 2 + 1)
    settle(app, w, 2)
    shot("panel_charge.png")
    host.charge.slider.setValue(0)
    w.layer_view.set_toggles(oxygen=False)

    # XRD of the honeycomb (3 layers so the stacking is Li2MnO3's C2/m)
    doc.set_model(honeycomb(3, 3))
    host.show_dock("xrd")
    host.xrd.recompute()
    settle(app, w)
    shot("panel_xrd.png")

    # 3D view: first as a side tab, then in its own window (Tools > 3D view), oblique, a picked site
    host.show_dock("view3d")
    settle(app, w, 1)
    if host.has_3d:
        host.view3d.view_along("perspective")
        site = int(doc.model.supercell.tm_sites[doc.model.occupancy[doc.model.supercell.tm_sites] == 1][0])
        host.select_site(site)
        settle(app, w, 1)
    shot("panel_view3d.png")
    if host.has_3d:
        d3 = host.docks["view3d"]
        w.open_3d_window()
        settle(app, w, 1)
        host.view3d.render_image(1).save(str(out / "view3d.png"))
        print("wrote", out / "view3d.png")
        d3.setFloating(False)

    # lab-meeting compare: two snapshots of one supercell
    doc.set_model(honeycomb(6, 1))
    settle(app, w)
    host.snapshots.take("honeycomb")
    rnd = Model.build("O3", "Li", supercell="6", layers=1, tm_spec="Li:1/3,Mn:2/3", seed=8)
    doc.set_occupancy(rnd.occupancy, "random")
    host.snapshots.take("random")
    host.show_dock("snapshots")
    settle(app, w, 1)
    shot("panel_snapshots.png")
    host.lab.enter()
    host.snapshots.current = -1
    host.snapshots.step(1)          # PageDown: the first snapshot, captioned
    settle(app, w, 2)
    shot("labmode.png")
    view = host.compare(1, 0)
    host.compare_dialog.resize(1280, 800)
    settle(app, w, 3)
    shot("labmode_compare.png", host.compare_dialog)
    host.compare_dialog.close()
    host.lab.leave()
    doc.mark_saved()         # the snapshots count as unsaved work: closing would ask
    w.close()
    return 0 if np.isfinite(view.energy_difference or np.nan) else 1


if __name__ == "__main__":
    sys.exit(main())
