"""Oxidation states that make a model neutral: one redox ladder, integer charges placed by Ewald energy.

    res = assign_oxidation_states(model)                       # integer charges (default)
    res = assign_oxidation_states(model, valence="average")    # one fractional state per element
    res = assign_oxidation_states(model, overrides={"Ni": 3})  # Ni fixed at 3+, the rest follows
    res.note   # 'Ni: 28 Ni3+ + 4 Ni2+ to neutralise (placed by Ewald energy: ...)'

How (docs/science.md §12):

1. Ion codes already on sites (Ni3+ placed by the user) are fixed; element codes (``Ni``) are free and
   start at the model's table state, or at the `overrides` state, which is then fixed as well.
2. If the cell is charged, the free elements are oxidised climbing `REDOX_LADDER` (negative cell) or
   reduced descending it (positive cell), one couple at a time, within each element's states in the
   species table. The result is an average state per element (e.g. Ni 2.875+ in NMC811).
3. ``valence="average"`` keeps that average on the element code. ``valence="integer"`` turns every
   element whose state changed into ion codes: the two neighbouring integer states, in the numbers
   that give the same total charge (NMC811 on 40 TM sites: 28 Ni3+ + 4 Ni2+).
4. Where the two states go is chosen to lower the Ewald energy: a seeded random start, then simulated
   annealing of charge swaps between sites of that element only (the cation arrangement does not
   change), ending with a zero-temperature pass; every move is an exact O(1) `LiveEwald.swap_delta`.
5. If no assignment within the table's states is neutral, `OxidationStateError` names the nearest
   neutral option (the alkali content that would be neutral, or the override to drop) unless
   ``allow_charged=True``, which keeps the charged cell and says so in `ValenceResult.warning`.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np

from core.errors import OxidationStateError
from core.structure.species import (
    ALKALI,
    CODE,
    ELEMENT,
    IS_ION,
    MIN_OXIDATION,
    REDOX_LADDER,
    SPECIES,
    STATES,
    code_of,
    ion_label,
    oxidation_table,
    split_label,
)

VALENCE_MODES = ("integer", "average")
_TOL = 1e-9


@dataclass
class ValenceResult:
    """What `assign_oxidation_states` did.

    note: one line for readouts and `info` ('' when nothing changed); states: element -> average state
    of its free sites after neutralisation; changed: elements whose state changed; net_charge (e) after;
    placement: {element: {"start_eV", "end_eV", "attempts"}} of the Ewald placement; warning: set when
    the cell was kept charged on purpose.
    """

    note: str = ""
    states: dict = field(default_factory=dict)
    changed: list = field(default_factory=list)
    net_charge: float = 0.0
    placement: dict = field(default_factory=dict)
    warning: str = ""

    def to_dict(self) -> dict:
        return {"note": self.note, "net_charge": self.net_charge, "warning": self.warning,
                "placement": self.placement}


def parse_oxidation(spec) -> dict[str, float]:
    """'Ni:3,Mn:4' (or a dict) -> {'Ni': 3.0, 'Mn': 4.0}; fractions allowed ('Ni:5/2').

    Unknown elements and states outside the species table are named in the error (a fractional state
    must lie between the element's lowest and highest)."""
    if spec is None or spec == "":
        return {}
    items = spec.items() if isinstance(spec, dict) else (
        p.partition(":")[::2] for p in str(spec).replace(";", ",").split(",") if p.strip())
    out: dict[str, float] = {}
    for sym, val in items:
        el, st = split_label(str(sym))
        code = code_of(el)
        el = ELEMENT[code]
        if el in ("Va", "O"):
            raise OxidationStateError(f"{el} cannot be given an oxidation state here")
        try:
            v = float(Fraction(str(val).strip())) if str(val).strip() else (float(st) if st else None)
        except (ValueError, ZeroDivisionError):
            v = None
        if v is None:
            raise OxidationStateError(f"oxidation state of {el} is not a number: {val!r}; write e.g. {el}:3")
        states = STATES[el][1]
        if abs(v - round(v)) < _TOL and int(round(v)) not in states:
            raise OxidationStateError(
                f"{ion_label(el, int(round(v)))} is not a state of {el} in the species table; {el} takes "
                + ", ".join(ion_label(el, s) for s in states))
        if not min(states) - _TOL <= v <= max(states) + _TOL:
            raise OxidationStateError(f"{el} {v:g}+ lies outside {el}'s states "
                                      f"{min(states)}+..{max(states)}+")
        out[el] = v
    return out


def _fmt(v: float) -> str:
    mag = f"{abs(v):.0f}" if abs(v - round(v)) < 1e-6 else f"{abs(v):.4g}"
    return f"{mag}{'+' if v >= 0 else '-'}"


def ladder_neutralise(charge: float, free: dict[str, int], start: dict[str, float]) -> tuple[dict, float]:
    """Walk the redox ladder to cancel `charge` (e, per cell): a negative cell climbs `REDOX_LADDER`, a
    positive one descends it; `free` counts the sites of each element that may change, `start` their
    states. Returns (average states of the free elements, residual charge e); one ladder for the whole
    code (capacity, valence assignment, hints)."""
    states = dict(start)
    need = -charge  # electrons to remove (> 0) or add (< 0), per cell
    ladder = REDOX_LADDER if need > 0 else tuple(reversed(REDOX_LADDER))
    for el, lo, hi in ladder:
        n = free.get(el, 0)
        if n == 0 or abs(need) < _TOL:
            continue
        ox = states[el]
        if need > 0 and lo - _TOL <= ox < hi - _TOL:
            step = min(hi - ox, need / n)
        elif need < 0 and lo + _TOL < ox <= hi + _TOL:
            step = -min(ox - lo, -need / n)
        else:
            continue
        new = ox + step
        states[el] = float(round(new)) if abs(new - round(new)) < 1e-9 else new
        need -= step * n
    return states, -need


def assign_oxidation_states(model, *, valence: str = "integer", overrides=None, allow_charged: bool = False,
                            seed: int | None = 0, place: bool = True, sweeps: int = 60) -> ValenceResult:
    """Make `model` neutral in place (see the module docstring); returns a `ValenceResult`.

    valence: "integer" (ion codes, placed by Ewald energy) or "average" (fractional state on the element
    code). overrides: {element: state} or 'Ni:3,Mn:4', fixed during neutralisation. place=False keeps
    the seeded random placement of integer charges (no Ewald annealing); sweeps: annealing attempts per
    site of each mixed element. The change is one edit plus a table update (listeners are told).
    """
    if valence not in VALENCE_MODES:
        raise OxidationStateError(f"unknown valence form {valence!r}; choose integer or average")
    over = parse_oxidation(overrides)
    occ = model.occupancy
    table = oxidation_table(model.oxidation)
    fu = max(model.formula_units(), 1)
    # free sites: element codes of multivalent elements; everything else is fixed
    present = {ELEMENT[c] for c in np.unique(occ).tolist()} - {"Va"}
    for el in over:
        if el not in present:
            raise OxidationStateError(f"--oxidation names {el}, which the model does not contain")
    free_sites = {el: np.flatnonzero(occ == CODE[el]) for el in sorted(present)
                  if el != "O" and len(STATES[el][1]) > 1}
    free_sites = {el: s for el, s in free_sites.items() if len(s)}
    start = {el: float(over.get(el, table[el])) for el in free_sites}
    for el, v in over.items():
        table[el] = v  # single-state elements too (their only state; parse_oxidation checked it)
    q_fixed = float(_charges(model, table).sum())
    ladder_free = {el: len(s) for el, s in free_sites.items() if el not in over}
    states, residual = ladder_neutralise(q_fixed, ladder_free, start)
    res = ValenceResult()
    if abs(residual) > 1e-6:
        msg = _nearest_neutral(model, residual, over, free_sites, start, table)
        if not allow_charged:
            raise OxidationStateError(msg)
        res.warning = f"kept charged on purpose (--allow-charged): {msg.split('; nearest')[0]}"
    for el, v in over.items():
        states[el] = v
    res.states = states
    flips, notes = [], []
    new_table = dict(table)
    mixed: dict[str, tuple[np.ndarray, int, int]] = {}
    rng = np.random.default_rng(seed)
    for el, sites in free_sites.items():
        x = states[el]
        old = float(model.oxidation[el])
        n = len(sites)
        if valence == "average" or len(STATES[el][1]) == 1:
            new_table[el] = x
            if abs(x - old) > _TOL:
                res.changed.append(el)
                notes.append(f"{el}: {n} {el}{_fmt(x)}" + (" (average)" if abs(x - round(x)) > 1e-6 else ""))
            continue
        lo = int(np.floor(x + 1e-9))
        n_hi = (x - lo) * n
        if abs(n_hi - round(n_hi)) > 1e-6 or lo not in STATES[el][1]:
            new_table[el] = x  # no integer split of this many sites: keep the average (said in the note)
            res.changed.append(el)
            notes.append(f"{el}: {n} {el}{_fmt(x)} (average: no integer split on {n} sites)")
            continue
        n_hi = int(round(n_hi))
        if n_hi == 0 and abs(x - old) < _TOL and el not in over:
            continue  # unchanged element code
        res.changed.append(el)
        if n_hi == 0 or n_hi == n:
            v = lo if n_hi == 0 else lo + 1
            flips += [(int(s), CODE[ion_label(el, v)]) for s in sites]
            notes.append(f"{el}: {n} {ion_label(el, v)}")
            continue
        hi = lo + 1
        pick = rng.permutation(n)
        codes = np.full(n, CODE[ion_label(el, lo)], dtype=np.int64)
        codes[pick[:n_hi]] = CODE[ion_label(el, hi)]
        flips += list(zip(sites.tolist(), codes.tolist()))
        mixed[el] = (sites, lo, hi)
        notes.append(f"{el}: {n_hi} {ion_label(el, hi)} + {n - n_hi} {ion_label(el, lo)}")
    model.oxidation = oxidation_table(new_table)
    if flips:
        model.apply(flips)
    else:
        model._notify(np.arange(model.supercell.n_sites))
    if mixed and place:
        res.placement = place_by_ewald(model, mixed, seed=seed, sweeps=sweeps)
    res.net_charge = float(model.charges().sum())
    brief = ""      # the note without the counts, which a readout already shows beside it
    if notes:
        how = "to neutralise" if abs(q_fixed) > 1e-6 else "as set"
        res.note = "; ".join(notes) + f" {how}"
        brief = f"{', '.join(res.changed)} states {'chosen ' + how if how != 'as set' else how}"
        if res.placement:
            p = ", ".join(f"{el} {d['start_eV'] / fu:.4f} -> {d['end_eV'] / fu:.4f} eV/MO2"
                          for el, d in res.placement.items())
            res.note += f" (integer charges placed by Ewald annealing: {p})"
            gain = sum(d["end_eV"] - d["start_eV"] for d in res.placement.values()) / fu
            brief += f", placed by Ewald annealing ({gain:+.3f} eV/MO2)"
    if res.warning:
        res.note = (res.note + "; " if res.note else "") + res.warning
        brief = (brief + "; " if brief else "") + res.warning
    model.metadata["valence"] = {"form": valence, "note": res.note, "brief": brief,
                                 "overrides": {k: v for k, v in over.items()}}
    return res


def _charges(model, table) -> np.ndarray:
    from core.structure.species import charge_by_code

    return charge_by_code(oxidation_table(table))[model.occupancy]


def _nearest_neutral(model, residual, over, free_sites, start, table) -> str:
    """One line: why the cell cannot be neutral and the nearest neutral option."""
    fu = max(model.formula_units(), 1)
    formula = model.formula()
    parts = []
    # 1. an override that blocks neutrality
    blocking = [el for el in over if el in free_sites]
    if blocking:
        free_all = {el: len(s) for el, s in free_sites.items()}
        st = {el: float(table[el]) if el not in over else over[el] for el in free_sites}
        q = float(_charges(model, {**table, **{el: oxidation_table(model.oxidation)[el] for el in over
                                               if el in free_sites}}).sum())
        _s, r2 = ladder_neutralise(q, free_all, {**st, **{el: float(oxidation_table(model.oxidation)[el])
                                                           for el in blocking}})
        if abs(r2) < 1e-6:
            parts.append("drop the override of " + ", ".join(blocking))
    # 2. the alkali-layer content that would be neutral with the states at their limit
    sc = model.supercell
    alk_sites = sc.alkali_sites
    alk_codes = [CODE[a] for a in ALKALI if a in CODE]
    held = model.occupancy[alk_sites]
    n_alk = int(np.isin(held, alk_codes).sum())
    n_target = n_alk - residual  # each alkali ion carries +1
    layer_sites = len(model.default_alkali_sites())
    host_alk = sc.host.alkali
    if abs(n_target - round(n_target)) < 1e-6 and 0 <= round(n_target) <= layer_sites:
        frac = Fraction(int(round(n_target)), layer_sites)
        parts.append(f"--alkali {host_alk}:{frac}" if frac != 1 else f"--alkali {host_alk}")
    limits = []
    for el in sorted({ELEMENT[c] for c in np.unique(model.occupancy).tolist()} - {"Va", "O"}):
        sts = STATES[el][1]
        if el in over:
            limits.append(f"{el} {_fmt(over[el])} (set)")
        elif len(sts) == 1:
            limits.append(f"{el} {_fmt(sts[0])} (only state)")
        elif el in free_sites:
            limits.append(f"{el} {_fmt(max(sts) if residual < 0 else MIN_OXIDATION.get(el, min(sts)))}")
    hint = " or ".join(parts) if parts else "change the composition"
    return (f"cannot make {formula} neutral with the species table's states: net charge "
            f"{residual / fu:+.4g} e per MO2 with {', '.join(limits)}; nearest neutral option: {hint} "
            f"(or keep it charged with --allow-charged)")


def place_by_ewald(model, mixed: dict, *, seed: int | None = 0, sweeps: int = 60) -> dict:
    """Anneal the arrangement of two integer states on the sites of each element in `mixed`
    ({element: (sites, lo, hi)}) to lower the Ewald energy; swaps only between those sites.

    Schedule: kT from the median |dE| of 64 random swaps down to 1/1000 of it (geometric), then a
    zero-temperature tail of the same length; `sweeps` attempts per site in all. Applies the result to
    the model as one edit. Returns {element: {start_eV, end_eV, attempts, accepted}}."""
    from core.energy.live import LiveEwald

    live = LiveEwald.from_model(model)
    rng = np.random.default_rng(seed)
    out = {}
    occ = model.occupancy.copy()
    for el, (sites, lo, hi) in mixed.items():
        start = live.energy
        n_att = max(int(sweeps) * len(sites), 200)
        q = live.q
        hi_sites = [int(s) for s in sites if abs(q[s] - hi) < 1e-9]
        lo_sites = [int(s) for s in sites if abs(q[s] - lo) < 1e-9]
        if not hi_sites or not lo_sites:
            continue
        sample = [abs(live.swap_delta(hi_sites[rng.integers(len(hi_sites))],
                                      lo_sites[rng.integers(len(lo_sites))])) for _ in range(64)]
        t0 = float(np.median(sample)) or 1e-3
        n_hot = n_att // 2
        temps = np.concatenate([t0 * np.geomspace(1.0, 1e-3, n_hot), np.zeros(n_att - n_hot)])
        ia = rng.integers(len(hi_sites), size=n_att)
        ib = rng.integers(len(lo_sites), size=n_att)
        u = rng.random(n_att)
        accepted = 0
        for k in range(n_att):
            a, b = ia[k], ib[k]
            i, j = hi_sites[a], lo_sites[b]
            d = live.swap_delta(i, j)
            t = temps[k]
            if d < 0 or (t > 0 and u[k] < np.exp(-d / t)):
                live.apply_swap(i, j)
                hi_sites[a], lo_sites[b] = j, i
                accepted += 1
        code_hi, code_lo = CODE[ion_label(el, hi)], CODE[ion_label(el, lo)]
        occ[hi_sites] = code_hi
        occ[lo_sites] = code_lo
        out[el] = {"start_eV": float(start), "end_eV": float(live.energy), "attempts": int(n_att),
                   "accepted": accepted}
    model.set_occupancy(occ)
    return out


def neutral_by_default(model, *, valence: str = "integer", overrides=None, allow_charged: bool = False,
                       seed: int | None = 0, strict: bool = True) -> str:
    """What `build`, `import` and New model do: `assign_oxidation_states` and return its note ('' if the
    model was already neutral with nothing to change). strict=False (opening a file that was not asked
    to be neutralised) keeps a model that cannot be made neutral as it is and returns the warning."""
    try:
        res = assign_oxidation_states(model, valence=valence, overrides=overrides, allow_charged=allow_charged,
                                      seed=seed)
    except OxidationStateError as exc:
        if strict:
            raise
        msg = f"kept charged: {exc}"
        model.metadata["valence"] = {"form": valence, "note": msg, "overrides": {}}
        return msg
    return res.note


def charge_balance(model) -> dict:
    """Readout of the charge balance: net_charge (e, cell), per_MO2, neutral (bool), states (element ->
    counts per state + average, from the per-site charges), how (`how_charged`: the current states and
    the last neutralisation), history (`charge_history`: that last neutralisation alone)."""
    q = float(model.charges().sum())
    fu = max(model.formula_units(), 1)
    states = model.oxidation_states()
    return {"net_charge": round(q, 9) + 0.0, "per_MO2": round(q / fu, 9) + 0.0, "neutral": abs(q) < 1e-6,
            "states": states, "how": how_charged(model, q, states), "history": charge_history(model)}


def charge_history(model) -> str:
    """How the current states came about, from the model's metadata["valence"]: 'last compensating edit:
    3 Ni2+ -> Ni3+' (an edit's automatic compensation, set with the edit and undone with it), else
    'last neutralisation: ...' (built, imported, Neutralise); '' when neither was recorded."""
    meta = model.metadata.get("valence")
    meta = meta if isinstance(meta, dict) else {}   # project metadata is kept verbatim: anything may be there
    if meta.get("last_edit"):
        return f"last compensating edit: {meta['last_edit']}"
    note = meta.get("brief") or meta.get("note")     # files saved before `brief` existed have the note
    return f"last neutralisation: {note}" if note else ""


def how_charged(model, q: float | None = None, states: dict | None = None) -> str:
    """One line on the charges of the current state: 'neutral: 7 Ni3+, 1 Ni2+ (last compensating edit: 3 Ni2+ -> Ni3+)'.

    Lists the current counts of every element whose sites carry explicit states (ion codes, as
    neutralisation places them), then in brackets the last neutralisation recorded in the model's
    metadata["valence"]: an edit's automatic compensation ("last_edit", set with the edit and undone
    with it), else the note of the model's last full neutralisation (built, imported, Neutralise).
    '' when no state was ever assigned (formal states of the species table)."""
    if q is None:
        q = float(model.charges().sum())
    if states is None:
        states = model.oxidation_states()
    last = charge_history(model)
    ions = {ELEMENT[CODE[s]] for s in model.species_counts() if IS_ION[CODE[s]]}
    counts = "; ".join(", ".join(f"{n} {lab}" for lab, n in states[el]["counts"].items())
                       for el in states if el in ions and el != "O")
    if not counts and not last:
        return ""
    head = "neutral" if abs(q) < 1e-6 else f"net charge {q:+g} e"
    return f"{head}: " + (f"{counts} ({last})" if counts and last else counts or last)


def charge_arrangement(model) -> dict:
    """How mixed integer states are arranged: for every element present with more than one integer
    state on its sites (Ni2+ and Ni3+), the mean number of first-shell in-plane neighbours of each state
    by neighbour state label ({'Ni2+': {'Mn4+': 1.5, 'Ni3+': 4.0, ...}, ...}), over TM-layer sites."""
    sc = model.supercell
    q = model.charges()
    occ = model.occupancy
    # one label per distinct (species code, charge): O(N) in NumPy, a handful of Python calls
    pairs, inverse = np.unique(np.stack([occ.astype(float), q]), axis=1, return_inverse=True)
    names = np.array([_label(ELEMENT[int(c)], v) if int(c) != 0 else "Va" for c, v in pairs.T], dtype=object)
    labels = names[np.ravel(inverse)]
    tm = sc.tm_sites
    nn = sc.tm_nn[tm]
    out = {}
    for el in sorted({ELEMENT[c] for c in np.unique(occ[tm]).tolist()} - {"Va"}):
        sites = tm[np.isin(occ[tm], [c for c, e in enumerate(ELEMENT) if e == el])]
        states = sorted(set(labels[sites].tolist()))
        if len(states) < 2:
            continue
        for st in states:
            rows = nn[np.isin(tm, sites[labels[sites] == st])]
            nb = labels[rows[rows >= 0]]
            uniq, cnt = np.unique(nb.astype(str), return_counts=True)
            out[st] = {u: round(float(c) / len(rows), 4) for u, c in zip(uniq.tolist(), cnt.tolist())}
    return out


def _label(el: str, v: float) -> str:
    mag = f"{abs(v):.0f}" if abs(v - round(v)) < 1e-6 else f"{abs(v):.4g}"
    return f"{el}{'' if mag == '1' else mag}{'+' if v >= 0 else '-'}"


def neutral_hint(model, action: str = "") -> str:
    """'' for a neutral model, else one line naming what would neutralise it (or why nothing can).

    Cheap enough for every click (O(N) once, then per species code): the ladder walk of
    `assign_oxidation_states` on the element-code counts, without placing anything. `action`: how
    to do it in the caller's words, appended in brackets."""
    occ = model.occupancy
    per_code = np.bincount(occ.astype(np.int64), minlength=len(SPECIES))
    from core.structure.species import charge_by_code

    qtab = charge_by_code(model.oxidation)
    q = float(per_code @ qtab)
    if abs(q) < 1e-6:
        return ""
    free = {el: int(per_code[CODE[el]]) for el in STATES
            if el != "O" and len(STATES[el][1]) > 1 and per_code[CODE[el]]}
    start = {el: float(model.oxidation[el]) for el in free}
    states, residual = ladder_neutralise(q, free, start)
    if abs(residual) > 1e-6:
        trial = model.copy()
        trial._listeners = []
        try:
            assign_oxidation_states(trial, place=False)
        except OxidationStateError as exc:
            return str(exc)
    parts = []
    for el, n in free.items():
        x = states[el]
        if abs(x - start[el]) < _TOL:
            continue
        lo = int(np.floor(x + 1e-9))
        n_hi = int(round((x - lo) * n))
        parts.append(f"{el}: " + (f"{n_hi} {ion_label(el, lo + 1)} + " if n_hi else "") +
                     (f"{n - n_hi} {ion_label(el, lo)}" if n - n_hi else ""))
    return f"net charge {q:+g} e; neutral with " + "; ".join(parts) + (f" ({action})" if action else "")


def compensating_flips(model, flips, *, live=None, target: float = 0.0) -> list[tuple[int, int]]:
    """Extra flips that bring the net charge of `model` after the edit `flips` back to `target` (e).

    Walks `REDOX_LADDER` one couple at a time: climbing it when the edit left the cell negative
    (oxidise: Mn3+ -> Mn4+ before Ni2+ -> Ni3+ before Ni3+ -> Ni4+ ...), descending it when the edit left
    it positive. Every changed site moves one state (one unit of charge), so an imbalance of n e
    changes n sites, the fewest possible with one-step changes; a site moves two states only when the
    lower couples have no sites left. Within a couple the site is chosen greedily: the one whose change
    raises the Ewald energy least given the edit and the changes already chosen,
    dE_i = dq (phi_i + sum_j M_ij dq_j) + dq^2 M_ii / 2 over the edited and chosen sites j (exact for
    each single step; the sequence is greedy, not a global optimum).

    Never touches the edited sites. Only sites already holding a multivalent element at an integer
    state change (ion codes, or the element code when the table's state is an integer: it becomes an
    ion code, e.g. Ni -> Ni3+), so no element is introduced. Average-valence models (an element code
    with a fractional table state) are left alone: their sites are not candidates, and a fractional
    imbalance cannot be compensated by integer steps.

    Returns [] when the cell is already at `target` after the edit, or when the table's states cannot
    reach it (then `neutral_hint` says what would). `live`: a `LiveEwald` tracking the model's charges
    before the edit (the GUI's; built here when None or out of step).
    """
    from core.energy.live import LiveEwald
    from core.structure.model import as_flips
    from core.structure.species import charge_by_code

    sites_e, codes_e = as_flips(flips)
    if len(sites_e):
        _, last = np.unique(sites_e[::-1], return_index=True)
        keep = len(sites_e) - 1 - last
        sites_e, codes_e = sites_e[keep].astype(np.int64), codes_e[keep].astype(np.int64)
    qtab = charge_by_code(model.oxidation)
    occ = model.occupancy.astype(np.int64)
    q_before = qtab[occ]
    occ_after = occ.copy()
    occ_after[sites_e] = codes_e
    q_after = qtab[occ_after]
    imbalance = float(q_after.sum()) - float(target)
    if abs(imbalance) < 1e-6 or abs(imbalance - round(imbalance)) > 1e-6:
        return []
    need = -int(round(imbalance))          # > 0: raise states by `need` units; < 0: lower them
    step = 1 if need > 0 else -1
    edited = np.zeros(len(occ), dtype=bool)
    edited[sites_e] = True
    state = q_after.copy()
    multi = np.array([el not in ("Va", "O") and len(STATES.get(el, (0, (0,)))[1]) > 1 for el in ELEMENT])
    integer = np.abs(state - np.round(state)) < 1e-9
    movable = multi[occ_after] & integer & ~edited
    element = np.array(ELEMENT, dtype=object)[occ_after]
    ladder = REDOX_LADDER if need > 0 else tuple(reversed(REDOX_LADDER))
    # feasibility first (cheap): enough one-step moves along the ladder?
    plan: list[tuple[str, float, float]] = []
    left = abs(need)
    trial = state.copy()
    for el, lo, hi in ladder:
        if left == 0:
            break
        frm = lo if step > 0 else hi
        cand = np.flatnonzero(movable & (element == el) & (np.abs(trial - frm) < 1e-9))
        take = min(left, len(cand))
        if take:
            plan.append((el, lo, hi))
            trial[cand[:take]] += step * (hi - lo)
            left -= take
    if left:
        return []
    if live is None or len(live.q) != len(occ) or not np.allclose(live.q, q_before, atol=1e-9):
        live = LiveEwald.from_model(model)
    eng = live.engine
    phi = live.phi
    # accumulated charge changes: the edit, then every chosen step
    acc_sites = [int(s) for s in sites_e if q_after[s] != q_before[s]]
    acc_dq = [float(q_after[s] - q_before[s]) for s in acc_sites]
    chosen: dict[int, int] = {}
    left = abs(need)
    for el, lo, hi in plan:
        if left == 0:
            break
        frm, to = (lo, hi) if step > 0 else (hi, lo)
        cand = np.flatnonzero(movable & (element == el) & (np.abs(state - frm) < 1e-9))
        if not len(cand):
            continue
        dq = float(to - frm)
        base = phi[cand].copy()
        if acc_sites:
            base += eng.submatrix(cand, np.array(acc_sites)) @ np.array(acc_dq)
        diag = eng.self_term[eng.site_basis[cand]]
        alive = np.ones(len(cand), dtype=bool)
        code_to = CODE[ion_label(el, int(to))]
        while left and alive.any():
            cost = np.where(alive, dq * base + 0.5 * dq * dq * diag, np.inf)
            k = int(np.argmin(cost))
            s = int(cand[k])
            alive[k] = False
            base += dq * eng.submatrix(cand, np.array([s]))[:, 0]
            acc_sites.append(s)
            acc_dq.append(dq)
            state[s] = to
            chosen[s] = code_to
            left -= 1
    return sorted(chosen.items())


def compensation_note(model, flips, extra) -> str:
    """'3 Ni2+ -> Ni3+' for compensating flips `extra` of the edit `flips` (model before both)."""
    from core.structure.species import charge_by_code

    qtab = charge_by_code(model.oxidation)
    occ = model.occupancy
    counts: dict[tuple[str, str], int] = {}
    for s, c in extra:
        el = ELEMENT[int(occ[s])]
        old = SPECIES[int(occ[s])] if IS_ION[occ[s]] else ion_label(el, int(round(float(qtab[occ[s]]))))
        key = (old, SPECIES[int(c)])
        counts[key] = counts.get(key, 0) + 1
    return ", ".join(f"{n} {a} -> {b}" for (a, b), n in sorted(counts.items()))


__all__ = ["assign_oxidation_states", "neutral_by_default", "charge_arrangement", "parse_oxidation",
           "place_by_ewald", "charge_balance", "how_charged", "neutral_hint", "compensating_flips", "compensation_note",
           "ValenceResult", "VALENCE_MODES", "IS_ION", "SPECIES"]
