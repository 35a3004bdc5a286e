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


#: Modal calls that a test triggered (title/kind); a modal dialog in a headless test would otherwise
#: block the whole run forever, e.g. an unsaved-changes prompt during widget teardown, which happens
#: after `monkeypatch` has restored the real dialogs.
MODAL_CALLS: list[str] = []


@pytest.fixture(scope="session", autouse=True)
def no_modal_dialogs():
    """Make every modal Qt dialog/menu return 'cancel' at once for the whole session (recorded)."""
    try:
        from PySide6.QtWidgets import QDialog, QFileDialog, QInputDialog, QMenu, QMessageBox
    except ImportError:  # pragma: no cover - core-only environments
        yield MODAL_CALLS
        return

    def record(kind, result):
        def fake(*args, **kwargs):
            MODAL_CALLS.append(kind)
            return result
        return staticmethod(fake) if kind.startswith("static") else fake

    saved = []
    patches = [
        (QDialog, "exec", record("QDialog.exec", 0)),
        (QMenu, "exec", record("QMenu.exec", None)),
        (QMessageBox, "exec", record("QMessageBox.exec", int(QMessageBox.StandardButton.Cancel))),
        (QMessageBox, "warning", record("static QMessageBox.warning", QMessageBox.StandardButton.Ok)),
        (QMessageBox, "critical", record("static QMessageBox.critical", QMessageBox.StandardButton.Ok)),
        (QMessageBox, "information", record("static QMessageBox.information", QMessageBox.StandardButton.Ok)),
        (QMessageBox, "question", record("static QMessageBox.question", QMessageBox.StandardButton.Cancel)),
        (QFileDialog, "getOpenFileName", record("static QFileDialog.getOpenFileName", ("", ""))),
        (QFileDialog, "getSaveFileName", record("static QFileDialog.getSaveFileName", ("", ""))),
        (QInputDialog, "getText", record("static QInputDialog.getText", ("", False))),
    ]
    for cls, name, fake in patches:
        saved.append((cls, name, cls.__dict__.get(name, getattr(cls, name))))
        setattr(cls, name, fake)
    yield MODAL_CALLS
    for cls, name, original in saved:
        setattr(cls, name, original)


def pytest_terminal_summary(terminalreporter):
    if MODAL_CALLS:
        terminalreporter.write_line(f"modal dialogs suppressed during tests: {len(MODAL_CALLS)} "
                                    f"({', '.join(sorted(set(MODAL_CALLS)))})")


@pytest.fixture
def messages(monkeypatch):
    """Record every message box instead of showing it: list of (kind, title, text)."""
    from gui import dialogs
    seen = []
    monkeypatch.setattr(dialogs, "show_error", lambda parent, title, text: seen.append(("error", title, text)))
    monkeypatch.setattr(dialogs, "show_info", lambda parent, title, text: seen.append(("info", title, text)))
    monkeypatch.setattr(dialogs, "ask_yes_no", lambda parent, title, text: seen.append(("ask", title, text)) or False)
    monkeypatch.setattr(dialogs, "ask_save_changes", lambda parent, name: seen.append(("save?", name, "")) or "discard")
    return seen


@pytest.fixture(autouse=True)
def _private_settings(tmp_path_factory, monkeypatch):
    """No test reads or writes the user's real settings (window layout, recent files), and no test sees
    what another one saved: each starts from an empty settings directory (child processes inherit it)."""
    monkeypatch.setenv("LAYERSTUDIO_SETTINGS_DIR", str(tmp_path_factory.mktemp("settings")))


@pytest.fixture
def isolated_settings(tmp_path, monkeypatch):
    from gui import settings
    settings.use_settings_dir(tmp_path / "settings")
    yield tmp_path / "settings"
    settings.use_settings_dir(None)


@pytest.fixture
def runner(qtbot):
    """A TaskRunner of its own for panel tests; its tasks are cancelled and joined at teardown."""
    from gui.workers import TaskRunner
    r = TaskRunner()
    yield r
    r.cancel_all()
    r.wait(10000)
