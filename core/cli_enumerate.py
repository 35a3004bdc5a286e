"""`layerstudio enumerate`: symmetry-distinct arrangements of one sublattice in a small cell, ranked by
the Ewald energy. The count, the time estimate and the group it reduces by are printed before the run
(and `--estimate` stops there). Registered by core.cli (`add_parser`)."""
from __future__ import annotations

import json
import sys

from core import cli_args as arg


def add_parser(command, read_options, read_model, jsonable) -> None:
    """Register the sub-command; read_model(path, supercell=, seed=) -> (Model, report) and the JSON
    hook come from core.cli (passed in, so this module does not import it back)."""
    sp = command("enumerate", run, "every arrangement of one sublattice in a small cell, merged into "
                 "symmetry-distinct classes and ranked by the Ewald energy (electrostatic only)")
    sp.add_argument("input", metavar="IN", help="project .json, CIF or POSCAR")
    sp.add_argument("--sublattice", default="tm", choices=("tm", "alkali"), help="sites to arrange (default tm)")
    sp.add_argument("--symmetry", default="parent", choices=("parent", "layer", "both"),
                    help="reduce by the parent crystal's operations (classes of equal energy), by the "
                         "isolated layer's (the sublattice alone: more operations, fewer classes, "
                         "energies may differ within a class), or report both")
    sp.add_argument("--estimate", action="store_true", help="print the count and time estimate only")
    sp.add_argument("--limit", type=arg.limit, default=10, metavar="N", help="classes printed (default 10)")
    sp.add_argument("--max", dest="max_configurations", type=arg.int_range(1, 10**9), default=None, metavar="N",
                    help="refuse above N arrangements (default 200000)")
    sp.add_argument("--json", action="store_true", help="one JSON object on stdout")
    read_options(sp)
    sp.set_defaults(read_model=read_model, jsonable=jsonable)


def run(args) -> int:
    from core.orderings.enumeration import MAX_CONFIGURATIONS, enumerate_orderings, estimate_enumeration

    model, _ = args.read_model(args.input, supercell=args.supercell, seed=args.seed)
    kinds = ("parent", "layer") if args.symmetry == "both" else (args.symmetry,)
    limit = args.max_configurations or MAX_CONFIGURATIONS
    out = {"sublattice": args.sublattice, "runs": []}
    for kind in kinds:
        est = estimate_enumeration(model, args.sublattice, kind)
        entry = {"symmetry": est["symmetry"], "count": est["count"], "estimated_s": est["seconds"]}
        if not args.json:
            sym = est["symmetry"]
            print(f"{est['count']} arrangements of the {args.sublattice} sublattice; reduced by the "
                  f"{'parent crystal' if kind == 'parent' else 'isolated layer'} ({sym['space_group']}, "
                  f"{sym['operations']} site permutations); estimated {est['seconds']:.2g} s", flush=True)
        if not args.estimate:
            classes = enumerate_orderings(model, args.sublattice, symmetry=kind, max_configurations=limit)
            entry["classes"] = [{k: c[k] for k in ("energy_eV", "energy_max_eV", "energy_eV_per_MO2",
                                                    "multiplicity")} for c in classes]
            entry["n_classes"] = len(classes)
            if not args.json:
                print(f"{len(classes)} classes; lowest first (eV per cell, electrostatic only):")
                for c in classes[:args.limit]:
                    spread = (f"  (to {c['energy_max_eV']:.4f} within the class)"
                              if c["energy_max_eV"] - c["energy_eV"] > 1e-6 else "")
                    print(f"  {c['energy_eV']:14.4f}  x{c['multiplicity']}{spread}")
        out["runs"].append(entry)
    if args.json:
        print(json.dumps(out, default=args.jsonable))
    sys.stdout.flush()
    return 0
