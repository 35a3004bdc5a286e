"""The Presets menu knows which presets fit: before it opens, each preset is tried on the current
model; one that cannot be realised says so in the menu and offers a new model on the nearest
supercell that fits ("zigzag — does not fit this 6x6 cell: use 4x4?")."""
from __future__ import annotations

import numpy as np

from core.errors import LayerStudioError

from . import dialogs
from .editing import SYNC_PRESET_SITES


def mark_presets(window) -> None:
    """Before the Presets menu opens: presets that cannot be realised on the current cell and
    composition say so, and offer a new model on the nearest supercell that fits."""
    from core.orderings import PRESETS, preset_occupancy
    model = window.document.model
    key = (id(model), model.supercell.n_sites, tuple(np.bincount(model.occupancy, minlength=16)))
    if getattr(window, "_preset_key", None) == key:
        return
    window._preset_key = key
    cell = dialogs.model_params(model)["supercell"]
    window.preset_fixes = {}
    for a in window.menus["presets"].actions():
        name = a.data()
        if name is None:
            name = a.text().replace("&", "").replace(" ", "_")
            if name not in PRESETS:
                continue
            a.setData(name)
        problem = None
        if model.supercell.n_sites <= SYNC_PRESET_SITES // 4:
            try:
                preset_occupancy(model, name)
            except LayerStudioError as exc:
                problem = str(exc)
        base = name.replace("_", " ")
        a.triggered.disconnect()
        if problem is None:
            a.setText(base)
            a.setToolTip(PRESETS[name])
            a.triggered.connect(lambda _=False, n=name: window.editor.apply_preset(n))
            continue
        params = dialogs.model_params(model, ordering=name)
        fit = dialogs.nearest_fitting_cell(params)
        window.preset_fixes[name] = fit
        a.setText(f"{base}  — does not fit this {cell} cell" + (f": use {fit}?" if fit else ""))
        a.setToolTip(problem)
        a.triggered.connect(lambda _=False, n=name, p=params, f=fit, why=problem: offer_preset_fix(window, n, p, f, why))


def offer_preset_fix(window, name: str, params: dict, fit: str | None, why: str) -> None:
    if not fit:
        dialogs.show_error(window, "Preset", why)
        return
    question = (f"{why}\n\nStart a new model on a {fit} supercell with the same stacking and "
                f"composition, arranged as {name.replace('_', ' ')}?")
    if dialogs.ask_yes_no(window, "Preset", question) and window.maybe_save():
        window.new_model_dialog(dict(params, supercell=fit))
