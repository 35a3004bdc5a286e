"""Exact ground state of a two-layer sublattice in a small commensurate cell, by branch and bound.

`small_cell_ground_states` enumerates every joint arrangement, which stops at a few million: for the
Na/vacancy layers of a P2 cell of index 12 (two layers of 24 Na_e + Na_f sites, 16 Na) that is
C(48, 16) = 2e12 arrangements. The energy of the point charges splits exactly by layer,

    E(x_A, x_B) = E0 + e_A(x_A) + e_B(x_B) + q_A(x_A) . C . q_B(x_B)

(e_L: the layer's own pair energy plus its energy in the field of every fixed ion; C: the Ewald
interaction between the two layers' sites), so each layer's 2^m arrangements are enumerated alone
(m = 24: 1.7e7 rows in blocks) and the pairs are searched with two lower bounds: for a split of the
ions (k_A in layer A, k_B in B) min e_A(k_A) + min e_B(k_B) + the k_A k_B smallest couplings; for a
given x_A, e_A + min e_B + the sum of the k_B most attractive entries of the potential x_A C (a
relaxation of the exact coupling). Only pairs whose bound is below the best energy found so far are
evaluated exactly, so the minimum is exact (no arrangement is skipped that could be lower).
"""
from __future__ import annotations

import numpy as np

from core.errors import ResourceLimitError

MAX_LAYER_SITES = 26      # 2^26 arrangements per layer, in blocks
BLOCK = 1 << 18


def _codes_charges(model, sites):
    from core.structure.species import charge_by_code
    codes = np.unique(model.occupancy[sites])
    if len(codes) != 2:
        raise ResourceLimitError("the layered search handles two species (an ion and a vacancy, or two ions)")
    qtab = charge_by_code(model.oxidation)
    return codes, qtab[codes]


def _layer_spectrum(h, M, q0, q1, max_count=None):
    """Every arrangement of one layer's m sites as a bit mask (bit i set: species 1 on site i).

    Energy e(x) = h . q + q M q / 2 with q = q0 + (q1 - q0) x. Returns (masks (r,) int64, counts (r,),
    energies (r,)) sorted by energy, all 2^m arrangements (counts up to max_count)."""
    m = len(h)
    if m > MAX_LAYER_SITES:
        raise ResourceLimitError(f"{m} sites per layer exceed the {MAX_LAYER_SITES} of the layered search")
    dq = q1 - q0
    base = q0 * np.ones(m)
    # e(x) = e(0) + x . (dq (h + M base)) + dq^2 x M x / 2
    lin = dq * (h + M @ base)
    quad = dq * dq * M
    e0 = float(h @ base + 0.5 * base @ M @ base)
    out_m, out_c, out_e = [], [], []
    bit = np.arange(m, dtype=np.int64)
    for lo in range(0, 1 << m, BLOCK):
        masks = np.arange(lo, min(lo + BLOCK, 1 << m), dtype=np.int64)
        X = ((masks[:, None] >> bit) & 1).astype(np.float64)
        cnt = X.sum(axis=1).astype(np.int64)
        keep = cnt <= (m if max_count is None else max_count)
        X, masks, cnt = X[keep], masks[keep], cnt[keep]
        E = e0 + X @ lin + 0.5 * np.einsum("bi,bi->b", X @ quad, X)
        out_m.append(masks.astype(np.int32))
        out_c.append(cnt.astype(np.int8))
        out_e.append(E)
    masks, cnt, E = np.concatenate(out_m), np.concatenate(out_c), np.concatenate(out_e)
    order = np.argsort(E, kind="stable")
    return masks[order], cnt[order], E[order]


def _bits(masks, m):
    return ((masks.astype(np.int64)[:, None] >> np.arange(m, dtype=np.int64)) & 1).astype(np.float64)


def two_layer_ground_state(model, layer_sites: tuple[np.ndarray, np.ndarray], *, total: int | None = None,
                           upper: float = np.inf) -> dict:
    """Exact lowest Ewald energy (eV) of `model` over every arrangement of two species on the sites of
    two blocks (e.g. the alkali sites of two slabs), the rest of the cell fixed.

    layer_sites: the two blocks' site indices; the two species are those present on them, the one with
    the higher species code counted by the bit masks. total: how many sites of both blocks together
    hold that species (default: as in `model`; the split between the blocks is free); upper: a known
    energy (eV) of this cell to prune with (the result is exact either way; when no arrangement is
    below `upper`, "energy_eV" is None). Returns {"energy_eV", "occupancy" (N,) int8,
    "evaluated" (pairs evaluated exactly), "splits" [(k_A, k_B) searched]}.
    """
    from core.energy.ewald import charges_of, get_engine

    A, B = (np.asarray(s, dtype=np.int64) for s in layer_sites)
    both = np.concatenate([A, B])
    codes, qc = _codes_charges(model, both)
    occ = model.occupancy
    if total is None:
        total = int((occ[both] == codes[1]).sum())
    eng = get_engine(model.supercell)
    phi_f, E0 = eng.fixed_field(charges_of(model), both)
    q0, q1 = float(qc[0]), float(qc[1])
    MA, MB, C = eng.submatrix(A, A), eng.submatrix(B, B), eng.submatrix(A, B)
    mA, cA, eA = _layer_spectrum(phi_f[A], MA, q0, q1, total)
    mB, cB, eB = _layer_spectrum(phi_f[B], MB, q0, q1, total)
    nA, nB = len(A), len(B)
    # coupling of two arrangements: qA C qB with q = q0 + dq x
    dq = q1 - q0
    cA_lin = q0 * (C @ np.full(nB, 1.0)) * dq     # x_A . (q0 C 1) dq
    cB_lin = q0 * (np.full(nA, 1.0) @ C) * dq
    c00 = q0 * q0 * float(C.sum())
    Cq = dq * dq * C
    best = float(upper)
    best_pair = None
    evaluated = 0
    splits = []
    # a first upper bound from the few hundred lowest arrangements of each layer, paired exactly
    for kA in range(max(0, total - nB), min(nA, total) + 1):
        la, lb = np.flatnonzero(cA == kA)[:400], np.flatnonzero(cB == total - kA)[:400]
        if len(la) and len(lb):
            xa, xb = _bits(mA[la], nA), _bits(mB[lb], nB)
            E = (E0 + c00 + eA[la][:, None] + eB[lb][None, :] + (xa @ cA_lin)[:, None] + (xb @ cB_lin)[None, :]
                 + xa @ Cq @ xb.T)
            i, j = np.unravel_index(int(np.argmin(E)), E.shape)
            if E[i, j] < best:
                best, best_pair = float(E[i, j]), (xa[i].copy(), xb[j].copy())
    minA = {k: eA[cA == k][0] for k in np.unique(cA)}
    minB = {k: eB[cB == k][0] for k in np.unique(cB)}
    flat = np.sort(Cq.ravel())
    for kA in range(max(0, total - nB), min(nA, total) + 1):
        kB = total - kA
        if kA not in minA or kB not in minB:
            continue
        # a split bound: the kA kB most attractive couplings, the linear coupling terms bounded alike
        lin_lo = np.sort(cA_lin)[:kA].sum() + np.sort(cB_lin)[:kB].sum()
        bound = E0 + minA[kA] + minB[kB] + c00 + lin_lo + flat[:kA * kB].sum()
        if bound > best:
            continue
        splits.append((kA, kB))
        selA, selB = cA == kA, cB == kB
        ma, ea = mA[selA], eA[selA]
        mb, eb = mB[selB], eB[selB]
        xb_all = _bits(mb, nB)
        for lo in range(0, len(ma), 4096):
            xa = _bits(ma[lo:lo + 4096], nA)
            pot = xa @ Cq                              # (r, nB): coupling of each x_A with a B ion
            part = np.partition(pot, kB - 1, axis=1)[:, :kB].sum(axis=1) if kB else np.zeros(len(xa))
            lb_c = c00 + xa @ cA_lin + part + (np.sort(cB_lin)[:kB].sum())
            lb = E0 + ea[lo:lo + 4096] + eb[0] + lb_c
            for r in np.flatnonzero(lb <= best):
                # B arrangements whose own energy leaves room under the best (eb is sorted)
                room = best - (E0 + ea[lo + r] + lb_c[r])
                nb_ok = int(np.searchsorted(eb, room, side="right"))
                if nb_ok == 0:
                    continue
                xb = xb_all[:nb_ok]
                E = E0 + ea[lo + r] + eb[:nb_ok] + c00 + float(xa[r] @ cA_lin) + xb @ cB_lin + xb @ pot[r]
                evaluated += nb_ok
                i = int(np.argmin(E))
                if E[i] < best:
                    best = float(E[i])
                    best_pair = (xa[r].copy(), xb[i].copy())
    out = {"energy_eV": None, "occupancy": None, "evaluated": int(evaluated), "splits": splits}
    if best_pair is not None:
        o = occ.copy()
        for sites, x in zip((A, B), best_pair):
            o[sites] = np.where(x > 0.5, codes[1], codes[0]).astype(np.int8)
        out["energy_eV"] = best
        out["occupancy"] = o
    return out


def layered_cell_ground_states(model, sublattice: str = "alkali", *, indices=(9, 12),
                               upper: float | None = None) -> list[dict]:
    """Exact lowest energy of `model` among arrangements of one swap group on two layers that repeat in
    a commensurate cell of each index in `indices` (`core.orderings.enumeration.commensurate_cells`),
    by `two_layer_ground_state` in the small cell, tiled back into `model`.

    upper: a known energy (eV) of `model` used to prune (a cell with nothing below it is reported with
    "energy_eV" None: its ground state is higher). Returns [{"index", "cell", "energy_eV" (of `model`),
    "occupancy" (N,) int8 or None, "evaluated", "seconds"}], lowest first (cells above `upper` last).
    """
    import time

    from core.orderings.enumeration import commensurate_cells

    out = []
    for cell in commensurate_cells(model, sublattice, indices=indices):
        if len(cell["groups"]) != 1:
            raise ResourceLimitError("the layered search handles one swap group (tm or alkali)")
        small = cell["model"]
        sites = cell["groups"][0]
        layers = np.unique(small.supercell.layer[sites])
        if len(layers) != 2:
            raise ResourceLimitError("the layered search needs the group on exactly two layers")
        blocks = tuple(sites[small.supercell.layer[sites] == L] for L in layers)
        rep = cell["repeats"]
        t0 = time.perf_counter()
        r = two_layer_ground_state(small, blocks, upper=np.inf if upper is None else upper / rep + 1e-9)
        occ = None if r["occupancy"] is None else r["occupancy"][cell["small_of_big"]].astype(np.int8)
        out.append({"index": cell["index"], "cell": cell["cell"].tolist(),
                    "energy_eV": None if r["energy_eV"] is None else r["energy_eV"] * rep, "occupancy": occ,
                    "evaluated": r["evaluated"], "seconds": time.perf_counter() - t0})
    out.sort(key=lambda c: np.inf if c["energy_eV"] is None else c["energy_eV"])
    return out


__all__ = ["two_layer_ground_state", "layered_cell_ground_states"]
