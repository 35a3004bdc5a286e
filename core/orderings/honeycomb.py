"""Named cation orderings (presets) of the TM layer, as new occupancies for a model's composition.

`preset_occupancy(model, name, seed=0, **params)` returns a new int8 occupancy (N,) that keeps the
model's per-sublattice species counts (taken from ``model.occupancy``) and arranges them in the named
ordering; it raises `OrderingError` with a one-line reason when composition, supercell or stacking do
not fit. Geometry follows docs/science.md §2-5 (integer 120-degree coordinates (i, j) of
``supercell.ijk``; in-plane nearest neighbours +-(1,0), +-(0,1), +-(1,1)).

Patterns are periodic functions of (i, j) with a *pattern lattice* P (2x2 integer rows); a supercell
hosts the pattern when every row of its in-plane matrix lies in P. Layer L carries the pattern shifted
by t_L; the translation that closes the supercell along the stacking, S[2] = (v1, v2, K), links the
last layer to the first, so a uniform stacking (t_L = L t) needs n_layers * t == v (mod P).

Honeycomb stacking in O3 (spglib, symprec 1e-3, TM + O framework; checked in tests): with
o_L = the sqrt3 coset of layer L's minority and d_L = o_{L+1} - o_L (mod 3),
  constant d                 -> C2/m (12), Li2MnO3 type (any constant d);
  d cycling 0, 2, 1          -> P3_112 (151); d cycling 0, 1, 2 -> P3_212 (153);
  d alternating a, b (a != b) -> C2/c (15); irregular sequences -> mostly C2 (5).
In P2 (two slabs per cell, TM over TM): eclipsed (d = 0) -> P6_3/mcm (193); staggered (d alternating
1, 2) -> P6_322 (182), not P6_3/m (176) as docs/science.md §2 states (a horizontal mirror would map
minority onto minority across the Na layer, which staggering forbids).
"""
from __future__ import annotations

import numpy as np

from core.errors import OrderingError
from core.structure.species import SPECIES

SQRT3 = np.array([[2, 1], [-1, 1]], dtype=np.int64)

#: Honeycomb stacking names accepted per host stacking family.
O_STACKINGS = ("C2/m", "P3_112", "P3_212", "C2/c", "faults")
P2_STACKINGS = ("eclipsed", "staggered", "faults")
_ALIASES = {"c2/m": "C2/m", "p3_112": "P3_112", "p3112": "P3_112", "p3_212": "P3_212",
            "p3212": "P3_212", "c2/c": "C2/c", "faults": "faults", "random": "faults",
            "eclipsed": "eclipsed", "p6_3/mcm": "eclipsed", "p63/mcm": "eclipsed",
            "staggered": "staggered", "p6_322": "staggered", "p6322": "staggered"}


# ---------------------------------------------------------------------------- small helpers
def tm_counts(model, sites=None) -> dict[int, int]:
    """Species code -> count on `sites` (default: all TM-layer sites), vacancies included."""
    sc = model.supercell
    sites = sc.tm_sites if sites is None else sites
    codes, n = np.unique(model.occupancy[sites], return_counts=True)
    return {int(c): int(k) for c, k in zip(codes, n)}


def _fmt(counts: dict[int, int]) -> str:
    total = sum(counts.values())
    return ", ".join(f"{SPECIES[c]} {k}/{total}" for c, k in sorted(counts.items()))


def in_lattice(P: np.ndarray, vecs: np.ndarray) -> np.ndarray:
    """True for each integer vector (n, 2) that lies in the lattice spanned by the rows of P (2, 2)."""
    P = np.asarray(P, dtype=np.int64)
    det = int(round(np.linalg.det(P)))
    adj = np.array([[P[1, 1], -P[0, 1]], [-P[1, 0], P[0, 0]]], dtype=np.int64)
    return np.all((np.asarray(vecs, dtype=np.int64).reshape(-1, 2) @ adj) % det == 0, axis=1)


def cell_name(M) -> str:
    """'6x6', '5x3' for diagonal in-plane matrices, else the spec the supercell parser reads ('4,2,-2,2')."""
    M = np.asarray(M, dtype=np.int64)
    if M[0, 1] == 0 and M[1, 0] == 0:
        return f"{M[0, 0]}x{M[1, 1]}"
    return ",".join(str(int(v)) for v in M.ravel())


def check_commensurate(model, P, name: str, examples: str) -> None:
    """OrderingError unless every row of the supercell's in-plane matrix lies in pattern lattice P."""
    M = model.supercell.matrix
    if not in_lattice(P, M).all():
        raise OrderingError(
            f"{name} does not fit a {cell_name(M)} supercell: its repeating unit does not tile that cell "
            f"(cells that fit: {examples})")


def uniform_shift(model, P) -> np.ndarray:
    """Per-layer pattern shift t (2,) with n_layers * t == v (mod P), so every layer, including the
    one across the periodic boundary, is displaced by the same vector; (0, 0) when none exists."""
    sc = model.supercell
    P = np.asarray(P, dtype=np.int64)
    from core.structure.lattice_math import coset_representatives_2d
    v = sc.v
    for t in coset_representatives_2d(P):
        if in_lattice(P, sc.layers * t - v)[0]:
            return t
    return np.zeros(2, dtype=np.int64)


def layer_ij(model, layer: int, shift=(0, 0)) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(sites, i - shift_i, j - shift_j) of the TM sites of one layer."""
    sc = model.supercell
    s = sc.layer_sites(layer)
    return s, sc.ijk[s, 0] - int(shift[0]), sc.ijk[s, 1] - int(shift[1])


def split_minority(counts: dict[int, int], ratio: tuple[int, int], name: str,
                   charges: np.ndarray | None = None) -> tuple[int, int]:
    """(minority code, majority code) of a two-species layer with counts in `ratio` (minority first).

    For 1:1 the lower-charged species is the 'minority' (Ni in Ni/Mn), ties broken by code.
    """
    species = [c for c, k in counts.items() if k]
    if len(species) != 2:
        raise OrderingError(f"{name} needs exactly two species in the TM layer in ratio "
                            f"{ratio[0]}:{ratio[1]}; found {_fmt(counts) or 'none'}")
    a, b = species
    if ratio[0] == ratio[1]:
        qa, qb = (charges[a], charges[b]) if charges is not None else (a, b)
        lo, hi = (a, b) if (qa, a) < (qb, b) else (b, a)
    else:
        lo, hi = (a, b) if counts[a] < counts[b] else (b, a)
    if counts[lo] * ratio[1] != counts[hi] * ratio[0]:
        raise OrderingError(f"{name} needs TM-layer composition {ratio[0]}:{ratio[1]}; found "
                            f"{_fmt(counts)}")
    return lo, hi


# ---------------------------------------------------------------------------- honeycomb
def honeycomb_offsets(model, stacking: str | None = None, fault_probability: float = 0.1,
                      rng: np.random.Generator | None = None) -> np.ndarray:
    """sqrt3 coset index o_L (0..2) of the minority in every TM layer L for a named stacking.

    The boundary condition: o_n == o_0 + (v1 + v2) (mod 3) with S[2] = (v1, v2, K).
    """
    sc = model.supercell
    n = sc.layers
    is_p2 = sc.host.stacking == "P2"
    allowed = P2_STACKINGS if is_p2 else O_STACKINGS
    if stacking is None:
        stacking = "eclipsed" if is_p2 else "C2/m"
    key = _ALIASES.get(str(stacking).strip().lower())
    if key not in allowed:
        raise OrderingError(f"unknown honeycomb stacking {stacking!r} for {sc.host.stacking}; "
                            f"choose one of {', '.join(allowed)}")
    V = int(sc.v[0] + sc.v[1]) % 3
    if key in ("C2/m", "eclipsed"):
        ds = [d for d in range(3) if (n * d - V) % 3 == 0]
        if not ds:
            raise OrderingError(f"{key} honeycomb stacking cannot close on {n} layers of this cell")
        d_seq = [0 if 0 in ds else ds[0]] * n if key == "eclipsed" else [ds[-1]] * n
    elif key in ("P3_112", "P3_212"):
        if n % 3 or V:
            raise OrderingError(f"{key} (helical) honeycomb stacking needs a multiple of 3 TM layers, "
                                f"not {n}")
        cyc = (0, 2, 1) if key == "P3_112" else (0, 1, 2)
        d_seq = [cyc[L % 3] for L in range(n)]
    elif key in ("C2/c", "staggered"):
        m = n // 2
        pairs = [(1, 2), (0, 1), (0, 2), (1, 0), (2, 0), (2, 1)]
        ok = [(a, b) for a, b in pairs if n % 2 == 0 and (m * (a + b) - V) % 3 == 0]
        if key == "staggered":
            ok = [p for p in ok if p == (1, 2)]
        if not ok:
            raise OrderingError(f"{key} honeycomb stacking alternates two layers: it needs an even "
                                f"number of TM layers (4 or 6 in O3), not {n}")
        a, b = ok[0]
        d_seq = [a if L % 2 == 0 else b for L in range(n)]
    else:  # faults: the C2/m (O3) or eclipsed (P2) displacement, replaced at random
        if not 0.0 <= fault_probability <= 1.0:
            raise OrderingError(f"fault_probability must be within 0..1, not {fault_probability}")
        rng = rng or np.random.default_rng(0)
        base = honeycomb_offsets(model, "eclipsed" if is_p2 else "C2/m")
        d0 = int((base[1] - base[0]) % 3) if n > 1 else 0
        d_seq = [d0] * n
        for L in range(n - 1):
            if rng.random() < fault_probability:
                d_seq[L] = int((d0 + rng.integers(1, 3)) % 3)
        # the last step closes the periodic boundary
        d_seq[-1] = (V - sum(d_seq[:-1])) % 3
    offs = np.zeros(n, dtype=np.int64)
    for L in range(1, n):
        offs[L] = (offs[L - 1] + d_seq[L - 1]) % 3
    return offs


def honeycomb_minority_mask(model, offsets) -> np.ndarray:
    """(N,) bool: TM sites on the minority coset (i + j - o_L) % 3 == 0 of their layer."""
    sc = model.supercell
    mask = np.zeros(sc.n_sites, dtype=bool)
    for L, o in enumerate(offsets):
        s, i, j = layer_ij(model, L)
        mask[s] = (i + j - int(o)) % 3 == 0
    return mask


def honeycomb(model, *, seed: int = 0, stacking: str | None = None, fault_probability: float = 0.1,
              offset: int = 0) -> np.ndarray:
    """Honeycomb occupancy: minority on one sqrt3 coset per layer, majority elsewhere."""
    check_commensurate(model, SQRT3, "the honeycomb", "sqrt3, 3x3, 6x6, 2sqrt3, 9x9, 12x12 ...")
    counts = tm_counts(model)
    lo, hi = split_minority(counts, (1, 2), "the honeycomb")
    offs = (honeycomb_offsets(model, stacking, fault_probability, np.random.default_rng(seed))
            + int(offset)) % 3
    occ = model.occupancy.copy()
    sc = model.supercell
    mask = honeycomb_minority_mask(model, offs)
    occ[sc.tm_sites] = np.where(mask[sc.tm_sites], lo, hi)
    return occ



__all__ = ["honeycomb", "honeycomb_offsets", "honeycomb_minority_mask", "O_STACKINGS", "P2_STACKINGS"]
