"""The screen's output directory: one row file per finished task, results.parquet, manifest.json.

    OUTDIR/manifest.json          spec (text and parsed), versions, task count, runner, times
    OUTDIR/rows/<name>.json       the results row of one finished task (written atomically, by the driver)
    OUTDIR/models/<xx>/<name>.*   project JSON + CIF of each model (written by the task)
    OUTDIR/results.parquet        one row per task of the current spec, in grid order (rebuilt from rows/)

The row files are the record of what is finished: a run killed at any moment leaves whole row files only,
and a rerun skips their tasks. The table is rebuilt from them keyed by task name, so it cannot hold a
task twice. Failed tasks (row with `error`) are run again on the next run.
"""
from __future__ import annotations

import json
import math
import platform
import sys
import time
from importlib import metadata
from pathlib import Path

from core.errors import LayerStudioError
from core.screen.task import RESULT_COLUMNS

RESULTS = "results.parquet"
MANIFEST = "manifest.json"
ROWS = "rows"


class ResultsError(LayerStudioError):
    """A results directory or table that cannot be read or written."""


def _arrow_type(name: str):
    import pyarrow as pa
    return {"string": pa.string(), "int64": pa.int64(), "float64": pa.float64(), "bool": pa.bool_()}[name]


def grid_types(spec) -> dict[str, str]:
    out = {}
    for key, values in spec.grid.items():
        v = values[0]
        out[key] = "string" if isinstance(v, str) else "float64" if isinstance(v, float) else "int64"
    return out


def schema(spec):
    import pyarrow as pa
    cols = {**grid_types(spec), **RESULT_COLUMNS}
    return pa.schema([(k, _arrow_type(t)) for k, t in cols.items()])


class ResultStore:
    """Row files and table of one output directory."""

    def __init__(self, outdir, spec):
        self.outdir = Path(outdir)
        self.spec = spec
        self.rows_dir = self.outdir / ROWS
        self._rows: dict[str, dict] = {}   # rows read or recorded by this process (the table is built from it)
        try:
            self.rows_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ResultsError(f"cannot create {self.rows_dir}: {exc.strerror or exc}") from None

    def row_path(self, name: str) -> Path:
        return self.rows_dir / f"{name}.json"

    def read_row(self, name: str) -> dict | None:
        row = self._rows.get(name)
        if row is not None:
            return row
        try:
            row = json.loads(self.row_path(name).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None  # missing, or torn by a crash of a file system without atomic rename: rerun it
        self._rows[name] = row
        return row

    def finished(self, tasks) -> set[str]:
        """Names of the tasks with a successful row on disk."""
        done = set()
        for t in tasks:
            row = self.read_row(t.name)
            if row is not None and not row.get("error"):
                done.add(t.name)
        return done

    def record(self, row: dict) -> None:
        from core.io.project import atomic_write
        clean = {k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in row.items()}
        text = json.dumps(clean, default=_jsonable)
        atomic_write(self.row_path(row["task"]), text + "\n")
        self._rows[row["task"]] = json.loads(text)  # as a rerun would read it back

    def rows(self, tasks) -> list[dict]:
        out = []
        for t in tasks:
            row = self.read_row(t.name)
            if row is not None:
                out.append(row)
        return out

    def write_table(self, tasks) -> Path:
        """results.parquet from the row files of `tasks` (grid order), written atomically."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        sch = schema(self.spec)
        rows = [{k: r.get(k) for k in sch.names} for r in self.rows(tasks)]
        table = pa.Table.from_pylist(rows, schema=sch)
        table = table.replace_schema_metadata({"layerstudio": json.dumps({"spec": self.spec.to_dict()})})
        path = self.outdir / RESULTS
        tmp = path.with_name(f".{path.name}.tmp")
        pq.write_table(table, tmp)
        tmp.replace(path)
        return path

    def write_manifest(self, **extra) -> Path:
        from core.io.project import atomic_write
        path = self.outdir / MANIFEST
        old = {}
        if path.exists():
            try:
                old = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                old = {}
        doc = {"format": "layerstudio-screen", "version": 1, "created": old.get("created", _now()),
               "updated": _now(), "spec_file": self.spec.source, "spec_text": self.spec.text,
               "spec": self.spec.to_dict(), "n_tasks": self.spec.n_tasks, "versions": versions(), **extra}
        atomic_write(path, json.dumps(doc, indent=1, default=_jsonable) + "\n")
        return path


def load_results(path):
    """The results table (pyarrow.Table) of an output directory or a results.parquet file."""
    import pyarrow.parquet as pq
    p = Path(path)
    if p.is_dir():
        p = p / RESULTS
    if not p.is_file():
        raise ResultsError(f"{p}: no screening results here (run `layerstudio screen SPEC -o DIR` first)")
    try:
        return pq.read_table(p)
    except Exception as exc:  # pyarrow raises its own error types for truncated/corrupt files
        raise ResultsError(f"{p}: cannot read the results table ({type(exc).__name__}: {exc})") from None


def versions() -> dict[str, str]:
    out = {"python": platform.python_version(), "platform": sys.platform}
    for dist in ("layerstudio", "numpy", "numba", "pymatgen", "spglib", "dask", "distributed", "dask-jobqueue",
                 "pyarrow", "chgnet", "torch"):
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            continue
    return out


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S%z")


def _jsonable(obj):
    if hasattr(obj, "item"):
        return obj.item()
    if hasattr(obj, "tolist"):
        return obj.tolist()
    return str(obj)


__all__ = ["ResultStore", "ResultsError", "load_results", "schema", "versions", "RESULTS", "MANIFEST"]
