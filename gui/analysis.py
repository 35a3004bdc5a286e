"""The live analysis of what the window displays, and the scheduling of its slow parts.

`AnalysisController` owns a core `LiveAnalysis` of the document and, while a preview is shown, one of
the preview (sharing the document's Ewald engine, or with its own built in a worker when the preview
has another supercell, e.g. a screening result), and emits `sigChanged(names)` for the displayed
one: every readout follows that single signal. Per edit it costs what `LiveAnalysis.update` costs
(microseconds to milliseconds); the slow parts are debounced and scheduled so they cannot freeze the
window:
  Ewald engine   a worker thread (NumPy releases the GIL), superseded by a newer model
  space group    the framework's (TM + O) and the cell's group from the host lattice's operations in a
                 worker (milliseconds, core.structure.lattice_symmetry); spglib, which holds the GIL
                 for its whole run (0.5 s to minutes on 24x24x3), only when that cannot decide: in a
                 child process unless the cell is small, within a size and time budget; cached by
                 configuration, superseded by a newer edit
  ordering       recognition in a worker thread, superseded by a newer edit
"""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import QObject, QTimer, Signal

from core.analysis.live import ENERGY, ORDERING, SYMMETRY, LiveAnalysis, build_engine
from core.structure.lattice_symmetry import quick_space_groups_in_cell
from core.structure.symmetry import DEFAULT_SYMPREC, MAX_ATOMS, cell_space_group, remember

DEBOUNCE_MS = 250
#: spglib runs in the GUI process below this many atoms (a few milliseconds), in a child process above
IN_PROCESS_ATOMS = 400
#: a spglib job still running after this long is stopped (a disordered 24x24x3 cell takes minutes)
SPGLIB_BUDGET_S = 60.0
ALL = frozenset({"energy", "composition", "oxygen", "symmetry", "ordering", "engine", "displayed"})


class AnalysisController(QObject):
    """Signals: sigChanged(frozenset of names) for the displayed state ("engine" when the Ewald engine
    of a new model is ready, "displayed" when a preview starts or ends); sigEngineReady()."""

    sigChanged = Signal(object)
    sigEngineReady = Signal()

    def __init__(self, document, runner, parent=None):
        super().__init__(parent)
        self.doc, self.runner = document, runner
        self.document_live: LiveAnalysis | None = None
        self.preview_live: LiveAnalysis | None = None
        self._slow = QTimer(self)
        self._slow.setSingleShot(True)
        self._slow.setInterval(DEBOUNCE_MS)
        self._slow.timeout.connect(self._run_slow)
        document.sigModelReplaced.connect(self._model_replaced)
        document.sigSitesChanged.connect(self._sites_changed)
        document.sigDisplayedChanged.connect(self._displayed_changed)
        self._model_replaced()

    # ------------------------------------------------------------------ what is shown
    @property
    def shown(self) -> LiveAnalysis:
        return self.preview_live if self.preview_live is not None else self.document_live

    def site_energies(self):
        """(N,) site energies (eV) of the displayed state, or None while the engine is being built."""
        return self.shown.site_energies()

    def lioli_counts(self):
        return self.shown.lioli_counts()

    def pending(self) -> bool:
        """True while an answer for the displayed state is still to come (engine, space group, ordering)."""
        live = self.shown
        no_engine = any(lv.ewald is None and "engine_error" not in lv.results
                        for lv in {self.document_live, live})
        return no_engine or self._slow.isActive() or self._needs_slow(live)

    # ------------------------------------------------------------------ document life cycle
    def _model_replaced(self) -> None:
        model = self.doc.model
        self.preview_live = None
        self.document_live = LiveAnalysis(model)
        self._build_engine(self.document_live, "ewald-engine")
        self.sigChanged.emit(ALL | {"model"})
        self._slow.start()

    def _build_engine(self, live: LiveAnalysis, key: str, charges=None) -> None:
        model = live.model
        q = (model.charges() if charges is None else np.asarray(charges, dtype=float)).copy()
        self.runner.submit(build_engine, model.supercell, q, label="Ewald engine", priority=10, key=key,
                           on_result=lambda res, lv=live: self._engine_ready(lv, res),
                           on_error=lambda msg, lv=live: self._engine_failed(lv, msg))

    def _engine_ready(self, live: LiveAnalysis, result) -> None:
        if live is self.preview_live and live is not self.document_live:
            live.attach_engine(*result, charges=self.doc.preview.charges)  # a preview of another supercell
            self.sigChanged.emit(frozenset({ENERGY, "engine"}))
            return
        if live is not self.document_live:
            return  # a newer model (or preview) replaced this one meanwhile
        live.attach_engine(*result)
        if self.preview_live is not None:
            self.preview_live.share_engine(live, self.doc.preview.charges if self.doc.preview else None)
        self.sigEngineReady.emit()
        self.sigChanged.emit(frozenset({ENERGY, "engine"}))

    def _engine_failed(self, live: LiveAnalysis, message: str) -> None:
        if live is self.document_live or live is self.preview_live:
            live.results["engine_error"] = message
            if live is self.shown:
                self.sigChanged.emit(frozenset({ENERGY, "engine"}))

    def _sites_changed(self, sites) -> None:
        changed = self.document_live.update(np.asarray(sites))
        if self.preview_live is None:
            self.sigChanged.emit(frozenset(changed))
        self._slow.start()

    def _displayed_changed(self, preview) -> None:
        if preview is None:
            self.preview_live = None
        else:
            self.preview_live = live = LiveAnalysis(preview.model)
            doc = self.document_live
            if preview.model.supercell is doc.model.supercell:
                live.share_engine(doc, preview.charges)
                if "engine_error" in doc.results:
                    live.results["engine_error"] = doc.results["engine_error"]
            else:
                self._build_engine(live, "ewald-engine-preview", preview.charges)
        self.sigChanged.emit(ALL)
        if self._needs_slow(self.shown):
            self._slow.start()

    @staticmethod
    def _needs_slow(live) -> bool:
        return "space_group" not in live.results or "ordering" not in live.results

    # ------------------------------------------------------------------ slow answers
    def _run_slow(self) -> None:
        live = self.shown
        self._request_space_group(live)
        self._request_ordering(live)

    def _request_space_group(self, live: LiveAnalysis) -> None:
        """The framework's group and (nearly always) the cell's at once, from the host lattice's
        operations (core.structure.lattice_symmetry: milliseconds, in a worker); spglib in a child
        process only when that cannot decide, within a size and time budget."""
        if "space_group" in live.results:
            return
        info, cell = live.symmetry_request(DEFAULT_SYMPREC)
        if info is not None:
            live.results["space_group"] = info
            self.sigChanged.emit(frozenset({SYMMETRY}))
            return
        if len(cell[2]) == 0:
            live.results["space_group"] = "empty cell"
            self.sigChanged.emit(frozenset({SYMMETRY}))
            return
        version = live.version
        # a child process (long-lived: it keeps the supercell's operation tables): NumPy holds the GIL
        # for most of the 20-50 ms per configuration, which a worker thread would take from the GUI
        sc = live.model.supercell
        self.runner.submit_process(
            "symmetry-quick", quick_space_groups_in_cell, sc.host.to_dict(), sc.matrix, sc.layers, sc.v,
            live.model.occupancy.copy(), DEFAULT_SYMPREC, label="Space group",
            on_result=lambda r, lv=live, v=version, c=cell: self._quick_ready(lv, v, c, r),
            on_error=lambda m, lv=live, v=version, c=cell: self._spglib(lv, v, c))

    def _quick_ready(self, live, version: int, cell, result: dict) -> None:
        if live.version != version:
            return  # edited since: the debounced rerun asks again
        live.results["framework_space_group"] = result["framework_space_group"]
        if result["space_group"] is not None:
            self._space_group_ready(live, version, cell, result["space_group"])
            return
        if live is self.shown:
            self.sigChanged.emit(frozenset({SYMMETRY}))   # the framework now, the cell's group pending
        self._spglib(live, version, cell)

    def _spglib(self, live, version: int, cell) -> None:
        if live.version != version or "space_group" in live.results:
            return
        if len(cell[2]) > MAX_ATOMS:
            self._space_group_ready(live, version, cell, f"not computed above {MAX_ATOMS:,} atoms")
            return
        if len(cell[2]) <= IN_PROCESS_ATOMS:
            from core.errors import SymmetryError
            try:
                result = cell_space_group(cell, DEFAULT_SYMPREC)
            except SymmetryError as exc:
                result = str(exc)
            self._space_group_ready(live, version, cell, result)
            return
        job = self.runner.submit_process(
            "symmetry", cell_space_group, cell, DEFAULT_SYMPREC, label="Space group",
            on_result=lambda r, lv=live, v=version, c=cell: self._space_group_ready(lv, v, c, r),
            on_error=lambda m, lv=live, v=version, c=cell: self._space_group_ready(lv, v, c, m))

        def over_budget(j=job, lv=live, v=version, c=cell):
            if j is not None and not j.done:
                j.cancel()
                self._space_group_ready(lv, v, c, f"not computed within {SPGLIB_BUDGET_S:g} s")
        QTimer.singleShot(int(1000 * SPGLIB_BUDGET_S), over_budget)

    def _space_group_ready(self, live, version: int, cell, result) -> None:
        if not isinstance(result, str):
            remember(cell, result)
        if live.version != version:
            return  # edited since: the debounced rerun asks again
        live.results["space_group"] = result
        if live is self.shown:
            self.sigChanged.emit(frozenset({SYMMETRY}))

    def _request_ordering(self, live: LiveAnalysis) -> None:
        if "ordering" in live.results:
            return
        from core.orderings.recognition import recognise
        version = live.version
        self.runner.submit(recognise, live.model.copy(), label="Ordering", key="ordering",
                           on_result=lambda r, lv=live, v=version: self._ordering_ready(lv, v, r),
                           on_error=lambda m, lv=live, v=version: self._ordering_ready(lv, v, m))

    def _ordering_ready(self, live, version: int, result) -> None:
        if live.version != version:
            return
        live.results["ordering"] = result
        if live is self.shown:
            self.sigChanged.emit(frozenset({ORDERING}))


def space_group_text(results: dict) -> tuple[str, str]:
    """(readout text, tooltip) of the space-group answers in a LiveAnalysis' results: the cell's group,
    or the framework's while the cell's is pending or could not be computed, saying which it is."""
    full, fw = results.get("space_group"), results.get("framework_space_group")
    tip = "spglib / host-lattice operations kept by the occupancy, symprec 1e-3 A"
    fw_text = None if fw is None or isinstance(fw, str) else f"{fw.symbol} ({fw.number})"
    if fw_text:
        tip += f"\nTM + O framework (alkali layers emptied): {fw_text}"
    if full is not None and not isinstance(full, str):
        return f"{full.symbol} ({full.number})", tip
    if full is None:
        return (f"{fw_text} framework; full pending…" if fw_text else "computing…"), tip
    return (f"{fw_text} framework; full: {full}" if fw_text else f"? ({full})"), tip
