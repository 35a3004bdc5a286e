"""Frames per second of the 3D view for ~5,000 atoms (Mesa llvmpipe under Xvfb).

Run: xvfb-run -a -s "-screen 0 1280x1024x24" .venv/bin/python bench/render3d.py [--atoms 5000]
Each frame orbits the camera by 2 degrees and repaints synchronously, then glFinish waits for the
software rasteriser, so the time is the full frame cost. Last line: one JSON object.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("PYQTGRAPH_QT_LIB", "PySide6")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--atoms", type=int, default=5000, help="approximate number of atoms")
    ap.add_argument("--seconds", type=float, default=3.0)
    ap.add_argument("--size", default="800x600", help="widget size WxH in pixels")
    args = ap.parse_args(argv)

    from PySide6.QtWidgets import QApplication
    app = QApplication.instance() or QApplication([])
    from OpenGL import GL

    from core.structure.model import Model
    from gui.panels.view3d import make_view3d

    # O3 LiMO2: 4 sites per primitive cell (Li, TM, 2 O); n x n x 3 layers
    n = max(2, math.ceil((args.atoms / 12) ** 0.5))
    model = Model.build("O3", "Li", supercell=str(n), layers=3, tm_spec="Li:1/3,Mn:2/3", seed=1)
    view = make_view3d()
    if not hasattr(view, "set_model"):
        print(json.dumps({"error": view.text()}))
        return 1
    w, h = (int(v) for v in args.size.split("x"))
    view.resize(w, h)
    view.show()
    app.processEvents()
    t0 = time.perf_counter()
    view.set_model(model)
    view.repaint()
    view.makeCurrent()
    GL.glFinish()
    first = time.perf_counter() - t0
    atoms = len(view._sites)

    frames = 0
    start = time.perf_counter()
    while time.perf_counter() - start < args.seconds:
        view.orbit(2.0, 0.0)
        view.repaint()
        view.makeCurrent()
        GL.glFinish()
        app.processEvents()
        frames += 1
    elapsed = time.perf_counter() - start
    fps = frames / elapsed
    renderer = GL.glGetString(GL.GL_RENDERER).decode(errors="replace")
    print(f"renderer: {renderer}")
    print(f"atoms: {atoms} ({n}x{n}x3 O3 cell), widget {w}x{h}")
    print(f"first frame (upload + shader compile): {first * 1000:.0f} ms")
    print(f"{frames} frames in {elapsed:.2f} s: {fps:.1f} fps ({1000 / fps:.1f} ms per frame), target >= 20")
    print(json.dumps({"atoms": atoms, "widget": [w, h], "renderer": renderer, "fps": round(fps, 1),
                      "ms_per_frame": round(1000 / fps, 2), "first_frame_ms": round(first * 1000, 1),
                      "target_fps": 20, "ok": fps >= 20}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
