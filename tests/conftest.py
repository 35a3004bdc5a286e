"""Test configuration: Qt platform choice and shared fixtures.

The suite runs under Xvfb (pytest-xvfb) with the xcb platform so OpenGL tests run; developers without
Xvfb can run `QT_QPA_PLATFORM=offscreen pytest`, which skips tests marked `gl`.
"""
import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
os.environ.setdefault("PYQTGRAPH_QT_LIB", "PySide6")


@pytest.hookimpl(trylast=True)
def pytest_configure(config):
    # pytest-xvfb has started Xvfb (and set DISPLAY) in its own pytest_configure by now
    if not os.environ.get("QT_QPA_PLATFORM"):
        os.environ["QT_QPA_PLATFORM"] = "xcb" if os.environ.get("DISPLAY") else "offscreen"


def pytest_collection_modifyitems(config, items):
    if os.environ.get("QT_QPA_PLATFORM") == "offscreen":
        skip = pytest.mark.skip(reason="needs OpenGL (Xvfb + xcb); offscreen platform has none")
        for item in items:
            if "gl" in item.keywords:
                item.add_marker(skip)
