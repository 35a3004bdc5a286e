#!/usr/bin/env python
"""Screenshot of the force-field panel for the README, taken from the real window under Xvfb (1280x800).

Writes docs/panel_mlip.png: honeycomb Li2MnO3 (3x3x1) with the alkali-layer Li removed, relaxed by CHGNet
for a few steps in the force-field child process; the layer view shows the O-hole map (O coloured by their
predicted moment, colour bar) and the panel the relaxation trace. `--offscreen`: Qt's offscreen platform.
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
    from core.orderings import preset_occupancy
    from core.structure.model import Model
    from gui.mainwindow import MainWindow
    from gui.panels.figures import grab_window

    m = Model.build("O3", "Li", supercell="3", layers=1, tm_spec="Li:1/3,Mn:2/3", seed=4)
    m.set_occupancy(preset_occupancy(m, "honeycomb"))
    sc = m.supercell
    m.apply([(int(s), 0) for s in sc.alkali_sites])
    m.set_oxidation("O", -2.0 + len(sc.alkali_sites) / len(sc.o_sites))  # the holes on O keep it neutral
    w = MainWindow(m)
    w.showMaximized()
    settle(app, w)
    host = w.panels
    panel = host.forcefield
    host.show_dock("forcefield")
    panel.steps.setValue(8)
    panel.fmax.setValue(0.05)
    t0 = time.monotonic()
    panel.relax_btn.click()
    while panel.task is not None:
        app.processEvents()
        time.sleep(0.05)
    print(f"relaxation: {time.monotonic() - t0:.1f} s wall; {panel.status.text()}")
    settle(app, w, 5)
    w.document.mark_saved()
    grab_window(w).save(str(out / "panel_mlip.png"))
    print("wrote", out / "panel_mlip.png")
    w.runner.shutdown(5000)
    w.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
