"""Theoretical capacity of a layered-oxide model and its split into cationic and anionic redox.

Q (mAh/g) = n F / (3.6 M) with n the extractable alkali and M the molar mass of the discharged
(as-built) formula, both per formula unit of 2 O (docs/science.md §8; Q does not depend on the formula
unit chosen). The split follows the same section:

    cationic = min(n, sum_i x_i (max_ox_i - ox_i)),   anionic = n - cationic

summed over the redox-active species i (x_i per 2 O, wherever they sit; default maxima Ni 4+, Co 4+,
Mn 4+, Fe 4+ from `core.structure.species.MAX_OXIDATION`, user-overridable). Mg2+, Al3+, Ti4+ and alkali (also
alkali in the TM layer) are inert. The oxidation states are the model's; when they leave the cell
charged, `neutralise_oxidation_states` reassigns the redox-active species first (LiNiO2 -> Ni3+).

`REDOX_LADDER` (defined with the species table in `core.structure.species`) is the order in which
couples are used, shared with the neutralisation of new models (`core.energy.valence`) and the
state-of-charge model (`core.analysis.charge`). Everything here works from the per-site charges
(`Model.charges()`), so integer states on sites (Ni2+/Ni3+ occupants) and average states per element
give the same capacity when they give the same total charge.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from core.errors import OxidationStateError
from core.structure.species import (
    ALKALI,
    ATOMIC_MASS,
    ELEMENT,
    MAX_OXIDATION,
    REDOX_LADDER,
    SPECIES,
    charge_by_code,
    code_of,
    oxidation_table,
)

#: Faraday constant (C/mol) and Avogadro constant (1/mol), CODATA 2018 exact values.
FARADAY = 96485.33212
AVOGADRO = 6.02214076e23

_TOL = 1e-9


@dataclass(frozen=True)
class Capacity:
    """Theoretical capacity of a model.

    total/cationic/anionic in mAh/g of the discharged material; total_mAh_cm3 from the supercell
    volume. n_alkali, n_cationic, n_anionic in electrons per formula unit of 2 O (n_alkali =
    n_cationic + n_anionic). molar_mass g/mol per 2 O; density g/cm3. oxidation: species -> state
    used (species present only); max_oxidation: species -> maximum state used; note: what
    `neutralise_oxidation_states` changed, or "".
    """

    total: float
    cationic: float
    anionic: float
    total_mAh_cm3: float
    n_alkali: float
    n_cationic: float
    n_anionic: float
    molar_mass: float
    density: float
    oxidation: dict = field(default_factory=dict)
    max_oxidation: dict = field(default_factory=dict)
    note: str = ""


def mAh_per_g(n: float, molar_mass: float) -> float:
    """Q = n F / (3.6 M): n electrons per formula unit of molar mass M (g/mol) -> mAh/g."""
    return n * FARADAY / (3.6 * molar_mass) if molar_mass > 0 else 0.0


def max_oxidation_table(overrides: dict | None = None) -> dict[str, float]:
    """`MAX_OXIDATION` updated with user overrides (symbol -> highest state reached by cation redox).

    Alkali, O and vacancies cannot be given a maximum (alkali is extracted, not oxidised, and O redox
    is the remainder by construction).
    """
    table = dict(MAX_OXIDATION)
    for sym, val in (overrides or {}).items():
        s = SPECIES[code_of(sym)]
        if s in ALKALI or s in ("O", "Va"):
            raise OxidationStateError(f"{s} cannot have a maximum oxidation state for cationic redox")
        try:
            table[s] = float(val)
        except (TypeError, ValueError):
            raise OxidationStateError(f"maximum oxidation state of {s} is not a number: {val!r}") from None
    return table


def format_state(v: float) -> str:
    """3.0 -> '3+', -2 -> '2-', 2.875 -> '2.875+'."""
    v = float(v)
    mag = f"{abs(v):.0f}" if abs(v - round(v)) < 1e-6 else f"{abs(v):.4g}"
    return f"{mag}{'+' if v >= 0 else '-'}"


def net_charge(counts: dict[str, int], table: dict[str, float]) -> float:
    """Total formal charge (e) of atoms `counts` with oxidation states `table`."""
    return float(sum(n * table[s] for s, n in counts.items()))


def neutralise_oxidation_states(model, oxidation: dict | None = None) -> tuple[dict[str, float], str]:
    """Reassign the redox-active species (Ni, Co, Mn, Fe) so that the model becomes neutral.

    Starts from `oxidation` (default the model's states). A negative cell is oxidised climbing
    `REDOX_LADDER` (LiNiO2: Ni2+ -> Ni3+), a positive one reduced descending it
    (Li1.2Ti0.4Mn0.4O2: Mn4+ -> Mn3+); states stay within `MIN_OXIDATION`..`MAX_OXIDATION` and may end
    fractional (an average, e.g. Ni 2.875+ in LiNi0.8Mn0.1Co0.1O2). Returns (new full oxidation table,
    one-line message of what changed). Raises OxidationStateError if no assignment within the limits
    is neutral.
    """
    table = oxidation_table(dict(model.oxidation if oxidation is None else oxidation))
    # only sites holding an element code take the table's state; ion codes (Ni3+) keep their charge
    counts = {sp: n for sp, n in model.species_counts().items() if sp in table}
    q = float(charge_by_code(table)[model.occupancy].sum())
    fu = model.formula_units()
    if abs(q) < _TOL * max(1, fu):
        return table, "the cell is neutral with the current oxidation states; nothing changed"
    from core.energy.valence import ladder_neutralise

    start = dict(table)
    states, residual = ladder_neutralise(q, counts, start)
    table.update(states)
    need = -residual  # electrons still to remove (> 0) or add (< 0)
    if abs(need) > 1e-6:
        active = [s for s in MAX_OXIDATION if counts.get(s)]
        what = (f"its redox-active species ({', '.join(active)}) are already at their "
                f"{'maximum' if need > 0 else 'minimum'} states" if active
                else "it has no redox-active element code (Ni, Co, Mn, Fe, V, Ti, Ru, Ir)")
        raise OxidationStateError(
            f"cannot make {model.formula()} neutral (net charge {q / fu:+.4g} e per MO2): {what}; "
            f"set the oxidation states by hand")
    changes = [f"{s} {format_state(start[s])} -> {format_state(table[s])}" for s in SPECIES
               if s in counts and abs(table[s] - start[s]) > 1e-9]
    msg = (f"net charge {q / fu:+.4g} e per MO2 with the formal states; neutralised by "
           + ", ".join(changes))
    return table, msg


def effective_oxidation(model) -> tuple[dict[str, float], str]:
    """The oxidation table capacity and charge models use: the model's own if the cell is neutral,
    else the neutralised one (message says what changed), else the model's own with a warning."""
    try:
        table, msg = neutralise_oxidation_states(model)
    except OxidationStateError as exc:
        return dict(model.oxidation), f"warning: {exc}"
    if table == model.oxidation:
        return table, ""
    return table, msg


def extractable_alkali_sites(model, alkali_layer_only: bool = False) -> np.ndarray:
    """Site indices holding alkali that a charge can extract: alkali-layer sites, plus TM-layer
    sites unless `alkali_layer_only` (int64 array)."""
    sc = model.supercell
    alk_codes = [code_of(s) for s in ALKALI]
    sites = sc.alkali_sites if alkali_layer_only else sc.cation_sites
    return sites[np.isin(model.occupancy[sites], alk_codes)]


def capacity(model, *, alkali_layer_only: bool = False, max_oxidation: dict | None = None,
             oxidation: dict | None = None) -> Capacity:
    """Theoretical capacity (mAh/g, mAh/cm3) and its cationic/anionic split (docs/science.md §8).

    alkali_layer_only: count only alkali in the alkali layer as extractable (TM-layer Li/Na stays).
    max_oxidation: overrides of the maximum cationic oxidation states (e.g. {"Ni": 3}).
    oxidation: oxidation states to use instead of `effective_oxidation(model)`.
    """
    if oxidation is None:
        table, note = effective_oxidation(model)
    else:
        table, note = oxidation_table(oxidation), ""
    maxox = max_oxidation_table(max_oxidation)
    counts = model.counts()
    # the per-site charges (ion occupants keep theirs), summed per species code
    qtab = charge_by_code(table)
    per_code = np.bincount(model.occupancy.astype(np.int64), minlength=len(qtab))
    elem_codes = {s: [c for c in np.flatnonzero(per_code).tolist() if ELEMENT[c] == s] for s in counts}
    fu = model.formula_units()
    if fu == 0:
        raise OxidationStateError("the model has no oxygen; capacity is per formula unit of 2 O")
    n_alk = len(extractable_alkali_sites(model, alkali_layer_only)) / fu
    redox = sum(float(per_code[c]) * max(0.0, maxox[s] - float(qtab[c]))
                for s in counts if s in maxox for c in elem_codes[s]) / fu
    n_cat = min(n_alk, redox)
    n_an = n_alk - n_cat
    M = model.molar_mass_per_MO2()
    q_tot, q_cat = mAh_per_g(n_alk, M), mAh_per_g(n_cat, M)
    mass_g = sum(ATOMIC_MASS[s] * n for s, n in counts.items()) / AVOGADRO
    density = mass_g / (model.supercell.volume * 1e-24)
    present = {s: _average(sum(float(per_code[c] * qtab[c]) for c in elem_codes[s]) / counts[s]) for s in counts}
    return Capacity(total=q_tot, cationic=q_cat, anionic=q_tot - q_cat, total_mAh_cm3=q_tot * density,
                    n_alkali=n_alk, n_cationic=n_cat, n_anionic=n_an, molar_mass=M, density=density,
                    oxidation=present, max_oxidation={s: maxox[s] for s in present if s in maxox},
                    note=note)


def _average(v: float) -> float:
    return float(round(v)) if abs(v - round(v)) < 1e-9 else v


def capacity_summary(model, **kwargs) -> dict:
    """JSON-ready capacity readout: capacity_mAh_g {total, cationic, anionic}, capacity_mAh_cm3,
    oxidation_states (species -> state used), oxidation_note (what neutralisation changed, or "").
    Keyword arguments go to `capacity`."""
    cap = capacity(model, **kwargs)
    return {
        "capacity_mAh_g": {"total": round(cap.total, 3), "cationic": round(cap.cationic, 3),
                           "anionic": round(cap.anionic, 3)},
        "capacity_mAh_cm3": round(cap.total_mAh_cm3, 2),
        "oxidation_states": {s: (int(v) if float(v).is_integer() else round(v, 6))
                             for s, v in cap.oxidation.items()},
        "oxidation_note": cap.note,
    }


__all__ = ["Capacity", "capacity", "capacity_summary", "neutralise_oxidation_states",
           "effective_oxidation", "extractable_alkali_sites", "max_oxidation_table", "mAh_per_g",
           "REDOX_LADDER", "FARADAY", "AVOGADRO", "format_state", "net_charge"]
