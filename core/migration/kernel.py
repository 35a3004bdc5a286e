"""Ewald potential at every image of every candidate migration path, for any occupancy, in O(K N log N).

A path image is a start site plus a displacement. Group the images of all candidate paths of a supercell
into classes c = (basis site of the start, displacement d_c): K classes (about 220 in O3, whatever the
cell size). By translation symmetry the potential at image point r_c + T(g) (start site at translation
g) from the charges q is a correlation over the translation group,

    phi_c(g) = sum_{b', D} Kern[c, b', D] q[b', g + D],

with a kernel Kern built once per supercell from the Ewald lattice sums (splitting, cut-offs, reciprocal
vectors and characters from core.energy.tables, as the engine uses; real-space images binned by
group element, reciprocal vectors binned by group character, the neutralising-background constant
-pi / (V eta) per unit charge). For a configuration, one FFT per basis site and one inverse FFT per
class give phi at all K x n_translations image points at once; the moving ion is excluded by
subtracting q_s Kern[c, b_s, 0] (its own periodic images). Same conventions as core.energy.ewald, so
q_s (phi(r) - phi(r0)) is the pymatgen Ewald energy difference of the two configurations.

Units: Angstrom, e, V (eV per e).
"""
from __future__ import annotations

import math
import threading
import weakref

import numpy as np

from core.energy.tables import CONV, _reciprocal_vectors, cutoffs, point_eta

#: Largest kernel (classes x basis x translations, complex entries) built; beyond it callers fall back
#: to point-by-point evaluation.
MAX_KERNEL_ENTRIES = 15_000_000


class PathKernel:
    """Potentials at all candidate-path images of one supercell (see module docstring).

    table: a `migration_paths.CandidateTable`. Attributes: cls (n_paths, n_img) class of each image;
    K number of classes; self_term (K,) V per e of the start site's own images.
    """

    def __init__(self, supercell, table, digits: float = 12.0):
        from scipy.special import erfc

        from core.energy.ewald import supercell_layout

        lay = supercell_layout(supercell)
        self.layout = lay
        self.site_flat = np.ravel_multi_index(tuple(lay.site_group.T), tuple(lay.orders))
        nb, nt = lay.n_basis, lay.n_translations
        self.shape = tuple(int(v) for v in lay.orders)
        n, m = table.disp.shape[:2]
        bl = np.repeat(supercell.basis_local[table.src], m)
        d = table.disp.reshape(-1, 3)
        # one int64 key per image: basis (5 bits) and displacement in 1e-4 Angstrom (18 bits each)
        di = np.rint(d * 1e4).astype(np.int64) + (1 << 17)
        key = ((bl * (1 << 18) + di[:, 0]) * (1 << 18) + di[:, 1]) * (1 << 18) + di[:, 2]
        _, first, inv = np.unique(key, return_index=True, return_inverse=True)
        inv = inv.reshape(-1)
        self.cls = inv.reshape(n, m)
        self.K = K = len(first)
        if K * nb * nt > MAX_KERNEL_ENTRIES:
            raise MemoryError("path kernel too large")
        b_c = bl[first]
        r_c = lay.basis_cart[b_c] + d[first]  # (K, 3) image point of a start site at translation 0
        V = lay.volume
        eta = point_eta(lay)
        rmax, gmax = cutoffs(eta, digits)
        P = lay.prim
        kern = np.zeros((K, nb, nt))

        # real space: translations y with |b' + y P - r_c| < rmax
        reach = rmax + np.linalg.norm(lay.basis_cart[:, None, :] - r_c[None, :, :], axis=2).max()
        lim = np.ceil(reach * np.linalg.norm(np.linalg.inv(P), axis=0)).astype(int)
        X = np.stack(np.meshgrid(*[np.arange(-k, k + 1) for k in lim], indexing="ij"), -1).reshape(-1, 3)
        TX = X @ P
        near = np.linalg.norm(TX, axis=1) < reach
        X, TX = X[near], TX[near]
        gX = lay.group_of(X)
        sq = math.sqrt(eta)
        step = max(1, int(1.5e6 // max(1, nb * len(X))))
        for c0 in range(0, K, step):
            cs = slice(c0, min(K, c0 + step))
            vec = lay.basis_cart[None, :, None, :] + TX[None, None, :, :] - r_c[cs, None, None, :]
            r = np.linalg.norm(vec, axis=3)
            ic, ib, ix = np.nonzero((r < rmax) & (r > 1e-8))  # r = 0: the point sits on a (vacant) site
            rr = r[ic, ib, ix]
            flat = ((ic + c0) * nb + ib) * nt + gX[ix]
            kern += np.bincount(flat, weights=erfc(sq * rr) / rr, minlength=K * nb * nt).reshape(K, nb, nt)

        # reciprocal space: sum_G f(G) cos(G.(b' - r_c) + 2 pi h(G).D / n), binned by character h
        G, h = _reciprocal_vectors(lay, gmax)  # the engine's G set and group characters
        g2 = np.einsum("ij,ij->i", G, G)
        f = (4.0 * math.pi / V) * np.exp(-g2 / (4.0 * eta)) / g2
        eb = np.exp(1j * (lay.basis_cart @ G.T))  # (nb, nG)
        step = max(1, int(2e6 // max(1, nb * len(G))))
        for c0 in range(0, K, step):
            cs = slice(c0, min(K, c0 + step))
            kc = cs.stop - cs.start
            ph = (f * np.exp(-1j * (r_c[cs] @ G.T)))[:, None, :] * eb[None, :, :]  # (kc, nb, nG)
            flat = (np.arange(kc * nb)[:, None] * nt + h[None, :]).ravel()
            Bh = (np.bincount(flat, weights=ph.real.ravel(), minlength=kc * nb * nt)
                  + 1j * np.bincount(flat, weights=ph.imag.ravel(), minlength=kc * nb * nt))
            Bh = Bh.reshape((kc, nb) + self.shape)
            kern[cs] += (np.fft.ifftn(Bh, axes=(2, 3, 4)).real * nt).reshape(kc, nb, nt)

        kern -= math.pi / (V * eta)
        kern *= CONV
        self.self_term = kern[np.arange(K), b_c, 0].copy()
        self.khat = np.conj(np.fft.fftn(kern.reshape((K, nb) + self.shape), axes=(2, 3, 4)))

    def potentials(self, q: np.ndarray) -> np.ndarray:
        """(K, n_translations) V: potential of all charges q (N,) at every class's image points."""
        lay = self.layout
        grid = np.zeros((lay.n_basis, lay.n_translations))
        grid[lay.site_basis, self.site_flat] = q
        qhat = np.fft.fftn(grid.reshape((lay.n_basis,) + self.shape), axes=(1, 2, 3))
        phi = np.fft.ifftn(np.einsum("cb...,b...->c...", self.khat, qhat), axes=(1, 2, 3)).real
        return phi.reshape(self.K, -1)

    def path_potentials(self, q: np.ndarray, rows: np.ndarray, src: np.ndarray) -> np.ndarray:
        """(len(rows), n_img) V: potential of all charges but the start site's at each image of the
        candidate paths `rows` (start sites `src`)."""
        phi = self.potentials(q)
        c = self.cls[rows]
        return phi[c, self.site_flat[src][:, None]] - q[src][:, None] * self.self_term[c]


_KERNELS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_LOCK = threading.Lock()  # GUI workers may ask for the same kernel at once: build it once


def path_kernel(supercell, table) -> PathKernel | None:
    """Cached kernel of (supercell, candidate table); None when it would be too large."""
    with _LOCK:
        per = _KERNELS.setdefault(supercell, {})
        key = id(table)
        if key not in per:
            try:
                per[key] = (table, PathKernel(supercell, table))
            except MemoryError:
                per[key] = (table, None)
        return per[key][1]


__all__ = ["PathKernel", "path_kernel", "MAX_KERNEL_ENTRIES"]
