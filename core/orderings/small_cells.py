"""Small cells of a model's host for exhaustive enumeration, tiled back onto the model.

    cells = distinct_cells(3)                       # the superlattices of index 3, one per orbit
    cell = small_cell(model, cells[0]["hnf"], "tm")  # the small model, and whether it tiles `model`
    n = count_classes(perms, counts)                # symmetry-distinct arrangements, before enumerating
    occ = tile(cell, small_occupancy, model)        # an arrangement of the small cell on the model

A small cell is an in-plane superlattice H (HNF rows [[a, 0], [b, c]] in units of a1, a2, index a c)
of the host's primitive cell, with the fewest layers the stacking allows (one O3/P3 slab, two P2/O2
slabs) and a stacking vector chosen so that the model's supercell is a supercell of it: its
arrangements then tile the model exactly (energy per MO2 unchanged). The sites that are not enumerated
take the model's species at the same translations. The active sublattice's composition is the model's
(or one given), realised on the small cell's sites.

Cells related by the triangular lattice's point group 6mm (rotations by 60 degrees, mirrors) hold the
same arrangements turned, so `distinct_cells` lists one per orbit. `count_classes` counts the orbits
of the arrangements with given species counts under a group of site permutations by Burnside's lemma
(the number of orbits is the mean number of arrangements each operation fixes; an arrangement is fixed
when it is constant on every cycle of the permutation), so the number of classes an enumeration will
produce is known before it runs.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from functools import lru_cache

import numpy as np

from core.errors import CompositionError, SupercellError
from core.orderings.montecarlo import active_sites
from core.orderings.superlattice import coset_labels, hnf_2d, metric_norm2, wood_name

#: The 12 operations of 6mm on integer in-plane coordinates (row vectors v -> v @ R): powers of the
#: 60-degree rotation (i, j) -> (i - j, i), each with and without the mirror a1 <-> a2.
_R60 = np.array([[1, 1], [-1, 0]], dtype=np.int64)
_MIRROR = np.array([[0, 1], [1, 0]], dtype=np.int64)
POINT_OPERATIONS = tuple(m @ np.linalg.matrix_power(_R60, k) for m in (np.eye(2, dtype=np.int64), _MIRROR)
                         for k in range(6))


def _in_lattice(H, vecs) -> np.ndarray:
    return coset_labels(np.asarray(H), np.asarray(vecs, dtype=np.int64).reshape(-1, 2)) == 0


def _canonical(H) -> tuple:
    return min(tuple(hnf_2d(np.asarray(H) @ R).ravel().tolist()) for R in POINT_OPERATIONS)


def tiles_inplane(H, matrix) -> bool:
    """True if every row of the supercell `matrix` (2, 2) lies in the lattice with HNF rows H."""
    return bool(_in_lattice(hnf_2d(H), np.asarray(matrix)).all())


def tiles_model(model, hnf) -> bool:
    """True if the small cell `hnf` (one slab for O3/P3, two for P2/O2) tiles `model`'s supercell: in
    the plane, and along the stacking with some stacking vector of the small cell."""
    sc = model.supercell
    return tiles_inplane(hnf, sc.matrix) and _stacking_shift(sc, hnf, sc.host.slabs_per_prim) is not None


def distinct_cells(index: int, model=None) -> list[dict]:
    """One cell of every 6mm orbit of the index-`index` superlattices: [{"hnf" (2, 2) rows, "name"
    (Wood notation), "index", "tiles" (whether it tiles `model`'s supercell, when a model is given)}],
    most compact first. Within an orbit, a member that tiles the model is preferred."""
    from core.orderings.enumeration import hnf_cells

    if index < 1:
        raise SupercellError("the cell index must be at least 1")
    orbits: dict = {}
    for H in hnf_cells(int(index)):
        orbits.setdefault(_canonical(H), []).append(H)
    out = []
    for key, members in orbits.items():
        pick = np.array(key, dtype=np.int64).reshape(2, 2)
        tiles = None
        if model is not None:
            fits = [H for H in members if tiles_model(model, H)]
            tiles = bool(fits)
            if fits:
                pick = fits[0]
        out.append({"hnf": pick.tolist(), "name": wood_name(pick)[0], "index": int(index), "tiles": tiles})
    out.sort(key=lambda c: (metric_norm2(np.array(c["hnf"])).max(), c["name"]))
    return out


@dataclass
class SmallCell:
    """A small model of the host for enumeration. `model` the small Model (the active sublattice in
    `counts` {species code: n}); `hnf` its in-plane lattice; `tiles` whether its arrangements tile the
    model it was made from (`reason` says why not); `fixed_repeats` whether that model's other sites
    repeat in the small cell (else they were taken at the small cell's translations)."""

    model: object
    hnf: list
    name: str
    sublattice: str
    counts: dict
    tiles: bool
    reason: str = ""
    fixed_repeats: bool = True
    stacking_shift: tuple = ()
    info: dict = field(default_factory=dict)


def _stacking_shift(sc, H, small_layers: int):
    """The in-plane part v of the small cell's stacking vector that makes `sc` a supercell of it
    (v_sc - r v in the lattice H, r the ratio of layer counts), the most normal one; None if none."""
    from core.structure.lattice_math import coset_representatives_2d

    r = sc.layers // small_layers
    if sc.layers % small_layers:
        return None
    host = sc.host
    K = small_layers // host.slabs_per_prim
    shift = np.array(host.shift) * K
    a = np.array([host.a1[:2], host.a2[:2]])
    best = None
    lattice_pts = np.array([(i, j) for i in range(-2, 3) for j in range(-2, 3)]) @ hnf_2d(H)
    for c in coset_representatives_2d(hnf_2d(H)):
        if not _in_lattice(H, sc.v - r * c)[0]:
            continue
        for t in lattice_pts:
            v = c + t
            key = (round(float(np.linalg.norm((shift + v) @ a)), 9), tuple(-v))
            if best is None or key < best[0]:
                best = (key, v)
    return None if best is None else best[1].astype(np.int64)


def sublattice_fractions(model, sublattice: str) -> dict[int, Fraction]:
    """{species code: fraction of the sublattice's sites} in `model` (vacancies included)."""
    sites, _ = active_sites(model, sublattice)
    codes, counts = np.unique(model.occupancy[sites], return_counts=True)
    return {int(c): Fraction(int(k), len(sites)) for c, k in zip(codes, counts)}


def small_cell(model, hnf, sublattice: str = "tm", composition: str | None = None) -> SmallCell:
    """The small cell `hnf` of `model`'s host with `sublattice` ("tm" or "alkali") holding the model's
    composition of it (or `composition`, e.g. "Li:1/3,Mn:2/3"). Raises CompositionError when the
    composition has no whole number of ions on the small cell's sites, SupercellError for a bad cell."""
    from core.structure.composition import format_spec, parse_spec, realise
    from core.structure.model import Model
    from core.structure.supercell import Supercell

    key = str(sublattice).strip().lower()
    if key not in ("tm", "alkali"):
        raise CompositionError(f"enumerate the tm or the alkali sublattice, not {sublattice!r}")
    H = hnf_2d(np.asarray(hnf, dtype=np.int64))
    name, basis = wood_name(H)
    if round(np.linalg.det(basis.astype(float))) < 0:
        basis = basis[::-1].copy()
    sc = model.supercell
    small_layers = sc.host.slabs_per_prim
    reason = ""
    v = None
    if not tiles_inplane(H, sc.matrix):
        reason = f"the {name} cell does not tile the {_cell_text(sc.matrix)} supercell in the plane"
    else:
        v = _stacking_shift(sc, H, small_layers)
        if v is None:
            reason = (f"no {small_layers}-slab {name} cell repeats along the stacking vector of the model's "
                      f"{sc.layers}-layer cell; the cells marked ✓ do")
    small_sc = Supercell(sc.host, basis, small_layers, stacking_shift=None if v is None else v)
    occ = model.occupancy[sc.index_of(small_sc.basis_local, small_sc.ijk)].copy()
    small = Model(small_sc, occ, dict(model.oxidation))
    sites, _ = active_sites(small, key)
    big_sites, _ = active_sites(model, key)
    fr = parse_spec(composition) if composition and composition.strip() else sublattice_fractions(model, key)
    what = f"{'TM' if key == 'tm' else 'alkali'} sites of the {name} cell"
    try:
        counts = realise(fr, len(sites), what)
    except CompositionError:
        raise CompositionError(f"{format_spec(fr) or 'the composition'} cannot be placed on the {len(sites)} "
                               f"{what}: choose a cell whose site count is a multiple of "
                               f"{_denominator(fr)}") from None
    fill = np.concatenate([np.full(n, c, dtype=np.int8) for c, n in sorted(counts.items()) if n])
    small.occupancy[sites] = fill
    fixed_repeats = True
    if v is not None:
        small_of_big = small_sc.index_of(sc.basis_local, sc.ijk)
        fixed = np.ones(sc.n_sites, bool)
        fixed[big_sites] = False
        fixed_repeats = bool(np.array_equal(occ[small_of_big][fixed], model.occupancy[fixed]))
    return SmallCell(small, H.tolist(), name, key, {int(c): int(n) for c, n in counts.items() if n},
                     tiles=v is not None, reason=reason, fixed_repeats=fixed_repeats,
                     stacking_shift=tuple(int(x) for x in small_sc.v),
                     info={"sites": int(len(sites)), "layers": small_layers, "composition": format_spec(fr)})


def _denominator(fr) -> int:
    from core.structure.composition import denominator
    return denominator(fr)


def _cell_text(M) -> str:
    M = np.asarray(M)
    if M[0, 1] == 0 and M[1, 0] == 0:
        return f"{M[0, 0]}x{M[1, 1]}"
    return wood_name(M)[0]


def tile(cell: SmallCell, occupancy, model) -> np.ndarray:
    """The model's occupancy (N,) int8 with its active sublattice replaced by the small cell's
    arrangement `occupancy` (small cell's sites) repeated; SupercellError when the cell does not tile."""
    if not cell.tiles:
        raise SupercellError(f"cannot tile onto this model: {cell.reason}")
    sc, small_sc = model.supercell, cell.model.supercell
    if sc.host is not small_sc.host and sc.host.stacking != small_sc.host.stacking:
        raise SupercellError("the small cell belongs to another host")
    small_of_big = small_sc.index_of(sc.basis_local, sc.ijk)
    sites, _ = active_sites(model, cell.sublattice)
    out = model.occupancy.copy()
    out[sites] = np.asarray(occupancy, dtype=np.int8)[small_of_big[sites]]
    return out


def recognition_model(cell: SmallCell, occupancy, min_sites: int = 36):
    """The arrangement repeated k x k times in the plane (k >= 2, at least `min_sites` sites a layer),
    so that its period can be recognised (a superlattice is only reported when it repeats)."""
    from core.structure.model import Model

    small = Model(cell.model.supercell, np.asarray(occupancy, np.int8), dict(cell.model.oxidation))
    d = small.supercell.det
    k = max(2, int(np.ceil(np.sqrt(min_sites / d))))
    sc = small.supercell
    return small.tiled(k * sc.matrix, sc.layers)


def sublattice_superlattice(model, sublattice: str) -> dict:
    """find_superlattice over every (basis site, slab) family of the sublattice's sites: the period
    lattice they share (alkali layers, whose P2/P3 prisms are two families per slab)."""
    from core.orderings.superlattice import find_superlattice
    from core.structure.species import ELEMENT_CODE

    sc = model.supercell
    sites, _ = active_sites(model, sublattice)
    fams = []
    for p in np.unique(sc.basis_local[sites]):
        for k in np.unique(sc.ijk[sites, 2]):
            s = np.sort(sites[(sc.basis_local[sites] == p) & (sc.ijk[sites, 2] == k)])
            fams.append(ELEMENT_CODE[model.occupancy[s]])
    return find_superlattice(sc, fams)


@lru_cache(maxsize=4096)
def _fixed_by_cycles(cycles: tuple, counts: tuple) -> int:
    """Arrangements with `counts` of each species constant on each cycle (lengths `cycles`)."""
    ways = {counts: 1}
    for L in cycles:
        nxt: dict = {}
        for rem, w in ways.items():
            for s, r in enumerate(rem):
                if r >= L:
                    key = rem[:s] + (r - L,) + rem[s + 1:]
                    nxt[key] = nxt.get(key, 0) + w
        ways = nxt
    return ways.get(tuple(0 for _ in counts), 0)


def _cycle_type(p) -> tuple:
    p = np.asarray(p)
    seen = np.zeros(len(p), bool)
    out = []
    for i in range(len(p)):
        if seen[i]:
            continue
        n, j = 0, i
        while not seen[j]:
            seen[j] = True
            j = p[j]
            n += 1
        out.append(n)
    return tuple(sorted(out, reverse=True))


def count_classes(perms, counts) -> int:
    """Orbits of the arrangements with species `counts` (sequence of ints) under the site permutations
    `perms` (k, n) (a group), by Burnside's lemma."""
    counts = tuple(sorted(int(c) for c in counts if c))
    total = sum(_fixed_by_cycles(_cycle_type(p), counts) for p in perms)
    return total // len(perms)


__all__ = ["distinct_cells", "small_cell", "SmallCell", "tile", "count_classes", "recognition_model",
           "sublattice_superlattice", "sublattice_fractions", "tiles_inplane", "tiles_model",
           "POINT_OPERATIONS"]
