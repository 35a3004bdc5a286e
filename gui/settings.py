"""Persistent user settings (QSettings): recent files, window geometry/state, colour scheme.

Tests call `use_settings_dir(tmp_path)` (or set LAYERSTUDIO_SETTINGS_DIR) before creating a window so
they never read or write the user's real settings; the file is then an INI file in that directory.
"""
from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import QSettings

ORGANISATION = "LayerStudio"
APPLICATION = "Layer Studio"
MAX_RECENT = 10

_override_dir: str | None = None


def use_settings_dir(path) -> None:
    """Keep all settings in an INI file under `path` (tests, portable installs); None restores default."""
    global _override_dir
    _override_dir = None if path is None else str(path)


def settings_dir() -> Path:
    """Directory for settings-adjacent files (recovery file). Created on demand."""
    base = _override_dir or os.environ.get("LAYERSTUDIO_SETTINGS_DIR")
    if base:
        p = Path(base)
    else:
        s = QSettings(QSettings.IniFormat, QSettings.UserScope, ORGANISATION, APPLICATION)
        p = Path(s.fileName()).parent / "LayerStudio"
    p.mkdir(parents=True, exist_ok=True)
    return p


def settings() -> QSettings:
    base = _override_dir or os.environ.get("LAYERSTUDIO_SETTINGS_DIR")
    if base:
        Path(base).mkdir(parents=True, exist_ok=True)
        return QSettings(str(Path(base) / "layerstudio.ini"), QSettings.IniFormat)
    return QSettings(ORGANISATION, APPLICATION)


def recent_files() -> list[str]:
    val = settings().value("recent_files", [])
    if isinstance(val, str):  # QSettings returns a bare string for one-element lists in INI files
        val = [val]
    return [str(v) for v in (val or []) if v]


def add_recent_file(path: str) -> list[str]:
    path = str(Path(path).resolve())
    files = [path] + [f for f in recent_files() if f != path]
    files = files[:MAX_RECENT]
    s = settings()
    s.setValue("recent_files", files)
    s.sync()
    return files


def save_window(window) -> None:
    s = settings()
    s.setValue("window/geometry", window.saveGeometry())
    s.setValue("window/state", window.saveState())
    s.sync()


def restore_window(window) -> bool:
    s = settings()
    geom = s.value("window/geometry")
    state = s.value("window/state")
    ok = False
    if geom is not None:
        ok = bool(window.restoreGeometry(geom))
    if state is not None:
        ok = bool(window.restoreState(state)) and ok
    return ok


def value(key: str, default=None):
    v = settings().value(key, default)
    if isinstance(default, bool) and isinstance(v, str):
        return v.lower() in ("true", "1", "yes")
    return v


def set_value(key: str, v) -> None:
    s = settings()
    s.setValue(key, v)
    s.sync()
