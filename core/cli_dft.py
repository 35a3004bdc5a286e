"""`layerstudio lowest MODEL -n N -o DIR`: the N lowest distinct configurations found by Monte Carlo,
each in its smallest periodic cell with its oxidation states, plus summary.csv (ready for DFT)."""
from __future__ import annotations

import json
import sys


def add_parser(sub, command) -> None:
    sp = command("lowest", run, "anneal and write the N lowest distinct configurations (smallest cells, "
                 "oxidation states) plus summary.csv, ready for DFT")
    sp.add_argument("input", metavar="IN", help="project .json, CIF or POSCAR")
    sp.add_argument("-o", "--output", required=True, metavar="DIR")
    sp.add_argument("-n", type=int, default=5, metavar="N", help="configurations to keep (default 5)")
    sp.add_argument("--sweeps", type=int, default=2000, metavar="N", help="attempted swaps per site")
    sp.add_argument("--seed", type=int, default=0)
    sp.add_argument("--sublattice", default="tm", choices=("tm", "alkali", "all", "mixed"))
    sp.add_argument("--format", default="cif", choices=("cif", "poscar", "pmg-json"))
    sp.add_argument("--full-cell", dest="full_cell", action="store_true",
                    help="write the whole supercell instead of the smallest cell")
    sp.add_argument("--supercell", default=None, metavar="SPEC", help="cell for an imported CIF/POSCAR")
    sp.add_argument("--json", action="store_true", help="the CSV rows as one JSON list on stdout")


def run(args) -> int:
    from core.errors import LayerStudioError
    from core.io.dft import export_configurations
    from core.io.project import open_model
    from core.orderings.montecarlo import run_anneal

    if args.n < 1:
        raise LayerStudioError("-n must be at least 1")
    model, _ = open_model(args.input, supercell=args.supercell, seed=0)
    res = run_anneal(model, sweeps=args.sweeps, seed=args.seed, sublattice=args.sublattice, keep=args.n)
    rows = export_configurations(model, res.configurations, args.output, smallest=not args.full_cell,
                                 fmt=args.format,
                                 method=f"Monte Carlo {args.sweeps} sweeps seed {args.seed} ({args.sublattice})")
    if args.json:
        print(json.dumps(rows))
    else:
        for r in rows:
            print(f"{r['rank']:3d} {r['energy_eV_per_MO2']:12.6f} eV/MO2 {r['dE_meV_per_MO2']:9.3f} meV/MO2 "
                  f"{r['n_atoms']:5d} atoms  {r['file']}")
        print(f"layerstudio: wrote {len(rows)} configurations and summary.csv to {args.output}", file=sys.stderr)
    return 0
