"""numba kernels of the swap Monte Carlo (imported lazily by `core.orderings.montecarlo`).

Only the active sites (those allowed to swap) are handled. Their potentials phi = M q (V, including
fixed sites and the background folded into M) are kept up to date, so a swap attempt costs O(1):

    dq = q_j - q_i (the change at i; -dq at j)
    dE = dq (phi_i - phi_j) + dq^2 (M_ii + M_jj - 2 M_ij) / 2      (eV)

and an accepted swap updates phi in O(n_active). The kernels release the GIL (nogil) so a GUI thread
stays responsive while a worker anneals. M_ij is read from the block-circulant table
W[bl_i, bl_j, (g_j - g_i) mod n] (see `core.energy.ewald`). The random numbers come from a xorshift64*
generator whose state is passed in, so a run is reproducible and independent of other threads.
"""
from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, inline="always")
def _next(state):
    x = state[0]
    x ^= x >> np.uint64(12)
    x ^= x << np.uint64(25)
    x ^= x >> np.uint64(27)
    state[0] = x
    return x * np.uint64(0x2545F4914F6CDD1D)


@njit(cache=True, inline="always")
def _uniform(state):
    return (_next(state) >> np.uint64(11)) * (1.0 / 9007199254740992.0)


@njit(cache=True, inline="always")
def _randint(state, n):
    return np.int64(_uniform(state) * n)


@njit(cache=True, inline="always")
def _m(W, bl, g, n0, n1, n2, i, j):
    return W[bl[i], bl[j], (g[j, 0] - g[i, 0]) % n0, (g[j, 1] - g[i, 1]) % n1, (g[j, 2] - g[i, 2]) % n2]


@njit(cache=True, nogil=True)
def anneal_chunk(q, sp, glo, ghi, bl, g, W, mii, phi, temps, attempts_per_temp, state,
                 energy, best_energy, best_sp, tol):
    """Metropolis swaps at each temperature of `temps` (kT, eV), `attempts_per_temp` attempts each.

    q (n,) charges, sp (n,) int8 species codes, glo / ghi (n,) int64: the active sites are ordered by
    swap group and site i swaps only with sites glo[i] <= j < ghi[i] (its group), bl (n,) basis index,
    g (n, 3) translation-group coordinates, W the Ewald table, mii (n,)
    diagonal M_ii, phi (n,) potentials: all of the active sites, updated in place. best_sp (n,) receives
    the lowest-energy species arrangement met when it improves on best_energy by more than tol.
    An attempt picks a site, then a partner in its group holding a different species (partners of
    equal species are redrawn, up to 64 times, and not counted). Returns (energy, best_energy, accepted, attempted).
    """
    n = q.shape[0]
    n0, n1, n2 = W.shape[2], W.shape[3], W.shape[4]
    accepted = 0
    attempted = 0
    for t in range(temps.shape[0]):
        beta = 1.0 / temps[t]
        for _a in range(attempts_per_temp):
            i = _randint(state, n)
            lo = glo[i]
            span = ghi[i] - lo
            j = lo + _randint(state, span)
            tries = 0
            while sp[i] == sp[j] and tries < 64:
                j = lo + _randint(state, span)
                tries += 1
            if sp[i] == sp[j]:
                continue
            attempted += 1
            dq = q[j] - q[i]
            dE = dq * (phi[i] - phi[j]) + 0.5 * dq * dq * (mii[i] + mii[j] - 2.0 * _m(W, bl, g, n0, n1, n2, i, j))
            if dE > 0.0:
                x = dE * beta
                if x > 40.0 or _uniform(state) >= np.exp(-x):
                    continue
            accepted += 1
            qi = q[i]
            q[i] = q[j]
            q[j] = qi
            s = sp[i]
            sp[i] = sp[j]
            sp[j] = s
            for k in range(n):
                phi[k] += dq * (_m(W, bl, g, n0, n1, n2, k, i) - _m(W, bl, g, n0, n1, n2, k, j))
            energy += dE
            if energy < best_energy - tol:
                best_energy = energy
                for k in range(n):
                    best_sp[k] = sp[k]
    return energy, best_energy, accepted, attempted


@njit(cache=True, nogil=True)
def anneal_chunk_dense(q, sp, glo, ghi, M, phi, temps, attempts_per_temp, state,
                 energy, best_energy, best_sp, tol):
    """As `anneal_chunk` with the dense active-site matrix M (n, n) (eV/e^2) instead of the W table.

    Kept as a separate kernel (not a shared one with a matrix-element callback) because numba cannot
    inline a first-class function in the hot loop; the dense form is faster whenever M fits in cache.
    Arguments and return value are those of `anneal_chunk` without bl, g, W and mii.
    """
    n = q.shape[0]
    accepted = 0
    attempted = 0
    for t in range(temps.shape[0]):
        beta = 1.0 / temps[t]
        for _a in range(attempts_per_temp):
            i = _randint(state, n)
            lo = glo[i]
            span = ghi[i] - lo
            j = lo + _randint(state, span)
            tries = 0
            while sp[i] == sp[j] and tries < 64:
                j = lo + _randint(state, span)
                tries += 1
            if sp[i] == sp[j]:
                continue
            attempted += 1
            dq = q[j] - q[i]
            dE = dq * (phi[i] - phi[j]) + 0.5 * dq * dq * (M[i, i] + M[j, j] - 2.0 * M[i, j])
            if dE > 0.0:
                x = dE * beta
                if x > 40.0 or _uniform(state) >= np.exp(-x):
                    continue
            accepted += 1
            qi = q[i]
            q[i] = q[j]
            q[j] = qi
            s = sp[i]
            sp[i] = sp[j]
            sp[j] = s
            Mi = M[i]
            Mj = M[j]
            for k in range(n):
                phi[k] += dq * (Mi[k] - Mj[k])
            energy += dE
            if energy < best_energy - tol:
                best_energy = energy
                for k in range(n):
                    best_sp[k] = sp[k]
    return energy, best_energy, accepted, attempted


@njit(cache=True, nogil=True)
def rigid_move_energies(qb, perms, phi_b, Mbb, out):
    """Energy change (eV) of every rigid move of one block: out[t] for new charges qb[perms[t]].

    qb (m,) block charges, perms (T, m) int64, phi_b (m,) potentials at the block's sites, Mbb (m, m)
    the block's matrix. dE = dq . phi_b + dq M dq / 2 with dq = qb[perm] - qb. Plain loops (no BLAS:
    a threaded BLAS on a loaded machine is a hundred times slower for matrices this small).
    """
    T, m = perms.shape
    dq = np.empty(m)
    for t in range(T):
        e = 0.0
        for i in range(m):
            dq[i] = qb[perms[t, i]] - qb[i]
            e += dq[i] * phi_b[i]
        quad = 0.0
        for i in range(m):
            if dq[i] != 0.0:
                row = 0.0
                for j in range(m):
                    row += Mbb[i, j] * dq[j]
                quad += dq[i] * row
        out[t] = e + 0.5 * quad


@njit(cache=True, nogil=True)
def add_columns(phi, cols, dq):
    """phi += cols @ dq without BLAS (cols (n, m), dq (m,))."""
    n, m = cols.shape
    for j in range(m):
        d = dq[j]
        if d != 0.0:
            for i in range(n):
                phi[i] += cols[i, j] * d
