"""Presets other than the plain honeycomb: ribbon, capped honeycomb, flower, zigzag, stripe,
Li-excess composite and random (docs/science.md §3-5). Called through `core.orderings.preset_occupancy`.

Every layer carries the same pattern, displaced from layer to layer by one vector t chosen so that the
displacement across the periodic boundary is the same (`orderings.uniform_shift`).
"""
from __future__ import annotations

import numpy as np

from core.errors import OrderingError
from core.orderings.honeycomb import (
    _fmt,
    check_commensurate,
    honeycomb,
    honeycomb_minority_mask,
    honeycomb_offsets,
    in_lattice,
    layer_ij,
    split_minority,
    tm_counts,
    uniform_shift,
)
from core.structure.hosts import ROLE_TM
from core.structure.species import ALKALI, SPECIES, VACANCY, charge_by_code

RIBBON = np.array([[5, 0], [2, 1]], dtype=np.int64)
ZIGZAG = np.array([[2, 0], [1, 2]], dtype=np.int64)     # periods of (2i + j) mod 4
STRIPE = np.array([[1, 0], [0, 2]], dtype=np.int64)     # periods of j mod 2
FLOWER = np.array([[4, 2], [-2, 2]], dtype=np.int64)    # 2sqrt3 x 2sqrt3


def _layered_mask(model, P, member) -> np.ndarray:
    """(N,) bool over TM sites: member(i, j) for each layer's coordinates shifted by L * t."""
    sc = model.supercell
    t = uniform_shift(model, P)
    mask = np.zeros(sc.n_sites, dtype=bool)
    for L in range(sc.layers):
        s, i, j = layer_ij(model, L, L * t)
        mask[s] = member(i, j)
    return mask


def _two_species(model, P, name, ratio, examples, member, by_charge=False, **_):
    check_commensurate(model, P, name, examples)
    charges = charge_by_code(model.oxidation) if by_charge else None
    lo, hi = split_minority(tm_counts(model), ratio, name, charges)
    mask = _layered_mask(model, P, member)
    occ = model.occupancy.copy()
    tm = model.supercell.tm_sites
    occ[tm] = np.where(mask[tm], lo, hi)
    return occ


def ribbon(model, *, seed: int = 0) -> np.ndarray:
    """Li1/5Mn4/5 ribbon: minority on the index-5 lattice [[5,0],[2,1]] ((i - 2j) % 5 == 0)."""
    return _two_species(model, RIBBON, "the ribbon", (1, 4),
                        "ribbon (5,0,2,1), 5x5, 10x10, 5x10 ...",
                        lambda i, j: (i - 2 * j) % 5 == 0)


def zigzag(model, *, seed: int = 0) -> np.ndarray:
    """1:1 zigzag chains: the lower-charged species where (2i + j) % 4 in {0, 1}."""
    return _two_species(model, ZIGZAG, "the zigzag ordering", (1, 1), "4x4, 2x4 (2,0,0,4), 8x8 ...",
                        lambda i, j: (2 * i + j) % 4 < 2, by_charge=True)


def stripe(model, *, seed: int = 0) -> np.ndarray:
    """1:1 stripes (rows): the lower-charged species where j % 2 == 0."""
    return _two_species(model, STRIPE, "the stripe ordering", (1, 1), "2x2, 4x4, 6x6, 1x2 ...",
                        lambda i, j: j % 2 == 0, by_charge=True)


# ---------------------------------------------------------------------------- caps
def trans_cap_sites(model, centre_mask: np.ndarray, tol: float = 0.99) -> tuple[np.ndarray, np.ndarray]:
    """Alkali-layer sites lying on a straight line between two honeycomb centres (one in the TM
    layer below, one above): the C2/m Li2MnO3 2c site (docs/science.md §4), or in P2 the Na_f prism
    between eclipsed centres. A cap shares edges (O3) or faces (P2) with both centres.

    centre_mask: (N,) bool of the centre sites. Returns (cap sites (m,), centre pairs (m, 2)).
    """
    sc = model.supercell
    alk = sc.alkali_sites
    idx, vec = sc.neighbours(alk, ROLE_TM, n=8, rmax=4.0)
    valid = idx >= 0
    is_c = np.zeros(idx.shape, bool)
    is_c[valid] = centre_mask[idx[valid]]
    unit = vec / np.linalg.norm(vec, axis=2, keepdims=True)
    # cos of the angle centre_a -> site -> centre_b is -(u_a . u_b) for unit vectors site -> centre
    dots = np.einsum("nak,nbk->nab", np.nan_to_num(unit), np.nan_to_num(unit))
    pair_ok = is_c[:, :, None] & is_c[:, None, :] & (-dots >= tol)
    has = pair_ok.any(axis=(1, 2))
    sites, pairs = [], []
    for r in np.flatnonzero(has):
        a, b = np.argwhere(pair_ok[r])[0]
        sites.append(alk[r])
        pairs.append((idx[r, a], idx[r, b]))
    return np.array(sites, dtype=np.int64), np.array(pairs, dtype=np.int64).reshape(-1, 2)


def _non_alkali(code: int) -> bool:
    return code != VACANCY and SPECIES[code] not in ALKALI and SPECIES[code] != "O"


def capped_honeycomb(model, *, seed: int = 0, cap_fraction: float | None = None,
                     stacking: str | None = None) -> np.ndarray:
    """Honeycomb with TM 'caps' on the alkali-layer sites trans between two honeycomb centres.

    Cap sites: `trans_cap_sites` (need a stacking with centres stacked across the alkali layer: the
    O3 default C2/m or P2 eclipsed). The TM layer takes the honeycomb of its own composition.
    Where the caps come from: if the alkali layer already holds TM ions (non-alkali cations), they
    are *placed* on cap sites (their number sets the fraction; `cap_fraction` must then agree or be
    omitted); otherwise round(cap_fraction * number of cap sites) majority TMs (default fraction 0.5)
    are *moved* from random (seeded) TM-layer sites, each swapping with the occupant of its cap site
    (alkali ion or vacancy), which keeps the composition: a Li/Mn antisite pair per cap.
    """
    rng = np.random.default_rng(seed)
    sc = model.supercell
    alk = sc.alkali_sites
    occ0 = model.occupancy
    alk_tm = alk[np.array([_non_alkali(int(c)) for c in occ0[alk]], dtype=bool)]
    # the honeycomb of the TM layer as it is (any TM ions in the alkali layer stay out of it)
    occ = honeycomb(model, seed=seed, stacking=stacking)
    offs = honeycomb_offsets(model, stacking, rng=np.random.default_rng(seed))
    centre = honeycomb_minority_mask(model, offs)
    caps, _pairs = trans_cap_sites(model, centre)
    if len(caps) == 0:
        raise OrderingError("no alkali-layer site lies trans between two honeycomb centres in this "
                            "stacking; use the C2/m (O3) or eclipsed (P2) stacking")
    if len(alk_tm):
        n = len(alk_tm)
        if cap_fraction is not None and round(cap_fraction * len(caps)) != n:
            raise OrderingError(f"the alkali layer holds {n} TM ions, i.e. a cap fraction of "
                                f"{n / len(caps):.3g}, not {cap_fraction}; omit cap_fraction")
        if n > len(caps):
            raise OrderingError(f"{n} TM ions in the alkali layer but only {len(caps)} cap sites")
        chosen = rng.choice(caps, size=n, replace=False)
        # pairwise swaps: each TM ion off a chosen cap trades places with the occupant of a free cap
        off_cap = np.setdiff1d(alk_tm, chosen)
        free_cap = np.setdiff1d(chosen, alk_tm)
        occ[free_cap], occ[off_cap] = occ0[off_cap], occ0[free_cap]
        return occ
    frac = 0.5 if cap_fraction is None else float(cap_fraction)
    if not 0.0 <= frac <= 1.0:
        raise OrderingError(f"cap_fraction must be within 0..1, not {cap_fraction}")
    n = int(round(frac * len(caps)))
    chosen = rng.choice(caps, size=n, replace=False)
    tm = sc.tm_sites
    counts = tm_counts(model)
    majority = max(counts, key=counts.get)
    donors = rng.choice(tm[(occ[tm] == majority)], size=n, replace=False)
    occ[donors], occ[chosen] = occ[chosen], majority
    return occ


# ---------------------------------------------------------------------------- flower
def flower(model, *, seed: int = 0) -> np.ndarray:
    """LiNi0.5Mn0.5O2 flower on 2sqrt3 x 2sqrt3 (docs/science.md §5).

    Needs, over TM and (default) alkali sites together, alkali A : low-valent B : Mn-like C =
    2 : 1 : 1 with as many alkali-layer sites as TM sites (e.g. LiNi0.5Mn0.5O2, before or after
    exchange). Result per 12 TM sites: one A at a 2sqrt3 lattice point ringed by six C, five B; the
    displaced B sits in the alkali layer on the site trans to the TM-layer A (as a cap would).
    """
    check_commensurate(model, FLOWER, "the flower", "2sqrt3, 6x6, 12x12 ...")
    sc = model.supercell
    tm = sc.tm_sites
    alk = model.default_alkali_sites()
    if len(alk) != len(tm):
        raise OrderingError("the flower needs one alkali-layer site per TM site (O3/O2 hosts)")
    both = np.concatenate([tm, alk])
    counts = tm_counts(model, both)
    alkalis = [c for c in counts if SPECIES[c] in ALKALI]
    others = [c for c in counts if c not in alkalis]
    q = charge_by_code(model.oxidation)
    n = len(tm)
    if len(alkalis) != 1 or len(others) != 2 or counts[alkalis[0]] != n or \
            any(counts[c] * 2 != n for c in others):
        raise OrderingError(f"the flower needs LiNi0.5Mn0.5O2-type composition (alkali 1, two TM 1/2 "
                            f"each); TM + alkali layers hold {_fmt(counts)}")
    a = alkalis[0]
    b, c = sorted(others, key=lambda k: (q[k], k))
    centre = _layered_mask(model, FLOWER, lambda i, j: in_lattice(FLOWER, np.column_stack([i, j])))
    ring = np.zeros(sc.n_sites, bool)
    ring[sc.inplane_shell(np.flatnonzero(centre), 1).ravel()] = True
    occ = model.occupancy.copy()
    occ[tm] = np.where(centre[tm], a, np.where(ring[tm], c, b))
    occ[alk] = a
    # the displaced B: trans site between two centres if the stacking provides one, else nearest
    caps, pairs = trans_cap_sites(model, centre)
    n_b = int(centre.sum())
    if len(caps) >= n_b:
        occ[caps[:n_b]] = b
    else:
        idx, _ = sc.neighbours(np.flatnonzero(centre), sc.role[alk[0]], n=1)
        occ[idx[:, 0]] = b
    return occ


# ---------------------------------------------------------------------------- composite
def li_excess_composite(model, *, seed: int = 0, domain_size: float = 4.0) -> np.ndarray:
    """Li2MnO3-like honeycomb domains in a random LiMO2 matrix (e.g. Li[Li0.2Ni0.2Mn0.6]O2).

    All TM-layer alkali ions go into honeycomb domains, each ringed by six majority (most abundant
    non-alkali) ions; domains are discs of diameter `domain_size` (units of a) centred at random
    (discs may merge; one sqrt3 coset per layer). The other
    TM-layer species fill the remaining sites at random (seeded).
    """
    sc = model.supercell
    tm = sc.tm_sites
    counts = tm_counts(model)
    li = [c for c in counts if SPECIES[c] in ALKALI]
    if len(li) != 1 or len(counts) < 3:
        raise OrderingError("the Li-excess composite needs TM-layer alkali plus at least two TM "
                            f"species (e.g. Li:0.2,Ni:0.2,Mn:0.6); found {_fmt(counts)}")
    if not domain_size > 0:
        raise OrderingError(f"domain_size must be positive (units of a), not {domain_size}")
    li = li[0]
    majority = max((c for c in counts if c != li), key=counts.get)
    n_li, n_maj = counts[li], counts[majority]
    if 6 * n_li > 3 * len(tm) or 2 * n_li > n_maj:
        raise OrderingError(f"{n_li} TM-layer {SPECIES[li]} need about {2 * n_li} {SPECIES[majority]} "
                            f"for Li2MnO3-like domains; only {n_maj} present")
    rng = np.random.default_rng(seed)
    nn = sc.tm_nn
    is_li = np.zeros(sc.n_sites, bool)
    is_maj = np.zeros(sc.n_sites, bool)
    a = sc.host.a
    r2 = (0.5 * domain_size * a) ** 2
    A = sc.inplane_lattice
    per_layer = [sc.layer_sites(L) for L in range(sc.layers)]
    xy = {L: sc.inplane_coords(s) for L, s in enumerate(per_layer)}
    # one sqrt3 coset per layer: overlapping discs then merge into larger domains without
    # antiphase boundaries, which would waste majority ions on partial rings
    layer_coset = rng.integers(3, size=sc.layers)
    placed = 0
    for _attempt in range(50 * len(tm)):
        if placed >= n_li:
            break
        L = int(rng.integers(sc.layers))
        s = per_layer[L]
        seed_site = int(rng.integers(len(s)))
        off = int(layer_coset[L])
        d = xy[L] - xy[L][seed_site]
        f = d @ np.linalg.inv(A)
        d = (f - np.round(f)) @ A  # minimum image in the plane
        dist2 = (d ** 2).sum(axis=1)
        _, i, j = layer_ij(model, L)
        cand = s[(dist2 <= r2) & ((i + j - off) % 3 == 0)]
        cand = cand[np.argsort(dist2[np.searchsorted(s, cand)], kind="stable")]
        for site in cand:
            if placed >= n_li:
                break
            ring = nn[site]
            if is_li[site] or is_maj[site] or is_li[ring].any():
                continue
            new_maj = ring[~is_maj[ring]]
            if is_maj.sum() + len(new_maj) > n_maj:
                continue
            is_li[site] = True
            is_maj[new_maj] = True
            placed += 1
    if placed < n_li:
        raise OrderingError(f"could place only {placed} of {n_li} honeycomb centres; use a larger "
                            "supercell or less TM-layer Li")
    occ = model.occupancy.copy()
    occ[is_li] = li
    occ[is_maj] = majority
    rest = tm[~is_li[tm] & ~is_maj[tm]]
    left = dict(counts)
    left[li] -= placed
    left[majority] -= int(is_maj.sum())
    pool = np.concatenate([np.full(k, c, np.int8) for c, k in sorted(left.items()) if k > 0])
    rng.shuffle(pool)
    occ[rest] = pool
    return occ


# ---------------------------------------------------------------------------- random
def random_occupancy(model, *, seed: int = 0) -> np.ndarray:
    """Each site role's species (TM layer, alkali octahedra, each prism kind) shuffled, seeded."""
    sc = model.supercell
    rng = np.random.default_rng(seed)
    occ = model.occupancy.copy()
    for role in np.unique(sc.role[sc.cation_sites]):
        s = sc.sites_with_role(str(role))
        occ[s] = rng.permutation(occ[s])
    return occ


__all__ = ["ribbon", "zigzag", "stripe", "capped_honeycomb", "flower", "li_excess_composite",
           "random_occupancy", "trans_cap_sites"]
