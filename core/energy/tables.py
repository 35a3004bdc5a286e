"""Ewald lattice sums for a periodic array of point charges, evaluated once per supercell.

The pair potential of two unit charges in a periodic supercell with a uniform neutralising background,

    psi(d) = CONV * [ sum_L erfc(sqrt(eta) |d + L|) / |d + L|                      (real space)
                      + (4 pi / V) sum_{G != 0} exp(-G^2 / 4 eta) / G^2 cos(G . d)  (reciprocal space)
                      - pi / (V eta) ]                                             (background, G = 0)

is independent of the splitting parameter eta. The self term of a site (its own periodic images, the
Gaussian self-energy -2 sqrt(eta / pi) and the background) is the d -> 0 limit with 1/|d| removed.
With these, E = 1/2 q.M.q is exactly pymatgen's `EwaldSummation.total_energy` including its
charged-cell term -CONV pi Q^2 / (2 V eta).

Sites are (basis p, translation x) with x an integer vector in the primitive basis. A supercell's
translation group Z^3 / {y S} is mapped to Z_n1 x Z_n2 x Z_n3 by g = x A mod n (A from the Smith normal
form U S V = D: A = V). The pair potential only depends on (p, q, g_q - g_p), so the table
W[p, q, g] (n_basis, n_basis, n1, n2, n3) holds the whole N x N matrix. Real-space images are binned
straight into W by group element; reciprocal vectors G = 2 pi m (S P)^-T carry a group character h(G),
so the reciprocal part is one inverse FFT over the group per basis pair. Cost and memory scale with
n_basis^2 * N / n_basis, not N^2.

Units: Angstrom, elementary charges, eV.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

#: e^2 / (4 pi eps0) in eV * Angstrom, CODATA 2022 (the same constants as pymatgen.core.constants).
CONV = 1e10 * 1.602176634e-19 / (4.0 * math.pi * 8.8541878188e-12)

#: Number of significant digits each lattice sum is converged to (erfc and exp tails below 1e-15).
ACCURACY_DIGITS = 15.0


@dataclass(frozen=True)
class Layout:
    """Geometry of a periodic supercell in block-circulant form.

    prim (3, 3) Angstrom rows of the primitive lattice P; basis_cart (n_basis, 3) Angstrom;
    S (3, 3) int rows of the supercell in units of P; A (3, 3) int group map g = x A mod orders;
    orders (3,) int group orders n; site_basis (N,) int and site_group (N, 3) int per site.
    """

    prim: np.ndarray
    basis_cart: np.ndarray
    S: np.ndarray
    A: np.ndarray
    orders: np.ndarray
    site_basis: np.ndarray
    site_group: np.ndarray

    @property
    def n_basis(self) -> int:
        return len(self.basis_cart)

    @property
    def n_translations(self) -> int:
        return int(np.prod(self.orders))

    @property
    def n_sites(self) -> int:
        return len(self.site_basis)

    @property
    def lattice(self) -> np.ndarray:
        """(3, 3) supercell lattice rows, Angstrom."""
        return self.S.astype(float) @ self.prim

    @property
    def volume(self) -> float:
        return float(abs(np.linalg.det(self.lattice)))

    @property
    def site_flat(self) -> np.ndarray:
        """(N,) index of every site in the (n_basis, n1 * n2 * n3) grid layout."""
        g = np.ravel_multi_index(tuple(self.site_group.T), tuple(self.orders))
        return self.site_basis * self.n_translations + g

    def group_of(self, x: np.ndarray) -> np.ndarray:
        """Flat group index (n,) of integer translations x (n, 3)."""
        g = (np.asarray(x, dtype=np.int64) @ self.A) % self.orders
        return np.ravel_multi_index(tuple(g.T), tuple(self.orders))

    def characters(self, m: np.ndarray) -> np.ndarray:
        """Flat group-dual index h (n,) of reciprocal vectors G = 2 pi m (S P)^-T, m (n, 3) int.

        exp(i G . x P) = exp(2 pi i sum_k h_k g_k / n_k) for g = x A mod n: with x_k the rows of A^-1
        (translations onto the group generators), h_k = n_k x_k S^-1 m.
        """
        Ainv = np.linalg.inv(self.A.astype(float))
        H = self.orders[:, None] * (Ainv @ np.linalg.inv(self.S.astype(float)))
        hf = np.asarray(m, dtype=float) @ H.T
        h = np.rint(hf).astype(np.int64)
        if len(h) and np.abs(hf - h).max() > 1e-6:
            raise ValueError("group map does not match the supercell matrix")
        h %= self.orders
        return np.ravel_multi_index(tuple(h.T), tuple(self.orders))


def default_eta(layout: Layout) -> float:
    """Splitting parameter (Angstrom^-2) balancing real-space terms (~ n_basis^2 rmax^3 / V_prim) against
    reciprocal vectors (~ V_super gmax^3), so both grow at most linearly with the supercell."""
    v_prim = layout.volume / layout.n_translations
    return math.pi * (0.5 / (layout.n_translations * v_prim ** 2)) ** (1.0 / 3.0)


def cutoffs(eta: float, digits: float = ACCURACY_DIGITS) -> tuple[float, float]:
    """(rmax Angstrom, gmax Angstrom^-1) at which erfc and the Gaussian fall below 10^-digits."""
    accf = math.sqrt(math.log(10.0 ** digits))
    return accf / math.sqrt(eta), 2.0 * math.sqrt(eta) * accf


def _box(rows_inv_norms: np.ndarray, radius: float, pad: np.ndarray) -> np.ndarray:
    """All integer vectors with |x_k| <= radius * norm_k + pad_k, as (n, 3) int64."""
    b = np.ceil(radius * rows_inv_norms + pad).astype(np.int64)
    axes = [np.arange(-bk, bk + 1) for bk in b]
    return np.stack(np.meshgrid(*axes, indexing="ij"), axis=-1).reshape(-1, 3)


def _reciprocal_vectors(layout: Layout, gmax: float) -> tuple[np.ndarray, np.ndarray]:
    """Supercell reciprocal vectors 0 < |G| < gmax: (G (n_G, 3) Angstrom^-1, flat character h (n_G,))."""
    SP = layout.lattice
    B = 2.0 * math.pi * np.linalg.inv(SP).T
    m = _box(np.linalg.norm(SP, axis=1) / (2.0 * math.pi), gmax, np.zeros(3))
    G = m @ B
    g2 = np.einsum("ij,ij->i", G, G)
    keep = (g2 > 1e-20) & (g2 < gmax * gmax)
    return G[keep], layout.characters(m[keep])


def interaction_table(layout: Layout, eta: float | None = None) -> tuple[np.ndarray, float]:
    """Block-circulant Ewald table W (n_basis, n_basis, n1, n2, n3) in eV per e^2, and the eta used.

    M[i, j] = W[p_i, p_j, (g_j - g_i) mod n]; diagonal blocks at g = 0 hold the self terms.
    """
    from scipy.special import erfc

    eta = default_eta(layout) if eta is None else float(eta)
    rmax, gmax = cutoffs(eta)
    nb, nt, n = layout.n_basis, layout.n_translations, tuple(int(v) for v in layout.orders)
    P = layout.prim
    b = layout.basis_cart
    V = layout.volume
    W = np.zeros((nb, nb, nt))

    # real space: every translation of the primitive lattice within rmax, binned by group element
    Pinv = np.linalg.inv(P)
    spread = np.abs((b[:, None, :] - b[None, :, :]).reshape(-1, 3) @ Pinv).max(axis=0)
    X = _box(np.linalg.norm(Pinv, axis=0), rmax, spread + 1.0)
    T = X @ P
    gx = layout.group_of(X)
    chunk = max(1, int(1e6 // max(len(X), 1)))  # bounds the (chunk, nx, 3) temporaries to ~50 MB
    sq = math.sqrt(eta)
    for p in range(nb):
        d0 = b - b[p]  # (nb, 3): q - p
        for q0 in range(0, nb, chunk):
            r = np.linalg.norm(d0[q0:q0 + chunk, None, :] + T[None, :, :], axis=2)
            for qi in range(r.shape[0]):
                rr = r[qi]
                sel = (rr < rmax) & (rr > 1e-10)
                W[p, q0 + qi] += np.bincount(gx[sel], weights=erfc(sq * rr[sel]) / rr[sel], minlength=nt)

    # reciprocal space: A_pq[h] = sum_{G -> h} f(G) exp(i G.(b_q - b_p)); W_pq(g) = sum_h A_pq[h] e^{2 pi i h.g/n}
    G, hG = _reciprocal_vectors(layout, gmax)
    g2 = np.einsum("ij,ij->i", G, G)
    f = (4.0 * math.pi / V) * np.exp(-g2 / (4.0 * eta)) / g2
    E = np.exp(1j * (G @ b.T))  # (n_G, nb)
    for p in range(nb):
        ph = f[:, None] * np.conj(E[:, p])[:, None] * E  # (n_G, nb)
        for q in range(nb):
            A = (np.bincount(hG, weights=ph[:, q].real, minlength=nt)
                 + 1j * np.bincount(hG, weights=ph[:, q].imag, minlength=nt))
            W[p, q] += nt * np.fft.ifftn(A.reshape(n)).real.reshape(-1)

    # Gaussian self-energy on the diagonal, uniform background on every pair
    W[np.arange(nb), np.arange(nb), 0] -= 2.0 * math.sqrt(eta / math.pi)
    W -= math.pi / (V * eta)
    W *= CONV
    return W.reshape((nb, nb) + n), eta


def point_eta(layout: Layout) -> float:
    """Splitting parameter for potentials at arbitrary points: balances the real-space sources around
    each point (~ n_basis rmax^3 / V_prim) against the reciprocal vectors (~ V_super gmax^3)."""
    v_prim = layout.volume / layout.n_translations
    return (layout.n_basis * 6.0 * math.pi ** 2 / (v_prim * layout.volume)) ** (1.0 / 3.0)


def point_potential(layout: Layout, q_grid: np.ndarray, points: np.ndarray, eta: float | None = None,
                    digits: float = 13.0, exclude: np.ndarray | None = None) -> np.ndarray:
    """Potential (V) at Cartesian points (P, 3) of charges q_grid (n_basis, n_translations) in grid
    layout, with the neutralising background of their net charge. Points on a charged site give inf.

    exclude: optional (P,) grid-flat index (basis * n_translations + flat group element, -1 for none)
    of one site left out at each point, with its periodic images. Its share is removed from the
    displacement d = r - r_e alone, without a structure factor per site: reciprocal part
    q_e sum_G f(G) cos(G.d), real-space images of that site skipped (so a point on it is finite),
    background -pi q_e / (V eta) given back. One call serves any mix of excluded sites.

    Independent of eta (chosen per call for speed); lattice sums converged to 10^-digits."""
    from scipy.special import erfc

    eta = point_eta(layout) if eta is None else float(eta)
    rmax, gmax = cutoffs(eta, digits)
    nb, nt, n = layout.n_basis, layout.n_translations, tuple(int(v) for v in layout.orders)
    P = layout.prim
    b = layout.basis_cart
    V = layout.volume
    points = np.asarray(points, dtype=float).reshape(-1, 3)
    out = np.zeros(len(points))
    Q = float(q_grid.sum())
    q_flat = q_grid.reshape(nb, nt)
    if exclude is not None:
        ex = np.asarray(exclude, dtype=np.int64).reshape(-1)
        if ex.shape != (len(points),) or ex.min(initial=-1) < -1 or ex.max(initial=-1) >= nb * nt:
            raise ValueError(f"exclude must hold one grid index (or -1) per point, shape ({len(points)},)")
        has = ex >= 0
        ex_b = np.where(has, ex // nt, -1)
        ex_g = np.where(has, ex % nt, -1)
        q_ex = np.where(has, q_flat.reshape(-1)[np.maximum(ex, 0)], 0.0)
        # a Cartesian position of each excluded site (any lattice-equivalent one: G are supercell vectors)
        Ainv = np.rint(np.linalg.inv(layout.A.astype(float))).astype(np.int64)
        gv = np.stack(np.unravel_index(np.maximum(ex_g, 0), n), axis=1)
        d_ex = points - (b[np.maximum(ex_b, 0)] + (gv @ Ainv) @ P)

    # reciprocal: structure factor sum_j q_j exp(-i G.r_j) from one FFT per basis site
    G, hG = _reciprocal_vectors(layout, gmax)
    g2 = np.einsum("ij,ij->i", G, G)
    f = (4.0 * math.pi / V) * np.exp(-g2 / (4.0 * eta)) / g2
    qhat = np.fft.fftn(q_grid.reshape((nb,) + n), axes=(1, 2, 3)).reshape(nb, nt)
    Sm = np.einsum("gp,pg->g", np.exp(-1j * (G @ b.T)), qhat[:, hG])
    fS = f * Sm
    step = max(1, int(2e6 // max(len(G), 1)))
    for s in range(0, len(points), step):
        th = points[s:s + step] @ G.T  # Re(e^{i th} fS) from real cos / sin (a complex exp is slower)
        out[s:s + step] += np.cos(th) @ fS.real - np.sin(th) @ fS.imag
        if exclude is not None and has[s:s + step].any():
            out[s:s + step] -= q_ex[s:s + step] * (np.cos(d_ex[s:s + step] @ G.T) @ f)

    # real space: translations x of basis site p with |r - b_p - x P| < rmax, from a pruned offset list
    Pinv = np.linalg.inv(P)
    X = _box(np.linalg.norm(Pinv, axis=0), rmax, np.ones(3))
    TX = X @ P
    corners = np.stack(np.meshgrid([0, 1], [0, 1], [0, 1], indexing="ij"), axis=-1).reshape(-1, 3) @ P
    diam = float(np.linalg.norm(corners, axis=1).max())  # |cell offset| <= farthest corner of the cell
    keep = np.linalg.norm(TX, axis=1) < rmax + diam
    X, TX = X[keep], TX[keep]
    gX = (X @ layout.A) % layout.orders
    strides = np.array([n[1] * n[2], n[2], 1], dtype=np.int64)
    sq = math.sqrt(eta)
    tx2 = np.einsum("ij,ij->i", TX, TX)
    step = max(1, int(2e6 // len(X)))
    for p in range(nb):
        if not q_flat[p].any():
            continue
        rel = points - b[p]
        base = np.floor(rel @ Pinv).astype(np.int64)
        off = rel - base @ P
        gb = (base @ layout.A) % layout.orders
        for s in range(0, len(points), step):
            o = off[s:s + step]
            # candidates from |o - t|^2 = o^2 - 2 o.t + t^2 (one matrix product; margin for rounding),
            # then exact distances of the candidates only (a point on a site must give exactly 0)
            r2 = np.einsum("ij,ij->i", o, o)[:, None] - 2.0 * (o @ TX.T) + tx2[None, :]
            ip, ix = np.nonzero(r2 < rmax * rmax + 1e-6)
            rr = np.linalg.norm(o[ip] - TX[ix], axis=1)
            inside = rr < rmax
            ip, ix, rr = ip[inside], ix[inside], rr[inside]
            g = (gb[s + ip] + gX[ix]) % layout.orders
            gi = g @ strides
            qs = q_flat[p][gi]
            if exclude is not None:
                qs = np.where((ex_b[s + ip] == p) & (ex_g[s + ip] == gi), 0.0, qs)
            with np.errstate(divide="ignore", invalid="ignore"):
                term = qs * erfc(sq * rr) / rr
            term[(rr < 1e-10) & (qs == 0)] = 0.0
            term[(rr < 1e-10) & (qs != 0)] = np.inf
            out[s:s + step] += np.bincount(ip, weights=term, minlength=min(step, len(points) - s))

    out -= math.pi / (V * eta) * (Q if exclude is None else Q - q_ex)
    return CONV * out


def table_nbytes(n_basis: int, orders) -> int:
    """Bytes held by an engine's tables: W, its FFT and the tiled copy used for O(N) updates."""
    nt = int(np.prod(orders))
    tile = int(np.prod([2 if o > 1 else 1 for o in orders]))
    return n_basis * n_basis * nt * 8 * (1 + 1 + tile)


def setup_peak_nbytes(n_basis: int, orders, volume_prim: float) -> int:
    """Rough peak transient bytes while building W (real-space box and reciprocal phases)."""
    nt = int(np.prod(orders))
    return 10**6 * 8 * 3 * 2 + n_basis * nt * 64 + table_nbytes(n_basis, orders)
