"""Application start-up: QApplication, exception hook, main window, files from the command line,
crash recovery offer. `run_app(files) -> int` is what `layerstudio` (gui/launch.py) calls.
"""
from __future__ import annotations

import logging
import os
import sys
import traceback

os.environ.setdefault("PYQTGRAPH_QT_LIB", "PySide6")

log = logging.getLogger("layerstudio")
_in_hook = False


def log_path():
    from .settings import settings_dir
    return settings_dir() / "layerstudio.log"


def install_excepthook() -> None:
    """Unexpected exceptions in slots are logged with their traceback and shown as one short line.

    LayerStudioError (bad user input) shows its own message. The document is never touched here, so
    the user's work stays as it was before the failing action.
    """
    from core.errors import LayerStudioError

    def hook(exc_type, exc, tb):
        global _in_hook
        if issubclass(exc_type, KeyboardInterrupt):
            sys.__excepthook__(exc_type, exc, tb)
            return
        log.error("unhandled exception:\n%s", "".join(traceback.format_exception(exc_type, exc, tb)))
        if _in_hook:
            return
        _in_hook = True
        try:
            from PySide6.QtWidgets import QApplication

            from . import dialogs
            if issubclass(exc_type, LayerStudioError):
                text = str(exc)
            elif issubclass(exc_type, MemoryError):
                text = "Out of memory. Try a smaller supercell; your model is unchanged."
            else:
                text = (f"Something went wrong: {exc_type.__name__}: {str(exc)[:200]}\n"
                        f"Your model is unchanged. Details are in {log_path()}")
            app = QApplication.instance()
            if app is not None:
                dialogs.show_error(app.activeWindow(), "Layer Studio", text)
        except Exception:  # never raise from the hook itself
            pass
        finally:
            _in_hook = False

    sys.excepthook = hook


def _setup_logging() -> None:
    try:
        handler = logging.FileHandler(log_path(), encoding="utf-8")
    except OSError:
        handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(logging.INFO)


def create_window(files=(), offer_recovery: bool = True):
    """Build the main window with the first openable file, a recovered model, or the demo model."""
    from resources.demo import build_demo_model

    from . import dialogs, recovery
    from .mainwindow import MainWindow

    window = MainWindow(build_demo_model())
    window.document.undo_stack.setClean()
    if offer_recovery:
        for path in recovery.orphaned_recoveries():
            info = recovery.recovery_info(path)
            what = info.get("original_path") or info.get("title") or info.get("formula") or "an unsaved model"
            if dialogs.ask_yes_no(window, "Recover unsaved work",
                                  f"Layer Studio did not close normally. Recover the autosaved copy of {what}?"):
                try:
                    from core.io.project import load_project
                    model = load_project(path)
                    window.document.set_model(model)
                    window.document.path = None
                    # an unsaved document: keep it marked modified until the user saves
                    window.document.undo_stack.resetClean()
                    window.recovery.save_now()
                except Exception as exc:
                    # keep the autosave: it may still be readable by a newer Layer Studio or by hand
                    dialogs.show_error(window, "Recovery failed", f"{exc}\nThe autosaved copy is kept at {path}")
                    break
            recovery.discard(path)
            break
    for f in files:
        window.files.open_path(str(f), ask=False)
        break
    return window


def run_app(files=()) -> int:
    from PySide6.QtWidgets import QApplication

    from .settings import APPLICATION, ORGANISATION

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setOrganizationName(ORGANISATION)
    app.setApplicationName(APPLICATION)
    _setup_logging()
    install_excepthook()
    window = create_window(files)
    window.show()
    return app.exec()
