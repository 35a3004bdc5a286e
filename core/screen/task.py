"""One screening task: build -> ordering preset -> anneal -> (relax) -> info, written to OUTDIR.

`run_task(task, outdir)` is a plain, picklable function of plain data: it runs the same in this process, in a
Dask worker process on this machine or on a cluster node (which must see OUTDIR on a shared file system).
It never raises for a problem with the task itself: the returned row carries the message in `error`
and the screen goes on with the other tasks.
"""
from __future__ import annotations

import json
import os
import time
import traceback
from pathlib import Path

from core.errors import LayerStudioError

#: Result columns after the grid parameters, with their Arrow types (see `core.screen.results`).
RESULT_COLUMNS: dict[str, str] = {
    "task": "string",
    "formula": "string",
    "n_atoms": "int64",
    "ewald_eV_per_MO2": "float64",
    "anneal_start_eV_per_MO2": "float64",
    "ordering_label": "string",
    "ordering_confidence": "float64",
    "superlattice": "string",
    "superlattice_matrix": "string",
    "space_group": "string",
    "capacity_total_mAh_g": "float64",
    "capacity_cationic_mAh_g": "float64",
    "capacity_anionic_mAh_g": "float64",
    "li_o_li_mean": "float64",
    "net_charge": "float64",
    "chgnet_eV_per_MO2": "float64",
    "relax_steps": "int64",
    "model_path": "string",
    "cif_path": "string",
    "seconds": "float64",
    "error": "string",
}
#: columns that depend on the machine and the run, not on the task (left out when comparing runs)
TIMING_COLUMNS = ("seconds",)

#: environment variables that keep numba, BLAS and torch to one thread per worker process
THREAD_ENV = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "NUMBA_NUM_THREADS",
              "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS")


def model_dir(outdir, name: str) -> Path:
    return Path(outdir) / "models" / name[:2]


def empty_row(task) -> dict:
    row = dict(task.params)
    row.update({k: None for k in RESULT_COLUMNS})
    row["task"] = task.name
    return row


def run_task(task, outdir: str, write_files: bool = True) -> dict:
    """Run one task; returns its results row (grid parameters + `RESULT_COLUMNS`). Files written:
    OUTDIR/models/<xx>/<name>.json (project) and .cif, paths in the row relative to OUTDIR."""
    t0 = time.perf_counter()
    row = empty_row(task)
    try:
        _run(task, Path(outdir), row, write_files)
    except LayerStudioError as exc:
        row["error"] = _one_line(exc)
    except MemoryError:
        row["error"] = "out of memory; use a smaller supercell"
    except Exception as exc:  # a bug: keep the traceback's last frame in the message, go on with the others
        tb = traceback.extract_tb(exc.__traceback__)[-1]
        row["error"] = (f"internal error: {type(exc).__name__}: {_one_line(exc)} "
                        f"({Path(tb.filename).name}:{tb.lineno})")
    row["seconds"] = round(time.perf_counter() - t0, 4)
    return row


def _run(task, outdir: Path, row: dict, write_files: bool) -> None:
    from core.orderings import preset_occupancy
    from core.report import info
    from core.structure.composition import host_alkali
    from core.structure.model import Model

    p = task.params
    model = Model.build(p["stacking"].upper(), host_alkali(p["alkali"]), p["supercell"], p["layers"],
                        alkali_spec=p["alkali"], tm_spec=p["tm"], a=p.get("a"), c=p.get("c"),
                        o_height=p.get("o_height"), seed=p["seed"])
    ordering = p["ordering"].strip().lower()
    if ordering != "random" or task.preset:
        model.set_occupancy(preset_occupancy(model, ordering, seed=p["seed"], **task.preset))
    meta = {"created_by": "layerstudio screen", "screen_task": task.name, "ordering": ordering,
            "seed": p["seed"], "grid": dict(p)}
    if task.anneal:
        from core.orderings.montecarlo import run_anneal

        a = task.anneal
        res = run_anneal(model, sweeps=a["sweeps"], seed=p["seed"], sublattice=a["sublattice"],
                         t_start=a.get("t_start"), t_end=a.get("t_end"))
        model.set_occupancy(res.best_occupancy)
        row["anneal_start_eV_per_MO2"] = res.start_energy / model.formula_units()
        meta["annealed"] = {**a, "seed": p["seed"], "best_energy_eV": res.best_energy}
    d = info(model)
    _fill_from_info(row, d)
    if task.relax:
        from core.screen.relax import relax_energy

        e, steps = relax_energy(model, task.relax)
        row["chgnet_eV_per_MO2"], row["relax_steps"] = e, steps
        meta["relaxed"] = {**task.relax, "energy_eV_per_MO2": e, "steps": steps}
    model.metadata.update(meta)
    if write_files:
        from core.io.export import cif_text
        from core.io.project import atomic_write, save_project

        folder = model_dir(outdir, task.name)
        folder.mkdir(parents=True, exist_ok=True)
        save_project(folder / f"{task.name}.json", model)
        text, _notes, _sg = cif_text(model)
        atomic_write(folder / f"{task.name}.cif", text)
        row["model_path"] = (folder / f"{task.name}.json").relative_to(outdir).as_posix()
        row["cif_path"] = (folder / f"{task.name}.cif").relative_to(outdir).as_posix()


def _fill_from_info(row: dict, d: dict) -> None:
    """The row's analysis columns from a `core.report.info` dict (missing blocks stay None)."""
    row["formula"] = d.get("formula")
    row["n_atoms"] = d.get("n_atoms")
    row["ewald_eV_per_MO2"] = d.get("ewald_eV_per_MO2")
    sg = d.get("space_group") or {}
    row["space_group"] = sg.get("symbol")
    cap = d.get("capacity_mAh_g") or {}
    row["capacity_total_mAh_g"] = cap.get("total")
    row["capacity_cationic_mAh_g"] = cap.get("cationic")
    row["capacity_anionic_mAh_g"] = cap.get("anionic")
    row["li_o_li_mean"] = (d.get("oxygen") or {}).get("li_o_li_mean_per_O")
    row["net_charge"] = d.get("net_charge")
    order = d.get("ordering") or {}
    row["ordering_label"] = order.get("label")
    row["ordering_confidence"] = order.get("confidence")
    sl = order.get("superlattice")
    if isinstance(sl, dict):
        row["superlattice"] = sl.get("name")
        if sl.get("matrix") is not None:
            row["superlattice_matrix"] = json.dumps(_plain(sl["matrix"]), separators=(",", ":"))
    elif sl is not None:
        row["superlattice"] = str(sl)


def pin_threads(n: int = 1) -> dict[str, str]:
    """Environment for a worker process that keeps numba/BLAS/OpenMP/torch to `n` threads."""
    return {k: str(n) for k in THREAD_ENV}


def limit_threads_here(n: int = 1) -> None:
    """Apply the thread limit inside an already running worker (torch reads its own setting)."""
    os.environ.update(pin_threads(n))
    import sys
    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(n)


def _plain(v):
    if hasattr(v, "tolist"):
        return v.tolist()
    if isinstance(v, (list, tuple)):
        return [_plain(x) for x in v]
    return v


def _one_line(exc) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


__all__ = ["run_task", "RESULT_COLUMNS", "TIMING_COLUMNS", "THREAD_ENV", "pin_threads", "empty_row", "model_dir"]
