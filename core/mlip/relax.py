"""Single points and relaxations of a model with any `EnergyModel`, as generators with progress.

    gen = relax(model, "chgnet", fmax=0.05, steps=100, cell=False, abort=event)
    for item in gen: ...        # {"step", "fmax", "energy", "progress", "message"}
    result = run(relax(...))    # drain a generator, return its result (an `EnergyResult`)

Relaxation uses ASE's optimizers (FIRE by default, or BFGS); with cell=True the cell relaxes too,
through ASE's FrechetCellFilter. Results are cached in memory, keyed by the configuration (species and
positions of the occupied sites, cell, formal charges) and the request (model, fmax, steps, cell,
optimizer), so asking again for the same configuration returns at once.
"""
from __future__ import annotations

import hashlib
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field

import numpy as np

from core.errors import LayerStudioError
from core.mlip.models import EnergyModel, get_energy_model
from core.structure.species import OXYGEN, SPECIES, VACANCY, charge_by_code


class RelaxError(LayerStudioError, ValueError):
    """A relaxation that cannot run (energy model without forces, bad settings, empty cell)."""


# ---------------------------------------------------------------------------------------------- atoms
def model_atoms(model):
    """ASE Atoms of a `core.Model`'s occupied sites (lattice positions, periodic in 3D).

    Arrays: ``initial_charges`` (formal oxidation states, e) and ``site_index`` (index into the model's
    occupancy), so per-atom results map back onto the model's sites.
    """
    from ase import Atoms

    sc = model.supercell
    occ = np.asarray(model.occupancy)
    keep = np.flatnonzero(occ != VACANCY)
    if keep.size == 0:
        raise RelaxError("the cell has no atoms")
    symbols = [SPECIES[c] for c in occ[keep].tolist()]
    atoms = Atoms(symbols, scaled_positions=sc.frac[keep], cell=np.asarray(sc.lattice, float), pbc=True)
    atoms.set_initial_charges(charge_by_code(model.oxidation)[occ[keep]])
    atoms.set_array("site_index", keep.astype(np.int64))
    return atoms


def _as_atoms(target):
    """(atoms copy, formula units) from a Model or ASE Atoms."""
    if hasattr(target, "supercell"):
        return model_atoms(target), target.formula_units()
    atoms = target.copy()
    n_o = sum(1 for s in atoms.get_chemical_symbols() if s == "O")
    return atoms, max(n_o // 2, 1) if n_o else 1


def configuration_key(atoms, *extra) -> str:
    """Hash of a configuration: species, positions (rounded to 1e-6 Angstrom), cell, charges + `extra`."""
    h = hashlib.sha1()
    h.update(np.asarray(atoms.numbers, np.int64).tobytes())
    h.update(np.round(np.asarray(atoms.cell[:], float), 6).tobytes())
    h.update(np.round(atoms.get_scaled_positions(wrap=True), 7).tobytes())
    h.update(np.round(np.asarray(atoms.get_initial_charges(), float), 6).tobytes())
    h.update(repr(extra).encode())
    return h.hexdigest()


# ---------------------------------------------------------------------------------------------- cache
class ResultCache:
    """In-memory LRU cache of `EnergyResult`s by configuration key; `hits`/`misses` count lookups."""

    def __init__(self, size: int = 64):
        self.size = size
        self._d: OrderedDict[str, EnergyResult] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, key: str):
        with self._lock:
            if key in self._d:
                self._d.move_to_end(key)
                self.hits += 1
                return self._d[key]
            self.misses += 1
            return None

    def put(self, key: str, result) -> None:
        with self._lock:
            self._d[key] = result
            self._d.move_to_end(key)
            while len(self._d) > self.size:
                self._d.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._d.clear()
            self.hits = self.misses = 0

    def __len__(self) -> int:
        return len(self._d)


#: The cache shared by `single_point` and `relax` (clear it with CACHE.clear()).
CACHE = ResultCache()


# ---------------------------------------------------------------------------------------------- results
@dataclass
class EnergyResult:
    """Energy of one configuration (eV per cell), unrelaxed and (for relaxations) relaxed.

    atoms: the final ASE Atoms (relaxed positions/cell), with ``site_index`` when built from a model;
    magmoms: (n_atoms,) muB or None; trace: [(step, fmax eV/A, energy eV)]; steps: optimizer steps taken;
    fmax: largest final force (eV/Angstrom, cell "forces" included with cell=True).
    """

    energy_eV: float
    initial_energy_eV: float
    formula_units: int
    atoms: object = field(repr=False)
    model_name: str = ""
    steps: int = 0
    fmax: float = float("nan")
    converged: bool = False
    relaxed: bool = False
    cell_relaxed: bool = False
    aborted: bool = False
    magmoms: np.ndarray | None = field(default=None, repr=False)
    seconds: float = 0.0
    cached: bool = False
    trace: list = field(default_factory=list, repr=False)

    @property
    def energy_eV_per_MO2(self) -> float:
        return self.energy_eV / self.formula_units

    @property
    def initial_energy_eV_per_MO2(self) -> float:
        return self.initial_energy_eV / self.formula_units

    @property
    def species(self) -> list[str]:
        return list(self.atoms.get_chemical_symbols())

    @property
    def site_index(self) -> np.ndarray | None:
        return self.atoms.arrays.get("site_index")

    def to_dict(self) -> dict:
        d = {"model": self.model_name, "energy_eV": self.energy_eV, "initial_energy_eV": self.initial_energy_eV,
             "energy_eV_per_MO2": self.energy_eV_per_MO2,
             "initial_energy_eV_per_MO2": self.initial_energy_eV_per_MO2,
             "formula_units": self.formula_units, "steps": self.steps, "fmax": self.fmax,
             "converged": self.converged, "relaxed": self.relaxed, "cell_relaxed": self.cell_relaxed,
             "aborted": self.aborted, "seconds": round(self.seconds, 3), "species": self.species,
             "magmoms": None if self.magmoms is None else [round(float(m), 4) for m in self.magmoms]}
        if self.site_index is not None:
            d["site_index"] = self.site_index.tolist()
        return d


def _magmoms(atoms, em: EnergyModel):
    if not em.magmoms:
        return None
    try:
        m = atoms.calc.results.get("magmoms")
        if m is None:
            m = atoms.get_magnetic_moments()
        return np.abs(np.asarray(m, float)).reshape(-1)
    except Exception:  # a calculator without moments after all
        return None


def _fmax(forces) -> float:
    forces = np.asarray(forces, float).reshape(-1, 3)
    return float(np.sqrt((forces ** 2).sum(axis=1)).max()) if len(forces) else 0.0


def _aborted(abort) -> bool:
    return abort is not None and (abort() if callable(abort) else abort.is_set())


def run(gen):
    """Drain a progress generator and return its result."""
    while True:
        try:
            next(gen)
        except StopIteration as stop:
            return stop.value


# ---------------------------------------------------------------------------------------------- single point
def single_point(target, energy_model="ewald", *, cache: bool = True) -> EnergyResult:
    """Energy (eV per cell) and, if the model predicts them, magnetic moments of a Model or Atoms."""
    em = get_energy_model(energy_model)
    atoms, fu = _as_atoms(target)
    key = configuration_key(atoms, em.key, "single")
    if cache and (hit := CACHE.get(key)) is not None:
        return _cached(hit)
    t0 = time.perf_counter()
    with em.lock:
        atoms.calc = em.calculator()
        e = float(atoms.get_potential_energy())
        mag = _magmoms(atoms, em)
        try:
            fm = _fmax(atoms.get_forces()) if em.forces else float("nan")
        except Exception:
            fm = float("nan")
    atoms.calc = None  # results must pickle (worker process) and not pin the calculator
    res = EnergyResult(e, e, fu, atoms, em.name, fmax=fm, magmoms=mag, seconds=time.perf_counter() - t0)
    if cache:
        CACHE.put(key, res)
    return res


def _cached(res: EnergyResult) -> EnergyResult:
    import copy

    out = copy.copy(res)
    out.cached = True
    return out


OPTIMIZERS = ("FIRE", "BFGS")


def relax(target, energy_model="chgnet", *, fmax: float = 0.05, steps: int = 200, cell: bool = False,
          optimizer: str = "FIRE", abort=None, cache: bool = True, threads: int | None = None):
    """Generator: relax positions (and the cell with cell=True) of a Model or Atoms; returns an EnergyResult.

    Yields {"step", "fmax" (eV/Angstrom), "energy" (eV), "progress" (0..1 of `steps`), "message"} after
    every optimizer step. Stops at fmax, after `steps` steps, or when `abort` (threading.Event or
    callable) is set (the result then has aborted=True and is not cached).
    """
    opt_name = optimizer.upper()
    if opt_name not in OPTIMIZERS:
        raise RelaxError(f"unknown optimizer {optimizer!r}; choose FIRE or BFGS")
    if not fmax > 0 or steps < 0:
        raise RelaxError(f"fmax must be > 0 and steps >= 0 (got {fmax}, {steps})")
    em = get_energy_model(energy_model, threads=threads)
    if not em.forces:
        raise RelaxError(f"{em.name} gives no forces: choose CHGNet (or another force field) to relax")
    atoms, fu = _as_atoms(target)
    key = configuration_key(atoms, em.key, "relax", float(fmax), int(steps), bool(cell), opt_name)
    if cache and (hit := CACHE.get(key)) is not None:
        return _cached(hit)
    from ase.filters import FrechetCellFilter
    from ase.optimize import BFGS, FIRE

    t0 = time.perf_counter()
    trace = []
    aborted = False
    with em.lock:
        atoms.calc = em.calculator()
        e0 = float(atoms.get_potential_energy())
        target_obj = FrechetCellFilter(atoms) if cell else atoms
        opt = (FIRE if opt_name == "FIRE" else BFGS)(target_obj, logfile=None)
        n = 0
        f_now = _fmax(target_obj.get_forces())
        converged = f_now < fmax
        for n, conv in enumerate(opt.irun(fmax=fmax, steps=steps)):
            e = float(atoms.get_potential_energy())
            f_now = _fmax(target_obj.get_forces())
            trace.append((n, f_now, e))
            converged = bool(conv)
            yield {"step": n, "fmax": f_now, "energy": e, "progress": min(n / max(steps, 1), 1.0),
                   "message": f"step {n}: fmax {f_now:.3f} eV/A, E {e:.4f} eV"}
            if _aborted(abort):
                aborted = True
                break
        e = float(atoms.get_potential_energy())
        mag = _magmoms(atoms, em)
    atoms.calc = None
    res = EnergyResult(e, e0, fu, atoms, em.name, steps=n, fmax=f_now, converged=converged, relaxed=True,
                       cell_relaxed=bool(cell), aborted=aborted, magmoms=mag,
                       seconds=time.perf_counter() - t0, trace=trace)
    if cache and not aborted:
        CACHE.put(key, res)
    return res


def write_structure(result_or_atoms, path) -> str:
    """Write relaxed atoms with ASE (format from the extension: .cif, .vasp/POSCAR, .extxyz, .traj, .xyz)."""
    from ase.io import write

    atoms = getattr(result_or_atoms, "atoms", result_or_atoms)
    p = str(path)
    low = p.lower()
    fmt = None
    if low.endswith(".vasp") or "poscar" in low.rsplit("/", 1)[-1]:
        fmt = "vasp"
    elif low.endswith(".xyz"):
        fmt = "extxyz"
    out = atoms.copy()
    out.calc = None
    for name in ("site_index",):
        if name in out.arrays and fmt != "extxyz" and not low.endswith(".traj"):
            del out.arrays[name]
    try:
        write(p, out, format=fmt, **({"direct": True} if fmt == "vasp" else {}))
    except (ValueError, KeyError) as exc:
        raise RelaxError(f"cannot write {p}: {exc}") from exc
    return p


__all__ = ["model_atoms", "configuration_key", "ResultCache", "CACHE", "EnergyResult", "single_point",
           "relax", "run", "write_structure", "RelaxError", "OPTIMIZERS", "OXYGEN"]
