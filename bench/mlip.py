"""Benchmark and validation of the force-field layer (CHGNet through core.mlip); a script, not a test.

Timing: single point and relaxation steps (positions, FIRE) against atom count on O3 LiCoO2 n x n x 3
cells (12 to 300 atoms), wall and CPU time, and the longest stall of a 5 ms heartbeat thread while
relaxing (does CHGNet hold the GIL? decides thread vs process workers). One NEB wall time: the Li
dumbbell hop into a vacancy of a 15-atom LiCoO2 cell (the barriers of the README validation table come
from bench/neb_validation.py). Validation (--validate): honeycomb Li2MnO3
stackings C2/m, P3_112 and C2/c (6-layer sqrt3 cells, 72 atoms), ordered vs random Li/Mn TM layers and
the O moments before and after removing the alkali-layer Li.

    .venv/bin/python bench/mlip.py [--sizes 12,48,108,192,300] [--threads 1] [--neb-steps 150] [--validate]

The last line printed is one JSON object with every figure.
"""
from __future__ import annotations

import argparse
import json
import sys
import threading
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.mlip.models import get_energy_model  # noqa: E402
from core.mlip.moments import result_moments  # noqa: E402
from core.mlip.relax import relax, run, single_point  # noqa: E402
from core.structure.model import Model  # noqa: E402
from core.structure.species import VACANCY  # noqa: E402


class Heartbeat:
    """A thread that sleeps 5 ms at a time and records the longest gap (GIL stalls)."""

    def __enter__(self):
        self.gaps, self._stop = [], False
        self._t = threading.Thread(target=self._run, daemon=True)
        self._t.start()
        return self

    def _run(self):
        last = time.perf_counter()
        while not self._stop:
            time.sleep(0.005)
            now = time.perf_counter()
            self.gaps.append(now - last)
            last = now

    def __exit__(self, *exc):
        self._stop = True
        self._t.join()

    @property
    def max_ms(self) -> float:
        return 1e3 * (max(self.gaps) - 0.005) if self.gaps else float("nan")


def lco(n_atoms: int) -> Model:
    """LiCoO2 with n_atoms = 12 * n^2 (n x n in-plane, 3 layers), or the 12-atom 1x1x3 cell."""
    n = int(round((n_atoms / 12) ** 0.5))
    return Model.build("O3", "Li", str(n), 3, tm_spec="Co")


def timing(em, sizes, relax_steps: int) -> list[dict]:
    rows = []
    for size in sizes:
        m = lco(size)
        natoms = int((m.occupancy != VACANCY).sum())
        t, c = time.perf_counter(), time.process_time()
        single_point(m, em, cache=False)
        sp_wall, sp_cpu = time.perf_counter() - t, time.process_time() - c
        # displace the ideal lattice a little so the optimizer has work at every step
        from core.mlip.relax import model_atoms
        atoms = model_atoms(m)
        atoms.rattle(0.05, seed=1)
        with Heartbeat() as hb:
            t, c = time.perf_counter(), time.process_time()
            res = run(relax(atoms, em, fmax=1e-3, steps=relax_steps, cache=False))
            wall, cpu = time.perf_counter() - t, time.process_time() - c
        steps = max(res.steps, 1)
        rows.append({"atoms": natoms, "single_point_s": round(sp_wall, 2), "single_point_cpu_s": round(sp_cpu, 2),
                     "relax_step_s": round(wall / (steps + 1), 2), "relax_step_cpu_s": round(cpu / (steps + 1), 2),
                     "steps": steps, "gil_stall_max_ms": round(hb.max_ms, 1)})
        r = rows[-1]
        print(f"{natoms:6d} atoms: single point {sp_wall:6.2f} s wall ({sp_cpu:6.2f} s CPU); relax step "
              f"{r['relax_step_s']:6.2f} s wall ({r['relax_step_cpu_s']:6.2f} s CPU); GUI-thread stall max "
              f"{hb.max_ms:6.0f} ms", flush=True)
    return rows


def neb_bench(em, steps: int, images: int) -> dict:
    """One NEB row: the Li dumbbell hop into a vacancy of a 2x2x1 LiCoO2 cell (15 atoms), plain band
    then climbing image below 0.3 eV/A; wall and CPU time of the whole run (end points included)."""
    from core.migration.search import find_paths
    from core.mlip.neb import neb_path

    m = Model.build("O3", "Li", "2", 1, tm_spec="Co")
    m.apply([(int(m.supercell.alkali_sites[0]), VACANCY)])
    natoms = int((m.occupancy != VACANCY).sum())
    path = next(p for p in find_paths(m, species="Li") if p.kind == "alkali_dumbbell")
    t, c = time.perf_counter(), time.process_time()
    res = run(neb_path(m, path, em, n_images=images, fmax=0.05, steps=steps, climb_below=0.3))
    wall, cpu = time.perf_counter() - t, time.process_time() - c
    out = {"cell": f"LiCoO2 2x2x1 minus one Li ({natoms} atoms)", "atoms": natoms, "path": path.kind,
           "images": images, "wall_s": round(wall, 1), "cpu_s": round(cpu, 1),
           "band_evaluations": (res.steps + 1) * images, "endpoint_steps": list(res.endpoint_steps),
           **{k: v for k, v in res.to_dict().items() if k in ("barrier_eV", "end_eV", "fmax", "steps",
                                                                  "converged", "energies_eV")},
           "electrostatic_barrier_eV": path.max_eV}
    print(f"NEB: {natoms} atoms, {images} images, {res.steps} band steps + {sum(res.endpoint_steps)} end-point "
          f"steps: {wall:.1f} s wall / {cpu:.1f} s CPU; {path.kind} Li hop barrier {res.barrier_eV:.3f} eV, "
          f"fmax {res.fmax:.3f} eV/A ({'converged' if res.converged else 'not converged'}; electrostatic "
          f"estimate {path.max_eV:.2f} eV)", flush=True)
    return out


def validate(em, relax_steps: int) -> dict:
    from core.orderings import preset_occupancy

    out = {}
    energies = {}
    for st in ("C2/m", "P3_112", "C2/c"):
        m = Model.build("O3", "Li", "sqrt3", 6, tm_spec="Li:1/3,Mn:2/3")
        m.set_occupancy(preset_occupancy(m, "honeycomb", stacking=st))
        sp = single_point(m, em)
        rx = run(relax(m, em, fmax=0.05, steps=relax_steps))
        energies[st] = (sp.energy_eV, rx.energy_eV, rx.fmax, rx.steps, m.formula_units() // 2)
    ref = energies["C2/m"]
    out["stacking_meV_per_Li2MnO3"] = {
        st: {"unrelaxed": round(1e3 * (e[0] - ref[0]) / e[4], 3), "relaxed": round(1e3 * (e[1] - ref[1]) / e[4], 3),
             "fmax": round(e[2], 3), "steps": e[3]} for st, e in energies.items()}
    print("stacking (meV per Li2MnO3 vs C2/m):", out["stacking_meV_per_Li2MnO3"], flush=True)

    # ordered (honeycomb) vs random Li/Mn in the TM layer, same 2sqrt3-like cell (3x3x1: 36 atoms)
    hon = Model.build("O3", "Li", "3", 1, tm_spec="Li:1/3,Mn:2/3")
    hon.set_occupancy(preset_occupancy(hon, "honeycomb"))
    fu = hon.formula_units() / 1.5  # Li2MnO3 units = MO2 units / 1.5
    e_h = run(relax(hon, em, fmax=0.05, steps=relax_steps))
    rnd = []
    for seed in (1, 2, 3):
        r = Model.build("O3", "Li", "3", 1, tm_spec="Li:1/3,Mn:2/3", seed=seed)
        rnd.append(run(relax(r, em, fmax=0.05, steps=relax_steps)).energy_eV)
    out["random_minus_honeycomb_meV_per_Li2MnO3"] = [round(1e3 * (e - e_h.energy_eV) / fu, 1) for e in rnd]
    print("random - honeycomb (meV per Li2MnO3, 3 seeds, relaxed positions):",
          out["random_minus_honeycomb_meV_per_Li2MnO3"], flush=True)

    # O holes on delithiation (alkali-layer Li removed), honeycomb 36-atom cell, ideal lattice
    mom0 = result_moments(single_point(hon, em), hon)
    de = hon.copy()
    de.apply([(int(s), VACANCY) for s in de.supercell.alkali_sites])
    mom1 = result_moments(single_point(de, em), de)
    out["o_moment_mean"] = {"Li2MnO3": round(mom0["o_mean"], 3), "Li2/3MnO3 (alkali layer empty)": round(mom1["o_mean"], 3)}
    out["mn_moment_mean"] = {"Li2MnO3": round(mom0["tm_mean"]["Mn"], 3),
                             "Li2/3MnO3 (alkali layer empty)": round(mom1["tm_mean"]["Mn"], 3)}
    print("O moments:", out["o_moment_mean"], "Mn moments:", out["mn_moment_mean"], flush=True)
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="12,48,108,192,300")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--relax-steps", type=int, default=3)
    ap.add_argument("--neb-steps", type=int, default=150)
    ap.add_argument("--neb-images", type=int, default=3)
    ap.add_argument("--validate", action="store_true")
    ap.add_argument("--validate-steps", type=int, default=40)
    ap.add_argument("--skip-timing", action="store_true")
    args = ap.parse_args(argv)
    t = time.perf_counter()
    em = get_energy_model("chgnet", threads=args.threads)
    report = {"model": em.name, "device": em.device, "threads": args.threads,
              "load_s": round(time.perf_counter() - t, 1)}
    try:
        import os
        report["load_average"] = [round(x, 1) for x in os.getloadavg()]
    except OSError:
        pass
    if not args.skip_timing:
        report["timing"] = timing(em, [int(s) for s in args.sizes.split(",")], args.relax_steps)
    if args.neb_steps > 0:
        report["neb"] = neb_bench(em, args.neb_steps, args.neb_images)
    if args.validate:
        report["validation"] = validate(em, args.validate_steps)
    print(json.dumps(report, default=lambda o: o.tolist() if isinstance(o, np.ndarray) else str(o)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
