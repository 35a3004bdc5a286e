"""Worker side of the enumeration panel (gui.panels.enumerate_panel): the estimate and the run as
TaskRunner functions (no widgets), the recognition's name of a small-cell arrangement, and the table
model of the classes (cells made when drawn, so thousands of rows cost nothing to show)."""
from __future__ import annotations

import time

from PySide6.QtCore import QAbstractTableModel, Qt

SYMMETRY_TEXT = {"parent": "parent crystal", "layer": "isolated layer"}
LABELLED = 25       # classes named in the worker, lowest first; the others when selected


# ---------------------------------------------------------------------------- worker functions
def arrangement_label(cell, occupancy) -> str:
    """'honeycomb (sqrt3 x sqrt3 R30) 100 %': the recognition's name of a small-cell arrangement,
    found on the arrangement repeated k x k times (a period is only reported when it repeats)."""
    from core.orderings.small_cells import recognition_model, sublattice_superlattice
    from core.report import ordering_text

    model = recognition_model(cell, occupancy)
    if cell.sublattice == "tm":
        return ordering_text(model)
    sl = sublattice_superlattice(model, cell.sublattice)
    return f"{sl['name']} {100 * sl['fit']:.0f} %" if sl["name"] else "no superlattice"


def estimate_job(cell, symmetries) -> dict:
    """Worker: for each symmetry, the group, the number of classes (Burnside) and the seconds the run
    would take (core's estimate plus naming the first LABELLED classes)."""
    from core.orderings.enumeration import estimate_enumeration, site_permutations
    from core.orderings.montecarlo import active_sites
    from core.orderings.small_cells import count_classes

    sites, _ = active_sites(cell.model, cell.sublattice)
    runs = {}
    t0 = time.perf_counter()
    arrangement_label(cell, cell.model.occupancy)
    t_label = time.perf_counter() - t0
    for sym in symmetries:
        est = estimate_enumeration(cell.model, cell.sublattice, sym)
        perms, _info = site_permutations(cell.model, sites, symmetry=sym)
        n = count_classes(perms, list(cell.counts.values()))
        runs[sym] = {"symmetry": est["symmetry"], "classes": n,
                     "seconds": est["seconds"] + min(n, LABELLED) * t_label}
    return {"count": est["count"], "runs": runs}


def enumerate_job(cell, symmetries, progress=None, abort=None) -> dict:
    """Worker: enumerate the small cell for each symmetry and name the lowest LABELLED classes."""
    from core.orderings.enumeration import enumerate_orderings

    runs = {}
    k = len(symmetries)
    for i, sym in enumerate(symmetries):
        if abort is not None and abort.is_set():
            break

        def scaled(item, i=i, sym=sym):
            if progress is not None:
                progress({"progress": (i + 0.9 * item["progress"]) / k,
                          "message": f"{SYMMETRY_TEXT[sym]}: {item['message']}"})
        t0 = time.perf_counter()
        classes, info = enumerate_orderings(cell.model, cell.sublattice, symmetry=sym, with_info=True,
                                            progress=scaled, abort=abort)
        seconds = time.perf_counter() - t0
        for n, c in enumerate(classes[:LABELLED]):
            if abort is not None and abort.is_set():
                break
            c["label"] = arrangement_label(cell, c["occupancy"])
            if progress is not None and n % 8 == 0:
                progress({"progress": (i + 0.9 + 0.1 * n / LABELLED) / k, "message": "naming the classes"})
        runs[sym] = {"info": info, "classes": classes, "seconds": seconds}
    return {"runs": runs}


# ---------------------------------------------------------------------------- the table
class ClassTable(QAbstractTableModel):
    """The classes of one reduction as rows (rank, eV/MO2, meV/MO2 above the lowest, multiplicity, name);
    cells are made when drawn, so thousands of classes cost nothing to show."""

    HEADERS = ("#", "eV/MO2", "ΔE meV/MO2", "mult.", "ordering")

    def __init__(self, parent=None):
        super().__init__(parent)
        self.classes: list[dict] = []
        self.fu = 1.0

    def set_classes(self, classes: list[dict]) -> None:
        self.beginResetModel()
        self.classes = classes
        c = classes[0] if classes else None
        self.fu = c["energy_eV"] / c["energy_eV_per_MO2"] if c and c["energy_eV_per_MO2"] else 1.0
        self.endResetModel()

    def rowCount(self, parent=None):  # noqa: N802
        return 0 if parent is not None and parent.isValid() else len(self.classes)

    def columnCount(self, parent=None):  # noqa: N802
        return 0 if parent is not None and parent.isValid() else len(self.HEADERS)

    def headerData(self, section, orientation, role=Qt.DisplayRole):  # noqa: N802
        if role == Qt.DisplayRole and orientation == Qt.Horizontal:
            return self.HEADERS[section]
        return None

    def text(self, row: int, col: int) -> str:
        c = self.classes[row]
        e, e0 = c["energy_eV_per_MO2"], self.classes[0]["energy_eV_per_MO2"]
        if col == 0:
            return str(row + 1)
        if col == 1:
            return f"{e:.4f}"
        if col == 2:
            spread = (c["energy_max_eV"] - c["energy_eV"]) / self.fu
            return f"{1000 * (e - e0):.1f}" + (f" (to {1000 * (e - e0 + spread):.1f})" if spread > 1e-7 else "")
        if col == 3:
            return str(c["multiplicity"])
        return c.get("label", "select to name")

    def data(self, index, role=Qt.DisplayRole):
        if not index.isValid():
            return None
        if role == Qt.DisplayRole or role == Qt.ToolTipRole and index.column() == 4:
            return self.text(index.row(), index.column())
        if role == Qt.TextAlignmentRole and index.column() < 4:
            return int(Qt.AlignRight | Qt.AlignVCenter)
        return None

    def named(self, row: int) -> None:
        i = self.index(row, 4)
        self.dataChanged.emit(i, i)


__all__ = ["ClassTable", "arrangement_label", "enumerate_job", "estimate_job", "LABELLED", "SYMMETRY_TEXT"]
