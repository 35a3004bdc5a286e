"""Exhaustive enumeration of the arrangements of one sublattice in a small cell, ranked by Ewald energy.

    n = count_configurations(model, "tm")           # say the count before running
    classes = enumerate_orderings(model, "tm")      # symmetry-distinct, lowest energy first

    est = estimate_enumeration(model, "tm", "layer")   # count, seconds, group, before running

Every arrangement of the sublattice's species counts (model composition) is generated, its Ewald
energy (eV, electrostatic only, the rest of the cell fixed) computed in vectorised batches from the
active-site matrix, and arrangements related by a symmetry operation are merged into one class with
its multiplicity. The operations are those of the parent cell (the model with the active sites made
identical, found by spglib: equal energies within a class) or of the isolated layer (the active
sites alone: more operations, fewer classes, and energies that may differ within a class); the
result says which group it used. Classes with equal energy but no symmetry relation stay separate.
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


SYMMETRIES = ("parent", "layer")


def _symmetry_cell(model, sites, symmetry: str):
    """(lattice, frac, types) whose symmetry operations reduce the enumeration.

    parent: the whole model (O, the other sublattices, every cation) with the active sites made one
    dummy species: the operations that leave the electrostatic energy unchanged. layer: the active
    sites alone (the isolated layer, no O and no other cation): a higher symmetry (e.g. six-fold and a
    horizontal mirror for one O3 TM layer, whose parent is only three-fold), which merges arrangements
    a crystallographer draws alike although their energies in the crystal may differ.
    """
    key = str(symmetry).strip().lower()
    if key not in SYMMETRIES:
        raise ResourceLimitError(f"unknown symmetry {symmetry!r}; choose parent or layer")
    sc = model.supercell
    if key == "parent":
        types = model.occupancy.astype(int).copy()   # vacant sites count as sites of their own kind
        types[sites] = 99
        return sc.lattice, sc.frac, types, sc.frac[sites]
    # the layers stacked straight up (no stacking shift, no O): each layer's own plane group
    L = sc.inplane_lattice
    lattice = np.zeros((3, 3))
    lattice[:2, :2] = L
    lattice[2, 2] = float(sc.lattice[2, 2])
    f = np.zeros((len(sites), 3))
    f[:, :2] = sc.inplane_coords(sites) @ np.linalg.inv(L)
    f[:, 2] = (sc.layer[sites] + 0.5) / sc.layers
    f -= np.floor(f + 1e-9)
    return lattice, f, np.ones(len(sites), dtype=int), f


def site_permutations(model, sites, symprec: float = 1e-3, symmetry: str = "parent"):
    """(permutations (k, n) of the active `sites` (positions into `sites`), group info dict
    {reduced_by, space_group, number, operations}) under the parent or the isolated-layer symmetry
    (`_symmetry_cell`)."""
    from core.structure.symmetry import space_group_of_cell, symmetry_operations

    lattice, frac, types, f = _symmetry_cell(model, sites, symmetry)
    rot, tr = symmetry_operations(lattice, frac, types, symprec)
    perms = []
    for R, t in zip(rot, tr):
        g = f @ R.T + t
        d = g[:, None, :] - f[None, :, :]
        d -= np.round(d)
        dist = np.linalg.norm(d @ lattice, axis=2)
        p = np.argmin(dist, axis=1)
        if dist[np.arange(len(p)), p].max() < 0.05:
            perms.append(p)
    perms = np.unique(np.array(perms, dtype=np.int64), axis=0)
    sg = space_group_of_cell(lattice, frac, types, symprec)
    info = {"reduced_by": str(symmetry).strip().lower(), "space_group": sg.symbol, "number": sg.number,
            "operations": int(len(perms))}
    return perms, info


def _prepare(model, sublattice, symmetry):
    from core.energy.ewald import charges_of, get_engine
    from core.structure.species import charge_by_code

    sites, group = active_sites(model, sublattice)
    if len(np.unique(group)) > 1:
        raise ResourceLimitError("enumerate one sublattice at a time (tm or alkali)")
    codes, counts = np.unique(model.occupancy[sites], return_counts=True)
    engine = get_engine(model.supercell)
    phi_fixed, e_fixed = engine.fixed_field(charges_of(model), sites)
    M = engine.submatrix(sites, sites)
    qtab = charge_by_code(model.oxidation)
    perms, info = site_permutations(model, sites, symmetry=symmetry)
    k = len(codes)
    digit = np.zeros(int(codes.max()) + 1, dtype=np.int64)
    digit[codes] = np.arange(k)
    use_keys = k ** len(sites) < 2 ** 62
    weights = k ** np.arange(len(sites), dtype=np.int64)[::-1] if use_keys else None

    def evaluate(A):
        """(energies (b,) eV, class keys (b,)) of a block of arrangements (b, n)."""
        Q = qtab[A]
        E = e_fixed + Q @ phi_fixed[sites] + 0.5 * np.einsum("bi,ij,bj->b", Q, M, Q)
        if use_keys:
            keys = (digit[A][:, perms] * weights).sum(axis=2).min(axis=1)
        else:  # too many sites for an integer key: classes by energy only
            keys = np.round(E, 6)
        return E, keys

    return sites, codes, counts, info, evaluate


def estimate_enumeration(model, sublattice: str = "tm", symmetry: str = "parent", probe: int = 2000) -> dict:
    """Say what an enumeration would cost before running it: {"count" (arrangements), "seconds"
    (estimate: set-up plus the count at the rate measured on up to `probe` arrangements), "symmetry"
    (the group info of `site_permutations`), "feasible" (count <= MAX_CONFIGURATIONS)}."""
    import time

    t0 = time.perf_counter()
    total = count_configurations(model, sublattice)
    sites, codes, counts, info, evaluate = _prepare(model, sublattice, symmetry)
    setup = time.perf_counter() - t0
    A = next(_arrangements(len(sites), list(codes), list(counts), min(probe, max(total, 1))))
    t1 = time.perf_counter()
    evaluate(A)
    rate = len(A) / max(time.perf_counter() - t1, 1e-9)
    return {"count": int(total), "seconds": float(setup + total / rate), "symmetry": info,
            "feasible": total <= MAX_CONFIGURATIONS}


def enumerate_orderings(model, sublattice: str = "tm", *, max_configurations: int = MAX_CONFIGURATIONS,
                        batch: int = 8192, symmetry: str = "parent", with_info: bool = False,
                        progress=None, abort=None):
    """Symmetry-distinct arrangements of the sublattice, lowest Ewald energy first.

    symmetry: "parent" (operations of the whole crystal: classes of equal energy) or "layer" (the
    isolated layer's higher symmetry: a class may then hold arrangements of different energy;
    "energy_eV" is its lowest, "energy_max_eV" its highest). Each class: {"energy_eV",
    "energy_max_eV", "energy_eV_per_MO2", "multiplicity", "occupancy" (N,) int8 (the lowest member)}.
    The multiplicities add up to `count_configurations`. Raises ResourceLimitError (giving the count)
    above `max_configurations`. with_info: return (classes, symmetry info) instead.
    progress: callable({"progress": 0..1, "message"}) called after each batch; abort: an object with
    `is_set()` (threading.Event) checked between batches: when set, the classes found so far are returned.
    """
    total = count_configurations(model, sublattice)
    if total > max_configurations:
        raise ResourceLimitError(f"{total} arrangements of the {sublattice} sublattice exceed the "
                                 f"{max_configurations} that are enumerated; use Monte Carlo or a smaller cell")
    sites, codes, counts, info, evaluate = _prepare(model, sublattice, symmetry)
    classes: dict = {}
    done = 0
    for A in _arrangements(len(sites), list(codes), list(counts), batch):
        if abort is not None and abort.is_set():
            break
        E, keys = evaluate(A)
        order = np.lexsort((E, keys))   # per key, the lowest energy first
        keys_s, E_s = keys[order], E[order]
        uniq, first, mult = np.unique(keys_s, return_index=True, return_counts=True)
        last = first + mult - 1
        for key, i, j, m in zip(uniq.tolist(), first.tolist(), last.tolist(), mult.tolist()):
            c = classes.get(key)
            lo, hi = float(E_s[i]), float(E_s[j])
            if c is None:
                classes[key] = [lo, m, A[order[i]].copy(), hi]
            else:
                c[1] += m
                if lo < c[0]:
                    c[0], c[2] = lo, A[order[i]].copy()
                c[3] = max(c[3], hi)
        done += len(A)
        if progress is not None:
            progress({"progress": done / total, "message": f"{done}/{total} arrangements, {len(classes)} classes"})
    out = []
    fu = model.formula_units()
    for e, mult, a, e_max in sorted(classes.values(), key=lambda c: c[0]):
        occ = model.occupancy.copy()
        occ[sites] = a
        out.append({"energy_eV": e, "energy_max_eV": e_max, "energy_eV_per_MO2": e / fu, "multiplicity": mult,
                    "occupancy": occ})
    return (out, info) if with_info else out


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


def commensurate_cells(model, sublattice: str = "tm", *, max_index: int = 12, indices=None):
    """Yield every small cell in which arrangements of `sublattice` can repeat inside `model`.

    Every sublattice of index d <= max_index (or d in `indices`) of the in-plane lattice that the
    supercell's own lattice lies in (so the small cell tiles the supercell), on which every swap group's
    composition is integral and in which the fixed sites repeat. Yields dicts {"index", "cell" (HNF rows),
    "model" (the small cell's Model, active sites as in `model`'s first repeat), "small_of_big" (N,)
    small site of every big site, "groups" [small active sites (m,) per swap group], "counts"
    [(codes, counts) per group], "repeats"}.
    """
    from core.orderings.superlattice import coset_labels
    from core.structure.model import Model
    from core.structure.supercell import Supercell

    sc = model.supercell
    sites, group = active_sites(model, sublattice)
    groups = [sites[group == g] for g in np.unique(group)]
    det = sc.det
    wanted = range(1, max_index + 1) if indices is None else sorted(int(d) for d in indices)
    for d in wanted:
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
                sgroups = [np.unique(small_of_big[gs]) for gs in groups]
                for (codes, counts), gs in zip(ccs, sgroups):   # the group's composition, in order
                    occ_small[gs] = np.repeat(np.array(codes, dtype=np.int8), counts)
                yield {"index": d, "cell": H, "model": Model(small_sc, occ_small, dict(model.oxidation)),
                       "small_of_big": small_of_big, "groups": sgroups, "counts": ccs, "repeats": rep}


def small_cell_ground_states(model, sublattice: str = "tm", *, max_index: int = 12,
                             max_configurations: int = 2_000_000, batch: int = 16384) -> list[dict]:
    """Lowest Ewald energy among arrangements that repeat in a small in-plane cell, tiled into `model`.

    Every cell of `commensurate_cells` (index <= max_index) with at most `max_configurations` joint
    arrangements is enumerated exhaustively (the sublattices of `sublattice` jointly; for "all", the TM
    and alkali layers together), each with its own Ewald engine. This gives the exact ground state among
    orderings of period index <= max_index, an independent upper bound for Monte Carlo on the supercell
    (and the ground state whenever the true ordering is that small).

    Returns [{"index", "cell" (2, 2) rows, "energy_eV" of the supercell, "energy_eV_per_MO2",
    "occupancy" (N,) int8 tiled into `model`, "arrangements"}], lowest first (one entry per cell).
    """
    from core.energy.ewald import get_engine
    from core.structure.species import charge_by_code

    qtab = charge_by_code(model.oxidation)
    out = []
    for cell in commensurate_cells(model, sublattice, max_index=max_index):
        sgroups, ccs = cell["groups"], cell["counts"]
        total = 1
        for (_codes, counts), gs in zip(ccs, sgroups):
            n = len(gs)
            for k in counts:
                total *= comb(n, int(k))
                n -= int(k)
        if total > max_configurations:
            continue
        small = cell["model"]
        occ_small = small.occupancy.copy()
        eng = get_engine(small.supercell)
        act = np.concatenate(sgroups)
        phi_fixed, e_fixed = eng.fixed_field(small.charges(), act)
        Mact = eng.submatrix(act, act)
        best_e, best_a = np.inf, None
        for A in _group_arrangements(sgroups, ccs, batch):
            Q = qtab[A]
            E = e_fixed + Q @ phi_fixed[act] + 0.5 * np.einsum("bi,ij,bj->b", Q, Mact, Q)
            i = int(np.argmin(E))
            if E[i] < best_e:
                best_e, best_a = float(E[i]), A[i].copy()
        occ_small[act] = best_a
        occ = occ_small[cell["small_of_big"]].astype(np.int8)
        e_big = best_e * cell["repeats"]
        out.append({"index": cell["index"], "cell": cell["cell"].tolist(), "energy_eV": e_big,
                    "energy_eV_per_MO2": e_big / model.formula_units(), "occupancy": occ,
                    "arrangements": int(total)})
    out.sort(key=lambda r: r["energy_eV"])
    return out


__all__ = ["count_configurations", "enumerate_orderings", "estimate_enumeration", "site_permutations",
           "MAX_CONFIGURATIONS", "SYMMETRIES", "small_cell_ground_states", "hnf_cells",
           "commensurate_cells"]
