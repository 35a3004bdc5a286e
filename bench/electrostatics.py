"""Benchmark of the Ewald engine against pymatgen's EwaldSummation (a script, not a test).

O3 LiMO2-type n x n supercells with 3 TM layers (Li layer full, TM layer Ni:1/3,Mn:1/3,Co:1/3 random,
neutral with Ni2+/Mn4+/Co3+). For each size: engine set-up time and peak memory (tracemalloc), table
bytes, per-edit cost of an energy change (one flip, one swap) and of applying an accepted swap, full
recompute from the stored tables, and pymatgen EwaldSummation(...).total_energy in the same run for the
smaller sizes (it builds dense N x N matrices: 12.6 s and +1.2 GB at 18x18 on this machine class).

    .venv/bin/python bench/electrostatics.py [--sizes 3,6,9,12,18,36] [--pymatgen-max 12]

The last line printed is one JSON object with every figure.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
import tracemalloc
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core import Model  # noqa: E402
from core.energy.ewald import EwaldEngine, charges_of  # noqa: E402
from core.energy.live import LiveEwald  # noqa: E402


def per_call_us(fn, args, repeat=3) -> float:
    """Best-of-`repeat` mean time (microseconds) of fn(*a) over the argument list."""
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        for a in args:
            fn(*a)
        best = min(best, (time.perf_counter() - t) / len(args))
    return best * 1e6


def pymatgen_energy(model, q) -> tuple[float, float]:
    from pymatgen.analysis.ewald import EwaldSummation
    from pymatgen.core import Lattice, Structure

    sc = model.supercell
    keep = np.flatnonzero(q != 0)
    s = Structure(Lattice(sc.lattice), ["H"] * len(keep), sc.frac[keep],
                  site_properties={"charge": q[keep].tolist()})
    t = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        e = EwaldSummation(s).total_energy
    return e, time.perf_counter() - t


def run(n: int, with_pymatgen: bool, n_edits: int = 20000) -> dict:
    model = Model.build("O3", "Li", str(n), 3, tm_spec="Ni:1/3,Mn:1/3,Co:1/3", seed=0)
    sc = model.supercell
    q = charges_of(model)

    t = time.perf_counter()
    eng = EwaldEngine(sc)
    setup_s = time.perf_counter() - t
    eng.tiled_columns()  # the table LiveEwald.apply uses, built once on the first accepted edit
    tracemalloc.start()
    eng_mem = EwaldEngine(sc)
    eng_mem.tiled_columns()
    _cur, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    del eng_mem

    reps = 20 if n <= 18 else 5
    E = eng.energy(q)
    t = time.perf_counter()
    for _ in range(reps):
        eng.energy(q)
    full_ms = (time.perf_counter() - t) / reps * 1e3

    live = LiveEwald(eng, q)
    rng = np.random.default_rng(1)
    tm = sc.tm_sites
    i = rng.choice(tm, n_edits).tolist()
    j = rng.choice(tm, n_edits).tolist()
    new = rng.choice([2.0, 3.0, 4.0], n_edits).tolist()
    flip_us = per_call_us(live.flip_delta, list(zip(i, new)))
    flip_api_us = per_call_us(live.delta, [([a], [b]) for a, b in zip(i, new)])
    swap_us = per_call_us(live.swap_delta, list(zip(i, j)))
    m = min(n_edits, 5000)
    t = time.perf_counter()
    for a, b in zip(i[:m], j[:m]):
        live.apply_swap(a, b)
    apply_us = (time.perf_counter() - t) / m * 1e6
    drift = abs(live.energy - eng.energy(live.q))

    row = {"n": n, "atoms": int(np.count_nonzero(model.occupancy)), "sites": sc.n_sites,
           "setup_s": setup_s, "peak_MB": peak / 1e6, "table_MB": eng.nbytes / 1e6,
           "flip_us": flip_us, "flip_api_us": flip_api_us, "swap_us": swap_us, "apply_swap_us": apply_us,
           "full_ms": full_ms, "energy_eV": E, "drift_after_edits_eV": drift}
    if with_pymatgen:
        e_pmg, t_pmg = pymatgen_energy(model, q)
        row.update(pymatgen_s=t_pmg, diff_vs_pymatgen_eV=abs(E - e_pmg),
                   ratio_pmg_over_setup=t_pmg / setup_s, ratio_pmg_over_full=t_pmg / (full_ms / 1e3))
    return row


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", default="3,6,9,12,18,36")
    ap.add_argument("--pymatgen-max", type=int, default=12, help="largest n also run through pymatgen")
    args = ap.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")]

    t = time.perf_counter()
    import scipy.special  # noqa: F401  (first engine in a process pays this import)
    import_s = time.perf_counter() - t

    rows = []
    head = (f"{'size':>6} {'atoms':>6} {'setup s':>8} {'peak MB':>8} {'tbl MB':>7} {'flip us':>8} "
            f"{'swap us':>8} {'apply us':>9} {'full ms':>8} {'pmg s':>8} {'pmg/setup':>10} {'pmg/full':>9} "
            f"{'|dE pmg| eV':>12}")
    print(head)
    for n in sizes:
        r = run(n, n <= args.pymatgen_max)
        rows.append(r)
        pm = (f"{r['pymatgen_s']:8.3f} {r['ratio_pmg_over_setup']:10.0f} {r['ratio_pmg_over_full']:9.0f} "
              f"{r['diff_vs_pymatgen_eV']:12.1e}") if "pymatgen_s" in r else f"{'-':>8} {'-':>10} {'-':>9} {'-':>12}"
        print(f"{n:>3}x{n:<2} {r['atoms']:>6} {r['setup_s']:8.3f} {r['peak_MB']:8.1f} {r['table_MB']:7.2f} "
              f"{r['flip_us']:8.2f} {r['swap_us']:8.2f} {r['apply_swap_us']:9.1f} {r['full_ms']:8.2f} {pm}",
              flush=True)
    print(f"(first engine in a process also imports scipy.special: {import_s:.2f} s; flip via the general "
          f"delta([i], [q]) API: " + ", ".join(f"{r['flip_api_us']:.1f}" for r in rows) + " us)")
    print(json.dumps({"benchmark": "electrostatics", "scipy_import_s": import_s, "rows": rows}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
