"""`layerstudio relax` and `layerstudio neb`: force-field relaxations and NEB barriers from the shell.

    layerstudio relax MODEL -o OUT [--model chgnet] [--fmax F] [--steps N] [--cell] [--json]
    layerstudio neb MODEL --path ID -o DIR [--images N] [--fmax F] [--steps N] [--json]
    layerstudio rerank MODEL [--sweeps N] [--keep K] [--relax-steps N] [--json]

With --json the last stdout line is one JSON object; progress goes to stderr.
"""
from __future__ import annotations

import json
import sys

PROG = "layerstudio"


def _jsonable(obj):
    import numpy as np

    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, np.generic):
        return obj.item()
    return str(obj)


def _drain(gen, quiet: bool):
    """Run a progress generator, printing its messages on stderr (at most every ~2 s)."""
    import time

    last = 0.0
    while True:
        try:
            item = next(gen)
        except StopIteration as stop:
            return stop.value
        now = time.monotonic()
        if not quiet and isinstance(item, dict) and now - last > 2.0:
            last = now
            print(f"{PROG}: {item.get('message', '')}", file=sys.stderr, flush=True)


def _model(args):
    from core.io.project import open_model

    model, _ = open_model(args.input, supercell=getattr(args, "supercell", None), seed=getattr(args, "seed", 0))
    return model


def cmd_relax(args) -> int:
    from core.mlip.moments import result_moments
    from core.mlip.relax import relax, single_point, write_structure

    model = _model(args)
    if args.steps == 0:
        res = single_point(model, args.model)
    else:
        res = _drain(relax(model, args.model, fmax=args.fmax, steps=args.steps, cell=args.cell,
                           optimizer=args.optimizer, threads=args.threads), args.quiet)
    if args.output:
        write_structure(res, args.output)
    out = res.to_dict()
    out["formula"] = model.formula()
    if args.output:
        out["output"] = args.output
    mom = result_moments(res, model)
    if mom:
        out["oxidation_counts"] = mom["oxidation_counts"]
        out["o_moment_mean"] = mom["o_mean"]
        out["tm_moment_mean"] = mom["tm_mean"]
    if args.json:
        print(json.dumps(out, default=_jsonable))
        return 0
    print(f"{model.formula()} with {res.model_name}: {res.initial_energy_eV_per_MO2:.4f} -> "
          f"{res.energy_eV_per_MO2:.4f} eV/MO2 in {res.steps} steps (fmax {res.fmax:.3f} eV/A, "
          f"{'converged' if res.converged else 'not converged'}){'; wrote ' + args.output if args.output else ''}")
    if mom:
        print(f"  oxidation states from moments: {mom['oxidation_counts']}; mean O moment "
              f"{mom['o_mean']:.3f} muB")
    return 0


def _pick_path(model, spec: str):
    """A path by its rank in `layerstudio paths` (an integer) or by FROM-TO site indices."""
    from core.migration.search import MigrationError, find_paths

    paths = find_paths(model)
    if "-" in spec.strip("-"):
        a, b = spec.split("-", 1)
        try:
            a, b = int(a), int(b)
        except ValueError:
            raise MigrationError(f"--path wants a rank (0, 1, ...) or FROM-TO site indices, not {spec!r}") from None
        for p in paths:
            if p.from_site == a and p.to_site == b:
                return p
        raise MigrationError(f"no open path from site {a} to site {b} (see `{PROG} paths`)")
    try:
        i = int(spec)
    except ValueError:
        raise MigrationError(f"--path wants a rank (0, 1, ...) or FROM-TO site indices, not {spec!r}") from None
    if not 0 <= i < len(paths):
        raise MigrationError(f"--path {i}: this model has {len(paths)} open path(s) (ranks 0..{len(paths) - 1})")
    return paths[i]


def cmd_neb(args) -> int:
    from core.mlip.neb import neb_path

    model = _model(args)
    path = _pick_path(model, args.path)
    res = _drain(neb_path(model, path, args.model, out_dir=args.output, n_images=args.images, fmax=args.fmax,
                          steps=args.steps, threads=args.threads, init=args.init,
                          climb_below=args.climb_below, optimizer=args.optimizer), args.quiet)
    out = res.to_dict()
    out.update(path=path.to_dict(), electrostatic_barrier_eV=path.max_eV, output=args.output)
    if args.json:
        print(json.dumps(out, default=_jsonable))
        return 0
    print(f"{path.summary()}")
    print(f"NEB ({res.model_name}, {args.images} images, climbing image): barrier {res.barrier_eV:.3f} eV, "
          f"end {res.end_eV:+.3f} eV, fmax {res.fmax:.3f} eV/A after {res.steps} steps "
          f"({'converged' if res.converged else 'not converged'}); band in {args.output}")
    return 0


def cmd_rerank(args) -> int:
    from core.mlip.rerank import rerank_anneal

    model = _model(args)
    table = _drain(rerank_anneal(model, args.model, sweeps=args.sweeps, keep=args.keep,
                                 relax_steps=args.relax_steps, seed=args.seed, threads=args.threads), args.quiet)
    if args.json:
        print(json.dumps(table, default=_jsonable))
        return 0
    print(f"{'ewald rank':>10} {'model rank':>10} {'Ewald eV/MO2':>13} {'model eV/MO2':>13}")
    for r in table["rows"]:
        print(f"{r['ewald_rank']:>10} {r['model_rank']:>10} {r['ewald_eV_per_MO2']:13.4f} "
              f"{r['model_eV_per_MO2']:13.4f}")
    print(f"Spearman rank correlation {table['spearman']:.3f} over {len(table['rows'])} configurations")
    return 0


def add_parser(sub) -> None:
    """Register relax, neb and rerank on the CLI's sub-parser object."""
    def command(name, func, help_text):
        sp = sub.add_parser(name, help=help_text, description=help_text)
        sp.set_defaults(func=func)
        sp.add_argument("--debug", action="store_true", help="show tracebacks on errors")
        sp.add_argument("input", metavar="MODEL", help="project .json, CIF or POSCAR")
        sp.add_argument("--model", default="chgnet", metavar="NAME",
                        help="energy model: chgnet (default), ewald (single point only) or a CHGNet model file")
        sp.add_argument("--threads", type=int, default=None, metavar="N",
                        help="torch threads (default: LAYERSTUDIO_THREADS or 1)")
        sp.add_argument("--json", action="store_true", help="last stdout line: one JSON object")
        sp.add_argument("-q", "--quiet", action="store_true", help="no progress on stderr")
        sp.add_argument("--supercell", default=None, metavar="SPEC", help="cell for an imported CIF/POSCAR")
        sp.add_argument("--seed", type=int, default=0)
        return sp

    sp = command("relax", cmd_relax, "relax a model with a force field (CHGNet): energies before and after, "
                 "magnetic moments, oxidation states from moments")
    sp.add_argument("-o", "--output", default=None, metavar="OUT",
                    help="relaxed structure: .cif, .vasp/POSCAR, .extxyz, .traj")
    sp.add_argument("--fmax", type=float, default=0.05, help="force criterion (eV/Angstrom)")
    sp.add_argument("--steps", type=int, default=200, help="maximum optimizer steps (0: single point)")
    sp.add_argument("--cell", action="store_true", help="relax the cell too")
    sp.add_argument("--optimizer", default="FIRE", choices=("FIRE", "BFGS"), type=str.upper)

    sp = command("neb", cmd_neb, "climbing-image NEB barrier of one migration path with a force field")
    sp.add_argument("--path", required=True, metavar="ID",
                    help="rank in `layerstudio paths` (0 = cheapest open path) or FROM-TO site indices")
    sp.add_argument("-o", "--output", required=True, metavar="DIR",
                    help="directory for band.traj and neb.json (an existing one is resumed)")
    sp.add_argument("--images", type=int, default=5, help="intermediate images")
    sp.add_argument("--fmax", type=float, default=0.1, help="band force criterion (eV/Angstrom)")
    sp.add_argument("--steps", type=int, default=150, help="maximum band optimizer steps")
    sp.add_argument("--init", default="auto", choices=("auto", "idpp", "via"),
                    help="initial band: straight + IDPP, or through the tetrahedral intermediate (auto: via "
                         "when the path has one)")
    sp.add_argument("--climb-below", dest="climb_below", type=float, default=None, metavar="F",
                    help="climbing image only once the band fmax is below F (default: from the start)")
    sp.add_argument("--optimizer", default="FIRE", choices=("FIRE", "BFGS", "MDMIN"), type=str.upper)

    sp = command("rerank", cmd_rerank, "anneal on the Ewald energy, then re-rank the best configurations "
                 "with a force field: is the electrostatic ranking kept?")
    sp.add_argument("--sweeps", type=int, default=2000, help="annealing sweeps")
    sp.add_argument("--keep", type=int, default=8, help="configurations re-ranked")
    sp.add_argument("--relax-steps", dest="relax_steps", type=int, default=0,
                    help="relaxation steps per configuration (0: single points on the ideal lattice)")


__all__ = ["add_parser", "cmd_relax", "cmd_neb", "cmd_rerank"]
