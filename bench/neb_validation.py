"""NEB validation runs of the README (CHGNet against published DFT); a script, not a test.

Cases (smallest cells that hold each configuration, fixed ideal cell, end points relaxed in that cell):
  lco_tsh        LiCoO2 3x3x1 O3 (36 sites), two adjacent Li removed (a divacancy): Li hop into one of
                 them through the alkali-layer tetrahedron shared with both (tetrahedral-site hop; Van der
                 Ven & Ceder, Electrochem. Solid-State Lett. 3, 301 (2000)); band started through the
                 tetrahedron.
  lco_odh        the same cell with one Li removed: the straight oxygen-dumbbell hop into the vacancy.
  honeycomb_mn   honeycomb Li[Li1/3Mn2/3]O2 3x3x1 with every Li removed (alkali layer and TM-layer
                 honeycomb centres: MnO3, 24 atoms): Mn hop into an emptied honeycomb centre through the
                 shared O-O edge. Li-O3 analogue of charged Na0.75[Li0.25Mn0.75]O2 (House et al., Nature
                 577, 502 (2020)).
  ribbon_mn      ribbon Li[Li1/5Mn4/5]O2 on [[5,0],[4,2]] x 1 with every Li removed (Mn2O5, 28 atoms):
                 Mn hop into an emptied ribbon Li site; --group picks one of the two distinct hops
                 (0: the one electrostatics finds cheapest). Analogue of charged Na0.6[Li0.2Mn0.8]O2.

    OMP_NUM_THREADS=1 nice -n 10 .venv/bin/python bench/neb_validation.py lco_tsh -o OUT/lco_tsh \
        [--images 5] [--fmax 0.05] [--steps 300] [--climb-below 0.3] [--optimizer FIRE]

Running again with the same -o resumes from the saved band. The last line printed is one JSON object
(barrier, end energy, fmax, steps, converged, wall and CPU seconds, load average, shortest O-O distances).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.migration.search import find_paths, group_paths  # noqa: E402
from core.orderings import preset_occupancy  # noqa: E402
from core.structure.model import Model  # noqa: E402
from core.structure.species import SPECIES, VACANCY  # noqa: E402

CASES = ("lco_tsh", "lco_odh", "honeycomb_mn", "ribbon_mn")


def _remove_all(model, symbol: str) -> None:
    occ = model.occupancy
    model.apply([(int(s), VACANCY) for s in np.flatnonzero(np.array(SPECIES)[occ] == symbol)])


def lco_divacancy() -> Model:
    """LiCoO2 3x3x1 with two nearest-neighbour alkali-layer Li removed."""
    m = Model.build("O3", "Li", "3", 1, tm_spec="Co")
    alk = m.supercell.alkali_sites
    a = int(alk[0])
    idx, _ = m.supercell.neighbours(np.array([a]), "alkali_oct", n=6, rmax=3.2)
    b = int(idx[0][idx[0] >= 0][0])
    m.apply([(a, VACANCY), (b, VACANCY)])
    return m


def build(case: str, group: int = 0):
    """(model, path, default images) of one case."""
    if case == "lco_tsh":
        m = lco_divacancy()
        return m, find_paths(m, kinds=("alkali_tet",), species="Li")[0], 5
    if case == "lco_odh":
        m = Model.build("O3", "Li", "3", 1, tm_spec="Co")
        m.apply([(int(m.supercell.alkali_sites[0]), VACANCY)])
        return m, find_paths(m, kinds=("alkali_dumbbell",), species="Li")[0], 3
    if case in ("honeycomb_mn", "ribbon_mn"):
        if case == "honeycomb_mn":
            m = Model.build("O3", "Li", "3", 1, tm_spec="Li:1/3,Mn:2/3")
            m.set_occupancy(preset_occupancy(m, "honeycomb"))
        else:
            m = Model.build("O3", "Li", "5,0,4,2", 1, tm_spec="Li:1/5,Mn:4/5")
            m.set_occupancy(preset_occupancy(m, "ribbon"))
        _remove_all(m, "Li")
        paths = find_paths(m, kinds=("inplane_edge",), species="Mn")
        groups = group_paths(paths)  # sorted cheapest (electrostatic estimate) first
        g = groups[min(group, len(groups) - 1)]
        src, dst = g["members"][0]
        return m, next(p for p in paths if (p.from_site, p.to_site) == (src, dst)), 3
    raise SystemExit(f"unknown case {case!r}; choose from {', '.join(CASES)}")


def shortest_oo(atoms) -> float:
    """Shortest O-O distance (Angstrom, minimum image): about 1.2-1.5 for O2 / peroxo, 2.5+ otherwise."""
    o = [i for i, s in enumerate(atoms.get_chemical_symbols()) if s == "O"]
    d = atoms.get_all_distances(mic=True)[np.ix_(o, o)]
    return float(d[~np.eye(len(o), dtype=bool)].min())


def main(argv=None) -> int:
    from core.mlip.neb import neb_path

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("case", choices=CASES)
    ap.add_argument("-o", "--output", required=True)
    ap.add_argument("--group", type=int, default=0)
    ap.add_argument("--images", type=int, default=None)
    ap.add_argument("--fmax", type=float, default=0.05)
    ap.add_argument("--steps", type=int, default=300)
    ap.add_argument("--climb-below", dest="climb_below", type=float, default=0.3)
    ap.add_argument("--optimizer", default="FIRE")
    ap.add_argument("--maxstep", type=float, default=None, help="largest atom move per optimizer step (A)")
    ap.add_argument("--climb-optimizer", dest="climb_optimizer", default=None)
    ap.add_argument("--climb-maxstep", dest="climb_maxstep", type=float, default=None)
    ap.add_argument("--endpoint-steps", dest="endpoint_steps", type=int, default=300)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args(argv)
    model, path, images = build(args.case, args.group)
    images = args.images or images
    natoms = int((model.occupancy != VACANCY).sum())
    print(f"{args.case}: {natoms} atoms, {path.summary()}, {images} images", flush=True)
    t, c = time.perf_counter(), time.process_time()
    gen = neb_path(model, path, "chgnet", out_dir=args.output, n_images=images, fmax=args.fmax,
                   steps=args.steps, endpoint_steps=args.endpoint_steps, climb_below=args.climb_below, optimizer=args.optimizer,
                   maxstep=args.maxstep, climb_optimizer=args.climb_optimizer,
                   climb_maxstep=args.climb_maxstep, threads=args.threads)
    try:
        while True:
            ev = next(gen)
            print(f"{time.perf_counter() - t:8.1f} s  {ev['message']}", flush=True)
    except StopIteration as stop:
        res = stop.value
    out = {"case": args.case, "atoms": natoms, "images": images, "path": path.to_dict(),
           "electrostatic_barrier_eV": path.max_eV, **res.to_dict(),
           "wall_s": round(time.perf_counter() - t, 1), "cpu_s": round(time.process_time() - c, 1),
           "load_average": [round(x, 1) for x in os.getloadavg()]}
    if "Mn" in path.species:
        out["shortest_OO_A"] = [round(shortest_oo(im), 3) for im in res.images]
    print(json.dumps(out, default=lambda o: o.tolist() if isinstance(o, np.ndarray) else str(o)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
