"""Headless command line: `layerstudio build|info|export|import ...` (also `python -m core.cli`).

A stable interface for scripts and tests. Every sub-command is one `add_parser` block in
`build_parser` plus one ``cmd_<name>(args) -> int`` function that imports its core module lazily
(so `layerstudio info` never pays for pymatgen or numba). Errors: a `LayerStudioError` (or an OS
error on a named file) prints ``layerstudio <command>: error: <message>`` on one stderr line and exits
1; bad arguments exit 2; an unexpected exception exits 3 with a one-line summary. ``--debug``
anywhere on the command line shows the traceback instead.
"""
from __future__ import annotations

import argparse
import json
import sys

from core import cli_args as arg
from core.structure.composition import host_alkali  # noqa: F401 - used by build, kept importable here

PROG = "layerstudio"


class UsageError(Exception):
    """Bad command-line arguments (exit status 2)."""


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line instead of argparse's usage block
        # arguments are echoed: control characters (line or record separators) are shown escaped
        message = "".join(c if c.isprintable() else repr(c)[1:-1] for c in message)
        raise UsageError(f"{self.prog}: error: {message} (see {self.prog} --help)")


# ---------------------------------------------------------------------------------------------- helpers
def _read_model(path, *, supercell=None, seed=0):
    """Model from a project .json, or a CIF/POSCAR through the importer. Returns (model, report)."""
    from core.io.project import open_model

    return open_model(path, supercell=supercell, seed=seed)


def _write_model(model, out, symprec=None) -> str:
    """Write by extension; returns a short description for stdout (notes go to stderr)."""
    from core.io.export import export_model

    res = export_model(model, out, symprec=symprec)
    for note in res.notes:
        print(f"{PROG}: note: {note}", file=sys.stderr)
    sg = f" ({res.space_group})" if res.space_group else ""
    return f"wrote {res.path}{sg}"


# ---------------------------------------------------------------------------------------------- commands
def cmd_build(args) -> int:
    from core.structure.model import Model

    alkali = host_alkali(args.alkali)
    model = Model.build(args.stacking, alkali, args.supercell, args.layers, alkali_spec=args.alkali,
                        tm_spec=args.tm, a=args.a, c=args.c, o_height=args.o_height, seed=args.seed)
    ordering = args.ordering.strip().lower()
    if ordering != "random":
        from core.orderings import preset_occupancy  # Orderings helper's module

        model.set_occupancy(preset_occupancy(model, ordering, seed=args.seed, **_params(args.param)))
    _neutralise(model, args)
    model.metadata.update({"created_by": "layerstudio build", "ordering": ordering, "seed": args.seed})
    msg = _write_model(model, args.output, args.symprec)
    print(f"{model.formula()} {model.supercell.describe()}: {msg}")
    return 0


def _neutralise(model, args) -> None:
    """Neutral by default (`core.energy.valence`): --valence, --oxidation, --allow-charged."""
    from core.energy.valence import neutral_by_default

    note = neutral_by_default(model, valence=args.valence, overrides=args.oxidation,
                              allow_charged=args.allow_charged, seed=getattr(args, "seed", 0))
    if note:
        print(f"{PROG}: oxidation states: {note}", file=sys.stderr)
    if abs(model.net_charge) > 1e-6:
        print(f"{PROG}: warning: the cell keeps a net charge of {model.net_charge:+g} e "
              "(a uniform neutralising background is included in every energy)", file=sys.stderr)


def valence_options(sp) -> None:
    """--valence / --oxidation / --allow-charged for commands that create a model."""
    sp.add_argument("--valence", default="integer", choices=("integer", "average"),
                    help="mixed valence as integer charges on sites placed by Ewald energy (default) or one "
                         "average state per element")
    sp.add_argument("--oxidation", default=None, metavar="EL:STATE,...",
                    help="fix oxidation states, e.g. Ni:3,Mn:4; the rest is neutralised along the redox ladder")
    sp.add_argument("--allow-charged", dest="allow_charged", action="store_true",
                    help="keep a cell that cannot be made neutral (with a warning) instead of failing")


def cmd_info(args) -> int:
    from core.report import format_info, info

    model, report = _read_model(args.input, supercell=args.supercell, seed=args.seed)
    d = info(model, symprec=args.symprec)
    if args.json:
        print(json.dumps(d, default=_jsonable))
    else:
        print(format_info(d))
    return 0


def cmd_export(args) -> int:
    model, _ = _read_model(args.input, supercell=args.supercell, seed=args.seed)
    if args.output is None and args.vasp is None:
        raise UsageError(f"{PROG} export: error: give -o OUT and/or --vasp DIR")
    if args.smallest_cell or args.vasp is not None:
        from core.io.dft import smallest_cell, write_structure, write_vasp

        if args.smallest_cell:
            sc = smallest_cell(model)
            structure = sc.structure
            print(f"smallest cell: {sc.n_atoms} atoms ({sc.formula}) instead of {sc.n_atoms_model}; Ewald "
                  f"{sc.energy_per_fu_eV:.6f} eV per formula unit (model {sc.model_energy_per_fu_eV:.6f})")
        else:
            from core.io.dft import charged_structure
            structure = charged_structure(model)
        if args.output is not None:
            print(f"wrote {write_structure(structure, args.output, symprec=args.symprec)}")
        if args.vasp is not None:
            res = write_vasp(structure, args.vasp)
            print(f"wrote {', '.join(res['files'])} in {res['directory']} (MPRelaxSet; MAGMOM and +U from the "
                  "oxidation states)")
            if not res["potcar"]:
                print(f"{PROG}: note: no POTCAR (licensed; pymatgen's PMG_VASP_PSP_DIR is not set): symbols in "
                      "POTCAR.spec, how to add them in README_POTCAR.txt", file=sys.stderr)
        return 0
    print(_write_model(model, args.output, args.symprec))
    return 0


def cmd_import(args) -> int:
    from core.io.export import format_for_path
    from core.io.project import save_project

    out = args.output
    if format_for_path(out) != "project":
        raise UsageError(f"{PROG} import: error: -o must be a project file ending in .json, not {out!r}")
    from core.io.importer import import_structure
    model, report = import_structure(args.input, supercell=args.supercell, seed=args.seed)
    model.metadata.setdefault("imported_from", str(args.input))
    _neutralise(model, args)
    save_project(out, model)
    for line in _report_lines(report, verbose=args.verbose):
        print(line)
    print(f"{model.formula()} {model.supercell.describe()}: wrote {out}")
    return 0


def cmd_charge(args) -> int:
    from core.analysis.charge import charge_table

    model, _ = _read_model(args.input, supercell=args.supercell, seed=args.seed)
    rows = charge_table(model, steps=args.steps, order=args.order, alkali_layer_only=args.alkali_layer_only)
    if args.output:
        from core.io.dft import write_charge_states

        rows = write_charge_states(model, args.output, steps=args.steps, fmt=args.format, order=args.order,
                                   alkali_layer_only=args.alkali_layer_only)
        print(f"{PROG}: wrote {len(rows)} structures to {args.output}", file=sys.stderr)
    if args.json:
        print(json.dumps(rows, default=_jsonable))
        return 0
    print(f"{model.formula()} {model.supercell.describe()}, removal order {args.order}")
    print(f"{'x':>7} {'mAh/g':>8} {'cation':>8} {'anion':>8} {'E (eV/MO2)':>11}  couple")
    for r in rows:
        print(f"{r['x_removed']:7.4f} {r['capacity_mAh_g']:8.1f} {r['cationic_mAh_g']:8.1f} "
              f"{r['anionic_mAh_g']:8.1f} {r['energy_eV_per_MO2']:11.4f}  {r['active_couple'] or '-'}")
    return 0


def _replicas_arg(text: str):
    """--replicas: 'auto' (None) or a whole number 1..64."""
    if str(text).strip().lower() == "auto":
        return None
    return arg.int_range(1, 64)(text)


def cmd_anneal(args) -> int:
    from core.orderings.montecarlo import run_anneal
    from core.orderings.recognition import recognise

    model, _ = _read_model(args.input, supercell=args.supercell, seed=0)
    res = run_anneal(model, sweeps=args.sweeps, seed=args.seed, sublattice=args.sublattice,
                     t_start=args.t_start, t_end=args.t_end, replicas=args.replicas, schedule=args.schedule,
                     spread=args.spread)
    model.set_occupancy(res.best_occupancy)
    model.metadata.update({"annealed": {"sweeps": args.sweeps, "seed": args.seed, "sublattice": args.sublattice,
                                        "replicas": res.replicas, "schedule": args.schedule,
                                        "best_energy_eV": res.best_energy}})
    msg = _write_model(model, args.output)
    rec = recognise(model)
    out = {"start_energy_eV": res.start_energy, "best_energy_eV": res.best_energy,
           "per_MO2_eV": res.best_energy / model.formula_units(), "attempts": res.attempts,
           "seconds": round(res.seconds, 4), "attempts_per_s": res.attempts_per_s,
           "kT_start_eV": res.temperatures[0], "kT_end_eV": res.temperatures[1],
           "replicas": res.replicas, "schedule": res.schedule, "exchange_acceptance": res.exchange_acceptance,
           "ordering": {k: rec[k] for k in ("label", "confidence", "superlattice", "isolated_minority_fraction")},
           "output": str(args.output)}
    from core.energy.valence import charge_arrangement

    arrangement = charge_arrangement(model)  # mixed integer states (Ni2+/Ni3+): who sits next to whom
    if arrangement:
        out["charge_arrangement"] = arrangement
    if args.json:
        print(json.dumps(out, default=_jsonable))
    else:
        print(f"Ewald energy (electrostatic only) {res.start_energy:.6f} -> {res.best_energy:.6f} eV "
              f"({res.attempts} swaps in {res.seconds:.2f} s, kT {res.temperatures[0]:.3g} -> "
              f"{res.temperatures[1]:.3g} eV)")
        if res.replicas > 1:
            print(f"{res.replicas} replicas ({res.schedule}), exchange acceptance {res.exchange_acceptance:.2f}")
        print(f"ordering {rec['label']} {rec['confidence']:.2f}; {msg}")
        for state, nb in arrangement.items():
            print(f"  {state} in-plane neighbours: " + ", ".join(f"{k} {v:g}" for k, v in nb.items()))
    return 0


def cmd_paths(args) -> int:
    from core.migration.search import LABEL, find_paths, group_paths

    model, _ = _read_model(args.input, supercell=args.supercell, seed=args.seed)
    paths = find_paths(model, kinds=args.kind, open_only=not args.all, epsilon=args.epsilon)
    if args.json:
        print(json.dumps({"label": LABEL, "formula": model.formula(), "paths": [p.to_dict() for p in paths],
                          "groups": [{k: v for k, v in g.items() if k != "members"} for g in group_paths(paths)]},
                         default=_jsonable))
        return 0
    n_open = sum(p.open for p in paths)
    print(f"{model.formula()} {model.supercell.describe()}: {n_open} open path(s) "
          f"({LABEL}: formal point charges + Born-Mayer, rigid lattice; eV relative to the start)")
    print(f"{'kind':<16} {'ion':<3} {'from':>6} {'to':>6} {'via':>5} {'end eV':>9} {'max eV':>9}  state")
    for p in paths[:args.limit]:
        via = "" if p.intermediate is None else str(p.intermediate)
        e = (f"{p.end_eV:9.3f} {p.max_eV:9.3f}" if p.coulomb is not None else f"{'-':>9} {'-':>9}")
        print(f"{p.kind:<16} {p.species:<3} {p.from_site:>6} {p.to_site:>6} {via:>5} {e}  "
              f"{'open' if p.open else 'blocked: ' + p.reason}")
    if len(paths) > args.limit:
        print(f"... {len(paths) - args.limit} more (--limit N, or --json)")
    return 0


def _params(items) -> dict:
    """KEY=VALUE strings -> dict with int/float values where they parse, else strings."""
    out = {}
    for item in items:
        key, eq, val = item.partition("=")
        if not eq or not key.strip():
            raise UsageError(f"{PROG} build: error: --param wants KEY=VALUE, not {item!r}")
        for conv in (int, float):
            try:
                out[key.strip()] = conv(val)
                break
            except ValueError:
                continue
        else:
            out[key.strip()] = val.strip()
    return out


#: Import-report keys shown without --verbose (the importer's report has many more).
IMPORT_SUMMARY = ("source", "stacking", "supercell", "supercell_choice", "partial_occupancy", "rounding",
                  "max_displacement", "warnings")


def _report_lines(report, verbose: bool = False) -> list[str]:
    if not report:
        return []
    if not isinstance(report, dict):
        return [str(report)]
    keys = list(report) if verbose else [k for k in IMPORT_SUMMARY if k in report]
    return [f"  {k}: {json.dumps(report[k], default=_jsonable)}" for k in keys
            if verbose or report[k] not in ([], None, "")]


def _jsonable(obj):
    """json `default=` hook: numpy values and anything else printable."""
    import numpy as np
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, (set, tuple)):
        return list(obj)
    return str(obj)


# ---------------------------------------------------------------------------------------------- parser
def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog=PROG, description="Layer Studio: cation orderings in layered-oxide cathodes. "
                "Run without arguments (or `gui [FILE]`) for the window.", epilog=arg.LIMITS_HELP)
    p.add_argument("--version", action="version", version=f"{PROG} {_version()}")
    p.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    def command(name, func, help_text):
        sp = sub.add_parser(name, help=help_text, description=help_text, epilog=arg.LIMITS_HELP)
        sp.set_defaults(func=func)
        sp.add_argument("--debug", action="store_true", help=argparse.SUPPRESS)
        return sp

    def read_options(sp):  # options for commands that may import a CIF/POSCAR
        sp.add_argument("--supercell", default=None, metavar="SPEC", type=arg.supercell_spec,
                        help="cell for realising partial occupancies of an imported CIF/POSCAR")
        sp.add_argument("--seed", type=arg.seed, default=0, help="random seed for partial occupancies (>= 0)")

    # build -------------------------------------------------------------------------------------
    sp = command("build", cmd_build, "build a supercell with a composition and an ordering")
    sp.add_argument("--stacking", default="O3", type=str.upper, choices=("O3", "P2", "P3", "O2"))
    sp.add_argument("--alkali", default="Li", metavar="SPEC",
                    help="alkali-layer composition, e.g. Li, Na:2/3 (rest vacant); names the host alkali")
    sp.add_argument("--tm", default="Co", metavar="SPEC", help="TM-layer composition, e.g. Co, Li:1/3,Mn:2/3")
    sp.add_argument("--ordering", default="random", metavar="NAME",
                    help="random (default), honeycomb, or another preset of core.orderings")
    sp.add_argument("--param", action="append", default=[], metavar="KEY=VALUE",
                    help="ordering parameter, e.g. stacking=staggered (repeatable)")
    sp.add_argument("--supercell", default="1", metavar="SPEC", type=arg.supercell_spec,
                    help="in-plane cell: N, NxM, a 2x2 matrix a,b,c,d, sqrt3, 2sqrt3, ribbon")
    sp.add_argument("--layers", type=arg.layers, default=None, metavar="K", help="TM layers along c")
    sp.add_argument("--seed", type=arg.seed, default=0, help="random seed (>= 0)")
    sp.add_argument("--a", type=arg.length, default=None, help="in-plane lattice parameter (Angstrom)")
    sp.add_argument("--c", type=arg.length, default=None, help="hexagonal c (Angstrom)")
    sp.add_argument("--o-height", dest="o_height", type=arg.length, default=None,
                    help="O plane height above the TM plane (Angstrom)")
    sp.add_argument("--symprec", type=arg.symprec, default=None, help="symmetrized CIF tolerance (Angstrom)")
    sp.add_argument("-o", "--output", required=True, metavar="OUT",
                    help="project .json, .cif, POSCAR*/.vasp, .pmg.json, .xyz/.traj")
    valence_options(sp)

    # info --------------------------------------------------------------------------------------
    sp = command("info", cmd_info, "formula, counts, stacking, supercell, space group, net charge")
    sp.add_argument("input", metavar="IN", help="project .json, CIF or POSCAR")
    sp.add_argument("--json", action="store_true", help="one JSON object on stdout")
    sp.add_argument("--symprec", type=arg.symprec, default=1e-3, help="space-group tolerance (Angstrom)")
    read_options(sp)

    # export ------------------------------------------------------------------------------------
    sp = command("export", cmd_export, "write a project or structure to another format")
    sp.add_argument("input", metavar="IN", help="project .json, CIF or POSCAR")
    sp.add_argument("-o", "--output", default=None, metavar="OUT")
    sp.add_argument("--symprec", type=arg.symprec, default=None,
                    help="write a symmetrized CIF at this tolerance (Angstrom); default P1")
    sp.add_argument("--smallest-cell", dest="smallest_cell", action="store_true",
                    help="write the configuration in its smallest periodic cell (same energy per formula unit)")
    sp.add_argument("--vasp", default=None, metavar="DIR",
                    help="write POSCAR, KPOINTS, INCAR (MAGMOM, +U) via pymatgen's MPRelaxSet into DIR")
    read_options(sp)

    # import ------------------------------------------------------------------------------------
    sp = command("import", cmd_import, "map a CIF/POSCAR of a layered oxide onto a project")
    sp.add_argument("input", metavar="FILE", help="CIF or POSCAR")
    sp.add_argument("-o", "--output", required=True, metavar="PROJECT.json")
    sp.add_argument("-v", "--verbose", action="store_true", help="print the whole import report")
    read_options(sp)
    valence_options(sp)

    # charge ------------------------------------------------------------------------------------
    sp = command("charge", cmd_charge, "state-of-charge table: alkali removed step by step with "
                 "TM-couple then O2-/O- compensation")
    sp.add_argument("input", metavar="IN", help="project .json, CIF or POSCAR")
    sp.add_argument("--steps", type=arg.steps, default=10, metavar="K",
                    help=f"rows between pristine and fully charged (1..{arg.STEPS_MAX:,})")
    sp.add_argument("--order", default="electrostatic", choices=("electrostatic", "alkali_layer", "tm_layer"),
                    help="which alkali goes first (default: lowest electrostatic cost)")
    sp.add_argument("--alkali-layer-only", dest="alkali_layer_only", action="store_true",
                    help="leave TM-layer alkali in place")
    sp.add_argument("--json", action="store_true", help="one JSON list of rows on stdout")
    sp.add_argument("-o", "--output", default=None, metavar="DIR",
                    help="also write each state as a structure file (per-site charges) into DIR")
    sp.add_argument("--format", default="cif", choices=("cif", "poscar", "pmg-json"),
                    help="structure format for -o DIR")
    read_options(sp)

    # anneal ------------------------------------------------------------------------------------
    sp = command("anneal", cmd_anneal, "simulated annealing of cation swaps on the Ewald energy "
                 "(electrostatic only); writes the lowest-energy configuration found")
    sp.add_argument("input", metavar="IN", help="project .json, CIF or POSCAR")
    sp.add_argument("-o", "--output", required=True, metavar="OUT")
    sp.add_argument("--sweeps", type=arg.sweeps, default=20000, metavar="N",
                    help=f"attempted swaps per site, per replica (1..{arg.SWEEPS_MAX:,})")
    sp.add_argument("--seed", type=arg.seed, default=0, help="random seed (>= 0)")
    sp.add_argument("--sublattice", default="tm", choices=("tm", "alkali", "all", "mixed"),
                    help="sites that swap: tm = TM layers only; alkali = alkali layers only; all = both, "
                         "each within itself (coupled sublattices, compositions kept); mixed = all cations "
                         "in one pool (TM/alkali exchange allowed). Default tm")
    sp.add_argument("--t-start", dest="t_start", type=arg.kT, default=None, metavar="KT",
                    help="start temperature as kT in eV (model units of the bare point-charge energy, "
                         "not kelvin; default 0.3 J, J = dq^2 e^2 / (4 pi eps0 a) of the stiffest sublattice)")
    sp.add_argument("--t-end", dest="t_end", type=arg.kT, default=None, metavar="KT",
                    help="final kT in eV (default 0.003 J of the softest sublattice)")
    sp.add_argument("--schedule", default="anneal", choices=("anneal", "geometric", "linear", "tempering"),
                    help="kT profile: anneal = hot, linger 60%% of the sweeps between t_start/2.5 and "
                         "t_start/5, quench; geometric / linear from t_start to t_end; tempering = fixed "
                         "geometric ladder t_end..t_start over the replicas (parallel tempering)")
    sp.add_argument("--replicas", type=_replicas_arg, default=None, metavar="K",
                    help="replicas (1..64, or auto) exchanging configurations between neighbouring temperatures "
                         "(replica exchange); with the anneal/geometric/linear schedules the hottest starts at "
                         "t_start and rung k runs at SPREAD^(k/(K-1)) times the coldest. Default auto: plain "
                         "simulated annealing (K = 1) for one swap group of ions; for coupled sublattices "
                         "(--sublattice all/mixed with two mixed groups) or vacancies among the swapping species "
                         "(TM vacancies, Li/Na-vacancy orderings) replica exchange with K = 1.5 sqrt(active "
                         "sites), 8..32 (SA alone stops above the ground state there; bench/montecarlo.py)")
    sp.add_argument("--spread", type=arg.float_range(1.0, 100.0, lo_open=False), default=3.0, metavar="F",
                    help="hottest / coldest kT of the replica ladder for the annealing schedules (default 3)")
    sp.add_argument("--supercell", default=None, metavar="SPEC", type=arg.supercell_spec,
                    help="cell for an imported CIF/POSCAR")
    sp.add_argument("--json", action="store_true", help="one JSON object on stdout")

    # paths -------------------------------------------------------------------------------------
    sp = command("paths", cmd_paths, "cation migration paths (open ones by default), ranked by the "
                 "electrostatic estimate of their barrier")
    sp.add_argument("input", metavar="IN", help="project .json, CIF or POSCAR")
    sp.add_argument("--json", action="store_true", help="one JSON object on stdout")
    sp.add_argument("--kind", action="append", default=None, metavar="KIND",
                    help="only this path kind (repeatable): inplane_edge, inplane_tet, out_of_plane, "
                         "into_tm_layer, alkali_tet, alkali_dumbbell, prism_hop")
    sp.add_argument("--all", action="store_true", help="list blocked paths too, with the reason")
    sp.add_argument("--limit", type=arg.limit, default=50, metavar="N", help="rows printed (text output)")
    sp.add_argument("--epsilon", type=arg.epsilon, default=1.0, metavar="EPS",
                    help="relative permittivity screening the Coulomb term (default 1: bare charges)")
    read_options(sp)

    # screen: batch runs on Dask (its own module)
    from core.screen.cli import add_parser as add_screen_parser
    add_screen_parser(sub)
    from core import cli_dft
    cli_dft.add_parser(sub, command)

    from core import cli_enumerate  # enumerate: its own module
    cli_enumerate.add_parser(command, read_options, _read_model, _jsonable)

    # relax, neb, rerank (force fields: CHGNet or another ASE calculator) -----------------------
    from core.mlip.cli import add_parser as add_mlip_commands
    add_mlip_commands(sub)

    # further commands (anneal, charge, paths, ...) go here: one block + one cmd_<name> each
    return p


def _version() -> str:
    from core import __version__
    return __version__


# ---------------------------------------------------------------------------------------------- main
def main(argv: list[str] | None = None) -> int:
    """Run the CLI; returns the exit status (0 ok, 1 user error, 2 bad arguments, 3 internal error)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in argv
    command = next((a for a in argv if not a.startswith("-")), None)
    where = f"{PROG} {command}" if command else PROG
    try:
        args = build_parser().parse_args(argv)
        if getattr(args, "func", None) is None:
            raise UsageError(f"{PROG}: error: no command given; choose one of build, info, export, import "
                             f"(or run `{PROG}` alone for the window)")
        status = int(args.func(args) or 0)
        sys.stdout.flush()  # a closed pipe shows here, inside the handlers below, not at interpreter exit
        return status
    except SystemExit as exc:  # --help / --version
        return exc.code if isinstance(exc.code, int) else 0
    except UsageError as exc:
        if debug:
            raise
        print(str(exc), file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"{where}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # the reader went away (`layerstudio info model.json | head`): not an error worth a message. Point
        # stdout at devnull so the interpreter's final flush does not raise again (Python docs, signal module).
        import os

        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 141
    except Exception as exc:
        if debug:
            raise
        from core.errors import LayerStudioError

        if isinstance(exc, LayerStudioError):
            print(f"{where}: error: {_one_line(exc)}", file=sys.stderr)
            return 1
        if isinstance(exc, OSError):
            target = f" {exc.filename}" if getattr(exc, "filename", None) else ""
            print(f"{where}: error: cannot access{target}: {exc.strerror or exc}", file=sys.stderr)
            return 1
        if isinstance(exc, ImportError) and getattr(exc, "name", "") and exc.name.startswith("core."):
            print(f"{where}: error: this feature needs {exc.name}, which is not available in this "
                  "installation", file=sys.stderr)
            return 1
        print(f"{where}: internal error: {type(exc).__name__}: {_one_line(exc)} "
              "(run again with --debug for the traceback)", file=sys.stderr)
        return 3


def _one_line(exc) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


if __name__ == "__main__":
    sys.exit(main())
