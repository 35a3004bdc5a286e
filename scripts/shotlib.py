"""Shared start-up of the screenshot scripts: run under Xvfb, throw-away settings, wait for workers."""
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


def start(script: str, description: str, screen: str = "1280x1024x24"):
    """Parse --offscreen/--out; re-execute `script` under xvfb-run when there is no display.

    Returns (QApplication, output directory Path), or an int exit code when the work was done by the
    re-executed child (or Xvfb is missing).
    """
    ap = argparse.ArgumentParser(description=description)
    ap.add_argument("--offscreen", action="store_true", help="use Qt's offscreen platform (no 3D view)")
    ap.add_argument("--out", default=str(ROOT / "docs"), help="output directory (default docs/)")
    args = ap.parse_args()
    if args.offscreen:
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
    elif not os.environ.get("DISPLAY") and not os.environ.get("LAYERSTUDIO_UNDER_XVFB"):
        xvfb = shutil.which("xvfb-run")
        if not xvfb:
            print("xvfb-run not found: install xvfb or pass --offscreen", file=sys.stderr)
            return 2
        env = dict(os.environ, QT_QPA_PLATFORM="xcb", LAYERSTUDIO_UNDER_XVFB="1")
        return subprocess.call([xvfb, "-a", "-s", f"-screen 0 {screen}", sys.executable, script]
                               + sys.argv[1:], env=env)
    os.environ.setdefault("PYQTGRAPH_QT_LIB", "PySide6")
    sys.path.insert(0, str(ROOT))
    from PySide6.QtWidgets import QApplication

    from gui import settings
    settings.use_settings_dir(tempfile.mkdtemp(prefix="layerstudio-shot-"))
    app = QApplication.instance() or QApplication(sys.argv[:1])
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    return app, out


def settle(app, window, seconds: float = 30.0, quiet: float = 0.8) -> None:
    """Process events until no worker has run for `quiet` seconds (debounced work has fired)."""
    end = time.monotonic() + seconds
    quiet_since = None
    while time.monotonic() < end:
        app.processEvents()
        if window.runner.busy():
            quiet_since = None
        elif quiet_since is None:
            quiet_since = time.monotonic()
        elif time.monotonic() - quiet_since > quiet:
            break
        time.sleep(0.02)
    app.processEvents()
