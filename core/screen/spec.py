"""Screening specs: a TOML file naming a grid of build parameters plus what to do with each model.

    [grid]                      # every combination is one task (the last key varies fastest)
    stacking  = ["O3"]          # O3, P2, P3, O2
    alkali    = ["Li"]          # alkali-layer composition (names the host alkali), e.g. "Na:2/3"
    tm        = ["Li:1/3,Mn:2/3", "Li:1/3,Ni:1/6,Mn:1/2"]
    supercell = ["6"]           # as `layerstudio build --supercell`: N, NxM, a,b,c,d, sqrt3, 2sqrt3
    layers    = [1]             # TM layers along c
    ordering  = ["random"]      # a preset of core.orderings (random, honeycomb, zigzag, ...)
    seed      = [1, 2, 3]       # placement, preset and annealing seed
    # optional: a, c, o_height (Angstrom)

    [anneal]                    # optional: simulated annealing on the Ewald energy
    sweeps = 2000
    sublattice = "tm"           # tm, alkali, all, mixed
    # optional: t_start, t_end (kT in eV)

    [relax]                     # optional: machine-learned potential relaxation (the mlip extra)
    model = "chgnet"
    fmax = 0.1                  # eV/Angstrom
    steps = 100

    [preset]                    # optional: parameters of the ordering preset, e.g. stacking = "C2/m"

Every problem is a `ScreenSpecError` whose message is one line naming the file and the key.
A task's name is a content hash of everything that determines its result, so a rerun (or a grown
grid) recognises the tasks it has already finished.
"""
from __future__ import annotations

import hashlib
import itertools
import json
from dataclasses import dataclass, field
from pathlib import Path

try:  # Python >= 3.11
    import tomllib
except ModuleNotFoundError:  # pragma: no cover - Python 3.10
    import tomli as tomllib  # type: ignore[no-redef]

from core.errors import LayerStudioError

#: Bumped when a task's result for the same parameters changes meaning (invalidates finished tasks).
TASK_FORMAT = 1

#: grid key -> (accepted Python types, required)
GRID_KEYS: dict[str, tuple[tuple[type, ...], bool]] = {
    "stacking": ((str,), False),
    "alkali": ((str,), False),
    "tm": ((str,), True),
    "supercell": ((str, int), True),
    "layers": ((int,), False),
    "ordering": ((str,), False),
    "seed": ((int,), False),
    "a": ((float, int), False),
    "c": ((float, int), False),
    "o_height": ((float, int), False),
}
#: defaults of the grid keys a spec may leave out (a single value each)
GRID_DEFAULTS = {"stacking": "O3", "alkali": "Li", "layers": 1, "ordering": "random", "seed": 0}
ANNEAL_KEYS: dict[str, tuple[type, ...]] = {"sweeps": (int,), "sublattice": (str,), "t_start": (float, int),
                                            "t_end": (float, int)}
RELAX_KEYS: dict[str, tuple[type, ...]] = {"model": (str,), "fmax": (float, int), "steps": (int,),
                                           "cell": (bool,)}
SECTIONS = ("grid", "anneal", "relax", "preset")
#: more tasks than this in one spec is almost certainly a typo (a million builds)
MAX_TASKS = 1_000_000


class ScreenSpecError(LayerStudioError, ValueError):
    """A screening spec that cannot be read or does not validate (message names the key)."""


@dataclass
class Task:
    """One grid point: `params` (grid key -> value, defaults filled in), what to run on it, and its name."""

    index: int
    params: dict
    anneal: dict | None
    relax: dict | None
    preset: dict
    name: str = ""

    def __post_init__(self):
        if not self.name:
            self.name = task_name(self.params, self.anneal, self.relax, self.preset)

    def to_dict(self) -> dict:
        return {"index": self.index, "name": self.name, "params": self.params, "anneal": self.anneal,
                "relax": self.relax, "preset": self.preset}


@dataclass
class ScreenSpec:
    grid: dict[str, list]                 # as given (spec order), values validated
    anneal: dict | None = None
    relax: dict | None = None
    preset: dict = field(default_factory=dict)
    source: str = "<spec>"
    text: str = ""

    @property
    def n_tasks(self) -> int:
        n = 1
        for values in self.grid.values():
            n *= len(values)
        return n

    def tasks(self, relax: bool = True) -> list[Task]:
        """Every grid combination in order (last grid key fastest). relax=False drops the relaxation
        (when no potential is available) so those tasks get names of their own."""
        keys = list(self.grid)
        out = []
        for i, combo in enumerate(itertools.product(*(self.grid[k] for k in keys))):
            params = dict(GRID_DEFAULTS)
            params.update(zip(keys, combo))
            out.append(Task(i, params, self.anneal, self.relax if relax else None, dict(self.preset)))
        return out

    def to_dict(self) -> dict:
        return {"grid": self.grid, "anneal": self.anneal, "relax": self.relax, "preset": self.preset}


def task_name(params: dict, anneal: dict | None, relax: dict | None, preset: dict | None = None) -> str:
    """16 hex digits of the SHA-256 of the canonical JSON of everything that determines a task's result."""
    doc = {"format": TASK_FORMAT, "params": params, "anneal": anneal, "relax": relax, "preset": preset or {}}
    text = json.dumps(doc, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


# ---------------------------------------------------------------------------------------------- reading
def load_spec(path) -> ScreenSpec:
    """Read and validate a spec file (raises ScreenSpecError with a one-line message)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ScreenSpecError(f"{path}: no such spec file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ScreenSpecError(f"{path}: cannot read the spec ({exc})") from None
    return parse_spec_text(text, source=str(path))


def parse_spec_text(text: str, source: str = "<spec>") -> ScreenSpec:
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ScreenSpecError(f"{source}: not valid TOML: {exc}") from None
    spec = validate(doc, source)
    spec.text = text
    return spec


def validate(doc: dict, source: str = "<spec>") -> ScreenSpec:
    """A ScreenSpec from the parsed TOML dict, every value checked."""
    def fail(where: str, msg: str):
        raise ScreenSpecError(f"{source}: {where}: {msg}")

    for key in doc:
        if key not in SECTIONS:
            fail(key, f"unknown section or key; a spec has the sections {', '.join(f'[{s}]' for s in SECTIONS)}")
    for key in SECTIONS:
        if key in doc and not isinstance(doc[key], dict):
            fail(key, f"must be a table [{key}], not a {type(doc[key]).__name__}")
    if "grid" not in doc:
        fail("[grid]", "missing; it lists the values of each parameter, e.g. tm = [\"Co\"]")
    grid = {}
    for key, values in doc["grid"].items():
        where = f"[grid] {key}"
        if key not in GRID_KEYS:
            fail(where, f"unknown key; known: {', '.join(GRID_KEYS)}")
        if not isinstance(values, list):
            values = [values]  # a single value is a one-point axis
        if not values:
            fail(where, "is empty; give at least one value")
        types = GRID_KEYS[key][0]
        for i, v in enumerate(values):
            if isinstance(v, bool) or not isinstance(v, types):
                fail(f"{where}[{i}]", f"{v!r} is not {_want(types)}")
        if float in types and any(isinstance(v, float) for v in values):
            values = [float(v) for v in values]  # one column type per key
        if key == "supercell":
            values = [str(v) for v in values]
        if len(set(values)) != len(values):
            fail(where, "lists a value twice")
        for i, v in enumerate(values):
            problem = _check_value(key, v)
            if problem:
                fail(f"{where}[{i}]", problem)
        grid[key] = values
    for key, (_types, required) in GRID_KEYS.items():
        if required and key not in grid:
            fail(f"[grid] {key}", "missing (required)")
    anneal = _section(doc, "anneal", ANNEAL_KEYS, fail)
    if anneal is not None:
        anneal.setdefault("sweeps", 2000)
        anneal.setdefault("sublattice", "tm")
        if anneal["sweeps"] < 1:
            fail("[anneal] sweeps", "must be at least 1")
        from core.orderings.montecarlo import SUBLATTICES
        if anneal["sublattice"] not in SUBLATTICES:
            fail("[anneal] sublattice", f"{anneal['sublattice']!r}; choose one of {', '.join(SUBLATTICES)}")
        for k in ("t_start", "t_end"):
            if k in anneal:
                anneal[k] = float(anneal[k])
                if not anneal[k] > 0:
                    fail(f"[anneal] {k}", "must be a positive kT in eV")
    relax = _section(doc, "relax", RELAX_KEYS, fail)
    if relax is not None:
        relax.setdefault("model", "chgnet")
        relax.setdefault("fmax", 0.1)
        relax.setdefault("steps", 100)
        relax.setdefault("cell", False)
        relax["fmax"] = float(relax["fmax"])
        if not relax["fmax"] > 0:
            fail("[relax] fmax", "must be positive (eV/Angstrom)")
        if relax["steps"] < 0:
            fail("[relax] steps", "must be zero or more")
    preset = dict(doc.get("preset", {}))
    for k, v in preset.items():
        if not isinstance(v, (str, int, float, bool)):
            fail(f"[preset] {k}", f"{v!r} is not a string or number")
    spec = ScreenSpec(grid=grid, anneal=anneal, relax=relax, preset=preset, source=source)
    if spec.n_tasks > MAX_TASKS:
        fail("[grid]", f"{spec.n_tasks} combinations; at most {MAX_TASKS} per spec")
    return spec


def _section(doc, name, keys, fail) -> dict | None:
    if name not in doc:
        return None
    out = {}
    for key, v in doc[name].items():
        where = f"[{name}] {key}"
        if key not in keys:
            fail(where, f"unknown key; known: {', '.join(keys)}")
        types = keys[key]
        if (isinstance(v, bool) and bool not in types) or not isinstance(v, types):
            fail(where, f"{v!r} is not {_want(types)}")
        out[key] = v
    return out


def _want(types) -> str:
    if float in types:  # int is accepted wherever float is
        return "a number"
    return " or ".join({int: "an integer", str: "a string", bool: "true or false"}[t] for t in types)


def _check_value(key: str, v) -> str | None:
    """Why a grid value is unusable (checked before any task runs), or None."""
    try:
        if key == "stacking":
            from core.structure.hosts import STACKINGS
            if v.upper() not in STACKINGS:
                return f"unknown stacking {v!r}; choose one of {', '.join(STACKINGS)}"
        elif key in ("alkali", "tm"):
            from core.structure.composition import parse_spec
            parse_spec(v)
            if key == "alkali":
                from core.structure.composition import host_alkali
                host_alkali(v)
        elif key == "supercell":
            from core.structure.supercell import parse_supercell_spec
            parse_supercell_spec(v)
        elif key == "layers":
            if v < 1:
                return "must be at least 1"
        elif key == "ordering":
            from core.orderings import PRESETS
            norm = v.strip().lower().replace("-", "_").replace(" ", "_")
            if norm not in PRESETS and norm not in ("capped", "composite", "li_excess", "row", "stripes", "ribbons"):
                return f"unknown ordering {v!r}; choose one of {', '.join(PRESETS)}"
        elif key in ("a", "c", "o_height"):
            if not v > 0:
                return "must be positive (Angstrom)"
    except LayerStudioError as exc:
        return str(exc)
    return None


__all__ = ["ScreenSpec", "ScreenSpecError", "Task", "load_spec", "parse_spec_text", "validate", "task_name",
           "GRID_KEYS", "GRID_DEFAULTS", "TASK_FORMAT"]
