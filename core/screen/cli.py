"""`layerstudio screen SPEC.toml -o OUTDIR [--workers N | --scheduler ADDRESS | --cluster slurm|pbs ...]`.

Registered by `core.cli` (``add_parser(subparsers)``); the run function returns the exit status. A progress
bar with ETA goes to stderr on a terminal (one line per task otherwise, for batch logs); with --json the last
stdout line is {"tasks", "ran", "skipped", "failed", "seconds", ...}.
"""
from __future__ import annotations

import argparse
import json
import sys
import time

PROG = "layerstudio screen"


def add_parser(subparsers) -> argparse.ArgumentParser:
    sp = subparsers.add_parser(
        "screen", help="run a grid of builds + anneals (+ relaxations) from a TOML spec, serially or on Dask",
        description="Screen a grid of compositions x orderings x supercells x seeds: each task is built, "
                    "ordered, annealed (and relaxed with a [relax] section), analysed and written to OUTDIR "
                    "(results.parquet, models/, manifest.json). Finished tasks are skipped on a rerun.")
    sp.set_defaults(func=run)
    sp.add_argument("--debug", action="store_true", help=argparse.SUPPRESS)
    sp.add_argument("spec", metavar="SPEC.toml", help="screening spec (see the README: [grid], [anneal], [relax])")
    sp.add_argument("-o", "--output", required=True, metavar="OUTDIR", help="output directory (created)")
    where = sp.add_mutually_exclusive_group()
    where.add_argument("--workers", type=int, default=None, metavar="N",
                       help="a local Dask cluster of N worker processes (one thread each)")
    where.add_argument("--scheduler", default=None, metavar="ADDRESS",
                       help="an existing Dask scheduler, e.g. tcp://10.0.0.5:8786")
    where.add_argument("--cluster", default=None, type=str.lower, choices=("slurm", "pbs"),
                       help="submit Dask workers as batch jobs through dask-jobqueue")
    sp.add_argument("--cluster-option", dest="cluster_option", action="append", default=[], metavar="KEY=VALUE",
                    help="dask-jobqueue option, e.g. queue=short, walltime=01:00:00, account=abc, cores=1, "
                         "memory=4GB, jobs=8 (number of jobs); repeatable")
    sp.add_argument("--dry-run", dest="dry_run", action="store_true",
                    help="print the task count and a time estimate from one timed sample task; run nothing")
    sp.add_argument("--json", action="store_true", help="last stdout line: one JSON summary object")
    return sp


def run(args) -> int:
    from core.screen import dry_run, load_spec, run_screen

    spec = load_spec(args.spec)
    if args.cluster_option and not args.cluster:
        from core.screen.runners import RunnerError
        raise RunnerError("--cluster-option needs --cluster slurm|pbs")
    out = sys.stdout
    info = sys.stderr if args.json else sys.stdout
    if args.dry_run:
        d = dry_run(spec, args.output, workers=args.workers or 1)
        if args.json:
            print(json.dumps(d), file=out)
            return 0
        if d["note"]:
            print(f"{PROG}: note: {d['note']}", file=sys.stderr)
        print(f"{d['tasks']} task(s): {d['finished']} finished, {d['to_run']} to run", file=out)
        err = f" (it failed: {d['sample_error']})" if d["sample_error"] else ""
        start = f" (+{d['startup_seconds']:.1f} s start-up per worker)" if d["startup_seconds"] > 0.05 else ""
        print(f"one sample task took {d['sample_seconds']:.2f} s{start}{err}; estimate "
              f"{_hms(d['estimate_seconds'])} on {d['workers']} worker(s)", file=out)
        return 0
    runner = _make_runner(args)
    try:
        if runner.dashboard_link:
            print(f"Dask dashboard: {runner.dashboard_link}", file=sys.stderr)
        elif args.workers or args.scheduler or args.cluster:
            print(f"{PROG}: note: no dashboard (install bokeh>=3.1 for Dask's dashboard)", file=sys.stderr)
        print(f"running on: {runner.description}", file=info)
        with _Progress(spec.n_tasks) as bar:
            summary = run_screen(spec, args.output, runner, on_row=bar.update)
    finally:
        runner.close()
    if summary["note"]:
        print(f"{PROG}: note: {summary['note']}", file=sys.stderr)
    if args.json:
        print(json.dumps(summary), file=out)
    else:
        print(f"{summary['tasks']} task(s): ran {summary['ran']}, skipped {summary['skipped']} (finished before), "
              f"failed {summary['failed']}, {summary['seconds']:.1f} s; table {summary['results']}", file=out)
    return 1 if summary["failed"] else 0


def _make_runner(args):
    from core.screen import runners

    if args.workers is not None:
        return runners.local_runner(args.workers)
    if args.scheduler:
        return runners.scheduler_runner(args.scheduler)
    if args.cluster:
        opts = runners.parse_cluster_options(args.cluster_option)
        jobs = int(opts.get("jobs", 1))
        return runners.jobqueue_runner(args.cluster, opts, jobs)
    return runners.SerialRunner()


class _Progress:
    """rich progress bar with ETA on a terminal; plain '[k/n] task ... ETA' lines on stderr otherwise."""

    def __init__(self, total: int):
        self.total = total
        self.t0 = time.monotonic()
        self.bar = None

    def __enter__(self):
        try:
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
        except ImportError:
            return self
        console = Console(stderr=True)
        if console.is_terminal:
            self.bar = Progress(TextColumn("screen"), BarColumn(), MofNCompleteColumn(), TextColumn("ETA"),
                                TimeRemainingColumn(), TextColumn("{task.fields[last]}"), console=console)
            self.bar.__enter__()
            self.task = None
        return self

    def update(self, row: dict, done: int, to_run: int) -> None:
        if self.bar is not None:
            if self.task is None:
                self.task = self.bar.add_task("screen", total=to_run, last="")
            status = "failed" if row.get("error") else "ok"
            self.bar.update(self.task, completed=done, last=f"{row['task']} {status}")
            return
        el = time.monotonic() - self.t0
        eta = el / done * (to_run - done) if done else 0.0
        status = f"FAILED: {row['error']}" if row.get("error") else f"{row.get('seconds') or 0:.2f} s"
        print(f"[{done}/{to_run}] {row['task']} {status}; ETA {_hms(eta)}", file=sys.stderr, flush=True)

    def __exit__(self, *exc):
        if self.bar is not None:
            self.bar.__exit__(*exc)
        return False


def _hms(seconds: float) -> str:
    seconds = int(round(seconds))
    h, rem = divmod(seconds, 3600)
    m, s = divmod(rem, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}" if m else f"{s} s"


__all__ = ["add_parser", "run"]
