"""State-of-charge model: alkali removed step by step, compensated by TM couples, then by oxygen.

`ChargeModel(model)` precomputes the whole removal sequence once (one alkali ion per step, from the
pristine model to the fully charged one); `state(step)` / `state(x=...)` then rebuilds any state from
the stored events in well under a millisecond, which is what the GUI slider drags.

Each step:
1. Remove one alkali ion. Candidates: the remaining extractable alkali of the current group, where
   `order` is "alkali_layer" (alkali layer first, then the TM layer), "tm_layer" (the reverse) or
   "electrostatic" (any). Within the candidates the ion with the lowest Ewald cost goes, i.e. the one at
   the highest electrostatic potential (all candidates carry the same charge and self term, so the
   potential ranks the exact single-site energy changes).
2. Compensate its charge with holes, one couple at a time in `core.analysis.capacity.REDOX_LADDER` order:
   Mn3+/4+ (~3.0 V) < Ni2+/3+ < Ni3+/4+ (~3.7-3.9 V) < Co3+/4+ < Fe3+/4+, capped at each species'
   maximum oxidation state (user-overridable, as in `core.analysis.capacity`), then O2-/O-. Within a cation
   couple the hole goes to the site of lowest potential (the cheapest, usually next to the new
   vacancy). Within O2-/O- the labile O go first: most A-O-A' axes (`core.analysis.oxygen`, which alkali
   removal does not change since Li and vacancy are both A), then most Li-O-Li axes of the pristine
   model, then lowest potential. Each O gives at
   most one hole (O2- -> O-).
The compensating charges live in a per-site charge array, so the Ewald energy of every state
(`core.energy.ewald.LiveEwald`, charged-cell background included) reflects where the holes sit.
The final cationic/anionic split equals `core.analysis.capacity.capacity` by construction.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.analysis.capacity import (
    REDOX_LADDER,
    effective_oxidation,
    extractable_alkali_sites,
    format_state,
    mAh_per_g,
    max_oxidation_table,
)
from core.errors import LayerStudioError
from core.structure.species import ELEMENT, OXYGEN, STATES, VACANCY, charge_by_code, oxidation_table

ORDERS = ("electrostatic", "alkali_layer", "tm_layer")
OXYGEN_COUPLE = "O2-/O-"
_TOL = 1e-9


@dataclass(frozen=True)
class ChargeState:
    """One state of charge.

    occupancy (N,) int8 species codes (removed alkali -> vacancy); charges (N,) float e per site;
    x_removed alkali removed per 2 O; capacity/cationic/anionic in mAh/g so far; cationic_share and
    anionic_share fractions of the charge passed so far (0 at the pristine state); active_couple the
    couple(s) that compensated the last step ("" at the pristine state); energy_eV Ewald energy of the
    whole supercell; oxidised_o O sites holding a hole (charge > -2).
    """

    step: int
    x_removed: float
    occupancy: np.ndarray
    charges: np.ndarray
    capacity_mAh_g: float
    cationic_mAh_g: float
    anionic_mAh_g: float
    cationic_share: float
    anionic_share: float
    active_couple: str
    energy_eV: float
    oxidised_o: np.ndarray


def _couple_label(sp: str, lo: float, hi: float) -> str:
    low = sp if not np.isfinite(lo) else f"{sp}{format_state(lo)}"
    return f"{low}/{sp}{format_state(hi)}"


def cation_couples(maxox: dict[str, float]) -> list[tuple[str, float, float]]:
    """The ladder clipped to the maximum states; a maximum above the ladder's top adds one couple
    (top -> maximum) after it, a maximum for a species absent from the ladder one couple up to it."""
    out = []
    top: dict[str, float] = {}
    for sp, lo, hi in REDOX_LADDER:
        mx = maxox.get(sp)
        if mx is None or lo >= mx - _TOL:
            continue
        out.append((sp, lo, min(hi, mx)))
        top[sp] = max(top.get(sp, -np.inf), hi)
    for sp, mx in maxox.items():
        if sp not in top:
            out.append((sp, -np.inf, mx))
        elif mx > top[sp] + _TOL:
            out.append((sp, top[sp], mx))
    return out


class ChargeModel:
    """Precomputed delithiation/desodiation sequence of a model (see the module docstring).

    Parameters: order in ORDERS; alkali_layer_only leaves TM-layer alkali in place; max_oxidation and
    oxidation as in `core.analysis.capacity.capacity` (default oxidation: `effective_oxidation(model)`).
    Attributes: n_steps (ions removed at full charge), x_per_step (per 2 O), oxidation (table used),
    note (what neutralisation changed), removal_order (n_steps,) site indices, energies (n_steps + 1,) eV.
    """

    def __init__(self, model, *, order: str = "electrostatic", alkali_layer_only: bool = False,
                 max_oxidation: dict | None = None, oxidation: dict | None = None):
        if order not in ORDERS:
            raise LayerStudioError(f"unknown removal order {order!r}; choose one of {', '.join(ORDERS)}")
        from core.energy.ewald import get_engine
        from core.energy.live import LiveEwald  # the engine is built once per supercell and cached

        self.order = order
        sc = model.supercell
        self.supercell = sc
        if oxidation is None:
            self.oxidation, self.note = effective_oxidation(model)
        else:
            self.oxidation, self.note = oxidation_table(oxidation), ""
        self.max_oxidation = max_oxidation_table(max_oxidation)
        self.occupancy0 = model.occupancy.copy()
        self.charges0 = charge_by_code(self.oxidation)[self.occupancy0]
        fu = model.formula_units()
        if fu == 0:
            raise LayerStudioError("the model has no oxygen; the charge model works per 2 O")
        self.formula_units = fu
        self.molar_mass = model.molar_mass_per_MO2()
        self.x_per_step = 1.0 / fu
        alkali = extractable_alkali_sites(model, alkali_layer_only)
        self.n_steps = len(alkali)

        from core.analysis.oxygen import OxygenEnvironments
        env = OxygenEnvironments(model)
        labile = np.zeros((2, sc.n_sites))  # pristine A-O-A' and Li-O-Li counts per O site
        labile[0, env.o_sites] = env.a_o_a
        labile[1, env.o_sites] = env.li_o_li

        self._engine = get_engine(sc)
        self._bl, self._g, self._n = sc.basis_local, sc.group, sc.group_orders
        live = LiveEwald(self._engine, self.charges0.copy())
        self._run(live, alkali, labile)

    # ------------------------------------------------------------------ precomputation
    def _column(self, j: int) -> np.ndarray:
        """(N,) column j of the pair matrix M (eV/e^2) from the engine's block-circulant table."""
        d = (self._g[j] - self._g) % self._n
        return self._engine.W[self._bl, self._bl[j], d[:, 0], d[:, 1], d[:, 2]]

    def _run(self, live, alkali: np.ndarray, labile: np.ndarray) -> None:
        sc = self.supercell
        q = self.charges0.copy()
        phi = np.asarray(self._engine.potential(q), dtype=float).copy()
        occ = self.occupancy0
        species = np.array(ELEMENT, dtype=object)[occ]  # Ni2+ and Ni3+ sites are both Ni
        in_tm = sc.role == "tm"
        groups = {"electrostatic": [alkali],
                  "alkali_layer": [alkali[~in_tm[alkali]], alkali[in_tm[alkali]]],
                  "tm_layer": [alkali[in_tm[alkali]], alkali[~in_tm[alkali]]]}[self.order]
        remaining = [np.ones(len(g), dtype=bool) for g in groups]
        couples = cation_couples(self.max_oxidation)
        couple_sites = [np.flatnonzero(species == sp) for sp, _, _ in couples]
        o_sites = np.flatnonzero(occ == OXYGEN)
        o_aoa, o_lioli = -labile[0, o_sites], -labile[1, o_sites]
        o_limit = charge_by_code(self.oxidation)[OXYGEN] + 1.0  # O2- -> O- (one hole per O)

        ev_site, ev_charge, step_end = [], [], [0]
        removal, labels, energies = [], [""], [live.energy]
        cat_holes, an_holes = [0.0], [0.0]

        def place(s: int, new: float) -> None:
            nonlocal phi
            dq = new - q[s]
            live.apply(np.array([s]), np.array([new]))
            phi += dq * self._column(s)
            q[s] = new
            ev_site.append(s)
            ev_charge.append(new)

        for _step in range(self.n_steps):
            gi = next(i for i, r in enumerate(remaining) if r.any())
            cand = groups[gi][remaining[gi]]
            p = phi[cand]
            pick = int(np.flatnonzero(p >= p.max() - 1e-9)[0])  # highest potential, lowest index on ties
            site = int(cand[pick])
            remaining[gi][np.flatnonzero(remaining[gi])[pick]] = False
            need = q[site]
            removal.append(site)
            place(site, 0.0)
            used, cat, an = [], 0.0, 0.0
            for (sp, lo, hi), sites in zip(couples, couple_sites):
                while need > _TOL:
                    room = (q[sites] >= lo - _TOL) & (q[sites] < hi - _TOL)
                    if not room.any():
                        break
                    c = sites[room]
                    pc = phi[c]
                    s = int(c[np.flatnonzero(pc <= pc.min() + 1e-9)[0]])
                    amount = min(hi - q[s], need)
                    place(s, q[s] + amount)
                    need -= amount
                    cat += amount
                    label = _couple_label(sp, lo, hi)
                    if label not in used:
                        used.append(label)
                if need <= _TOL:
                    break
            while need > _TOL:
                room = q[o_sites] < o_limit - _TOL
                if not room.any():
                    raise LayerStudioError("no oxygen left to oxidise: the charge cannot be compensated")
                c = o_sites[room]
                # most A-O-A' axes first, then most Li-O-Li, then the cheapest
                key = np.lexsort((c, phi[c], o_lioli[room], o_aoa[room]))
                s = int(c[key[0]])
                amount = min(o_limit - q[s], need)
                place(s, q[s] + amount)
                need -= amount
                an += amount
                if OXYGEN_COUPLE not in used:
                    used.append(OXYGEN_COUPLE)
            step_end.append(len(ev_site))
            labels.append(" + ".join(used))
            energies.append(live.energy)
            cat_holes.append(cat_holes[-1] + cat)
            an_holes.append(an_holes[-1] + an)

        self.removal_order = np.array(removal, dtype=np.int64)
        self._ev_site = np.array(ev_site, dtype=np.int64)
        self._ev_charge = np.array(ev_charge, dtype=float)
        self._step_end = np.array(step_end, dtype=np.int64)
        self.active_couples = labels
        self.energies = np.array(energies)
        self._cat = np.array(cat_holes) / self.formula_units   # e per 2 O
        self._an = np.array(an_holes) / self.formula_units
        self._o_sites = o_sites

    # ------------------------------------------------------------------ states
    def step_of(self, x: float) -> int:
        """Nearest step to x alkali removed per 2 O (clipped to 0..n_steps)."""
        return int(np.clip(round(float(x) / self.x_per_step), 0, self.n_steps))

    def state(self, step: int | None = None, *, x: float | None = None) -> ChargeState:
        """The state after `step` removals (0 = pristine), or nearest to `x` removed per 2 O."""
        if x is not None:
            step = self.step_of(x)
        if step is None:
            raise LayerStudioError("give a step or x")
        step = int(step)
        if not 0 <= step <= self.n_steps:
            raise LayerStudioError(f"step {step} is outside 0..{self.n_steps}")
        m = self._step_end[step]
        sites, vals = self._ev_site[:m], self._ev_charge[:m]
        q = self.charges0.copy()
        if m:
            rev_sites = sites[::-1]
            u, first = np.unique(rev_sites, return_index=True)  # last event per site wins
            q[u] = vals[::-1][first]
        occ = self.occupancy0.copy()
        occ[self.removal_order[:step]] = VACANCY
        cat, an = self._cat[step], self._an[step]
        tot = cat + an
        o_q = q[self._o_sites]
        return ChargeState(
            step=step, x_removed=step * self.x_per_step, occupancy=occ, charges=q,
            capacity_mAh_g=float(mAh_per_g(tot, self.molar_mass)),
            cationic_mAh_g=float(mAh_per_g(cat, self.molar_mass)),
            anionic_mAh_g=float(mAh_per_g(an, self.molar_mass)),
            cationic_share=float(cat / tot) if tot > 0 else 0.0,
            anionic_share=float(an / tot) if tot > 0 else 0.0,
            active_couple=self.active_couples[step], energy_eV=float(self.energies[step]),
            oxidised_o=self._o_sites[o_q > self.charges0[self._o_sites] + _TOL])

    def mean_oxidation(self, state: ChargeState) -> dict[str, float]:
        """Element -> mean charge over its sites in `state` (elements present in the pristine model;
        ion occupants such as Ni2+ and Ni3+ count as their element)."""
        out = {}
        elem = np.array(ELEMENT, dtype=object)[self.occupancy0]
        for sp in STATES:
            sites = np.flatnonzero(elem == sp)
            if len(sites):
                out[sp] = float(state.charges[sites].mean())
        return out


#: Most rows of a state-of-charge table (more rows than removable ions repeat rows anyway).
MAX_STEPS = 10_000


def charge_table(model, steps: int = 10, **kwargs) -> list[dict]:
    """`steps` + 1 evenly spaced states from pristine to fully charged, as JSON-ready rows:
    step, x_removed (per 2 O), capacity_mAh_g, cationic_mAh_g, anionic_mAh_g, cationic_share,
    active_couple, energy_eV, energy_eV_per_MO2, oxidised_O_fraction, mean_oxidation {species: e}.
    Keyword arguments go to `ChargeModel`."""
    if not 1 <= int(steps) <= MAX_STEPS:
        raise LayerStudioError(f"steps must be 1..{MAX_STEPS:,}, not {steps}")
    cm = ChargeModel(model, **kwargs)
    picks = sorted(set(np.round(np.linspace(0, cm.n_steps, int(steps) + 1)).astype(int).tolist()))
    rows = []
    for k in picks:
        st = cm.state(k)
        rows.append({
            "step": k, "x_removed": round(st.x_removed, 6), "capacity_mAh_g": round(st.capacity_mAh_g, 3),
            "cationic_mAh_g": round(st.cationic_mAh_g, 3), "anionic_mAh_g": round(st.anionic_mAh_g, 3),
            "cationic_share": round(st.cationic_share, 6), "active_couple": st.active_couple,
            "energy_eV": round(st.energy_eV, 6), "energy_eV_per_MO2": round(st.energy_eV / cm.formula_units, 6),
            "oxidised_O_fraction": round(len(st.oxidised_o) / max(len(cm._o_sites), 1), 6),
            "mean_oxidation": {s: round(v, 4) for s, v in cm.mean_oxidation(st).items()},
        })
    return rows


__all__ = ["ChargeModel", "ChargeState", "charge_table", "cation_couples", "ORDERS", "OXYGEN_COUPLE"]
