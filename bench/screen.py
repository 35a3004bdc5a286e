"""Benchmark of `layerstudio screen` on a local Dask cluster (a script, not a test).

A grid of `--tasks` annealing tasks (O3 Li[Li1/3Mn2/3]O2 on an n x n cell, one TM layer, `--sweeps` sweeps,
one seed per task) is run three ways, every output directory fresh:
  plain   `run_task` called in a loop in this process (the plain function call: no Dask, no driver);
  dask-1  `run_screen` on a LocalCluster of 1 worker process (1 thread);
  dask-2  the same with 2 worker processes (threads pinned to 1 each).
Each worker first runs one warm-up task (numba kernel from the cache, first imports), outside the clock.
Reported: wall time, speed-up of 2 workers over 1, per-task overhead of Dask + the screen driver against the
plain call ((dask-1 - plain) / tasks), the round trip of an empty Dask task, the workers' CPU seconds and the
load average (the machine may be shared: a speed-up below 2 with equal CPU seconds means the cores were busy).
With Linux's autogroup scheduling (/proc/sys/kernel/sched_autogroup_enabled = 1) the CPU is shared fairly between
sessions, so while other sessions keep the cores busy all the workers of this benchmark together get one
session's share and the "cores used" column stays the same for 1 and 2 workers: run it on an idle machine.

    .venv/bin/python bench/screen.py [--tasks 24] [--size 6] [--sweeps 100000]

The last line printed is one JSON object with every figure.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.screen import parse_spec_text, run_screen  # noqa: E402
from core.screen.runners import local_runner  # noqa: E402
from core.screen.task import run_task  # noqa: E402


def make_spec(n_tasks: int, size: int, sweeps: int):
    seeds = ", ".join(str(s) for s in range(1, n_tasks + 1))
    return parse_spec_text(f"""
[grid]
tm = ["Li:1/3,Mn:2/3"]
supercell = ["{size}"]
seed = [{seeds}]

[anneal]
sweeps = {sweeps}
""", source="bench")


def _noop(i):
    return i


def _cpu():
    return time.process_time()


def dask_run(spec, n_workers: int, scratch: Path) -> dict:
    runner = local_runner(n_workers, dashboard=False)
    try:
        client = runner.client
        client.wait_for_workers(n_workers)
        warm = spec.tasks()[0]
        # one warm-up task per worker (each is its own process), pinned with `workers=`
        addrs = list(client.scheduler_info()["workers"])
        futs = [client.submit(run_task, warm, str(scratch / f"warm{i}"), key=f"warm-{n_workers}-{i}", workers=[a])
                for i, a in enumerate(addrs)]
        client.gather(futs)
        cpu0 = client.run(_cpu)
        t0, d0 = time.perf_counter(), time.process_time()
        summary = run_screen(spec, scratch / f"dask{n_workers}", runner)
        wall = time.perf_counter() - t0
        driver = time.process_time() - d0
        cpu1 = client.run(_cpu)
        cpu = sum(cpu1[k] - cpu0[k] for k in cpu1)
        noop = None
        if n_workers == 1:
            client.gather(client.map(_noop, range(20), key=[f"w{i}" for i in range(20)]))
            t1 = time.perf_counter()
            m = 500
            client.gather(client.map(_noop, range(m), key=[f"noop-{i}" for i in range(m)]))
            noop = (time.perf_counter() - t1) / m
    finally:
        runner.close()
    assert summary["failed"] == 0 and summary["ran"] == spec.n_tasks, summary
    return {"wall_s": wall, "worker_cpu_s": cpu, "driver_cpu_s": driver, "noop_task_s": noop}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tasks", type=int, default=24)
    ap.add_argument("--size", type=int, default=6)
    ap.add_argument("--sweeps", type=int, default=100000)
    args = ap.parse_args(argv)
    spec = make_spec(args.tasks, args.size, args.sweeps)
    tasks = spec.tasks()
    with tempfile.TemporaryDirectory() as tmp:
        scratch = Path(tmp)
        run_task(tasks[0], str(scratch / "warm"))  # numba cache, imports
        load0 = os.getloadavg()[0]
        c0, t0 = time.process_time(), time.perf_counter()
        for t in tasks:
            row = run_task(t, str(scratch / "plain"))
            assert row["error"] is None, row["error"]
        plain = time.perf_counter() - t0
        plain_cpu = time.process_time() - c0
        d1 = dask_run(spec, 1, scratch)
        d2 = dask_run(spec, 2, scratch)
        load1 = os.getloadavg()[0]
    n = len(tasks)
    speedup = d1["wall_s"] / d2["wall_s"]
    overhead = (d1["wall_s"] - plain) / n
    autogroup = Path("/proc/sys/kernel/sched_autogroup_enabled")
    ag = autogroup.read_text().strip() == "1" if autogroup.exists() else False
    print(f"{n} tasks: O3 Li[Li1/3Mn2/3]O2 {args.size}x{args.size}, {args.sweeps} sweeps each; "
          f"load average {load0:.1f} -> {load1:.1f} on {os.cpu_count()} cores"
          + ("; autogroup scheduling on (CPU shared per session)" if ag else ""))
    # CPU s / wall s: how many cores the run actually got (2.0 for dask-2 on an idle 2-core machine)
    print(f"{'run':<8} {'wall s':>8} {'s/task':>8} {'CPU s':>8} {'driver CPU s':>12} {'cores used':>10}")
    print(f"{'plain':<8} {plain:8.2f} {plain / n:8.3f} {plain_cpu:8.2f} {'-':>12} {plain_cpu / plain:10.2f}")
    for name, d in (("dask-1", d1), ("dask-2", d2)):
        print(f"{name:<8} {d['wall_s']:8.2f} {d['wall_s'] / n:8.3f} {d['worker_cpu_s']:8.2f} "
              f"{d['driver_cpu_s']:12.2f} {d['worker_cpu_s'] / d['wall_s']:10.2f}")
    cpu_overhead = (d1["worker_cpu_s"] - plain_cpu) / n
    print(f"speed-up 2 vs 1 workers: {speedup:.2f}x (goal 1.7x); overhead per task vs a plain call: "
          f"{overhead * 1e3:.1f} ms wall, {cpu_overhead * 1e3:.1f} ms CPU in the worker; empty Dask task round "
          f"trip: {d1['noop_task_s'] * 1e3:.2f} ms")
    print(json.dumps({"benchmark": "screen", "tasks": n, "size": args.size, "sweeps": args.sweeps,
                      "plain_s": plain, "plain_cpu_s": plain_cpu, "dask1_s": d1["wall_s"], "dask2_s": d2["wall_s"],
                      "dask1_worker_cpu_s": d1["worker_cpu_s"], "dask2_worker_cpu_s": d2["worker_cpu_s"],
                      "dask1_driver_cpu_s": d1["driver_cpu_s"], "dask2_driver_cpu_s": d2["driver_cpu_s"],
                      "speedup_2_vs_1": speedup, "goal_speedup": 1.7, "overhead_per_task_s": overhead,
                      "cpu_overhead_per_task_s": cpu_overhead,
                      "noop_task_s": d1["noop_task_s"], "loadavg_before": load0, "loadavg_after": load1,
                      "cores": os.cpu_count(), "autogroup": ag}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
