"""Integer lattice helpers: Smith normal form and coset representatives of sublattices.

Used to describe a supercell's translation group Z^3 / L_S as a product of cyclic groups
Z_n1 x Z_n2 x Z_n3, which makes pair interactions block-circulant and indexable by group differences.
"""
from __future__ import annotations

import numpy as np


def smith_normal_form(S: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return (U, D, V) with U @ S @ V = D diagonal, U and V unimodular integer matrices.

    S: (n, n) integer matrix of full rank. D's diagonal is non-negative with d1 | d2 | d3.
    """
    A = np.array(S, dtype=np.int64).copy()
    n = A.shape[0]
    U = np.eye(n, dtype=np.int64)
    V = np.eye(n, dtype=np.int64)
    for t in range(n):
        while True:
            # pivot: smallest non-zero |entry| in the trailing block
            sub = np.abs(A[t:, t:])
            if not sub.any():
                raise ValueError("singular matrix")
            masked = np.where(sub == 0, np.iinfo(np.int64).max, sub)
            i0, j0 = np.unravel_index(np.argmin(masked), masked.shape)
            i, j = int(i0) + t, int(j0) + t
            A[[t, i]] = A[[i, t]]
            U[[t, i]] = U[[i, t]]
            A[:, [t, j]] = A[:, [j, t]]
            V[:, [t, j]] = V[:, [j, t]]
            done = True
            for r in range(t + 1, n):
                q = A[r, t] // A[t, t]
                A[r] -= q * A[t]
                U[r] -= q * U[t]
                if A[r, t] != 0:
                    done = False
            for col in range(t + 1, n):
                q = A[t, col] // A[t, t]
                A[:, col] -= q * A[:, t]
                V[:, col] -= q * V[:, t]
                if A[t, col] != 0:
                    done = False
            if not done:
                continue
            # divisibility: every trailing entry must be divisible by the pivot
            bad = np.argwhere(A[t + 1:, t + 1:] % A[t, t] != 0)
            if len(bad):
                r = bad[0][0] + t + 1
                A[t] += A[r]
                U[t] += U[r]
                continue
            break
        if A[t, t] < 0:
            A[t] *= -1
            U[t] *= -1
    return U, A, V


def coset_representatives_2d(M: np.ndarray) -> np.ndarray:
    """Integer points (i, j) inside the half-open parallelogram spanned by the rows of M.

    M: (2, 2) integer matrix with det > 0. Returns (det, 2) int64, sorted by (j, i) so that the
    representatives of a diagonal n x m cell come out row by row.
    """
    M = np.asarray(M, dtype=np.int64)
    det = int(M[0, 0] * M[1, 1] - M[0, 1] * M[1, 0])
    adj = np.array([[M[1, 1], -M[0, 1]], [-M[1, 0], M[0, 0]]], dtype=np.int64)  # M @ adj = det I
    corners = np.array([[0, 0], M[0], M[1], M[0] + M[1]])
    lo = corners.min(axis=0)
    hi = corners.max(axis=0)
    ii, jj = np.meshgrid(np.arange(lo[0], hi[0] + 1), np.arange(lo[1], hi[1] + 1), indexing="xy")
    pts = np.stack([ii.ravel(), jj.ravel()], axis=1)
    f = pts @ adj  # = det * fractional coordinates in the supercell basis
    keep = np.all((f >= 0) & (f < det), axis=1)
    reps = pts[keep]
    if len(reps) != det:
        raise ValueError(f"found {len(reps)} representatives for det {det}")
    order = np.lexsort((reps[:, 0], reps[:, 1]))
    return reps[order]
