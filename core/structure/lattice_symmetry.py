"""Space group of an occupancy of the host lattice without spglib's search: milliseconds on any cell.

spglib finds the symmetry of a structure from scratch: it searches pure translations and rotations
among all atom pairs, which takes 0.5-3 s for an ordered 24x24x3 cell and minutes for a disordered
one (P1 is the slow case), holding the interpreter's lock throughout. A Model, though, is a
decoration of a known lattice: every symmetry operation of the decorated crystal that keeps the site
roles apart (TM layer, alkali layer, O) is an operation of the host stacking, so it suffices to test
the host's few operations (12 for R-3m), each combined with the supercell translations that repair
it. For a rotation part W and the permutation it induces on the sites, the translations t that make
(W, t) a symmetry are those where the occupancy translated by t matches the rotated occupancy
everywhere: a cross-correlation of the two, per species, over the supercell's translation group
(Z_d1 x Z_d2 x Z_d3 by its Smith normal form), done with FFTs. spglib then names the space-group type
of the operations found (`get_spacegroup_type_from_symmetry`, given the operations of the primitive
cell of the decoration), which costs nothing. docs/science.md §17 gives the argument.

Exact when the decorated crystal keeps the roles apart, which holds whenever the O sites are filled and
the TM and alkali layers differ (every layered oxide, and the TM + O framework with the alkali layers
emptied); a cell whose TM and alkali layers hold the same pattern (say all Li) may have more symmetry
than this finds (rock salt): `roles_told_apart` says when to ask spglib instead. Operations that the
supercell's own lattice breaks (a 2x1 cell of a hexagonal layer, a one-layer O3 cell with its tilted
stacking vector) are tested too: they apply when the occupancy repeats along the turned cell vectors.
"""
from __future__ import annotations

import threading
import weakref
from typing import Any

import numpy as np

from core.errors import SymmetryError
from core.structure.hosts import INTERSTITIAL_ROLES
from core.structure.species import VACANCY

_EPS = 1e-6


def _host_operations(host, symprec: float):
    """(rotations (k, 3, 3) int, translations (k, 3)) of the host's occupiable basis, types by role,
    in primitive-cell fractional coordinates (column convention: x' = W x + w)."""
    import warnings

    import spglib

    basis = [s for s in host.basis if s.role not in INTERSTITIAL_ROLES]
    roles = sorted({s.role for s in basis})
    L = np.asarray(host.prim_lattice, float)
    frac = np.array([host.cart(s) for s in basis]) @ np.linalg.inv(L)
    types = np.array([roles.index(s.role) + 1 for s in basis], dtype=np.int32)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cell: Any = (L, frac % 1.0, types)
        ops = spglib.get_symmetry(cell, symprec=symprec)
    if ops is None:
        raise SymmetryError("spglib found no operations for the host cell")
    return np.asarray(ops["rotations"]), np.asarray(ops["translations"])


def _site_images(sc, W: np.ndarray, w: np.ndarray) -> np.ndarray:
    """(N,) index of the site each site goes to under (W, w) (primitive fractional coordinates)."""
    host = sc.host
    L = np.asarray(host.prim_lattice, float)
    Linv = np.linalg.inv(L)
    nb = len(sc.occ_basis)
    x = np.array([host.cart(host.basis[p]) for p in sc.occ_basis]) @ Linv        # (nb, 3) local basis
    roles = [host.basis[p].role for p in sc.occ_basis]
    img = x @ W.T + w                                                               # (nb, 3)
    dest = np.empty(nb, dtype=np.int64)
    shift = np.empty((nb, 3), dtype=np.int64)
    for b in range(nb):
        d = img[b][None, :] - x
        near = np.all(np.abs(d - np.round(d)) < 1e-4, axis=1)
        hit = [j for j in np.flatnonzero(near) if roles[j] == roles[b]]
        if len(hit) != 1:
            raise SymmetryError("a host operation does not map the basis onto itself")
        dest[b] = hit[0]
        shift[b] = np.round(d[hit[0]]).astype(np.int64)
    p = sc.basis_local
    ijk = sc.ijk @ W.T + shift[p]
    return sc.index_of(dest[p], ijk)


class _Layout:
    """What the test needs of a supercell, independent of the occupancy (cached per supercell): the
    host operations the supercell keeps, the site permutation of each, and the translation group."""

    def __init__(self, sc, symprec: float):
        S = np.asarray(sc.S, dtype=float)
        self.S_Tinv = np.linalg.inv(S.T)
        self.det = int(round(abs(np.linalg.det(S))))
        R, T = _host_operations(sc.host, symprec)
        self.ops = []
        self.S_int = np.asarray(sc.S, dtype=np.int64)
        self.V = np.asarray(sc._V, dtype=np.int64)
        identity = [k for k, (W, w) in enumerate(zip(R, T))
                    if np.array_equal(W, np.eye(3, dtype=W.dtype)) and np.allclose(w - np.round(w), 0, atol=_EPS)]
        if not identity:
            raise SymmetryError("the identity was not found among the host operations")
        order = identity[:1] + [k for k in range(len(R)) if k != identity[0]]
        for k in order:   # the identity first: its translations decide which other operations can apply
            W, w = R[k], np.asarray(T[k], float)
            Ws = self.S_Tinv @ W @ S.T        # supercell fractional; not integer if the cell breaks W
            self.ops.append((W, Ws, w, _site_images(sc, W, w)))
        self.orders = tuple(int(d) for d in sc.group_orders)
        self.nb = len(sc.occ_basis)
        g = np.asarray(sc.group, dtype=np.int64) % np.array(self.orders)
        # flat index of each site in an (nb, d1, d2, d3) array
        self.flat = np.ravel_multi_index((sc.basis_local,) + tuple(g.T), (self.nb,) + self.orders)
        first = np.flatnonzero(sc.basis_local == 0)
        self.rep_ijk = np.zeros(self.orders + (3,), dtype=np.int64)   # a primitive translation per element
        self.rep_ijk[tuple(g[first].T)] = sc.ijk[first]


_layouts: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_lock = threading.Lock()


def _layout(sc, symprec: float) -> _Layout:
    with _lock:
        hit = _layouts.get(sc)
        if hit is None or hit[0] != symprec:
            hit = _layouts[sc] = (symprec, _Layout(sc, symprec))
        return hit[1]


def _spectrum(weights: np.ndarray, where: np.ndarray, lay: _Layout) -> np.ndarray:
    """FFT over the translation group of per-site weights placed at flat positions `where`."""
    a = np.bincount(where, weights=weights, minlength=lay.nb * int(np.prod(lay.orders)))
    return np.fft.rfftn(a.reshape((lay.nb,) + lay.orders), axes=(1, 2, 3))


def decoration_operations(model, occupancy=None, symprec: float = 1e-3):
    """The occupancy's symmetry operations in the supercell's fractional coordinates (column
    convention x' = W x + w): (rotations (k, 3, 3), translations (k, 3)) with one operation per
    kept rotation part, and the pure translations (m, 3) that keep the occupancy (the identity
    included); the whole group is every operation combined with every pure translation.

    An operation (W, w + t) keeps the occupancy when occ(g(s) + t) = occ(s) for the sites s of one
    cell and the occupancy repeats along W applied to the supercell vectors (then the check holds for
    the sites of every cell, also when W does not map the supercell's lattice onto itself)."""
    sc = model.supercell
    occ = np.asarray(model.occupancy if occupancy is None else occupancy)
    lay = _layout(sc, symprec)
    codes = np.unique(occ)
    masks = [(occ == c).astype(float) for c in codes]
    ref = [_spectrum(m, lay.flat, lay) for m in masks]
    rotations, translations, pure, periodic = [], [], None, None
    for W, Ws, w, dest in lay.ops:
        if periodic is not None:
            # the occupancy must repeat along W S (the supercell vectors turned by W)
            g = ((lay.S_int @ W.T) @ lay.V) % np.array(lay.orders)
            if not periodic[tuple(g.T)].all():
                continue
        total = sum(np.conj(_spectrum(m, lay.flat[dest], lay)) * b for m, b in zip(masks, ref))
        # matches(t) = sum over sites s of [occ(g(s) + t) == occ(s)]: all of them for a symmetry
        corr = np.fft.irfftn(total, s=lay.orders, axes=(1, 2, 3)).sum(axis=0)
        ok = np.abs(corr - len(occ)) < 0.5
        if periodic is None:
            periodic = ok                         # the identity's: the pure translations
        if not ok.any():
            continue
        t = lay.rep_ijk[ok].astype(float)                                  # primitive translations
        ws = (w[None, :] + t) @ lay.S_Tinv.T                               # supercell fractional
        ws -= np.floor(ws + _EPS)
        if pure is None:
            pure = ws
        rotations.append(Ws)
        translations.append(ws[0])
    return np.array(rotations), np.array(translations), pure


def _primitive_setting(rotations, translations, pure, lattice, det: int):
    """The operations expressed on the lattice of the pure translations (so spglib gets each
    point-group operation once, not once per supercell translation)."""
    gens = np.vstack([np.round(pure * det).astype(np.int64), det * np.eye(3, dtype=np.int64)])
    B = _lattice_basis(gens) / det                                              # rows, supercell frac
    Binv = np.linalg.inv(B)
    rots = np.einsum("ij,kjl,lm->kim", B, np.transpose(rotations, (0, 2, 1)), Binv)
    if np.abs(rots - np.round(rots)).max() > 1e-6:
        raise SymmetryError("the operations found do not keep the lattice of the decoration")
    rots = np.round(rots)
    trans = translations @ Binv
    trans -= np.floor(trans + 1e-6)
    return np.transpose(rots, (0, 2, 1)).astype(np.intc), trans, B @ lattice


def _lattice_basis(gens: np.ndarray) -> np.ndarray:
    """A basis (3, 3) of the integer lattice generated by the rows of `gens` (column-style Hermite
    reduction with exact integer arithmetic)."""
    A = [list(map(int, r)) for r in gens]
    basis = []
    for col in range(3):
        rows = [r for r in A if r[col] != 0]
        rest = [r for r in A if r[col] == 0]
        while len(rows) > 1:
            rows.sort(key=lambda r: abs(r[col]))
            pivot = rows[0]
            new = [pivot]
            for r in rows[1:]:
                q = r[col] // pivot[col]
                r2 = [a - q * b for a, b in zip(r, pivot)]
                (new if r2[col] != 0 else rest).append(r2)
            rows = new
        if rows:
            basis.append(rows[0])
        A = rest
    if len(basis) != 3:
        raise SymmetryError("the pure translations do not span a lattice")
    return np.array(basis, dtype=float)


def decoration_space_group(model, occupancy=None, symprec: float = 1e-3):
    """core.structure.symmetry.SpaceGroupInfo of an occupancy of the model's lattice (default the
    model's own), from `decoration_operations`. SymmetryError when the cell is empty, the supercell
    breaks the host's symmetry, or spglib cannot name the group."""
    from core.structure.symmetry import SpaceGroupInfo

    occ = np.asarray(model.occupancy if occupancy is None else occupancy)
    if not np.any(occ != VACANCY):
        raise SymmetryError("no atoms: the space group of an empty cell is undefined")
    rot, trans, pure = decoration_operations(model, occ, symprec)
    lattice = np.asarray(model.supercell.lattice, float)
    rot_p, trans_p, lat_p = _primitive_setting(rot, trans, pure, lattice, _layout(model.supercell, symprec).det)
    import spglib
    sgt = spglib.get_spacegroup_type_from_symmetry(rot_p, trans_p, lat_p, symprec=symprec)
    if sgt is None:
        raise SymmetryError("spglib could not name the group of the operations found")
    return SpaceGroupInfo(str(sgt.international_short), int(sgt.number), float(symprec))





def framework_occupancy(model, occupancy=None) -> np.ndarray:
    """The occupancy with the alkali layers emptied: the TM + O framework (the group reference tables
    give for P-type honeycombs, whose partly filled Na layer usually breaks the symmetry of the cell)."""
    from core.structure.hosts import ALKALI_ROLES

    occ = np.array(model.occupancy if occupancy is None else occupancy, copy=True)
    occ[np.isin(model.supercell.role, ALKALI_ROLES)] = VACANCY
    return occ


def roles_told_apart(model, occupancy=None) -> bool:
    """True when no two site roles holding atoms carry the same species counts: then no operation of
    the decorated crystal can map one role onto another, and `decoration_space_group` is exact."""
    sc = model.supercell
    occ = np.asarray(model.occupancy if occupancy is None else occupancy)
    seen = set()
    for role in np.unique(sc.role):
        vals = occ[sc.role == role]
        if not np.any(vals != VACANCY):
            continue
        codes, counts = np.unique(vals, return_counts=True)
        key = (tuple(codes.tolist()), tuple(counts.tolist()))
        if key in seen:
            return False
        seen.add(key)
    return True


_quick_cache: dict = {}
_QUICK_CACHE_SIZE = 64


def quick_space_groups(model, occupancy=None, symprec: float = 1e-3) -> dict:
    """The framework's and the whole cell's space group by `decoration_space_group` (milliseconds to a
    few tens of milliseconds on 24x24x3; once per supercell ~0.1 s more to map its operations).

    Returns {"framework_space_group": SpaceGroupInfo or error text, "space_group": SpaceGroupInfo or
    None, "reason": why "space_group" is None (then ask spglib: the layers are not told apart, or the
    supercell breaks the host's symmetry)}. Cached by supercell and configuration."""
    import hashlib

    occ = np.ascontiguousarray(model.occupancy if occupancy is None else occupancy)
    key = (id(model.supercell), hashlib.sha1(occ.tobytes()).digest(), float(symprec))
    hit = _quick_cache.get(key)
    if hit is not None and hit[0] is model.supercell:
        return dict(hit[1])
    out: dict = {"space_group": None, "reason": ""}
    try:
        out["framework_space_group"] = decoration_space_group(model, framework_occupancy(model, occ), symprec)
    except SymmetryError as exc:
        out["framework_space_group"] = str(exc)
    if not roles_told_apart(model, occ):
        out["reason"] = "two site roles hold the same species: spglib decides"
    else:
        try:
            out["space_group"] = decoration_space_group(model, occ, symprec)
        except SymmetryError as exc:
            out["reason"] = str(exc)
    _quick_cache[key] = (model.supercell, dict(out))
    if len(_quick_cache) > _QUICK_CACHE_SIZE:
        _quick_cache.pop(next(iter(_quick_cache)))
    return out
_cells: dict = {}


def quick_space_groups_in_cell(host: dict, matrix, layers: int, stacking_shift, occupancy,
                               symprec: float = 1e-3) -> dict:
    """`quick_space_groups` of an occupancy of the supercell (host.to_dict(), in-plane matrix, layers,
    stacking shift): the picklable entry point for a long-lived child process, which keeps the last
    supercells and their operation tables, so a new configuration costs only the FFTs."""
    from types import SimpleNamespace

    from core.structure.hosts import host_from_dict
    from core.structure.supercell import Supercell

    M = np.asarray(matrix, dtype=np.int64)
    shift = tuple(int(x) for x in stacking_shift)
    key = (repr(sorted(host.items())), M.tobytes(), int(layers), shift)
    sc = _cells.get(key)
    if sc is None:
        sc = Supercell(host_from_dict(host), M, int(layers), stacking_shift=shift)
        _cells[key] = sc
        while len(_cells) > 4:
            _cells.pop(next(iter(_cells)))
    occ = np.asarray(occupancy)
    return quick_space_groups(SimpleNamespace(supercell=sc, occupancy=occ), occ, symprec)


__all__ = ["decoration_operations", "decoration_space_group", "framework_occupancy", "quick_space_groups",
           "quick_space_groups_in_cell", "roles_told_apart"]
