"""Map a layered structure onto a Layer Studio host: frame, supercell matrix, and every atom's model site.

The file frame is brought onto the host frame by a rotation (stacking normal -> z, an in-plane O-O
direction -> a1 up to multiples of 60 degrees, both normal directions tried) followed by the exact linear
map that sends the file lattice onto integer combinations of the ideal host primitive vectors (this
absorbs a homogeneous strain such as the small monoclinic distortion of Li2MnO3). A translation puts one
of the file's TM planes on the host's layer-0 TM site. Each candidate is checked by placing atoms on their
nearest host site; the report's displacements are measured in the ideal host (Angstrom).

Integer vectors ``ijk`` are translations in the host primitive basis (a1, a2, c_p) as in `Supercell`.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from core.errors import StructureImportError
from core.io.layers import LayerAxis, _rot, complete_unimodular
from core.structure.hosts import CATION_ROLES, INTERSTITIAL_ROLES, ROLE_O, ROLE_TM, Host
from core.structure.supercell import NAMED_MATRICES, Supercell

#: Largest displacement (Angstrom) of an atom from its model site that still counts as "on" the site.
MAX_DISPLACEMENT = 0.9


@dataclass
class Placement:
    """A file-to-host mapping.

    F: (3, 3) int file lattice rows in host primitive coordinates; A: (3, 3) linear map (row vectors,
    file Cartesian -> host Cartesian); t: (3,) translation (Angstrom); matrix (2, 2) and layers: the model
    supercell; inplane (2, 2): a basis of the file's in-plane lattice in host (a1, a2) units.
    """

    host: Host
    F: np.ndarray
    A: np.ndarray
    t: np.ndarray
    matrix: np.ndarray
    layers: int
    inplane: np.ndarray
    strain: float
    rank: tuple
    stacking_shift: tuple | None = None  # the file's own stacking vector (keep_cell), else the default

    def host_positions(self, cart: np.ndarray) -> np.ndarray:
        return cart @ self.A + self.t


def _integral(X, tol=1e-6) -> bool:
    return bool(np.all(np.abs(X - np.round(X)) < tol))


def _contains(outer: np.ndarray, inner: np.ndarray) -> bool:
    """True if the lattice spanned by rows of `inner` lies in the lattice of `outer` (same dimension)."""
    return _integral(inner @ np.linalg.inv(outer.astype(float)))


def _same_lattice(M1, M2) -> bool:
    return _contains(M1, M2) and _contains(M2, M1)


def nice_matrix(B: np.ndarray) -> tuple[np.ndarray, int]:
    """A readable basis of the 2D lattice spanned by rows of B: a diagonal n x m or named matrix
    (rank 0) if the lattice is one, else the Gauss-reduced basis (rank 2)."""
    det = int(round(abs(np.linalg.det(B))))
    for M in NAMED_MATRICES.values():
        M = np.array(M)
        if int(round(np.linalg.det(M))) == det and _same_lattice(B, M):
            return M, 0
    n = next(k for k in range(1, det + 1) if _contains(B, np.array([[k, 0]])))
    m = next(k for k in range(1, det + 1) if _contains(B, np.array([[0, k]])))
    if n * m == det:
        return np.diag([n, m]), 0
    b = B.astype(np.int64).copy()
    metric = np.array([[1.0, -0.5], [-0.5, 1.0]])  # a1.a2 = -1/2 in units of a^2

    def norm2(v):
        return float(v @ metric @ v)
    for _ in range(100):  # Lagrange-Gauss reduction
        if norm2(b[1]) < norm2(b[0]):
            b = b[[1, 0]]
        mu = round((b[0] @ metric @ b[1]) / norm2(b[0]))
        if mu == 0:
            break
        b[1] = b[1] - mu * b[0]
    if np.linalg.det(b) < 0:
        b[1] = -b[1]
    return b, 2


@lru_cache(maxsize=256)
def _stack_v(host: Host, K: int) -> np.ndarray:
    """In-plane integer part of the stacking vector `Supercell` uses for K primitive repeats."""
    return Supercell(host, np.eye(2, dtype=np.int64), K * host.slabs_per_prim).v


def layers_for(host: Host, F: np.ndarray, M: np.ndarray, max_r: int = 24) -> int | None:
    """Smallest number of TM layers for which the supercell (M, layers) is a supercell of the file
    lattice F (so the file's periodic pattern fits), or None."""
    g = int(np.gcd.reduce(np.abs(F[:, 2])))
    Finv = np.linalg.inv(F.astype(float))
    for r in range(1, max_r + 1):
        K = g * r
        v = _stack_v(host, K)
        S = np.array([[M[0, 0], M[0, 1], 0], [M[1, 0], M[1, 1], 0], [v[0], v[1], K]])
        if _integral(S @ Finv):
            return K * host.slabs_per_prim
    return None


def _frames(axis: LayerAxis):
    """The 12 proper rotations taking the layer normal (either sign) to z and an O-O direction
    (any of six) to x. Returns (R (3, 3) columns u1 u2 u3, sign) pairs; cart @ R = host frame."""
    out = []
    for sign in (1, -1):
        n = sign * axis.normal
        for k in range(6):
            u1 = _rot(axis.e1, n, 60.0 * k)
            u2 = np.cross(n, u1)
            out.append((np.column_stack([u1, u2, n]), sign))
    return out


class SiteLocator:
    """Nearest occupiable host site (basis index, integer translation, displacement) of host positions."""

    def __init__(self, host: Host):
        self.host = host
        self.P = host.prim_lattice
        self.Pinv = np.linalg.inv(self.P)
        self.basis = [p for p, s in enumerate(host.basis) if s.role not in INTERSTITIAL_ROLES]
        self.cart = np.array([host.cart(host.basis[p]) for p in self.basis])
        self.is_o = np.array([host.basis[p].role == ROLE_O for p in self.basis])
        self.is_cat = np.array([host.basis[p].role in CATION_ROLES for p in self.basis])

    def locate(self, q: np.ndarray, is_o: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """q (n, 3) host Cartesian; is_o (n,) bool. Returns (host basis index (n,), ijk (n, 3) int,
        displacement (n,) Angstrom), O atoms only on O sites and cations only on cation sites."""
        n = len(q)
        best_d = np.full(n, np.inf)
        best_p = np.zeros(n, dtype=np.int64)
        best_ijk = np.zeros((n, 3), dtype=np.int64)
        for b, p in enumerate(self.basis):
            f = (q - self.cart[b]) @ self.Pinv
            ijk = np.round(f)
            dist = np.linalg.norm((f - ijk) @ self.P, axis=1)
            ok = is_o if self.is_o[b] else ~is_o
            better = ok & (dist < best_d)
            best_d[better] = dist[better]
            best_p[better] = p
            best_ijk[better] = ijk[better]
        return best_p, best_ijk, best_d


def place(host: Host, lattice: np.ndarray, cart: np.ndarray, is_o: np.ndarray, axis: LayerAxis, *,
          tm_ref: np.ndarray, user_matrix: np.ndarray | None, keep_cell: bool,
          layers: int | None = None) -> Placement:
    """Choose the best frame/origin mapping the file onto `host`.

    tm_ref: (n_slabs,) index of one reference TM-layer atom per TM slab of the file period. Preference:
    fewest layers needed, normal along the file's third axis, origin nearest the file origin, a readable
    matrix, first lattice vector nearest a1 (so a Layer Studio P1 export comes back in its own frame).
    Raises StructureImportError if no mapping puts every atom
    within MAX_DISPLACEMENT of a host site.
    """
    L = np.asarray(lattice, float)
    Linv = np.linalg.inv(L)
    P = host.prim_lattice
    Pinv = np.linalg.inv(P)
    loc = SiteLocator(host)
    tm0 = next(p for p in loc.basis if host.basis[p].role == ROLE_TM and host.basis[p].layer == 0)
    tm0_cart = host.cart(host.basis[tm0])
    t0_cart = axis.t0 @ L
    # validation subset: every atom for small cells, an even stride otherwise
    n = len(cart)
    sub = np.arange(n) if n <= 1500 else np.unique(np.concatenate([np.linspace(0, n - 1, 1500).astype(int), tm_ref]))
    a2d = np.array([host.a1[:2], host.a2[:2]])
    candidates, reasons = [], set()
    for R, sign in _frames(axis):
        Fa = L @ R @ Pinv
        F = np.round(Fa).astype(np.int64)
        if np.abs(Fa - F).max() > 0.25 or round(abs(np.linalg.det(F))) == 0:
            reasons.add("lattice")
            continue
        A = Linv @ F @ P
        U = complete_unimodular(F[:, 2])
        G = U @ F
        B = G[:2, :2]
        if np.linalg.det(B) < 0:
            B = B[[1, 0]]
        if user_matrix is not None:
            if not _contains(B, user_matrix):
                reasons.add("matrix")
                continue
            M, nice = user_matrix, 0
        elif keep_cell and F[0, 2] == 0 and F[1, 2] == 0 and np.linalg.det(F[:2, :2]) > 0:
            M = F[:2, :2].copy()
            nice = 0 if nice_matrix(M)[1] == 0 and np.array_equal(nice_matrix(M)[0], M) else 1
        else:
            M, nice = nice_matrix(B)
        shift = None
        if (keep_cell and user_matrix is None and F[0, 2] == 0 and F[1, 2] == 0 and F[2, 2] > 0
                and np.array_equal(M, F[:2, :2])):
            # the file's cell is itself a supercell (M, K layers) with its own, possibly tilted,
            # stacking vector (e.g. a tiled Layer Studio model): keep it, site for site
            n_layers = int(F[2, 2]) * host.slabs_per_prim
            shift = (int(F[2, 0]), int(F[2, 1]))
        else:
            n_layers = layers_for(host, F, M)
        if n_layers is None:
            reasons.add("layers")
            continue
        if layers is not None:
            if layers % n_layers:
                reasons.add("user_layers")
                continue
            if shift is not None:
                shift = (shift[0] * (layers // n_layers), shift[1] * (layers // n_layers))
            n_layers = layers
        q0 = L[0] @ A
        angle = round(float(np.degrees(np.arctan2(q0[1], q0[0]))) % 360.0, 3)
        up = 0 if sign * (axis.normal @ L[2]) > 0 else 1
        for s, ref in enumerate(tm_ref):
            r = cart[ref] - np.round((cart[ref] @ axis.normal) / axis.d) * t0_cart
            t = tm0_cart - r @ A
            xy = np.linalg.solve(a2d.T, t[:2])
            t[:2] -= np.round(xy) @ a2d
            rank = (n_layers, up, round(float(np.linalg.norm(t)), 3), nice, angle, s)
            candidates.append((rank, F, A, t, M, n_layers, B, shift))
    candidates.sort(key=lambda c: c[0])
    worst = np.inf
    for rank, F, A, t, M, n_layers, B, shift in candidates:
        _, _, dist = loc.locate(cart[sub] @ A + t, is_o[sub])
        worst = min(worst, float(dist.max()))
        if dist.max() <= MAX_DISPLACEMENT:
            sv = np.linalg.svd(A, compute_uv=False)
            return Placement(host, F, A, t, np.asarray(M, dtype=np.int64), int(n_layers), B,
                             float(np.abs(sv - 1).max()), rank, shift)
    if not candidates:
        if "matrix" in reasons:
            ok = [f"{k}x{k}" for k in range(1, 13) if _contains(B, k * np.eye(2))]
            raise StructureImportError(
                f"the supercell {user_matrix.tolist()} does not contain the file's in-plane cell "
                f"{nice_matrix(B)[0].tolist()}; n x n cells that do: {', '.join(ok[:5]) or 'none up to 12x12'}")
        if "user_layers" in reasons:
            raise StructureImportError("the chosen number of layers is not a multiple of the file's period")
        raise StructureImportError(
            f"not a layered oxide Layer Studio can map: the cell is not commensurate with a {host.stacking} host")
    raise StructureImportError(
        f"not a layered oxide: atoms sit {worst:.2f} Angstrom or more from the sites of the {host.stacking} "
        f"host (limit {MAX_DISPLACEMENT} Angstrom)")


__all__ = ["Placement", "place", "SiteLocator", "nice_matrix", "layers_for", "MAX_DISPLACEMENT"]
