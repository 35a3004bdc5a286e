"""Exhaustive enumeration of the arrangements of one sublattice in a small cell, ranked by Ewald energy.

    n = count_configurations(model, "tm")           # say the count before running
    classes = enumerate_orderings(model, "tm")      # symmetry-distinct, lowest energy first

Every arrangement of the sublattice's species counts (model composition) is generated, its Ewald
energy (eV, electrostatic only, the rest of the cell fixed) computed in vectorised batches from the
active-site matrix, and arrangements related by a symmetry operation of the parent cell (the model with
the active sites made identical, found by spglib) are merged into one class with its multiplicity.
Classes with equal energy but no symmetry relation stay separate.
"""
from __future__ import annotations

import itertools
from math import comb

import numpy as np

from core.errors import ResourceLimitError
from core.orderings.montecarlo import active_sites

MAX_CONFIGURATIONS = 200_000


def count_configurations(model, sublattice: str = "tm") -> int:
    """Number of arrangements of the sublattice's species counts (multinomial coefficient)."""
    sites, _group = active_sites(model, sublattice)
    _codes, counts = np.unique(model.occupancy[sites], return_counts=True)
    n, total = len(sites), 1
    for k in counts:
        total *= comb(n, int(k))
        n -= int(k)
    return total


def _arrangements(n: int, codes, counts, batch: int):
    """Yield (b, n) int8 blocks holding every placement of counts[i] copies of codes[i] on n sites."""
    if len(codes) == 1:
        yield np.full((1, n), codes[0], dtype=np.int8)
        return
    combos = itertools.combinations(range(n), int(counts[0]))
    while True:
        pos = np.array(list(itertools.islice(combos, batch)), dtype=np.int64).reshape(-1, int(counts[0]))
        if len(pos) == 0:
            return
        if len(codes) == 2:
            out = np.full((len(pos), n), codes[1], dtype=np.int8)
            np.put_along_axis(out, pos, codes[0], axis=1)
            yield out
            continue
        for p in pos:
            rest = np.setdiff1d(np.arange(n), p)
            for sub in _arrangements(len(rest), codes[1:], counts[1:], batch):
                out = np.empty((len(sub), n), dtype=np.int8)
                out[:, p] = codes[0]
                out[:, rest] = sub
                yield out


def site_permutations(model, sites, symprec: float = 1e-3) -> np.ndarray:
    """(k, n) permutations of the active `sites` (positions into `sites`) under the symmetry of the
    parent cell: the model with every active site given one dummy species."""
    from core.structure.symmetry import symmetry_operations

    sc = model.supercell
    types = model.occupancy.astype(int).copy()
    types[sites] = 99
    rot, tr = symmetry_operations(sc.lattice, sc.frac, types, symprec)
    f = sc.frac[sites]
    perms = []
    for R, t in zip(rot, tr):
        g = f @ R.T + t
        d = g[:, None, :] - f[None, :, :]
        d -= np.round(d)
        dist = np.linalg.norm(d @ sc.lattice, axis=2)
        p = np.argmin(dist, axis=1)
        if dist[np.arange(len(p)), p].max() < 0.05:
            perms.append(p)
    return np.unique(np.array(perms, dtype=np.int64), axis=0)


def enumerate_orderings(model, sublattice: str = "tm", *, max_configurations: int = MAX_CONFIGURATIONS,
                        batch: int = 8192) -> list[dict]:
    """Symmetry-distinct arrangements of the sublattice, lowest Ewald energy first.

    Each class: {"energy_eV", "energy_eV_per_MO2", "multiplicity", "occupancy" (N,) int8}. The
    multiplicities add up to `count_configurations`. Raises ResourceLimitError (giving the count) above
    `max_configurations`.
    """
    from core.energy.ewald import charges_of, get_engine
    from core.structure.species import charge_by_code

    sites, group = active_sites(model, sublattice)
    if len(np.unique(group)) > 1:
        raise ResourceLimitError("enumerate one sublattice at a time (tm or alkali)")
    total = count_configurations(model, sublattice)
    if total > max_configurations:
        raise ResourceLimitError(f"{total} arrangements of the {sublattice} sublattice exceed the "
                                 f"{max_configurations} that are enumerated; use Monte Carlo or a smaller cell")
    codes, counts = np.unique(model.occupancy[sites], return_counts=True)
    engine = get_engine(model.supercell)
    q = charges_of(model)
    q_fixed = q.copy()
    q_fixed[sites] = 0.0
    phi_fixed = engine.potential(q_fixed)
    e_fixed = 0.5 * float(q_fixed @ phi_fixed)
    M = engine.submatrix(sites, sites)
    qtab = charge_by_code(model.oxidation)
    perms = site_permutations(model, sites)
    k = len(codes)
    digit = np.zeros(int(codes.max()) + 1, dtype=np.int64)
    digit[codes] = np.arange(k)
    use_keys = k ** len(sites) < 2 ** 62
    weights = k ** np.arange(len(sites), dtype=np.int64)[::-1] if use_keys else None
    classes: dict = {}
    for A in _arrangements(len(sites), list(codes), list(counts), batch):
        Q = qtab[A]
        E = e_fixed + Q @ phi_fixed[sites] + 0.5 * np.einsum("bi,ij,bj->b", Q, M, Q)
        if use_keys:
            keys = (digit[A][:, perms] * weights).sum(axis=2).min(axis=1)
        else:  # too many sites for an integer key: classes by energy only
            keys = np.round(E, 6)
        uniq, first, mult = np.unique(keys, return_index=True, return_counts=True)
        for key, i, m in zip(uniq.tolist(), first.tolist(), mult.tolist()):
            c = classes.get(key)
            if c is None:
                classes[key] = [float(E[i]), m, A[i].copy()]
            else:
                c[1] += m
    out = []
    fu = model.formula_units()
    for e, mult, a in sorted(classes.values(), key=lambda c: c[0]):
        occ = model.occupancy.copy()
        occ[sites] = a
        out.append({"energy_eV": e, "energy_eV_per_MO2": e / fu, "multiplicity": mult, "occupancy": occ})
    return out


__all__ = ["count_configurations", "enumerate_orderings", "site_permutations", "MAX_CONFIGURATIONS"]
