#!/usr/bin/env python
"""Screenshots of the editor window for the README: the built-in honeycomb Li2MnO3 demo model.

Runs the real application window under Xvfb (re-executes itself through `xvfb-run` when there is no
display; `--offscreen` uses Qt's offscreen platform instead) with throw-away settings, waits for every
readout worker to finish and writes into docs/:
  screenshot_main.png       the whole window (layer editor, palette, readouts, panels)
  screenshot_overlays.png   site-energy colouring and O coloured by Li-O-Li count
  layer_view_honeycomb.png  the layer view exported at 2x (File > Export > PNG 2x)
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _reexec_under_xvfb() -> int:
    xvfb = shutil.which("xvfb-run")
    if not xvfb:
        print("xvfb-run not found: install xvfb or pass --offscreen", file=sys.stderr)
        return 2
    env = dict(os.environ, QT_QPA_PLATFORM="xcb", LAYERSTUDIO_UNDER_XVFB="1")
    cmd = [xvfb, "-a", "-s", "-screen 0 1280x1024x24", sys.executable, __file__] + sys.argv[1:]
    return subprocess.call(cmd, env=env)


def _settle(app, window, seconds: float = 30.0) -> None:
    end = time.monotonic() + seconds
    quiet_since = None
    while time.monotonic() < end:
        app.processEvents()
        if window.runner.busy():
            quiet_since = None
        elif quiet_since is None:
            quiet_since = time.monotonic()
        elif time.monotonic() - quiet_since > 0.8:  # debounced readouts have fired and finished
            break
        time.sleep(0.02)
    app.processEvents()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--offscreen", action="store_true", help="use Qt's offscreen platform (no 3D view)")
    ap.add_argument("--out", default=str(ROOT / "docs"), help="output directory (default docs/)")
    args = ap.parse_args()
    if args.offscreen:
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
    elif not os.environ.get("DISPLAY") and not os.environ.get("LAYERSTUDIO_UNDER_XVFB"):
        return _reexec_under_xvfb()
    os.environ.setdefault("PYQTGRAPH_QT_LIB", "PySide6")
    sys.path.insert(0, str(ROOT))
    from PySide6.QtWidgets import QApplication

    from gui import settings
    settings.use_settings_dir(tempfile.mkdtemp(prefix="layerstudio-shot-"))
    app = QApplication.instance() or QApplication(sys.argv[:1])
    from gui.app import create_window

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    w = create_window([], offer_recovery=False)
    w.resize(1280, 860)
    w.show()
    _settle(app, w)
    w.readouts.pin_reference()
    # a couple of edits so the energy history and the deltas show something, then undo them
    view = w.layer_view
    for site in (int(view.sites[4]), int(view.sites[9])):
        w.document.edit([(site, 4)], "demo edit")
    _settle(app, w, 5)
    w.document.undo_stack.undo()
    w.document.undo_stack.undo()
    w.document.undo_stack.clear()
    _settle(app, w)
    shots = []
    p = out / "screenshot_main.png"
    w.grab().save(str(p))
    shots.append(p)
    p = out / "layer_view_honeycomb.png"
    view.export_png(str(p), scale=2)
    shots.append(p)
    w.act_energy_overlay.setChecked(True)
    w.act_lioli_overlay.setChecked(True)
    _settle(app, w, 5)
    p = out / "screenshot_overlays.png"
    w.grab().save(str(p))
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
