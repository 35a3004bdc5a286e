"""`info(model) -> dict`: the summary behind `layerstudio info [--json]` and the GUI status panels.

The dict is built from small independent blocks (`SECTIONS`): each takes the model (and options) and
returns a dict merged into the result. Later analyses add a block (e.g. ``ewald``, ``ordering``,
``capacity``, ``oxygen``) by writing one `_section_<name>` function and listing it in `SECTIONS`;
existing keys keep their meaning. A block that fails with a LayerStudioError records
``{"<name>": {"error": message}}`` instead of aborting the whole report.

Units: lattice lengths Angstrom, volume Angstrom^3, charges in e.
"""
from __future__ import annotations

from collections.abc import Callable

from core.errors import LayerStudioError
from core.structure.symmetry import DEFAULT_SYMPREC


def _section_basics(model, opts) -> dict:
    from core.io.pmg import composition_counts

    comp = composition_counts(model)
    return {
        "formula": model.formula(),
        "layer_formula": model.layer_formula(),
        "composition": comp,
        "n_atoms": int(sum(comp.values())),
        "formula_units_MO2": model.formula_units(),
        "molar_mass_g_mol_per_MO2": round(model.molar_mass_per_MO2(), 4),
    }


def _section_cell(model, opts) -> dict:
    sc = model.supercell
    h = sc.host
    md = model.metadata
    default_src = "imported file" if md.get("imported_from") else "host default or project file"
    src = dict.fromkeys(("a", "c", "o_height"), default_src)
    src.update(md.get("lattice_source") or {})
    return {
        "stacking": h.stacking,
        "host": {"alkali": h.alkali, "a": h.a, "c": h.c, "o_height": h.o_height, "source": src},
        "supercell": {"matrix": sc.matrix.tolist(), "layers": int(sc.layers), "n_sites": int(sc.n_sites),
                      "volume_A3": round(sc.volume, 4)},
    }


def _section_space_group(model, opts) -> dict:
    from core.structure.symmetry import space_group  # refuses cells above symmetry.MAX_ATOMS, with the reason

    symprec = opts.get("symprec", DEFAULT_SYMPREC)
    # The TM + O framework's group (alkali layers emptied) is what reference tables give for P-type
    # honeycombs, whose partially filled Na layer usually breaks the symmetry of the whole cell.
    framework = model.copy()
    framework.occupancy[model.supercell.alkali_sites] = 0
    return {"space_group": space_group(model, symprec).to_dict(),
            "framework_space_group": space_group(framework, symprec).to_dict()}


def _section_charge(model, opts) -> dict:
    from core.energy.valence import charge_arrangement, charge_balance, neutral_hint

    b = charge_balance(model)
    out = {"net_charge": b["net_charge"], "oxidation": {s: v for s, v in model.oxidation.items()
                                                         if s in model.counts()},
           "oxidation_states": b["states"], "oxidation_note": b["how"]}
    if not b["neutral"]:
        out["neutral_hint"] = neutral_hint(model)
    arrangement = charge_arrangement(model)
    if arrangement:
        out["charge_arrangement"] = arrangement
    return out


def _section_capacity(model, opts) -> dict:
    from core.analysis.capacity import capacity_summary

    s = capacity_summary(model)  # from the same per-site charges as `oxidation_states` (charge block)
    return {k: s[k] for k in ("capacity_mAh_g", "capacity_mAh_cm3")}


def _section_oxygen(model, opts) -> dict:
    from core.analysis.oxygen import oxygen_summary

    s = oxygen_summary(model)
    return {"oxygen": {k: s[k] for k in ("li_o_li_histogram", "li_o_li_mean_per_O", "a_o_a_mean_per_O",
                                         "tm_to_O_ratio")}}


def _section_ordering(model, opts) -> dict:
    from core.orderings.recognition import recognise

    r = recognise(model)
    # superlattice {matrix (a1, a2 units), name (Wood), index, hnf}: None values when nothing periodic
    # fits, then warren_cowley (first three shells) describes the short-range order instead
    out = {k: r[k] for k in ("label", "confidence", "superlattice", "motif", "per_layer",
                             "isolated_minority_fraction", "minority", "majority")}
    if r["superlattice"]["name"] is None:
        out["warren_cowley"] = r["warren_cowley"]
    return {"ordering": out}


def _section_ewald(model, opts) -> dict:
    from core.energy.ewald import ewald_summary

    s = ewald_summary(model)  # electrostatics only (formal point charges), charged-cell background included
    return {k: s[k] for k in ("ewald_eV", "ewald_eV_per_MO2", "ewald_eV_per_atom")}


#: (name, function) in output order. Add new analyses here (one short block each).
SECTIONS: list[tuple[str, Callable[[object, dict], dict]]] = [
    ("basics", _section_basics),
    ("cell", _section_cell),
    ("space_group", _section_space_group),
    ("charge", _section_charge),
    ("ewald", _section_ewald),
    ("capacity", _section_capacity),
    ("oxygen", _section_oxygen),
    ("ordering", _section_ordering),
]


def info(model, *, symprec: float = DEFAULT_SYMPREC, sections: list[str] | None = None) -> dict:
    """Summary dict of a model.

    Keys always present: formula (reduced, pymatgen-style, e.g. "Li2MnO3"), layer_formula
    ("Li[Li1/3Mn2/3]O2"), composition (element -> atoms in the cell), n_atoms, stacking, host,
    supercell {matrix, layers, n_sites, volume_A3}, space_group {symbol, number, symprec} (or
    {"error": ...} when spglib fails), net_charge (e), oxidation.
    sections: restrict to these block names (default all).
    """
    opts = {"symprec": symprec}
    out: dict = {}
    for name, fn in SECTIONS:
        if sections is not None and name not in sections:
            continue
        try:
            out.update(fn(model, opts))
        except LayerStudioError as exc:
            out[name] = {"error": str(exc)}
    return out


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
    for el, st in (d.get("oxidation_states") or {}).items():
        counts = " + ".join(f"{n} {lab}" for lab, n in st["counts"].items())
        lines.append(f"  {el:<11} {counts}   (average {st['average']:+g})")
    if d.get("oxidation_note"):
        lines.append(f"  how         {d['oxidation_note']}")
    if d.get("neutral_hint"):
        lines.append(f"  to fix      {d['neutral_hint']}")
    o = d.get("ordering")
    if isinstance(o, dict) and "label" in o:
        sl = (o.get("superlattice") or {}).get("name")
        cell = f" on {sl}" if sl and sl != o["label"] else ""
        lines.append(f"ordering      {o['label']}{cell}, confidence {o['confidence']:.2f}")
        layers = o.get("per_layer") or []
        if len(layers) > 1:
            lines.append("              per layer: " + "; ".join(f"{p['layer']}: {p['label']} {p['confidence']:.2f}"
                                                           for p in layers))
    shown = {"ordering", "formula", "layer_formula", "composition", "n_atoms", "stacking", "host", "supercell",
             "space_group", "net_charge", "oxidation", "formula_units_MO2", "molar_mass_g_mol_per_MO2",
             "oxidation_states", "oxidation_note", "neutral_hint", "framework_space_group"}
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


def ordering_text(model) -> str:
    """'honeycomb (sqrt3 x sqrt3 R30) 94 %': the recognised ordering, its superlattice and confidence."""
    from core.orderings.recognition import recognise

    try:
        r = recognise(model)
    except LayerStudioError as exc:
        return f"ordering n/a ({exc})"
    conf = r.get("confidence")
    label = r.get("label", "?")
    cell = (r.get("superlattice") or {}).get("name")
    if cell and cell != label:      # a motif on its superlattice: "honeycomb (sqrt3 x sqrt3 R30)"
        label = f"{label} ({cell})"
    return f"{label} {100 * conf:.0f} %" if conf is not None else str(label)


def summary_texts(model) -> dict[str, str]:
    """Readouts of a model as short texts (name -> text), for side-by-side comparisons and captions:
    layer formula, Ewald energy per MO2, net charge, ordering, capacity, Li-O-Li per O."""
    d = info(model, sections=["basics", "charge", "ewald", "capacity", "oxygen", "ordering"])
    out = {"formula": d["layer_formula"]}
    if "ewald_eV_per_MO2" in d:
        out["Ewald energy"] = f"{d['ewald_eV_per_MO2']:.4f} eV/MO2 (electrostatic only)"
    q = d["net_charge"]
    out["net charge"] = f"{q:+.2f} e" if abs(q) > 1e-9 else "0 (neutral)"
    if "ordering" in d and "label" in d["ordering"]:
        out["ordering"] = ordering_text(model)
    if "capacity_mAh_g" in d:
        cap = d["capacity_mAh_g"]
        out["capacity"] = (f"{cap['total']:.1f} mAh/g (cationic {cap['cationic']:.1f}, "
                           f"anionic {cap['anionic']:.1f})")
    elif "error" in d.get("capacity", {}):
        out["capacity"] = d["capacity"]["error"]
    if "oxygen" in d and "li_o_li_mean_per_O" in d["oxygen"]:
        from core.analysis.oxygen import oxygen_summary
        ox = oxygen_summary(model)
        out["Li-O-Li per O"] = (f"{ox['li_o_li_mean_per_O']:.3f} "
                                f"({100 * ox['fraction_with_li_o_li']:.0f} % of O have one)")
    return out


__all__ = ["info", "format_info", "SECTIONS", "summary_texts", "ordering_text"]
