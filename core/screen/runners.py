"""Where screening tasks run: this process (serial), a local Dask cluster, any Dask scheduler, or a batch
system through dask-jobqueue. Every runner maps `core.screen.task.run_task` over tasks and yields the rows
as they finish (any order); the driver records them. Dask and dask-jobqueue are imported only here.
"""
from __future__ import annotations

import os
from collections.abc import Iterable, Iterator

from core.errors import LayerStudioError
from core.screen.task import empty_row, limit_threads_here, pin_threads, run_task

CLUSTERS = ("slurm", "pbs")
#: how long --scheduler waits for the scheduler to answer
CONNECT_TIMEOUT = "15s"


class RunnerError(LayerStudioError):
    """A cluster that cannot be started or reached, or a bad --cluster-option."""


def _worker_task(task, outdir: str) -> dict:
    limit_threads_here(1)  # also inside workers started by someone else's scheduler
    return run_task(task, outdir)


class SerialRunner:
    """Tasks one after another in this process (no Dask needed)."""

    n_workers = 1
    dashboard_link = None
    description = "serial (this process)"

    def map(self, tasks: Iterable, outdir: str) -> Iterator[dict]:
        for t in tasks:
            yield run_task(t, outdir)

    def close(self) -> None:
        pass


class DaskRunner:
    """Tasks as futures on a dask.distributed Client; `cluster` (if we started one) is closed with it."""

    def __init__(self, client, cluster=None, description: str = "dask"):
        self.client = client
        self.cluster = cluster
        self.description = description

    @property
    def n_workers(self) -> int:
        try:
            return max(1, len(self.client.scheduler_info()["workers"]))
        except Exception:
            return 1

    @property
    def dashboard_link(self) -> str | None:
        try:
            import bokeh  # noqa: F401 - without bokeh the scheduler serves no dashboard
        except ImportError:
            return None
        return self.client.dashboard_link

    def map(self, tasks: Iterable, outdir: str) -> Iterator[dict]:
        from distributed import as_completed

        tasks = list(tasks)
        by_key = {}
        futures = []
        for t in tasks:
            f = self.client.submit(_worker_task, t, str(outdir), key=f"screen-{t.name}", pure=False, retries=0)
            by_key[f.key] = t
            futures.append(f)
        try:
            for fut in as_completed(futures):
                t = by_key[fut.key]
                try:
                    row = fut.result()
                except Exception as exc:  # the worker died (KilledWorker), or the task could not be sent
                    row = empty_row(t)
                    row["error"] = f"{type(exc).__name__}: {' '.join(str(exc).split())}"
                fut.release()
                yield row
        finally:
            for f in futures:
                if not f.done():
                    f.cancel()

    def close(self) -> None:
        try:
            self.client.close()
        finally:
            if self.cluster is not None:
                self.cluster.close()


def local_runner(n_workers: int, threads: int = 1, dashboard: bool = True) -> DaskRunner:
    """A LocalCluster of `n_workers` processes with `threads` threads each, numba/BLAS/torch pinned to
    `threads` so two workers on two cores do not oversubscribe."""
    import dask
    from distributed import Client, LocalCluster

    if n_workers < 1:
        raise RunnerError("--workers must be at least 1")
    env = pin_threads(threads)
    # the parent's environment is what spawned workers inherit before Dask's own settings apply
    os.environ.update({k: v for k, v in env.items() if k not in os.environ})
    # the statistical profiler samples every worker thread every 10 ms: a few % of a core per worker that
    # tasks of our size do not need (the nanny hands this config to the worker processes it spawns)
    dask.config.set({"distributed.worker.profile.enabled": False})
    cluster = LocalCluster(n_workers=n_workers, threads_per_worker=threads, processes=True, env=env,
                           dashboard_address=":0" if dashboard else None, silence_logs=40)
    client = Client(cluster)
    return DaskRunner(client, cluster, f"local Dask cluster, {n_workers} worker process(es) x {threads} thread(s)")


def scheduler_runner(address: str) -> DaskRunner:
    from distributed import Client

    try:
        client = Client(address, timeout=CONNECT_TIMEOUT)
    except (OSError, TimeoutError, ValueError) as exc:
        raise RunnerError(f"cannot reach the Dask scheduler at {address}: {exc}") from None
    return DaskRunner(client, None, f"Dask scheduler {address}")


def parse_cluster_options(items: Iterable[str]) -> dict:
    """KEY=VALUE strings -> dask-jobqueue keyword arguments (ints where they parse; lists for *_directives,
    prologue and interface-style repeated keys given several times)."""
    out: dict = {}
    for item in items:
        key, eq, val = item.partition("=")
        key = key.strip().replace("-", "_")
        if not eq or not key:
            raise RunnerError(f"--cluster-option wants KEY=VALUE, not {item!r}")
        val = val.strip()
        if key.endswith(("_directives", "_prologue", "_extra", "_skip")):
            out.setdefault(key, []).append(val)
            continue
        try:
            out[key] = int(val)
        except ValueError:
            out[key] = val
    return out


def make_jobqueue_cluster(kind: str, options: dict):
    """A dask-jobqueue SLURMCluster/PBSCluster (not yet scaled). Defaults: one core and one worker process
    per job, threads pinned in the job script."""
    try:
        import dask_jobqueue
    except ImportError:
        raise RunnerError("--cluster needs dask-jobqueue (pip install 'layerstudio[screen]')") from None
    kind = kind.lower()
    if kind not in CLUSTERS:
        raise RunnerError(f"unknown --cluster {kind!r}; choose one of {', '.join(CLUSTERS)}")
    cls = {"slurm": dask_jobqueue.SLURMCluster, "pbs": dask_jobqueue.PBSCluster}[kind]
    opts = dict(options)
    opts.pop("jobs", None)
    opts.setdefault("cores", 1)
    opts.setdefault("processes", 1)
    opts.setdefault("memory", "4GB")
    threads = max(1, int(opts["cores"]) // max(1, int(opts["processes"])))
    prologue = [f"export {k}={v}" for k, v in pin_threads(threads).items()]
    opts["job_script_prologue"] = prologue + list(opts.get("job_script_prologue", []))
    try:
        return cls(**opts)
    except (TypeError, ValueError) as exc:
        if "unexpected keyword" in str(exc):  # dask-jobqueue explains at length; the first sentence says it
            raise RunnerError(f"--cluster-option: {str(exc).split('.')[0]}") from None
        raise RunnerError(f"cannot set up the {kind} cluster: {' '.join(str(exc).split())}") from None
    except OSError as exc:
        raise RunnerError(f"cannot set up the {kind} cluster: {exc}") from None


#: the batch system's submit command (dask-jobqueue calls it; without it no worker would ever start)
SUBMIT = {"slurm": "sbatch", "pbs": "qsub"}


def jobqueue_runner(kind: str, options: dict, jobs: int) -> DaskRunner:
    import shutil

    from distributed import Client

    submit = SUBMIT.get(kind.lower())
    if submit and shutil.which(submit) is None:
        raise RunnerError(f"--cluster {kind}: {submit} is not on PATH here; run layerstudio screen on the "
                          "cluster's login node (or start Dask workers there and use --scheduler)")
    if jobs < 1:
        raise RunnerError("--cluster-option jobs must be at least 1")
    cluster = make_jobqueue_cluster(kind, options)
    cluster.scale(jobs=jobs)
    return DaskRunner(Client(cluster), cluster, f"{kind} via dask-jobqueue, {jobs} job(s)")


__all__ = ["SerialRunner", "DaskRunner", "local_runner", "scheduler_runner", "jobqueue_runner",
           "make_jobqueue_cluster", "parse_cluster_options", "RunnerError", "CLUSTERS"]
