"""Project files: versioned JSON of a Model, written atomically, read with full validation.

Format, version 1 (keys in this order; all numbers plain JSON)::

    {
      "format": "layerstudio-project",
      "version": 1,
      "host": {"stacking": "O3", "alkali": "Li", "a": 2.8156, "c": 14.0542, "o_height": 1.0248},
      "supercell": {"matrix": [[2, 1], [-1, 1]], "layers": 1},
      "n_sites": 12,
      "occupancy": [["O", 1], ["Mn", 1], ...],     # run-length [species symbol, count] over site index
      "oxidation": {"Li": 1.0, ..., "O": -2.0},
      "metadata": {...}                             # verbatim (e.g. "snapshots": [{"name", "occupancy",
    }                                               #  "oxidation"}], "title", "created_by")

Site order is the one `core.structure.supercell.Supercell` enumerates for that host, matrix and layers, which is
part of the version-1 contract (tests load a fixture written by version 1). Species are stored by
symbol, so the file does not depend on the integer species codes.

Any problem reading a file (missing, unreadable, not UTF-8, not JSON, truncated, wrong types, a future
version, a host/supercell that cannot be built, an occupancy that does not fit) raises
`ProjectFileError` with the path and the problem; loading never writes anything.
"""
from __future__ import annotations

import json
import math
import os
import tempfile
from pathlib import Path

import numpy as np

from core.errors import LayerStudioError, ProjectFileError
from core.io.bounded import MAX_PROJECT_BYTES
from core.structure.species import CODE, OXYGEN, SPECIES, VACANCY

FORMAT = "layerstudio-project"
VERSION = 1
#: Project files larger than this are refused before parsing (a 60 000-site cell is ~1 MB).
MAX_BYTES = MAX_PROJECT_BYTES
#: Temp files of saves whose process has gone (killed mid-save) are removed by the next save or load.
TEMP_SUFFIX = ".tmp"


# ---------------------------------------------------------------------------------------------- save
def project_dict(model) -> dict:
    """The JSON-ready dict of a model (the current format version)."""
    sc = model.supercell
    return {
        "format": FORMAT,
        "version": VERSION,
        "host": sc.host.to_dict(),
        "supercell": sc.to_dict(),  # matrix, layers and, for tiled cells, stacking_shift
        "n_sites": int(sc.n_sites),
        "occupancy": encode_occupancy(model.occupancy),
        "oxidation": {s: float(model.oxidation[s]) for s in SPECIES if s in model.oxidation},
        "metadata": model.metadata,
    }


def dumps_project(model) -> str:
    """Serialise a model to the project JSON text (raises ProjectFileError if metadata is not JSON)."""
    try:
        # one top-level key per line, values compact: diffable, and a 60 000-site occupancy stays small
        items = [f" {json.dumps(k)}: {json.dumps(v, default=_json_default, allow_nan=False)}"
                 for k, v in project_dict(model).items()]
        return "{\n" + ",\n".join(items) + "\n}\n"
    except (TypeError, ValueError) as exc:
        raise ProjectFileError(f"cannot save the project: its metadata is not JSON-serialisable ({exc})") from None


def save_project(path, model) -> Path:
    """Write `model` to `path` atomically: a temp file in the same directory, fsync, then os.replace.

    If anything fails (serialisation, disk full, permissions) the previous file at `path` is intact.
    Returns the path written.
    """
    path = Path(path)
    text = dumps_project(model)  # serialise first: a failure here must not touch the disk
    try:
        atomic_write(path, text)
    except OSError as exc:
        raise ProjectFileError(f"cannot write project file {path}: {exc.strerror or exc}") from None
    return path


def atomic_write(path, data: str | bytes) -> None:
    """Write text (UTF-8) or bytes to `path` via a temp file in the same directory + os.replace.

    Readers see either the old file or the complete new one; on error the temp file is removed and
    the OSError propagates. A symlink is followed (its target is replaced, the link stays); temp files
    left by earlier saves of the same file whose process has died are removed first.
    """
    path = Path(path)
    if path.is_symlink():  # save through the link: the file it points to gets the new content
        path = Path(os.path.realpath(path))
    directory = path.parent if str(path.parent) else Path(".")
    payload = data.encode("utf-8") if isinstance(data, str) else data
    clean_stale_temps(path)
    tmp = None
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.{os.getpid()}.", suffix=TEMP_SUFFIX, dir=directory)
        with os.fdopen(fd, "wb") as fh:
            fh.write(payload)
            fh.flush()
            os.fsync(fh.fileno())
        if path.exists():  # keep the user's permission bits
            os.chmod(tmp, path.stat().st_mode & 0o777)
        else:
            os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
        tmp = None
    finally:
        if tmp is not None:
            try:
                os.unlink(tmp)
            except OSError:
                pass


def clean_stale_temps(path) -> list[Path]:
    """Remove ``.<name>.<pid>.<random>.tmp`` files next to `path` whose writing process is gone (a save
    killed between creating and renaming its temp file). Returns the paths removed."""
    path = Path(path)
    directory = path.parent if str(path.parent) else Path(".")
    removed = []
    try:
        candidates = list(directory.glob(f".{_glob_escape(path.name)}.*{TEMP_SUFFIX}"))
    except OSError:
        return removed
    for tmp in candidates:
        parts = tmp.name[len(path.name) + 2:].split(".")
        if len(parts) < 3 or not parts[0].isdigit() or _pid_alive(int(parts[0])):
            continue
        try:
            tmp.unlink()
            removed.append(tmp)
        except OSError:
            pass
    return removed


def _glob_escape(name: str) -> str:
    return "".join(f"[{c}]" if c in "*?[]" else c for c in name)


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return False  # this process saves synchronously: its own leftovers are stale
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, ValueError):
        return True
    return True


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _json_default(obj):
    """numpy scalars and arrays in metadata (e.g. snapshot occupancies) become plain JSON."""
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, np.floating):
        return float(obj)
    if isinstance(obj, np.bool_):
        return bool(obj)
    raise TypeError(f"{type(obj).__name__} is not JSON serialisable")


def encode_occupancy(occupancy) -> list[list]:
    """Run-length encode species codes over site index: [[symbol, count], ...]."""
    occ = np.asarray(occupancy, dtype=np.int64)
    if occ.size == 0:
        return []
    starts = np.flatnonzero(np.r_[True, occ[1:] != occ[:-1]])
    lengths = np.diff(np.r_[starts, occ.size])
    return [[SPECIES[int(occ[s])], int(n)] for s, n in zip(starts, lengths)]


def decode_occupancy(runs, n_sites: int, where: str = "occupancy") -> np.ndarray:
    """Inverse of `encode_occupancy`; ValueError with a precise message on any malformed run."""
    if not isinstance(runs, list):
        raise ValueError(f"{where} must be a list of [species, count] runs, not {_tname(runs)}")
    codes, counts = [], []
    total = 0
    for k, run in enumerate(runs):
        if not (isinstance(run, list) and len(run) == 2):
            raise ValueError(f"{where} run {k} is not a [species, count] pair")
        sym, n = run
        if not isinstance(sym, str) or sym not in CODE:
            raise ValueError(f"{where} run {k} has unknown species {sym!r}")
        if not _is_int(n) or n < 1:
            raise ValueError(f"{where} run {k} has count {n!r}; expected a positive integer")
        total += n
        if total > n_sites:
            raise ValueError(f"{where} describes more than the {n_sites} sites of the supercell")
        codes.append(CODE[sym])
        counts.append(n)
    if total != n_sites:
        raise ValueError(f"{where} describes {total} sites but the supercell has {n_sites}")
    return np.repeat(np.array(codes, dtype=np.int8), np.array(counts, dtype=np.int64))


# ---------------------------------------------------------------------------------------------- load
def load_project(path):
    """Read a project file and return a `core.structure.model.Model`; ProjectFileError naming any problem."""
    from core.io.bounded import read_bytes

    path = Path(path)
    data = read_bytes(path, MAX_BYTES, ProjectFileError, "project file")
    clean_stale_temps(path)
    return loads_project(data, name=str(path))


def loads_project(data: bytes | str, name: str = "<memory>"):
    """Parse project text/bytes into a Model (see `load_project`)."""
    if isinstance(data, bytes):
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ProjectFileError(f"project file {name} is not UTF-8 text (byte {exc.start}); "
                                   "it is corrupt or not a project file") from None
    else:
        text = data
    if not text.strip():
        raise ProjectFileError(f"project file {name} is empty")
    try:
        doc = json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        # an unterminated string runs to the end of the text; other errors at the very end too
        trunc = exc.msg.startswith("Unterminated string") or exc.pos >= len(text.rstrip()) - 1
        what = "truncated" if trunc else "corrupt"
        raise ProjectFileError(f"project file {name} is {what}: invalid JSON at line {exc.lineno} "
                               f"column {exc.colno} ({exc.msg})") from None
    except ValueError as exc:  # NaN/Infinity constants
        raise ProjectFileError(f"project file {name} is corrupt: {exc}") from None
    except RecursionError:
        raise ProjectFileError(f"project file {name} is corrupt: JSON nested too deeply") from None
    return model_from_dict(doc, name=name)


def _reject_constant(token: str):
    raise ValueError(f"non-finite number {token} is not allowed")


def model_from_dict(doc, name: str = "<memory>"):
    """Validate a parsed project document and build the Model."""
    from core.structure.hosts import INTERSTITIAL_ROLES, make_host
    from core.structure.limits import check_sites
    from core.structure.model import Model
    from core.structure.supercell import Supercell

    def bad(problem: str) -> ProjectFileError:
        return ProjectFileError(f"project file {name}: {problem}")

    if not isinstance(doc, dict):
        raise bad(f"expected a JSON object at the top level, found {_tname(doc)}")
    fmt = doc.get("format")
    if fmt != FORMAT:
        raise bad(f"not a Layer Studio project (format is {fmt!r}, expected {FORMAT!r})")
    version = doc.get("version")
    if not _is_int(version) or version < 1:
        raise bad(f"invalid format version {version!r}")
    if version > VERSION:
        raise ProjectFileError(f"project file {name} is version {version}; this Layer Studio reads up to "
                               f"version {VERSION}. Update Layer Studio to open it")

    host_d = _field(doc, "host", dict, bad)
    stacking = _field(host_d, "stacking", str, bad, "host")
    alkali = _field(host_d, "alkali", str, bad, "host")
    params = {}
    for key in ("a", "c", "o_height"):
        v = host_d.get(key)
        if v is None:
            continue
        if not _is_number(v) or not math.isfinite(v):
            raise bad(f"host.{key} must be a number (Angstrom), found {v!r}")
        params[key] = float(v)

    sc_d = _field(doc, "supercell", dict, bad)
    matrix = _field(sc_d, "matrix", list, bad, "supercell")
    if not (len(matrix) == 2 and all(isinstance(r, list) and len(r) == 2 and all(_is_int(x) for x in r)
                                     for r in matrix)):
        raise bad(f"supercell.matrix must be a 2x2 list of integers, found {matrix!r}"[:200])
    if any(abs(x) > 10_000 for r in matrix for x in r):
        raise bad("supercell.matrix entries are implausibly large")
    layers = _field(sc_d, "layers", int, bad, "supercell")
    if not 1 <= layers <= 10_000:
        raise bad(f"supercell.layers must be a positive number of TM layers, found {layers}")
    shift = sc_d.get("stacking_shift")  # optional (tiled cells); absent = the default stacking vector
    if shift is not None and not (isinstance(shift, list) and len(shift) == 2 and all(_is_int(x) for x in shift)):
        raise bad(f"supercell.stacking_shift must be two integers, found {shift!r}"[:200])

    try:
        host = make_host(stacking, alkali, **params)
    except LayerStudioError as exc:
        raise bad(f"invalid host: {exc}") from None
    # check the site count before building the cell, so a corrupt file never builds a huge one
    det = matrix[0][0] * matrix[1][1] - matrix[0][1] * matrix[1][0]
    n_occ_basis = sum(1 for b in host.basis if b.role not in INTERSTITIAL_ROLES)
    expected = n_occ_basis * det * layers // host.slabs_per_prim if det > 0 else 0
    if det <= 0 or layers % host.slabs_per_prim:
        expected = -1  # let Supercell name the problem below
    else:
        try:
            check_sites(expected)
        except LayerStudioError as exc:
            raise bad(f"cannot build its supercell: {exc}") from None
    if "n_sites" in doc and expected > 0 and doc["n_sites"] != expected:
        raise bad(f"it records {doc['n_sites']!r} sites but its host and supercell have {expected}; "
                  "the file is inconsistent")
    if expected > 0:
        try:
            occupancy = decode_occupancy(doc.get("occupancy"), expected)
        except ValueError as exc:
            raise bad(str(exc)) from None
    try:
        sc = Supercell(host, [list(r) for r in matrix], layers, stacking_shift=shift)
    except LayerStudioError as exc:
        raise bad(f"cannot build its supercell: {exc}") from None
    if sc.n_sites != expected:  # pragma: no cover - guards the site-count formula above
        raise bad(f"its supercell has {sc.n_sites} sites, expected {expected}")
    on_o = occupancy[sc.o_sites]
    if np.any((on_o != OXYGEN) & (on_o != VACANCY)):
        raise bad("a cation sits on an oxygen site; the occupancy does not fit this supercell")
    if np.any(np.delete(occupancy, sc.o_sites) == OXYGEN):
        raise bad("oxygen sits on a cation site; the occupancy does not fit this supercell")

    oxidation = doc.get("oxidation", {})
    if not isinstance(oxidation, dict):
        raise bad(f"oxidation must be an object of species -> charge, found {_tname(oxidation)}")
    for sym, v in oxidation.items():
        if sym not in CODE:
            raise bad(f"oxidation state given for unknown species {sym!r}")
        if not _is_number(v) or not math.isfinite(v) or abs(v) > 10:
            raise bad(f"oxidation state of {sym} must be a number between -10 and 10, found {v!r}")
        if sym == SPECIES[VACANCY] and v != 0:
            raise bad("a vacancy cannot carry an oxidation state")
    metadata = doc.get("metadata", {})
    if not isinstance(metadata, dict):
        raise bad(f"metadata must be an object, found {_tname(metadata)}")
    _check_snapshots(metadata.get("snapshots"), sc, bad)
    try:
        return Model(sc, occupancy, oxidation={k: float(v) for k, v in oxidation.items()}, metadata=metadata)
    except LayerStudioError as exc:
        raise bad(str(exc)) from None


def _check_snapshots(snaps, sc, bad) -> None:
    """Snapshots stored in the metadata (list of {"name": str, "occupancy": [species code] * N,
    "oxidation": {symbol: charge}}) must fit this supercell, so that restoring one cannot fail later."""
    if snaps is None:
        return
    if not isinstance(snaps, list):
        raise bad(f"metadata.snapshots must be a list, found {_tname(snaps)}")
    o_mask = np.zeros(sc.n_sites, bool)
    o_mask[sc.o_sites] = True
    for k, snap in enumerate(snaps):
        where = f"snapshot {k}"
        if not isinstance(snap, dict):
            raise bad(f"{where} must be an object, found {_tname(snap)}")
        label = snap.get("name")
        if not isinstance(label, str):
            raise bad(f"{where} has no name (found {_tname(label)})")
        where = f"snapshot {label[:40]!r}"
        occ = snap.get("occupancy")
        if not isinstance(occ, list):
            raise bad(f"{where}: occupancy must be a list of species codes, found {_tname(occ)}")
        if not all(_is_int(c) and 0 <= c < len(SPECIES) for c in occ):
            c = next(c for c in occ if not (_is_int(c) and 0 <= c < len(SPECIES)))
            raise bad(f"{where}: occupancy holds {str(c)[:20]!r}, not a species code 0..{len(SPECIES) - 1}")
        # a snapshot of another cell size is kept (restoring it says so); one of this size must fit
        arr = np.asarray(occ, dtype=np.int64)
        if len(occ) == sc.n_sites and (np.any(o_mask & (arr != OXYGEN) & (arr != VACANCY))
                                       or np.any(~o_mask & (arr == OXYGEN))):
            raise bad(f"{where}: its occupancy puts cations on oxygen sites or oxygen on cation sites")
        ox = snap.get("oxidation", {})
        if not isinstance(ox, dict):
            raise bad(f"{where}: oxidation must be an object, found {_tname(ox)}")
        for sym, v in ox.items():
            if sym not in CODE or not _is_number(v) or not math.isfinite(v) or abs(v) > 10:
                raise bad(f"{where}: oxidation state {str(sym)[:10]!r}: {str(v)[:20]!r} is not a species with a "
                          "charge in -10..10")


def _field(d: dict, key: str, typ, bad, parent: str | None = None):
    label = f"{parent}.{key}" if parent else key
    if key not in d:
        raise bad(f"missing {label!r}")
    v = d[key]
    ok = _is_int(v) if typ is int else isinstance(v, typ)
    if not ok:
        raise bad(f"{label} must be {typ.__name__ if typ is not dict else 'an object'}, found {_tname(v)}")
    return v


def _is_int(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _tname(v) -> str:
    return {dict: "an object", list: "a list", str: "a string", int: "an integer", float: "a number",
            bool: "a boolean", type(None): "null"}.get(type(v), type(v).__name__)


# ---------------------------------------------------------------------------------------------- any file
STRUCTURE_SUFFIXES = (".cif", ".vasp", ".poscar", ".mcif")


def is_structure_file(path) -> bool:
    """CIF or POSCAR-like file name (POSCAR*, CONTCAR*, *.vasp, *.cif)."""
    p = Path(path)
    name = p.name.upper()
    return p.suffix.lower() in STRUCTURE_SUFFIXES or name.startswith(("POSCAR", "CONTCAR"))


def open_model(path, *, supercell=None, seed: int = 0):
    """Open a project (.json) or import a CIF/POSCAR or pymatgen Structure JSON (*.pmg.json,
    *.structure.json) through `core.io.importer`.

    Returns (Model, import report dict or None). `supercell`/`seed` only matter for imports (the cell
    in which partial occupancies are realised).
    """
    p = Path(path)
    name = p.name.lower()
    if name.endswith(".json") and not name.endswith((".pmg.json", ".structure.json")):
        return load_project(p), None
    model, report = _import_any(p, name, supercell, seed)
    _neutral_import(model, report)
    return model, report


def _neutral_import(model, report) -> None:
    """Imported models are made neutral along the redox ladder when the file's states leave them
    charged (`core.energy.valence.neutral_by_default`); what happened goes into the report."""
    from core.energy.valence import neutral_by_default

    note = neutral_by_default(model, strict=False)
    if not note or not isinstance(report, dict):
        return
    if note.startswith("kept"):
        report.setdefault("warnings", []).append(f"oxidation states: {note}")
    else:
        report["oxidation_states"] = note


def _import_any(p, name, supercell, seed):
    from core.io.importer import import_structure
    if name.endswith(".json"):  # pymatgen Structure JSON (what `export` writes as *.pmg.json)
        from core.io.structure_json import read_structure_json

        structure = read_structure_json(p)  # decoded field by field: nothing named in the file is imported
        return import_structure(structure, supercell=supercell, seed=seed, name=p.name)
    return import_structure(str(p), supercell=supercell, seed=seed)


__all__ = ["FORMAT", "VERSION", "save_project", "atomic_write", "load_project", "loads_project", "dumps_project",
           "project_dict", "model_from_dict", "encode_occupancy", "decode_occupancy", "open_model",
           "is_structure_file", "clean_stale_temps"]
