"""Crash recovery: autosave the document every few edits, and at the latest `AUTOSAVE_DELAY_S` seconds
after the first unsaved edit; offer the file on the next start.

Each running window writes `recovery-<pid>.json` (a normal project file, `core.io.project`) in the
settings directory plus a small `.info` sidecar (original path, title, time). A clean exit deletes both,
so a file whose process is gone at start-up is what a crash left behind.
"""
from __future__ import annotations

import json
import logging
import os
import time
from pathlib import Path

from core.errors import LayerStudioError

from .settings import settings_dir

log = logging.getLogger(__name__)
AUTOSAVE_EVERY = 5   # edits (undo-stack index changes) between autosaves
#: Seconds after an unsaved edit by which it is autosaved, even if fewer than AUTOSAVE_EVERY edits follow.
AUTOSAVE_DELAY_S = 10.0


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def orphaned_recoveries(directory: Path | None = None) -> list[Path]:
    """Recovery files left by processes that no longer run (newest first)."""
    d = Path(directory) if directory else settings_dir()
    out = []
    for p in d.glob("recovery-*.json"):
        try:
            pid = int(p.stem.split("-", 1)[1])
        except (IndexError, ValueError):
            continue
        if not _alive(pid):
            out.append(p)
    return sorted(out, key=lambda p: p.stat().st_mtime, reverse=True)


def recovery_info(path: Path) -> dict:
    try:
        return json.loads(Path(str(path) + ".info").read_text())
    except (OSError, ValueError):
        return {}


def discard(path: Path) -> None:
    for p in (Path(path), Path(str(path) + ".info")):
        try:
            p.unlink()
        except OSError:
            pass


class RecoveryManager:
    """Follows a Document's undo stack and autosaves every `every` edits."""

    def __init__(self, document, directory: Path | None = None, every: int = AUTOSAVE_EVERY,
                 delay_s: float = AUTOSAVE_DELAY_S):
        from PySide6.QtCore import QTimer

        self.doc = document
        self.every = max(1, int(every))
        # single shot, started by the first edit after a save and not restarted by later ones, so
        # steady editing is still saved every delay_s seconds
        self.timer = QTimer()
        self.timer.setSingleShot(True)
        self.timer.setInterval(max(1, int(delay_s * 1000)))
        self.timer.timeout.connect(self._on_timer)
        self.dir = Path(directory) if directory else settings_dir()
        self.path = self.dir / f"recovery-{os.getpid()}.json"
        self._since = 0
        self.saves = 0
        document.undo_stack.indexChanged.connect(self._on_index)
        document.undo_stack.cleanChanged.connect(self._on_clean)
        document.sigModelReplaced.connect(self._on_replaced)

    def _on_index(self, _index: int) -> None:
        self._since += 1
        try:
            modified = self.doc.modified
        except RuntimeError:  # the stack is being destroyed with its window
            return
        if self._since >= self.every and modified:
            self.save_now()
        elif modified and self._since and not self.timer.isActive():
            self.timer.start()

    def _on_timer(self) -> None:
        try:
            modified = self.doc.modified
        except RuntimeError:
            return
        if modified and self._since:
            self.save_now()

    def _on_clean(self, clean: bool) -> None:
        if clean:
            self.remove()

    def _on_replaced(self) -> None:
        self._since = 0

    def save_now(self) -> bool:
        from core.io.project import save_project
        self._since = 0
        self.timer.stop()
        try:
            save_project(self.path, self.doc.model)
            Path(str(self.path) + ".info").write_text(json.dumps({
                "original_path": self.doc.path, "time": time.time(),
                "title": self.doc.model.metadata.get("title", ""), "formula": self.doc.model.formula()}))
            self.saves += 1
            return True
        except (LayerStudioError, OSError) as exc:  # autosave must never disturb editing
            log.warning("autosave failed: %s", exc)
            return False

    def remove(self) -> None:
        self.timer.stop()
        discard(self.path)
