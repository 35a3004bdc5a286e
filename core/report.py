"""The one summary of a model, from scratch or from the editor's live analysis.

    info(model)            everything computed here: `layerstudio info [--json]`, scripts, tests
    info(live=live)        the same dict from a core.analysis.live.LiveAnalysis: its incremental Ewald
                           energy (per-site charges of a state of charge included), O environments,
                           cached capacity, and the ordering / space group it holds in `live.results`
    readout_numbers(d)     the numbers the editor's readouts show (and `gui.Studio.state()` reports)

Both paths run the same section functions (`SECTIONS`) on a `_Source` that says where each input
comes from, so the command line, the readouts and `Studio.state()` cannot disagree. Each section takes
the source and returns a dict merged into the result; a section that fails with a LayerStudioError
records ``{"<name>": {"error": message}}`` instead of aborting the report. From a live analysis a slow
answer not computed yet (ordering, space group) or an Ewald engine still being built gives None for
its values (the readouts say "computing…"); nothing slow is computed on the caller's thread.

Units: lattice lengths Angstrom, volume Angstrom^3, charges in e, energies eV.
"""
from __future__ import annotations

import math
from collections.abc import Callable

from core.errors import LayerStudioError
from core.structure.symmetry import DEFAULT_SYMPREC


class _Source:
    """The inputs of the summary of one state: from a LiveAnalysis `live` (what it holds, nothing slow
    computed) or from the model alone (everything computed)."""

    def __init__(self, model, live, symprec: float):
        self.model, self.live, self.symprec = model, live, symprec

    def energy_eV(self) -> float | None:
        live = self.live
        if live is None:
            from core.energy.ewald import charges_of, get_engine
            return float(get_engine(self.model.supercell).energy(charges_of(self.model)))
        if live.ewald is None and live.results.get("engine_error"):
            raise LayerStudioError(live.results["engine_error"])
        return live.energy_eV

    def oxygen(self):
        if self.live is not None:
            return self.live.oxygen
        from core.analysis.oxygen import OxygenEnvironments
        return OxygenEnvironments(self.model)

    def capacity(self) -> dict:
        if self.live is None:
            from core.analysis.capacity import capacity_summary
            return capacity_summary(self.model)
        cap = self.live.capacity()
        if "error" in cap:
            raise LayerStudioError(cap["error"])
        return cap

    def slow(self, name: str, compute: Callable):
        """The answer `name` ("ordering", "space_group", "framework_space_group"): computed from scratch,
        or what the live analysis holds (None: not yet; an error text raises)."""
        if self.live is None:
            return compute()
        r = self.live.results.get(name)
        if isinstance(r, str):
            raise LayerStudioError(r)
        return r


def _section_basics(src: _Source) -> dict:
    from core.io.pmg import composition_counts

    model = src.model
    comp = composition_counts(model)
    return {
        "formula": model.formula(),
        "layer_formula": model.layer_formula(),
        "composition": comp,
        "n_atoms": int(sum(comp.values())),
        "formula_units_MO2": model.formula_units(),
        "molar_mass_g_mol_per_MO2": round(model.molar_mass_per_MO2(), 4),
    }


def _section_cell(src: _Source) -> dict:
    model = src.model
    sc = model.supercell
    h = sc.host
    md = model.metadata
    default_src = "imported file" if md.get("imported_from") else "host default or project file"
    where = dict.fromkeys(("a", "c", "o_height"), default_src)
    where.update(md.get("lattice_source") or {})
    return {
        "stacking": h.stacking,
        "host": {"alkali": h.alkali, "a": h.a, "c": h.c, "o_height": h.o_height, "source": where},
        "supercell": {"matrix": sc.matrix.tolist(), "layers": int(sc.layers), "n_sites": int(sc.n_sites),
                      "volume_A3": round(sc.volume, 4)},
    }


def _section_space_group(src: _Source) -> dict:
    from core.structure.symmetry import space_group  # refuses cells above symmetry.MAX_ATOMS, with the reason

    model = src.model

    def framework():
        # The TM + O framework's group (alkali layers emptied) is what reference tables give for P-type
        # honeycombs, whose partially filled Na layer usually breaks the symmetry of the whole cell.
        fw = model.copy()
        fw.occupancy[model.supercell.alkali_sites] = 0
        return space_group(fw, src.symprec)

    sg = src.slow("space_group", lambda: space_group(model, src.symprec))
    out = {"space_group": None if sg is None else sg.to_dict()}
    fw = src.slow("framework_space_group", framework)
    if fw is not None:
        out["framework_space_group"] = fw.to_dict()
    return out


def _section_charge(src: _Source) -> dict:
    from core.energy.valence import charge_balance, neutral_hint

    model = src.model
    b = charge_balance(model)
    present = model.counts()
    out = {"net_charge": b["net_charge"], "oxidation": {s: v for s, v in model.oxidation.items() if s in present},
           "oxidation_states": b["states"], "oxidation_note": b["how"], "oxidation_history": b["history"]}
    if not b["neutral"]:
        out["neutral_hint"] = neutral_hint(model)
    return out


def _section_arrangement(src: _Source) -> dict:
    from core.energy.valence import charge_arrangement

    arrangement = charge_arrangement(src.model)  # O(N) NumPy: tens of ms on 48x48x3, not for every click
    return {"charge_arrangement": arrangement} if arrangement else {}


def _section_ewald(src: _Source) -> dict:
    # electrostatics only (formal point charges), charged-cell background included
    e = src.energy_eV()
    model = src.model
    n_atoms = int((model.occupancy != 0).sum())
    fu = model.formula_units()
    if e is None:
        return dict.fromkeys(("ewald_eV", "ewald_eV_per_MO2", "ewald_eV_per_atom"))
    return {"ewald_eV": e, "ewald_eV_per_MO2": e / fu if fu else math.nan,
            "ewald_eV_per_atom": e / n_atoms if n_atoms else math.nan}


def _section_capacity(src: _Source) -> dict:
    s = src.capacity()  # from the same per-site charges as `oxidation_states` (charge block)
    return {k: s[k] for k in ("capacity_mAh_g", "capacity_mAh_cm3")}


def _section_oxygen(src: _Source) -> dict:
    s = src.oxygen().summary()
    return {"oxygen": {k: s[k] for k in ("li_o_li_histogram", "li_o_li_mean_per_O", "a_o_a_mean_per_O",
                                         "tm_to_O_ratio")}}


def _section_ordering(src: _Source) -> dict:
    from core.orderings.recognition import recognise

    r = src.slow("ordering", lambda: recognise(src.model))
    if r is None:
        return {"ordering": None}
    # superlattice {matrix (a1, a2 units), name (Wood), index, hnf}: None values when nothing periodic
    # fits, then warren_cowley (first three shells) describes the short-range order instead
    out = {k: r[k] for k in ("label", "confidence", "superlattice", "motif", "per_layer",
                             "isolated_minority_fraction", "minority", "majority")}
    if r["superlattice"]["name"] is None:
        out["warren_cowley"] = r["warren_cowley"]
    return {"ordering": out}


#: (name, function) in output order. Add new analyses here (one short block each).
SECTIONS: list[tuple[str, Callable[[_Source], dict]]] = [
    ("basics", _section_basics),
    ("cell", _section_cell),
    ("space_group", _section_space_group),
    ("charge", _section_charge),
    ("arrangement", _section_arrangement),
    ("ewald", _section_ewald),
    ("capacity", _section_capacity),
    ("oxygen", _section_oxygen),
    ("ordering", _section_ordering),
]


def info(model=None, *, live=None, symprec: float = DEFAULT_SYMPREC, sections: list[str] | None = None) -> dict:
    """Summary dict of a model (from scratch), or of the state a LiveAnalysis `live` follows.

    Keys: formula (reduced, pymatgen-style, e.g. "Li2MnO3"), layer_formula ("Li[Li1/3Mn2/3]O2"),
    composition (element -> atoms in the cell), n_atoms, formula_units_MO2, molar_mass_g_mol_per_MO2,
    stacking, host, supercell {matrix, layers, n_sites, volume_A3}, space_group {symbol, number,
    symprec}, framework_space_group, net_charge (e), oxidation, oxidation_states, oxidation_note,
    oxidation_history (the last neutralisation or compensating edit alone), neutral_hint (charged
    cells), charge_arrangement, ewald_eV / ewald_eV_per_MO2 / ewald_eV_per_atom, capacity_mAh_g
    {total, cationic, anionic}, capacity_mAh_cm3, oxygen {...}, ordering {...}.
    A failed block is {"<name>": {"error": message}}; from `live`, values still being computed are None.
    sections: restrict to these block names (default all).
    """
    if live is not None:
        model = live.model
    if model is None:
        raise TypeError("info() needs a model or a live analysis")
    src = _Source(model, live, symprec)
    out: dict = {}
    for name, fn in SECTIONS:
        if sections is not None and name not in sections:
            continue
        try:
            out.update(fn(src))
        except LayerStudioError as exc:
            out[name] = {"error": str(exc)}
    return out


def readout_numbers(d: dict) -> dict:
    """The numbers the editor's readouts show, from an `info` dict: formula, layer_formula,
    ewald_eV_per_MO2, net_charge (e), capacity_mAh_g {total, cationic, anionic}, ordering_label,
    ordering_confidence, superlattice (Wood name), space_group {symbol, number},
    oxygen {histogram, li_o_li_mean, a_o_a_mean}. None where a value is undefined, failed or still
    being computed."""
    cap = d.get("capacity_mAh_g")
    o = d.get("ordering") if isinstance(d.get("ordering"), dict) and "label" in d["ordering"] else None
    sg = d.get("space_group")
    ox = d.get("oxygen") or {}
    return {
        "formula": d.get("formula"),
        "layer_formula": d.get("layer_formula"),
        "ewald_eV_per_MO2": d.get("ewald_eV_per_MO2"),
        "net_charge": d.get("net_charge"),
        "capacity_mAh_g": None if cap is None else {k: float(cap[k]) for k in ("total", "cationic", "anionic")},
        "ordering_label": None if o is None else str(o["label"]),
        "ordering_confidence": None if o is None or o.get("confidence") is None else float(o["confidence"]),
        "superlattice": None if o is None else (o.get("superlattice") or {}).get("name"),
        "space_group": None if not sg or "error" in sg else {"symbol": sg["symbol"], "number": int(sg["number"])},
        "oxygen": None if "li_o_li_histogram" not in ox else {
            "histogram": [int(v) for v in ox["li_o_li_histogram"]],
            "li_o_li_mean": float(ox["li_o_li_mean_per_O"]), "a_o_a_mean": float(ox["a_o_a_mean_per_O"])},
    }


# ---------------------------------------------------------------------------------------------- texts
def ordering_phrase(o: dict | None) -> str:
    """'honeycomb on sqrt3 x sqrt3 R30, confidence 0.94' from an `info` ordering block."""
    if o is None:
        return "computing…"
    if "error" in o:
        return f"? ({o['error']})"
    cell = (o.get("superlattice") or {}).get("name")
    text = str(o.get("label", "?")) + (f" on {cell}" if cell and cell != o.get("label") else "")
    domains = (o.get("superlattice") or {}).get("domains") or 1
    text += f", {domains} domains" if domains > 1 else ""     # antiphase domains of one ordering
    if (o.get("superlattice") or {}).get("whole_cell"):
        text += " (repeats only with the whole cell: a larger cell would tell order from disorder)"
    return text + (f", confidence {o['confidence']:.2f}" if o.get("confidence") is not None else "")


def ordering_text(model) -> str:
    """`ordering_phrase` of a model (recognised from scratch)."""
    return ordering_phrase(info(model, sections=["ordering"]).get("ordering"))


def oxidation_lines(d: dict) -> list[str]:
    """'Ni: 21 Ni3+ + 3 Ni2+ (average +2.875)' per element (plain O2- left out), from an `info` dict."""
    lines = []
    for el, st in (d.get("oxidation_states") or {}).items():
        if el == "O" and list(st["counts"]) == ["O2-"]:
            continue
        counts = " + ".join(f"{n} {lab}" for lab, n in st["counts"].items())
        lines.append(f"{el}: {counts}" + (f" (average {st['average']:+g})" if len(st["counts"]) > 1 else ""))
    return lines


def format_info(d: dict) -> str:
    """Human-readable multi-line text of an `info` dict (the non-JSON `layerstudio info`)."""
    lines = []
    if "formula" in d:
        lines.append(f"formula       {d['formula']}   ({d.get('layer_formula', '')})")
        comp = ", ".join(f"{k} {v}" for k, v in d.get("composition", {}).items())
        lines.append(f"atoms         {d.get('n_atoms')} in the cell: {comp}")
    if "stacking" in d:
        sc = d["supercell"]
        host = d.get("host", {})
        lines.append(f"stacking      {d['stacking']} ({host.get('alkali')} host, a = {host.get('a'):.4f} A, "
                     f"c = {host.get('c'):.4f} A)")
        src = host.get("source") or {}
        if src:
            lines.append(f"lattice from  {src.get('a')}" + (f"; O height: {src['o_height']}"
                                                              if src.get("o_height") != src.get("a") else ""))
        lines.append(f"supercell     {sc['matrix']} x {sc['layers']} layer(s), {sc['n_sites']} sites")
    sg = d.get("space_group")
    if sg is not None:
        if "error" in sg:
            lines.append(f"space group   unknown: {sg['error']}")
        else:
            lines.append(f"space group   {sg['symbol']} ({sg['number']}), symprec {sg['symprec']:g} A")
            fw = d.get("framework_space_group")
            if fw is not None:
                lines.append(f"framework     {fw['symbol']} ({fw['number']}) with the alkali layers emptied (TM + O)")
    if "net_charge" in d:
        lines.append(f"net charge    {d['net_charge']:+g} e" + ("" if abs(d["net_charge"]) > 1e-6 else " (neutral)"))
    lines += [f"  {line}" for line in oxidation_lines(d)]
    if d.get("oxidation_note"):
        lines.append(f"  how         {d['oxidation_note']}")
    if d.get("neutral_hint"):
        lines.append(f"  to fix      {d['neutral_hint']}")
    o = d.get("ordering")
    if isinstance(o, dict) and "label" in o:
        lines.append(f"ordering      {ordering_phrase(o)}")
        layers = o.get("per_layer") or []
        if len(layers) > 1:
            lines.append("              per layer: " + "; ".join(
                f"{p.get('kind', 'tm')} {p['layer']}: {p['label']} {p['confidence']:.2f}" for p in layers))
    shown = {"ordering", "formula", "layer_formula", "composition", "n_atoms", "stacking", "host", "supercell",
             "space_group", "net_charge", "oxidation", "formula_units_MO2", "molar_mass_g_mol_per_MO2",
             "oxidation_states", "oxidation_note", "oxidation_history", "neutral_hint", "framework_space_group"}
    for key, val in d.items():  # blocks added by later analyses
        if key not in shown:
            lines.append(f"{key:<13} {_brief(val)}")
    return "\n".join(lines)


def _brief(val) -> str:
    if isinstance(val, dict):
        return ", ".join(f"{k} {_brief(v)}" for k, v in val.items())
    if isinstance(val, float):
        return f"{val:.6g}"
    return str(val)


def summary_texts(model) -> dict[str, str]:
    """Readouts of a model as short texts (name -> text), for side-by-side comparisons and captions:
    layer formula, Ewald energy per MO2, net charge, ordering, capacity, Li-O-Li per O."""
    d = info(model, sections=["basics", "charge", "ewald", "capacity", "oxygen", "ordering"])
    out = {"formula": d["layer_formula"]}
    if d.get("ewald_eV_per_MO2") is not None:
        out["Ewald energy"] = f"{d['ewald_eV_per_MO2']:.4f} eV/MO2 (electrostatic only)"
    q = d["net_charge"]
    out["net charge"] = f"{q:+.2f} e" if abs(q) > 1e-9 else "0 (neutral)"
    if isinstance(d.get("ordering"), dict) and "label" in d["ordering"]:
        out["ordering"] = ordering_phrase(d["ordering"])
    if "capacity_mAh_g" in d:
        cap = d["capacity_mAh_g"]
        out["capacity"] = (f"{cap['total']:.1f} mAh/g (cationic {cap['cationic']:.1f}, "
                           f"anionic {cap['anionic']:.1f})")
    elif "error" in d.get("capacity", {}):
        out["capacity"] = d["capacity"]["error"]
    ox = d.get("oxygen") or {}
    if "li_o_li_mean_per_O" in ox:
        hist = ox["li_o_li_histogram"]
        out["Li-O-Li per O"] = (f"{ox['li_o_li_mean_per_O']:.3f} "
                                f"({100 * sum(hist[1:]) / max(sum(hist), 1):.0f} % of O have one)")
    return out


__all__ = ["info", "readout_numbers", "format_info", "SECTIONS", "summary_texts", "ordering_text",
           "ordering_phrase", "oxidation_lines"]
