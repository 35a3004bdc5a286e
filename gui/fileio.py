"""File actions of the main window: open/import (in a worker), save, save as, export, recent files.

Opening never touches the current model until the new one has been read completely; any
LayerStudioError (corrupt project, unreadable CIF) is shown as a one-line message.
"""
from __future__ import annotations

import functools
import logging
from pathlib import Path

from PySide6.QtWidgets import QFileDialog

from core.errors import LayerStudioError

from . import dialogs, layer_export, settings

log = logging.getLogger(__name__)

SYNC_EXPORT_SITES = 500   # structure exports of bigger models leave the GUI process (> 100 ms)
OPEN_FILTER = ("Layer Studio projects and structures (*.json *.cif *.vasp *.poscar POSCAR* CONTCAR*);;"
               "Layer Studio project (*.json);;CIF (*.cif);;VASP POSCAR (*.vasp *.poscar POSCAR* CONTCAR*);;"
               "All files (*)")


def is_openable(path: str) -> bool:
    p = Path(path)
    name = p.name.upper()
    return p.is_file() and (p.suffix.lower() in (".json", ".cif", ".vasp", ".poscar", ".mcif")
                            or name.startswith(("POSCAR", "CONTCAR")))


def _read_model(path: str):
    """Worker body: (Model, report or None, path)."""
    from core.io.project import open_model

    from .workers import prepare_geometry
    model, report = open_model(path)
    return prepare_geometry(model), report, path


class FileController:
    """Owns the file-related behaviour of a MainWindow `w` (w.document, w.runner, w.statusBar())."""

    def __init__(self, window):
        self.w = window
        self.last_dir = str(settings.value("last_dir", str(Path.home())))
        self.opening: str | None = None

    @property
    def doc(self):
        return self.w.document

    # ------------------------------------------------------------------ open / import
    def open_dialog(self) -> None:
        if not self.w.maybe_save():
            return
        path, _ = QFileDialog.getOpenFileName(self.w, "Open project or structure", self.last_dir, OPEN_FILTER)
        if path:
            self.open_path(path, ask=False)

    def open_path(self, path: str, ask: bool = True) -> None:
        """Read a project (.json) or import a CIF/POSCAR in a worker; install it when done."""
        if ask and not self.w.maybe_save():
            return
        p = Path(path)
        if not p.exists():
            dialogs.show_error(self.w, "Open", f"{p}: no such file")
            return
        self.last_dir = str(p.parent)
        settings.set_value("last_dir", self.last_dir)
        self.opening = str(p)
        self.w.statusBar().showMessage(f"Reading {p.name}…")
        self.w.runner.submit(_read_model, str(p), label=f"Open {p.name}",
                             on_result=self._opened, on_error=lambda msg, p=p: self._open_failed(p, msg))

    def _open_failed(self, path: Path, message: str) -> None:
        self.opening = None
        self.w.statusBar().showMessage(f"Could not open {path.name}", 5000)
        dialogs.show_error(self.w, "Open failed", message)

    def _opened(self, result) -> None:
        model, report, path = result
        self.opening = None
        is_project = Path(path).suffix.lower() == ".json"
        model.metadata.setdefault("title", Path(path).stem)
        self.doc.set_model(model)
        self.doc.path = path if is_project else None
        self.doc.sigPathChanged.emit(self.doc.path or "")
        self.w.set_recent(settings.add_recent_file(path))
        msg = f"Opened {Path(path).name}: {model.formula()}"
        if report:
            notes = report.get("notes") or report.get("warnings") or []
            if notes:
                msg += " — " + "; ".join(str(n) for n in notes)[:200]
        self.w.statusBar().showMessage(msg, 8000)

    # ------------------------------------------------------------------ save
    def save(self) -> bool:
        if not self.doc.path:
            return self.save_as()
        return self.save_to(self.doc.path)

    def save_as(self) -> bool:
        start = self.doc.path or str(Path(self.last_dir) / (self._stem() + ".json"))
        path, _ = QFileDialog.getSaveFileName(self.w, "Save project", start, "Layer Studio project (*.json)")
        if not path:
            return False
        if not path.lower().endswith(".json"):
            path += ".json"
        return self.save_to(path)

    def save_to(self, path: str) -> bool:
        from core.io.project import save_project
        try:
            save_project(path, self.doc.model)
        except LayerStudioError as exc:
            dialogs.show_error(self.w, "Save failed", str(exc))
            return False
        self.doc.path = str(path)
        self.doc.undo_stack.setClean()
        self.doc.sigPathChanged.emit(self.doc.path)
        self.w.set_recent(settings.add_recent_file(path))
        self.w.statusBar().showMessage(f"Saved {Path(path).name}", 4000)
        return True

    def _stem(self) -> str:
        title = self.doc.model.metadata.get("title") or self.doc.model.formula() or "model"
        return "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in title)[:60]

    # ------------------------------------------------------------------ export
    def export_dialog(self) -> None:
        dlg = dialogs.ExportDialog(self.w, choice=settings.value("export/choice", "cif"))
        if not dlg.exec():
            return
        opts = dlg.options()
        settings.set_value("export/choice", opts["kind"])
        start = str(Path(self.last_dir) / (self._stem() + opts["suffix"]))
        path, _ = QFileDialog.getSaveFileName(self.w, "Export", start)
        if path:
            self.export_to(path, opts["kind"], symprec=opts["symprec"])

    def export_dft(self) -> None:
        """File > Export for DFT: the N lowest configurations found by Monte Carlo, each in its smallest
        cell with oxidation states (CIF) and VASP inputs, plus summary.csv, in a chosen folder."""
        from PySide6.QtWidgets import QInputDialog

        n, ok = QInputDialog.getInt(self.w, "Export for DFT", "Lowest configurations to write:", 5, 1, 50)
        if not ok:
            return
        directory = QFileDialog.getExistingDirectory(self.w, "Export for DFT: folder", self.last_dir)
        if directory:
            self.export_dft_to(directory, n)

    def export_dft_to(self, directory: str, n: int = 5, sweeps: int = 500) -> None:
        """Run the Monte Carlo + export in a worker; the status bar reports the result."""
        from core.io.dft import lowest_configurations

        snapshot = self.doc.model.copy()
        snapshot._listeners = []

        def done(rows):
            self.w.statusBar().showMessage(
                f"Wrote {len(rows)} configurations (smallest cells, VASP inputs) and summary.csv to "
                f"{directory}", 10000)

        self.w.runner.submit(lowest_configurations, snapshot, directory, n=n, sweeps=sweeps,
                             label="Export for DFT", on_result=done,
                             on_error=lambda msg: dialogs.show_error(self.w, "Export for DFT", msg))

    def _exported(self, path: str, res) -> None:
        extra = f" ({res.space_group})" if getattr(res, "space_group", None) else ""
        notes = "; ".join(getattr(res, "notes", []) or [])
        self.w.statusBar().showMessage(f"Exported {Path(path).name}{extra} {notes}", 8000)

    def export_to(self, path: str, kind: str, symprec: float | None = None) -> bool:
        """kind: cif, cif-sym, poscar, png2, png4, svg. Structure exports go through core.io.export;
        on models above SYNC_EXPORT_SITES sites they run in a child process (True: started)."""
        try:
            if kind in ("png2", "png4"):
                layer_export.export_png(self.w.layer_view.plotItem, path, 2 if kind == "png2" else 4)
            elif kind == "svg":
                layer_export.export_svg(self.w.layer_view.plotItem, path)
            else:
                from core.io.export import export_model
                if kind == "poscar" and not (path.lower().endswith((".vasp", ".poscar"))
                                             or Path(path).name.upper().startswith(("POSCAR", "CONTCAR"))):
                    path += ".vasp"
                if kind.startswith("cif") and not path.lower().endswith(".cif"):
                    path += ".cif"
                sym = symprec if kind == "cif-sym" else None
                if self.doc.model.supercell.n_sites > SYNC_EXPORT_SITES:
                    # pymatgen's writers and spglib hold the GIL for 0.1-10 s on big cells: a child process
                    model = self.doc.model.copy()
                    self.w.statusBar().showMessage(f"Exporting {Path(path).name}…")
                    job = functools.partial(export_model, symprec=sym)
                    self.w.runner.submit_process("export", job, model, path, label="Export",
                                                 on_result=lambda res, p=path: self._exported(p, res),
                                                 on_error=lambda msg: dialogs.show_error(self.w, "Export failed", msg))
                    return True
                self._exported(path, export_model(self.doc.model, path, symprec=sym))
                return True
        except LayerStudioError as exc:
            dialogs.show_error(self.w, "Export failed", str(exc))
            return False
        except OSError as exc:
            dialogs.show_error(self.w, "Export failed", f"cannot write {path}: {exc.strerror or exc}")
            return False
        self.w.statusBar().showMessage(f"Exported {Path(path).name}", 5000)
        return True
