"""Migration panel: the open cation paths of the model (core.migration.search.find_paths), their energy profiles,
and an animation of the moving ion.

Paths are recomputed in a worker, debounced after edits (and for the charge slider's preview state).
The list shows one row per group of environment-equivalent paths (its cheapest member; the group size
in the last column). Selecting a row emits sigPathSelected(path) - the layer view and 3D view draw it -
and plots Coulomb, Born-Mayer repulsion and total energy against the image index. "Animate" walks the
ion along the images: sigIonMoved(position (3,) Angstrom, species code) for the views, and a cursor on
the profile. All energies are an electrostatic estimate (formal charges, rigid lattice), except a force-field
NEB band of the selected path (`set_neb`, from the force-field panel): its profile is drawn beside the
electrostatic one and the animation then walks the ion along the NEB images.
"""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from core.migration.geometry import KINDS
from core.structure.species import CODE

from ..process_child import migration_paths
from .style import CURVE
from .visibility import on_screen

DEBOUNCE_MS = 400
FRAME_MS = 90
FILTERS = (("all open paths", None), ("TM migration", "tm"), ("alkali hops", "alkali"))
MAX_ROWS = 300




def why_no_paths(model, src: str = "model") -> str:
    """One sentence saying why a state has no open path (a hop needs an empty destination site)."""
    from core.structure.species import VACANCY
    n_vac = int((model.occupancy == VACANCY).sum())
    if n_vac == 0:
        return (f"0 open paths ({src}): every cation site is occupied, so no ion has an empty site to move "
                "into. Remove some alkali first (paint vacancies, or preview a charged state in the Charge tab).")
    return (f"0 open paths ({src}): none of the {n_vac} vacancies can be reached by a hop (each candidate path "
            "ends on, or passes through, an occupied site). Remove more alkali next to the ions to move.")


def path_key(path) -> tuple:
    """What identifies a path within one configuration."""
    return (path.from_site, path.to_site, path.kind)


compute_paths = migration_paths   # (paths ranked cheapest first, groups) of a detached model


class MigrationPanel(QWidget):
    """Signals: sigPathSelected(object) - a core.migration.search.Path or None; sigIonMoved(object, int) -
    position (3,) Angstrom of the animated ion and its species code, or (None, 0) at the end;
    sigPathsUpdated(int) - number of open paths after a refresh."""

    sigPathSelected = Signal(object)
    sigIonMoved = Signal(object, int)
    sigPathsUpdated = Signal(int)

    def __init__(self, doc, runner, parent=None):
        super().__init__(parent)
        self.setObjectName("migrationPanel")
        self.doc, self.runner = doc, runner
        self.paths: list = []
        self.rows: list = []          # path shown on each table row
        self.selected = None
        self.preview_model = None     # a state shown instead of the document (charge slider)
        self.task = None
        self._frame = 0
        self._pending = True

        self.filter = QComboBox()
        for text, key in FILTERS:
            self.filter.addItem(text, key)
        self.table = QTableWidget(0, 6)
        self.table.setObjectName("pathTable")
        self.table.setHorizontalHeaderLabels(["kind", "ion", "sites", "max eV", "end eV", "group"])
        self.table.setSelectionBehavior(QAbstractItemView.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        header = self.table.horizontalHeader()
        header.setStretchLastSection(False)
        header.setMinimumSectionSize(24)
        for c in range(6):  # every column as wide as its contents; "kind" takes what is left
            header.setSectionResizeMode(c, QHeaderView.Stretch if c == 0 else QHeaderView.ResizeToContents)
        self.table.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
        self.status = QLabel("")
        self.status.setWordWrap(True)
        self.plot = pg.PlotWidget(background="w")
        self.plot.setObjectName("pathProfile")
        self.plot.setLabel("bottom", "image along the path")
        self.plot.setLabel("left", "energy vs start", units="eV")
        self.plot.setMinimumHeight(150)
        self.curves = {
            "coulomb": self.plot.plot([], [], pen=pg.mkPen(CURVE["coulomb"], width=2), name="Coulomb"),
            "repulsion": self.plot.plot([], [], pen=pg.mkPen(CURVE["repulsion"], width=2, style=Qt.DashLine),
                                        name="Born-Mayer repulsion"),
            "total": self.plot.plot([], [], pen=pg.mkPen(CURVE["total"], width=2.5), symbol="o",
                                    symbolSize=6, symbolBrush="k", name="total"),
        }
        self.neb_curve = self.plot.plot([], [], pen=pg.mkPen(CURVE["best"], width=2.5), symbol="s",
                                        symbolSize=7, symbolBrush=CURVE["best"], name="NEB")
        self.neb = None               # {"key", "x", "energies", "positions", "name"} of the selected path
        self.cursor = pg.InfiniteLine(angle=90, pen=pg.mkPen((120, 120, 120), width=1.5, style=Qt.DotLine))
        self.cursor.setVisible(False)
        self.plot.addItem(self.cursor)
        self.animate_btn = QPushButton("Animate")
        self.animate_btn.setCheckable(True)
        self.animate_btn.setEnabled(False)
        self.refresh_btn = QPushButton("Refresh")
        # the key sits under the plot, never on the curves
        self.key = QLabel(
            f"<span style='color:{pg.mkColor(CURVE['coulomb']).name()}'>━━</span> Coulomb &nbsp; "
            f"<span style='color:{pg.mkColor(CURVE['repulsion']).name()}'>╍╍</span> Born-Mayer repulsion "
            f"&nbsp; <span style='color:{pg.mkColor(CURVE['total']).name()}'>━●━</span> total")
        self._key_text = self.key.text()
        self.key.setObjectName("pathKey")
        self.key.setWordWrap(True)

        top = QHBoxLayout()
        top.addWidget(self.filter, 1)
        top.addWidget(self.refresh_btn)
        lay = QVBoxLayout(self)
        lay.addLayout(top)
        lay.addWidget(self.table, 2)
        lay.addWidget(self.status)
        lay.addWidget(self.plot, 2)
        lay.addWidget(self.key)
        lay.addWidget(self.animate_btn)

        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.setInterval(DEBOUNCE_MS)
        self.timer.timeout.connect(lambda: self.refresh(user=False))
        self.anim = QTimer(self)
        self.anim.setInterval(FRAME_MS)
        self.anim.timeout.connect(self._next_frame)
        self.filter.currentIndexChanged.connect(self._fill)
        self.refresh_btn.clicked.connect(lambda: self.refresh(user=True))
        self.table.itemSelectionChanged.connect(self._selection_changed)
        self.animate_btn.toggled.connect(self.set_animating)
        doc.sigSitesChanged.connect(self._changed)
        doc.sigModelReplaced.connect(self._changed)

    # ------------------------------------------------------------------ computing
    @property
    def model(self):
        return self.preview_model if self.preview_model is not None else self.doc.model

    def set_preview_model(self, model) -> None:
        """Compute paths for `model` (a preview state) instead of the document; None: the document."""
        self.preview_model = model
        self._changed()

    def _changed(self, *args) -> None:
        self.set_neb(None)   # an NEB band belongs to the configuration it was run on
        # only a panel really on screen computes; a covered one catches up when its tab comes up
        self._pending = True
        if on_screen(self):
            self.timer.start()

    def screen_changed(self, visible: bool) -> None:
        """Its dock's tab came to the top (True) or was covered (False)."""
        if visible and self._pending:
            self.timer.start()

    def showEvent(self, ev):  # noqa: N802
        super().showEvent(ev)
        # shown as a covered tab too: look once the layout has settled
        QTimer.singleShot(0, lambda: self.screen_changed(on_screen(self)))

    def refresh(self, user: bool = True) -> None:
        """Recompute the paths of the shown state in the panel's child process (the Refresh button,
        user=True, runs even when covered; the debounce timer passes user=False)."""
        if not user and not on_screen(self):
            return
        self._pending = False
        if self.task is not None:
            self.runner.cancel(self.task)
        model = self.model.copy()
        self.status.setText("Finding migration paths...")
        token = object()
        self._token = token
        model.metadata = {}
        # find_paths holds the GIL in long NumPy calls on big cells: a child process, superseded by the
        # next request (the Refresh button never waits behind automatic work: it kills that job)
        self.task = self.runner.submit_process(
            "migration", migration_paths, model, label="Migration paths",
            on_result=lambda res, t=token: self._ready(t, res), on_error=self.status.setText,
            on_finished=self._finished)

    def _finished(self) -> None:
        self.task = None

    def values(self) -> dict:
        """What the panel shows, as numbers: open paths and groups of the state they were computed for
        ("document" or "preview"), the cheapest barrier shown (eV) and whether a refresh is due."""
        n_open = sum(p.open for p in self.paths)
        return {"computed_for": "preview" if self.preview_model is not None else "document",
                "n_open_paths": int(n_open), "n_rows": len(self.rows),
                "cheapest_max_eV": float(self.rows[0].max_eV) if self.rows else None,
                "up_to_date": not self._pending and self.task is None}

    def _ready(self, token, result) -> None:
        if token is not self._token:
            return
        self.paths, self.groups = result
        self._fill()
        self.sigPathsUpdated.emit(len(self.paths))

    def _fill(self, *args) -> None:
        keep = self.selected
        self.set_animating(False)
        self.table.blockSignals(True)
        self.table.setRowCount(0)
        which = self.filter.currentData()
        by_group = {}
        for p in self.paths:  # ranked cheapest first: the first member of a group is its cheapest
            if p.open and p.group not in by_group:
                by_group[p.group] = p
        sizes = {g["group"]: g["size"] for g in self.groups} if self.paths else {}
        rows = [p for p in by_group.values()
                if which is None or (which == "tm") == p.is_tm]
        self.rows = rows[:MAX_ROWS]
        self.table.setRowCount(len(self.rows))
        for r, p in enumerate(self.rows):
            via = " (tet)" if p.intermediate is not None else ""
            cells = [p.kind.replace("_", " ") + via, p.species, f"{p.from_site}→{p.to_site}",
                     f"{p.max_eV:+.3f}", f"{p.end_eV:+.3f}", f"×{sizes.get(p.group, 1)}"]
            for c, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if c == 0:
                    item.setToolTip(KINDS.get(p.kind, text))
                elif c == 5:
                    item.setToolTip(f"{sizes.get(p.group, 1)} environment-equivalent paths in this group")
                if c >= 3:
                    item.setTextAlignment(Qt.AlignRight | Qt.AlignVCenter)
                self.table.setItem(r, c, item)
        self.table.resizeColumnsToContents()
        self.table.blockSignals(False)
        n_open = sum(p.open for p in self.paths)
        src = "preview state" if self.preview_model is not None else "model"
        if n_open:
            self.status.setText(f"{n_open} open paths in {len(by_group)} groups ({src}); "
                                "energies: electrostatic estimate relative to the start")
        else:
            self.status.setText(why_no_paths(self.model, src))
        # keep the selection on the same path if it is still open
        row = next((i for i, p in enumerate(self.rows) if keep is not None and
                    (p.from_site, p.to_site, p.kind) == (keep.from_site, keep.to_site, keep.kind)), -1)
        if row >= 0:
            self.select_row(row)
        else:
            self._show(None)

    # ------------------------------------------------------------------ selection and profile
    def select_row(self, row: int) -> None:
        self.table.selectRow(row)
        self._selection_changed()

    def _selection_changed(self) -> None:
        rows = self.table.selectionModel().selectedRows() if self.table.selectionModel() else []
        self._show(self.rows[rows[0].row()] if rows else None)

    def _show(self, path) -> None:
        self.set_animating(False)
        if self.neb is not None and (path is None or path_key(path) != self.neb["key"]):
            self.set_neb(None)
        self.selected = path
        self.animate_btn.setEnabled(path is not None)
        if path is None or path.coulomb is None:
            for c in self.curves.values():
                c.setData([], [])
        else:
            x = np.arange(len(path.images))
            self.curves["coulomb"].setData(x, path.coulomb)
            self.curves["repulsion"].setData(x, path.repulsion)
            self.curves["total"].setData(x, path.total)
            self.plot.setTitle(f"{path.species} {path.kind.replace('_', ' ')}: max {path.max_eV:+.2f}, "
                               f"end {path.end_eV:+.2f} eV", color="k", size="9pt")
        self.sigPathSelected.emit(path)

    def set_neb(self, path, energies=None, positions=None, name: str = "NEB") -> None:
        """Draw a force-field NEB profile of `path` (the selected path) beside its electrostatic profile and
        animate the ion along its images. energies: (m,) eV vs the relaxed start; positions: (m, 3) Angstrom
        of the moving ion, continuous from path.images[0]. None clears it."""
        if path is None or self.selected is None or path_key(path) != path_key(self.selected):
            self.neb = None
            self.neb_curve.setData([], [])
            self.key.setText(self._key_text)
            return
        self.set_animating(False)
        x = np.linspace(0.0, len(self.selected.images) - 1.0, len(energies))
        self.neb = {"key": path_key(path), "x": x, "energies": np.asarray(energies, float),
                    "positions": np.asarray(positions, float), "name": name}
        self.neb_curve.setData(x, self.neb["energies"])
        self.key.setText(self._key_text + f" &nbsp; <span style='color:{pg.mkColor(CURVE['best']).name()}'>━■━"
                         f"</span> NEB ({name}, relaxed)")

    def profile(self) -> dict | None:
        """The plotted curves {name: (n_img,) eV} of the selected path (None if nothing is selected)."""
        if self.selected is None:
            return None
        out = {k: np.asarray(c.getData()[1]) for k, c in self.curves.items()}
        if self.neb is not None:
            out["neb"] = self.neb["energies"].copy()
        return out

    # ------------------------------------------------------------------ animation
    def set_animating(self, on: bool) -> None:
        if on and self.selected is not None:
            self._frame = 0
            self.anim.start()
            self._next_frame()
        else:
            self.anim.stop()
            self.cursor.setVisible(False)
            self.sigIonMoved.emit(None, 0)
        if self.animate_btn.isChecked() != bool(on and self.selected is not None):
            self.animate_btn.blockSignals(True)
            self.animate_btn.setChecked(bool(on and self.selected is not None))
            self.animate_btn.blockSignals(False)

    def n_frames(self) -> int:
        """Frames of one back-and-forth pass (there along the images, then back)."""
        n = len(self._frames()[0]) if self.selected is not None else 0
        return max(2 * n - 2, 0)

    def _frames(self):
        """(positions (n, 3) Angstrom, cursor x (n,)) the animation walks: the NEB images when there is a
        band for the selected path, else the path's images."""
        if self.neb is not None:
            return self.neb["positions"], self.neb["x"]
        return self.selected.images, np.arange(len(self.selected.images))

    def show_frame(self, k: int) -> None:
        """Put the ion at frame k of the back-and-forth pass (for the animation and the GIF export)."""
        p = self.selected
        if p is None:
            return
        pos, x = self._frames()
        n = len(pos)
        i = k % max(2 * n - 2, 1)
        i = i if i < n else 2 * n - 2 - i
        self.cursor.setValue(float(x[i]))
        self.cursor.setVisible(True)
        self.sigIonMoved.emit(np.asarray(pos[i], float), CODE.get(p.species, 0))

    def _next_frame(self) -> None:
        self.show_frame(self._frame)
        self._frame += 1
