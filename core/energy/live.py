"""Incremental Ewald energy: keep q, phi = M q and E; an edit's energy change costs O(k^2) for k
changed sites (from phi and matrix elements only) and applying it costs O(N) per changed site.

    live = LiveEwald(engine, q)
    dE = live.delta([i], [q_new])     # no mutation
    live.apply([i], [q_new])          # returns the same dE, updates q, phi, energy, net charge
    live.swap_delta(i, j)             # exchange the charges of two sites

For a change dq on sites K: dE = dq.phi[K] + 1/2 dq.M[K, K].dq (exact: E is quadratic in q and the
background is inside M, so charge-changing edits of a charged cell need nothing extra).
"""
from __future__ import annotations

import numpy as np

from core.errors import EditError


class LiveEwald:
    """Tracked charges q (N,) e, site potentials phi (N,) V and energy (eV) for one EwaldEngine."""

    def __init__(self, engine, q, charge_table: np.ndarray | None = None):
        self.engine = engine
        q = engine._check(q)
        nb, nt = engine.n_basis, engine.n_translations
        self._n = engine.orders
        self._nt = nt
        self._slot = engine.site_flat  # site -> grid slot p * nt + flat(g)
        self._p = engine.site_basis.tolist()
        g = engine.site_group
        # group coordinates as Python tuples: scalar matrix elements without numpy call overhead
        self._g = [tuple(r) for r in g.tolist()]
        self._Wflat = engine.W.reshape(-1)
        self._diag = engine.self_term.tolist()
        self._q = q.copy()
        self._q_list = self._q.tolist()
        self._phi_grid = np.zeros(nb * nt)
        self._tiled: np.ndarray | None = None
        #: charges per species code, for `delta_edit` / `apply_edit` (optional)
        self.charge_table = None if charge_table is None else np.asarray(charge_table, dtype=float)
        self.recompute()

    @classmethod
    def from_model(cls, model, engine=None) -> LiveEwald:
        """Tracker for a Model's charges; flips (site, species code) map through its oxidation table."""
        from core.energy.ewald import charges_of, get_engine
        from core.structure.species import charge_by_code

        engine = engine or get_engine(model.supercell)
        return cls(engine, charges_of(model), charge_table=charge_by_code(model.oxidation))

    # ------------------------------------------------------------------ state
    @property
    def energy(self) -> float:
        """Tracked total energy (eV)."""
        return self._E

    @property
    def net_charge(self) -> float:
        """Net charge of the cell (e); non-zero means a neutralising background is included."""
        return self._Q

    @property
    def q(self) -> np.ndarray:
        """Copy of the tracked charges (N,) e."""
        return self._q.copy()

    @property
    def phi(self) -> np.ndarray:
        """Site potentials (N,) V in site order (a fresh array)."""
        return self._phi_grid[self._slot]

    def site_energies(self) -> np.ndarray:
        """(N,) eV: q_i phi_i / 2, summing to `energy`."""
        return 0.5 * self._q * self.phi

    def recompute(self) -> float:
        """Rebuild phi and E from q with the full FFT product; returns the drift fixed (eV)."""
        eng = self.engine
        self._phi_grid[:] = eng.potential_grid(eng.to_grid(self._q)).reshape(-1)
        old = getattr(self, "_E", None)
        self._E = 0.5 * float(self._q @ self._phi_grid[self._slot])
        self._Q = float(self._q.sum())
        return 0.0 if old is None else self._E - old

    # ------------------------------------------------------------------ matrix elements
    def _m(self, i: int, j: int) -> float:
        gi, gj = self._g[i], self._g[j]
        n1, n2, n3 = self._n
        flat = (((gj[0] - gi[0]) % n1) * n2 + (gj[1] - gi[1]) % n2) * n3 + (gj[2] - gi[2]) % n3
        return self._Wflat[(self._p[i] * self.engine.n_basis + self._p[j]) * self._nt + flat]

    # ------------------------------------------------------------------ deltas (no mutation)
    def flip_delta(self, i: int, new_q: float) -> float:
        """Energy change (eV) of setting the charge of site i to new_q. O(1)."""
        dq = new_q - self._q_list[i]
        return dq * (self._phi_grid[self._slot[i]] + 0.5 * dq * self._diag[self._p[i]])

    def swap_delta(self, i: int, j: int) -> float:
        """Energy change (eV) of exchanging the charges of sites i and j. O(1)."""
        qi, qj = self._q_list[i], self._q_list[j]
        d = qj - qi
        if d == 0.0 or i == j:
            return 0.0
        phi = self._phi_grid
        return (d * (phi[self._slot[i]] - phi[self._slot[j]])
                + 0.5 * d * d * (self._diag[self._p[i]] + self._diag[self._p[j]]) - d * d * self._m(i, j))

    def _normalise(self, sites, new_q) -> tuple[list, list]:
        """(sites, charges) as Python lists; a site given twice keeps its last charge (as Model.apply)."""
        if isinstance(sites, (int, np.integer)):
            sites = [int(sites)]
        elif not isinstance(sites, list):
            sites = np.asarray(sites, dtype=np.int64).reshape(-1).tolist()
        if isinstance(new_q, (int, float, np.integer, np.floating)):
            new_q = [float(new_q)] * len(sites)
        elif not isinstance(new_q, list):
            new_q = np.asarray(new_q, dtype=float).reshape(-1).tolist()
        if len(new_q) == 1 and len(sites) > 1:
            new_q = new_q * len(sites)
        if len(sites) != len(new_q):
            raise EditError(f"{len(sites)} sites but {len(new_q)} charges")
        n = len(self._q_list)
        if sites and (min(sites) < 0 or max(sites) >= n):
            raise EditError(f"site index out of range 0..{n - 1}")
        if len(sites) > 1 and len(set(sites)) != len(sites):
            last = dict(zip(sites, new_q))
            sites, new_q = list(last), list(last.values())
        return sites, new_q

    def delta(self, sites, new_q) -> float:
        """Energy change (eV) of setting charges `new_q` on `sites` (k sites: O(k^2)); no mutation."""
        sites, new_q = self._normalise(sites, new_q)
        return self._delta(sites, new_q)

    def _delta(self, sites: list, new_q: list) -> float:
        if len(sites) == 1:
            return self.flip_delta(sites[0], new_q[0])
        ql = self._q_list
        pairs = [(s, v - ql[s]) for s, v in zip(sites, new_q) if v != ql[s]]
        if not pairs:
            return 0.0
        phi, slot = self._phi_grid, self._slot
        if len(pairs) <= 16:  # scalar loop beats numpy set-up for small edits
            dE = 0.0
            for a, (i, di) in enumerate(pairs):
                dE += di * (phi[slot[i]] + 0.5 * di * self._diag[self._p[i]])
                for j, dj in pairs[a + 1:]:
                    dE += di * dj * self._m(i, j)
            return float(dE)
        idx = np.array([s for s, _ in pairs], dtype=np.int64)
        dq = np.array([d for _, d in pairs])
        Mkk = self.engine.submatrix(idx, idx)
        return float(dq @ phi[slot[idx]] + 0.5 * dq @ Mkk @ dq)

    # ------------------------------------------------------------------ applying
    def _add_column(self, i: int, dq: float) -> None:
        """phi += dq * M[:, i] in O(N) through a window of the tiled table (no index arrays)."""
        if self._tiled is None:
            self._tiled = self.engine.tiled_columns()
            self._view_phi = self._phi_grid.reshape((self.engine.n_basis,) + self._n)
            self._tmp = np.empty_like(self._view_phi)
        n1, n2, n3 = self._n
        g = self._g[i]
        s1, s2, s3 = (n1 - g[0]) % n1, (n2 - g[1]) % n2, (n3 - g[2]) % n3
        window = self._tiled[self._p[i], :, s1:s1 + n1, s2:s2 + n2, s3:s3 + n3]
        np.multiply(window, dq, out=self._tmp)
        self._view_phi += self._tmp

    def apply(self, sites, new_q) -> float:
        """Set charges `new_q` on `sites`; update phi (O(N) per changed site), E and Q; return dE (eV)."""
        sites, new_q = self._normalise(sites, new_q)
        dE = self._delta(sites, new_q)
        for s, v in zip(sites, new_q):
            dq = v - self._q_list[s]
            if dq == 0.0:
                continue
            self._add_column(s, dq)
            self._q[s] = v
            self._q_list[s] = v
            self._Q += dq
        self._E += dE
        return dE

    def apply_swap(self, i: int, j: int) -> float:
        """Exchange the charges of sites i and j; returns dE (eV)."""
        ql = self._q_list
        qi, qj = ql[i], ql[j]
        if qi == qj or i == j:
            return 0.0
        dE = self.swap_delta(i, j)
        self._add_column(i, qj - qi)
        self._add_column(j, qi - qj)
        self._q[i], self._q[j] = qj, qi
        ql[i], ql[j] = qj, qi
        self._E += dE
        return dE

    # ------------------------------------------------------------------ edits in species codes
    def _edit_charges(self, edit):
        if self.charge_table is None:
            raise EditError("this tracker has no charge table; build it with LiveEwald.from_model")
        from core.structure.model import as_flips

        sites, codes = as_flips(edit)
        return sites, self.charge_table[codes.astype(np.int64)]

    def delta_edit(self, edit) -> float:
        """dE (eV) of an edit given as flips (site, species code); no mutation."""
        return self.delta(*self._edit_charges(edit))

    def apply_edit(self, edit) -> float:
        """Apply flips (site, species code) to the tracked charges; returns dE (eV)."""
        return self.apply(*self._edit_charges(edit))
