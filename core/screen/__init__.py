"""Batch screening: a grid of compositions x orderings x supercells x seeds, each built, ordered, annealed
(and relaxed when a potential is installed), analysed and written to one output directory.

    spec = load_spec("screen.toml")
    summary = run_screen(spec, "out", runner=SerialRunner())      # or local_runner(2), scheduler_runner(addr)
    table = load_results("out")                                    # pyarrow.Table, one row per task

Sits above `core.report` (it calls `info`) and below `core.cli` (which registers `layerstudio screen`).
Dask is imported only by `core.screen.runners` when a cluster is asked for.
"""
from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from core.screen.results import ResultsError, ResultStore, load_results
from core.screen.spec import ScreenSpec, ScreenSpecError, Task, load_spec, parse_spec_text
from core.screen.task import RESULT_COLUMNS, TIMING_COLUMNS, run_task

#: seconds between rewrites of results.parquet during a run (the row files are the durable record)
TABLE_EVERY = 10.0
#: a dry-run sample faster than this (s) is run a second time to tell start-up from per-task cost
WARM_RERUN_BELOW = 5.0


def plan(spec: ScreenSpec, outdir) -> tuple[list[Task], list[Task], str | None]:
    """(all tasks, tasks still to run, note) for `spec` in `outdir`. A [relax] section that cannot run here
    is dropped (with the note) so those tasks are named as unrelaxed ones."""
    tasks, todo, note, _store = _plan(spec, outdir)
    return tasks, todo, note


def _plan(spec: ScreenSpec, outdir):
    note = None
    relax = spec.relax is not None
    if spec.relax is not None:
        from core.screen.relax import relax_unavailable
        note = relax_unavailable(spec.relax)
        relax = note is None
    tasks = spec.tasks(relax=relax)
    store = ResultStore(outdir, spec)
    done = store.finished(tasks)
    return tasks, [t for t in tasks if t.name not in done], note, store


def run_screen(spec: ScreenSpec, outdir, runner=None, *,
               on_row: Callable[[dict, int, int], None] | None = None) -> dict:
    """Run every unfinished task of `spec` with `runner` (default serial), recording each row as it comes.

    on_row(row, finished_so_far, to_run) is called after each recorded row. Returns the summary
    {tasks, ran, skipped, failed, seconds, outdir, results, note}.
    """
    from core.screen.runners import SerialRunner

    t0 = time.perf_counter()
    runner = runner or SerialRunner()
    outdir = Path(outdir)
    tasks, todo, note, store = _plan(spec, outdir)
    store.write_manifest(runner=runner.description, relax_note=note)
    ran = failed = 0
    last_table = time.monotonic()
    try:
        for row in runner.map(todo, str(outdir)):
            store.record(row)
            ran += 1
            failed += bool(row.get("error"))
            if on_row is not None:
                on_row(row, ran, len(todo))
            if time.monotonic() - last_table > TABLE_EVERY:
                store.write_table(tasks)
                last_table = time.monotonic()
    finally:
        path = store.write_table(tasks)
    seconds = time.perf_counter() - t0
    summary = {"tasks": len(tasks), "ran": ran, "skipped": len(tasks) - len(todo), "failed": failed,
               "seconds": round(seconds, 3), "outdir": str(outdir), "results": str(path), "note": note}
    store.write_manifest(runner=runner.description, relax_note=note, last_run=summary)
    return summary


def dry_run(spec: ScreenSpec, outdir, workers: int = 1) -> dict:
    """Task count and a time estimate from one task run (timed) in a scratch directory; writes nothing to
    outdir. Returns {tasks, finished, to_run, sample_seconds, estimate_seconds, workers, sample_error, note}."""
    outdir = Path(outdir)
    if outdir.exists():
        tasks, todo, note = plan(spec, outdir)
    else:  # do not create it
        with tempfile.TemporaryDirectory() as scratch:
            tasks, todo, note = plan(spec, scratch)
    sample = (todo or tasks)[0]
    _warm_imports()
    with tempfile.TemporaryDirectory() as scratch:
        row = run_task(sample, scratch)
        first = float(row["seconds"])
        # the first task of a process also compiles the annealing kernel and builds the Ewald tables;
        # when that run was short, a second one separates this start-up from the cost of a task
        again = float(run_task(sample, scratch)["seconds"]) if first < WARM_RERUN_BELOW else first
    workers = max(1, workers)
    startup = max(0.0, first - again)
    n = len(todo)
    estimate = (min(n, workers) * startup + n * again) / workers if n else 0.0
    return {"tasks": len(tasks), "finished": len(tasks) - len(todo), "to_run": n,
            "sample_task": sample.name, "sample_seconds": again, "startup_seconds": round(startup, 3),
            "estimate_seconds": round(estimate, 1), "workers": workers,
            "sample_error": row.get("error"), "note": note}


def _warm_imports() -> None:
    """Import what a task needs, so the timed sample measures the work and not the imports."""
    import core.io.export  # noqa: F401
    import core.orderings.montecarlo  # noqa: F401
    import core.report  # noqa: F401


__all__ = ["load_spec", "parse_spec_text", "ScreenSpec", "ScreenSpecError", "Task", "run_screen", "dry_run",
           "plan", "run_task", "load_results", "ResultStore", "ResultsError", "RESULT_COLUMNS", "TIMING_COLUMNS"]
