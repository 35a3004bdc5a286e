"""NEB barrier of one migration path with a force field (CHGNet by default).

    gen = neb_path(model, path, "chgnet", out_dir="neb_run", n_images=5, fmax=0.1, steps=100)
    result = run(gen)      # yields {"stage", "step", "fmax", "barrier", "energies", "progress", "message"}
                           # band steps: stage "band", "climbing" True once the climbing image is on
    result.barrier_eV, result.energies (eV relative to the relaxed start), result.images

Method (Henkelman, Uberuaga & Jonsson, J. Chem. Phys. 113, 9901 (2000), climbing image; Smidstrup et
al., J. Chem. Phys. 140, 214106 (2014), IDPP): the moving ion's start and end configurations are relaxed
(positions, fixed cell), the band is interpolated with IDPP, then optimised with FIRE (or BFGS): first
as a plain band until its largest force falls below ``climb_below``, then with a climbing image. A path
through a tetrahedral intermediate (tetrahedral-site hops, TM hops via a tetrahedron) starts by default
from a band bent through that tetrahedron (`initial_band`) and IDPP-smoothed from there; a straight
start would sit on the O-O edge (the dumbbell saddle) by symmetry. Every step writes the band to
``out_dir/band.traj`` and a summary to ``out_dir/neb.json``; running again on the same directory resumes
from the last band written (and its climbing stage).
"""
from __future__ import annotations

import json
import os
import shutil
import time
from dataclasses import dataclass, field

import numpy as np

from core.errors import LayerStudioError
from core.mlip.models import get_energy_model
from core.mlip.relax import _aborted, _fmax, model_atoms
from core.structure.species import VACANCY


class NEBError(LayerStudioError, ValueError):
    """An NEB that cannot run (path not open, no forces, resume data of another system)."""


@dataclass
class NEBResult:
    """Profile of a relaxed band: energies (n_images + 2,) eV relative to the relaxed start; barrier_eV =
    max - start; end_eV = end - start; fmax: final largest NEB force (eV/Angstrom); images: ASE Atoms."""

    energies: np.ndarray
    fmax: float
    steps: int
    converged: bool
    aborted: bool
    images: list = field(repr=False)
    moving_atom: int
    seconds: float
    model_name: str
    start_energy_eV: float
    resumed: bool = False
    endpoint_steps: tuple[int, int] = (0, 0)
    total_steps: int = 0  # band steps over every run of a resumed band
    climbing: bool = True

    @property
    def barrier_eV(self) -> float:
        return float(np.max(self.energies))

    @property
    def end_eV(self) -> float:
        return float(self.energies[-1])

    def path_lengths(self) -> np.ndarray:
        """Cumulative displacement of the moving ion along the band (Angstrom, minimum image)."""
        from ase.geometry import find_mic

        pos = [im.positions[self.moving_atom] for im in self.images]
        d = [0.0]
        for a, b in zip(pos[:-1], pos[1:]):
            v, _ = find_mic(np.array([b - a]), self.images[0].cell, pbc=True)
            d.append(d[-1] + float(np.linalg.norm(v[0])))
        return np.array(d)

    def to_dict(self) -> dict:
        return {"model": self.model_name, "barrier_eV": self.barrier_eV, "end_eV": self.end_eV,
                "energies_eV": [float(e) for e in self.energies], "fmax": self.fmax, "steps": self.steps,
                "converged": self.converged, "aborted": self.aborted, "moving_atom": self.moving_atom,
                "start_energy_eV": self.start_energy_eV, "seconds": round(self.seconds, 2),
                "resumed": self.resumed, "endpoint_steps": list(self.endpoint_steps),
                "total_steps": self.total_steps, "climbing": self.climbing,
                "path_length_A": [round(float(x), 4) for x in self.path_lengths()]}


def end_points(model, path):
    """(start Atoms, end Atoms, index of the moving atom): the same atoms in the same order, the moving
    ion on `path.to_site` in the end configuration."""
    occ = model.occupancy
    if occ[path.from_site] == VACANCY or (occ[path.to_site] != VACANCY and path.to_site != path.from_site):
        raise NEBError(f"path {path.from_site} -> {path.to_site} is not open in this configuration")
    start = model_atoms(model)
    site_index = start.arrays["site_index"]
    k = int(np.flatnonzero(site_index == path.from_site)[0])
    end = start.copy()
    pos = end.get_positions()
    # the image positions of the path are continuous (no wrap): the end is start + total displacement
    pos[k] = pos[k] + (np.asarray(path.images[-1]) - np.asarray(path.images[0]))
    end.set_positions(pos)
    si = site_index.copy()
    si[k] = path.to_site
    end.set_array("site_index", si)
    return start, end, k


def initial_band(start, end, k: int, n_images: int, via=None) -> list:
    """Images start, n_images intermediates, end: every atom on the straight line between its start and
    end positions except atom k, which, given `via` (Cartesian, continuous with its start position),
    goes start -> via -> end in equal steps of the parameter t (via at t = 1/2); the middle image of an
    odd count sits exactly on `via`. Positions are not wrapped (the displacement of the end is taken
    as given, as `end_points` builds it)."""
    p0, p1 = start.get_positions(), end.get_positions()
    images = [start.copy()]
    for i in range(1, n_images + 1):
        t = i / (n_images + 1)
        pos = p0 + t * (p1 - p0)
        if via is not None:
            v = np.asarray(via, float)
            pos[k] = p0[k] + 2 * t * (v - p0[k]) if t <= 0.5 else v + (2 * t - 1) * (p1[k] - v)
        im = start.copy()
        im.set_positions(pos)
        images.append(im)
    images.append(end.copy())
    return images


def _via_point(path, start, end, k):
    """The path's tetrahedral intermediate moved with the relaxed end points (mean of their shifts from
    the ideal sites), or None for a path without one."""
    if getattr(path, "intermediate", None) is None:
        return None
    ideal = np.asarray(path.images, float)
    mid = ideal[(len(ideal) - 1) // 2]
    shift = 0.5 * ((start.positions[k] - ideal[0]) + (end.positions[k] - ideal[-1]))
    return mid + shift


def _fixed(atoms, energy: float):
    from ase.calculators.singlepoint import SinglePointCalculator

    atoms.calc = SinglePointCalculator(atoms, energy=energy, forces=np.zeros((len(atoms), 3)))
    return atoms


def _relax_end(atoms, calc, fmax, steps, abort, label):
    from ase.optimize import FIRE

    atoms.calc = calc
    opt = FIRE(atoms, logfile=None)
    n = 0
    for n, _ in enumerate(opt.irun(fmax=fmax, steps=steps)):
        f = _fmax(atoms.get_forces())
        yield {"stage": label, "step": n, "fmax": f, "progress": -1.0,
               "message": f"relaxing {label}: step {n}, fmax {f:.3f} eV/A"}
        if _aborted(abort):
            break
    return float(atoms.get_potential_energy()), n


def neb_path(model, path, energy_model="chgnet", *, out_dir=None, n_images: int = 5, fmax: float = 0.1,
             steps: int = 150, endpoint_fmax: float | None = None, endpoint_steps: int = 100,
             climb: bool = True, abort=None, threads: int | None = None, init: str = "auto",
             climb_below: float | None = None, optimizer: str = "FIRE", maxstep: float | None = None,
             climb_optimizer: str | None = None, climb_maxstep: float | None = None):
    """Generator: climbing-image NEB of `path` (a `core.migration.search.Path`) in `model`.

    n_images: intermediate images; fmax (eV/Angstrom) for the band, endpoint_fmax (default fmax/2) and
    endpoint_steps for the end points. out_dir: where the band is saved and resumed from (optional).
    init: "idpp" (straight line, IDPP), "via" (through the path's tetrahedral intermediate, then IDPP
    from there) or "auto" (via when the path has an intermediate). climb_below: run the band without the
    climbing image until its fmax is below this (default: climb from the start); optimizer "FIRE",
    "BFGS" or "MDMin", maxstep its largest atom move per step (Angstrom; ASE's default 0.2 when None). The band at
    the switch to the climbing image is also kept as ``band_preclimb.traj``. climb_optimizer and
    climb_maxstep: the same for the climbing stage (default: as the plain band). Returns an `NEBResult`.
    """
    from ase.io import read, write
    from ase.mep import NEB
    from ase.mep.neb import idpp_interpolate
    from ase.optimize import BFGS, FIRE, MDMin

    optimizers = {"FIRE": FIRE, "BFGS": BFGS, "MDMIN": MDMin}
    for name in (optimizer, climb_optimizer or optimizer):
        if str(name).upper() not in optimizers:
            raise NEBError(f"optimizer {name!r}: choose FIRE, BFGS or MDMin")
    if init not in ("auto", "idpp", "via"):
        raise NEBError(f"init {init!r}: choose auto, idpp or via")
    if init == "via" and getattr(path, "intermediate", None) is None:
        raise NEBError(f"the {path.kind} path has no tetrahedral intermediate to start the band through")
    em = get_energy_model(energy_model, threads=threads)
    if not em.forces:
        raise NEBError(f"{em.name} gives no forces: an NEB needs a force field such as CHGNet")
    if n_images < 1:
        raise NEBError("an NEB needs at least one intermediate image")
    efmax = endpoint_fmax or fmax / 2
    t0 = time.perf_counter()
    start, end, k = end_points(model, path)
    band_file = summary_file = None
    if out_dir:
        os.makedirs(out_dir, exist_ok=True)
        band_file = os.path.join(out_dir, "band.traj")
        summary_file = os.path.join(out_dir, "neb.json")
    resumed = False
    images = None
    climbing = climb and climb_below is None
    ends_steps = (0, 0)
    before = 0  # band steps of earlier runs (resume)
    calc = em.calculator()
    with em.lock:
        if band_file and os.path.exists(band_file) and os.path.exists(summary_file):
            with open(summary_file) as fh:
                prev = json.load(fh)
            old = read(band_file, index=":")
            if (len(old) == n_images + 2 and list(old[0].numbers) == list(start.numbers)
                    and prev.get("moving_atom") == k):
                images = old
                e_start, e_end = prev["start_energy_eV"], prev["end_energy_eV"]
                ends_steps = tuple(prev.get("endpoint_steps", (0, 0)))
                climbing = climb and (climbing or bool(prev.get("climbing", False)))
                before = int(prev.get("total_steps", prev.get("step", 0))) + 1
                resumed = True
                yield {"stage": "resume", "step": 0, "fmax": float("nan"), "progress": -1.0,
                       "message": f"resuming from {band_file}"}
            else:
                raise NEBError(f"{out_dir} holds an NEB of another system or image count; use a new directory")
        if images is None:
            e_start, n1 = yield from _relax_end(start, calc, efmax, endpoint_steps, abort, "start")
            if _aborted(abort):
                return None
            e_end, n2 = yield from _relax_end(end, calc, efmax, endpoint_steps, abort, "end")
            if _aborted(abort):
                return None
            ends_steps = (n1, n2)
            via = _via_point(path, start, end, k) if init != "idpp" else None
            images = initial_band(start, end, k, n_images, via)
            idpp_interpolate(NEB(images, method="improvedtangent"), traj=None, log=None, mic=True)
        _fixed(images[0], e_start)
        _fixed(images[-1], e_end)
        for im in images[1:-1]:
            im.calc = calc
        n, f_now, converged, aborted = 0, float("nan"), False, False
        energies = np.zeros(len(images))

        def save(step):
            if not band_file:
                return
            frames = []
            for im, e in zip(images, energies):
                a = im.copy()
                _fixed(a, float(e))
                frames.append(a)
            write(band_file + ".part", frames, format="traj")
            os.replace(band_file + ".part", band_file)
            with open(summary_file + ".part", "w") as fh:
                json.dump({"model": em.name, "moving_atom": k, "start_energy_eV": e_start,
                           "end_energy_eV": e_end, "step": step, "total_steps": before + step, "fmax": f_now,
                           "converged": converged,
                           "climbing": climbing, "energies_eV": (energies - e_start).tolist(),
                           "n_images": n_images, "endpoint_steps": list(ends_steps),
                           "path": {"kind": path.kind, "species": path.species, "from_site": path.from_site,
                                    "to_site": path.to_site}}, fh, indent=1)
            os.replace(summary_file + ".part", summary_file)

        done = 0
        while done <= steps:
            neb = NEB(images, climb=climbing, method="improvedtangent", allow_shared_calculator=True)
            last = {}
            band_forces = neb.get_forces

            def get_forces(band_forces=band_forces, last=last):  # the band forces the optimizer tests
                last["f"] = band_forces()
                return last["f"]
            neb.get_forces = get_forces
            name, step_max = ((climb_optimizer or optimizer, climb_maxstep or maxstep) if climbing
                              else (optimizer, maxstep))
            opt = optimizers[str(name).upper()](neb, logfile=None, **({"maxstep": step_max} if step_max else {}))
            switch = False
            for conv in opt.irun(fmax=fmax, steps=steps - done):
                energies = np.asarray(neb.energies, float).copy()
                f_now = _fmax(last["f"])
                converged = bool(conv) and (climbing or not climb)
                rel = energies - e_start
                n = done
                save(n)
                stage = "climbing" if climbing else "band"
                yield {"stage": "band", "climbing": climbing, "step": n, "fmax": f_now,
                       "barrier": float(rel.max()), "energies": rel.tolist(),
                       "progress": min(n / max(steps, 1), 1.0),
                       "message": f"NEB step {n} ({stage}): fmax {f_now:.3f} eV/A, barrier {rel.max():.3f} eV"}
                done += 1
                if _aborted(abort):
                    aborted = True
                    break
                if not climbing and climb and (f_now < climb_below or conv):
                    switch = True
                    break
            if aborted or not switch:
                break
            climbing = True
            if band_file:
                shutil.copyfile(band_file, os.path.join(out_dir, "band_preclimb.traj"))
        n = max(done - 1, 0)
    for im in images[1:-1]:
        im.calc = None
    return NEBResult(energies - e_start, f_now, n, converged, aborted, images, k,
                     time.perf_counter() - t0, em.name, float(e_start), resumed, ends_steps, before + n, climbing)


__all__ = ["neb_path", "end_points", "initial_band", "NEBResult", "NEBError"]
