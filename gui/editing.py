"""Turns layer-view gestures, menu choices and presets into document edits (one undo step each).

Also keeps the view's overlays (site-energy colouring, O by Li-O-Li count) in step with edits,
debounced so a drag or a fast sequence of clicks does not recompute them per step.
"""
from __future__ import annotations

import logging

import numpy as np
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QInputDialog, QMenu

from core.errors import LayerStudioError
from core.structure.species import CODE, SPECIES, VACANCY

from . import dialogs, settings
from .commands import ReplaceModelCommand
from .palette import PALETTE_ORDER, species_icon
from .readouts import site_info

log = logging.getLogger(__name__)
SYNC_PRESET_SITES = 2000   # presets and supercell changes on bigger models run in a worker (> 100 ms)
KEEP_NEUTRAL_SETTING = "edit/keep_neutral"


def tile_model(model, matrix, layers: int):
    """The model repeated into a larger supercell (core `Model.tiled`; SupercellError if not a multiple),
    with the geometry tables the window reads built here (a worker on big cells)."""
    from .workers import prepare_geometry
    return prepare_geometry(model.tiled(matrix, layers))


def popup_menu(menu: QMenu, screen_pos) -> None:
    """Show a context menu modally (module-level so tests can replace it)."""
    menu.exec(screen_pos)


class EditController:
    def __init__(self, window):
        self.w = window
        self.swap_from: int | None = None
        self._overlay_timer = QTimer(window)
        self._overlay_timer.setSingleShot(True)
        self._overlay_timer.setInterval(120)
        self._overlay_timer.timeout.connect(self.refresh_overlays)
        self.energy_overlay = False
        self.lioli_overlay = False
        #: Edit > Keep the model neutral: composition edits get compensating state changes (one undo step)
        self.keep_neutral = bool(settings.value(KEEP_NEUTRAL_SETTING, True))

    @property
    def doc(self):
        return self.w.document

    @property
    def model(self):
        return self.w.document.model

    # ------------------------------------------------------------------ gestures
    def site_clicked(self, site: int, modifiers=None) -> None:
        if self.swap_from is not None:
            a, self.swap_from = self.swap_from, None
            self.swap(a, site)
            self.w.statusBar().clearMessage()
        else:
            code = self.w.palette.species()
            self.composition_edit([(site, code)], f"Place {SPECIES[code]} on site {site}")
        self.w.sigSiteSelected.emit(site)

    def paint_finished(self, sites) -> None:
        code = self.w.palette.species()
        self.composition_edit([(int(s), code) for s in sites], f"Paint {len(sites)} sites with {SPECIES[code]}")

    def set_keep_neutral(self, on: bool) -> None:
        self.keep_neutral = bool(on)
        settings.set_value(KEEP_NEUTRAL_SETTING, self.keep_neutral)

    def composition_edit(self, flips, label: str) -> bool:
        """Push `flips` as one undo step; with "Keep the model neutral" on, an edit that changes an
        element on some site and the net charge also carries the redox-ladder compensation
        (`core.energy.valence.compensating_flips`) in the same command, and the status bar says so.

        The target is the net charge before the edit: a neutral model stays neutral, a cell charged on
        purpose keeps its charge. An edit that only changes a site's oxidation state (Ni2+ -> Ni3+ from
        the palette) is the user's choice of charges and is pushed as it is."""
        from core.energy.valence import compensating_flips, compensation_note
        from core.structure.species import ELEMENT

        model = self.model
        flips = [(int(s), int(c)) for s, c in flips]
        extra = []
        if self.keep_neutral and flips:
            occ = model.occupancy
            element_changed = any(ELEMENT[int(occ[s])] != ELEMENT[c] for s, c in flips)
            if element_changed:
                from core.structure.species import charge_by_code

                qtab = charge_by_code(model.oxidation)
                dq = sum(float(qtab[c] - qtab[int(occ[s])]) for s, c in dict(flips).items())
                if abs(dq) > 1e-9:
                    live = self.w.analysis.document_live
                    ewald = None if live is None else live.ewald
                    extra = compensating_flips(model, flips, live=ewald, target=float(qtab[occ].sum()))
                    if not extra:
                        self.w.statusBar().showMessage(
                            f"net charge {dq:+g} e: no state changes in the species table compensate it "
                            "(see Charge in the readouts)", 8000)
        if not extra:
            return self.doc.edit(flips, label)
        note = compensation_note(model, flips, extra)
        before = model.metadata.get("valence")
        valence = {**(before if isinstance(before, dict) else {}), "last_edit": note}
        done = self.doc.edit(flips + extra, f"{label} (neutralised: {note})", valence)
        if done:
            self.w.statusBar().showMessage(f"neutralised: {note}", 8000)
        return done

    def swap(self, a: int, b: int) -> bool:
        occ = self.model.occupancy
        if a == b or occ[a] == occ[b]:
            return False
        label = f"Swap {SPECIES[occ[a]]} #{a} with {SPECIES[occ[b]]} #{b}"
        return self.doc.edit([(a, int(occ[b])), (b, int(occ[a]))], label)

    def begin_swap(self, site: int) -> None:
        self.swap_from = site
        self.w.statusBar().showMessage(
            f"Swap: click the site to exchange with {SPECIES[self.model.occupancy[site]]} #{site} (Esc cancels)")

    def cancel_swap(self) -> None:
        if self.swap_from is not None:
            self.swap_from = None
            self.w.statusBar().showMessage("Swap cancelled", 2000)

    def context_menu(self, site: int, screen_pos) -> None:
        popup_menu(self.build_context_menu(site), screen_pos)

    def build_context_menu(self, site: int) -> QMenu:
        menu = QMenu(self.w)
        occ = self.model.occupancy
        menu.addSection(f"{SPECIES[occ[site]]} #{site}")
        species = menu.addMenu("Set species")
        for sym in PALETTE_ORDER:
            code = VACANCY if sym == "Va" else CODE[sym]
            a = species.addAction(species_icon(sym, self.w.layer_view._style.scheme), sym)
            a.triggered.connect(lambda _=False, c=code: self.composition_edit([(site, c)],
                                                                              f"Set site {site} to {SPECIES[c]}"))
        self._oxidation_menu(menu, site)
        menu.addAction("Swap with…", lambda: self.begin_swap(site))
        menu.addAction("Site info…", lambda: self.show_site_info(site))
        menu.addAction("Use this species in the palette", lambda: self.w.palette.set_species(int(occ[site])))
        return menu

    def _oxidation_menu(self, menu: QMenu, site: int) -> None:
        """'Set oxidation state' of this site's element: each integer state as an occupant (one undo
        step), the element's table state, and 'Neutralise the model' along the redox ladder."""
        from core.structure.species import ELEMENT, STATES, codes_of_element

        code = int(self.model.occupancy[site])
        el = ELEMENT[code]
        sub = menu.addMenu("Set oxidation state")
        sub.setObjectName("oxidation_menu")
        if el in STATES and el != "O" and len(codes_of_element(el)) > 1:
            for c in codes_of_element(el):
                label = (f"{el} (table state {self.model.oxidation[el]:g}+)" if c == CODE[el] else SPECIES[c])
                a = sub.addAction(label)
                a.setCheckable(True)
                a.setChecked(c == code)
                a.triggered.connect(lambda _=False, c=c: self.doc.edit(
                    [(site, c)], f"Set oxidation state of site {site} to {SPECIES[c]}"))
        else:
            sub.addAction(f"{el}: one state only").setEnabled(False)
        sub.addSeparator()
        sub.addAction("Neutralise the model (redox ladder)", self.neutralise)

    def neutralise(self) -> None:
        """Integer charges along the redox ladder, placed by Ewald energy, as one undo step."""
        from core.energy.valence import assign_oxidation_states

        trial = self.model.copy()
        trial._listeners = []
        try:
            res = assign_oxidation_states(trial)
        except LayerStudioError as exc:
            dialogs.show_error(self.w, "Cannot neutralise", str(exc))
            return
        if trial.oxidation != self.model.oxidation:
            self.model.set_oxidation_table(trial.oxidation)  # only with fractional overrides (not undoable)
        self.doc.set_occupancy(trial.occupancy, "Neutralise (redox ladder)", trial.metadata.get("valence", {}))
        self.w.statusBar().showMessage(res.note or "already neutral", 8000)

    def show_site_info(self, site: int) -> None:
        e = self.w.analysis.site_energies()
        text = site_info(self.model, site, None if e is None else float(e[site]))
        dialogs.show_info(self.w, f"Site {site}", text.replace("; ", "\n"))
        self.w.sigSiteSelected.emit(site)

    # ------------------------------------------------------------------ presets
    def build_presets_menu(self, menu: QMenu) -> None:
        from core.orderings import O_STACKINGS, P2_STACKINGS, PRESETS
        for name, desc in PRESETS.items():
            a = menu.addAction(name.replace("_", " "), lambda n=name: self.apply_preset(n))
            a.setStatusTip(desc)
            a.setToolTip(desc)
        sub = menu.addMenu("honeycomb with stacking")
        for st in dict.fromkeys(O_STACKINGS + P2_STACKINGS):
            sub.addAction(st, lambda s=st: self.apply_preset("honeycomb", stacking=s))
        menu.setToolTipsVisible(True)

    def apply_preset(self, name: str, seed: int = 0, **params) -> None:
        """Re-arrange the current composition in a preset ordering (one undo step)."""
        from core.orderings import preset_occupancy
        model = self.model
        self._param_text = "".join(f" ({v})" for v in params.values())
        if model.supercell.n_sites <= SYNC_PRESET_SITES:
            try:
                occ = preset_occupancy(model, name, seed=seed, **params)
            except LayerStudioError as exc:
                dialogs.show_error(self.w, "Preset", str(exc))
                return
            self._preset_done(model, name, occ)
            return
        snapshot = model.copy()
        self.w.runner.submit(preset_occupancy, snapshot, name, seed=seed, label=f"Preset {name}",
                             key="preset", user=True,
                             on_result=lambda occ, m=model: self._preset_done(m, name, occ),
                             on_error=lambda msg: dialogs.show_error(self.w, "Preset", msg), **params)

    def _preset_done(self, model, name: str, occ) -> None:
        if model is not self.model:
            return  # the model was replaced while the worker ran
        if not self.doc.set_occupancy(occ, f"Preset: {name.replace('_', ' ')}{self._param_text}"):
            self.w.statusBar().showMessage(f"{name}: already in that arrangement", 3000)

    # ------------------------------------------------------------------ supercell
    def change_supercell_dialog(self) -> None:
        sc = self.model.supercell
        cur = ",".join(str(int(v)) for v in sc.matrix.ravel())
        text, ok = QInputDialog.getText(self.w, "Change supercell",
                                        "New in-plane supercell (N, NxM or a,b,c,d; a multiple of "
                                        f"the current {cur}) and layers, e.g. '12x12 3':", text=f"{cur} {sc.layers}")
        if ok and text.strip():
            parts = text.split()
            try:
                layers = int(parts[1]) if len(parts) > 1 else sc.layers
                self.change_supercell(parts[0], layers)
            except ValueError:
                dialogs.show_error(self.w, "Change supercell", f"cannot read {text!r}")

    def change_supercell(self, matrix, layers: int) -> bool:
        """Tile the model into a bigger cell as one undo step (in a worker beyond SYNC_PRESET_SITES;
        then the return value only says the job started)."""
        model = self.model
        target = model.supercell.n_sites
        try:
            from core.structure.supercell import parse_supercell_spec
            M = parse_supercell_spec(matrix)
            target = int(round(abs(np.linalg.det(M)) / abs(np.linalg.det(model.supercell.matrix))
                               * layers / model.supercell.layers * model.supercell.n_sites))
        except LayerStudioError as exc:
            dialogs.show_error(self.w, "Change supercell", str(exc))
            return False
        if target > SYNC_PRESET_SITES:
            self.w.runner.submit(tile_model, model.copy(), matrix, layers, label="Change supercell",
                                 key="supercell", user=True,
                                 on_result=lambda new, m=model: self._tiled(m, new),
                                 on_error=lambda msg: dialogs.show_error(self.w, "Change supercell", msg))
            return True
        try:
            new = tile_model(model, matrix, layers)
        except LayerStudioError as exc:
            dialogs.show_error(self.w, "Change supercell", str(exc))
            return False
        self._tiled(model, new)
        return True

    def _tiled(self, old_model, new) -> None:
        if old_model is not self.model:
            return
        self.doc.undo_stack.push(ReplaceModelCommand(self.doc, new, f"Supercell {new.supercell.describe()}"))

    # ------------------------------------------------------------------ overlays
    def model_replaced(self) -> None:
        self.swap_from = None
        self.refresh_overlays()

    def sites_changed(self, _sites) -> None:
        if self.energy_overlay or self.lioli_overlay:
            self._overlay_timer.start()

    def overlays_pending(self) -> bool:
        """True while a debounced overlay recolouring is still to come."""
        return self._overlay_timer.isActive()

    def analysis_changed(self, names) -> None:
        """The Ewald engine of the displayed state arrived (a new model, a preview of another supercell):
        the site-energy colouring can be drawn. (A preview shown or left: the panel host refreshes the
        overlays once the views have switched.)"""
        if self.energy_overlay and "engine" in names:
            self._overlay_timer.start()

    def set_energy_overlay(self, on: bool) -> None:
        self.energy_overlay = bool(on)
        self.refresh_overlays()

    def set_lioli_overlay(self, on: bool) -> None:
        self.lioli_overlay = bool(on)
        if on and not self.w.layer_view.show_oxygen:
            self.w.act_oxygen.setChecked(True)
        self.refresh_overlays()

    def refresh_overlays(self) -> None:
        v, r = self.w.layer_view, self.w.analysis
        if v.model is not r.shown.model:
            return   # the view is switching to another displayed state: analysis_changed comes back
        if self.energy_overlay:
            e = r.site_energies()
            if e is None:  # engine still being built: try again when it is ready
                r.sigEngineReady.connect(self._energy_ready_once)
            v.set_site_values(e)
        elif v._site_values is not None:
            v.set_site_values(None)
        v.set_oxygen_counts(r.lioli_counts() if self.lioli_overlay else None)

    def _energy_ready_once(self) -> None:
        try:
            self.w.analysis.sigEngineReady.disconnect(self._energy_ready_once)
        except (RuntimeError, TypeError):
            pass
        self.refresh_overlays()
