"""Magnetic moments -> oxidation-state estimates per TM ion and the O-hole map.

A predicted moment (muB) of an octahedral TM ion is compared with the spin-only moment 2S of its
candidate oxidation states (high spin for Mn and Fe, low spin for Co3+/Co4+ and Ni3+/Ni4+ as in layered
oxides); the nearest wins. The moment on an O is the unpaired-electron density of an oxidised oxygen
(an O 2p hole carries about 1 muB), which is how DFT studies of Li-rich cathodes map oxygen redox
(Seo et al., Nat. Chem. 2016). CHGNet predicts |moment| per site (Deng et al., Nat. Mach. Intell. 2023).
"""
from __future__ import annotations

import numpy as np

#: element -> {oxidation state: spin-only moment 2S in muB} in octahedral oxide environments
SPIN_ONLY = {
    "Mn": {2: 5.0, 3: 4.0, 4: 3.0},
    "Fe": {2: 4.0, 3: 5.0, 4: 4.0},
    "Co": {2: 3.0, 3: 0.0, 4: 1.0},
    "Ni": {2: 2.0, 3: 1.0, 4: 0.0},
    "Cr": {3: 3.0, 4: 2.0, 6: 0.0},
    "V": {3: 2.0, 4: 1.0, 5: 0.0},
    "Ti": {3: 1.0, 4: 0.0},
    "Cu": {1: 0.0, 2: 1.0, 3: 0.0},
}


def oxidation_from_moment(element: str, moment: float, prefer: float | None = None) -> int | None:
    """The oxidation state of `element` whose spin-only moment is nearest |moment| (None if unknown).

    Ties (e.g. Fe2+ and Fe4+ both 4 muB) go to the state nearest `prefer` (the formal state), else the
    lower one."""
    table = SPIN_ONLY.get(element)
    if table is None:
        return None
    m = abs(float(moment))

    def key(item):
        ox, mu = item
        return (round(abs(mu - m), 6), abs(ox - prefer) if prefer is not None else 0, ox)
    return min(table.items(), key=key)[0]


def moment_analysis(symbols, magmoms, site_index=None, formal: dict | None = None) -> dict:
    """Per-site moments turned into the quantities a reader of a Li-rich cathode wants.

    symbols: (n,) element symbols; magmoms: (n,) muB; site_index: (n,) model site of each atom (default
    0..n-1); formal: element -> formal oxidation state (for tie-breaks and the comparison).
    Returns {"tm": [{site, element, moment, oxidation, formal}], "o": {"sites", "moments"},
    "o_mean", "o_max", "tm_mean": {element: mean moment}, "oxidation_counts": {"Mn4+": n, ...}}.
    """
    symbols = list(symbols)
    mag = np.abs(np.asarray(magmoms, float)).reshape(-1)
    idx = np.arange(len(symbols)) if site_index is None else np.asarray(site_index)
    formal = formal or {}
    tm, counts, per_el = [], {}, {}
    for k, (s, m) in enumerate(zip(symbols, mag)):
        if s in SPIN_ONLY:
            ox = oxidation_from_moment(s, m, formal.get(s))
            tm.append({"site": int(idx[k]), "element": s, "moment": float(m), "oxidation": ox,
                       "formal": formal.get(s)})
            label = f"{s}{ox}+"
            counts[label] = counts.get(label, 0) + 1
            per_el.setdefault(s, []).append(float(m))
    o = [k for k, s in enumerate(symbols) if s == "O"]
    o_m = mag[o] if o else np.zeros(0)
    return {"tm": tm, "o": {"sites": idx[o].astype(int).tolist(), "moments": o_m.tolist()},
            "o_mean": float(o_m.mean()) if o else float("nan"),
            "o_max": float(o_m.max()) if o else float("nan"),
            "tm_mean": {e: float(np.mean(v)) for e, v in per_el.items()},
            "oxidation_counts": dict(sorted(counts.items()))}


def result_moments(result, model=None) -> dict:
    """`moment_analysis` of an `EnergyResult` (formal states from `model` when given)."""
    if result.magmoms is None:
        return {}
    formal = None
    if model is not None:
        formal = {k: v for k, v in model.oxidation.items()}
    return moment_analysis(result.species, result.magmoms, result.site_index, formal)


def soc_moments(model, energy_model="chgnet", *, steps: int = 4, abort=None, **charge_kwargs):
    """Generator: moments along the state-of-charge path of `core.analysis.charge.ChargeModel`.

    For `steps` + 1 states from pristine to fully charged (alkali removed in the ChargeModel's order),
    a single point on the ideal lattice gives the mean O moment, the number of O above 0.2 muB and the
    oxidation states from TM moments, beside the formal-charge ladder's oxidised-O fraction. Returns
    a list of rows {step, x_removed, o_moment_mean, o_holed_fraction, ladder_oxidised_O_fraction,
    oxidation_counts, tm_mean (element -> mean moment, muB)}.
    """
    from core.analysis.charge import ChargeModel
    from core.mlip.relax import _aborted, single_point

    cm = ChargeModel(model, **charge_kwargs)
    picks = sorted(set(np.round(np.linspace(0, cm.n_steps, int(steps) + 1)).astype(int).tolist()))
    work = model.copy()
    n_o = len(model.supercell.o_sites)
    rows = []
    for i, k in enumerate(picks):
        if _aborted(abort):
            break
        st = cm.state(k)
        work.set_occupancy(st.occupancy)
        mom = result_moments(single_point(work, energy_model), work)
        o = np.asarray(mom["o"]["moments"])
        rows.append({"step": k, "x_removed": round(st.x_removed, 6), "o_moment_mean": mom["o_mean"],
                     "o_holed_fraction": float((o > 0.2).mean()) if len(o) else 0.0,
                     "ladder_oxidised_O_fraction": len(st.oxidised_o) / max(n_o, 1),
                     "oxidation_counts": mom["oxidation_counts"], "tm_mean": mom["tm_mean"]})
        yield {"progress": (i + 1) / len(picks),
               "message": f"x = {st.x_removed:.3f}: mean O moment {mom['o_mean']:.3f} muB"}
    return rows


__all__ = ["SPIN_ONLY", "oxidation_from_moment", "moment_analysis", "result_moments", "soc_moments"]
