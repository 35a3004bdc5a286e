#!/usr/bin/env python
"""Screenshot of the Enumerate dock for the README, from the real window under Xvfb at 1280x800.

NMC111 (random on 6 x 6, one slab): every arrangement of the 3 x 3 cell reduced by the parent crystal
and by the isolated layer, the lowest class (the sqrt3 x sqrt3 R30 ordering) previewed on the model.
Writes docs/panel_enumerate.png (`--offscreen`: Qt's offscreen platform, `--out DIR`).
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
    from core.structure.model import Model
    from gui.mainwindow import MainWindow
    from gui.panels.figures import grab_window

    w = MainWindow(Model.build("O3", "Li", supercell="6", layers=1, tm_spec="Ni:1/3,Co:1/3,Mn:1/3", seed=4))
    w.showMaximized()
    host, doc = w.panels, w.document
    settle(app, w)
    host.show_dock("enumerate")
    panel = host.enumerate
    panel.index.setValue(9)
    panel.cells.setCurrentIndex(next(i for i in range(panel.cells.count())
                                     if panel.cells.itemText(i).startswith("3 x 3")))
    panel.symmetry.setCurrentIndex(2)      # both, side by side
    panel.refresh_estimate()
    settle(app, w)
    finished = []
    panel.sigFinished.connect(finished.append)
    panel.run()
    while not finished:
        settle(app, w, 1, quiet=0.2)
    settle(app, w, 2)
    panel.table.selectRow(0)
    settle(app, w, 3)
    path = out / "panel_enumerate.png"
    grab_window(w).save(str(path))
    print("wrote", path, w.width(), "x", w.height())
    ok = doc.preview is not None and doc.preview.kind == "enumerate"
    doc.end_preview()
    doc.undo_stack.setClean()
    w.close()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
