"""Exact Ewald (formal point charge) electrostatics of a supercell, set up once and queried per click.

    engine = get_engine(model.supercell)      # cached per supercell object
    q = charges_of(model)                     # (N,) e
    engine.energy(q)                          # eV, equal to pymatgen EwaldSummation(...).total_energy
    live = LiveEwald(engine, q)               # incremental: live.delta([i], [q_new]), live.apply(...)

The interaction matrix M (N x N, eV / e^2) is never stored: it is block-circulant over the supercell's
translation group, M[i, j] = W[bl_i, bl_j, *((g_j - g_i) % n)] with bl = supercell.basis_local,
g = supercell.group and n = supercell.group_orders. The neutralising background of a charged cell,
-CONV pi Q^2 / (2 V eta) in pymatgen, is a constant added to every element of W, so

    E(q) = 1/2 q.M.q + background(Q),  background(Q) = 0

holds exactly for any net charge Q and the result does not depend on eta (see `core.energy.tables`).
"""
from __future__ import annotations

import math
import threading
import weakref

import numpy as np

from core.energy.tables import CONV, Layout, interaction_table, point_potential, setup_peak_nbytes
from core.errors import LayerStudioError, ResourceLimitError, SpeciesError
from core.structure.lattice_math import smith_normal_form

#: Memory budget (MB) for an engine's tables and set-up transients; larger requests are refused.
DEFAULT_MEMORY_BUDGET_MB = 1500.0


def supercell_layout(supercell) -> Layout:
    """Block-circulant layout of a `core.structure.supercell.Supercell` (occupiable sites only)."""
    host = supercell.host
    basis_cart = np.array([host.cart(host.basis[p]) for p in supercell.occ_basis]).reshape(-1, 3)
    S = np.asarray(supercell.S, dtype=np.int64)
    _U, _D, V = smith_normal_form(S)
    orders = np.asarray(supercell.group_orders, dtype=np.int64)
    group = (np.asarray(supercell.ijk) @ V) % orders
    if not np.array_equal(group, np.asarray(supercell.group)):
        raise RuntimeError("supercell.group is not the translation-group map x V mod n of its SNF")
    return Layout(prim=np.asarray(host.prim_lattice, dtype=float), basis_cart=basis_cart, S=S, A=V,
                  orders=orders, site_basis=np.asarray(supercell.basis_local, dtype=np.int64),
                  site_group=group.astype(np.int64))


def structure_layout(structure) -> Layout:
    """Layout of a pymatgen Structure taken as its own primitive cell (every site a basis site)."""
    lat = np.array(structure.lattice.matrix, dtype=float)
    cart = np.array(structure.cart_coords, dtype=float).reshape(-1, 3)
    n = len(cart)
    eye = np.eye(3, dtype=np.int64)
    return Layout(prim=lat, basis_cart=cart, S=eye, A=eye, orders=np.ones(3, dtype=np.int64),
                  site_basis=np.arange(n, dtype=np.int64), site_group=np.zeros((n, 3), dtype=np.int64))


def structure_charges(structure) -> np.ndarray:
    """(N,) formal charges (e) of a pymatgen Structure's sites from their oxidation states.

    Raises SpeciesError naming the element when a site has no oxidation state."""
    out = np.zeros(len(structure))
    for i, site in enumerate(structure):
        total = 0.0
        for sp, occ in site.species.items():
            ox = getattr(sp, "oxi_state", None)
            if ox is None:
                raise SpeciesError(f"{sp} has no oxidation state; add oxidation states before an Ewald sum")
            total += float(ox) * occ
        out[i] = total
    return out


def estimate_memory_mb(layout: Layout) -> float:
    """Estimated peak memory (MB) of building and holding an engine for `layout`."""
    v_prim = layout.volume / layout.n_translations
    per_site = layout.n_sites * 8 * 6  # q, phi and index arrays kept by the engine and a LiveEwald
    return (setup_peak_nbytes(layout.n_basis, layout.orders, v_prim) + per_site) / 1e6


class EwaldEngine:
    """Ewald interaction tables of one periodic cell (a Supercell, or a Structure via `from_structure`).

    Attributes: W (n_basis, n_basis, n1, n2, n3) eV/e^2; eta (Angstrom^-2) used for the split;
    n_sites N; volume (Angstrom^3); self_term (n_basis,) = the diagonal M_ii per basis site (eV/e^2).
    """

    def __init__(self, supercell=None, *, layout: Layout | None = None, eta: float | None = None,
                 memory_budget_mb: float = DEFAULT_MEMORY_BUDGET_MB):
        if layout is None:
            if supercell is None:
                raise ValueError("give a supercell or a layout")
            layout = supercell_layout(supercell)
        # weak: the get_engine cache maps supercell -> engine and must not keep the supercell alive
        self._supercell_ref = weakref.ref(supercell) if supercell is not None else None
        self.layout = layout
        if layout.n_basis > 3000:
            raise ResourceLimitError(
                f"a {layout.n_basis}-site cell without translational structure needs {layout.n_basis}^2 "
                f"lattice sums; map it onto a Layer Studio supercell instead")
        est = estimate_memory_mb(layout)
        from core.structure.limits import budget_bytes

        free_mb = budget_bytes() / 1e6  # never more than the share of the memory available now
        if est > min(memory_budget_mb, free_mb):
            why = (f"the {memory_budget_mb:.0f} MB budget" if memory_budget_mb <= free_mb
                   else f"the {free_mb:.0f} MB that half of the available memory allows")
            raise ResourceLimitError(
                f"Ewald tables for {layout.n_sites} sites ({layout.n_basis} per primitive cell) need about "
                f"{est:.0f} MB, over {why}; choose a smaller supercell")
        self.W, self.eta = interaction_table(layout, eta)
        self.n_sites = layout.n_sites
        self.n_basis = layout.n_basis
        self.orders = tuple(int(v) for v in layout.orders)
        self.n_translations = layout.n_translations
        self.volume = layout.volume
        self.site_basis = layout.site_basis
        self.site_group = layout.site_group
        self.site_flat = layout.site_flat
        if self.n_sites != self.n_basis * self.n_translations or len(np.unique(self.site_flat)) != self.n_sites:
            raise RuntimeError("two sites share a (basis, translation) slot")
        nb, nt = self.n_basis, self.n_translations
        self.self_term = self.W.reshape(nb, nb, nt)[np.arange(nb), np.arange(nb), 0].copy()
        # M symmetric => W[q, p, g] = W[p, q, -g]; transform W[q, p] for phi_p = sum_q W[q, p] (*) q_q
        self._W_hat = np.fft.rfftn(np.swapaxes(self.W, 0, 1), axes=(2, 3, 4))
        self._grid_of_site = self.site_flat
        self._site_of_grid = np.argsort(self.site_flat)  # a bijection: gathers beat scatters
        self._tiled: np.ndarray | None = None

    @property
    def supercell(self):
        """The Supercell this engine was built for (None for a Structure, or once it is gone)."""
        return self._supercell_ref() if self._supercell_ref is not None else None

    # ------------------------------------------------------------------ construction helpers
    @classmethod
    def from_structure(cls, structure, **kw) -> EwaldEngine:
        """Engine for a pymatgen Structure (N x N table, for reference checks and small imports).

        Charges come from `structure_charges(structure)`; vacancies are simply absent sites."""
        return cls(layout=structure_layout(structure), **kw)

    @property
    def nbytes(self) -> int:
        """Bytes held by the tables (W, its transform, the tiled copy once built)."""
        n = self.W.nbytes + self._W_hat.nbytes
        if self._tiled is not None:
            n += self._tiled.nbytes
        return n

    # ------------------------------------------------------------------ matrix access
    def _check(self, q) -> np.ndarray:
        q = np.asarray(q, dtype=float)
        if q.shape != (self.n_sites,):
            raise ValueError(f"charges must have shape ({self.n_sites},), got {q.shape}")
        return q

    def to_grid(self, q) -> np.ndarray:
        """Charges (N,) in site order -> (n_basis, n_translations) grid layout."""
        return np.asarray(q, dtype=float)[self._site_of_grid].reshape(self.n_basis, self.n_translations)

    def matrix_element(self, i: int, j: int) -> float:
        """M[i, j] in eV / e^2."""
        g = (self.site_group[j] - self.site_group[i]) % self.orders
        return float(self.W[self.site_basis[i], self.site_basis[j], g[0], g[1], g[2]])

    def submatrix(self, rows, cols) -> np.ndarray:
        """M[rows][:, cols] (len(rows), len(cols)) eV / e^2."""
        rows = np.asarray(rows, dtype=np.int64).reshape(-1)
        cols = np.asarray(cols, dtype=np.int64).reshape(-1)
        g = (self.site_group[cols][None, :, :] - self.site_group[rows][:, None, :]) % np.array(self.orders)
        return self.W[self.site_basis[rows][:, None], self.site_basis[cols][None, :], g[..., 0], g[..., 1], g[..., 2]]

    def dense_matrix(self) -> np.ndarray:
        """The full N x N matrix (only for small cells: N^2 * 8 bytes)."""
        if self.n_sites > 6000:
            raise ResourceLimitError(f"a dense {self.n_sites}^2 matrix needs {self.n_sites ** 2 * 8 / 1e6:.0f} MB")
        idx = np.arange(self.n_sites)
        return self.submatrix(idx, idx)

    def tiled_columns(self) -> np.ndarray:
        """R[p, q] over a doubled group (tile 2 along every axis of order > 1), R[p, q][u] = W[q, p, -u]:
        the column of M for a site (p, g_i) restricted to basis q is the window R[p, q][(n - g_i) % n :]."""
        if self._tiled is None:
            nb = self.n_basis
            W = np.swapaxes(self.W, 0, 1)  # [p, q] = W[q, p]
            R = np.roll(W[:, :, ::-1, ::-1, ::-1], shift=1, axis=(2, 3, 4))  # R[u] = W[-u mod n]
            reps = (1, 1) + tuple(2 if o > 1 else 1 for o in self.orders)
            self._tiled = np.ascontiguousarray(np.tile(R, reps))
            assert self._tiled.shape[:2] == (nb, nb)
        return self._tiled

    # ------------------------------------------------------------------ energies
    def potential_grid(self, q_grid: np.ndarray) -> np.ndarray:
        """phi = M q in grid layout: (n_basis, n_translations) -> (n_basis, n_translations) V."""
        n = self.orders
        qh = np.fft.rfftn(q_grid.reshape((self.n_basis,) + n), axes=(1, 2, 3))
        ph = np.einsum("pq...,q...->p...", self._W_hat, qh)
        return np.fft.irfftn(ph, s=n, axes=(1, 2, 3)).reshape(self.n_basis, self.n_translations)

    def potential(self, q) -> np.ndarray:
        """phi = M q (N,) in V: the electrostatic potential at every site, including its own periodic
        images, Gaussian self term and the background (phi_i = dE/dq_i)."""
        q = self._check(q)
        return self.potential_grid(self.to_grid(q)).reshape(-1)[self._grid_of_site]

    def energy(self, q) -> float:
        """Total Ewald energy (eV) of the cell, pymatgen-equal, including the charged-cell background."""
        q = self._check(q)
        return 0.5 * float(q @ self.potential(q))

    def fixed_field(self, q, active) -> tuple[np.ndarray, float]:
        """(phi (N,) V, energy eV) of the charges q with the `active` sites emptied: the field in which an
        arrangement of the active sites moves, E(arrangement) = energy + Q . phi[active] + Q.M_aa.Q / 2."""
        q_fixed = np.array(self._check(q), dtype=float)
        q_fixed[np.asarray(active, dtype=np.int64)] = 0.0
        phi = self.potential(q_fixed)
        return phi, 0.5 * float(q_fixed @ phi)

    def site_energies(self, q) -> np.ndarray:
        """(N,) eV: each site's share q_i phi_i / 2 of the pair sum. The background, a constant in every
        pair, is shared in proportion to charge (it is inside phi). They sum to `energy(q)`; vacancies 0."""
        q = self._check(q)
        return 0.5 * q * self.potential(q)

    def background(self, Q: float) -> float:
        """Extra energy for net charge Q beyond 1/2 q.M.q: zero, because the neutralising background is
        folded into M (pymatgen's -CONV pi Q^2 / (2 V eta) plus the eta-dependent part of M)."""
        return 0.0

    def point_potential(self, points, q, exclude=None, *, exclude_per_point=None) -> np.ndarray:
        """Potential (V) at Cartesian points (P, 3) Angstrom of all charges except sites `exclude`.

        Consistent with `energy`: moving the ion of site i (charge q_i) to r changes the energy by
        q_i * (point_potential(r, q, exclude=[i]) - point_potential(r_i, q, exclude=[i])), exactly
        (its interaction with its own images does not depend on where it sits). With several sites in
        `exclude` their mutual interaction is left out. The background of the remaining net charge is
        included. Points on a remaining charged site give inf.

        exclude: sites left out at every point. exclude_per_point: (P,) one site index per point (-1:
        none) left out at that point only, e.g. each path image's moving ion; equal, point by point,
        to exclude=[that site], but all points in one call (the site's share is computed from the
        displacement, see `core.energy.tables.point_potential`). Both may be given.
        """
        q = self._check(q).copy()
        if exclude is not None:
            q[np.asarray(exclude, dtype=np.int64).reshape(-1)] = 0.0
        flat = None
        if exclude_per_point is not None:
            pts = np.asarray(points, dtype=float).reshape(-1, 3)
            ex = np.asarray(exclude_per_point, dtype=np.int64).reshape(-1)
            if ex.shape != (len(pts),):
                raise ValueError(f"exclude_per_point needs one site per point: shape ({len(pts)},), "
                                 f"got {ex.shape}")
            if len(ex) and (ex.min() < -1 or ex.max() >= self.n_sites):
                raise ValueError(f"exclude_per_point holds a site index outside [-1, {self.n_sites})")
            flat = np.where(ex >= 0, self.site_flat[np.maximum(ex, 0)], -1)
        return point_potential(self.layout, self.to_grid(q), points, exclude=flat)

    def site_cart(self) -> np.ndarray:
        """(N, 3) Cartesian site positions (Angstrom) consistent with the tables (not wrapped)."""
        lay = self.layout
        # any representative translation of the group element works; solve x A = g for x = g A^-1
        Ainv = np.rint(np.linalg.inv(lay.A.astype(float))).astype(np.int64)
        x = lay.site_group @ Ainv
        return lay.basis_cart[lay.site_basis] + x @ lay.prim


_CACHE: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_LOCK = threading.Lock()


def get_engine(supercell) -> EwaldEngine:
    """The engine of `supercell`, built once and cached (weakly, keyed by the supercell object)."""
    with _LOCK:
        eng = _CACHE.get(supercell)
        if eng is None:
            eng = EwaldEngine(supercell)
            _CACHE[supercell] = eng
        return eng


def charges_of(model) -> np.ndarray:
    """(N,) formal charges (e) of a Model, checked: SpeciesError names a present species whose oxidation
    state is missing or not a finite number."""
    table = model.oxidation
    from core.structure.species import IS_ION, SPECIES

    present = np.unique(model.occupancy)
    for code in present.tolist():
        sym = SPECIES[code]
        if sym == "Va" or IS_ION[code]:
            continue
        val = table.get(sym)
        if val is None:
            raise SpeciesError(f"no oxidation state for {sym}; set one to compute electrostatics")
        try:
            ok = math.isfinite(float(val))
        except (TypeError, ValueError):
            ok = False
        if not ok:
            raise SpeciesError(f"oxidation state of {sym} is not a number: {val!r}")
    return model.charges()


def ewald_summary(model) -> dict:
    """Ewald energy of a model: ewald_eV (cell total), ewald_eV_per_MO2 (per 2 O sites),
    ewald_eV_per_atom (per non-vacancy atom) and net_charge (e). Electrostatics only (formal charges)."""
    q = charges_of(model)
    E = get_engine(model.supercell).energy(q)
    n_atoms = int(np.count_nonzero(model.occupancy))
    fu = model.formula_units()
    return {"ewald_eV": E, "ewald_eV_per_MO2": E / fu if fu else math.nan,
            "ewald_eV_per_atom": E / n_atoms if n_atoms else math.nan,
            "net_charge": float(q.sum())}


def structure_energy(structure) -> float:
    """Ewald energy (eV) of a pymatgen Structure with oxidation states (independent of pymatgen's sums)."""
    return EwaldEngine.from_structure(structure).energy(structure_charges(structure))


__all__ = ["EwaldEngine", "get_engine", "charges_of", "ewald_summary", "structure_energy",
           "structure_charges", "estimate_memory_mb", "CONV", "LayerStudioError"]
