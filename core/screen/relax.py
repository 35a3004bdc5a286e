"""Optional relaxation of a screened model with a machine-learned potential (the `mlip` extra).

The potential itself lives in the project's MLIP module (`core.mlip`); this file only adapts it to a
screening task and says clearly why relaxation is unavailable (module or CHGNet not installed), in which
case the screen runs without it. The loaded potential is kept per process: a Dask worker loads CHGNet once.
"""
from __future__ import annotations

import importlib
import importlib.util
import inspect
import types

#: where the MLIP module may live (first found wins)
MLIP_MODULES = ("core.mlip", "core.energy.mlip")

_models: dict[tuple, object] = {}


def _find(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False


def mlip_module() -> str | None:
    return next((m for m in MLIP_MODULES if _find(m)), None)


def relax_unavailable(config: dict) -> str | None:
    """Why a [relax] section cannot run here (one line), or None when it can."""
    mod = mlip_module()
    if mod is None:
        return "relaxation skipped: this installation has no machine-learned potential module (core.mlip)"
    if str(config.get("model", "chgnet")).lower() == "chgnet" and not _find("chgnet"):
        return "relaxation skipped: CHGNet is not installed (pip install 'layerstudio[mlip]')"
    return None


def relax_energy(model, config: dict) -> tuple[float, int | None]:
    """Relax `model` (positions; the cell too with cell = true) and return (energy eV per MO2, steps)."""
    mod = importlib.import_module(mlip_module() or MLIP_MODULES[0])
    get_energy_model = _function(mod, "get_energy_model")
    relax = _function(mod, "relax")
    key = (config.get("model", "chgnet"),)
    em = _models.get(key)
    if em is None:
        em = _models[key] = get_energy_model(config.get("model", "chgnet"), threads=1)
    gen = relax(model, em, fmax=config["fmax"], steps=config["steps"], cell=config.get("cell", False))
    res = _drain(gen) if inspect.isgenerator(gen) else gen
    e = getattr(res, "energy_eV_per_MO2", None)
    if e is None:
        e = res.energy_eV / model.formula_units()
    steps = getattr(res, "steps", None)
    return float(e), (int(steps) if steps is not None else None)


def _function(pkg, name: str):
    """`name` from the MLIP package, or from its `relax` / `models` sub-modules."""
    obj = getattr(pkg, name, None)
    if callable(obj) and not isinstance(obj, types.ModuleType):
        return obj
    for sub in ("relax", "models"):
        try:
            mod = importlib.import_module(f"{pkg.__name__}.{sub}")
        except ImportError:
            continue
        obj = getattr(mod, name, None)
        if callable(obj) and not isinstance(obj, types.ModuleType):
            return obj
    raise ImportError(f"{pkg.__name__} has no {name}()", name=f"{pkg.__name__}.{name}")


def _drain(gen):
    """The generator's return value (or, if it returns None, its last item)."""
    last = None
    while True:
        try:
            last = next(gen)
        except StopIteration as stop:
            return stop.value if stop.value is not None else last


__all__ = ["relax_energy", "relax_unavailable", "mlip_module"]
