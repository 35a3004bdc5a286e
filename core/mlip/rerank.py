""""Is Ewald lying?": re-rank configurations that point charges prefer with a force field.

    table = run(rerank(model, occupancies, "chgnet"))       # any list of occupancies
    table = run(rerank_anneal(model, "chgnet", sweeps=2000, keep=8))   # Monte Carlo's best list

Each configuration gets its Ewald energy (formal charges, ideal lattice) and the force field's energy
(single point on the ideal lattice, or after `relax_steps` of relaxation). The table ranks both and gives
Spearman's rank correlation: 1 means the electrostatic ranking survives, ~0 means it carries no
information about the force field's ordering.
"""
from __future__ import annotations

import numpy as np

from core.mlip.models import get_energy_model
from core.mlip.relax import _aborted, relax, single_point


def _ranks(x) -> np.ndarray:
    """Ranks 0..n-1 (ties broken by order), ascending."""
    order = np.argsort(np.asarray(x, float), kind="stable")
    r = np.empty(len(order), int)
    r[order] = np.arange(len(order))
    return r


def spearman(a, b) -> float:
    """Spearman rank correlation of two sequences (NaN for fewer than 2 values)."""
    if len(a) < 2:
        return float("nan")
    ra, rb = _ranks(a).astype(float), _ranks(b).astype(float)
    ra -= ra.mean()
    rb -= rb.mean()
    den = np.sqrt((ra ** 2).sum() * (rb ** 2).sum())
    return float((ra * rb).sum() / den) if den > 0 else float("nan")


def rerank(model, occupancies, energy_model="chgnet", *, relax_steps: int = 0, fmax: float = 0.05,
           abort=None, threads: int | None = None):
    """Generator: Ewald and force-field energies of each occupancy of `model`'s supercell; returns the table
    {"model", "rows": [{index, ewald_eV_per_MO2, model_eV_per_MO2, ewald_rank, model_rank,
    model_unrelaxed_eV_per_MO2}], "spearman", "relaxed"} (rows in Ewald order)."""
    from core.energy.ewald import charges_of, get_engine

    em = get_energy_model(energy_model, threads=threads)
    engine = get_engine(model.supercell)
    work = model.copy()
    fu = model.formula_units()
    rows = []
    n = len(occupancies)
    for i, occ in enumerate(occupancies):
        if _aborted(abort):
            break
        work.set_occupancy(np.asarray(occ, np.int8))
        e_ew = float(engine.energy(charges_of(work))) / fu
        sp = single_point(work, em)
        e_ml = e_un = sp.energy_eV_per_MO2
        if relax_steps > 0:
            res = yield from relax(work, em, fmax=fmax, steps=relax_steps, abort=abort)
            e_ml = res.energy_eV_per_MO2
        rows.append({"index": i, "ewald_eV_per_MO2": e_ew, "model_eV_per_MO2": e_ml,
                     "model_unrelaxed_eV_per_MO2": e_un})
        yield {"progress": (i + 1) / n, "message": f"configuration {i + 1}/{n}: Ewald {e_ew:.4f}, "
               f"{em.name} {e_ml:.4f} eV/MO2"}
    ew = [r["ewald_eV_per_MO2"] for r in rows]
    ml = [r["model_eV_per_MO2"] for r in rows]
    for r, a, b in zip(rows, _ranks(ew), _ranks(ml)):
        r["ewald_rank"], r["model_rank"] = int(a), int(b)
    rows.sort(key=lambda r: r["ewald_rank"])
    return {"model": em.name, "rows": rows, "spearman": spearman(ew, ml), "relaxed": relax_steps > 0,
            "label": "Ewald = formal point charges on the ideal lattice"}


def rerank_anneal(model, energy_model="chgnet", *, sweeps: int = 2000, keep: int = 8, seed: int = 0,
                  sublattice: str = "tm", relax_steps: int = 0, abort=None, threads: int | None = None):
    """Generator: anneal on the Ewald energy keeping the `keep` best distinct configurations, then
    `rerank` them. Returns the rerank table with the annealing's energies."""
    from core.orderings.montecarlo import AnnealResult, anneal

    result = None
    for rec in anneal(model, sweeps=sweeps, seed=seed, sublattice=sublattice, keep=keep, abort=abort):
        if isinstance(rec, AnnealResult):
            result = rec
        else:
            yield {"progress": -1.0, "message": f"annealing: best {rec.best_energy:.3f} eV"}
    if result is None or _aborted(abort):
        return None
    table = yield from rerank(model, [occ for _, occ in result.configurations], energy_model,
                              relax_steps=relax_steps, abort=abort, threads=threads)
    table["anneal"] = {"sweeps": sweeps, "seed": seed, "best_energy_eV": result.best_energy}
    return table


__all__ = ["rerank", "rerank_anneal", "spearman"]
