"""Layer analysis of an imported structure: stacking axis, O planes, TM/alkali layers, stacking letters.

Works on plain arrays (no pymatgen): a file lattice (3, 3) Angstrom rows, fractional positions (n, 3) and
per-site weights (O occupancy, non-alkali "TM-layer" cation occupancy, total cation occupancy).

The stacking axis is the normal of close-packed O planes: candidates are the planes spanned by pairs of
nearest O-O vectors at 60 degrees (the four {111} planes of a cubic-close-packed O sublattice, the basal
plane of P-type stackings). Among them the layered direction is the one whose cation planes segregate
the non-alkali cations into every other gap between O planes (in the other {111} directions of a
rock-salt-type oxide each cation plane holds both kinds).
"""
from __future__ import annotations

from dataclasses import dataclass
from math import gcd

import numpy as np

from core.errors import StructureImportError

LETTERS = "ABC"
_SQ3 = np.sqrt(3.0)


def complete_unimodular(w) -> np.ndarray:
    """Unimodular integer U (3, 3) with U @ w = (0, 0, g), g = gcd(w) > 0.

    Rows 0 and 1 of U span the integer vectors orthogonal to w; row 2 has dot product g with w.
    """
    x = np.array(w, dtype=np.int64).copy()
    if not x.any():
        raise ValueError("zero vector")
    U = np.eye(3, dtype=np.int64)
    while np.count_nonzero(x) > 1:
        nz = np.flatnonzero(x)
        i = nz[np.argmin(np.abs(x[nz]))]
        for j in nz:
            if j != i:
                q = x[j] // x[i]
                x[j] -= q * x[i]
                U[j] -= q * U[i]
    i = int(np.flatnonzero(x)[0])
    if i != 2:
        x[[i, 2]] = x[[2, i]]
        U[[i, 2]] = U[[2, i]]
    if x[2] < 0:
        x[2] = -x[2]
        U[2] = -U[2]
    return U


def cluster_periodic(values: np.ndarray, period: float, gap: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Group 1D periodic values (in [0, period)) separated by more than `gap`.

    Returns (label (n,) cluster index, centre (k,) in [0, period), width (k,)); clusters are numbered
    by increasing centre, starting after the largest empty gap. One cluster with width ~ period if no
    gap exists.
    """
    v = np.mod(values, period)
    order = np.argsort(v)
    s = v[order]
    gaps = np.diff(np.concatenate([s, [s[0] + period]]))
    start = (int(np.argmax(gaps)) + 1) % len(s)
    s_rot = np.concatenate([s[start:], s[:start] + period])
    o_rot = np.concatenate([order[start:], order[:start]])
    breaks = np.flatnonzero(np.diff(s_rot) > gap) + 1
    groups = np.split(np.arange(len(s_rot)), breaks)
    label = np.empty(len(v), dtype=np.int64)
    centres, widths = [], []
    for k, g in enumerate(groups):
        label[o_rot[g]] = k
        centres.append(np.mean(s_rot[g]))
        widths.append(s_rot[g][-1] - s_rot[g][0])
    centres = np.mod(np.array(centres), period)
    return label, centres, np.array(widths)


@dataclass
class LayerAxis:
    """The layered direction of a file cell.

    hkl: primitive Miller indices of the layer planes in the file lattice; d: their spacing (Angstrom,
    one file period along the normal); normal (3,) unit vector; inplane (2, 3) integer rows of file
    lattice vectors in the planes; t0 (3,) integer file vector rising by exactly d; o_planes (k,) O-plane
    heights in [0, d) sorted, starting with the lower O plane of a TM slab; tm_planes (k/2,) TM-plane
    heights (between o_planes[2i] and o_planes[2i + 1], unwrapped); o_height (Angstrom); a (Angstrom).
    """

    hkl: np.ndarray
    d: float
    normal: np.ndarray
    inplane: np.ndarray
    t0: np.ndarray
    o_planes: np.ndarray
    tm_planes: np.ndarray
    o_plane_of: np.ndarray     # (n,) O-plane index of each O site, -1 for cations
    tm_plane_of: np.ndarray    # (n,) TM-slab index of each cation in a TM gap, -1 otherwise
    o_height: float
    a: float
    e1: np.ndarray             # unit in-plane vector along an O-O nearest-neighbour direction (a1)
    b: np.ndarray              # (2, 3) fitted in-plane basis a1, a2 (Angstrom, 120 degrees)
    segregation: float

    @property
    def n_slabs(self) -> int:
        return len(self.tm_planes)

    @property
    def slab(self) -> float:
        return self.d / self.n_slabs


def _heights(frac: np.ndarray, hkl: np.ndarray, d: float) -> np.ndarray:
    return np.mod(frac @ hkl, 1.0) * d


def _candidate_hkls(lattice: np.ndarray, frac_o: np.ndarray) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Miller indices of planes spanned by 60-degree pairs of nearest O-O vectors, and those vectors."""
    cart = frac_o @ lattice
    n_c = min(len(cart), 16)
    # images within the nearest-neighbour range; 2 shells cover skewed reduced cells
    rng = np.arange(-2, 3) if len(cart) <= 200 else np.arange(-1, 2)
    shifts = np.array(np.meshgrid(rng, rng, rng, indexing="ij")).reshape(3, -1).T @ lattice
    vecs_all = []
    for i in range(n_c):
        if len(cart) > 200:  # large cell: only atoms near the minimum image can be neighbours
            w = frac_o - frac_o[i]
            near = np.linalg.norm((w - np.round(w)) @ lattice, axis=1) < 8.0
            pts = cart[near]
        else:
            pts = cart
        v = (pts[None, :, :] + shifts[:, None, :] - cart[i]).reshape(-1, 3)
        dist = np.linalg.norm(v, axis=1)
        v, dist = v[dist > 0.5], dist[dist > 0.5]
        if not len(dist):
            continue
        vecs_all.append((v, dist))
    if not vecs_all:
        return [], []
    dmin = min(d.min() for _, d in vecs_all)
    normals, nn_vecs = [], []
    for v, dist in vecs_all:
        # unique vectors only: atoms listed twice at one position (a corrupt file) would otherwise make
        # the pair loop below quadratic in the number of copies
        nn = np.unique(np.round(v[dist < 1.2 * dmin], 4), axis=0)
        nn_vecs.extend(nn)
        u = nn / np.linalg.norm(nn, axis=1)[:, None]
        cos = u @ u.T
        ii, jj = np.nonzero(np.triu(np.abs(cos - 0.5) < 0.15, 1))
        for a, b in zip(ii, jj):
            n = np.cross(u[a], u[b])
            n /= np.linalg.norm(n)
            if not any(abs(n @ m) > 0.98 for m in normals):
                normals.append(n)
            if len(normals) > 24:
                break
    hkls = []
    for n in normals:
        g = lattice @ n  # = d * hkl for a lattice plane
        gmax = np.abs(g).max()
        for m in range(1, 13):
            h = g * m / gmax
            if np.all(np.abs(h - np.round(h)) < 0.08):
                h = np.round(h).astype(np.int64)
                k = gcd(gcd(int(h[0]), int(h[1])), int(h[2]))
                h //= k
                if h[np.flatnonzero(h)[0]] < 0:
                    h = -h
                if not any(np.array_equal(h, x) for x in hkls):
                    hkls.append(h)
                break
    return hkls, nn_vecs


def _low_index_hkls(n: int = 2) -> list[np.ndarray]:
    """Primitive Miller indices with |h|, |k|, |l| <= n, one of each +- pair."""
    out = []
    r = range(-n, n + 1)
    for h in ((i, j, k) for i in r for j in r for k in r):
        v = np.array(h, dtype=np.int64)
        if not v.any() or gcd(gcd(h[0], h[1]), h[2]) != 1 or v[np.flatnonzero(v)[0]] < 0:
            continue
        out.append(v)
    return out


def _evaluate(lattice, frac, o_w, tm_w, cat_w, hkl):
    """Score one candidate plane family; None if the O atoms do not form flat, separated planes."""
    recip = np.linalg.inv(lattice).T  # rows b_i with a_i . b_j = delta_ij
    G = hkl @ recip
    d = 1.0 / np.linalg.norm(G)
    if d < 1.5:  # O planes at least ~2 Angstrom apart: a slab holds two of them
        return None
    h = _heights(frac, hkl, d)
    is_o = o_w > 0
    label, centres, widths = cluster_periodic(h[is_o], d, 0.5)
    n_p = len(centres)
    if n_p < 2 or n_p % 2 or widths.max() > 1.2:
        return None
    # O planes sorted by height; gaps i between plane i and i+1 (cyclic)
    order = np.argsort(centres)
    rank = np.empty(n_p, dtype=np.int64)
    rank[order] = np.arange(n_p)
    centres = centres[order]
    o_plane = -np.ones(len(frac), dtype=np.int64)
    o_plane[is_o] = rank[label]
    cats = np.flatnonzero(cat_w > 0)
    if not len(cats):
        return None
    hc = h[cats]
    # gap index of every cation: the O plane just below it
    below = np.searchsorted(centres, hc, side="right") - 1  # -1 -> wraps to the last plane
    below = np.mod(below, n_p)
    dist_plane = np.min(np.abs((hc[:, None] - centres[None, :] + d / 2) % d - d / 2), axis=1)
    if dist_plane.min() < 0.4:
        return None  # cations inside an O plane: not this layering
    tm_gap = np.zeros(n_p)
    np.add.at(tm_gap, below, tm_w[cats])
    tot = tm_gap.sum()
    if tot <= 0:
        return None
    even, odd = tm_gap[0::2].sum(), tm_gap[1::2].sum()
    score = abs(even - odd) / tot
    n_o = np.count_nonzero(is_o)  # O sites, whatever their occupancy
    area = abs(np.linalg.det(lattice)) / d * n_p / n_o  # Angstrom^2 per O in a plane
    return dict(hkl=hkl, d=d, heights=h, centres=centres, o_plane=o_plane, cats=cats, below=below,
                tm_parity=0 if even >= odd else 1, score=score, area=area)


def find_layer_axis(lattice: np.ndarray, frac: np.ndarray, o_w: np.ndarray, tm_w: np.ndarray,
                    cat_w: np.ndarray) -> LayerAxis:
    """Find the stacking axis, O planes, TM slabs, O height and in-plane a of a layered oxide.

    Raises StructureImportError naming the reason when the structure is not a layered oxide.
    """
    lattice = np.asarray(lattice, float)
    is_o = o_w > 0
    hkls, nn_vecs = _candidate_hkls(lattice, frac[is_o])
    # low-index planes of the file cell too: noisy O-O vectors of a large relaxed cell can miss them
    for h in _low_index_hkls():
        if not any(np.array_equal(h, x) for x in hkls):
            hkls.append(h)
    if not nn_vecs:
        raise StructureImportError("not a layered oxide: the O atoms do not form close-packed planes")
    results = [r for r in (_evaluate(lattice, frac, o_w, tm_w, cat_w, h) for h in hkls) if r is not None]
    if not results:
        raise StructureImportError(
            "not a layered oxide: no direction in which O forms flat close-packed planes with the cations "
            "between them")
    results.sort(key=lambda r: (-round(r["score"], 3), round(r["area"], 2), int(np.abs(r["hkl"]).sum())))
    best = results[0]
    if best["score"] < 0.5:
        raise StructureImportError(
            "not a layered oxide: the cations are not segregated into transition-metal and alkali layers "
            f"(best layering direction puts only {50 + 50 * best['score']:.0f} % of the non-alkali cations "
            "into alternate layers)")
    hkl, d, centres = best["hkl"], best["d"], best["centres"]
    n_p = len(centres)
    # renumber O planes so that plane 0 is the lower O plane of a TM slab
    shift = best["tm_parity"]
    o_plane = best["o_plane"].copy()
    o_plane[is_o] = np.mod(o_plane[is_o] - shift, n_p)
    centres = np.roll(centres, -shift)
    centres_unwrapped = np.array(centres, dtype=float)
    for i in range(1, n_p):
        while centres_unwrapped[i] < centres_unwrapped[i - 1]:
            centres_unwrapped[i] += d
    below = np.mod(best["below"] - shift, n_p)
    h = best["heights"]
    tm_plane_of = -np.ones(len(frac), dtype=np.int64)
    tm_planes, o_heights = [], []
    for s in range(n_p // 2):
        lo, hi = centres_unwrapped[2 * s], centres_unwrapped[2 * s + 1]
        members = best["cats"][below == 2 * s]
        if not len(members):
            raise StructureImportError("not a layered oxide: a transition-metal layer holds no cations")
        z = lo + np.mod(h[members] - lo, d)
        zt = float(np.average(z, weights=np.maximum(cat_w[members], 1e-9)))
        tm_plane_of[members] = s
        tm_planes.append(zt)
        o_heights += [zt - lo, hi - zt]
    o_height = float(np.mean(o_heights))
    # in-plane lattice and the stacking translation
    U = complete_unimodular(hkl)
    recip = np.linalg.inv(lattice).T
    normal = hkl @ recip
    normal /= np.linalg.norm(normal)
    n_planes_o = n_p
    det_f = np.count_nonzero(is_o) / n_planes_o  # O sites per plane = triangular cells per in-plane cell
    if abs(det_f - round(det_f)) > 0.05 or round(det_f) < 1:
        raise StructureImportError(
            f"not a layered oxide: {np.count_nonzero(is_o)} O sites do not fill {n_planes_o} close-packed "
            "planes evenly")
    area = abs(np.linalg.det(lattice)) / d
    a = float(np.sqrt(area / (round(det_f) * _SQ3 / 2)))
    # in-plane nearest O-O direction
    nn = np.array(nn_vecs)
    flat = nn[np.abs(nn @ normal) < 0.3]
    if not len(flat):
        raise StructureImportError("not a layered oxide: no O-O neighbours inside an O plane")
    e1, b = _inplane_basis(flat, normal, a, U[:2] @ lattice)
    return LayerAxis(hkl=hkl, d=d, normal=normal, inplane=U[:2].copy(), t0=U[2].copy(),
                     o_planes=centres_unwrapped, tm_planes=np.array(tm_planes), o_plane_of=o_plane,
                     tm_plane_of=tm_plane_of, o_height=o_height, a=a, e1=e1, b=b, segregation=best["score"])


def _inplane_basis(flat: np.ndarray, normal: np.ndarray, a: float, V: np.ndarray):
    """Unit a1 direction and the (2, 3) in-plane basis b1, b2 (120 degrees, Angstrom) fitted so that the
    file's in-plane lattice vectors V (2, 3) are exact integer combinations of them.

    A single O-O vector of a distorted structure can be a few degrees off the lattice direction, so
    the direction is first averaged over all in-plane O-O neighbours (angles folded modulo 60 degrees),
    then the lattice fit absorbs any remaining rotation and strain.
    """
    e1 = flat[0] - (flat[0] @ normal) * normal
    e1 /= np.linalg.norm(e1)
    e2 = np.cross(normal, e1)
    ang = np.degrees(np.arctan2(flat @ e2, flat @ e1))
    off = np.mod(ang + 30.0, 60.0) - 30.0
    e1 = _rot(e1, normal, float(np.mean(off)))
    B = np.array([a * e1, a * _rot(e1, normal, 120.0)])
    X = V @ np.linalg.pinv(B)
    Xi = np.round(X)
    if abs(np.linalg.det(Xi)) < 0.5 or np.abs(X - Xi).max() > 0.3:
        raise StructureImportError("not a layered oxide: the in-plane cell is not a triangular-lattice supercell")
    B = np.linalg.solve(Xi, V)
    e1 = B[0] / np.linalg.norm(B[0])
    return e1, B


# ---------------------------------------------------------------------------------------- stacking letters
def _rot(v: np.ndarray, axis: np.ndarray, angle_deg: float) -> np.ndarray:
    """Rotate v about the unit `axis` by angle (right hand)."""
    t = np.radians(angle_deg)
    return v * np.cos(t) + np.cross(axis, v) * np.sin(t) + axis * (axis @ v) * (1 - np.cos(t))


def letters_of(cart_inplane: np.ndarray, b1: np.ndarray, b2: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Close-packed position letter index (0 A, 1 B, 2 C) of in-plane displacements (n, 3), and the
    distance (Angstrom) to the nearest ideal position; b1, b2 the 120-degree in-plane basis."""
    B = np.array([b1, b2])
    xy = cart_inplane @ np.linalg.pinv(B)
    best = np.full(len(xy), np.inf)
    letter = np.zeros(len(xy), dtype=np.int64)
    for k, off in enumerate(((0.0, 0.0), (2 / 3, 1 / 3), (1 / 3, 2 / 3))):
        f = xy - np.array(off)
        # nearest lattice point in the 120-degree basis: the rounded point or one of its neighbours
        base = np.floor(f)
        for dx, dy in ((0, 0), (1, 0), (0, 1), (1, 1)):
            r = np.linalg.norm((f - base - np.array([dx, dy])) @ B, axis=1)
            better = r < best
            best[better] = r[better]
            letter[better] = k
    return letter, best


def stacking_letters(lattice: np.ndarray, frac: np.ndarray, axis: LayerAxis) -> tuple[list[int], int]:
    """O-plane letters within one file period (plane 0 first) and the letter shift of one period.

    Letters are relative to an arbitrary in-plane origin (an O atom of plane 0) and the frame of
    `axis.e1`. Raises StructureImportError if an O plane is not a single close-packed position.
    """
    n = axis.normal
    b1, b2 = axis.b
    cart = frac @ lattice
    t0 = axis.t0 @ lattice
    # bring every O atom to the image at its plane's unwrapped height (t0 may shift in-plane)
    is_o = axis.o_plane_of >= 0
    target = np.zeros(len(cart))
    target[is_o] = axis.o_planes[axis.o_plane_of[is_o]]
    m = np.where(is_o, np.round((target - cart @ n) / axis.d), 0.0)
    cart = cart + m[:, None] * t0[None, :]
    plane0 = np.flatnonzero(axis.o_plane_of == 0)
    rel = cart - cart[plane0[0]]
    rel -= np.outer(rel @ n, n)
    # origin at the mean lattice position of plane 0, so one atom's displacement does not bias the rest
    Bp = np.linalg.pinv(np.array([b1, b2]))
    xy0 = rel[plane0] @ Bp
    rel -= np.mean(xy0 - np.round(xy0), axis=0) @ np.array([b1, b2])
    letters, dist = letters_of(rel, b1, b2)
    out = []
    for k in range(len(axis.o_planes)):
        members = np.flatnonzero(axis.o_plane_of == k)
        if np.any(dist[members] > 0.7):
            raise StructureImportError(
                f"not a layered oxide: O plane {k + 1} is not a close-packed layer (O atoms off the "
                "triangular net)")
        vals = np.unique(letters[members])
        if len(vals) != 1:
            raise StructureImportError(f"not a layered oxide: O plane {k + 1} mixes stacking positions")
        out.append(int(vals[0]))
    t = t0 - (t0 @ n) * n
    dl, dd = letters_of(t[None, :], b1, b2)
    if dd[0] > 0.6:
        raise StructureImportError("not a layered oxide: the stacking translation is not a close-packed shift")
    return out, int(dl[0])


def classify_stacking(plane_letters: list[int], shift: int) -> tuple[str, str]:
    """Stacking name (O3, P2, P3, O2) and the O-plane letter sequence of one stacking period.

    plane_letters: letters of the O planes of one file period, lower O of a TM slab first; shift:
    letter shift of the file's stacking translation. Octahedral alkali layers have different letters
    on both sides, prismatic (P) ones the same letter; O3/P3 repeat after 3 slabs, O2/P2 after 2.
    """
    n = len(plane_letters)
    seq = []
    m = 0
    while len(seq) < 24:
        seq += [(x + m * shift) % 3 for x in plane_letters]
        m += 1
    slabs = [(seq[2 * i], seq[2 * i + 1]) for i in range(len(seq) // 2)]
    gaps = ["P" if slabs[i][1] == slabs[i + 1][0] else "O" for i in range(len(slabs) - 1)]
    if any(lo == hi for lo, hi in slabs):
        raise StructureImportError("not a layered oxide: a TM layer lies between two O planes at the same position")
    period = next((p for p in range(1, 7) if all(slabs[i + p] == slabs[i] for i in range(len(slabs) - p))), None)
    if period is None:
        raise StructureImportError("unsupported stacking: the O-plane sequence does not repeat within 6 layers")
    rel = slabs[:period]
    text = " ".join(LETTERS[(a - rel[0][0]) % 3] + LETTERS[(b - rel[0][0]) % 3] for a, b in rel)
    kinds = set(gaps)
    if kinds == {"O"} and period == 3:
        return "O3", text
    if kinds == {"O"} and period == 2:
        return "O2", text
    if kinds == {"P"} and period == 2:
        return "P2", text
    if kinds == {"P"} and period == 3:
        return "P3", text
    name = ("O1" if kinds == {"O"} else "P1") if period == 1 else (
        "mixed octahedral/prismatic" if len(kinds) > 1 else f"{gaps[0]}{period}")
    raise StructureImportError(
        f"unsupported stacking: O-plane sequence {text} ({name}); Layer Studio models O3, P2, P3 and O2"
        f" (file has {n // 2} TM layer(s) per cell)")


__all__ = ["LayerAxis", "find_layer_axis", "stacking_letters", "classify_stacking", "complete_unimodular",
           "cluster_periodic", "letters_of", "LETTERS"]
