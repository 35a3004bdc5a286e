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


def hnf_cells(index: int) -> list[np.ndarray]:
    """Every sublattice of index `index` of the in-plane lattice, as HNF rows [[a, 0], [b, c]]."""
    out = []
    for a in range(1, index + 1):
        if index % a:
            continue
        c = index // a
        for b in range(a):
            out.append(np.array([[a, 0], [b, c]], dtype=np.int64))
    return out


def _group_arrangements(groups, codes_counts, batch):
    """Yield (b, n_total) int8 rows: every joint arrangement of several groups (product of each
    group's multiset permutations), in blocks."""
    first = [np.vstack(list(_arrangements(len(g), c, k, batch))) for g, (c, k) in zip(groups, codes_counts)]
    if len(first) == 1:
        for i in range(0, len(first[0]), batch):
            yield first[0][i:i + batch]
        return
    A, B = first[0], first[1] if len(first) == 2 else None
    if B is None:
        raise ResourceLimitError("small-cell enumeration handles at most two sublattices")
    step = max(1, batch // max(len(B), 1))
    for i in range(0, len(A), step):
        a = A[i:i + step]
        yield np.concatenate([np.repeat(a, len(B), axis=0), np.tile(B, (len(a), 1))], axis=1)


def small_cell_ground_states(model, sublattice: str = "tm", *, max_index: int = 12,
                             max_configurations: int = 2_000_000, batch: int = 16384) -> list[dict]:
    """Lowest Ewald energy among arrangements that repeat in a small in-plane cell, tiled into `model`.

    Every sublattice of index d <= max_index of the in-plane lattice that the supercell's own lattice
    lies in (so the small cell tiles the supercell) and on which every sublattice's composition is
    integral is enumerated exhaustively (the sublattices of `sublattice` jointly; for "all", the TM and
    alkali layers together), each with its own Ewald engine. The sites that do not move must repeat
    in the small cell. This gives the exact ground state among orderings of period index <= max_index,
    an independent upper bound for Monte Carlo on the supercell (and the ground state whenever the
    true ordering is that small).

    Returns [{"index", "cell" (2, 2) rows, "energy_eV" of the supercell, "energy_eV_per_MO2",
    "occupancy" (N,) int8 tiled into `model`, "arrangements"}], lowest first (one entry per cell).
    """
    from core.energy.ewald import get_engine
    from core.orderings.superlattice import coset_labels
    from core.structure.model import Model
    from core.structure.species import charge_by_code
    from core.structure.supercell import Supercell

    sc = model.supercell
    sites, group = active_sites(model, sublattice)
    groups = [sites[group == g] for g in np.unique(group)]
    det = sc.det
    qtab = charge_by_code(model.oxidation)
    out = []
    for d in range(1, max_index + 1):
        if det % d:
            continue
        rep = det // d
        for H in hnf_cells(d):
            if (coset_labels(H, sc.matrix) != 0).any():
                continue  # the small cell does not tile the supercell
            ccs = []
            for gs in groups:
                codes, counts = np.unique(model.occupancy[gs], return_counts=True)
                if (counts % rep).any():
                    break
                ccs.append((list(codes), list(counts // rep)))
            else:
                small_sc = Supercell(sc.host, H, layers=sc.layers, stacking_shift=sc.v)
                # big site of every small site (same basis, same translation reduced into the supercell)
                big_of_small = sc.index_of(small_sc.basis_local, small_sc.ijk)
                small_of_big = small_sc.index_of(sc.basis_local, sc.ijk)
                fixed = np.ones(sc.n_sites, bool)
                fixed[sites] = False
                occ_small = model.occupancy[big_of_small].copy()
                if not np.array_equal(occ_small[small_of_big][fixed], model.occupancy[fixed]):
                    continue  # the fixed sites do not repeat in this cell
                small_active = np.zeros(small_sc.n_sites, bool)
                small_active[small_of_big[sites]] = True
                sgroups = [np.unique(small_of_big[gs]) for gs in groups]
                total = 1
                for (_codes, counts), gs in zip(ccs, sgroups):
                    n = len(gs)
                    for k in counts:
                        total *= comb(n, int(k))
                        n -= int(k)
                if total > max_configurations:
                    continue
                small = Model(small_sc, occ_small, dict(model.oxidation))
                eng = get_engine(small_sc)
                act = np.concatenate(sgroups)
                q = small.charges()
                q_fixed = q.copy()
                q_fixed[act] = 0.0
                phi_fixed = eng.potential(q_fixed)
                e_fixed = 0.5 * float(q_fixed @ phi_fixed)
                Mact = eng.submatrix(act, act)
                best_e, best_a = np.inf, None
                for A in _group_arrangements(sgroups, ccs, batch):
                    Q = qtab[A]
                    E = e_fixed + Q @ phi_fixed[act] + 0.5 * np.einsum("bi,ij,bj->b", Q, Mact, Q)
                    i = int(np.argmin(E))
                    if E[i] < best_e:
                        best_e, best_a = float(E[i]), A[i].copy()
                occ_small[act] = best_a
                occ = occ_small[small_of_big].astype(np.int8)
                e_big = best_e * rep
                out.append({"index": d, "cell": H.tolist(), "energy_eV": e_big,
                            "energy_eV_per_MO2": e_big / model.formula_units(), "occupancy": occ,
                            "arrangements": int(total)})
    out.sort(key=lambda r: r["energy_eV"])
    return out


__all__ = ["count_configurations", "enumerate_orderings", "site_permutations", "MAX_CONFIGURATIONS",
           "small_cell_ground_states", "hnf_cells"]
