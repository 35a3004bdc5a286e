#!/usr/bin/env python
"""Screenshots of the editor window for the README: the built-in honeycomb Li2MnO3 demo model.

Runs the real application window, maximised on a 1280x800 screen, under Xvfb (re-executes itself
through `xvfb-run` when there is no display; `--offscreen` uses Qt's offscreen platform instead)
with throw-away settings, waits for every readout worker to finish and writes into docs/:
  screenshot_main.png       the whole window (layer editor, palette, readouts, panels)
  screenshot_overlays.png   site-energy colouring and O coloured by Li-O-Li count
  layer_view_honeycomb.png  the layer view exported at 2x (File > Export > PNG 2x)
"""
from __future__ import annotations

import sys

import shotlib
from shotlib import settle


def main() -> int:
    started = shotlib.start(__file__, __doc__.splitlines()[0], screen="1280x800x24")
    if isinstance(started, int):
        return started
    app, out = started
    from gui.app import create_window
    from gui.panels.figures import grab_window

    w = create_window([], offer_recovery=False)
    w.showMaximized()   # a 1280x800 laptop screen
    settle(app, w)
    w.readouts.pin_reference()
    # a couple of edits so the energy history and the deltas show something, then undo them
    view = w.layer_view
    for site in (int(view.sites[4]), int(view.sites[9])):
        w.document.edit([(site, 4)], "demo edit")
    settle(app, w, 5)
    w.document.undo_stack.undo()
    w.document.undo_stack.undo()
    w.document.undo_stack.clear()
    settle(app, w)
    shots = []
    p = out / "screenshot_main.png"
    grab_window(w).save(str(p))
    shots.append(p)
    p = out / "layer_view_honeycomb.png"
    from gui.layer_export import export_png
    export_png(view.plotItem, str(p), 2)
    shots.append(p)
    w.act_energy_overlay.setChecked(True)
    w.act_lioli_overlay.setChecked(True)
    settle(app, w, 5)
    p = out / "screenshot_overlays.png"
    grab_window(w).save(str(p))
    shots.append(p)
    w.act_energy_overlay.setChecked(False)
    w.act_lioli_overlay.setChecked(False)
    w.document.undo_stack.setClean()
    w.close()
    for s in shots:
        print(s)
    return 0


if __name__ == "__main__":
    sys.exit(main())
